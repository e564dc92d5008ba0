"""``format_number``: the one formatting of numbers for people (reports and pages)."""

from __future__ import annotations

import math

import pytest

from mlvitals.numbers import format_number


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (0, {}, "0"),
        (-1234567, {}, "-1,234,567"),
        (49_040.3, {}, "49,040"),
        (999.96, {}, "1,000"),  # rounding to 4 digits carries into the thousands
        (-0.5, {}, "-0.5"),
        (123.456, {"digits": 2}, "120"),
        (0.000123, {}, "1.23×10⁻⁴"),
        (1e-300, {"digits": 2}, "1×10⁻³⁰⁰"),
        (math.nan, {}, "NaN"),
        (-math.inf, {}, "-∞"),
        (True, {}, "True"),
        (512, {"unit": "bytes"}, "512 bytes"),
        (1536, {"unit": "bytes"}, "1.5 KiB"),
        (1.0, {"unit": "%"}, "100%"),
        (0.0, {"unit": "s"}, "0 s"),
        (7, {"unit": "columns"}, "7 columns"),
    ],
)
def test_format_number(value: float, kwargs: dict[str, object], expected: str) -> None:
    assert format_number(value, **kwargs) == expected  # type: ignore[arg-type]


def test_the_significant_digits_match_python_rounding() -> None:
    for x in (3.14159, 271.828, 0.0031415, 12345.678):
        shown = format_number(x, digits=3).replace(",", "")
        assert float(shown) == pytest.approx(float(f"{x:.3g}"))


def test_docstring_examples() -> None:
    import doctest

    import mlvitals.numbers

    assert doctest.testmod(mlvitals.numbers).failed == 0
