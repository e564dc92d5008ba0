"""Dataset references with their vital statistics: files, types, bytes, rows, schema.

:func:`describe` accepts what a pipeline step reads or writes: a file, a folder (walked
recursively), a glob, a pandas/polars DataFrame or pyarrow Table, or a plain dataset name
(a table, a URI) recorded as is. Hidden files and ``_``-prefixed markers (``_SUCCESS``,
``_metadata``) are skipped, as Spark and pyarrow do when reading a folder.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "a.csv").write_text("x,y\\n1,2\\n")
>>> _ = (d / "_SUCCESS").write_text("")
>>> ref = describe(d)
>>> (ref.file_count, ref.file_types, ref.rows, ref.schema)
(1, {'csv': 1}, 1, (('x', None), ('y', None)))
"""

from __future__ import annotations

import glob
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlvitals.pipelines.filetypes import count_rows, header_columns, sniff_type

MAX_FILES_LISTED = 1000
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class FileStat:
    path: str
    bytes: int
    type: str
    rows: int | None = None


@dataclass(frozen=True, slots=True)
class DatasetRef:
    """What a step read or wrote. ``bytes``/``file_count`` are ``None`` for in-memory data."""

    name: str
    format: str | None = None
    file_count: int | None = None
    file_types: dict[str, int] = field(default_factory=dict)
    bytes: int | None = None
    rows: int | None = None
    schema: tuple[tuple[str, str | None], ...] | None = None
    files: tuple[FileStat, ...] = ()
    files_truncated: bool = False

    def to_wire(self) -> dict[str, Any]:
        """The fields of a ``dataset`` wire record (without run, step and direction)."""
        return {
            "name": self.name,
            "format": self.format,
            "file_count": self.file_count,
            "file_types": self.file_types,
            "bytes": self.bytes,
            "rows": self.rows,
            "schema": None
            if self.schema is None
            else [{"name": n, "type": t} for n, t in self.schema],
            "files": [
                {"path": f.path, "bytes": f.bytes, "type": f.type, "rows": f.rows}
                for f in self.files
            ],
            "files_truncated": self.files_truncated,
        }


def describe(
    data: Any, *, name: str | None = None, count: bool = True, rows: int | None = None
) -> DatasetRef:
    """Describe ``data`` (see the module docstring).

    ``count=False`` skips row counting (it streams CSV files); ``rows`` sets the rows.
    """
    ref = _frame(data, name)
    if ref is None:
        if isinstance(data, os.PathLike):
            ref = _paths(_expand(Path(data)), name or os.fspath(data), count)
        elif isinstance(data, str):
            if _GLOB_CHARS & set(data):
                matches = [Path(p) for p in sorted(glob.glob(data, recursive=True))]  # noqa: PTH207
                ref = _paths(_expand_all(matches), name or data, count)
            elif "://" not in data and Path(data).exists():
                ref = _paths(_expand(Path(data)), name or data, count)
            else:
                ref = DatasetRef(name=name or data)
        else:
            raise TypeError(
                f"cannot describe a {type(data).__name__}: pass a path, a glob, a dataset "
                "name, a pandas/polars DataFrame or a pyarrow Table"
            )
    if rows is not None:
        return DatasetRef(**{**_fields(ref), "rows": rows})
    return ref


def _fields(ref: DatasetRef) -> dict[str, Any]:
    return {f: getattr(ref, f) for f in DatasetRef.__dataclass_fields__}


def _skipped(name: str) -> bool:
    return name.startswith((".", "_"))


def _expand(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []  # a path that does not exist (yet) describes as zero files
    out = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not _skipped(d))
        out += [Path(root, f) for f in sorted(files) if not _skipped(f)]
    return out


def _expand_all(paths: list[Path]) -> list[Path]:
    seen: dict[Path, None] = {}
    for p in paths:
        for f in _expand(p):
            seen.setdefault(f, None)
    return list(seen)


def _paths(files: list[Path], name: str, want_rows: bool) -> DatasetRef:
    stats: list[FileStat] = []
    total_rows: int | None = 0
    schema: tuple[tuple[str, str | None], ...] | None = None
    for f in files:
        try:
            size = f.stat().st_size
        except OSError:
            continue  # removed while we looked
        kind = sniff_type(f)
        n = count_rows(f, kind) if want_rows else None
        if n is None:
            total_rows = None
        elif total_rows is not None:
            total_rows += n
        if schema is None:
            schema = _file_schema(f, kind)
        stats.append(FileStat(str(f), size, kind, n))
    types = Counter(s.type for s in stats)
    return DatasetRef(
        name=name,
        format=None if not types else (next(iter(types)) if len(types) == 1 else "mixed"),
        file_count=len(stats),
        file_types=dict(sorted(types.items())),
        bytes=sum(s.bytes for s in stats),
        rows=total_rows if stats else 0,
        schema=schema,
        files=tuple(stats[:MAX_FILES_LISTED]),
        files_truncated=len(stats) > MAX_FILES_LISTED,
    )


def _file_schema(path: Path, kind: str) -> tuple[tuple[str, str | None], ...] | None:
    if kind == "parquet":
        try:  # the [quality] extra; without it a Parquet file's schema is unknown
            import pyarrow.parquet as pq
        except ImportError:
            return None
        try:
            arrow = pq.read_schema(path)
        except Exception:
            return None
        return tuple((f.name, str(f.type)) for f in arrow)
    columns = header_columns(path, kind)
    return None if columns is None else tuple((c, None) for c in columns)


def _frame(data: Any, name: str | None) -> DatasetRef | None:
    """In-memory tables, recognised by module so pandas/polars/pyarrow stay optional."""
    module = type(data).__module__.split(".", 1)[0]
    if module == "pandas" and hasattr(data, "dtypes") and hasattr(data, "columns"):
        schema = tuple((str(c), str(t)) for c, t in data.dtypes.items())
        return DatasetRef(name or "pandas.DataFrame", "pandas", rows=len(data), schema=schema)
    if module == "polars" and hasattr(data, "schema") and hasattr(data, "height"):
        schema = tuple((str(c), str(t)) for c, t in data.schema.items())
        return DatasetRef(name or "polars.DataFrame", "polars", rows=data.height, schema=schema)
    if module == "pyarrow" and hasattr(data, "schema") and hasattr(data, "num_rows"):
        schema = tuple((f.name, str(f.type)) for f in data.schema)
        return DatasetRef(name or "pyarrow.Table", "arrow", rows=data.num_rows, schema=schema)
    return None
