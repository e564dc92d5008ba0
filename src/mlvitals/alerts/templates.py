"""Annotation templates: ``str.format`` fields filled from an alert's labels and value.

Fields are plain names (``{service}``, ``{value}``, ``{threshold}``, ``{rule}`` and any label
or extra field a signal provides) with an optional format spec (``{value:.1%}``). Attribute
and index access are refused when a rule is loaded, so a template can never reach into
Python objects. A field with no value renders as ``<no value>`` (as in Prometheus), and a
format spec that does not fit the value falls back to the plain value, so rendering never
fails at alert time.

>>> render("{service}: error rate {value:.1%} over {threshold:.0%}",
...        {"service": "fraud", "value": 0.123, "threshold": 0.05})
'fraud: error rate 12.3% over 5%'
>>> render("{missing} {value:.2f}", {"value": "n/a"})
'<no value> n/a'
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import Any

NO_VALUE = "<no value>"


class _Missing:
    pass


_MISSING = _Missing()


class _SafeFormatter(string.Formatter):
    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, int):
            return _MISSING
        return kwargs.get(key, _MISSING)

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        # No attribute or index lookups: the whole field name is one key.
        return self.get_value(field_name, args, kwargs), field_name

    def format_field(self, value: Any, format_spec: str) -> str:
        if value is _MISSING:
            return NO_VALUE
        try:
            return format(value, format_spec)
        except (TypeError, ValueError):
            return str(value)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        return value if conversion is None or value is _MISSING else str(value)


_FORMATTER = _SafeFormatter()


def check_template(template: str) -> None:
    """Raise ``ValueError`` unless ``template`` only uses plain named fields."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(
            f"bad template {template!r}: {exc} (write {{{{ for a literal {{)"
        ) from None
    for _, name, spec, _ in parsed:
        if name is None:
            continue
        if not name.isidentifier():
            raise ValueError(
                f"template field {{{name}}} must be a plain name like {{service}} or {{value}}"
            )
        if spec and "{" in spec:
            raise ValueError(f"template field {{{name}}} may not nest fields in its format")


def render(template: str, fields: Mapping[str, Any]) -> str:
    """Fill ``template`` from ``fields``; never raises for a template that passed
    :func:`check_template`."""
    try:
        return _FORMATTER.vformat(template, (), dict(fields))
    except (ValueError, IndexError, KeyError):
        return template
