"""``check_failed`` and ``drift`` alert rules over stored checks, through the evaluator with
an injected clock: they fire after ``for``, keep firing through ``keep_firing_for`` and
resolve, following the reference lifecycle of tests/alerts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mlvitals.alerts.config import RuleSet, default_rules
from mlvitals.alerts.rules import CheckSpec, DriftSpec, Rule, Spec
from mlvitals.server.alerts.evaluator import Evaluator
from mlvitals.server.alerts.persistence import load_states
from mlvitals.server.areas import SIGNALS
from mlvitals.store import Store
from tests.alerts.test_evaluate import STEP, reference
from tests.quality_server.helpers import T0, ingest, record, results

PATTERN = [False, True, True, True, True, False, True, False, False, False, True, False, False]
Writer = Callable[[Store, float, bool], None]


def failing(store: Store, t: float, bad: bool) -> None:
    ingest(store, [record("bad" if bad else "good", time=t - 1.0)])


def drifting(store: Store, t: float, bad: bool) -> None:
    ingest(store, [record("drift" if bad else "good", time=t - 1.0)])


KINDS: dict[str, tuple[Spec, Writer]] = {
    "check_failed": (CheckSpec(), failing),
    "check_failed_one_dataset": (CheckSpec("features"), failing),
    "drift_share": (DriftSpec(0.3), drifting),
    "drift_column": (DriftSpec(0.5, column="income"), drifting),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_quality_rules_follow_the_alert_lifecycle(store: Store, kind: str) -> None:
    spec, write = KINDS[kind]
    for_, keep = 2 * STEP, 1 * STEP
    evaluator = Evaluator(store, RuleSet((Rule("R", spec, for_=for_, keep_firing_for=keep),)))
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


def _samples(store: Store, spec: Spec) -> dict[tuple[tuple[str, str], ...], float]:
    rule = Rule("R", spec)
    return {
        tuple(sorted(s.labels.items())): s.value for s in SIGNALS[rule.kind](store, rule, T0 + 100)
    }


def test_values_come_from_each_datasets_latest_check(store: Store) -> None:
    ingest(store, [record("bad", dataset="orders", time=T0)])
    ingest(store, [record("good", dataset="orders", time=T0 + 10)])  # fixed since
    ingest(store, [record("good", dataset="features", time=T0)])
    ingest(store, [record("drift", dataset="features", time=T0 + 10)])
    assert _samples(store, CheckSpec()) == {
        (("dataset", "features"),): 1.0,
        (("dataset", "orders"),): 0.0,
    }
    assert _samples(store, CheckSpec("orders")) == {(("dataset", "orders"),): 0.0}
    drifted = results()["drift"].drift
    assert _samples(store, DriftSpec(0.3)) == {
        (("dataset", "features"),): pytest.approx(drifted.drifted_share),
        (("dataset", "orders"),): 0.0,
    }
    income = drifted.column("income")
    assert _samples(store, DriftSpec(0.5, "features", "income")) == {
        (("column", "income"), ("dataset", "features")): pytest.approx(income.effect_size)
    }
    # A column the dataset does not have gives no data, not an error.
    assert _samples(store, DriftSpec(0.5, column="missing")) == {}
    assert _samples(store, CheckSpec("unknown")) == {}


def test_the_alert_tells_which_columns_drifted(store: Store) -> None:
    rec = record("drift", time=T0)
    ingest(store, [rec])
    (sample,) = SIGNALS["drift"](store, Rule("R", DriftSpec(0.3)), T0 + 1)
    assert sample.info["columns"] == "income" and sample.info["drifted"] == 1
    assert sample.info["check_id"] == rec["id"]
    (failed,) = SIGNALS["check_failed"](store, Rule("R", CheckSpec()), T0 + 1)
    assert failed.info["failures"] == len(results()["drift"].failures)
    assert failed.info["dataset_drift"] is results()["drift"].drift.dataset_drift


def test_a_failed_check_says_what_failed(store: Store) -> None:
    pack = RuleSet(tuple(r for r in default_rules().rules if r.name == "DataCheckFailed"))
    ingest(store, [record("shifted", dataset="features", time=T0)])
    ingest(store, [record("bad", dataset="orders", time=T0)])
    assert Evaluator(store, pack).run_once(T0 + 1).errors == {}
    alerts = {a.labels["dataset"]: a for a in load_states(store)["DataCheckFailed"].values()}
    assert {d: a.state for d, a in alerts.items()} == {"features": "firing", "orders": "firing"}

    # Drift alone: no validation check failed, most columns drifted.
    shifted = results()["shifted"]
    assert shifted.failures == () and shifted.drift.dataset_drift
    drifted = sorted(c.column for c in shifted.drift.columns if c.drifted)
    assert len(drifted) >= 2
    tested = sum(1 for c in shifted.drift.columns if not c.skipped)
    assert alerts["features"].annotations["summary"] == (
        f"dataset features: the latest check failed: {len(drifted)} of {tested} columns"
        f" drifted ({', '.join(drifted)})"
    )
    # Validation alone: each failed check with its column.
    bad = results()["bad"]
    assert not bad.drift.dataset_drift and len(bad.failures) == 2
    named = ", ".join(sorted(f"{f.check} ({f.column})" for f in bad.failures))
    assert alerts["orders"].annotations["summary"] == (
        f"dataset orders: the latest check failed: {named}"
    )
