"""The evaluation state machine: (rule, previous states, samples, now) -> new states.

Prometheus semantics. A label set whose condition holds becomes *pending*; once the
condition has held for the rule's ``for`` it is *firing* (at once when ``for`` is 0). A
pending alert whose condition stops holding is dropped (``inactive``). A firing alert whose
condition stops holding stays firing until it has not held for ``keep_firing_for``, then it
is *resolved*; resolved alerts are kept for :data:`RESOLVED_RETENTION` and a new episode
starts if the condition holds again.

>>> from mlvitals.alerts.rules import Condition, Rule, ServingSpec
>>> rule = Rule("Slow", ServingSpec("latency_p99", Condition(">", 0.5)), for_=60.0)
>>> s = [Sample({"service": "fraud"}, 0.9)]
>>> first = evaluate(rule, {}, s, now=0.0)
>>> [(t.from_state, t.to_state) for t in first.transitions]
[('inactive', 'pending')]
>>> later = evaluate(rule, first.states, s, now=60.0)
>>> [(t.from_state, t.to_state) for t in later.transitions]
[('pending', 'firing')]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

from mlvitals.alerts.fields import default_summary, template_fields
from mlvitals.alerts.labels import fingerprint, render_labels
from mlvitals.alerts.links import object_path
from mlvitals.alerts.rules import Rule
from mlvitals.alerts.state import (
    FIRING,
    INACTIVE,
    PENDING,
    RESOLVED,
    RESOLVED_RETENTION,
    AlertState,
    Sample,
    Transition,
    episode_id,
)
from mlvitals.alerts.templates import render
from mlvitals.errors import InputError


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The rule's alerts after one evaluation (by fingerprint) and what changed."""

    states: dict[str, AlertState]
    transitions: tuple[Transition, ...]


def alert_labels(rule: Rule, sample_labels: Mapping[str, str]) -> dict[str, str]:
    """Sample labels, overridden by the rule's labels, then ``alertname`` and ``severity``."""
    return {**sample_labels, **rule.labels, "alertname": rule.name, "severity": rule.severity}


def annotate(
    rule: Rule, labels: Mapping[str, str], value: float, info: Mapping[str, object]
) -> dict[str, str]:
    fields = template_fields(rule, labels, value, info)
    templates = dict(rule.annotations)
    templates.setdefault("summary", default_summary(rule))
    return {key: render(template, fields) for key, template in templates.items()}


def _holding(rule: Rule, samples: Sequence[Sample]) -> dict[str, tuple[dict[str, str], Sample]]:
    out: dict[str, tuple[dict[str, str], Sample]] = {}
    for sample in samples:
        if not math.isfinite(sample.value) and sample.holds is None:
            continue
        holds = (
            sample.holds if sample.holds is not None else rule.spec.condition.holds(sample.value)
        )
        if not holds:
            continue
        labels = alert_labels(rule, sample.labels)
        fp = fingerprint(labels)
        if fp in out:
            raise InputError(
                f"rule {rule.name!r}: two samples with the labels {render_labels(labels)}; "
                "a signal must return one sample per label set"
            )
        out[fp] = (labels, sample)
    return out


def evaluate(
    rule: Rule, previous: Mapping[str, AlertState], samples: Sequence[Sample], now: float
) -> Evaluation:
    """One evaluation of ``rule`` at ``now`` over ``samples`` (see the module doc)."""
    holding = _holding(rule, samples)
    states: dict[str, AlertState] = {}
    moves: list[Transition] = []

    def move(state: AlertState, before: str, after: str) -> None:
        moves.append(
            Transition(
                rule.name,
                state.fingerprint,
                state.alert_id,
                state.labels,
                before,
                after,
                now,
                state.value,
                state.link,
            )
        )

    for fp, (labels, sample) in holding.items():
        prev = previous.get(fp)
        annotations = MappingProxyType(annotate(rule, labels, sample.value, sample.info))
        frozen_labels = MappingProxyType(labels)
        link = object_path(rule.kind, labels, sample.info)
        if prev is None or prev.state == RESOLVED:
            fires = rule.for_ <= 0
            state = AlertState(
                rule.name,
                fp,
                episode_id(rule.name, fp, now),
                frozen_labels,
                annotations,
                FIRING if fires else PENDING,
                active_at=now,
                last_true_at=now,
                value=sample.value,
                updated_at=now,
                fired_at=now if fires else None,
                link=link,
            )
            move(state, INACTIVE, state.state)
        else:
            state = replace(
                prev,
                labels=frozen_labels,
                annotations=annotations,
                value=sample.value,
                last_true_at=now,
                updated_at=now,
                keep_firing_since=None,
                link=link,
            )
            if prev.state == PENDING and now - prev.active_at >= rule.for_:
                state = replace(state, state=FIRING, fired_at=now)
                move(state, PENDING, FIRING)
        states[fp] = state

    for fp, prev in previous.items():
        if fp in holding:
            continue
        if prev.state == PENDING:
            move(prev, PENDING, INACTIVE)
        elif prev.state == FIRING:
            since = prev.keep_firing_since if prev.keep_firing_since is not None else now
            if now - since < rule.keep_firing_for:
                states[fp] = replace(prev, keep_firing_since=since, updated_at=now)
            else:
                resolved = replace(
                    prev, state=RESOLVED, resolved_at=now, keep_firing_since=None, updated_at=now
                )
                states[fp] = resolved
                move(resolved, FIRING, RESOLVED)
        elif prev.resolved_at is not None and now - prev.resolved_at < RESOLVED_RETENTION:
            states[fp] = prev
    return Evaluation(states, tuple(moves))


def retire(previous: Mapping[str, AlertState], now: float) -> Evaluation:
    """Resolve the alerts of a rule that no longer exists (its file changed): firing ones
    are resolved so receivers hear of it, pending ones dropped."""
    states: dict[str, AlertState] = {}
    moves: list[Transition] = []
    for fp, prev in previous.items():
        if prev.state == FIRING:
            resolved = replace(prev, state=RESOLVED, resolved_at=now, updated_at=now)
            states[fp] = resolved
            moves.append(
                Transition(
                    prev.rule,
                    fp,
                    prev.alert_id,
                    prev.labels,
                    FIRING,
                    RESOLVED,
                    now,
                    prev.value,
                    prev.link,
                )
            )
        elif prev.state == PENDING:
            moves.append(
                Transition(
                    prev.rule,
                    fp,
                    prev.alert_id,
                    prev.labels,
                    PENDING,
                    INACTIVE,
                    now,
                    prev.value,
                    prev.link,
                )
            )
        elif prev.resolved_at is not None and now - prev.resolved_at < RESOLVED_RETENTION:
            states[fp] = prev
    return Evaluation(states, tuple(moves))
