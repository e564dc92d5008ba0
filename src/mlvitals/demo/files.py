"""The files the demo's feature pipeline writes: real CSV and Parquet files on disk.

Each run of ``tumour-features`` extracts a batch of biopsy measurements (rows drawn from
the breast-cancer data set that ships with scikit-learn) into two CSV part files,
validates them into one CSV (rows with a missing value are dropped) and writes the model's
features as Parquet. The pipeline's steps describe these files, so the rows, bytes, file
types and schemas on the dashboard are those of the files. The validated batch is checked
against the reference: the measurements the model was trained on (:func:`write_reference`).
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

# The "mean" measurements of the data set: enough columns to look like a feature table.
COLUMNS = (
    "radius",
    "texture",
    "perimeter",
    "area",
    "smoothness",
    "compactness",
    "concavity",
    "concave_points",
    "symmetry",
    "fractal_dimension",
)
MISSING_SHARE = 0.01  # raw rows with a missing value, dropped by validation
# A batch from a scanner that measures differently: lengths 30 % larger, areas 69 % larger,
# texture and compactness higher. Six of the ten measurements drift: the dataset drifts.
RECALIBRATED = {
    "radius": 1.3,
    "perimeter": 1.3,
    "area": 1.69,
    "texture": 1.4,
    "compactness": 1.4,
    "concave_points": 1.4,
}


@lru_cache(maxsize=1)
def measurements() -> np.ndarray:
    """The ten mean measurements of the 569 biopsies of scikit-learn's data set."""
    from mlvitals.demo.model import load_data

    data, _ = load_data()
    return np.asarray(data[:, : len(COLUMNS)], dtype=float)


def write_reference(path: Path) -> Path:
    """The reference of every batch: the measurements the model was trained on, as CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["biopsy_id", *COLUMNS])
        for i, row in enumerate(measurements()):
            writer.writerow([i, *(f"{v:.5g}" for v in row)])
    return path


def write_raw(
    folder: Path,
    rows: int,
    rng: np.random.Generator,
    scale: Mapping[str, float] | None = None,
) -> Path:
    """Two CSV parts of ``rows`` rows in total, as a distributed extract writes them;
    ``scale`` multiplies columns (a drifted batch)."""
    raw = folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    source = measurements()
    picked = source[rng.integers(0, len(source), rows)] * rng.normal(1.0, 0.02, (rows, 1))
    # Within what the instrument measured for the training data: a batch of the same
    # data passes the range checks of a schema inferred from it, however small it is.
    picked = np.clip(picked, source.min(axis=0), source.max(axis=0))
    for name, factor in (scale or {}).items():
        picked[:, COLUMNS.index(name)] *= factor
    missing = rng.random(rows) < MISSING_SHARE
    half = rows // 2
    for part, (lo, hi) in enumerate(((0, half), (half, rows))):
        with (raw / f"part-{part:05d}.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["biopsy_id", *COLUMNS])
            for i in range(lo, hi):
                values = [f"{v:.5g}" for v in picked[i]]
                if missing[i]:
                    values[int(rng.integers(0, len(values)))] = ""
                writer.writerow([i, *values])
    return raw


def validate(raw: Path, out: Path) -> Path:
    """Keep the complete rows of every part file in one CSV."""
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["biopsy_id", *COLUMNS])
        for part in sorted(raw.glob("part-*.csv")):
            with part.open(newline="") as src:
                reader = csv.reader(src)
                next(reader)
                writer.writerows(row for row in reader if all(row))
    return out


def featurize(clean: Path, out: Path) -> Path:
    """Standardized measurements plus two ratios, as the model's feature table (Parquet)."""
    with clean.open(newline="") as f:
        reader = csv.reader(f)
        next(reader)
        table = np.array([[float(v) for v in row] for row in reader], dtype=float)
    if table.size == 0:
        table = np.zeros((0, len(COLUMNS) + 1))
    values = table[:, 1:]
    std = values.std(axis=0) if len(values) > 1 else np.ones(len(COLUMNS))
    scaled = (values - values.mean(axis=0)) / np.where(std > 0, std, 1.0) if len(values) else values
    columns: dict[str, object] = {"biopsy_id": table[:, 0].astype(np.int64)}
    for i, name in enumerate(COLUMNS):
        columns[f"{name}_z"] = scaled[:, i]
    columns["area_per_perimeter"] = values[:, 3] / np.maximum(values[:, 2], 1e-9)
    columns["concavity_ratio"] = values[:, 7] / np.maximum(values[:, 6], 1e-9)
    pq.write_table(pa.table(columns), out)
    return out


def prune(parent: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest run folders, so a long demo stays small on disk."""
    folders = sorted((p for p in parent.iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in folders[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
