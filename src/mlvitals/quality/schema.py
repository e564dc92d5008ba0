"""Schemas: what the data must look like, inferred from a reference and editable as YAML.

Inference rules (from the reference profile), each one a default a user may edit:

- every reference column is required, with its logical type (``integer``, ``float``,
  ``string``, ``boolean``, ``datetime``, ``date``, ...); integers also pass as ``float``,
  and floats pass as ``integer`` when every value is a whole number (a float column with
  nulls and only whole numbers is profiled as ``integer``: pandas stores such integers so);
- ``max_null_share``: 0 when the reference has no nulls, else its null share plus 0.05;
- numeric columns: ``min`` / ``max`` from the reference, and up to ``max_out_of_range_share``
  = 0.1 % + 10 / (reference rows) of values may fall outside: a new sample of the same data
  lands about 2 / (reference rows + 1) of its values past the reference's extremes;
- string columns with at most 50 distinct values (counted exactly): ``categories``, and
  ``max_unknown_share`` = (f1 + 3 sqrt(f1 + 2 f2) + 3) / (reference rows), with f1 and f2 the
  categories seen once and twice: a bound on the share of categories too rare to be seen;
- shares are population shares: a check fails only above what a sample of its size shows at
  that share (:mod:`mlvitals.quality.sampling`);
- identifiers (IDs, UUIDs, timestamp keys) get no range and no categories, and are not
  tested for drift (:func:`identifier_reason` says how they are recognised);
- extra columns are not allowed; row counts are not limited;
- ``max_duplicate_share``: the reference's share of duplicated rows plus 0.01, when known.

>>> import pyarrow as pa
>>> from mlvitals.quality import profile
>>> s = infer_schema(profile(pa.table({"city": ["a", "b", "a"], "n": [1, 2, 3]})))
>>> s.column("city").categories, s.column("n").min, s.column("n").max
(('a', 'b'), 1.0, 3.0)
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass

from mlvitals.errors import InputError
from mlvitals.quality.columns import ColumnKind
from mlvitals.quality.profiles import ColumnProfile, Profile
from mlvitals.quality.sampling import out_of_range_share, unseen_share

MAX_CATEGORIES = 50
NULL_TOLERANCE = 0.05
DUPLICATE_TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class ColumnSchema:
    name: str
    type: str
    required: bool = True
    max_null_share: float = 0.0
    min: float | None = None
    max: float | None = None
    max_out_of_range_share: float = 0.0
    categories: tuple[str, ...] | None = None
    max_unknown_share: float = 0.0
    identifier: bool = False
    """An ID-like column: no range or categories inferred, not tested for drift."""


@dataclass(frozen=True, slots=True)
class Schema:
    """``ignore`` names columns that are not checked at all (nor reported as extra)."""

    columns: tuple[ColumnSchema, ...]
    allow_extra_columns: bool = False
    min_rows: int | None = None
    max_rows: int | None = None
    max_duplicate_share: float | None = None
    ignore: tuple[str, ...] = ()

    @property
    def identifiers(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.identifier)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnSchema:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def get(self, name: str) -> ColumnSchema | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None


def _ceil(x: float, digits: int = 4) -> float:
    scale = 10**digits
    return float(min(1.0, math.ceil(x * scale - 1e-9) / scale))


IDENTIFIER_MIN_ROWS = 100
IDENTIFIER_UNIQUE_SHARE = 0.9
_UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I)


def identifier_reason(col: ColumnProfile) -> str | None:
    """Why a reference column looks like an identifier, or None. With at least 100 values:

    - strings distinct in at least 90 % of the rows (the distinct count's estimate), or
      whose frequent values all look like UUIDs;
    - numbers distinct in at least 90 % of the rows that arrive sorted (sequence numbers,
      timestamp keys), or whole numbers that are (nearly) consecutive: their range is at
      most twice their count.

    Distinct numbers alone are not enough: a continuous measurement is distinct in every row.

    >>> import pyarrow as pa
    >>> from mlvitals.quality import profile
    >>> p = profile(pa.table({"id": list(range(500)), "x": [float(i % 7) for i in range(500)]}))
    >>> identifier_reason(p.column("id")), identifier_reason(p.column("x"))
    ('distinct in every row and sorted (ascending)', None)
    """
    n = col.valid
    if n < IDENTIFIER_MIN_ROWS:
        return None
    distinct = col.distinct_count or 0.0
    share = min(distinct / n, 1.0)
    every = "every row" if share >= 0.995 else f"{100 * share:.0f}% of the rows"
    unique = share >= IDENTIFIER_UNIQUE_SHARE
    if col.kind is ColumnKind.CATEGORICAL:
        if unique:
            return f"distinct in {every}"
        items = [str(v) for v, _ in col.top.items(limit=20)] if col.top is not None else []
        if distinct > MAX_CATEGORIES and len(items) >= 5 and all(map(_UUID.match, items)):
            return "UUID values"
        return None
    if col.kind is not ColumnKind.NUMERIC or not unique:
        return None
    if col.order is not None:
        return f"distinct in {every} and sorted ({col.order})"
    low, high = col.min, col.max
    dense = low is not None and high is not None and high - low + 1 <= 2 * n
    if col.logical == "integer" and dense:
        return f"distinct in {every}, consecutive whole numbers"
    return None


def infer_column(col: ColumnProfile) -> ColumnSchema:
    """The schema one reference column implies (see the module docstring for the rules)."""
    if col.valid == 0 and col.kind is not ColumnKind.OTHER:
        raise InputError(
            f"column {col.name!r} has no values in the reference (all {col.count} are null"
            f"{' or NaN/inf' if col.nan or col.inf else ''}): drop it, or write its schema by hand"
        )
    null_share = col.nulls / col.count if col.count else 0.0
    max_null = 0.0 if col.nulls == 0 else _ceil(null_share + NULL_TOLERANCE)
    if identifier_reason(col) is not None:
        return ColumnSchema(col.name, col.logical, max_null_share=max_null, identifier=True)
    low = high = None
    out_share = 0.0
    if col.kind is ColumnKind.NUMERIC and col.moments is not None and col.moments.count:
        low, high = col.moments.min, col.moments.max
        out_share = _ceil(out_of_range_share(col.valid))
    categories = None
    unknown_share = 0.0
    if col.kind is ColumnKind.CATEGORICAL and col.top is not None and col.top.exact:
        items = col.top.items()
        if len(items) <= MAX_CATEGORIES:
            categories = tuple(sorted(str(v) for v, _ in items))
            unknown_share = _ceil(unseen_share((c for _, c in items), col.valid))
    return ColumnSchema(
        name=col.name,
        type=col.logical,
        max_null_share=max_null,
        min=low,
        max=high,
        max_out_of_range_share=out_share,
        categories=categories,
        max_unknown_share=unknown_share,
    )


def infer_schema(
    reference: Profile, *, duplicate_share: float | None = None, ignore: Collection[str] = ()
) -> Schema:
    """Infer a :class:`Schema` from a reference profile.

    ``duplicate_share`` is the reference's share of duplicated rows, when it was counted;
    without it duplicates are not checked. Columns named in ``ignore`` get no rule at all.
    """
    skip = set(ignore)
    columns = tuple(infer_column(c) for c in reference.columns if c.name not in skip)
    max_dup = None
    if duplicate_share is not None:
        max_dup = _ceil(duplicate_share + DUPLICATE_TOLERANCE)
    return Schema(columns=columns, max_duplicate_share=max_dup, ignore=tuple(sorted(skip)))
