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
    """Run a live demo: a server on a fresh SQLite file, a scikit-learn model served by three
    instrumented replicas with traffic, and hours of history; prints the dashboard URL."""
    from mlvitals.demo.scenario import Demo
    from mlvitals.server.runner import build_server

    folder = Path(directory or tempfile.mkdtemp(prefix="mlvitals-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    settings = settings_from({**options, "db": str(db_path)})
    server = build_server(settings)
    scenario = Demo(f"http://{settings.host}:{settings.port}")

    def start_scenario() -> None:
        try:
            scenario.start()
        except Exception as exc:  # the server keeps running; say what went wrong
            click.echo(f"demo workload failed to start: {exc}", err=True)

    threading.Thread(target=start_scenario, name="mlvitals-demo", daemon=True).start()
    if duration is not None:

        def finish() -> None:
            scenario.stop()  # ship the last windows while the server still listens
            server.should_exit = True

        timer = threading.Timer(duration, finish)
        timer.daemon = True
        timer.start()
    click.echo(f"mlvitals demo: dashboard at http://{settings.host}:{settings.port}/")
    click.echo(f"  database {db_path}; press Ctrl-C to stop")
    try:
        server.run()
    finally:
        scenario.stop()
