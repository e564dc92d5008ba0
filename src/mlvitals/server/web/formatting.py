"""Number and time formatting for dashboard pages (registered as Jinja filters).

>>> count(1234567)
'1,234,567'
>>> ago(1000.0, 1130.0)
'2 min ago'
>>> utc(0.0)
'1970-01-01 00:00:00 UTC'
>>> utc(1e12)  # a time no calendar here can show: a page still renders
'1e+12 (out of range)'
>>> str(inline_code("run `mlvitals serve` <now>"))
'run <code>mlvitals serve</code> &lt;now&gt;'
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from markupsafe import Markup, escape


def count(value: int | float | None) -> str:
    """A whole number with thousands separators; an em dash when there is none."""
    if value is None:
        return "—"
    return f"{round(value):,}"


def to_datetime(when: float) -> datetime | None:
    """A Unix time as an aware UTC datetime; None when the calendar cannot hold it.

    A database may hold any number (rows written by an older server, or by another tool):
    a page shows such a time as out of range instead of failing.
    """
    try:
        return datetime.fromtimestamp(when, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def out_of_range(when: float) -> str:
    return f"{when:.4g} (out of range)"


def ago(then: float | None, now: float) -> str:
    """How long before ``now`` the Unix time ``then`` was, in the largest sensible unit."""
    if then is None:
        return "never"
    if not math.isfinite(then):
        return out_of_range(then)
    seconds = max(0.0, now - then)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return f"{days} day ago" if days == 1 else f"{days} days ago"


def utc(when: float | None) -> str:
    """A Unix time as ``YYYY-MM-DD HH:MM:SS UTC``."""
    if when is None:
        return "—"
    moment = to_datetime(when)
    return out_of_range(when) if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(when: float | None) -> str:
    """A Unix time as an ISO 8601 string, for ``<time datetime=...>``."""
    moment = None if when is None else to_datetime(when)
    return "" if moment is None else moment.isoformat(timespec="seconds")


def inline_code(text: str) -> Markup:
    """Escape ``text`` and show its `backticked` parts as ``<code>``."""
    parts = text.split("`")
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if i % 2 else escape(part)
        for i, part in enumerate(parts)
    )
