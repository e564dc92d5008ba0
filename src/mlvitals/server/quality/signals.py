"""Signals of data quality, over the latest stored check of each dataset.

- ``check_failed``: the latest check failed (a validation check failed, or the dataset
  drifted): value 1; a dataset whose latest check passed gives 0, so its alert resolves as
  soon as a passing check arrives. ``failed`` says what failed: each failed validation check
  with its columns, and the drifted columns;
- ``drift``: the share of drifted columns in the latest check, or with ``column`` that
  column's drift (its effect size, else its test statistic;
  :func:`~mlvitals.server.quality.queries.drift_value`), against the rule's threshold.

A dataset is watched from its first check on; ``dataset`` limits a rule to one.
"""

from __future__ import annotations

from typing import Any

from mlvitals.alerts.rules import CheckSpec, DriftSpec, Rule
from mlvitals.alerts.state import Sample
from mlvitals.server.quality.queries import check_summary, latest_checks
from mlvitals.store import Store

_LISTED = 10


def _names(names: list[str]) -> str:
    more = f" and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
    return ", ".join(names[:_LISTED]) + more if names else "none"


def check_signal(store: Store, rule: Rule, now: float) -> list[Sample]:
    spec = rule.spec
    assert isinstance(spec, CheckSpec)
    samples = []
    for check in latest_checks(store, spec.dataset):
        info = {
            "check_id": check["id"],
            "checked_at": check["time"],
            "failures": check["failure_count"],
            "drifted_share": round(float(check["drifted_share"]), 4),
            "dataset_drift": check["dataset_drift"],
            "reference": check["reference"],
            "failed": "nothing" if check["passed"] else _what_failed(store, check),
        }
        value = 0.0 if check["passed"] else 1.0
        samples.append(Sample({"dataset": check["dataset"]}, value, info=info))
    return samples


def _what_failed(store: Store, check: dict[str, Any]) -> str:
    """``"range (age), categories (plan); 2 of 3 columns drifted (age, income)"``."""
    detail = check_summary(store, check["dataset"], check["id"]) or {"failures": [], "drift": []}
    columns: dict[str, set[str]] = {}
    for failure in detail["failures"]:
        named = columns.setdefault(str(failure.get("check", "check")), set())
        if failure.get("column"):
            named.add(str(failure["column"]))
    parts = []
    if columns:
        parts.append(
            ", ".join(
                f"{name} ({', '.join(sorted(cols))})" if cols else name
                for name, cols in sorted(columns.items())
            )
        )
    elif check["failure_count"]:  # the stored document left the failures out
        parts.append(f"{check['failure_count']} validation check(s)")
    if check["dataset_drift"]:
        drifted = sorted(d["column"] for d in detail["drift"] if d["drifted"])
        parts.append(
            f"{check['columns_drifted']} of {check['columns_tested']} columns drifted"
            f" ({_names(drifted)})"
        )
    return "; ".join(parts) or "the check did not pass"


def drift_signal(store: Store, rule: Rule, now: float) -> list[Sample]:
    spec = rule.spec
    assert isinstance(spec, DriftSpec)
    samples = []
    for check in latest_checks(store, spec.dataset):
        dataset = check["dataset"]
        info = {"check_id": check["id"], "checked_at": check["time"]}
        if spec.column is None:
            detail = check_summary(store, dataset, check["id"]) or {"drift": []}
            drifted = [d["column"] for d in detail["drift"] if d["drifted"]]
            info |= {"columns": _names(drifted), "drifted": len(drifted)}
            samples.append(Sample({"dataset": dataset}, float(check["drifted_share"]), info=info))
            continue
        detail = check_summary(store, dataset, check["id"]) or {"drift": []}
        column = next((d for d in detail["drift"] if d["column"] == spec.column), None)
        if column is None or column["value"] is None:
            continue  # not in this dataset, or not tested: no data
        info |= {
            "method": column["method"],
            "p_value": column["p_adjusted"] if column["p_adjusted"] is not None else "none",
            "drifted": column["drifted"],
        }
        labels = {"dataset": dataset, "column": spec.column}
        samples.append(Sample(labels, float(column["value"]), info=info))
    return samples
