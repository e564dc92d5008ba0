"""The demo's timeline: what was staged when, printed as it happens and kept as JSON lines.

Each staged incident says which alert it should raise and from when that alert's condition
holds, so a reader (or a test) can check that the alert came within two evaluation
intervals. ``timeline.jsonl`` in the demo folder holds the same entries, one JSON object a
line: ``{"kind": "ready" | "staged" | "note" | "alert" | "end", "at": UNIX_SECONDS, ...}``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlvitals.errors import RequestError
from mlvitals.http import Client, RetryPolicy


@dataclass(frozen=True, slots=True)
class Expect:
    """An alert an incident should raise: its rule and labels it must carry."""

    alert: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Staged:
    """One staged incident: ``at`` is when it began (a change made, a run started);
    ``holds_from`` is the latest time the expected alerts' conditions hold (the data has
    reached the server). Each alert fires after ``at`` and within two evaluation intervals
    of ``holds_from``."""

    incident: str
    at: float
    holds_from: float
    expect: tuple[Expect, ...]
    text: str
    page: str


class Timeline:
    """Prints each entry with the time since ``started`` and appends it to ``path``."""

    def __init__(self, echo: Callable[[str], None], path: Path | None, started: float) -> None:
        self._echo = echo
        self._path = path
        self.started = started
        self._lock = threading.Lock()

    def _write(self, line: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self._echo(line)
            if self._path is not None:
                with self._path.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(entry, sort_keys=True) + "\n")

    def _stamp(self, at: float) -> str:
        minutes, seconds = divmod(int(max(at - self.started, 0.0)), 60)
        return f"  {time.strftime('%H:%M:%S', time.localtime(at))}  +{minutes:02d}:{seconds:02d}"

    def ready(self, text: str, details: Mapping[str, Any]) -> None:
        at = time.time()
        self._write(f"{self._stamp(at)}  {text}", {"kind": "ready", "at": at, **details})

    def note(self, text: str, at: float | None = None) -> None:
        at = time.time() if at is None else at
        self._write(f"{self._stamp(at)}  {text}", {"kind": "note", "at": at, "text": text})

    def staged(self, item: Staged) -> None:
        alerts = ", ".join(e.alert for e in item.expect)
        # Printed when it happens; ``at`` (in the JSON) is when it began, e.g. a run's start.
        line = f"{self._stamp(time.time())}  {item.text}  -> {alerts}  ({item.page})"
        entry = {"kind": "staged", **asdict(item)}
        entry["expect"] = [{"alert": e.alert, "labels": dict(e.labels)} for e in item.expect]
        self._write(line, entry)

    def alert(self, change: Mapping[str, Any]) -> None:
        labels = change.get("labels") or {}
        shown = ", ".join(
            f"{k}={v}" for k, v in sorted(labels.items()) if k not in ("alertname", "severity")
        )
        line = f"{self._stamp(float(change['time']))}      alert {change['rule']} {change['to']}"
        self._write(f"{line} ({shown})", {"kind": "alert", "at": change["time"], **change})

    def end(self, text: str) -> None:
        at = time.time()
        self._write(f"{self._stamp(at)}  {text}", {"kind": "end", "at": at, "text": text})


class AlertWatcher:
    """Polls ``GET /api/v1/alerts/history`` and puts firing and resolved alerts on the
    timeline, so the output shows each incident's alert arriving."""

    def __init__(self, server: str, timeline: Timeline, interval: float) -> None:
        self._server = server
        self._timeline = timeline
        self._interval = interval
        self._stop = threading.Event()
        self._seen: set[tuple[str, str, float]] = set()
        self._thread = threading.Thread(target=self._run, name="mlvitals-demo-alerts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        since = self._timeline.started
        # One try per poll: the next poll is the retry.
        client = Client(self._server, timeout=5, retry=RetryPolicy(attempts=1))
        while not self._stop.wait(self._interval):
            try:
                changes = client.get("/api/v1/alerts/history", {"since": str(since)})["history"]
            except (RequestError, TypeError, KeyError):
                continue  # the server is starting or stopping
            for change in sorted(changes, key=lambda c: c["time"]):
                key = (change["id"], change["to"], change["time"])
                if change["to"] in ("firing", "resolved") and key not in self._seen:
                    self._seen.add(key)
                    self._timeline.alert(change)
