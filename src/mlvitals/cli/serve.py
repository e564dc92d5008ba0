"""``mlvitals serve``: run the HTTP API, the dashboard and the background loops."""

from __future__ import annotations

from typing import Any

import click

from mlvitals.cli.options import setting_options, settings_from


@click.command()
@setting_options(
    "db",
    "host",
    "port",
    "tokens",
    "tokens_file",
    "insecure",
    "max_body_bytes",
    "pg_pool_size",
    "shutdown_timeout",
    "log_level",
)
def serve(**options: Any) -> None:
    """Serve the API and the dashboard (default http://127.0.0.1:8765, SQLite mlvitals.db)."""
    from mlvitals.server.runner import build_server

    settings = settings_from(options)
    server = build_server(settings)
    click.echo(f"mlvitals serving http://{settings.host}:{settings.port}/ (db: {settings.db})")
    server.run()
