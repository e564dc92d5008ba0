"""``mlvitals env``: environment snapshots and their differences.

::

    mlvitals env snapshot -o before.json
    mlvitals env diff before.json current
    mlvitals env diff last-good RUN_ID --pipeline nightly-etl --db mlvitals.db

An environment is named by a snapshot file, ``current`` (this interpreter), a run id, or
``last-good`` (the last succeeded run of ``--pipeline``); run ids and ``last-good`` read
``--db`` or ``--server``. ``diff`` exits 1 when the environments differ, like ``diff``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from mlvitals.cli.runs import Source, close_source, open_source, source_options
from mlvitals.errors import InputError, NotFound
from mlvitals.pipelines.envdiff import diff_environments
from mlvitals.pipelines.environment import (
    Environment,
    capture_environment,
    load_snapshot,
    save_snapshot,
)


@click.group()
def env() -> None:
    """Snapshot the Python environment and compare two environments."""


@env.command()
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write to this file."
)
def snapshot(output: str | None) -> None:
    """Capture Python, platform and every installed distribution as JSON."""
    snap = capture_environment()
    if output is None:
        click.echo(json.dumps(snap.to_dict(), indent=2))
        return
    save_snapshot(snap, output)
    click.echo(f"wrote {output}: {len(snap.packages)} distributions, hash {snap.hash[:12]}")


class _Resolver:
    """Turns a command-line name into an environment, opening a source only when needed."""

    def __init__(self, options: dict[str, Any], pipeline: str | None) -> None:
        self.options = options
        self.pipeline = pipeline
        self._source: Source | None = None

    def source(self) -> Source:
        if self._source is None:
            self._source = open_source(self.options)
        return self._source

    def close(self) -> None:
        if self._source is not None:
            close_source(self._source)

    def resolve(self, name: str) -> Environment:
        if name == "current":
            return capture_environment()
        if Path(name).is_file():
            return load_snapshot(name)
        if name == "last-good":
            return self._last_good()
        run = self.source().run(name)["run"]
        return self._env_of(run, f"run {name}")

    def _env_of(self, run: dict[str, Any], what: str) -> Environment:
        env_hash = run.get("environment_hash")
        if not env_hash:
            raise InputError(f"{what} recorded no environment")
        return Environment.from_dict(self.source().environment(env_hash))

    def _last_good(self) -> Environment:
        if self.pipeline is None:
            raise InputError("last-good needs --pipeline NAME")
        runs = self.source().runs(self.pipeline, "succeeded", 50)
        for run in runs:
            if run.get("environment_hash"):
                return self._env_of(run, f"run {run['run_id']}")
        raise NotFound(f"pipeline {self.pipeline!r} has no succeeded run with an environment")


@env.command()
@click.argument("before")
@click.argument("after")
@click.option("--pipeline", default=None, help="Pipeline whose last good run 'last-good' is.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@source_options
def diff(before: str, after: str, pipeline: str | None, as_json: bool, **options: Any) -> None:
    """Packages added, removed, upgraded and downgraded from BEFORE to AFTER.

    Each of BEFORE and AFTER is a snapshot file, 'current', a run id or 'last-good'.
    """
    resolver = _Resolver(options, pipeline)
    try:
        result = diff_environments(resolver.resolve(before), resolver.resolve(after))
    finally:
        resolver.close()
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    elif result.empty:
        click.echo("no differences")
    else:
        click.echo("\n".join(result.lines()))
    if not result.empty:
        sys.exit(1)
