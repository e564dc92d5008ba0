"""Each rule kind through the evaluator over a real store, with an injected clock.

For every kind, data that makes the condition hold ("bad") or not ("good") is written
before each evaluation, following a pattern that fires after ``for``, keeps firing through
a short recovery, flaps and resolves; the states must follow the reference lifecycle.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlvitals.alerts.config import RuleSet, default_rules
from mlvitals.alerts.rules import (
    AbsenceSpec,
    AvailabilitySpec,
    BudgetSpec,
    BurnRateSpec,
    BurnWindow,
    Condition,
    EnvironmentSpec,
    PipelineSpec,
    Rule,
    Selector,
    ServingSpec,
    Spec,
)
from mlvitals.server.alerts.evaluator import Evaluator
from mlvitals.server.alerts.persistence import load_states
from mlvitals.server.areas import SIGNALS
from mlvitals.server.serving.queries import instances, services_health
from mlvitals.store import Store
from tests.alerts.helpers import T0, window_row
from tests.alerts.test_evaluate import STEP, reference

Writer = Callable[[Store, float, bool], None]


def _window(store: Store, t: float, bad: bool, *, errors: int = 0, latency: float = 0.05) -> None:
    store.insert(
        "serving_windows", [window_row("fraud", "pod-1", t - 10.0, [latency] * 50, errors)]
    )


def error_rate(store: Store, t: float, bad: bool) -> None:
    _window(store, t, bad, errors=10 if bad else 0)


def latency(store: Store, t: float, bad: bool) -> None:
    _window(store, t, bad, latency=2.0 if bad else 0.05)


def instance_sample(
    store: Store, service: str, instance: str, t: float, *, stopped: bool = False
) -> None:
    row = {
        "service": service,
        "version": "1",
        "instance": instance,
        "time": t,
        "gpus": "[]",
        "batch_id": "b",
    }
    if stopped:  # a column of its own since the stop record; older rows leave it out
        row["stopped"] = 1
    store.insert("instance_samples", [row])


def absence(store: Store, t: float, bad: bool) -> None:
    if not bad:
        instance_sample(store, "fraud", "pod-1", t - 1.0)


def probe(store: Store, t: float, bad: bool) -> None:
    row = {
        "target": "fraud-api",
        "time": t - 5.0,
        "ok": int(not bad),
        "status": 503 if bad else 200,
    }
    store.insert(
        "probe_results", [row | {"latency_seconds": 0.01, "error": "HTTP 503" if bad else None}]
    )


def run_events(
    store: Store, run_id: str, t: float, state: str, *, env: str | None = None, **extra: Any
) -> None:
    base = {
        "run_id": run_id,
        "pipeline": "etl",
        "namespace": "default",
        "source": "sdk",
        "batch_id": "b",
    }
    rows = [base | {"event": "start", "time": t - 5.0, "environment_hash": env} | extra]
    if state != "running":
        event = {"succeeded": "complete", "failed": "fail"}[state]
        rows.append(
            base
            | {
                "event": event,
                "time": t - 1.0,
                "error_type": "KeyError" if state == "failed" else None,
            }
        )
    for row in rows:
        store.insert("run_events", [row])


def run_failed(store: Store, t: float, bad: bool) -> None:
    run_events(store, f"run-{t:.0f}", t, "failed" if bad else "succeeded")


def environment(hash_: str, numpy_version: str) -> dict[str, Any]:
    packages = json.dumps({"numpy": numpy_version, "pandas": "2.2.0"})
    return {
        "hash": hash_,
        "python": "3.11.7",
        "implementation": "cpython",
        "platform": "Linux",
        "packages": packages,
        "batch_id": "b",
    }


class EnvFlipper:
    """Each bad step runs with a new numpy version; a good step reuses the last one."""

    def __init__(self) -> None:
        self.version = 0

    def __call__(self, store: Store, t: float, bad: bool) -> None:
        if bad or self.version == 0:
            self.version += 1
            store.insert("environments", [environment(f"env{self.version}", f"1.{self.version}.0")])
        run_events(store, f"run-{t:.0f}", t, "succeeded", env=f"env{self.version}")


KINDS: dict[str, tuple[Spec, Callable[[], Writer]]] = {
    "error_rate": (
        ServingSpec("error_rate", Condition(">", 0.05), window=STEP),
        lambda: error_rate,
    ),
    "latency_p99": (ServingSpec("latency_p99", Condition(">", 1.0), window=STEP), lambda: latency),
    "absence": (AbsenceSpec(10.0), lambda: absence),
    "availability": (AvailabilitySpec(0.5, window=STEP), lambda: probe),
    "burn_rate": (BurnRateSpec(0.99, (BurnWindow(STEP, 10.0, 14.4),)), lambda: error_rate),
    "pipeline_failed": (PipelineSpec("failed"), lambda: run_failed),
    "environment_changed": (EnvironmentSpec(), EnvFlipper),
}
PATTERN = [False, True, True, True, True, False, True, False, False, False, True, False, False]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_follows_the_alert_lifecycle(store: Store, kind: str) -> None:
    spec, writer_factory = KINDS[kind]
    write = writer_factory()
    for_, keep = 2 * STEP, 1 * STEP
    rule = Rule("R", spec, for_=for_, keep_firing_for=keep)
    evaluator = Evaluator(store, RuleSet((rule,)))
    if kind == "absence":
        instance_sample(store, "fraud", "pod-1", T0 - 20.0)
    seen = []
    for k, bad in enumerate(PATTERN):
        t = T0 + k * STEP
        write(store, t, bad)
        report = evaluator.run_once(t)
        assert report.errors == {}
        states = list(load_states(store).get("R", {}).values())
        assert len(states) <= 1
        seen.append(states[0].state if states else "inactive")
    expected = reference(PATTERN, for_, keep)
    assert "firing" in expected and "resolved" in expected
    assert seen == expected


def sample_values(store: Store, rule: Rule, now: float) -> dict[tuple[tuple[str, str], ...], float]:
    return {tuple(sorted(s.labels.items())): s.value for s in SIGNALS[rule.kind](store, rule, now)}


def test_serving_values_equal_hand_computed_figures(store: Store) -> None:
    rng = np.random.default_rng(3)
    rows, everything = [], []
    for k in range(6):  # one minute of windows, two instances
        for i, pod in enumerate(("pod-a", "pod-b")):
            lat = rng.lognormal(-3 + i, 0.5, 200)
            everything.append(lat)
            rows.append(window_row("fraud", pod, T0 + 10 * k, lat, errors=k + i))
    store.insert("serving_windows", rows)
    now = T0 + 60.0
    rate = Rule("E", ServingSpec("error_rate", Condition(">", 0.0), window=60.0))
    assert sample_values(store, rate, now) == {
        (("service", "fraud"),): pytest.approx(
            sum(k + i for k in range(6) for i in range(2)) / 2400
        )
    }
    per_pod = Rule(
        "E", ServingSpec("error_rate", Condition(">", 0.0), window=60.0, group_by=("instance",))
    )
    assert sample_values(store, per_pod, now) == {
        (("instance", "pod-a"), ("service", "fraud")): pytest.approx(15 / 1200),
        (("instance", "pod-b"), ("service", "fraud")): pytest.approx(21 / 1200),
    }
    p99 = Rule("L", ServingSpec("latency_p99", Condition(">", 0.0), window=60.0))
    (value,) = sample_values(store, p99, now).values()
    ordered = np.sort(np.concatenate(everything))
    rank = 0.99 * (len(ordered) - 1)
    lo, hi = ordered[int(np.floor(rank))], ordered[int(np.ceil(rank))]
    assert lo * 0.99 <= value <= hi * 1.01  # the sketch's 1% relative error bound
    cps = Rule("C", ServingSpec("calls_per_second", Condition(">", 0.0), window=60.0))
    assert sample_values(store, cps, now) == {(("service", "fraud"),): pytest.approx(2400 / 60)}
    few = Rule("F", ServingSpec("error_rate", Condition(">", 0.0), window=60.0, min_calls=5000))
    assert sample_values(store, few, now) == {}
    other = Rule("O", ServingSpec("error_rate", Condition(">", 0.0), 60.0, Selector("other")))
    assert sample_values(store, other, now) == {}


def test_burn_rate_is_the_error_ratio_over_the_budget_in_both_windows(store: Store) -> None:
    # An hour at 0.5% errors, then the last 5 minutes at 20%.
    rows = [window_row("fraud", "pod", T0 + 10 * k, [0.01] * 200, 1) for k in range(330)]
    rows += [window_row("fraud", "pod", T0 + 3300 + 10 * k, [0.01] * 200, 40) for k in range(30)]
    store.insert("serving_windows", rows)
    now = T0 + 3600.0
    spec = BurnRateSpec(0.999, (BurnWindow(3600.0, 300.0, 14.4),))
    (sample,) = SIGNALS["burn_rate"](store, Rule("B", spec), now)
    long_burn = (330 * 1 + 30 * 40) / (360 * 200) / 0.001  # 21.25
    short_burn = 40 / 200 / 0.001  # 200
    assert sample.info["burn_1h"] == pytest.approx(long_burn, rel=1e-3)
    assert sample.info["burn_5m"] == pytest.approx(short_burn, rel=1e-3)
    assert sample.value == pytest.approx(long_burn, rel=1e-3) and sample.holds
    slower = BurnRateSpec(0.999, (BurnWindow(3600.0, 300.0, 25.0),))
    (calm,) = SIGNALS["burn_rate"](store, Rule("B", slower), now)
    assert not calm.holds


def test_absence_per_service_and_per_instance(store: Store) -> None:
    store.insert("serving_windows", [window_row("fraud", "pod-a", T0, [0.1])])  # seen T0 + 10
    instance_sample(store, "fraud", "pod-b", T0 + 50.0)
    instance_sample(store, "old", "pod-z", T0 - 7200.0)
    now = T0 + 100.0
    per_service = Rule("S", AbsenceSpec(30.0, forget_after=3600.0))
    assert sample_values(store, per_service, now) == {(("service", "fraud"),): 50.0}
    per_pod = Rule("I", AbsenceSpec(30.0, group_by=("instance",)))
    assert sample_values(store, per_pod, now) == {
        (("instance", "pod-a"), ("service", "fraud")): 90.0,
        (("instance", "pod-b"), ("service", "fraud")): 50.0,
        (("instance", "pod-z"), ("service", "old")): 7300.0,
    }


def test_a_cleanly_stopped_instance_is_neither_down_nor_counted(store: Store) -> None:
    # pod-a served, then stopped cleanly (a deploy); pod-b went silent without a word (a
    # crash); pod-c stopped and came back under the same name (a restart in place); every
    # instance of "etl" stopped (scaled to zero).
    store.insert("serving_windows", [window_row("fraud", "pod-a", T0, [0.1])])  # seen T0 + 10
    instance_sample(store, "fraud", "pod-a", T0 + 20.0, stopped=True)
    instance_sample(store, "fraud", "pod-b", T0 + 50.0)
    instance_sample(store, "fraud", "pod-c", T0 + 20.0, stopped=True)
    instance_sample(store, "fraud", "pod-c", T0 + 60.0)
    instance_sample(store, "etl", "job-1", T0 + 5.0)
    instance_sample(store, "etl", "job-1", T0 + 15.0, stopped=True)
    now = T0 + 400.0
    per_pod = Rule("I", AbsenceSpec(30.0, group_by=("instance",)))
    assert sample_values(store, per_pod, now) == {
        (("instance", "pod-b"), ("service", "fraud")): 350.0,
        (("instance", "pod-c"), ("service", "fraud")): 340.0,
    }
    per_service = Rule("S", AbsenceSpec(30.0))
    assert sample_values(store, per_service, now) == {(("service", "fraud"),): 340.0}

    health = {h["service"]: h for h in services_health(store, T0 + 65.0, down_after=60.0)}
    assert (health["fraud"]["instances"], health["fraud"]["instances_up"]) == (2, 2)
    assert health["fraud"]["instances_stopped"] == 1
    assert (health["etl"]["instances"], health["etl"]["up"], health["etl"]["stopped"]) == (
        0,
        False,
        True,
    )
    listed = {i["instance"]: i for i in instances(store, "fraud", T0 + 65.0, down_after=60.0)}
    assert [(n, i["up"], i["stopped"]) for n, i in sorted(listed.items())] == [
        ("pod-a", False, True),
        ("pod-b", True, False),
        ("pod-c", True, False),
    ]


def test_availability_counts_checks_in_the_window(store: Store) -> None:
    oks = [1, 1, 0, 1, 0, 1, 1, 1]
    store.insert(
        "probe_results",
        [
            {
                "target": "api",
                "time": T0 + i,
                "ok": ok,
                "status": None,
                "latency_seconds": None,
                "error": None,
            }
            for i, ok in enumerate(oks)
        ],
    )
    rule = Rule("P", AvailabilitySpec(0.9, window=100.0, min_checks=3))
    assert sample_values(store, rule, T0 + 50.0) == {(("target", "api"),): 6 / 8}
    strict = Rule("P", AvailabilitySpec(0.9, window=100.0, min_checks=9))
    assert sample_values(store, strict, T0 + 50.0) == {}


def declare(
    store: Store, schedule: str, grace: float, t: float, max_duration: float | None = None
) -> None:
    store.insert(
        "pipeline_configs",
        [
            {
                "pipeline": "etl",
                "time": t,
                "schedule": schedule,
                "timezone": "UTC",
                "grace_seconds": grace,
                "max_duration_seconds": max_duration,
                "history": 20,
                "batch_id": "b",
            }
        ],
    )


HOUR = 3600.0
H0 = 480_000 * HOUR  # on an hour boundary


def test_late_start_then_missed_run_then_recovery(store: Store) -> None:
    declare(store, "0 * * * *", 300.0, H0 - 10.0)
    run_events(store, "r0", H0 + 60.0, "succeeded", scheduled_at=H0)
    late = Rule("Late", PipelineSpec("late"))
    missed = Rule("Missed", PipelineSpec("missed"))
    # 10:00 ran; 11:00 + 6 min without a run: late by 360 s, nothing missed yet.
    now = H0 + HOUR + 360.0
    assert sample_values(store, late, now) == {(("pipeline", "etl"),): 360.0}
    assert sample_values(store, missed, now) == {}
    # 12:10: the 11:00 slot was missed and 12:00 is late.
    now = H0 + 2 * HOUR + 600.0
    assert sample_values(store, missed, now) == {(("pipeline", "etl"),): 1.0}
    assert sample_values(store, late, now) == {(("pipeline", "etl"),): 600.0}
    # The 12:00 run starts: no longer late; the missed 11:00 slot still counts.
    run_events(store, "r2", H0 + 2 * HOUR + 660.0, "running", scheduled_at=H0 + 2 * HOUR)
    now = H0 + 2 * HOUR + 700.0
    assert sample_values(store, late, now) == {}
    assert sample_values(store, missed, now) == {}


def test_overdue_run_past_its_declared_maximum(store: Store) -> None:
    declare(store, "0 * * * *", 300.0, H0 - 10.0, max_duration=600.0)
    run_events(store, "r1", H0 + 5.0, "running", scheduled_at=H0)
    rule = Rule("Overdue", PipelineSpec("overdue"))
    assert sample_values(store, rule, H0 + 500.0) == {}
    (sample,) = SIGNALS["pipeline"](store, rule, H0 + 700.0)
    assert sample.value == pytest.approx(700.0) and sample.info["run_id"] == "r1"


def test_step_anomaly_against_past_good_runs(store: Store) -> None:
    def run_with_step(run_id: str, t: float, seconds: float) -> None:
        run_events(store, run_id, t + seconds + 2, "succeeded")
        base = {"run_id": run_id, "step_id": "s1", "name": "load", "source": "sdk", "batch_id": "b"}
        store.insert(
            "step_events",
            [
                base | {"event": "start", "time": t},
                base | {"event": "complete", "time": t + seconds},
            ],
        )

    for i in range(6):
        run_with_step(f"good{i}", T0 + i * 1000.0, 100.0 + i)
    rule = Rule("Step", PipelineSpec("step_anomaly"))
    assert sample_values(store, rule, T0 + 7000.0) == {}
    run_with_step("slow", T0 + 8000.0, 900.0)
    (sample,) = SIGNALS["pipeline"](store, rule, T0 + 9500.0)
    assert sample.value == 1.0 and sample.info["run_id"] == "slow"
    assert "load duration_seconds 900 is high" in sample.info["details"]


def test_a_two_second_step_taking_four_on_a_busy_machine_raises_nothing(store: Store) -> None:
    def run_with_step(run_id: str, t: float, seconds: float) -> None:
        run_events(store, run_id, t + seconds + 2, "succeeded")
        base = {"run_id": run_id, "step_id": "s1", "name": "load", "source": "sdk", "batch_id": "b"}
        store.insert(
            "step_events",
            [
                base | {"event": "start", "time": t},
                base | {"event": "complete", "time": t + seconds},
            ],
        )

    evaluator = Evaluator(store, default_rule("PipelineStepAnomaly"))
    for i, seconds in enumerate([2.0, 1.9, 2.1, 2.0, 2.05, 1.95]):
        run_with_step(f"good{i}", T0 + i * 100.0, seconds)
    run_with_step("loaded", T0 + 1000.0, 3.7)
    assert evaluator.run_once(T0 + 1100.0).errors == {}
    assert load_states(store).get("PipelineStepAnomaly", {}) == {}
    run_with_step("stuck", T0 + 2000.0, 300.0)  # a real slowdown still shows
    evaluator.run_once(T0 + 2400.0)
    (state,) = load_states(store)["PipelineStepAnomaly"].values()
    assert (
        state.state == "firing"
        and "load duration_seconds 300 is high" in (state.annotations["description"])
    )


def test_budget_forecast_over_the_limit(store: Store, tmp_path: Path) -> None:
    from mlvitals.cost.budgets import Budget
    from mlvitals.server.cost.queries import save_budget
    from mlvitals.server.cost.signals import budget_signal_for
    from tests.cost.conftest import T, seed_instance, seed_windows

    cpu, ram = 0.031611, 0.004237  # the built-in on-demand prices per core-hour, GiB-hour
    seed_instance(store, T, T + 6 * HOUR)  # 2 cores, 4 GiB
    seed_windows(store, T, T + 6 * HOUR)
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text(
        "budgets:\n"
        "  - {name: iris-daily, limit: 1.5, period: daily, scope: service, subject: iris}\n"
    )
    save_budget(store, Budget("roomy", 100.0, "daily"), T)
    signal = budget_signal_for("", str(budgets))
    samples = {s.labels["budget"]: s for s in signal(store, Rule("B", BudgetSpec()), T + 6 * HOUR)}
    spent = 6 * (2 * cpu + 4 * ram)
    forecast = spent * 24 / 6  # linear over the UTC day
    iris = samples["iris-daily"]
    assert iris.labels == {"budget": "iris-daily", "scope": "service", "subject": "iris"}
    assert iris.info["spent"] == pytest.approx(spent, abs=0.01)
    assert iris.value == pytest.approx(forecast / 1.5, rel=1e-3)
    assert Rule("B", BudgetSpec()).spec.condition.holds(iris.value)
    assert samples["roomy"].value == pytest.approx(forecast / 100.0, rel=1e-3)
    only = signal(store, Rule("B", BudgetSpec(budget="roomy")), T + 6 * HOUR)
    assert [s.labels["budget"] for s in only] == ["roomy"]


def default_rule(name: str) -> RuleSet:
    """One rule of the default pack, as shipped."""
    return RuleSet(tuple(r for r in default_rules().rules if r.name == name))


def environment_runs(store: Store, runs: list[tuple[str, str]]) -> list[str]:
    """Runs one after the other, each with its numpy version and final state; the
    ``EnvironmentChanged`` state after each, through the evaluator and the default pack."""
    evaluator = Evaluator(store, default_rule("EnvironmentChanged"))
    seen = []
    for k, (numpy_version, state) in enumerate(runs):
        t = T0 + 600.0 * k
        store.insert("environments", [environment(f"env-{numpy_version}", numpy_version)])
        run_events(store, f"run{k}", t, state, env=f"env-{numpy_version}")
        assert evaluator.run_once(t).errors == {}
        states = list(load_states(store).get("EnvironmentChanged", {}).values())
        seen.append(states[0].state if states else "inactive")
    return seen


def test_environment_change_resolves_on_a_rollback_to_the_last_good_environment(
    store: Store,
) -> None:
    # 1.26 works; the upgrade to 2.0 fails twice; the rollback to 1.26 succeeds.
    runs = [("1.26", "succeeded"), ("2.0", "failed"), ("2.0", "failed"), ("1.26", "succeeded")]
    assert environment_runs(store, runs) == ["inactive", "firing", "firing", "resolved"]


def test_environment_change_resolves_after_the_next_good_run(store: Store) -> None:
    # The upgrade works: the run after it, in the same environment, resolves the alert.
    runs = [("1.26", "succeeded"), ("2.0", "succeeded"), ("2.0", "succeeded")]
    assert environment_runs(store, runs) == ["inactive", "firing", "resolved"]


def test_environment_change_is_described_against_the_last_good_run(store: Store) -> None:
    runs = [("1.26", "succeeded"), ("2.0", "failed"), ("2.1", "failed")]
    environment_runs(store, runs)
    (state,) = load_states(store)["EnvironmentChanged"].values()
    assert state.state == "firing"
    assert "run2" in state.annotations["summary"]
    assert "numpy 1.26 -> 2.1" in state.annotations["description"]
