"""Queries over stored profiles and checks, shared by the API, the pages and alert rules.

Summary columns are read without the stored JSON documents (which can be megabytes); only
:func:`check_document` and :func:`profile_document` read one document, by id.

>>> from mlvitals.server.database import open_database
>>> store = open_database(":memory:")
>>> list_datasets(store)
[]
>>> store.close()
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any
from urllib.parse import quote

from mlvitals.store import Store

_CHECK_SUMMARY = (
    "dataset, time, check_id, run_id, step_id, data_name, reference, passed, dataset_drift, "
    "drifted_share, dataset_share, columns_tested, columns_drifted, failure_count, rows, "
    "reference_rows, column_count, bytes, result_bytes, trimmed"
)
_DRIFT_COLUMNS = (
    "time, check_id, column_name, kind, method, test, statistic, p_value, p_adjusted, alpha, "
    "effect, effect_size, threshold, drifted, skipped, route, n_reference, n_current, note"
)
MAX_POINTS = 100_000
"""Rows a history or drift series query reads at most (the most recent ones)."""


def drift_value(row: dict[str, Any]) -> float | None:
    """A column's drift as one number: its effect size (a distance, the number its
    threshold applies to), else its test statistic (for a column tested by a test alone).

    >>> drift_value({"effect_size": 0.4, "statistic": 0.2}), drift_value({"statistic": 0.2})
    (0.4, 0.2)
    """
    value = row.get("effect_size")
    if value is None:
        value = row.get("statistic")
    return None if value is None else float(value)


def _check(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in ("passed", "dataset_drift"):
        out[key] = bool(out[key])
    out["id"] = out.pop("check_id")
    out["trimmed"] = json.loads(out["trimmed"]) if out.get("trimmed") else []
    return out


def _drift(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["column"] = out.pop("column_name")
    out["drifted"], out["skipped"] = bool(out["drifted"]), bool(out["skipped"])
    out["value"] = drift_value(out)
    return out


def _latest(store: Store, table: str, columns: str, dataset: str | None) -> list[dict[str, Any]]:
    """The latest row of each dataset (of one dataset), newest id first on a tie of time."""
    where, params = ("WHERE dataset = ?", [dataset]) if dataset is not None else ("", [])
    rows = store.fetch(
        f"SELECT {columns} FROM {table} t JOIN (SELECT dataset AS d, MAX(time) AS m"
        f" FROM {table} {where} GROUP BY dataset) latest ON t.dataset = latest.d"
        " AND t.time = latest.m",
        params,
    )
    best: dict[str, dict[str, Any]] = {}
    id_key = "check_id" if table == "check_results" else "profile_id"
    for r in rows:
        kept = best.get(r["dataset"])
        if kept is None or r[id_key] > kept[id_key]:
            best[r["dataset"]] = r
    return list(best.values())


def latest_checks(store: Store, dataset: str | None = None) -> list[dict[str, Any]]:
    """The latest check of every dataset (or of one), without its document. One query."""
    return [_check(r) for r in _latest(store, "check_results", _CHECK_SUMMARY, dataset)]


def check_counts(store: Store) -> dict[tuple[str, bool], int]:
    """Checks stored per (dataset, passed)."""
    rows = store.fetch(
        "SELECT dataset, passed, COUNT(*) AS n FROM check_results GROUP BY dataset, passed"
    )
    return {(r["dataset"], bool(r["passed"])): int(r["n"]) for r in rows}


def list_datasets(store: Store) -> list[dict[str, Any]]:
    """Every dataset with a profile or a check: counts, the latest check's verdict, and the
    rows, columns and size of the latest data seen (profiled or checked). Four queries."""
    counts: dict[str, dict[str, Any]] = defaultdict(dict)
    for table, kind in (("dataset_profiles", "profiles"), ("check_results", "checks")):
        for r in store.fetch(
            f"SELECT dataset, COUNT(*) AS n, MAX(time) AS last FROM {table} GROUP BY dataset"
        ):
            counts[r["dataset"]][kind] = (int(r["n"]), float(r["last"]))
    checks = {c["dataset"]: c for c in latest_checks(store)}
    profiles = {
        p["dataset"]: p
        for p in _latest(
            store, "dataset_profiles", "dataset, time, profile_id, rows, column_count, bytes", None
        )
    }
    out = []
    for name in sorted(counts):
        check, prof = checks.get(name), profiles.get(name)
        # The latest data seen, profiled or checked.
        seen = max((x for x in (check, prof) if x is not None), key=lambda x: float(x["time"]))
        n_profiles, last_profile = counts[name].get("profiles", (0, None))
        n_checks, last_check = counts[name].get("checks", (0, None))
        out.append(
            {
                "dataset": name,
                "status": "unchecked"
                if check is None
                else "passed"
                if check["passed"]
                else "failed",
                "profiles": n_profiles,
                "checks": n_checks,
                "last_profile_at": last_profile,
                "last_check_at": last_check,
                "rows": seen["rows"],
                "columns": seen["column_count"],
                "bytes": seen["bytes"],
                "last_check": check,
            }
        )
    return out


def dataset_exists(store: Store, dataset: str) -> bool:
    rows = store.fetch(
        "SELECT 1 AS x FROM check_results WHERE dataset = ?"
        " UNION ALL SELECT 1 AS x FROM dataset_profiles WHERE dataset = ?",
        (dataset, dataset),
    )
    return bool(rows)


def check_summary(store: Store, dataset: str, check_id: str | None = None) -> dict[str, Any] | None:
    """One check (the latest by default) with its failures, notes and per-column drift."""
    if check_id is None:
        found = latest_checks(store, dataset)
        if not found:
            return None
        check_id = found[0]["id"]
    rows = store.fetch(
        f"SELECT {_CHECK_SUMMARY}, failures, notes FROM check_results"
        " WHERE dataset = ? AND check_id = ?",
        (dataset, check_id),
    )
    if not rows:
        return None
    out = _check(rows[0])
    out["failures"] = json.loads(out["failures"])
    out["notes"] = json.loads(out["notes"])
    drift = store.fetch(
        f"SELECT {_DRIFT_COLUMNS} FROM check_drift WHERE dataset = ? AND check_id = ?"
        " ORDER BY column_name",
        (dataset, check_id),
    )
    out["drift"] = [_drift(r) for r in drift]
    return out


def recent_checks(
    store: Store, dataset: str, limit: int = 50, start: float | None = None
) -> list[dict[str, Any]]:
    """The dataset's checks, newest first, without documents."""
    since, params = ("AND time >= ?", [start]) if start is not None else ("", [])
    rows = store.fetch(
        f"SELECT {_CHECK_SUMMARY} FROM check_results WHERE dataset = ? {since}"
        " ORDER BY time DESC, check_id DESC LIMIT ?",
        [dataset, *params, limit],
    )
    return [_check(r) for r in rows]


