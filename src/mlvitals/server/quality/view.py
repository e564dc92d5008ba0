"""What the dataset pages show, built from the stored checks and profiles (pure functions).

Numbers are shown with three significant digits (p-values below 0.001 in scientific form);
tables carry the full value in ``<data value>`` for tests and copying.

>>> stat(0.123456), stat(1.3e-36), stat(None), stat(0.0)
('0.123', '1.3e-36', '—', '0')
>>> sample(150.0), sample(0.25), sample(None), sample(True), sample("gold")
('150', '0.25', 'null', 'true', 'gold')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from mlvitals.server.pipelines.view import bytes_unit
from mlvitals.server.web import units

MAX_DRIFT_SERIES = 6
"""Columns drawn on the drift-over-time chart (the most drifted ones)."""

MAX_HISTOGRAMS = 12
"""Columns whose distributions are drawn (drifted and failing columns first)."""

CHECK_LABELS = {
    "rows": "Row count",
    "missing_column": "Missing column",
    "extra_column": "Extra column",
    "type": "Type",
    "nulls": "Nulls",
    "non_finite": "NaN or infinite values",
    "range": "Out of range",
    "categories": "Unknown categories",
    "duplicates": "Duplicate rows",
}


def stat(value: float | None) -> str:
    """A statistic, p-value or distance for a table cell."""
    if value is None or not math.isfinite(value):
        return units.MISSING
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.2g}"
    return units.significant(value)


def sample(value: Any) -> str:
    """An offending value as sent: whole floats without ``.0`` (integer columns are read as
    floats), JSON words for null and booleans."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def dataset_path(name: str, **params: str) -> str:
    """The page of dataset ``name``; any character is allowed in a name.

    >>> dataset_path("sales/eu 2024", check="abc")
    '/datasets/sales%2Feu%202024?check=abc'
    """
    path = "/datasets/" + quote(name, safe="")
    return f"{path}?{urlencode(params)}" if params else path


def api_path(name: str, what: str = "") -> str:
    return "/api/v1/datasets/" + quote(name, safe="") + (f"/{what}" if what else "")


def list_totals(datasets: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Cards of the list page: datasets, failing, drifting and never checked."""
    checks = [d["last_check"] for d in datasets if d["last_check"] is not None]
    return {
        "datasets": len(datasets),
        "failing": sum(1 for c in checks if not c["passed"]),
        "drifting": sum(1 for c in checks if c["dataset_drift"]),
        "unchecked": sum(1 for d in datasets if d["last_check"] is None),
    }


def order_datasets(datasets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Failing first, then unchecked, then passing; by name within each."""
    rank = {"failed": 0, "unchecked": 1, "passed": 2}
    rows = [{**d, "url": dataset_path(d["dataset"])} for d in datasets]
    return sorted(rows, key=lambda d: (rank[d["status"]], d["dataset"]))


def drift_table(drift: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Drift rows for the table: drifted columns first, then tested, then skipped."""
    rows = [dict(d) for d in drift]
    rows.sort(key=lambda d: (not d["drifted"], d["skipped"], d["column"]))
    return rows


def failures_by_column(failures: Sequence[Mapping[str, Any]]) -> set[str]:
    return {f["column"] for f in failures if f.get("column")}


def _drift_order(drift: Sequence[Mapping[str, Any]]) -> list[str]:
    """Columns by how much they drifted in the check: drifted first, then by value."""
    tested = [d for d in drift if not d["skipped"] and d["value"] is not None]
    tested.sort(key=lambda d: (not d["drifted"], -float(d["value"]), d["column"]))
    return [d["column"] for d in tested]


def drift_chart(
    series: Sequence[Mapping[str, Any]],
    drift: Sequence[Mapping[str, Any]],
    start: float,
    end: float,
) -> dict[str, Any]:
    """One line per column (the :data:`MAX_DRIFT_SERIES` most drifted in the shown check,
    else in the range), and the threshold when the drawn columns share one."""
    by_column = {s["column"]: s["points"] for s in series}
    order = [c for c in _drift_order(drift) if c in by_column]
    if not order:  # no shown check, or its columns have no point in the range
        last = {c: p[-1] for c, p in by_column.items() if p and p[-1]["value"] is not None}
        order = sorted(last, key=lambda c: (not last[c]["drifted"], -last[c]["value"], c))
    chosen = order[:MAX_DRIFT_SERIES]
    lines = []
    thresholds = set()
    for name in chosen:
        points = by_column[name]
        lines.append(
            {"name": name, "x": [p["time"] for p in points], "y": [p["value"] for p in points]}
        )
        thresholds |= {p["threshold"] for p in points}
    if len(thresholds) == 1 and None not in thresholds:
        (level,) = thresholds
        lines.append(
            {"name": "threshold", "x": [start, end], "y": [level, level], "color": "--danger"}
        )
    return {"series": lines, "hidden": max(len(by_column) - len(chosen), 0)}


def history_charts(history: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Rows, and size, of each profile and each check's data over time."""
    x = [h["time"] for h in history]
    rows = [{"name": "rows", "x": x, "y": [h["rows"] for h in history]}]
    sizes, unit = bytes_unit([{"name": "size", "x": x, "y": [h["bytes"] for h in history]}])
    return {"rows": rows, "bytes": sizes, "bytes_unit": unit}


def histogram_charts(
    columns: Sequence[Mapping[str, Any]],
    drift: Sequence[Mapping[str, Any]],
    failing: set[str],
) -> tuple[list[dict[str, Any]], int]:
    """One bar chart per column (reference and current share of values per bin), drifted
    and failing columns first; and how many columns were left out."""
    rank = {name: i for i, name in enumerate(_drift_order(drift))}
    drifted = {d["column"] for d in drift if d["drifted"]}
    ordered = sorted(
        columns,
        key=lambda c: (
            c["column"] not in drifted,
            c["column"] not in failing,
            rank.get(c["column"], len(rank)),
            c["column"],
        ),
    )
    charts = []
    for i, col in enumerate(ordered[:MAX_HISTOGRAMS]):
        labels = [b["label"] for b in col["bins"]]
        series = []
        for side, color in (("reference", "--muted"), ("current", "--chart-2")):
            shares = [b[f"{side}_share"] for b in col["bins"]]
            if all(s is None for s in shares):
                continue
            y = [None if s is None else 100.0 * s for s in shares]
            series.append({"name": side, "x": labels, "y": y, "color": color})
        charts.append(
            {
                "id": f"chart-hist-{i}",
                "column": col["column"],
                "kind": col.get("kind"),
                "drifted": col["column"] in drifted,
                "failing": col["column"] in failing,
                "series": series,
                "exact": col.get("exact", True),
            }
        )
    return charts, max(len(columns) - MAX_HISTOGRAMS, 0)
