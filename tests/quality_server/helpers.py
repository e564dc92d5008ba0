"""Shared test data: real engine results, their records, and storing them the way ingest does."""

from __future__ import annotations

import copy
import functools
import uuid
from typing import Any

import numpy as np
import pandas as pd

from mlvitals.quality import CheckResult, check
from mlvitals.sdk.quality import check_record
from mlvitals.server.ingest import Validated, validate_envelope
from mlvitals.store import BatchResult, Store

T0 = 1_750_000_000.0


def frames(n: int = 1500, shift: float = 0.0, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(current, reference): a numeric, an integer and a categorical column; ``shift``
    moves the current ``income`` by that many standard deviations."""
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame(
        {
            "income": rng.normal(50.0, 10.0, n),
            "age": rng.integers(18, 90, n),
            "plan": rng.choice(["free", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
        }
    )
    rng2 = np.random.default_rng(seed + 1)
    current = pd.DataFrame(
        {
            "income": rng2.normal(50.0 + 10.0 * shift, 10.0, n),
            "age": rng2.integers(18, 90, n),
            "plan": rng2.choice(["free", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
        }
    )
    return current, reference


@functools.cache
def results() -> dict[str, CheckResult]:
    """A passing check, one where income drifted, one that fails validation, and one that
    fails on drift alone (income and age drifted within the reference's ranges)."""
    good_cur, ref = frames()
    drift_cur, _ = frames(shift=1.0)
    bad_cur = good_cur.copy()
    bad_cur.loc[::50, "age"] = 500  # 2% out of the reference's range
    bad_cur.loc[::20, "plan"] = "gold"  # 5 %: more than sampling explains
    rng = np.random.default_rng(5)
    shifted_cur = good_cur.assign(
        income=rng.normal(44.0, 6.0, len(good_cur)), age=rng.integers(18, 60, len(good_cur))
    )
    return {
        "good": check(good_cur, reference=ref),
        "drift": check(drift_cur, reference=ref),
        "bad": check(bad_cur, reference=ref),
        "shifted": check(shifted_cur, reference=ref),
    }


def record(which: str, dataset: str = "features", time: float = T0, **kw: Any) -> dict[str, Any]:
    """A fresh ``check_result`` record (new id) of one of :func:`results`."""
    rec = check_record(results()[which], dataset=dataset, time=time, **kw)
    return copy.deepcopy(rec)


def validate(records: list[dict[str, Any]], received_at: float = T0) -> Validated:
    return validate_envelope({"batch_id": str(uuid.uuid4()), "records": records}, received_at)


def ingest(store: Store, records: list[dict[str, Any]], received_at: float = T0) -> BatchResult:
    """Validate and store ``records`` as ``POST /api/v1/ingest`` does; all must be valid."""
    v = validate(records, received_at)
    assert v.errors == [], v.errors
    return store.write_batch(v.batch)
