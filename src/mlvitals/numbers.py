"""Numbers for people: one formatting function for every report and page.

Whole numbers get thousands separators, other numbers a few significant digits without an
exponent where that stays short, and tiny or huge ones a power of ten; a unit, where one is
known, scales the number (bytes to KiB/MiB/GiB, seconds to ms or minutes, shares to percent).

>>> format_number(49040.3), format_number(1234567), format_number(0.012345)
('49,040', '1,234,567', '0.01235')
>>> format_number(3.2e-12), format_number(2.5e17), format_number(None)
('3.2×10⁻¹²', '2.5×10¹⁷', '—')
>>> format_number(0.0046, unit="%"), format_number(3 * 2**20, unit="bytes")
('0.46%', '3 MiB')
>>> format_number(0.35, unit="s"), format_number(125, unit="s"), format_number(12.5, unit="rows")
('350 ms', '2.08 min', '12.5 rows')
"""

from __future__ import annotations

import math

MISSING = "—"
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_BYTES = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB")


def format_number(value: float | int | None, *, unit: str | None = None, digits: int = 4) -> str:
    """``value`` for a person: ``digits`` significant digits, thousands separators, a power
    of ten below 0.001 or from 10^15 on, scaled to ``unit`` where it is known (``%`` for a
    share given as a fraction, ``bytes``, ``s``); any other unit is appended as it is.
    ``None`` is shown as a dash, NaN as ``NaN`` and infinities as ``∞``."""
    if value is None:
        return MISSING
    if unit == "%":
        return _plain(float(value) * 100, digits) + "%"
    if unit in ("bytes", "B"):
        return _bytes(float(value), digits)
    if unit in ("s", "seconds"):
        return _seconds(float(value), digits)
    text = _plain(value, digits)
    return f"{text} {unit}" if unit else text


def _plain(value: float | int, digits: int) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) < 10**15 else _power(float(value), digits)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "0"
    size = abs(value)
    if size < 1e-3 or size >= 1e15:
        return _power(value, digits)
    rounded = float(f"{value:.{digits}g}")
    if abs(rounded) >= 10 ** (digits - 1):
        return f"{round(rounded):,}"  # all significant digits are left of the point
    return f"{rounded:,.{digits}g}"


def _power(value: float, digits: int) -> str:
    mantissa, exponent = f"{value:.{max(digits - 1, 0)}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}×10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def _bytes(value: float, digits: int) -> str:
    step = 0
    while abs(value) >= 1024 and step < len(_BYTES) - 1:
        value /= 1024
        step += 1
    return f"{_plain(value, digits if step else 15)} {_BYTES[step]}"


def _seconds(value: float, digits: int) -> str:
    if value != 0 and abs(value) < 1:
        return f"{_plain(value * 1000, digits - 1)} ms"
    if abs(value) >= 120:
        return f"{_plain(value / 60, digits - 1)} min"
    return f"{_plain(value, digits - 1)} s"
