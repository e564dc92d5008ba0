"""``mlvitals demo``: a server on a fresh SQLite file, with a live workload and a timeline of
staged incidents (see ``docs/demo.md``)."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import click

from mlvitals.cli.options import Duration, setting_options, settings_from
from mlvitals.extras import require_extra


@click.command()
@setting_options("host", "port")
@click.option(
    "--duration",
    type=Duration(positive=True),
    default=None,
    help="Stop by itself after this long, e.g. 600 or 10m (default: run until Ctrl-C).",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default=None,
    help="Where to keep the demo database, files and configuration (default: a new "
    "temporary folder).",
)
@click.option(
    "--pace",
    type=click.FloatRange(min=6),
    default=60.0,
    show_default=True,
    help="Seconds between staged incidents; the quiet start, the alert interval and every "
    "window scale with it (6 runs the whole story in about a minute).",
)
def demo(duration: float | None, directory: str | None, pace: float, **options: Any) -> None:
    """Run a live demo: a server on a fresh SQLite file; a scikit-learn model served by three
    instrumented replicas with traffic; a scheduled feature pipeline, retraining and
    deployment runs; hours of history; then incidents staged one after another (an error
    burst, a late run, a latency regression, a short extract, a drifted batch, a stopped
    instance, a retraining broken by a dependency upgrade, a budget near its limit), each
    raising its alert. Prints the dashboard URL, then the timeline as it happens."""
    require_extra("server", "mlvitals demo")
    require_extra("demo", "mlvitals demo")
    from mlvitals.cli.demo_server import DemoServer
    from mlvitals.demo import configs
    from mlvitals.demo.scenario import Demo
    from mlvitals.demo.timing import Timing
    from mlvitals.server.runner import build_server

    timing = Timing.for_pace(pace)
    folder = Path(directory or tempfile.mkdtemp(prefix="mlvitals-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    (folder / "timeline.jsonl").unlink(missing_ok=True)
    files = configs.write(folder, timing, time.time())
    settings = settings_from({**options, **files.settings(timing)})
    url = f"http://{settings.host}:{settings.port}"
    scenario = Demo(url, files, timing, echo=click.echo)
    server = DemoServer(build_server(settings).config, scenario.stop)

    def run_scenario() -> None:
        try:
            scenario.run()
        except Exception as exc:  # the server keeps running; say what went wrong
            if not scenario.stopping:  # failures while stopping are the shutdown's
                click.echo(f"demo workload failed: {exc}", err=True)

    click.echo(f"mlvitals demo: dashboard at {url}/")
    click.echo(f"  folder {folder} (database, rules, rate card, budgets, pipeline files)")
    click.echo("  press Ctrl-C to stop" if duration is None else f"  stops in {duration:g}s")
    scenario.prepare()
    threading.Thread(target=run_scenario, name="mlvitals-demo", daemon=True).start()
    if duration is not None:
        timer = threading.Timer(duration, server.finish)
        timer.daemon = True
        timer.start()
    try:
        server.run()
    finally:
        scenario.stop()
