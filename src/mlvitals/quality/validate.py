"""Validation of data against a :class:`Schema`, batch by batch, in the profiling pass.

Column-set and type checks are decided from the data's Arrow schema before the first batch;
value checks (nulls, NaN/inf, ranges, categories) count offending values per batch from the
same converted parts the profiler reads, keeping the first few offending rows as samples; row
counts and duplicates are decided at the end.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from mlvitals.numbers import format_number
from mlvitals.quality.columns import kind_of, logical_type, types_compatible
from mlvitals.quality.duplicates import Duplicates
from mlvitals.quality.failures import SAMPLE_SIZE, Failure, OffendingValue
from mlvitals.quality.parts import CategoricalPart, NumericPart, OtherPart, Part, all_whole
from mlvitals.quality.sampling import allowed_count
from mlvitals.quality.schema import ColumnSchema, Schema


def _pct(x: float) -> str:
    return format_number(x, unit="%", digits=3)


def _beyond(fails: bool, limit: float, rows: int) -> str:
    """How a count compares with what sampling explains at the limit share."""
    if limit <= 0:
        return "none allowed"
    allowed = allowed_count(limit, rows)
    where = "over" if fails else "within"
    return (
        f"{where} the {format_number(allowed)} that a share of {_pct(limit)} explains in "
        f"{format_number(rows)} rows"
    )


def _values(n: int, what: str = "value") -> str:
    """``1 value is`` / ``3 values are``."""
    return f"{n} {what} is" if n == 1 else f"{format_number(n)} {what}s are"


def _plain(value: Any) -> Any:
    """A sample value as plain JSON-able data."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


class _Counter:
    """A count of offending values and the first few of them."""

    __slots__ = ("count", "samples")

    def __init__(self) -> None:
        self.count = 0
        self.samples: list[OffendingValue] = []

    def add(self, count: int, rows: np.ndarray | None, values: Any, offset: int) -> None:
        self.count += count
        if count and rows is not None and len(self.samples) < SAMPLE_SIZE:
            take = SAMPLE_SIZE - len(self.samples)
            for r, v in zip(rows[:take].tolist(), list(values[:take]), strict=False):
                self.samples.append(OffendingValue(offset + int(r), _plain(v)))


