"""One evaluation cycle: signals -> pure evaluation -> store -> notifications.

Everything the cycle needs between runs is read from the store at its start, so a restart
(or another server process taking over the lease) continues exactly where the last cycle
left off: a pending alert keeps its start, a notified group is not notified again.

>>> from mlvitals.alerts.config import RuleSet
>>> from mlvitals.server.database import open_database
>>> store = open_database(":memory:")
>>> report = Evaluator(store, RuleSet()).run_once(now=1000.0)
>>> (report.evaluated, report.errors)
(0, {})
>>> store.close()
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from mlvitals.alerts.config import RuleSet
from mlvitals.alerts.evaluate import evaluate, retire
from mlvitals.alerts.grouping import Notification, plan_notifications
from mlvitals.alerts.notifiers import Delivery, Dispatcher
from mlvitals.alerts.state import Transition
from mlvitals.server.alerts import lease
from mlvitals.server.alerts.notify_log import apply_entry, load_log, prune, record_delivery
from mlvitals.server.alerts.persistence import (
    States,
    load_states,
    save_rule_health,
    save_states,
)
from mlvitals.server.alerts.signal import Signal
from mlvitals.server.alerts.silencing import list_silences, load_acks, prune_acks
from mlvitals.server.areas import SIGNALS
from mlvitals.store import Store

log = logging.getLogger("mlvitals.server.alerts")

HISTORY_DAYS = 90.0
MAX_PARALLEL_DELIVERIES = 8
"""Most notifications of one cycle sent at once."""


@dataclass
class CycleReport:
    """What one cycle did; ``skipped`` when another process holds the lease."""

    now: float
    skipped: bool = False
    evaluated: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)
    sent: int = 0
    failed: int = 0


class Evaluator:
    """Evaluates a rule set against a store and notifies through a dispatcher.

    ``rules`` is a rule set or a function returning the current one (so a changed rules
    file takes effect at the next cycle). Without a dispatcher nothing is sent, and the
    notification log is left alone so a later evaluator with receivers still notifies.
    """

    def __init__(
        self,
        store: Store,
        rules: RuleSet | Callable[[], RuleSet],
        *,
        dispatcher: Dispatcher | None = None,
        clock: Callable[[], float] = time.time,
        signals: Mapping[str, Signal] | None = None,
        holder: str | None = None,
        lease_ttl: float = 60.0,
    ) -> None:
        self.store = store
        self._rules = rules
        self.dispatcher = dispatcher
        self.clock = clock
        self.signals = dict(SIGNALS if signals is None else signals)
        self.holder = holder or uuid.uuid4().hex
        self.lease_ttl = lease_ttl
        self._last_prune = 0.0
        self._started = time.monotonic()

    @property
    def rules(self) -> RuleSet:
        return self._rules() if callable(self._rules) else self._rules

    def close(self) -> None:
        """Give up the lease, so a successor starts at once instead of after it expires."""
        lease.release(self.store, self.holder)

    def run_once(self, now: float | None = None) -> CycleReport:
        """One cycle at ``now`` (default: the clock's time).

        Without ``now``, each rule's states change at the time its signal was read, not at
        the cycle's start: a cycle can take a while, and an alert must not appear to fire
        before the data that raised it arrived.
        """
        live = now is None
        now = self.clock() if now is None else now
        report = CycleReport(now)
        self._started = time.monotonic()
        if not self._hold(now):
            report.skipped = True
            return report
        # Renewed all along: a slow rule or receiver must not let another process take over
        # and send what this one is sending.
        with lease.Renewal(lambda: self._hold(now), self.lease_ttl):
            return self._cycle(now, report, live=live)

    def _cycle(self, now: float, report: CycleReport, *, live: bool) -> CycleReport:
        ruleset = self.rules
        previous = load_states(self.store)
        current, health = self._evaluate(ruleset, previous, now, report, live=live)
        if not self._hold(now):
            # Another process took over while this one evaluated: it writes and notifies.
            report.skipped = True
            return report
        save_states(self.store, previous, current, report.transitions)
        save_rule_health(self.store, health)
        if live:  # no earlier than the last state change
            now = max([now, self.clock(), *(t.time for t in report.transitions)])
        if self.dispatcher is not None:
            states = {**previous, **current}
            self._notify(ruleset, states, now, report)
        if now - self._last_prune > 3600.0:
            self._last_prune = now
            prune(self.store, now - HISTORY_DAYS * 86400.0)
            prune_acks(self.store)
        return report

    def _hold(self, now: float) -> bool:
        """Take or renew the lease, at the cycle's time plus the time the cycle has taken
        (so a slow cycle keeps its lease and an injected clock stays consistent)."""
        at = now + (time.monotonic() - self._started)
        return lease.acquire(self.store, self.holder, at, self.lease_ttl)

    def _evaluate(
        self,
        ruleset: RuleSet,
        previous: States,
        cycle_now: float,
        report: CycleReport,
        *,
        live: bool,
    ) -> tuple[States, dict[str, tuple[float, float, int, str | None]]]:
        current: States = {}
        health: dict[str, tuple[float, float, int, str | None]] = {}
        now = cycle_now
        for rule in ruleset.rules:
            started = time.perf_counter()
            try:
                signal = self.signals.get(rule.kind)
                if signal is None:
                    raise LookupError(f"no signal for rule kind {rule.kind!r}")
                asked = max(now, self.clock()) if live else now
                samples = signal(self.store, rule, asked)
                now = max(asked, self.clock()) if live else now
                result = evaluate(rule, previous.get(rule.name, {}), samples, now)
            except Exception as exc:
                # One broken rule must not stop the others; its alerts stay as they were.
                log.exception("alert rule %s failed to evaluate", rule.name)
                report.errors[rule.name] = f"{type(exc).__name__}: {exc}"
                health[rule.name] = (
                    now,
                    time.perf_counter() - started,
                    0,
                    report.errors[rule.name],
                )
                continue
            current[rule.name] = result.states
            report.transitions += result.transitions
            report.evaluated += 1
            health[rule.name] = (now, time.perf_counter() - started, len(samples), None)
        names = {r.name for r in ruleset.rules}
        for rule_name, states in previous.items():
            if rule_name not in names:
                result = retire(states, now)
                current[rule_name] = result.states
                report.transitions += result.transitions
        return current, health

    def _notify(self, ruleset: RuleSet, states: States, now: float, report: CycleReport) -> None:
        assert self.dispatcher is not None
        alerts = [s for by_fp in states.values() for s in by_fp.values()]
        plan = plan_notifications(
            alerts,
            ruleset.route,
            ruleset.receivers,
            load_log(self.store),
            now=now,
            silences=list_silences(self.store, now=now),
            acked=set(load_acks(self.store)),
        )
        sendable: list[Notification] = []
        for n in plan:
            if not n.send or n.integration is None:
                apply_entry(self.store, n)
            else:
                sendable.append(n)
        if not sendable:
            return
        if not self._hold(now):
            log.warning("lost the evaluator lease; another process notifies from now on")
            return
        # Receivers are sent to at once: one slow or unreachable receiver holds the cycle up
        # for its own timeout, not for the sum of all of them. The log is written here.
        workers = min(len(sendable), MAX_PARALLEL_DELIVERIES)
        with ThreadPoolExecutor(workers, thread_name_prefix="mlvitals-notify") as pool:
            futures = {pool.submit(self.dispatcher.deliver, n, now): n for n in sendable}
            for future in as_completed(futures):
                self._record(futures[future], future, now, report)

    def _record(
        self, n: Notification, future: Future[Delivery], now: float, report: CycleReport
    ) -> None:
        assert self.dispatcher is not None and n.integration is not None
        try:
            delivery = future.result()
        except Exception:
            log.exception("notification to %s/%s failed", n.receiver, n.integration_key)
            report.failed += 1
            return
        record_delivery(self.store, n, self.dispatcher.target_of(n.integration), delivery, now)
        if delivery.ok:
            report.sent += 1
            apply_entry(self.store, n)
        else:
            # The log keeps the old entry: the next cycle tries again.
            report.failed += 1
            log.warning(
                "notification to %s (%s) failed after %d attempt(s): %s",
                n.receiver,
                self.dispatcher.target_of(n.integration),
                delivery.attempts,
                delivery.error,
            )
