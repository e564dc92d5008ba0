"""``mlvitals runs``: pipeline runs from a database or a server.

::

    mlvitals runs [--pipeline P] [--state failed] [--json] [--db URL | --server URL]
    mlvitals runs show RUN_ID [--json] [--db URL | --server URL]
    mlvitals runs declare pipelines.yaml [--db URL | --server URL]
"""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from mlvitals.cli.options import setting_options, settings_from
from mlvitals.errors import ConfigError, InputError, NotFound, StoreError
from mlvitals.http import Client

F = TypeVar("F", bound=Callable[..., Any])


class ServerSource:
    """Reads the HTTP API with an optional bearer token (retries: :mod:`mlvitals.http`)."""

    def __init__(self, url: str, token: str | None) -> None:
        self.client = Client(url, token, user_agent="mlvitals-cli")
        self.url = self.client.server
        self.token = token

    def _request(self, path: str, body: dict[str, Any] | None = None) -> Any:
        if body is None:
            return self.client.get(path)
        return self.client.post(path, body, idempotent=True)  # only ingest, with a batch id

    def runs(self, pipeline: str | None, state: str | None, limit: int) -> list[dict[str, Any]]:
        query = {"limit": str(limit)} | ({"state": state} if state else {})
        if pipeline is not None:
            name = urllib.parse.quote(pipeline, safe="")
            result = self._request(f"/api/v1/pipelines/{name}/runs?{urllib.parse.urlencode(query)}")
            runs: list[dict[str, Any]] = result["runs"]
            return runs
        out: list[dict[str, Any]] = []
        for p in self._request("/api/v1/pipelines")["pipelines"]:
            out += self.runs(p["pipeline"], state, limit)
        out.sort(key=lambda r: r.get("started_at") or 0.0, reverse=True)
        return out[:limit]

    def run(self, run_id: str) -> dict[str, Any]:
        detail: dict[str, Any] = self._request(f"/api/v1/runs/{urllib.parse.quote(run_id)}")
        return detail

    def environment(self, env_hash: str) -> dict[str, Any]:
        env: dict[str, Any] = self._request(f"/api/v1/environments/{env_hash}")
        return env

    def ingest(self, records: list[dict[str, Any]]) -> None:
        answer = self._request(
            "/api/v1/ingest", {"batch_id": str(uuid.uuid4()), "records": records}
        )
        if answer.get("errors"):
            raise InputError(f"the server rejected records: {answer['errors'][:3]}")


class DbSource:
    """Reads a database directly (SQLite file or PostgreSQL URL)."""

    def __init__(self, url: str) -> None:
        from mlvitals.server.database import open_database
        from mlvitals.store.base import is_postgres_url

        path = url.removeprefix("sqlite://")
        if not is_postgres_url(url) and path != ":memory:" and not Path(path).exists():
            raise ConfigError(f"no database at {path}: pass --db PATH_OR_URL or --server URL")
        self.store = open_database(url)

    def runs(self, pipeline: str | None, state: str | None, limit: int) -> list[dict[str, Any]]:
        from mlvitals.server.pipelines.queries import list_runs

        return [
            r.to_dict() for r in list_runs(self.store, pipeline=pipeline, state=state, limit=limit)
        ]

    def run(self, run_id: str) -> dict[str, Any]:
        from mlvitals.server.pipelines.queries import run_detail

        detail = run_detail(self.store, run_id, time.time())
        if detail is None:
            raise NotFound(f"no run with id {run_id!r}")
        return detail

    def environment(self, env_hash: str) -> dict[str, Any]:
        from mlvitals.server.pipelines.queries import environment

        env = environment(self.store, env_hash)
        if env is None:
            raise NotFound(f"no environment with hash {env_hash!r}")
        return env.to_dict()

    def ingest(self, records: list[dict[str, Any]]) -> None:
        from mlvitals.server.ingest import validate_envelope

        validated = validate_envelope(
            {"batch_id": str(uuid.uuid4()), "records": records}, time.time()
        )
        if validated.errors:
            raise InputError(f"invalid records: {[e.as_dict() for e in validated.errors[:3]]}")
        self.store.write_batch(validated.batch)

    def close(self) -> None:
        self.store.close()


Source = ServerSource | DbSource


def source_options(fn: F) -> F:
    """``--db`` (from the settings table), ``--server`` and ``--token``."""
    fn = click.option("--token", default=None, help="Bearer token for --server.")(fn)
    fn = click.option(
        "--server",
        default=None,
        help="Read from this mlvitals server (e.g. http://127.0.0.1:8765) instead of --db.",
    )(fn)
    return setting_options("db")(fn)


