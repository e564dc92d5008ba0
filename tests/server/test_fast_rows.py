"""The ingest fast paths agree with the Pydantic models they stand in for.

For any record, a fast path either steps aside (``None``) or gives exactly the row that the
model's validation and ``to_row`` give; and it must not step aside for what the SDK ships.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mlvitals.server.areas import RECORD_KINDS
from tests.records import instance_sample, realistic_records

ODD_VALUES: list[Any] = [
    0,
    1,
    -1,
    7,
    2**70,
    10**400,
    2**63 - 1,
    2**63,
    2**64 - 1,
    -(2**63),
    0.0,
    0.5,
    1.0,
    5.0,
    -0.5,
    1.5,
    86400.0,
    86401,
    math.inf,
    math.nan,
    True,
    False,
    None,
    "",
    "x",
    "5",
    "x" * 200,
    "x" * 201,
    " x",
    "x ",
    "   ",
    "a\x00b",
    "a\nb",
    "\x7f",
    "\u00a0x",
    "inf",
    "NaN",
    [],
    {},
    {"TimeoutError": 2},
    {"": 1},
    {"E": -1},
    {"E": 1.0},
    {"E ": 1},
    {"E\x1b": 1},
    {"A": 2**62, "B": 2**62},
    [{"index": 0}],
    [{"index": 0, "name": None}],
    [{"index": 0, "utilization": 1.5}],
    [{"index": 0, "utilization": 1, "name": "H100", "process_memory_bytes": 5}],
    [{"index": -1}],
    [{"index": 0, "extra": 1}],
    "u4:AQAAAA==",
    "u4:AQAAAAIAAAA=",
    "u4:AQAA",
    "u4:!!!!",
    "u8:AQAAAAAAAAA=",
    [1, 2],
    0.01,
]


def _row_by_model(kind: str, record: dict[str, Any]) -> dict[str, Any] | None:
    spec = RECORD_KINDS[kind]
    try:
        model = spec.model.model_validate(record)
    except ValidationError:
        return None
    return spec.to_row(model)


def _same(fast: dict[str, Any], slow: dict[str, Any]) -> bool:
    if fast.keys() != slow.keys():
        return False
    for key, value in fast.items():
        other = slow[key]
        if type(value) is not type(other) or value != other:
            return False
    return True


def _bases() -> list[dict[str, Any]]:
    windows = [r for r in realistic_records(40, 3) if r["kind"] == "serving_window"]
    gpu = {"index": 0, "name": "NVIDIA H200", "utilization": 0.5, "process_memory_bytes": 9}
    stopped = {**instance_sample(), "stopped": True}
    return [*windows[:4], instance_sample(), {**instance_sample(), "gpus": [gpu]}, stopped]


BASES = _bases()


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    record = copy.deepcopy(draw(st.sampled_from(BASES)))
    fields = sorted(RECORD_KINDS[record["kind"]].model.model_fields)
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["set", "drop", "extra", "sketch"]))
        field = draw(st.sampled_from([f for f in fields if f != "kind"]))
        if action == "set":
            record[field] = draw(st.sampled_from(ODD_VALUES))
        elif action == "drop":
            record.pop(field, None)
        elif action == "extra":
            record["unexpected"] = 1
        elif record["kind"] == "serving_window":
            sketch = record.get(draw(st.sampled_from(["latency", "cpu"])))
            if isinstance(sketch, dict) and sketch:
                key = draw(st.sampled_from(sorted(sketch)))
                sketch[key] = draw(st.sampled_from(ODD_VALUES))
    return record


@settings(max_examples=1500, deadline=None)
@given(mutated())
def test_a_fast_row_is_the_models_row(record: dict[str, Any]) -> None:
    kind = record["kind"]
    fast_row = RECORD_KINDS[kind].fast_row
    assert fast_row is not None
    fast = fast_row(record)
    if fast is not None:
        slow = _row_by_model(kind, record)
        assert slow is not None, record
        assert _same(fast, slow), (fast, slow)


def test_what_the_sdk_ships_takes_the_fast_path() -> None:
    for record in [*realistic_records(200, 11), *BASES]:
        fast_row = RECORD_KINDS[record["kind"]].fast_row
        assert fast_row is not None
        fast = fast_row(record)
        assert fast is not None, record
        slow = _row_by_model(record["kind"], record)
        assert slow is not None and _same(fast, slow)
