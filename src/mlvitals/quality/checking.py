"""``check()``: validate data against a schema and measure its drift from a reference.

The reference is data (profiled here, its numeric values kept for exact tests) or a stored
:class:`Profile` (the reference data need not be kept; ECDF tests then run on its sketches,
within their documented error). The current data is read once: each batch updates its profile
(binned on the reference's edges) and the validation at the same time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlvitals.errors import ConfigError, InputError
from mlvitals.quality.columns import ColumnKind, kind_of
from mlvitals.quality.drift.config import DriftPolicy
from mlvitals.quality.drift.evaluate import evaluate
from mlvitals.quality.drift.inputs import ColumnData
from mlvitals.quality.profile_json import loads
from mlvitals.quality.profiles import ColumnProfile, Profile
from mlvitals.quality.profiling import (
    add_histograms,
    complete_reference,
    histogram_edges,
    own_edges,
)
from mlvitals.quality.result import CheckResult
from mlvitals.quality.scan import RawColumns, scan
from mlvitals.quality.schema import Schema, infer_schema
from mlvitals.quality.schema_yaml import load_schema
from mlvitals.quality.scratch import release
from mlvitals.quality.sorting import sort_chunks
from mlvitals.quality.sources import Progress, Source, open_source

DEFAULT_RAW_LIMIT = 512 << 20


@dataclasses.dataclass(frozen=True, slots=True)
class _Reference:
    """A reference profile, the bin edges frozen from it, and (from data) its raw values.

    A reference read from data has no histograms yet: its counts are taken from its sorted
    raw values during the drift tests (which sort them anyway), or by a second read.
    """

    name: str
    profile: Profile
    edges: Mapping[str, tuple[float, ...]]
    raw: RawColumns | None
    duplicate_share: float | None
    source: Source | None = None
    note: str | None = None
    deferred: frozenset[str] = frozenset()


def load_profile(path: str | Path) -> Profile:
    """Read a profile saved as JSON (``mlvitals profile DATA -o profile.json``)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read profile {p}: {exc.strerror or exc}") from None
    return loads(text, source=str(p))


def _is_profile_path(ref: Any) -> bool:
    return isinstance(ref, str | Path) and str(ref).lower().endswith(".json")


def _reference(
    reference: Any,
    format: str | None,
    raw_limit: int | None,
    progress: Progress | None,
    *,
    defer: bool,
    ignore: Collection[str] = (),
) -> _Reference:
    if isinstance(reference, Profile):
        edges = histogram_edges(reference)
        return _Reference("profile", reference, edges, None, _dup_share(reference))
    if _is_profile_path(reference):
        prof = load_profile(reference)
        return _Reference(str(reference), prof, histogram_edges(prof), None, _dup_share(prof))
    source = open_source(reference, format=format)
    deferred: frozenset[str] = frozenset()
    if defer and _keeps_all(source, raw_limit):  # sort each column only once
        deferred = frozenset(_numeric(source))
    result = scan(
        source,
        count_duplicates=True,
        keep_raw=True,
        raw_limit_bytes=None if source.in_memory else raw_limit,
        defer=deferred,
        progress=progress,
    )
    for col in result.profile.columns:
        if (col.nan or col.inf) and col.name not in ignore:
            raise InputError(
                f"reference column {col.name!r} has {col.nan} NaN and {col.inf} infinite "
                "values: a reference must be finite (store missing values as nulls, or drop "
                "those rows)"
            )
    dup = result.duplicates.share if result.duplicates is not None else None
    prof = dataclasses.replace(
        result.profile, duplicate_rows=result.duplicates.count if result.duplicates else None
    )
    edges = own_edges(prof)  # deferred columns get theirs once they are sorted
    return _Reference(source.name, prof, edges, result.raw, dup, source, result.raw_note, deferred)


def _keeps_all(source: Source, raw_limit: int | None) -> bool:
    """Whether every numeric value of ``source`` is certain to be kept for the exact tests:
    in-memory data always, a file when its row count (Parquet's metadata) says its numeric
    columns fit under ``raw_limit``."""
    if source.in_memory or raw_limit is None:
        return True
    if source.unit != "rows" or source.total is None:
        return False  # a CSV file: its length is not known before it is read
    return source.total * 8 * len(_numeric(source)) <= raw_limit


def _numeric(source: Source) -> list[str]:
    return [f.name for f in source.schema if kind_of(f.type) is ColumnKind.NUMERIC]


def _dup_share(p: Profile) -> float | None:
    return p.duplicate_rows / p.rows if p.duplicate_rows is not None and p.rows else None


