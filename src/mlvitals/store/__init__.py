"""Storage: one :class:`Store` protocol, a SQLite and a PostgreSQL implementation.

>>> from mlvitals.store import open_store
>>> store = open_store(":memory:")
>>> store.backend
'sqlite'
>>> store.close()
"""

from mlvitals.store.base import Batch, BatchResult, Store, open_store

__all__ = ["Batch", "BatchResult", "Store", "open_store"]
