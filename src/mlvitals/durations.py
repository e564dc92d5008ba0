"""The one duration grammar: API time ranges, rule files, pipeline configs, settings, CLI.

A duration is a number of seconds (``90``, ``2.5``) or amounts with units, largest unit
first and each unit at most once: ``500ms``, ``30s``, ``5m``, ``1h30m``, ``1d``, ``1w``.
Units are ``ms``, ``s``, ``m``, ``h``, ``d`` (24 hours) and ``w`` (7 days), lower case
(``M`` could be read as months). Spaces may separate the parts (``2h 15m``).

>>> parse_duration("1h30m"), parse_duration("500ms"), parse_duration(90)
(5400.0, 0.5, 90.0)
>>> format_duration(5400.0)
'1h30m'
>>> parse_duration("1m30h")
Traceback (most recent call last):
...
mlvitals.errors.DurationError: units out of order in '1m30h': write the largest unit first, ...
"""

from __future__ import annotations

import math
import re

from mlvitals.errors import DurationError

__all__ = ["FORMS", "MAX_SECONDS", "format_duration", "parse_duration"]

FORMS = (
    "a duration is seconds (90) or amounts with units ms, s, m, h, d, w, largest first: "
    "500ms, 30s, 5m, 1h30m, 1d, 1w"
)
UNITS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
# A century is longer than anything mlvitals keeps; beyond it a typo is likelier than intent.
MAX_SECONDS = 36525 * 86400.0

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*")
_RANK = {unit: i for i, unit in enumerate(UNITS)}


def _fail(problem: str) -> DurationError:
    return DurationError(f"{problem}; {FORMS}")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:36] + "...'"


def _parse_text(text: str) -> float:
    body = text.strip()
    if not body:
        raise _fail("empty duration")
    if body.startswith("-"):
        raise _fail(f"a duration cannot be negative, got {_shown(text)}")
    if _NUMBER.fullmatch(body):
        return _checked(float(body), text)
    total, pos, last = 0.0, 0, -1
    while pos < len(body):
        m = _PART.match(body, pos)
        if m is None:
            if body.lower() != body and _is_duration(body.lower()):
                raise _fail(f"units are lower case, got {_shown(text)}")
            raise _fail(f"not a duration: {_shown(text)}")
        rank = _RANK[m.group(2)]
        if rank <= last:
            raise _fail(
                f"units out of order in {_shown(text)}: write the largest unit first, each once"
            )
        last, pos = rank, m.end()
        total += float(m.group(1)) * UNITS[m.group(2)]
    return _checked(total, text)


def _is_duration(text: str) -> bool:
    try:
        _parse_text(text)
    except DurationError:
        return False
    return True


def _checked(seconds: float, value: object) -> float:
    if not math.isfinite(seconds) or seconds > MAX_SECONDS:
        raise _fail(f"{_shown(value)} is longer than 36525d (100 years)")
    if seconds < 0:
        raise _fail(f"a duration cannot be negative, got {_shown(value)}")
    return seconds


def parse_duration(value: object, *, positive: bool = False) -> float:
    """Seconds from a duration string or a number of seconds (as read from YAML or a form).

    Raises :class:`~mlvitals.errors.DurationError` (a ``ConfigError`` and a ``ValueError``)
    saying what was wrong and which forms are accepted; zero is allowed unless ``positive``.

    >>> parse_duration(" 1w2d "), parse_duration("1.5h"), parse_duration("0")
    (777600.0, 5400.0, 0.0)
    >>> parse_duration("0s", positive=True)
    Traceback (most recent call last):
    ...
    mlvitals.errors.DurationError: must be a positive duration, got '0s'; a duration is ...
    """
    if isinstance(value, str):
        seconds = _parse_text(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if math.isnan(value):
            raise _fail(f"not a duration: {_shown(value)}")
        seconds = _checked(float(value), value)
    else:
        raise _fail(f"not a duration: {_shown(value)}")
    if positive and seconds == 0:
        raise _fail(f"must be a positive duration, got {_shown(value)}")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest ``9d1h2m3s`` form for people; it parses back to the same seconds.

    Milliseconds show under a minute only; from a minute on, seconds are rounded.

    >>> format_duration(90), format_duration(0.25), format_duration(1.5), format_duration(0)
    ('1m30s', '250ms', '1s500ms', '0s')
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"cannot format {seconds!r} as a duration")
    if seconds < 60:
        ms = round(seconds * 1000)
        whole, rest = divmod(ms, 1000)
        text = (f"{whole}s" if whole else "") + (f"{rest}ms" if rest else "")
        return text or "0s"
    total = round(seconds)
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        n, total = divmod(total, size)
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)
