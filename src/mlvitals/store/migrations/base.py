"""A versioned schema migration."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    """Portable SQL statements run in one transaction and recorded in ``schema_migrations``.

    Version ranges per area keep modules apart: foundation 1-99, serving 100-199,
    quality 200-299, pipelines 300-399, cost 400-499, alerts 500-599.
    """

    version: int
    name: str
    statements: tuple[str, ...]
