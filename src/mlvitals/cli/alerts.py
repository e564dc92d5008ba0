"""``mlvitals alerts`` and ``mlvitals rules``: alerts, silences and rule files.

::

    mlvitals alerts [--state firing] [--json] [--db URL | --server URL --token T]
    mlvitals alerts silence --matcher service=fraud --duration 2h --comment "deploy"
    mlvitals alerts silences [--expired] [--json]
    mlvitals alerts unsilence SILENCE_ID
    mlvitals alerts ack ALERT_ID [--comment TEXT]
    mlvitals alerts history [--limit N] [--json]
    mlvitals rules check FILE          # exit 0 when valid, 1 with every error
    mlvitals rules default             # print the default rule pack
"""

from __future__ import annotations

import getpass
import json
import time
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from mlvitals.cli.options import Duration, setting_options, settings_from
from mlvitals.errors import ConfigError
from mlvitals.http import Client

F = TypeVar("F", bound=Callable[..., Any])


def _source_options(fn: F) -> F:
    fn = click.option("--token", default=None, help="Bearer token for --server.")(fn)
    fn = click.option(
        "--server",
        default=None,
        help="Use this mlvitals server (e.g. http://127.0.0.1:8765) instead of --db.",
    )(fn)
    return setting_options("db")(fn)


class _Server:
    """The alerts API of a running server (retries: :mod:`mlvitals.http`)."""

    def __init__(self, url: str, token: str | None) -> None:
        self.client = Client(url, token, user_agent="mlvitals-cli")
        self.url = self.client.server
        self.token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.call(method, path, body)


