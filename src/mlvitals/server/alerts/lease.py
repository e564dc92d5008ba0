"""One evaluator at a time: a lease row in the store, renewed every evaluation.

Several server processes over one PostgreSQL database all run the alert loop; only the one
holding the lease evaluates and notifies, so each notification goes out once. A holder that
dies loses the lease when it expires and another process takes over.
"""

from __future__ import annotations

from mlvitals.store import Store

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
