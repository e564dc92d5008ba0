"""``mlvitals cost``: what model services, pipeline runs and datasets cost.

::

    mlvitals cost [--db URL] [--start 2026-11-01] [--end now] [--by service] [--json]
                  [--csv FILE] [--service S | --pipeline P] [--budgets]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from mlvitals.cli.options import setting_options, settings_from
from mlvitals.errors import ConfigError, InputError


def _store_queries() -> Any:
    try:
        from mlvitals.server.cost import queries as queries_cost
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ConfigError(
            f"mlvitals cost needs the server extra ({exc.name} is missing): "
            "pip install 'mlvitals[server]'"
        ) from None
    return queries_cost


def _money(amount: float) -> str:
    return f"{amount:,.4f}" if abs(amount) < 1 else f"{amount:,.2f}"


@click.command()
@setting_options("db", "rate_card", "budgets_file", "late_seconds")
@click.option("--start", default=None, help="Unix seconds, ISO date/time or now-7d [30 days ago]")
@click.option("--end", default=None, help="Unix seconds, ISO date/time or now [now]")
@click.option(
    "--by",
    "group_by",
    default="service",
    show_default=True,
    help="service, version, operation, instance, pipeline, run, dataset, resource, category or day",
)
@click.option("--service", default=None, help="Only this model service.")
@click.option("--pipeline", default=None, help="Only this pipeline's runs and datasets.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--csv", "csv_path", default=None, help="Write a FOCUS-style CSV ('-': stdout).")
@click.option("--budgets", "show_budgets", is_flag=True, help="Show budgets and forecasts.")
def cost(
    start: str | None,
    end: str | None,
    group_by: str,
    service: str | None,
    pipeline: str | None,
    as_json: bool,
    csv_path: str | None,
    show_budgets: bool,
    **options: Any,
) -> None:
    """Cost of model services (hosting, per call), pipeline runs and dataset storage."""
    from mlvitals.cost.budgets import load_budgets
    from mlvitals.cost.config import load_config
    from mlvitals.cost.focus import write_focus_csv
    from mlvitals.cost.report import GROUPS
    from mlvitals.cost.timegrid import DAY, day_start, parse_when
    from mlvitals.server.database import open_database

    settings = settings_from(options)
    if group_by not in GROUPS:
        raise ConfigError(f"--by: choose from {', '.join(GROUPS)}; got {group_by!r}")
    config = load_config(settings.rate_card)
    budgets = load_budgets(settings.budgets_file)
    now = time.time()
    try:
        e = parse_when(end, now) if end else now
        s = parse_when(start, now) if start else day_start(now) - 29 * DAY
    except ValueError as exc:
        raise InputError(f"--start/--end: {exc}") from None
    if not e > s:
        raise InputError("--end must be after --start")
    q = _store_queries()
    store = open_database(settings.db, pool_size=2)
    try:
        if show_budgets:
            listed = q.all_budgets(store, budgets)
            statuses = q.budget_statuses(
                store, config, listed, now, late_seconds=settings.late_seconds
            )
            _print_budgets([st.to_dict() for st in statuses], config.card.currency, as_json)
            return
        report = q.cost_report(
            store,
            config,
            s,
            e,
            now,
            service=service,
            pipeline=pipeline,
            late_seconds=settings.late_seconds,
        )
    finally:
        store.close()
    if csv_path is not None:
        if csv_path == "-":
            write_focus_csv(report.lines, sys.stdout)
        else:
            with Path(csv_path).open("w", encoding="utf-8", newline="") as f:
                n = write_focus_csv(report.lines, f)
            click.echo(f"wrote {n} cost lines to {csv_path}", err=True)
        return
    data = q.report_dict(report, group_by)
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        _print_report(data)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)


def _print_report(data: dict[str, Any]) -> None:
    from mlvitals.cost.report import group_keys
    from mlvitals.cost.timegrid import iso

    cur = data["currency"]
    click.echo(f"cost {iso(data['start'])} .. {iso(data['end'])}  ({cur})")
    by = data["group_by"]
    keys = group_keys(by)
    with_calls = by in ("service", "version", "operation")
    header = [by, "amount", "idle", *(["calls", "per 1k calls"] if with_calls else [])]
    rows = []
    for g in data["groups"]:
        row = [" ".join(str(g[k]) or "-" for k in keys), _money(g["amount"]), _money(g["idle"])]
        if with_calls:
            row += [f"{g['calls']:,}", f"{g['per_1k_calls']:.6f}" if g["calls"] else "-"]
        rows.append(row)
    _table(header, rows)
    click.echo(
        f"total {_money(data['total'])} {cur}; idle {_money(data['idle'])} "
        f"({100 * data['idle_share']:.1f}%)"
    )


def _print_budgets(statuses: list[dict[str, Any]], currency: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"currency": currency, "budgets": statuses}, indent=2))
        return
    if not statuses:
        click.echo("no budgets: set them in --budgets-file or with PUT /api/v1/cost/budgets/NAME")
        return
    rows = []
    for st in statuses:
        flag = (
            "BREACHED" if st["breached"] else "forecast over" if st["forecast_breached"] else "ok"
        )
        subject = st["subject"] or "total"
        rows.append(
            [
                st["name"],
                f"{st['scope']}:{subject}",
                st["period"],
                _money(st["spent"]),
                _money(st["forecast"]),
                _money(st["limit"]),
                flag,
            ]
        )
    _table(["budget", "for", "period", "spent", "forecast", "limit", "status"], rows)


def _table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    for row in [header, *rows]:
        cells = [
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        click.echo("  ".join(cells).rstrip())
