"""``mlvitals demo``: a server on a fresh SQLite file, with live demo traffic."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

import click

from mlvitals.cli.options import setting_options, settings_from


@click.command()
@setting_options("host", "port")
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Stop by itself after this many seconds (default: run until Ctrl-C).",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default=None,
    help="Where to keep the demo database (default: a new temporary folder).",
)
def demo(duration: float | None, directory: str | None, **options: Any) -> None:
    """Start a server on a fresh SQLite file and print the dashboard URL."""
    from mlvitals.server.runner import build_server

    folder = Path(directory or tempfile.mkdtemp(prefix="mlvitals-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    settings = settings_from({**options, "db": str(db_path)})
    server = build_server(settings)
    if duration is not None:
        timer = threading.Timer(duration, lambda: setattr(server, "should_exit", True))
        timer.daemon = True
        timer.start()
    click.echo(f"mlvitals demo: dashboard at http://{settings.host}:{settings.port}/")
    click.echo(f"  database {db_path}; press Ctrl-C to stop")
    server.run()
