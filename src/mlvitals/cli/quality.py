"""``mlvitals profile``, ``mlvitals check`` and ``mlvitals schema infer``.

Exit codes: 0 when every check passes, 1 when a check fails or drift fails it (``--fail-on``:
the dataset's drift by default), 2 when the command or its inputs cannot be used (the message
names the file or column) or the server refused the record, 4 when ``--server`` could not be
reached or answered with an error.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlvitals.extras import require_extra

if TYPE_CHECKING:
    from mlvitals.quality.sources import Source

if TYPE_CHECKING:
    from mlvitals.quality.drift.config import FailOn

# Inputs at least this large get a progress bar on stderr.
PROGRESS_MIN_BYTES = 64 << 20
PROGRESS_MIN_ROWS = 2_000_000

_FORMAT = click.Choice(["csv", "parquet"])


class _Bar:
    """A click progress bar on stderr for a large input, opened on its first update.

    Pass it as a ``progress`` callback; ``close()`` it (or let the next bar close it) when
    the read is over. Inputs below the size limits get no bar unless asked for.
    """

    def __init__(self, source: Source, label: str, enabled: bool | None) -> None:
        large = source.total is not None and (
            (source.unit == "bytes" and source.total >= PROGRESS_MIN_BYTES)
            or (source.unit == "rows" and source.total >= PROGRESS_MIN_ROWS)
        )
        self.show = source.total is not None and (
            enabled if enabled is not None else large and not source.in_memory
        )
        self.source, self.label = source, label
        self.bar: Any = None
        self.previous: _Bar | None = None

    def __call__(self, n: int) -> None:
        if self.bar is None:
            if self.previous is not None:
                self.previous.close()
            self.bar = click.progressbar(
                length=self.source.total, label=self.label, file=sys.stderr
            )
            self.bar.__enter__()
        self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def callback(self) -> Callable[[int], None] | None:
        return self if self.show else None


def _write(text: str, output: str | None) -> None:
    if output is None or output == "-":
        click.echo(text)
    else:
        Path(output).write_text(text + "\n", encoding="utf-8")


def _server_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--dataset", help="Name to file the result under on the server (required with --server)."
    )(fn)
    fn = click.option("--token", help="Bearer token with the ingest scope, for --server.")(fn)
    fn = click.option(
        "--server",
        help="Also send the result to this mlvitals server (e.g. http://127.0.0.1:8765).",
    )(fn)
    return fn


def _check_target(server: str | None, dataset: str | None) -> None:
    """Fail before the work, not after it, when the sending options do not fit."""
    from mlvitals.errors import ConfigError
    from mlvitals.sdk.quality import check_dataset_name

    if server is None:
        if dataset is not None:
            raise ConfigError("--dataset names the result on a server: give --server URL too")
        return
    if not server.startswith(("http://", "https://")):
        raise ConfigError(f"--server must be an http:// or https:// URL, got {server!r}")
    if dataset is None:
        raise ConfigError("--server needs --dataset NAME: the name the server files it under")
    check_dataset_name(dataset)


def _send(server: str, token: str | None, record: dict[str, Any]) -> None:
    """POST one record; raise ``ConfigError`` (exit 2) when the server refused it,
    ``RequestError`` (exit 4) when the server could not be reached or answered an error."""
    from mlvitals.sdk.quality import post_records

    post_records(server, token, [record])
    click.echo(f"sent the {record['kind']} of dataset {record['dataset']!r} to {server}", err=True)


_progress_option = click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar on stderr (default: for files over 64 MiB or 2M rows).",
)


@click.command("profile")
@click.argument("data")
@click.option("-o", "--output", help="Write the profile JSON to this file (default: stdout).")
@click.option("--format", "fmt", type=_FORMAT, help="Input format when the extension says none.")
@click.option(
    "--reference",
    help="A profile JSON whose bin edges to use (so the two profiles can be compared/merged).",
)
@_progress_option
@_server_options
def profile_cmd(
    data: str,
    output: str | None,
    fmt: str | None,
    reference: str | None,
    progress: bool | None,
    server: str | None,
    token: str | None,
    dataset: str | None,
) -> None:
    """Profile DATA (a CSV or Parquet file or folder) into versioned JSON.

    With --server, the profile is also sent there as a profile of --dataset.

    \b
    Example:
      mlvitals profile data/train.parquet -o reference.json
      mlvitals profile today.parquet --server http://127.0.0.1:8765 --dataset features
    """
    _check_target(server, dataset)
    require_extra("quality", "mlvitals profile")
    from mlvitals.quality.checking import load_profile
    from mlvitals.quality.profiling import profile
    from mlvitals.quality.sources import open_source

    ref = load_profile(reference) if reference else None
    source = open_source(data, format=fmt)
    bar = _Bar(source, "profiling", progress)
    try:
        result = profile(source, reference=ref, progress=bar.callback())
    finally:
        bar.close()
    _write(result.to_json(), output)
    if server is not None and dataset is not None:
        import time

        from mlvitals.sdk.quality import data_bytes, profile_record

        record = profile_record(
            result, dataset=dataset, time=time.time(), source=data, data_bytes=data_bytes(data)
        )
        _send(server, token, record)


@click.command("check")
@click.argument("data")
@click.option(
    "--reference",
    "-r",
    required=True,
    help="Reference data (CSV/Parquet file or folder) or a saved profile (.json).",
)
@click.option("--schema", type=click.Path(dir_okay=False), help="Schema YAML (default: inferred).")
@click.option(
    "--drift-config",
    type=click.Path(dir_okay=False),
    help="Drift policy YAML (methods and thresholds per column).",
)
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Write an HTML report.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option(
    "--fail-on",
    type=click.Choice(["dataset-drift", "column-drift", "never"]),
    help="Which drift exits 1: the dataset's (default, or the drift config's fail_on), any "
    "column's, or none.",
)
@click.option(
    "--ignore-columns",
    default="",
    help="Comma-separated columns to leave out of every check (they are still profiled).",
)
@click.option("--format", "fmt", type=_FORMAT, help="Format of DATA when its extension says none.")
@click.option("--reference-format", type=_FORMAT, help="Format of the reference data.")
@_progress_option
@_server_options
def check_cmd(
    data: str,
    reference: str,
    schema: str | None,
    drift_config: str | None,
    html_path: str | None,
    as_json: bool,
    fail_on: FailOn | None,
    ignore_columns: str,
    fmt: str | None,
    reference_format: str | None,
    progress: bool | None,
    server: str | None,
    token: str | None,
    dataset: str | None,
) -> None:
    """Check DATA against a reference: schema validation and drift, in one pass.

    Exits 0 when every check passes, 1 when a check fails or the dataset drifts (see
    --fail-on), 2 when an input cannot be used or the result could not be sent to --server.

    \b
    Example:
      mlvitals check today.parquet --reference reference.json --html report.html
      mlvitals check today.parquet -r reference.json --server http://127.0.0.1:8765 \\
          --token T --dataset features
    """
    _check_target(server, dataset)
    require_extra("quality", "mlvitals check")
    from mlvitals.quality.checking import check
    from mlvitals.quality.drift.config import DriftPolicy, load_policy
    from mlvitals.quality.sources import open_source

    policy = load_policy(drift_config) if drift_config else DriftPolicy()
    if fail_on is not None:
        policy = dataclasses.replace(policy, fail_on=fail_on)
    ref: Any = reference
    ref_bar = None
    if not reference.lower().endswith(".json"):
        ref = open_source(reference, format=reference_format)
        ref_bar = _Bar(ref, "reference", progress)
    source = open_source(data, format=fmt)
    bar = _Bar(source, "checking ", progress)
    bar.previous = ref_bar
    try:
        result = check(
            source,
            reference=ref,
            schema=schema,
            policy=policy,
            progress=bar.callback(),
            reference_progress=ref_bar.callback() if ref_bar else None,
            ignore=[c.strip() for c in ignore_columns.split(",") if c.strip()],
        )
    finally:
        bar.close()
        if ref_bar is not None:
            ref_bar.close()
    if html_path:
        result.save_html(html_path)
    if as_json:
        click.echo(result.to_json())
    else:
        click.echo(result.summary())
    if server is not None and dataset is not None:
        import time

        from mlvitals.sdk.quality import check_record, data_bytes

        record = check_record(
            result, dataset=dataset, time=time.time(), data_bytes=data_bytes(data)
        )
        _send(server, token, record)
    sys.exit(0 if result.passed else 1)


@click.group("schema")
def schema_group() -> None:
    """Infer a schema from reference data, to edit and check against."""


@schema_group.command("infer")
@click.argument("data")
@click.option("-o", "--output", help="Write the schema YAML to this file (default: stdout).")
@click.option("--format", "fmt", type=_FORMAT, help="Input format when the extension says none.")
def schema_infer(data: str, output: str | None, fmt: str | None) -> None:
    """Infer the schema of DATA (columns, types, nulls, ranges, categories) as YAML.

    \b
    Example:
      mlvitals schema infer data/train.parquet -o schema.yaml
    """
    require_extra("quality", "mlvitals schema infer")
    from mlvitals.quality.checking import load_profile
    from mlvitals.quality.profiling import profile
    from mlvitals.quality.schema import infer_schema
    from mlvitals.quality.schema_yaml import schema_to_yaml

    prof = load_profile(data) if data.lower().endswith(".json") else profile(data, format=fmt)
    share = prof.duplicate_rows / prof.rows if prof.duplicate_rows is not None else None
    _write(schema_to_yaml(infer_schema(prof, duplicate_share=share)).rstrip("\n"), output)
