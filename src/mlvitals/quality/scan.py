"""The single pass: each batch updates the profile, the validation and the duplicate counter.

Each column of a batch is converted once (:mod:`mlvitals.quality.parts`) and read by all of
them; when asked, the finite values of numeric columns are also kept (views of the input for
in-memory data, nothing copied) so drift tests can run on the raw data afterwards.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from mlvitals.errors import InputError
from mlvitals.quality.columns import ColumnKind, check_uniform, kind_of
from mlvitals.quality.duplicates import DuplicateCounter, Duplicates
from mlvitals.quality.failures import Failure
from mlvitals.quality.parts import NumericPart, Part, make_part
from mlvitals.quality.profiler import Profiler
from mlvitals.quality.profiles import Profile
from mlvitals.quality.schema import Schema
from mlvitals.quality.sources import Progress, Source
from mlvitals.quality.validate import Validator


@dataclass(frozen=True, slots=True)
class RawColumns:
    """The finite values of numeric columns, as the chunks the pass saw."""

    chunks: Mapping[str, tuple[np.ndarray, ...]]

    def __contains__(self, name: object) -> bool:
        return name in self.chunks


@dataclass(frozen=True, slots=True)
class ScanResult:
    profile: Profile
    failures: tuple[Failure, ...]
    duplicates: Duplicates | None
    raw: RawColumns | None
    raw_note: str | None = None
    warnings: tuple[Failure, ...] = ()


def scan(
    source: Source,
    *,
    edges: Mapping[str, tuple[float, ...]] | None = None,
    schema: Schema | None = None,
    count_duplicates: bool = False,
    keep_raw: bool = False,
    raw_limit_bytes: int | None = None,
    correlation: bool = True,
    defer: Collection[str] = (),
    progress: Progress | None = None,
) -> ScanResult:
    """Read ``source`` once; profile it, validate it against ``schema`` when given.

    Numeric columns named in ``defer`` (which must be kept raw) are profiled without what
    sorting gives: the caller completes them (:func:`~mlvitals.quality.profiler.complete_numeric`).
    """
    data_schema = source.schema
    if len(data_schema) == 0:
        raise InputError(f"{source.name} has no columns")
    kinds = {f.name: kind_of(f.type) for f in data_schema}
    profiler = Profiler(data_schema, edges=edges, correlation=correlation, defer=defer)
    validator = Validator(schema, data_schema) if schema is not None else None
    counter = DuplicateCounter() if count_duplicates else None
    raw: dict[str, list[np.ndarray]] | None = None
    raw_names: list[str] = []
    if keep_raw:
        raw_names = [n for n, k in kinds.items() if k is ColumnKind.NUMERIC]
        raw = {n: [] for n in raw_names}
    raw_bytes = 0
    raw_note = None
    offset = 0
    last_schema = data_schema
    for batch in source.batches(progress=progress):
        if batch.schema != last_schema:
            _check_batch_schema(data_schema, batch.schema, source.name)
            last_schema = batch.schema
        rows = batch.num_rows
        if rows == 0:
            continue
        parts: dict[str, Part] = {
            name: make_part(batch.column(i), kinds[name], offset)
            for i, name in enumerate(batch.schema.names)
        }
        if counter is not None:  # first: the profiler reuses the row hashes it computes
            counter.add_parts(list(parts.values()), rows)
        profiler.update(parts, rows)
        if validator is not None:
            validator.update(parts, batch)
        if raw is not None:
            for name in raw_names:
                part = parts[name]
                assert isinstance(part, NumericPart)
                raw[name].append(part.finite)
                if not source.in_memory or part.finite is not part.values:
                    raw_bytes += part.finite.nbytes
            if raw_limit_bytes is not None and raw_bytes > raw_limit_bytes:
                raw = None
                raw_note = (
                    f"numeric values over {raw_limit_bytes >> 20} MiB: drift measured "
                    "from sketches (the profile route)"
                )
        offset += rows
    if offset == 0:
        raise InputError(f"{source.name} has no rows")
    profile = profiler.finish()
    duplicates = counter.result() if counter is not None else None
    failures, warnings = validator.finish(offset, duplicates) if validator else ((), ())
    kept = RawColumns({n: tuple(v) for n, v in raw.items()}) if raw is not None else None
    return ScanResult(profile, failures, duplicates, kept, raw_note, warnings)


def _check_batch_schema(expected: pa.Schema, actual: pa.Schema, where: str) -> None:
    if expected.names != actual.names:
        raise InputError(f"{where}: the columns change while reading ({actual.names})")
    for f1, f2 in zip(expected, actual, strict=True):
        check_uniform(f1.name, f1.type, f2.type, where)
