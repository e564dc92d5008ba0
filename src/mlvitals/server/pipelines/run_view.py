"""The run page, from :func:`mlvitals.server.pipelines.queries.run_detail` (pure functions).

Steps are shown as a tree in the order they started, numbered like sections (``2.1`` is
the first step inside step 2), which also names their rows on the timeline. Datasets keep
what a person checks first (files, types, size, rows) in view and the schema, file list
and checks folded away.

>>> steps = [{"step_id": "a", "parent_step_id": None, "started_at": 1.0, "name": "x"},
...          {"step_id": "b", "parent_step_id": "a", "started_at": 2.0, "name": "y"},
...          {"step_id": "c", "parent_step_id": None, "started_at": 3.0, "name": "z"}]
>>> [(s["number"], s["name"], s["depth"]) for s in step_tree(steps)]
[('1', 'x', 0), ('1.1', 'y', 1), ('2', 'z', 0)]
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mlvitals.server.pipelines.format import anomaly_reason, state_label
from mlvitals.server.pipelines.view import (
    STATE_COLORS,
    STATES,
    deployment_path,
    pipeline_path,
    run_path,
)
from mlvitals.server.web import units

MAX_FILES_SHOWN = 50
MAX_CHECK_ROWS = 200
CHANGE_ORDER = ("python", "platform", "upgraded", "downgraded", "changed", "added", "removed")


def step_tree(steps: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``steps`` in tree order (each step after its parent, siblings by start), each with
    its ``number`` and ``depth``. A step whose parent is not in the run is a top step."""
    ids = {s["step_id"] for s in steps}
    children: dict[str | None, list[Mapping[str, Any]]] = defaultdict(list)
    for s in steps:
        parent = s.get("parent_step_id")
        children[parent if parent in ids else None].append(s)
    for group in children.values():
        group.sort(key=lambda s: (s.get("started_at") or 0.0, s["name"]))
    out: list[dict[str, Any]] = []
    seen: set[str] = set()

    def walk(parent: str | None, prefix: str, depth: int) -> None:
        for i, s in enumerate(children.get(parent, ()), start=1):
            if s["step_id"] in seen:  # a parent loop in bad data: show each step once
                continue
            seen.add(s["step_id"])
            number = f"{prefix}{i}"
            out.append({**s, "number": number, "depth": depth})
            walk(s["step_id"], f"{number}.", depth + 1)

    walk(None, "", 0)
    return out


