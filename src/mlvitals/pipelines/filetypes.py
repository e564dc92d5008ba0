"""What a file is, by its content, and how many rows it holds.

The type comes from magic bytes (``PAR1`` for Parquet, ``1f 8b`` for gzip, ``PK`` for zip,
...), then from sniffing text (JSON, JSON lines, CSV/TSV), and only then from the file
extension. Row counts read Parquet footers (no data pages) and stream CSV and JSON lines
in 1 MiB chunks, so memory stays flat whatever the file size.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "data.txt"
>>> _ = p.write_text("a,b\\n1,2\\n3,4\\n")
>>> sniff_type(p), count_rows(p, "csv")
('csv', 2)
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

_CHUNK = 1 << 20
_SAMPLE = 4096

# Checked in order; the first matching prefix names the type.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PAR1", "parquet"),
    (b"\x1f\x8b", "gzip"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"ORC", "orc"),
    (b"Obj\x01", "avro"),
    (b"ARROW1", "arrow"),
    (b"\x89HDF\r\n\x1a\n", "hdf5"),
    (b"\x93NUMPY", "npy"),
    (b"SQLite format 3\x00", "sqlite"),
    (b"BZh", "bz2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"%PDF-", "pdf"),
)

_EXTENSIONS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".gz": "gzip",
    ".zip": "zip",
    ".orc": "orc",
    ".avro": "avro",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
    ".npy": "npy",
    ".txt": "text",
    ".db": "sqlite",
    ".sqlite": "sqlite",
    ".pkl": "pickle",
    ".pickle": "pickle",
}

TEXT_ROW_TYPES = frozenset({"csv", "tsv", "jsonl"})


def sniff_type(path: Path) -> str:
    """The file's type name: by content first, by extension when content does not tell."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_SAMPLE)
    except OSError:
        return _by_extension(path)
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if not head:
        return _by_extension(path)
    text = _as_text(head)
    if text is None:
        ext = _by_extension(path)
        return "binary" if ext in ("text", "csv", "tsv", "json", "jsonl") else ext
    return _sniff_text(text, truncated=len(head) == _SAMPLE) or _by_extension(path)


def _by_extension(path: Path) -> str:
    return _EXTENSIONS.get(path.suffix.lower(), path.suffix.lower().lstrip(".") or "unknown")


def _as_text(head: bytes) -> str | None:
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sample boundary is still text.
        if exc.start >= len(head) - 3:
            return head[: exc.start].decode("utf-8")
        return None


def _sniff_text(text: str, *, truncated: bool) -> str | None:
    body = text.lstrip("\ufeff \t\r\n")
    lines = body.splitlines()
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut by the sample boundary
    if body.startswith("{") and len(lines) > 1 and all(ln.lstrip().startswith("{") for ln in lines):
        return "jsonl"
    if body.startswith(("{", "[")):
        return "json"
    if len(lines) >= 2:
        try:
            dialect = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=",;\t|")
        except csv.Error:
            return None  # one column, or prose: let the extension say (csv, txt, ...)
        return "tsv" if dialect.delimiter == "\t" else "csv"
    return None


def count_rows(path: Path, file_type: str) -> int | None:
    """Rows in the file, or ``None`` when its type has no cheap row count.

    CSV/TSV count lines minus the header line (quoted newlines inside fields count as
    rows: the price of streaming); JSON lines count non-empty lines.
    """
    if file_type == "parquet":
        try:  # the [quality] extra; without it a Parquet file's rows are unknown
            import pyarrow.parquet as pq
        except ImportError:
            return None
        try:
            rows: int = pq.ParquetFile(path).metadata.num_rows
        except Exception:  # a corrupt footer: say nothing rather than fail the step
            return None
        return rows
    if file_type in TEXT_ROW_TYPES:
        return _text_rows(path, file_type, compressed=False)
    if file_type == "gzip":
        inner = _by_extension(path.with_suffix(""))
        if inner in TEXT_ROW_TYPES:
            return _text_rows(path, inner, compressed=True)
    return None


def _text_rows(path: Path, file_type: str, *, compressed: bool) -> int | None:
    try:
        with gzip.open(path, "rb") if compressed else path.open("rb") as fh:
            if file_type == "jsonl":
                return sum(1 for line in fh if line.strip())
            lines = 0
            last = b"\n"
            while chunk := fh.read(_CHUNK):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
    except (OSError, EOFError):
        return None
    if last != b"\n":
        lines += 1  # a last line without a trailing newline
    return max(lines - 1, 0)  # the header


def header_columns(path: Path, file_type: str) -> list[str] | None:
    """Column names from a CSV/TSV header line."""
    if file_type not in ("csv", "tsv"):
        return None
    try:
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            first = fh.readline(1 << 16)
    except OSError:
        return None
    if not first.strip():
        return None
    delimiter = "\t" if file_type == "tsv" else max(",;|", key=first.count)
    return next(csv.reader([first], delimiter=delimiter))