def check(
    data: Any,
    *,
    reference: Any,
    schema: Schema | str | Path | None = None,
    policy: DriftPolicy | None = None,
    format: str | None = None,
    reference_format: str | None = None,
    raw_limit_bytes: int | None = DEFAULT_RAW_LIMIT,
    progress: Progress | None = None,
    reference_progress: Progress | None = None,
    ignore: Collection[str] = (),
) -> CheckResult:
    """Check ``data`` against ``reference``: schema validation and drift, in one pass.

    ``reference`` is data (any input :func:`profile` takes), a :class:`Profile`, or the path
    of a saved profile (``.json``). ``schema`` is a :class:`Schema` or a YAML path; without
    it the schema is inferred from the reference. ``policy`` configures drift (see
    :class:`DriftPolicy`). Numeric values of files are kept for exact drift tests up to
    ``raw_limit_bytes`` per side; past it the tests run on sketches (``route="profile"``).
    Columns named in ``ignore`` are profiled but neither validated nor tested for drift;
    identifier columns (see :func:`~mlvitals.quality.schema.identifier_reason`) are
    validated for their type and nulls only, and not tested for drift.

    >>> import pandas as pd
    >>> ref = pd.DataFrame({"age": [30, 40, 50, 60] * 50})
    >>> r = check(pd.DataFrame({"age": [30, 40, 50, 160] * 50}), reference=ref)
    >>> r.passed, [f.check for f in r.failures]
    (False, ['range'])
    """
    policy = policy or DriftPolicy()
    if isinstance(ignore, str):
        ignore = [ignore]
    source = open_source(data, format=format)
    ref = _reference(
        reference,
        reference_format,
        raw_limit_bytes,
        reference_progress,
        defer=_keeps_all(source, raw_limit_bytes),
        ignore=ignore,
    )
    unknown_ignored = sorted(set(ignore) - set(ref.profile.names) - set(source.schema.names))
    if unknown_ignored:
        raise ConfigError(
            f"ignore names column(s) {', '.join(map(repr, unknown_ignored))} that neither the "
            f"data nor the reference has (the reference has {', '.join(ref.profile.names)})"
        )
    if isinstance(schema, str | Path):
        schema = load_schema(schema)
    if schema is None:
        schema = infer_schema(ref.profile, duplicate_share=ref.duplicate_share, ignore=ignore)
    elif ignore:
        schema = dataclasses.replace(schema, ignore=tuple(sorted({*schema.ignore, *ignore})))
    unknown = sorted(set(policy.columns) - set(ref.profile.names))
    if unknown:
        raise ConfigError(
            f"the drift policy names column(s) {', '.join(map(repr, unknown))} that the "
            f"reference does not have (it has {', '.join(ref.profile.names)})"
        )
    # Both sides kept whole: numeric columns are sorted once each, when their drift is tested.
    deferred = ref.deferred.intersection(_numeric(source))
    result = scan(
        source,
        edges=ref.edges,
        schema=schema,
        count_duplicates=schema.max_duplicate_share is not None,
        keep_raw=True,
        raw_limit_bytes=None if source.in_memory else raw_limit_bytes,
        defer=deferred,
        progress=progress,
    )
    current = add_histograms(result.profile, source, result.raw)
    if result.duplicates is not None:
        current = dataclasses.replace(current, duplicate_rows=result.duplicates.count)
    if ref.source is not None:
        # Columns without raw values get their reference counts now, from a second read.
        missing = {n: e for n, e in ref.edges.items() if ref.raw is None or n not in ref.raw}
        if missing:
            filled = add_histograms(ref.profile, ref.source, ref.raw, edges=missing)
            ref = dataclasses.replace(ref, profile=filled)
    columns = _drift_columns(ref, current, result.raw, policy, deferred)
    skip = {name: "ignored" for name in schema.ignore}
    for name in schema.identifiers:
        skip.setdefault(name, "identifier column: not tested for drift")
    try:
        drift = evaluate(columns, policy, skip=skip)
        reference_profile = _complete_reference(ref, columns)
    finally:
        release()
    current = _with_columns(current, {c.name: c.cur for c in columns if c.name in deferred})
    notes = tuple(n for n in (ref.note, result.raw_note) if n)
    return CheckResult(
        passed=not result.failures and not policy.fails(drift),
        failures=result.failures,
        warnings=result.warnings,
        drift=drift,
        profile=current,
        reference=reference_profile,
        schema=schema,
        data_name=source.name,
        reference_name=ref.name,
        notes=notes,
    )


def _complete_reference(ref: _Reference, columns: Sequence[ColumnData]) -> Profile:
    """The reference profile with its histograms (on the frozen edges) filled in, and its
    deferred columns completed (by the drift tests, or here for columns they did not see)."""
    if ref.source is None:
        return ref.profile  # a stored profile has its histograms
    known = {
        c.name: c.reference_histogram(ref.edges[c.name])
        for c in columns
        if c.ref_raw is not None and c.name in ref.edges
    }
    prof = add_histograms(ref.profile, ref.source, ref.raw, edges=ref.edges, known=known)
    done = {
        c.name: c.ref for c in columns if c.name in ref.deferred and c.ref.quantiles is not None
    }
    for name in ref.deferred - set(done):
        assert ref.raw is not None
        values = sort_chunks("reference", ref.raw.chunks[name], None)
        col, _ = complete_reference(prof.column(name), values)
        done[name] = col
    return _with_columns(prof, done)


def _with_columns(prof: Profile, columns: Mapping[str, ColumnProfile]) -> Profile:
    if not columns:
        return prof
    return dataclasses.replace(prof, columns=tuple(columns.get(c.name, c) for c in prof.columns))


def _drift_columns(
    ref: _Reference,
    current: Profile,
    raw: RawColumns | None,
    policy: DriftPolicy,
    deferred: frozenset[str],
) -> Sequence[ColumnData]:
    out = []
    for col in current.columns:
        if col.name not in ref.profile:
            continue
        ref_col = ref.profile.column(col.name)
        if ref_col.kind != col.kind:
            continue  # the type check reports it; there is nothing to compare
        ref_raw = cur_raw = None
        if col.kind is ColumnKind.NUMERIC:
            if ref.raw is not None and col.name in ref.raw:
                ref_raw = ref.raw.chunks[col.name]
            if raw is not None and col.name in raw:
                cur_raw = raw.chunks[col.name]
        out.append(
            ColumnData(
                ref_col,
                col,
                ref_raw,
                cur_raw,
                ks_method=policy.ks_method,
                from_data=ref.source is not None,
                deferred=col.name in deferred,
            )
        )
    return out
