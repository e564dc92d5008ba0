"""The evaluation state machine, with an injected clock (Prometheus semantics)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlvitals.alerts.evaluate import evaluate, retire
from mlvitals.alerts.labels import fingerprint
from mlvitals.alerts.rules import Condition, Rule, ServingSpec
from mlvitals.alerts.state import RESOLVED_RETENTION, AlertState, Sample
from mlvitals.errors import InputError

STEP = 15.0


def rule(for_: float = 0.0, keep: float = 0.0, **kw: object) -> Rule:
    spec = ServingSpec("error_rate", Condition(">", 0.05), window=300.0)
    return Rule("HighErrorRate", spec, for_=for_, keep_firing_for=keep, **kw)  # type: ignore[arg-type]


def run(
    r: Rule, values: list[float | None], start: float = 1000.0
) -> tuple[list[str], list[tuple[str, str]], dict[str, AlertState]]:
    """Evaluate one label set every STEP seconds; ``None`` means no sample at all."""
    states: dict[str, AlertState] = {}
    seen, moves = [], []
    for i, v in enumerate(values):
        samples = [] if v is None else [Sample({"service": "fraud"}, v)]
        result = evaluate(r, states, samples, start + i * STEP)
        states = result.states
        moves += [(t.from_state, t.to_state) for t in result.transitions]
        seen.append(next(iter(states.values())).state if states else "inactive")
    return seen, moves, states


HIGH, LOW = 0.2, 0.01


def test_fires_only_after_the_condition_held_for_the_for_duration() -> None:
    seen, moves, _ = run(rule(for_=45.0), [HIGH, HIGH, HIGH, HIGH, HIGH])
    # 0 s pending, 15 s, 30 s still pending, 45 s: held for 45 s -> firing
    assert seen == ["pending", "pending", "pending", "firing", "firing"]
    assert moves == [("inactive", "pending"), ("pending", "firing")]


def test_without_for_it_fires_at_once_and_resolves_when_the_condition_stops() -> None:
    seen, moves, states = run(rule(), [HIGH, HIGH, LOW])
    assert seen == ["firing", "firing", "resolved"]
    assert moves == [("inactive", "firing"), ("firing", "resolved")]
    (state,) = states.values()
    assert (state.fired_at, state.resolved_at) == (1000.0, 1030.0)


def test_keep_firing_for_outlives_the_condition_then_resolves() -> None:
    seen, _, _ = run(rule(keep=30.0), [HIGH, LOW, LOW, LOW])
    # false since 1015: still firing at 1015 and 1030 (< 30 s), resolved at 1045
    assert seen == ["firing", "firing", "firing", "resolved"]


def test_flapping_during_pending_never_fires() -> None:
    seen, moves, _ = run(rule(for_=30.0), [HIGH, HIGH, LOW, HIGH, HIGH, LOW, HIGH])
    assert "firing" not in seen
    assert moves.count(("inactive", "pending")) == 3


def test_flapping_while_firing_is_absorbed_by_keep_firing_for() -> None:
    seen, moves, _ = run(rule(keep=60.0), [HIGH, LOW, HIGH, LOW, LOW, HIGH, LOW])
    assert seen == ["firing"] * 7
    assert moves == [("inactive", "firing")]


def test_no_data_counts_as_the_condition_not_holding() -> None:
    seen, _, _ = run(rule(for_=15.0), [HIGH, HIGH, None, None])
    assert seen == ["pending", "firing", "resolved", "resolved"]


def test_a_new_episode_gets_a_new_id_and_the_value_and_annotations_follow() -> None:
    r = rule(annotations={"summary": "{service}: {value:.0%} fail (limit {threshold:.0%})"})
    first = evaluate(r, {}, [Sample({"service": "fraud"}, 0.2)], 0.0)
    (a,) = first.states.values()
    assert a.annotations["summary"] == "fraud: 20% fail (limit 5%)"
    assert a.labels == {"service": "fraud", "alertname": "HighErrorRate", "severity": "warning"}
    assert a.fingerprint == fingerprint(a.labels)
    again = evaluate(r, first.states, [Sample({"service": "fraud"}, 0.3)], 15.0)
    assert again.states[a.fingerprint].annotations["summary"] == "fraud: 30% fail (limit 5%)"
    gone = evaluate(r, again.states, [], 30.0)
    back = evaluate(r, gone.states, [Sample({"service": "fraud"}, 0.3)], 45.0)
    assert back.states[a.fingerprint].alert_id != a.alert_id
    assert back.states[a.fingerprint].state == "firing"


def test_resolved_alerts_are_kept_for_a_while_then_dropped() -> None:
    first = evaluate(rule(), {}, [Sample({"service": "x"}, 1.0)], 0.0)
    resolved = evaluate(rule(), first.states, [], 10.0)
    kept = evaluate(rule(), resolved.states, [], 10.0 + RESOLVED_RETENTION - 1)
    assert [s.state for s in kept.states.values()] == ["resolved"]
    assert evaluate(rule(), kept.states, [], 10.0 + RESOLVED_RETENTION).states == {}


def test_two_samples_with_one_label_set_are_an_error() -> None:
    with pytest.raises(InputError, match="HighErrorRate"):
        evaluate(rule(), {}, [Sample({"a": "1"}, 1.0), Sample({"a": "1"}, 2.0)], 0.0)


def test_samples_may_override_the_comparison() -> None:
    r = rule()
    held = evaluate(r, {}, [Sample({"s": "a"}, 0.0, holds=True)], 0.0)
    assert [s.state for s in held.states.values()] == ["firing"]
    not_held = evaluate(r, {}, [Sample({"s": "a"}, 99.0, holds=False)], 0.0)
    assert not_held.states == {}


def test_rule_labels_override_sample_labels_and_alertname_is_the_rule() -> None:
    r = rule(labels={"team": "risk", "service": "from-rule"}, severity="critical")
    result = evaluate(r, {}, [Sample({"service": "fraud", "team": "x"}, 1.0)], 0.0)
    (a,) = result.states.values()
    assert dict(a.labels) == {
        "service": "from-rule",
        "team": "risk",
        "alertname": "HighErrorRate",
        "severity": "critical",
    }


def test_retiring_a_removed_rule_resolves_its_firing_alerts() -> None:
    fired = evaluate(rule(), {}, [Sample({"s": "a"}, 1.0)], 0.0).states
    result = retire(fired, 100.0)
    assert [s.state for s in result.states.values()] == ["resolved"]
    assert [(t.from_state, t.to_state) for t in result.transitions] == [("firing", "resolved")]


def reference(holds: list[bool], for_: float, keep: float) -> list[str]:
    """Prometheus' documented alert lifecycle, written out step by step."""
    state, active_at, false_since, resolved_at = "inactive", 0.0, None, 0.0
    out = []
    for i, h in enumerate(holds):
        t = i * STEP
        if h:
            false_since = None
            if state in ("inactive", "resolved"):
                active_at = t
                state = "firing" if for_ <= 0 else "pending"
            elif state == "pending" and t - active_at >= for_:
                state = "firing"
        elif state == "pending":
            state = "inactive"
        elif state == "firing":
            false_since = t if false_since is None else false_since
            if t - false_since >= keep:
                state, resolved_at = "resolved", t
        elif state == "resolved" and t - resolved_at >= RESOLVED_RETENTION:
            state = "inactive"
        out.append(state)
    return out


@settings(max_examples=300, deadline=None)
@given(
    holds=st.lists(st.booleans(), min_size=1, max_size=90),
    for_steps=st.integers(0, 6),
    keep_steps=st.integers(0, 6),
)
def test_matches_the_reference_lifecycle(
    holds: list[bool], for_steps: int, keep_steps: int
) -> None:
    r = rule(for_=for_steps * STEP, keep=keep_steps * STEP)
    seen, moves, _ = run(r, [HIGH if h else LOW for h in holds], start=0.0)
    assert seen == reference(holds, for_steps * STEP, keep_steps * STEP)
    # Every firing episode began with exactly one transition into firing.
    assert moves.count(("pending", "firing")) + moves.count(("inactive", "firing")) == sum(
        1
        for a, b in zip(["inactive", *seen], seen, strict=False)
        if b == "firing" and a != "firing"
    )
