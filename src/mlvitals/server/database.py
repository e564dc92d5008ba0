"""Opening the server's database: the store with every area's migrations.

>>> from mlvitals.server.database import open_database
>>> store = open_database(":memory:")
>>> store.fetch("SELECT COUNT(*) AS n FROM run_events")[0]["n"]
0
>>> store.close()
"""

from __future__ import annotations

from mlvitals.server.areas import MIGRATIONS
from mlvitals.store import Store, open_store


def open_database(url: str, *, pool_size: int = 8, migrate: bool = True) -> Store:
    """Open the store at ``url`` (a SQLite path or a ``postgresql://`` URL) and, unless
    ``migrate`` is false, bring its schema up to date with every area's migrations."""
    return open_store(url, pool_size=pool_size, migrate=migrate, migrations=MIGRATIONS)
