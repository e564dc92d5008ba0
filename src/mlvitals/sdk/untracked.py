"""Requests that are not traffic: Prometheus scrapes and paths such as health checks.

A service's calls are what its users ask of it. A scrape of ``/metrics`` every few seconds,
or a load balancer's health check, would otherwise count as calls (raising the call rate and
diluting the error rate and latency) and keep a silent service looking busy. The middleware
answers the metrics path itself and passes excluded paths to the app without timing them.
"""

from __future__ import annotations

from collections.abc import Iterable

METRICS_PATH = "/metrics"


def _checked(path: str, what: str) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"{what} must start with '/', got {path!r}")
    return path.rstrip("/")


class Untracked:
    """The metrics path and the excluded paths of one middleware.

    A path is excluded when it is one of ``exclude`` or lies below one (``/healthz`` also
    excludes ``/healthz/`` and ``/healthz/live``, but not ``/healthzz``).

    >>> u = Untracked("/metrics", ["/healthz"])
    >>> u.is_metrics("/metrics"), u.is_metrics("/metrics/"), u.is_metrics("/metricsx")
    (True, True, False)
    >>> u.excluded("/healthz/live"), u.excluded("/healthzz")
    (True, False)
    """

    __slots__ = ("_exact", "_metrics", "_prefixes")

    def __init__(self, metrics_path: str | None, exclude: Iterable[str]) -> None:
        if isinstance(exclude, str):
            raise ValueError(f"exclude must be a list of paths, got the string {exclude!r}")
        self._metrics: frozenset[str] = frozenset()
        if metrics_path is not None:
            root = _checked(metrics_path, "metrics_path")
            self._metrics = frozenset({root or "/", root + "/"})
        roots = [_checked(p, "an excluded path") for p in exclude]
        self._exact = frozenset({r or "/" for r in roots} | {r + "/" for r in roots})
        self._prefixes = tuple(r + "/" for r in roots if r)

    def is_metrics(self, path: str) -> bool:
        return path in self._metrics

    def excluded(self, path: str) -> bool:
        return path in self._exact or (bool(self._prefixes) and path.startswith(self._prefixes))