def _quality_rows(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _quality_rows(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and not all(isinstance(v, str | int | float) for v in value):
        for i, inner in enumerate(value):
            yield from _quality_rows(inner, f"{prefix}[{i}]")
    else:
        text = value if isinstance(value, str) else json.dumps(value)
        yield prefix, text


def dataset_view(d: Mapping[str, Any]) -> dict[str, Any]:
    """What the page shows of one dataset reference.

    >>> v = dataset_view({"name": "orders.csv", "namespace": "file", "file_count": 2,
    ...                   "file_types": {"csv": 2}, "bytes": 2048, "rows": 10,
    ...                   "schema": [{"name": "id", "type": "int64"}],
    ...                   "quality": {"rowCount": 10}})
    >>> v["label"], v["types"], v["schema"], v["checks"]
    ('file/orders.csv', 'csv × 2', [{'name': 'id', 'type': 'int64'}], [('rowCount', '10')])
    """
    namespace = str(d.get("namespace") or "")
    name = str(d["name"])
    files = list(d.get("files") or [])
    types = d.get("file_types") or {}
    checks = list(_quality_rows(d["quality"]))[:MAX_CHECK_ROWS] if d.get("quality") else []
    return {
        "label": f"{namespace.rstrip('/')}/{name}" if namespace else name,
        "name": name,
        "format": d.get("format"),
        "file_count": d.get("file_count"),
        "types": ", ".join(f"{t} × {n}" for t, n in sorted(types.items(), key=lambda kv: -kv[1])),
        "bytes": d.get("bytes"),
        "rows": d.get("rows"),
        "schema": list(d.get("schema") or []),
        "files": files[:MAX_FILES_SHOWN],
        "files_more": max(len(files) - MAX_FILES_SHOWN, 0) + (1 if d.get("files_truncated") else 0),
        "files_truncated": bool(d.get("files_truncated")),
        "checks": checks,
    }


def env_diff_rows(diff: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """One row per difference: package, change, version before and after.

    >>> env_diff_rows({"python": None, "platform": None, "added": {"rich": "13.7"},
    ...                "removed": {}, "upgraded": {"numpy": {"before": "1.26", "after": "2.0"}},
    ...                "downgraded": {}, "changed": {}})
    [{'package': 'numpy', 'change': 'upgraded', 'before': '1.26', 'after': '2.0'}, \
{'package': 'rich', 'change': 'added', 'before': None, 'after': '13.7'}]
    """
    if not diff:
        return []
    rows = []
    for change in CHANGE_ORDER:
        part = diff.get(change)
        if not part:
            continue
        if change in ("python", "platform"):
            name = "Python" if change == "python" else "platform"
            rows.append(
                {
                    "package": name,
                    "change": "changed",
                    "before": part["before"],
                    "after": part["after"],
                }
            )
        elif change == "added":
            rows += [
                {"package": n, "change": change, "before": None, "after": v}
                for n, v in part.items()
            ]
        elif change == "removed":
            rows += [
                {"package": n, "change": change, "before": v, "after": None}
                for n, v in part.items()
            ]
        else:
            rows += [
                {"package": n, "change": change, "before": v["before"], "after": v["after"]}
                for n, v in part.items()
            ]
    return rows


def _step_view(step: Mapping[str, Any], run_start: float | None) -> dict[str, Any]:
    resources = step.get("resources") or {}
    started = step.get("started_at")
    return {
        "id": step["step_id"],
        "anchor": "step-" + step["number"].replace(".", "-"),
        "number": step["number"],
        "name": step["name"],
        "depth": step["depth"],
        "state": step["state"],
        "started_at": started,
        "offset": None if started is None or run_start is None else started - run_start,
        "duration": step.get("duration_seconds"),
        "cpu_seconds": resources.get("cpu_seconds"),
        "peak_rss_bytes": resources.get("peak_rss_bytes"),
        "gpu_seconds": resources.get("gpu_seconds"),
        "host": step.get("host"),
        "error": step.get("error"),
        "inputs": [dataset_view(d) for d in step.get("inputs") or []],
        "outputs": [dataset_view(d) for d in step.get("outputs") or []],
    }


def step_timeline(
    steps: Sequence[Mapping[str, Any]], run_id: str, now: float
) -> list[dict[str, Any]]:
    """Timeline series: a row per step (its number and name), a bar from start to end."""
    bars: dict[str, dict[str, list[Any]]] = {
        s: {"x": [], "y": [], "end": [], "text": [], "link": []} for s in STATES
    }
    for s in steps:
        start = s["started_at"]
        if start is None:
            continue
        end = s.get("ended_at")
        if end is None:
            end = now if s["state"] == "running" else start
        series = bars[s["state"] if s["state"] in bars else "running"]
        label = f"{s['number']} {s['name']}"
        series["x"].append(start)
        series["y"].append(label)
        series["end"].append(end)
        series["text"].append(f"{label}: {state_label(s['state'])}, {units.duration(end - start)}")
        series["link"].append(f"{run_path(run_id)}#step-{s['number'].replace('.', '-')}")
    return [
        {"name": state, "color": STATE_COLORS[state], **bars[state]}
        for state in STATES
        if bars[state]["x"]
    ]


def build_run_page(detail: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The run page's template context."""
    run = detail["run"]
    tree = step_tree(detail["steps"])
    start = run.get("started_at")
    end = run.get("ended_at") or (now if run["state"] == "running" else None)
    duration = run.get("duration_seconds")
    if duration is None and run["state"] == "running" and start is not None:
        duration = now - start
    env = detail.get("environment")
    diff = detail.get("environment_diff")
    overdue = detail.get("overdue")
    rows = [f"{s['number']} {s['name']}" for s in tree if s.get("started_at") is not None]
    return {
        "title": f"Run {run['run_id'][:8]}",
        "run": run,
        "run_id": run["run_id"],
        "pipeline_url": pipeline_path(run["pipeline"]) if run["pipeline"] else None,
        "duration": duration,
        "resources": run.get("resources") or {},
        "steps": [_step_view(s, start) for s in tree],
        "timeline": step_timeline(tree, run["run_id"], now),
        "timeline_rows": rows,
        "timeline_range": None if start is None or end is None else [start, end],
        "timeline_height": 90 + 34 * max(len(rows), 1),
        "inputs": [dataset_view(d) for d in detail.get("inputs") or []],
        "outputs": [dataset_view(d) for d in detail.get("outputs") or []],
        "error": run.get("error"),
        "environment": env,
        "packages": sorted((env or {}).get("packages", {}).items()),
        "diff": diff,
        "diff_rows": env_diff_rows(diff),
        "last_good_url": run_path(diff["last_good_run_id"]) if diff else None,
        "anomalies": [anomaly_reason(a) for a in detail.get("anomalies") or []],
        "overdue": None
        if overdue is None
        else (
            f"running for {units.duration(overdue['elapsed_seconds'])}: {overdue['reason']} "
            f"({units.duration(overdue['limit_seconds'])})"
        ),
        "deployment_url": deployment_path(run["service"], run.get("serving_version"))
        if run.get("service")
        else None,
        "parent_url": run_path(run["parent_run_id"]) if run.get("parent_run_id") else None,
        "children": [{"id": c, "url": run_path(c)} for c in detail.get("child_runs") or []],
        "params": sorted((run.get("params") or {}).items()),
        "now": now,
    }
