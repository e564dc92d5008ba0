"""Data sources: everything a profile or a check accepts, read as Arrow record batches.

Accepted: pyarrow ``Table`` and ``RecordBatch``; pandas and polars ``DataFrame`` (detected by
the module of their type, so neither is imported unless given); a CSV or Parquet file; a folder
of CSV or Parquet files (searched recursively, read in name order). Files are streamed in
batches (Parquet row group by row group, CSV block by block), so a large file is never loaded
whole. A :class:`Source` can be read more than once (a reference profile reads its numeric
columns a second time to count its histograms).

>>> import pyarrow as pa
>>> src = open_source(pa.table({"x": [1, 2, 3]}))
>>> (src.name, [b.num_rows for b in src.batches()])
('pyarrow.Table', [3])
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from mlvitals.errors import InputError, SchemaError
from mlvitals.quality.columns import check_uniform

IN_MEMORY_BATCH_ROWS = 1 << 17
FILE_BATCH_ROWS = 1 << 18
CSV_BLOCK_BYTES = 16 << 20

_PARQUET = {".parquet", ".pq", ".parq"}
_CSV = {".csv", ".tsv"}
_COMPRESSED = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".lz4": "lz4"}

Progress = Callable[[int], None]
_Open = Callable[[Sequence[str] | None, Progress | None], Iterator[pa.RecordBatch]]


@dataclass(frozen=True, slots=True)
class Source:
    """A readable dataset: its name (for messages), Arrow schema and how to read it.

    ``total`` is the progress length in ``unit`` (``rows`` or ``bytes``), when known.
    """

    name: str
    schema: pa.Schema
    in_memory: bool
    total: int | None
    unit: str
    _open: _Open

    def batches(
        self, columns: Sequence[str] | None = None, progress: Progress | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Record batches of the given columns (all by default), in order."""
        return self._open(columns, progress)


def open_source(data: Any, *, format: str | None = None) -> Source:
    """Open any accepted input; raise :class:`InputError` naming what cannot be used."""
    if isinstance(data, Source):
        return data
    if isinstance(data, pa.Table):
        return _table_source(data, "pyarrow.Table")
    if isinstance(data, pa.RecordBatch):
        return _table_source(pa.Table.from_batches([data]), "pyarrow.RecordBatch")
    if isinstance(data, str | os.PathLike):
        return _path_source(Path(data), format)
    module = type(data).__module__.split(".")[0]
    if module == "pandas" and type(data).__name__ == "DataFrame":
        return _pandas_source(data)
    if module == "polars" and type(data).__name__ == "DataFrame":
        try:
            table = data.to_arrow()
        except Exception as exc:  # polars raises its own error types
            raise InputError(f"cannot convert the polars DataFrame to Arrow: {exc}") from None
        return _table_source(table, "polars.DataFrame")
    if module == "polars" and type(data).__name__ == "LazyFrame":
        raise InputError("got a polars LazyFrame: call .collect() first")
    raise InputError(
        f"cannot read data of type {type(data).__module__}.{type(data).__name__}: pass a "
        "pandas or polars DataFrame, a pyarrow Table or RecordBatch, or the path of a CSV or "
        "Parquet file or folder"
    )


def _table_source(table: pa.Table, name: str) -> Source:
    def read(columns: Sequence[str] | None, progress: Progress | None) -> Iterator[pa.RecordBatch]:
        t = table.select(list(columns)) if columns is not None else table
        for batch in t.to_batches(max_chunksize=IN_MEMORY_BATCH_ROWS):
            yield batch
            if progress:
                progress(batch.num_rows)

    return Source(name, table.schema, True, table.num_rows, "rows", read)


def _pandas_source(df: Any) -> Source:
    labels = list(df.columns)
    names = [str(c) for c in labels]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"the DataFrame has duplicate column names: {', '.join(dupes)}")
    fields = []
    for label, name in zip(labels, names, strict=True):
        try:
            fields.append(pa.Schema.from_pandas(df[[label]], preserve_index=False).field(0))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise SchemaError(
                f"column {name!r} cannot be read as one type ({exc}); "
                "it probably mixes types (say, numbers and strings): convert it first"
            ) from None
    schema = pa.schema([f.with_name(n) for f, n in zip(fields, names, strict=True)])
    by_name = dict(zip(names, labels, strict=True))

    def read(columns: Sequence[str] | None, progress: Progress | None) -> Iterator[pa.RecordBatch]:
        chosen = list(columns) if columns is not None else names
        sub_schema = pa.schema([schema.field(c) for c in chosen])
        frame = df[[by_name[c] for c in chosen]]
        frame.columns = chosen
        for start in range(0, max(len(frame), 1), IN_MEMORY_BATCH_ROWS):
            part = frame.iloc[start : start + IN_MEMORY_BATCH_ROWS]
            try:
                # A Table, not a RecordBatch: Arrow-backed pandas columns may be chunked.
                table = pa.Table.from_pandas(
                    part, schema=sub_schema, preserve_index=False, nthreads=1
                )
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise SchemaError(f"the DataFrame cannot be converted: {exc}") from None
            for batch in table.to_batches():
                yield batch
                if progress:
                    progress(batch.num_rows)

    return Source("pandas.DataFrame", schema, True, len(df), "rows", read)