class _ColumnValidator:
    __slots__ = (
        "categories",
        "check_values",
        "data_type",
        "fractions",
        "nonfinite",
        "nulls",
        "out_of_range",
        "rows",
        "rule",
        "unknown",
    )

    def __init__(self, rule: ColumnSchema, check_values: bool, data_type: str = "") -> None:
        self.rule = rule
        self.check_values = check_values
        self.rows = 0
        # A float column checked against an integer schema: its values must be whole.
        self.data_type = data_type
        self.fractions: _Counter | None = _Counter() if data_type else None
        self.nulls = _Counter()
        self.nonfinite = _Counter()
        self.unknown = _Counter()
        self.categories = set(rule.categories) if rule.categories is not None else None
        self.out_of_range = _Counter()

    def update(self, part: Part, arr: pa.Array) -> None:
        self.rows += part.rows
        if part.nulls:
            rows = None
            if len(self.nulls.samples) < SAMPLE_SIZE:
                rows = np.flatnonzero(np.asarray(arr.is_null().to_numpy(zero_copy_only=False)))
            self.nulls.add(part.nulls, rows, [None] * SAMPLE_SIZE, part.offset)
        if not self.check_values:
            return
        if isinstance(part, NumericPart):
            self._numeric(part)
        elif isinstance(part, CategoricalPart) and self.categories is not None:
            self._categories(part)

    def _numeric(self, part: NumericPart) -> None:
        if self.fractions is not None and not all_whole(part.finite):
            where = part.fraction_rows()
            self.fractions.add(where.size, where, part.values[where[:SAMPLE_SIZE]], part.offset)
        bad = part.nan + part.inf
        if bad:
            where = part.nonfinite_rows()
            self.nonfinite.add(bad, where, part.values[where[:SAMPLE_SIZE]], part.offset)
        low, high = self.rule.min, self.rule.max
        if low is None and high is None:
            return
        count = _out_of_range(part, low, high)
        if count:
            rows: np.ndarray | None = None
            if len(self.out_of_range.samples) < SAMPLE_SIZE:
                v = part.values
                with np.errstate(invalid="ignore"):
                    mask = np.zeros(v.size, dtype=bool)
                    if low is not None:
                        mask |= v < low
                    if high is not None:
                        mask |= v > high
                rows = np.flatnonzero(mask)
            values = part.values[rows[:SAMPLE_SIZE]] if rows is not None else []
            self.out_of_range.add(count, rows, values, part.offset)

    def _categories(self, part: CategoricalPart) -> None:
        assert self.categories is not None
        present = part.present()
        names = part.dictionary.take(pa.array(present)).to_pylist()
        unknown = np.array(
            [
                i
                for i, name in zip(present.tolist(), names, strict=True)
                if name not in self.categories
            ],
            dtype=np.int64,
        )
        if unknown.size == 0:
            return
        count = int(part.counts[unknown].sum())
        rows = None
        if len(self.unknown.samples) < SAMPLE_SIZE:
            rows = np.flatnonzero(np.isin(part.indices, unknown))
        values = (
            part.dictionary.take(pa.array(part.indices[rows[:SAMPLE_SIZE]])).to_pylist()
            if rows is not None
            else []
        )
        self.unknown.add(count, rows, values, part.offset)

    def failures(self) -> tuple[list[Failure], list[Failure]]:
        """The failed checks, and the warnings: offending values within the tolerance."""
        out: list[Failure] = []
        rule, name, rows = self.rule, self.rule.name, max(self.rows, 1)
        if self.fractions is not None and self.fractions.count:
            out.append(
                Failure(
                    "type",
                    name,
                    f"column {name!r} is float ({self.data_type}) and "
                    f"{_values(self.fractions.count)} not whole numbers, expected integer",
                    observed="float",
                    limit=rule.type,
                    count=self.fractions.count,
                    samples=tuple(self.fractions.samples),
                )
            )
        share = self.nulls.count / rows
        if share > rule.max_null_share:
            out.append(
                Failure(
                    "nulls",
                    name,
                    f"{format_number(self.nulls.count)} of {format_number(self.rows)} values "
                    f"null ({_pct(share)}), over "
                    f"the limit of {_pct(rule.max_null_share)}",
                    observed=share,
                    limit=rule.max_null_share,
                    count=self.nulls.count,
                    samples=tuple(self.nulls.samples),
                )
            )
        if self.nonfinite.count:
            out.append(
                Failure(
                    "non_finite",
                    name,
                    f"{_values(self.nonfinite.count)} NaN or infinite; store missing values "
                    "as nulls and keep numbers finite",
                    observed=self.nonfinite.count / rows,
                    limit=0.0,
                    count=self.nonfinite.count,
                    samples=tuple(self.nonfinite.samples),
                )
            )
        warnings: list[Failure] = []
        count = self.out_of_range.count
        if count:
            share = count / rows
            limit = rule.max_out_of_range_share
            fails = count > allowed_count(limit, self.rows)
            bounds = f"[{format_number(rule.min, digits=6)}, {format_number(rule.max, digits=6)}]"
            what = f"{_values(count)} outside {bounds} ({_pct(share)})"
            (out if fails else warnings).append(
                Failure(
                    "range",
                    name,
                    f"{what}, {_beyond(fails, limit, self.rows)}",
                    observed=share,
                    limit=limit,
                    count=count,
                    samples=tuple(self.out_of_range.samples),
                )
            )
        count = self.unknown.count
        if count:
            share = count / rows
            limit = rule.max_unknown_share
            fails = count > allowed_count(limit, self.rows)
            (out if fails else warnings).append(
                Failure(
                    "categories",
                    name,
                    f"{_values(count)} not among the {len(rule.categories or ())} known "
                    f"categories ({_pct(share)}), {_beyond(fails, limit, self.rows)}",
                    observed=share,
                    limit=limit,
                    count=count,
                    samples=tuple(self.unknown.samples),
                )
            )
        return out, warnings


