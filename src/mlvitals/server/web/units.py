"""Numbers with units for dashboard pages: durations, rates, shares and byte sizes.

Each function takes the raw value the queries return (seconds, calls per second, a fraction,
bytes) and shows it with three significant digits in a unit a person reads at a glance;
``None`` (nothing measured) is an em dash. They are registered as Jinja filters.

>>> duration(0.01234), duration(2.5), duration(0.000042), duration(None)
('12.3 ms', '2.50 s', '42.0 µs', '—')
>>> rate(1234.5), rate(0.25), percent(0.01234), percent(0.0)
('1,234/s', '0.250/s', '1.23 %', '0 %')
>>> size(512 * 1024**2), size(1536)
('512 MiB', '1.50 KiB')
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

MISSING = "—"


def significant(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits, in plain (never exponent) notation.

    >>> significant(0.0012345), significant(12.345), significant(1234.5)
    ('0.00123', '12.3', '1,234')
    """
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else MISSING
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:,.{decimals}f}"
    # Rounding can carry into a new digit (9.996 -> 10.00): drop the extra decimal.
    if decimals and len(text.replace(",", "").replace(".", "").lstrip("-0")) > digits:
        text = f"{value:,.{decimals - 1}f}"
    return text


def _rounded(value: float, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant digits, so that 0.9996 s picks the unit
    of 1.00 s and not of 999.6 ms."""
    return float(f"{value:.{digits}g}")


def duration(seconds: float | None) -> str:
    """Seconds in µs, ms, s, min or h, whichever keeps the number between 1 and 1000."""
    if seconds is None or not math.isfinite(seconds):
        return MISSING
    if seconds == 0:
        return "0 s"
    seconds = _rounded(seconds)
    for unit, factor in (("µs", 1e-6), ("ms", 1e-3), ("s", 1.0), ("min", 60.0)):
        limit = 60.0 if unit in ("s", "min") else 1000.0
        if abs(seconds) < factor * limit:
            return f"{significant(seconds / factor)} {unit}"
    return f"{significant(seconds / 3600.0)} h"


def rate(per_second: float | None) -> str:
    """Events per second, e.g. ``12.3/s``."""
    if per_second is None or not math.isfinite(per_second):
        return MISSING
    return f"{significant(per_second)}/s"


def percent(fraction: float | None) -> str:
    """A fraction as a percentage, e.g. ``0.0123`` as ``1.23 %``."""
    if fraction is None or not math.isfinite(fraction):
        return MISSING
    return f"{significant(fraction * 100)} %"


def size(n_bytes: float | None) -> str:
    """Bytes in binary units (KiB, MiB, GiB, TiB)."""
    if n_bytes is None or not math.isfinite(n_bytes):
        return MISSING
    value = _rounded(float(n_bytes))
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024:
            return f"{significant(value)} {unit}" if unit != "B" else f"{round(value)} B"
        value /= 1024
    return f"{significant(value)} TiB"


def span(seconds: float) -> str:
    """A length of time in the largest whole unit, e.g. ``30 s``, ``5 min``, ``24 h``, ``7 days``.

    >>> span(30.0), span(300.0), span(86400.0), span(7 * 86400.0), span(45.5)
    ('30 s', '5 min', '24 h', '7 days', '45.5 s')
    """
    whole = round(seconds)
    if whole != seconds or whole < 60 or whole % 60:
        return f"{seconds:g} s"
    if whole % 86400 == 0 and whole >= 2 * 86400:
        return f"{whole // 86400} days"
    if whole % 3600 == 0:
        return f"{whole // 3600} h"
    return f"{whole // 60} min"


FILTERS: dict[str, Callable[..., Any]] = {
    "duration": duration,
    "rate": rate,
    "percent": percent,
    "size": size,
    "span": span,
}
