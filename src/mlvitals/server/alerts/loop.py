"""The alert loop of the server: one evaluation cycle every ``alert_interval`` seconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from mlvitals.alerts.notifiers import Dispatcher
from mlvitals.server.alerts.evaluator import Evaluator
from mlvitals.server.alerts.rules_source import rules_source
from mlvitals.server.areas import SIGNALS
from mlvitals.server.cost.signals import budget_signal_for
from mlvitals.server.deps import AppState
from mlvitals.settings import Settings

log = logging.getLogger("mlvitals.server.alerts")


def external_url(settings: Settings) -> str:
    """Where users reach this server, for links in notifications."""
    if settings.external_url:
        return settings.external_url.rstrip("/")
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}"


def make_evaluator(app: AppState) -> Evaluator:
    s = app.settings
    dispatcher = Dispatcher(external_url(s), smtp_password=s.smtp_password)
    return Evaluator(
        app.store,
        rules_source(s.rules_file),
        dispatcher=dispatcher,
        clock=app.clock,
        signals={
            **SIGNALS,
            "budget": budget_signal_for(s.rate_card, s.budgets_file, s.late_seconds),
        },
        lease_ttl=max(3 * s.alert_interval, 30.0),
    )


async def run_alerting(app: AppState, stop: asyncio.Event) -> None:
    """Evaluate until ``stop``; a failing cycle is logged and the next one runs on time."""
    evaluator = make_evaluator(app)
    interval = app.settings.alert_interval
    try:
        while not stop.is_set():
            try:
                report = await asyncio.to_thread(evaluator.run_once)
                if report.errors:
                    log.warning("alert rules with errors: %s", ", ".join(sorted(report.errors)))
            except Exception:
                log.exception("alert evaluation failed; retrying in %ss", interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(evaluator.close)
        if evaluator.dispatcher is not None:
            evaluator.dispatcher.close()
