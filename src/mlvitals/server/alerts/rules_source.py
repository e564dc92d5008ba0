"""The rule set of a running server: the rules file, re-read when it changes.

A file that breaks while the server runs is logged and the last good rules stay in force;
a file that is broken at start stops the server from starting (see ``create_app``).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from mlvitals.alerts.config import RuleSet, load_rules
from mlvitals.errors import ConfigError

log = logging.getLogger("mlvitals.server.alerts")


class RulesSource:
    """Callable returning the current :class:`RuleSet` of ``path`` ("" = default pack)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp = self._file_stamp()
        self._rules = load_rules(path)

    def _file_stamp(self) -> tuple[int, int] | None:
        if not self.path:
            return None
        try:
            st = Path(self.path).stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def __call__(self) -> RuleSet:
        stamp = self._file_stamp()
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    self._rules = load_rules(self.path)
                    log.info("alert rules reloaded from %s", self.path)
                except ConfigError as exc:
                    log.error("keeping the previous alert rules: %s", exc)
            return self._rules


_SOURCES: dict[str, RulesSource] = {}
_SOURCES_LOCK = threading.Lock()


def rules_source(path: str) -> RulesSource:
    """One source per path in this process, shared by the loop and the API."""
    with _SOURCES_LOCK:
        source = _SOURCES.get(path)
        if source is None:
            source = _SOURCES[path] = RulesSource(path)
        return source
