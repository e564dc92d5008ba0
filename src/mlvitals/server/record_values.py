"""What a record's values may be: text, numbers and names that both stores hold.

The one rule, the same on SQLite and PostgreSQL:

- text (values and object keys, at any depth) must not contain NUL (U+0000), which
  PostgreSQL cannot store, nor a lone surrogate, which is not Unicode: the record is
  rejected, naming the field;
- integers fit in signed 64 bits and floats are finite;
- names (service, instance, dataset, pipeline, ...) are trimmed, not blank, and hold no
  control characters.

>>> unstorable({"service": "iris", "params": {"note": "a\\x00b"}})
('params.note', 'text contains a NUL character (U+0000), which neither store holds')
>>> unstorable({"calls": 2**63})
('calls', 'integer 9223372036854775808 is outside the signed 64-bit range both stores hold')
>>> check_name("  fraud-model ")
'fraud-model'
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

RECORD_CONFIG = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
"""Ingest models: no unknown fields, and no ``"inf"`` or ``"NaN"`` coerced into a float."""

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def may_be_unstorable(body: bytes) -> bool:
    """False when no text of this JSON body can hold NUL or a surrogate: neither can be
    written in JSON but as an escape (``\\u0000``, ``\\ud800``), and looking for those is
    a fast byte search. Integers need no walk: orjson reads none past 64 bits unsigned,
    models bound their fields and :func:`row_problem` checks what reaches a column.
    """
    return b"\\u0000" in body or b"\\ud" in body or b"\\uD" in body


def text_problem(text: str) -> str | None:
    """Why the stores cannot hold ``text``, or None."""
    if "\x00" in text:
        return "text contains a NUL character (U+0000), which neither store holds"
    if not text.isascii():
        found = _SURROGATE.search(text)
        if found is not None:
            return f"text contains a lone surrogate (U+{ord(found.group()):04X}), not Unicode"
    return None


def shown(key: str) -> str:
    """A key as an error names it: control characters and surrogates escaped."""
    return key.encode("unicode_escape", "backslashreplace").decode("ascii")


def unstorable(value: Any) -> tuple[str, str] | None:
    """The first place in a parsed JSON value the stores cannot hold: (field path, reason)."""
    found = _problem(value)
    if found is None:
        return None
    reason, path = found
    return ".".join(shown(p) if isinstance(p, str) else str(p) for p in reversed(path)), reason


def _problem(value: Any) -> tuple[str, list[str | int]] | None:
    """(reason, path from the bad value up), built only on the way out of a failure."""
    kind = type(value)
    if kind is str:
        problem = text_problem(value)
        return None if problem is None else (problem, [])
    if kind is int:
        if INT64_MIN <= value <= INT64_MAX:
            return None
        return (f"integer {value} is outside the signed 64-bit range both stores hold", [])
    if kind is float:
        return None if math.isfinite(value) else (f"number {value} is not finite", [])
    if kind is dict:
        for key, item in value.items():
            problem = text_problem(key)
            found = (problem, []) if problem is not None else _problem(item)
            if found is not None:
                found[1].append(key)
                return found
    elif kind is list:
        for i, item in enumerate(value):
            found = _problem(item)
            if found is not None:
                found[1].append(i)
                return found
    return None


class StorableBody(BaseModel):
    """A JSON request body (a silence, a budget, ...) held to the same rule as records: a
    value the stores cannot hold is a 400 naming its field, never a store error."""

    model_config = ConfigDict(allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        found = unstorable(value)
        if found is not None:
            where, problem = found
            raise ValueError(f"{problem} (at {where})" if where else problem)
        return value


def row_problem(row: dict[str, Any]) -> tuple[str, str] | None:
    """The first column of a table row the stores cannot hold: (column, reason)."""
    for column, value in row.items():
        kind = type(value)
        if kind is int and not INT64_MIN <= value <= INT64_MAX:
            return column, f"integer {value} is outside the signed 64-bit range both stores hold"
        if kind is float and not math.isfinite(value):
            return column, f"number {value} is not finite"
    return None


def check_name(value: str, *, empty: bool = False) -> str:
    """``value`` trimmed; ValueError when it is blank (unless ``empty``) or holds a control
    character."""
    name = value.strip()
    if not name and not empty:
        raise ValueError("is blank: a name needs at least one visible character")
    control = _CONTROL.search(name)
    if control is not None:
        raise ValueError(
            f"contains the control character U+{ord(control.group()):04X}: "
            "a name is one line of printable text"
        )
    return name


def is_plain_name(value: str) -> bool:
    """True when :func:`check_name` returns ``value`` unchanged (a fast, stricter test)."""
    return value.isprintable() and (not value or (value[0] != " " and value[-1] != " "))


def _optional_name(value: str) -> str:
    return check_name(value, empty=True)


Name = Annotated[str, Field(max_length=200), AfterValidator(check_name)]
"""A required name: trimmed, not blank, no control characters, at most 200 characters."""
OptionalName = Annotated[str, Field(max_length=200), AfterValidator(_optional_name)]
"""A name that may be empty (e.g. a version)."""
