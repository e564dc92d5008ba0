"""``mlvitals serve``: run the HTTP API, the dashboard and the background loops."""

from __future__ import annotations

from typing import Any

import click

from mlvitals.cli.options import setting_options, settings_from
from mlvitals.extras import require_extra
from mlvitals.settings import SETTINGS

# Settings read by processes being monitored, or only safe in the environment (secrets).
_NOT_FLAGS = {"run_id", "parent_step_id", "smtp_password", "server", "token", "service", "version"}
SERVER_SETTINGS = tuple(s.name for s in SETTINGS if s.name not in _NOT_FLAGS)


@click.command()
@setting_options(*SERVER_SETTINGS)
def serve(**options: Any) -> None:
    """Serve the API and the dashboard (default http://127.0.0.1:8765, SQLite mlvitals.db)."""
    require_extra("server", "mlvitals serve")
    from mlvitals.server.runner import serve as run_server

    run_server(settings_from(options), announce=click.echo)