def open_source(options: dict[str, Any]) -> Source:
    if options.get("server"):
        return ServerSource(options["server"], options.get("token"))
    try:
        return DbSource(settings_from(options).db)
    except StoreError:
        raise
    except ImportError as exc:
        raise ConfigError(f"reading a database needs the server extra: {exc}") from None


def close_source(source: Source) -> None:
    if isinstance(source, DbSource):
        source.close()


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 120:
        return f"{value:.1f}s"
    if value < 7200:
        return f"{value / 60:.1f}m"
    return f"{value / 3600:.1f}h"


def _runs_table(runs: list[dict[str, Any]]) -> list[str]:
    header = f"{'started (UTC)':19}  {'pipeline':24} {'kind':10} {'state':10} {'duration':>8} "
    header += f"{'delay':>7}  {'trigger':11} run id"
    lines = [header]
    for r in runs:
        lines.append(
            f"{_when(r.get('started_at')):19}  {r['pipeline'][:24]:24} "
            f"{(r.get('run_kind') or '-')[:10]:10} {r['state']:10} "
            f"{_seconds(r.get('duration_seconds')):>8} "
            f"{_seconds(r.get('start_delay_seconds')):>7}  "
            f"{(r.get('trigger') or '-')[:11]:11} {r['run_id']}"
        )
    return lines


@click.group(invoke_without_command=True)
@click.option("--pipeline", default=None, help="Only runs of this pipeline.")
@click.option(
    "--state",
    type=click.Choice(["running", "succeeded", "failed", "aborted"]),
    default=None,
    help="Only runs in this state.",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@source_options
@click.pass_context
def runs(
    ctx: click.Context,
    /,
    pipeline: str | None,
    state: str | None,
    limit: int,
    as_json: bool,
    **options: Any,
) -> None:
    """List pipeline runs, newest first (see also: runs show, runs declare)."""
    if ctx.invoked_subcommand is not None:
        return
    source = open_source(options)
    try:
        items = source.runs(pipeline, state, limit)
    finally:
        close_source(source)
    if as_json:
        click.echo(json.dumps(items, indent=2))
    elif not items:
        click.echo("no runs")
    else:
        click.echo("\n".join(_runs_table(items)))


@runs.command()
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@source_options
def show(run_id: str, as_json: bool, **options: Any) -> None:
    """One run: its steps, datasets, resources, error and environment diff."""
    source = open_source(options)
    try:
        detail = source.run(run_id)
    finally:
        close_source(source)
    if as_json:
        click.echo(json.dumps(detail, indent=2))
        return
    click.echo("\n".join(describe_run(detail)))


def describe_run(detail: dict[str, Any]) -> list[str]:
    r = detail["run"]
    res = r.get("resources") or {}
    lines = [
        f"run {r['run_id']}  pipeline {r['pipeline']}  ({r.get('run_kind') or '-'})",
        f"  state {r['state']}  started {_when(r.get('started_at'))}  "
        f"duration {_seconds(r.get('duration_seconds'))}  trigger {r.get('trigger') or '-'}",
        f"  cpu {_seconds(res.get('cpu_seconds'))}  peak rss "
        f"{(res.get('peak_rss_bytes') or 0) / 2**20:.1f} MiB",
    ]
    if r.get("model_version"):
        lines.append(f"  model version {r['model_version']}")
    if r.get("error"):
        lines.append(f"  error {r['error']['type']}: {r['error']['message']}")
    for s in detail["steps"]:
        indent = "  " * (s["depth"] + 1)
        lines.append(f"{indent}- {s['name']}  {s['state']}  {_seconds(s.get('duration_seconds'))}")
        for direction in ("inputs", "outputs"):
            for d in s[direction]:
                lines.append(
                    f"{indent}    {direction[:-1]} {d['name']}: files {d.get('file_count', '-')}"
                    f" bytes {d.get('bytes', '-')} rows {d.get('rows', '-')}"
                )
    for a in detail.get("anomalies", []):
        lines.append(
            f"  anomaly: step {a['step']} {a['metric']} {a['value']:g} is {a['direction']}"
            f" (usual {a['low']:g}..{a['high']:g})"
        )
    diff = detail.get("environment_diff")
    if diff:
        lines.append(f"  environment changes since the last good run {diff['last_good_run_id']}:")
        from mlvitals.pipelines.envdiff import EnvDiff

        lines += ["    " + line for line in EnvDiff.from_dict(diff).lines()]
    return lines


@runs.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@source_options
def declare(file: str, **options: Any) -> None:
    """Declare pipeline schedules, grace periods and maximum durations from a YAML file."""
    from mlvitals.pipelines.config import load_configs

    configs = load_configs(file)
    source = open_source(options)
    try:
        source.ingest([c.to_wire(time.time()) for c in configs])
    finally:
        close_source(source)
    click.echo(f"declared {len(configs)} pipeline(s): {', '.join(c.name for c in configs)}")
