"""``mlvitals db``: database maintenance."""

from __future__ import annotations

from typing import Any

import click

from mlvitals.cli.options import setting_options, settings_from
from mlvitals.extras import require_extra


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command()
@setting_options("db")
def upgrade(**options: Any) -> None:
    """Apply pending schema migrations and print the schema version."""
    require_extra("server", "mlvitals db upgrade")
    from mlvitals.server.areas import MIGRATIONS
    from mlvitals.server.database import open_database

    settings = settings_from(options)
    store = open_database(settings.db, migrate=False)
    try:
        applied = store.migrate(MIGRATIONS)
        version = store.schema_version()
    finally:
        store.close()
    if applied:
        click.echo(f"applied migrations {', '.join(map(str, applied))}; schema version {version}")
    else:
        click.echo(f"schema is up to date (version {version})")
