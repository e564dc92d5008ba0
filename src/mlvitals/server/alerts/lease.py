"""One evaluator at a time: a lease row in the store, renewed while a cycle runs.

Several server processes over one PostgreSQL database all run the alert loop; only the one
holding the lease evaluates and notifies, so each notification goes out once. The holder
renews the lease every third of its time to live for as long as its cycle runs, so a slow
receiver cannot outlast it; a holder that dies stops renewing, loses the lease when it
expires, and another process takes over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType

from mlvitals.store import Store

log = logging.getLogger("mlvitals.server.alerts")

NAME = "evaluator"


def acquire(store: Store, holder: str, now: float, ttl: float) -> bool:
    """Take or renew the lease for ``ttl`` seconds; false while another holder has it."""
    store.execute(
        "INSERT INTO alert_lease (name, holder, expires_at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (NAME, holder, now + ttl),
    )
    taken = store.execute(
        "UPDATE alert_lease SET holder = ?, expires_at = ?"
        " WHERE name = ? AND (holder = ? OR expires_at < ?)",
        (holder, now + ttl, NAME, holder, now),
    )
    return taken == 1


def release(store: Store, holder: str) -> None:
    store.execute(
        "UPDATE alert_lease SET expires_at = 0 WHERE name = ? AND holder = ?", (NAME, holder)
    )


class Renewal:
    """Calls ``renew`` every ``ttl / 3`` seconds on a thread while the ``with`` block runs.

    ``lost`` turns true once ``renew`` answers false: another holder has the lease.
    """

    def __init__(self, renew: Callable[[], bool], ttl: float) -> None:
        self._renew = renew
        self._interval = ttl / 3
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mlvitals-lease", daemon=True)
        self.lost = False

    def __enter__(self) -> Renewal:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                held = self._renew()
            except Exception as exc:  # the store is down: nobody else can take it either
                log.warning("could not renew the evaluator lease: %s", exc)
                continue
            if not held:
                self.lost = True
                log.warning("lost the evaluator lease while a cycle ran")
                return
