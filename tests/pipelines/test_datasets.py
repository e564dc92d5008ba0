"""Dataset references: file types by content, sizes, rows and schemas of real files."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlvitals.pipelines.datasets import describe
from mlvitals.pipelines.filetypes import count_rows, sniff_type

FRAME = pd.DataFrame({"id": range(1000), "amount": [i * 0.5 for i in range(1000)], "tag": "x"})


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    # Misleading extensions on purpose: the type must come from the content.
    out["parquet"] = tmp_path / "orders.bin"
    pq.write_table(pa.Table.from_pandas(FRAME, preserve_index=False), out["parquet"])
    out["csv"] = tmp_path / "orders.dat"
    FRAME.to_csv(out["csv"], index=False)
    out["tsv"] = tmp_path / "orders.tab"
    FRAME.to_csv(out["tsv"], index=False, sep="\t")
    out["gzip"] = tmp_path / "orders.csv.gz"
    out["gzip"].write_bytes(gzip.compress(out["csv"].read_bytes()))
    out["zip"] = tmp_path / "bundle.data"
    with zipfile.ZipFile(out["zip"], "w") as z:
        z.writestr("a.txt", "hello")
    out["json"] = tmp_path / "config.txt"
    out["json"].write_text(json.dumps({"a": [1, 2, 3]}, indent=2))
    out["jsonl"] = tmp_path / "events.log"
    out["jsonl"].write_text("".join(json.dumps({"i": i}) + "\n" for i in range(42)))
    out["empty"] = tmp_path / "nothing.parquet"
    out["empty"].write_bytes(b"")
    return out


def test_types_come_from_content(files: dict[str, Path]) -> None:
    expected = {
        "parquet": "parquet",
        "csv": "csv",
        "tsv": "tsv",
        "gzip": "gzip",
        "zip": "zip",
        "json": "json",
        "jsonl": "jsonl",
        "empty": "parquet",  # no content: the extension decides
    }
    assert {k: sniff_type(p) for k, p in files.items()} == expected


def test_row_counts_match_an_independent_reader(files: dict[str, Path]) -> None:
    assert count_rows(files["parquet"], "parquet") == pq.read_table(files["parquet"]).num_rows
    assert count_rows(files["csv"], "csv") == len(pd.read_csv(files["csv"])) == 1000
    assert count_rows(files["tsv"], "tsv") == len(pd.read_csv(files["tsv"], sep="\t"))
    assert count_rows(files["gzip"], "gzip") == len(pd.read_csv(files["gzip"]))
    assert count_rows(files["jsonl"], "jsonl") == len(pd.read_json(files["jsonl"], lines=True))
    assert count_rows(files["zip"], "zip") is None


def test_csv_without_trailing_newline_and_with_crlf(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_bytes(b"a,b\r\n1,2\r\n3,4")
    assert count_rows(p, "csv") == len(pd.read_csv(p)) == 2


def test_file_reference(files: dict[str, Path]) -> None:
    ref = describe(files["parquet"])
    assert ref.file_count == 1 and ref.format == "parquet"
    assert ref.bytes == files["parquet"].stat().st_size
    assert ref.rows == 1000
    arrow = pq.read_schema(files["parquet"])
    assert ref.schema == tuple((f.name, str(f.type)) for f in arrow)
    assert [n for n, _ in ref.schema] == ["id", "amount", "tag"]
    assert ref.files[0].bytes == ref.bytes and ref.files[0].rows == 1000


def test_folder_walks_recursively_and_skips_markers(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "day=1").mkdir(parents=True)
    (out / "day=2").mkdir()
    for i, part in enumerate(("day=1", "day=2")):
        FRAME.iloc[: 100 * (i + 1)].to_parquet(out / part / "part-0.parquet")
    FRAME.iloc[:7].to_csv(out / "day=2" / "extra.csv", index=False)
    (out / "_SUCCESS").write_text("")
    (out / ".part-0.crc").write_text("x")
    ref = describe(out)
    assert ref.file_count == 3
    assert ref.file_types == {"csv": 1, "parquet": 2}
    assert ref.format == "mixed"
    assert ref.rows == 100 + 200 + 7
    on_disk = [p for p in out.rglob("*") if p.is_file() and p.name[0] not in "._"]
    assert ref.bytes == sum(p.stat().st_size for p in on_disk)
    assert sorted(f.bytes for f in ref.files) == sorted(p.stat().st_size for p in on_disk)


def test_glob_and_string_paths(tmp_path: Path) -> None:
    for i in range(3):
        FRAME.iloc[: i + 1].to_csv(tmp_path / f"part-{i}.csv", index=False)
    (tmp_path / "readme.md").write_text("# hi\n")
    ref = describe(str(tmp_path / "part-*.csv"))
    assert (ref.file_count, ref.rows, ref.name) == (3, 1 + 2 + 3, str(tmp_path / "part-*.csv"))
    assert ref.schema == (("id", None), ("amount", None), ("tag", None))
    assert describe(str(tmp_path / "part-0.csv")).rows == 1


def test_names_and_missing_paths(tmp_path: Path) -> None:
    assert describe("warehouse.orders").file_count is None
    assert describe("s3://bucket/key").name == "s3://bucket/key"
    missing = describe(tmp_path / "not-written-yet")
    assert (missing.file_count, missing.bytes, missing.rows) == (0, 0, 0)
    with pytest.raises(TypeError, match="cannot describe a int"):
        describe(42)


def test_in_memory_tables() -> None:
    p = describe(FRAME, name="orders")
    assert (p.name, p.rows, p.format) == ("orders", 1000, "pandas")
    assert p.schema == (("id", "int64"), ("amount", "float64"), ("tag", str(FRAME["tag"].dtype)))
    pol = describe(pl.from_pandas(FRAME))
    assert (pol.rows, pol.format, [c for c, _ in pol.schema or ()]) == (
        1000,
        "polars",
        ["id", "amount", "tag"],
    )
    arrow = describe(pa.Table.from_pandas(FRAME, preserve_index=False))
    assert (
        arrow.rows == 1000 and arrow.schema is not None and arrow.schema[1] == ("amount", "double")
    )


def test_rows_override_and_no_counting(files: dict[str, Path]) -> None:
    assert describe(files["csv"], count=False).rows is None
    assert describe(files["csv"], rows=5).rows == 5
