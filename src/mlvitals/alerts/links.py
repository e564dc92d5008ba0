"""Where an alert leads: the dashboard page of what it is about, from its rule kind and labels.

This is the one place that knows it. The alert states keep the path it gives (so the Alerts
page, the history, the object pages and the CLI show the same link), and notifications
send it as ``generatorURL``.

>>> object_path("serving", {"service": "fraud", "version": "1.5.0"})
'/services/fraud?version=1.5.0'
>>> object_path("pipeline", {"pipeline": "nightly"}, {"run_id": "r-1"})
'/runs/r-1'
>>> object_path("budget", {"budget": "daily gpu"})
'/cost?budget=daily%20gpu'
>>> object_path("absence", {})
''
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

_SERVICE_FILTERS = ("operation", "version", "instance")
_RUN_KINDS = frozenset({"pipeline", "environment_changed"})


def _path(prefix: str, name: str, params: Mapping[str, str] | None = None) -> str:
    path = prefix + quote(name, safe="")
    query = urlencode(dict(params), quote_via=quote) if params else ""
    return f"{path}?{query}" if query else path


def object_path(
    kind: str | None, labels: Mapping[str, str], info: Mapping[str, object] | None = None
) -> str:
    """The dashboard path of the object an alert of rule ``kind`` with ``labels`` is about;
    ``info`` holds what the rule's signal knew besides labels (a run id). ``kind`` may be
    ``None`` (an alert whose rule is gone): the labels alone then decide. ``""`` when the
    labels name no object.

    - a serving, absence or burn-rate alert: the service's page, filtered to the
      operation, version or instance its labels name;
    - an uptime probe: the Services page, at the probe;
    - a pipeline alert about one run (failed, overdue, step anomaly, environment changed):
      the run's page; else the pipeline's page;
    - a data check or drift alert: the dataset's page (at the column, for one column);
    - a budget alert: the Cost page, at the budget.
    """
    run_id = (info or {}).get("run_id")
    if kind in _RUN_KINDS and isinstance(run_id, str) and run_id:
        return _path("/runs/", run_id)
    if "pipeline" in labels:
        return _path("/pipelines/", labels["pipeline"])
    if "dataset" in labels:
        column = labels.get("column")
        return _path("/datasets/", labels["dataset"], {"column": column} if column else None)
    if "budget" in labels:
        return _path("/cost", "", {"budget": labels["budget"]})
    if "target" in labels and kind in (None, "availability"):
        return _path("/services", "", {"probe": labels["target"]})
    if "service" in labels:
        params = {k: labels[k] for k in _SERVICE_FILTERS if labels.get(k)}
        return _path("/services/", labels["service"], params)
    return ""


def alert_path(alert_id: str) -> str:
    """The Alerts page showing only this alert.

    >>> alert_path("3f2a")
    '/alerts?id=3f2a'
    """
    return _path("/alerts", "", {"id": alert_id})


def absolute(external_url: str, path: str) -> str:
    """``path`` under the server's external URL; the path itself when none is known.

    >>> absolute("https://mlvitals.example.com/", "/runs/r-1")
    'https://mlvitals.example.com/runs/r-1'
    >>> absolute("", "/runs/r-1")
    '/runs/r-1'
    """
    return external_url.rstrip("/") + path if external_url else path


_NOUNS = {"services": "service", "runs": "run", "pipelines": "pipeline", "datasets": "dataset"}
_PARAMS = {"probe": "probe", "budget": "budget"}


def object_label(path: str) -> str:
    """A short name of the object a path of :func:`object_path` leads to.

    >>> object_label("/services/fraud%20api?version=1.5.0")
    'service fraud api, version 1.5.0'
    >>> object_label("/cost?budget=gpu")
    'budget gpu'
    >>> object_label("/alerts?id=3f2a")
    'alert 3f2a'
    """
    parts = urlsplit(path)
    params = parse_qsl(parts.query)
    segments = [unquote(s) for s in parts.path.strip("/").split("/", 1)]
    if len(segments) == 2 and segments[0] in _NOUNS:
        words = [f"{_NOUNS[segments[0]]} {segments[1]}"]
        words += [f"{k} {v}" for k, v in params]
    else:
        nouns = {**_PARAMS, "id": "alert"}
        words = [f"{nouns.get(k, k)} {v}" for k, v in params] or [segments[0] or "overview"]
    return ", ".join(words)