def history(store: Store, dataset: str, start: float, end: float) -> list[dict[str, Any]]:
    """Rows, columns and size of each profile and each check's data in ``[start, end)``,
    oldest first (the :data:`MAX_POINTS` most recent)."""
    rows = store.fetch(
        "SELECT * FROM (SELECT 'profile' AS source, time, profile_id AS id, rows,"
        " column_count, bytes FROM dataset_profiles WHERE dataset = ? AND time >= ? AND time < ?"
        " UNION ALL SELECT 'check' AS source, time, check_id AS id, rows, column_count, bytes"
        " FROM check_results WHERE dataset = ? AND time >= ? AND time < ?) h"
        " ORDER BY time DESC, id DESC LIMIT ?",
        (dataset, start, end, dataset, start, end, MAX_POINTS),
    )
    return [
        {
            "source": r["source"],
            "time": float(r["time"]),
            "id": r["id"],
            "rows": int(r["rows"]),
            "columns": int(r["column_count"]),
            "bytes": None if r["bytes"] is None else int(r["bytes"]),
        }
        for r in reversed(rows)
    ]


def drift_series(
    store: Store, dataset: str, start: float, end: float, column: str | None = None
) -> list[dict[str, Any]]:
    """Per column, its drift in each check of ``[start, end)``, oldest first. One query
    on the (dataset, column, time) index."""
    where, params = ("AND column_name = ?", [column]) if column is not None else ("", [])
    rows = store.fetch(
        f"SELECT {_DRIFT_COLUMNS} FROM check_drift WHERE dataset = ? {where}"
        " AND time >= ? AND time < ? ORDER BY time DESC, check_id DESC LIMIT ?",
        [dataset, *params, start, end, MAX_POINTS],
    )
    by_column: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in reversed(rows):
        point = _drift(r)
        by_column[point.pop("column")].append(point)
    return [{"column": name, "points": points} for name, points in sorted(by_column.items())]


def check_document(
    store: Store, dataset: str, check_id: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(summary, the stored check document) of one check, the latest by default."""
    summary = check_summary(store, dataset, check_id)
    if summary is None:
        return None
    rows = store.fetch(
        "SELECT result FROM check_results WHERE dataset = ? AND check_id = ?",
        (dataset, summary["id"]),
    )
    return summary, json.loads(rows[0]["result"])


def profile_document(
    store: Store, dataset: str, profile_id: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(summary, the stored profile document) of one profile, the latest by default."""
    if profile_id is None:
        found = _latest(store, "dataset_profiles", "dataset, time, profile_id", dataset)
        if not found:
            return None
        profile_id = found[0]["profile_id"]
    rows = store.fetch(
        "SELECT time, profile_id, source, rows, column_count, bytes, profile"
        " FROM dataset_profiles WHERE dataset = ? AND profile_id = ?",
        (dataset, profile_id),
    )
    if not rows:
        return None
    r = rows[0]
    summary = {
        "id": r["profile_id"],
        "time": float(r["time"]),
        "source": r["source"],
        "rows": int(r["rows"]),
        "columns": int(r["column_count"]),
        "bytes": r["bytes"],
    }
    return summary, json.loads(r["profile"])


def check_changes(
    store: Store, start: float, end: float, dataset: str | None = None
) -> list[dict[str, Any]]:
    """Checks in ``[start, end)`` that failed or found the dataset drifted."""
    where, params = ("dataset = ? AND ", [dataset]) if dataset is not None else ("", [])
    rows = store.fetch(
        "SELECT dataset, time, passed, dataset_drift, columns_drifted, failure_count"
        f" FROM check_results WHERE {where}time >= ? AND time < ?"
        " AND (passed = 0 OR dataset_drift = 1) ORDER BY time",
        [*params, start, end],
    )
    out = []
    for r in rows:
        found = []
        if not r["passed"]:
            found.append(("check_failed", f"check failed ({int(r['failure_count'])} failures)"))
        if r["dataset_drift"]:
            found.append(("drift", f"drifted ({int(r['columns_drifted'])} columns)"))
        for kind, text in found:
            out.append(
                {
                    "time": float(r["time"]),
                    "area": "quality",
                    "kind": kind,
                    "subject": r["dataset"],
                    "text": f"{r['dataset']}: {text}",
                    "url": "/datasets/" + quote(r["dataset"], safe=""),
                }
            )
    return out