def _format_of(path: Path, given: str | None) -> str:
    if given is not None:
        if given not in ("csv", "parquet"):
            raise InputError(f"unknown format {given!r}: use 'csv' or 'parquet'")
        return given
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext in _PARQUET:
        return "parquet"
    if ext in _CSV:
        return "csv"
    raise InputError(
        f"unknown format {ext or '(no extension)'!r} for {path}: use a .csv or .parquet "
        "file (optionally .gz/.bz2/.zst compressed), or name the format (--format)"
    )


def _path_source(path: Path, format: str | None) -> Source:
    if not path.exists():
        raise InputError(f"no such file or folder: {path}")
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith((".", "_")) for part in p.parts[-1:])
        )
        known = [p for p in files if _known(p)] if format is None else files
        if not known:
            raise InputError(f"no CSV or Parquet files in folder {path}")
        formats = {_format_of(p, format) for p in known}
        if len(formats) > 1:
            raise InputError(f"folder {path} mixes CSV and Parquet files; keep one format")
        files = known
    else:
        files = [path]
    fmt = _format_of(files[0], format)
    name = str(path)
    if fmt == "parquet":
        return _parquet_source(name, files)
    return _csv_source(name, files)


def _known(p: Path) -> bool:
    try:
        _format_of(p, None)
    except InputError:
        return False
    return True


def _parquet_source(name: str, files: list[Path]) -> Source:
    schema: pa.Schema | None = None
    total = 0
    for f in files:
        try:
            meta = pq.read_metadata(f)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{f} is not a readable Parquet file: {exc}") from None
        total += meta.num_rows
        s = meta.schema.to_arrow_schema()
        if schema is None:
            schema = s
        else:
            _check_same_columns(schema, s, f, files[0])
    assert schema is not None

    def read(columns: Sequence[str] | None, progress: Progress | None) -> Iterator[pa.RecordBatch]:
        for f in files:
            try:
                # No pre-buffering of whole row groups, and column chunks read through a
                # small buffer: memory stays at about one batch, not one row group.
                reader = pq.ParquetFile(f, pre_buffer=False, buffer_size=1 << 20)
                for batch in reader.iter_batches(
                    batch_size=FILE_BATCH_ROWS, columns=list(columns) if columns else None
                ):
                    yield batch
                    if progress:
                        progress(batch.num_rows)
            except pa.ArrowInvalid as exc:
                raise InputError(f"cannot read {f}: {exc}") from None

    return Source(name, schema, False, total, "rows", read)


def _check_same_columns(first: pa.Schema, other: pa.Schema, path: Path, first_path: Path) -> None:
    if first.names != other.names:
        raise SchemaError(
            f"{path} has columns {other.names} but {first_path} has {first.names}; "
            "all files of a folder must have the same columns"
        )
    for f1, f2 in zip(first, other, strict=True):
        check_uniform(f1.name, f1.type, f2.type, f"{first_path} and {path}")


_CSV_COLUMN = re.compile(r"column #(\d+)")


def _csv_error(path: Path, exc: Exception, names: Sequence[str]) -> InputError:
    text = str(exc)
    if "Empty CSV file" in text:
        return InputError(f"{path} is empty")
    match = _CSV_COLUMN.search(text)
    if match and int(match.group(1)) < len(names):
        column = names[int(match.group(1))]
        return SchemaError(
            f"{path}: column {column!r} mixes types ({text}); its type was inferred from the "
            "start of the file: fix the value or convert the file to Parquet with a fixed type"
        )
    return InputError(f"cannot read {path} as CSV: {text}")


def _open_csv(path: Path, column_types: pa.Schema | None, columns: Sequence[str] | None) -> Any:
    suffix = path.suffix.lower()
    raw = pa.OSFile(str(path), "rb")
    stream: Any = raw
    if suffix in _COMPRESSED:
        stream = pa.CompressedInputStream(raw, _COMPRESSED[suffix])
    delimiter = "\t" if ".tsv" in [s.lower() for s in path.suffixes] else ","
    convert = pacsv.ConvertOptions(
        column_types=column_types,
        strings_can_be_null=True,  # an empty field is missing, as pandas reads it
        include_columns=list(columns) if columns is not None else None,
    )
    reader = pacsv.open_csv(
        stream,
        read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(delimiter=delimiter),
        convert_options=convert,
    )
    return raw, reader


def _csv_source(name: str, files: list[Path]) -> Source:
    try:
        raw, reader = _open_csv(files[0], None, None)
        schema = reader.schema
        raw.close()
    except (pa.ArrowInvalid, OSError) as exc:
        raise _csv_error(files[0], exc, []) from None
    total = sum(f.stat().st_size for f in files)

    def read(columns: Sequence[str] | None, progress: Progress | None) -> Iterator[pa.RecordBatch]:
        for f in files:
            done = 0
            try:
                raw, reader = _open_csv(f, schema, columns)
                if columns is None and reader.schema.names != schema.names:
                    raise SchemaError(
                        f"{f} has columns {reader.schema.names} but {files[0]} has "
                        f"{schema.names}; all files of a folder must have the same columns"
                    )
                for batch in reader:
                    yield batch
                    if progress:
                        pos = raw.tell()
                        progress(pos - done)
                        done = pos
                raw.close()
            except (pa.ArrowInvalid, OSError) as exc:
                raise _csv_error(f, exc, schema.names) from None
            if progress:
                progress(f.stat().st_size - done)

    return Source(name, schema, False, total, "bytes", read)