class Validator:
    """Checks data with Arrow schema ``data_schema`` against ``schema``, batch by batch."""

    def __init__(self, schema: Schema, data_schema: pa.Schema) -> None:
        self.schema = schema
        self.static: list[Failure] = []
        self.columns: dict[str, _ColumnValidator] = {}
        present = set(data_schema.names)
        ignored = set(schema.ignore)
        for rule in schema.columns:
            if rule.name in ignored:
                continue
            if rule.name not in present:
                if rule.required:
                    self.static.append(
                        Failure(
                            "missing_column",
                            rule.name,
                            f"required column {rule.name!r} is missing",
                        )
                    )
                continue
            t = data_schema.field(rule.name).type
            actual = logical_type(t)
            ok = types_compatible(rule.type, actual)
            if not ok and rule.type == "integer" and actual == "float":
                # Integers stored as floats (pandas does so for a column with a missing
                # value): the values decide, batch by batch.
                self.columns[rule.name] = _ColumnValidator(rule, True, str(t))
                continue
            if not ok:
                self.static.append(
                    Failure(
                        "type",
                        rule.name,
                        f"column {rule.name!r} is {actual} ({t}), expected {rule.type}",
                        observed=actual,
                        limit=rule.type,
                    )
                )
            self.columns[rule.name] = _ColumnValidator(rule, ok)
        if not schema.allow_extra_columns:
            for name in data_schema.names:
                if schema.get(name) is None and name not in ignored:
                    kind = kind_of(data_schema.field(name).type)
                    self.static.append(
                        Failure(
                            "extra_column",
                            name,
                            f"column {name!r} ({kind}) is not in the schema (or the reference)",
                        )
                    )

    def update(self, parts: Mapping[str, Part], batch: pa.RecordBatch) -> None:
        for name, validator in self.columns.items():
            part = parts[name]
            if isinstance(part, OtherPart) and not part.nulls:
                validator.rows += part.rows
                continue
            validator.update(part, batch.column(name))

    def finish(
        self, rows: int, duplicates: Duplicates | None
    ) -> tuple[tuple[Failure, ...], tuple[Failure, ...]]:
        """The failed checks and the warnings (offending values within a tolerance)."""
        out: list[Failure] = []
        warnings: list[Failure] = []
        s = self.schema
        if s.min_rows is not None and rows < s.min_rows:
            out.append(
                Failure(
                    "rows",
                    None,
                    f"{rows} rows, fewer than the minimum of {s.min_rows}",
                    observed=rows,
                    limit=s.min_rows,
                )
            )
        if s.max_rows is not None and rows > s.max_rows:
            out.append(
                Failure(
                    "rows",
                    None,
                    f"{rows} rows, more than the maximum of {s.max_rows}",
                    observed=rows,
                    limit=s.max_rows,
                )
            )
        out.extend(self.static)
        for validator in self.columns.values():
            failed, warned = validator.failures()
            out.extend(failed)
            warnings.extend(warned)
        limit = s.max_duplicate_share
        if limit is not None and duplicates is not None and duplicates.share > limit:
            out.append(
                Failure(
                    "duplicates",
                    None,
                    f"{duplicates.count} rows ({_pct(duplicates.share)}) repeat an "
                    f"earlier row, over the limit of {_pct(limit)}",
                    observed=duplicates.share,
                    limit=limit,
                    count=duplicates.count,
                    samples=duplicates.samples,
                )
            )
        return tuple(out), tuple(warnings)


def _out_of_range(part: NumericPart, low: float | None, high: float | None) -> int:
    """How many finite values lie below ``low`` or above ``high`` (without sorting them)."""
    f = part.finite
    if f.size == 0:
        return 0
    count = 0
    if low is not None and float(f.min()) < low:
        count += int(np.count_nonzero(f < low))
    if high is not None and float(f.max()) > high:
        count += int(np.count_nonzero(f > high))
    return count
