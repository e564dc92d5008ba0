"""Profiles as versioned JSON: plain numbers for people, sketches as base64 for machines.

``{"format": "mlvitals.profile", "version": 1, "rows": ..., "columns": [...], ...}``. Each
column carries its statistics in the clear (``mean``, ``std``, ``min``, ``max``, ``quantiles``,
``distinct``, ``top``) next to the sketches they come from (``sketches.kll``, ``sketches.hll``,
``sketches.frequent``), which are what a reader merges and tests with; the readable numbers
are written for people and other tools and ignored on reading. Non-finite floats are written
as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.

>>> import pyarrow as pa
>>> from mlvitals.quality import profile
>>> p = profile(pa.table({"x": [1.0, 2.0, 3.0]}))
>>> loads(dumps(p)) == p
True
"""

from __future__ import annotations

import base64
import json
import math
import zlib
from typing import Any, Literal

import numpy as np

from mlvitals.errors import InputError
from mlvitals.quality.columns import ColumnKind
from mlvitals.quality.correlation import CoMoments
from mlvitals.quality.distinct import DistinctSketch
from mlvitals.quality.frequent import TopValues
from mlvitals.quality.histogram import Histogram
from mlvitals.quality.moments import Moments
from mlvitals.quality.profiles import ColumnProfile, Profile
from mlvitals.quality.quantiles import KllSketch

FORMAT = "mlvitals.profile"
VERSION = 1
_SHOWN_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def _b64(data: bytes, *, compress: bool = False) -> str:
    return base64.b64encode(zlib.compress(data, 6) if compress else data).decode("ascii")


def _unb64(text: str, *, compressed: bool = False) -> bytes:
    raw = base64.b64decode(text.encode("ascii"), validate=True)
    return zlib.decompress(raw) if compressed else raw


def num(x: float | None) -> float | str | None:
    """A float as JSON: non-finite values as strings."""
    if x is None:
        return None
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return float(x)


def unnum(x: Any) -> float:
    if isinstance(x, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[x]
    return float(x)


def _matrix(m: np.ndarray) -> list[list[float | str | None]]:
    return [[num(float(v)) for v in row] for row in m]


def _unmatrix(rows: list[list[Any]]) -> np.ndarray:
    return np.array([[unnum(v) for v in row] for row in rows], dtype=np.float64)


def column_to_dict(c: ColumnProfile) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": c.name,
        "type": c.type,
        "logical": c.logical,
        "kind": str(c.kind),
        "count": c.count,
        "nulls": c.nulls,
    }
    if c.kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME):
        d["nan"], d["inf"] = c.nan, c.inf
    if c.order is not None:
        d["order"] = c.order
    sketches: dict[str, Any] = {}
    if c.moments is not None:
        m = c.moments
        d["mean"], d["std"] = num(c.mean), num(c.std)
        d["min"], d["max"] = num(c.min), num(c.max)
        d["moments"] = {
            "count": m.count,
            "mean": num(m.mean),
            "m2": num(m.m2),
            "min": num(m.min),
            "max": num(m.max),
        }
    if c.quantiles is not None:
        if c.valid:
            shown = c.quantiles.quantiles(list(_SHOWN_QUANTILES))
            d["quantiles"] = {str(q): num(v) for q, v in zip(_SHOWN_QUANTILES, shown, strict=True)}
        sketches["kll"] = _b64(c.quantiles.data)
    if c.histogram is not None:
        d["histogram"] = {
            "edges": [num(e) for e in c.histogram.edges],
            "counts": list(c.histogram.counts),
        }
    if c.distinct is not None:
        d["distinct"] = c.distinct_count
        sketches["hll"] = {
            "lg_k": c.distinct.lg_k,
            "registers": _b64(c.distinct.registers, compress=True),
        }
    if c.top is not None:
        d["top"] = [[v, n] for v, n in c.top.items(limit=20)]
        d["top_exact"] = c.top.exact
        sketches["frequent"] = {
            "kind": c.top.kind,
            "data": _b64(c.top.data),
            "dropped": c.top.dropped,
        }
    if sketches:
        d["sketches"] = sketches
    return d


def column_from_dict(d: dict[str, Any]) -> ColumnProfile:
    sk = d.get("sketches", {})
    moments = None
    if "moments" in d:
        m = d["moments"]
        moments = Moments(
            int(m["count"]), unnum(m["mean"]), unnum(m["m2"]), unnum(m["min"]), unnum(m["max"])
        )
    histogram = None
    if "histogram" in d:
        h = d["histogram"]
        histogram = Histogram(
            tuple(unnum(e) for e in h["edges"]), tuple(int(c) for c in h["counts"])
        )
    distinct = None
    if "hll" in sk:
        distinct = DistinctSketch(
            int(sk["hll"]["lg_k"]), _unb64(sk["hll"]["registers"], compressed=True)
        )
    top = None
    if "frequent" in sk:
        f = sk["frequent"]
        top = TopValues(f["kind"], _unb64(f["data"]), int(f.get("dropped", 0)))
    return ColumnProfile(
        name=str(d["name"]),
        type=str(d["type"]),
        logical=str(d["logical"]),
        kind=ColumnKind(d["kind"]),
        count=int(d["count"]),
        nulls=int(d["nulls"]),
        distinct=distinct,
        nan=int(d.get("nan", 0)),
        inf=int(d.get("inf", 0)),
        moments=moments,
        quantiles=KllSketch(_unb64(sk["kll"])) if "kll" in sk else None,
        histogram=histogram,
        top=top,
        order=_order(d.get("order")),
    )


def _order(value: Any) -> Literal["ascending", "descending"] | None:
    if value is None:
        return None
    if value not in ("ascending", "descending"):
        raise ValueError(f"order must be ascending or descending, got {value!r}")
    return "ascending" if value == "ascending" else "descending"


def to_dict(p: Profile) -> dict[str, Any]:
    d: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "rows": p.rows,
        "duplicate_rows": p.duplicate_rows,
        "columns": [column_to_dict(c) for c in p.columns],
    }
    if p.correlation is not None:
        cm = p.correlation
        d["correlation"] = {
            "columns": list(cm.columns),
            "pearson": _matrix(cm.matrix()),
            "comoments": {
                "n": _matrix(cm.n),
                "mean": _matrix(cm.mean),
                "m2": _matrix(cm.m2),
                "c": _matrix(cm.c),
            },
        }
    return d


def from_dict(d: Any, *, source: str = "profile") -> Profile:
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise InputError(f'{source} is not an mlvitals profile (no "format": "{FORMAT}")')
    if d.get("version") != VERSION:
        raise InputError(
            f"incompatible profiles: {source} has format version {d.get('version')}, this "
            f"mlvitals reads version {VERSION}; re-create it with this version"
        )
    try:
        columns = tuple(column_from_dict(c) for c in d["columns"])
        correlation = None
        if "correlation" in d:
            c = d["correlation"]["comoments"]
            correlation = CoMoments(
                tuple(d["correlation"]["columns"]),
                _unmatrix(c["n"]),
                _unmatrix(c["mean"]),
                _unmatrix(c["m2"]),
                _unmatrix(c["c"]),
            )
        dup = d.get("duplicate_rows")
        return Profile(int(d["rows"]), columns, correlation, None if dup is None else int(dup))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{source} is a damaged profile ({type(exc).__name__}: {exc})") from None


def dumps(p: Profile) -> str:
    return json.dumps(to_dict(p), separators=(",", ":"))


def loads(text: str | bytes, *, source: str = "profile") -> Profile:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source} is not JSON: {exc}") from None
    return from_dict(doc, source=source)