class _Source:
    """Alerts from a server (``--server``) or straight from a database (``--db``)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.server = (
            _Server(options["server"], options.get("token")) if options.get("server") else None
        )
        self.store: Any = None
        # Links are shown under the server's address: the one asked, or the external URL.
        self.base_url = self.server.url if self.server else settings_from(options).external_url
        if self.server is None:
            from mlvitals.server.database import open_database
            from mlvitals.store.base import is_postgres_url

            url = settings_from(options).db
            path = url.removeprefix("sqlite://")
            if not is_postgres_url(url) and not Path(path).exists():
                raise ConfigError(f"no database at {path}: pass --db PATH_OR_URL or --server URL")
            self.store = open_database(url)

    def __enter__(self) -> _Source:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.store is not None:
            self.store.close()

    def alerts(self, state: str | None) -> list[dict[str, Any]]:
        if self.server is not None:
            query = f"?state={state}" if state else ""
            items: list[dict[str, Any]] = self.server.call("GET", f"/api/v1/alerts{query}")[
                "alerts"
            ]
            return items
        from mlvitals.server.alerts.queries import current_alerts

        return current_alerts(self.store, time.time(), state)

    def history(self, limit: int) -> list[dict[str, Any]]:
        if self.server is not None:
            items: list[dict[str, Any]] = self.server.call(
                "GET", f"/api/v1/alerts/history?limit={limit}"
            )["history"]
            return items
        from mlvitals.server.alerts.persistence import load_history

        return load_history(self.store, limit=limit)

    def silence(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.server is not None:
            created: dict[str, Any] = self.server.call("POST", "/api/v1/silences", body)
            return created
        from mlvitals.server.alerts.silencing import create_silence, parse_matchers

        now = time.time()
        starts = body.get("starts_at") or now
        silence = create_silence(
            self.store,
            parse_matchers(body["matchers"]),
            starts,
            starts + float(body["duration"]),
            created_by=body["created_by"],
            comment=body["comment"],
            now=now,
        )
        return silence.to_dict(now)

    def silences(self, expired: bool) -> list[dict[str, Any]]:
        if self.server is not None:
            query = "?expired=true" if expired else ""
            items: list[dict[str, Any]] = self.server.call("GET", f"/api/v1/silences{query}")[
                "silences"
            ]
            return items
        from mlvitals.server.alerts.silencing import list_silences

        now = time.time()
        return [s.to_dict(now) for s in list_silences(self.store, now=now, include_expired=expired)]

    def unsilence(self, silence_id: str) -> dict[str, Any]:
        if self.server is not None:
            ended: dict[str, Any] = self.server.call(
                "DELETE", f"/api/v1/silences/{urllib.parse.quote(silence_id)}"
            )
            return ended
        from mlvitals.server.alerts.silencing import expire_silence

        now = time.time()
        return expire_silence(self.store, silence_id, now).to_dict(now)

    def ack(self, alert_id: str, by: str, comment: str) -> dict[str, Any]:
        if self.server is not None:
            done: dict[str, Any] = self.server.call(
                "POST",
                f"/api/v1/alerts/{urllib.parse.quote(alert_id)}/ack",
                {"by": by, "comment": comment},
            )
            return done
        from mlvitals.server.alerts.silencing import acknowledge

        return acknowledge(self.store, alert_id, by=by, comment=comment, now=time.time())


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _labels(labels: dict[str, str]) -> str:
    skip = {"alertname", "severity"}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in skip)


def alerts_table(items: list[dict[str, Any]], base_url: str = "") -> list[str]:
    """The table of ``mlvitals alerts``: each alert with its summary and the page of what it
    is about (under ``base_url``, the server's, when the alerts came from one)."""
    lines = [
        f"{'state':9} {'severity':9} {'since (UTC)':19}  {'rule':24} {'id':16}  labels / summary"
    ]
    for a in items:
        state = a["state"]
        if a.get("silenced_by"):
            state += "*"
        since = a.get("fired_at") or a.get("active_at")
        summary = a.get("annotations", {}).get("summary", "")
        lines.append(
            f"{state:9} {a['labels'].get('severity', '-'):9} {_when(since):19}  "
            f"{a['rule'][:24]:24} {a['id']:16}  {_labels(a['labels'])}"
        )
        if summary:
            lines.append(f"{'':64}{summary}")
        link = a.get("link") or a.get("alert_url")
        if link:
            lines.append(f"{'':64}{base_url.rstrip('/')}{link}")
    if any(a.get("silenced_by") for a in items):
        lines.append("* silenced")
    return lines


@click.group(invoke_without_command=True)
@click.option("--state", type=click.Choice(["pending", "firing", "resolved"]), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@_source_options
@click.pass_context
def alerts(ctx: click.Context, /, state: str | None, as_json: bool, **options: Any) -> None:
    """Current alerts, worst first (see also: silence, silences, unsilence, ack, history)."""
    if ctx.invoked_subcommand is not None:
        return
    with _Source(options) as source:
        items = source.alerts(state)
    if as_json:
        click.echo(json.dumps(items, indent=2))
    elif not items:
        click.echo("no alerts")
    else:
        click.echo("\n".join(alerts_table(items, source.base_url)))


@alerts.command()
@click.option(
    "--matcher",
    "-m",
    "matchers",
    multiple=True,
    required=True,
    help="name=value, name!=value, name=~regex or name!~regex; repeat to combine.",
)
@click.option(
    "--duration",
    type=Duration(positive=True),
    default="2h",
    show_default=True,
    help="How long, e.g. 30m, 2h, 1d.",
)
@click.option("--comment", default="", help="Why (shown with the silence).")
@click.option("--by", "created_by", default=None, help="Who (default: the login name).")
@click.option("--json", "as_json", is_flag=True)
@_source_options
def silence(
    matchers: tuple[str, ...],
    duration: float,
    comment: str,
    created_by: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Silence alerts matching every --matcher, from now for --duration."""
    body = {
        "matchers": list(matchers),
        "duration": str(duration),  # seconds, exact as text
        "comment": comment,
        "created_by": created_by if created_by is not None else getpass.getuser(),
    }
    with _Source(options) as source:
        created = source.silence(body)
    if as_json:
        click.echo(json.dumps(created, indent=2))
    else:
        click.echo(
            f"silence {created['id']} until {_when(created['ends_at'])} UTC: "
            + ", ".join(created["matchers"])
        )


@alerts.command()
@click.option("--expired", is_flag=True, help="Include silences that ended.")
@click.option("--json", "as_json", is_flag=True)
@_source_options
def silences(expired: bool, as_json: bool, **options: Any) -> None:
    """List silences."""
    with _Source(options) as source:
        items = source.silences(expired)
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    if not items:
        click.echo("no silences")
    for s in items:
        click.echo(
            f"{s['id']}  {s['status']:8} {_when(s['starts_at'])} .. {_when(s['ends_at'])}  "
            f"{', '.join(s['matchers'])}  {s['created_by']}: {s['comment']}"
        )


@alerts.command()
@click.argument("silence_id")
@_source_options
def unsilence(silence_id: str, **options: Any) -> None:
    """End a silence now."""
    with _Source(options) as source:
        ended = source.unsilence(silence_id)
    click.echo(f"silence {ended['id']} ended at {_when(ended['ends_at'])} UTC")


@alerts.command()
@click.argument("alert_id")
@click.option("--comment", default="", help="What is being done about it.")
@click.option("--by", default=None, help="Who (default: the login name).")
@_source_options
def ack(alert_id: str, comment: str, by: str | None, **options: Any) -> None:
    """Acknowledge an alert: it stays listed but is not re-notified."""
    with _Source(options) as source:
        done = source.ack(alert_id, by if by is not None else getpass.getuser(), comment)
    click.echo(f"alert {done['id']} acknowledged by {done['acked_by']}")


@alerts.command()
@click.option("--limit", type=click.IntRange(1, 5000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@_source_options
def history(limit: int, as_json: bool, **options: Any) -> None:
    """State changes of alerts, newest first."""
    with _Source(options) as source:
        items = source.history(limit)
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    for t in items:
        click.echo(
            f"{_when(t['time'])}  {t['from']:>8} -> {t['to']:8} {t['rule']:24} {t['id']}  "
            f"{_labels(t['labels'])}"
        )


@click.group()
def rules() -> None:
    """Alert rule files: check one, or print the default rule pack."""


@rules.command()
@click.argument("file", type=click.Path(dir_okay=False))
def check(file: str) -> None:
    """Validate a rules file: exit 0 when it is valid, 1 listing every error."""
    from mlvitals.alerts.config import read_rules_file, rule_errors

    try:
        data = read_rules_file(file)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    ruleset, errors = rule_errors(data, f"rules file {file}")
    if ruleset is None:
        for line in errors:
            click.echo(f"error: {line}", err=True)
        click.echo(f"{file}: {len(errors)} error(s)", err=True)
        raise SystemExit(1)
    click.echo(f"{file}: ok, {len(ruleset.rules)} rule(s), {len(ruleset.receivers)} receiver(s)")


@rules.command()
def default() -> None:
    """Print the default rule pack (a starting point for your own rules file)."""
    from mlvitals.alerts.config import default_rules_text

    click.echo(default_rules_text(), nl=False)
