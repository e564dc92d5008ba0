"""Identifier columns (IDs, UUIDs, timestamp keys) are recognised and kept out of range and
drift checks; any column can be ignored by name."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlvitals.errors import ConfigError
from mlvitals.quality import check, infer_schema, profile


def _frame(n: int, start: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": np.arange(start, start + n),  # a sequence: the next batch has new ids
            "key": [str(uuid.UUID(int=int(v))) for v in rng.integers(0, 2**62, n)],
            "ts": 1_700_000_000 + start * 60 + np.cumsum(rng.integers(1, 120, n)),  # sorted
            "income": np.round(rng.normal(50_000, 8_000, n)).astype(np.int64),  # not an id
            "score": rng.random(n),
            "plan": rng.choice(["free", "pro"], n),
        }
    )


def test_identifiers_are_detected_and_left_out_of_range_and_drift() -> None:
    rng = np.random.default_rng(41)
    ref, cur = _frame(3_000, 0, rng), _frame(3_000, 3_000, rng)
    schema = infer_schema(profile(ref))
    assert [c.name for c in schema.columns if c.identifier] == ["id", "key", "ts"]
    assert schema.column("id").min is None and schema.column("key").categories is None
    assert schema.column("income").min is not None  # unique-ish numbers that are no ids
    result = check(cur, reference=ref)
    assert result.passed, result.summary()
    for name in ("id", "key", "ts"):
        d = result.drift.column(name)
        assert d.skipped and d.note is not None and "identifier" in d.note
    assert not result.drift.column("score").skipped
    assert "identifiers: id, key, ts" in result.summary()


def test_ignored_columns_are_not_checked_at_all() -> None:
    rng = np.random.default_rng(42)
    ref, cur = _frame(1_000, 0, rng), _frame(1_000, 0, rng)
    ref["junk"] = np.where(rng.random(1_000) < 0.5, np.nan, 1.0)  # not a usable reference
    cur["junk"] = "text"
    cur["score"] = cur["score"] + 5  # drifts, out of range
    result = check(cur, reference=ref, ignore=["junk", "score"])
    assert result.passed, result.summary()
    assert result.drift.column("score").skipped and result.drift.column("score").note == "ignored"
    with pytest.raises(ConfigError, match=r"ignore.*'nope'"):
        check(cur, reference=ref, ignore=["nope"])


def test_cli_ignore_columns(tmp_path: Path) -> None:
    rng = np.random.default_rng(43)
    ref, cur = _frame(1_000, 0, rng), _frame(1_000, 0, rng)
    cur["score"] = cur["score"] + 5
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    args = [sys.executable, "-m", "mlvitals.cli", "check", str(tmp_path / "cur.parquet")]
    args += ["-r", str(tmp_path / "ref.parquet"), "--fail-on", "column-drift"]
    run = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    run = subprocess.run(
        [*args, "--ignore-columns", "score"], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
