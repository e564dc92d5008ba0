"""Reference and current distributions of each column, read from stored profile documents.

Numeric columns have histograms with exact counts; in a check both sides are binned on the
bin edges frozen from the reference, so their bins pair up. Categorical and boolean columns
have their value counts (exact up to 768 distinct values; from the readable top 20 when the
sketches were left out to fit the record limit). Shares are counts over the column's
non-missing values, so sides of different sizes compare.

>>> ref = {"columns": [{"name": "x", "kind": "numeric", "count": 4, "nulls": 0,
...        "histogram": {"edges": [0.0, 1.0], "counts": [0, 2, 2]}}]}
>>> cur = {"columns": [{"name": "x", "kind": "numeric", "count": 4, "nulls": 0,
...        "histogram": {"edges": [0.0, 1.0], "counts": [1, 3, 0]}}]}
>>> (col,) = column_histograms(cur, ref)
>>> [b["label"] for b in col["bins"]], [b["current"] for b in col["bins"]]
(['< 0', '0 to 1', '≥ 1'], [1, 3, 0])
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

MAX_CATEGORIES = 20
"""Categories shown per column (the most frequent); the rest are summed as "(other)"."""

OTHER = "(other)"


def _number(value: Any) -> str:
    from mlvitals.quality.profile_json import unnum

    return f"{unnum(value):.4g}"


def _bin_labels(edges: list[Any]) -> list[dict[str, Any]]:
    """``(-inf, e0)``, ``[e0, e1)``, ..., ``[e_last, +inf)`` as labels with their bounds."""
    out = [{"label": f"< {_number(edges[0])}", "low": None, "high": edges[0]}]
    for low, high in pairwise(edges):
        out.append({"label": f"{_number(low)} to {_number(high)}", "low": low, "high": high})
    out.append({"label": f"≥ {_number(edges[-1])}", "low": edges[-1], "high": None})
    return out


def _share(count: int | None, total: int) -> float | None:
    return None if count is None or not total else count / total


def _bins(cur: dict[str, Any] | None, ref: dict[str, Any] | None) -> dict[str, Any] | None:
    hc = None if cur is None else cur.get("histogram")
    hr = None if ref is None else ref.get("histogram")
    if hc is None and hr is None:
        return None
    if hc is not None and hr is not None and hc["edges"] != hr["edges"]:
        hr = None  # binned on other edges: not comparable bin by bin
    shown = hc if hc is not None else hr
    edges = [] if shown is None else shown["edges"]
    if not edges:
        return None
    cur_counts = None if hc is None else [int(c) for c in hc["counts"]]
    ref_counts = None if hr is None else [int(c) for c in hr["counts"]]
    cur_total, ref_total = sum(cur_counts or []), sum(ref_counts or [])
    bins = []
    for i, label in enumerate(_bin_labels(edges)):
        c = None if cur_counts is None else cur_counts[i]
        r = None if ref_counts is None else ref_counts[i]
        bins.append(
            {
                **label,
                "current": c,
                "reference": r,
                "current_share": _share(c, cur_total),
                "reference_share": _share(r, ref_total),
            }
        )
    return {"type": "bins", "bins": bins, "current_total": cur_total, "reference_total": ref_total}


def _counts(col: dict[str, Any] | None) -> tuple[dict[str, int], bool] | None:
    """A categorical column's value counts and whether they are exact."""
    if col is None:
        return None
    if "frequent" in col.get("sketches", {}):
        from mlvitals.quality.profile_json import column_from_dict

        return column_from_dict(col).category_counts(), bool(col.get("top_exact"))
    if "top" in col:
        counts = {str(v): int(n) for v, n in col["top"]}
        # The readable list holds the top 20 only.
        return counts, bool(col.get("top_exact")) and len(counts) < 20
    return None


def _valid(col: dict[str, Any] | None) -> int:
    if col is None:
        return 0
    return int(col["count"]) - int(col["nulls"]) - int(col.get("nan", 0)) - int(col.get("inf", 0))


def _categories(cur: dict[str, Any] | None, ref: dict[str, Any] | None) -> dict[str, Any] | None:
    cc, rc = _counts(cur), _counts(ref)
    if cc is None and rc is None:
        return None
    cur_counts, cur_exact = cc or ({}, True)
    ref_counts, ref_exact = rc or ({}, True)
    cur_total, ref_total = _valid(cur), _valid(ref)
    order = sorted(
        set(cur_counts) | set(ref_counts),
        key=lambda v: (-ref_counts.get(v, 0), -cur_counts.get(v, 0), v),
    )
    shown = order[:MAX_CATEGORIES]
    bins = []
    for value in shown:
        c = cur_counts.get(value, 0) if cc is not None else None
        r = ref_counts.get(value, 0) if rc is not None else None
        bins.append(
            {
                "label": value,
                "current": c,
                "reference": r,
                "current_share": _share(c, cur_total),
                "reference_share": _share(r, ref_total),
            }
        )
    other_cur = cur_total - sum(cur_counts.get(v, 0) for v in shown) if cc is not None else None
    other_ref = ref_total - sum(ref_counts.get(v, 0) for v in shown) if rc is not None else None
    if not bins:
        return None
    if (other_cur or 0) > 0 or (other_ref or 0) > 0:
        bins.append(
            {
                "label": OTHER,
                "current": other_cur,
                "reference": other_ref,
                "current_share": _share(other_cur, cur_total),
                "reference_share": _share(other_ref, ref_total),
            }
        )
    return {
        "type": "categories",
        "bins": bins,
        "current_total": cur_total,
        "reference_total": ref_total,
        "exact": cur_exact and ref_exact,
    }


def column_histograms(
    current: dict[str, Any], reference: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Per column of the ``current`` profile document (in its order), its distribution and
    the ``reference`` document's, when given; columns with neither are left out."""
    ref_columns = {c["name"]: c for c in (reference or {}).get("columns", [])}
    out = []
    for col in current.get("columns", []):
        ref = ref_columns.get(col["name"])
        shape = _bins(col, ref) or _categories(col, ref)
        if shape is None:
            continue
        out.append({"column": col["name"], "kind": col.get("kind"), **shape})
    return out
