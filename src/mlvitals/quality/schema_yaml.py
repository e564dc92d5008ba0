"""Schemas as YAML files: written by ``mlvitals schema infer``, edited by hand, read by checks.

::

    version: 1
    allow_extra_columns: false
    rows: {min: null, max: null}
    max_duplicate_share: 0.01
    columns:
      age: {type: integer, required: true, max_null_share: 0.0, min: 18.0, max: 90.0,
            max_out_of_range_share: 0.001}
      city: {type: string, max_null_share: 0.0, categories: [Lyon, Paris]}
      user_id: {type: integer, identifier: true}
    ignore: [comment]

>>> from mlvitals.quality.schema import ColumnSchema, Schema
>>> s = Schema((ColumnSchema("city", "string", categories=("a", "b")),))
>>> schema_from_yaml(schema_to_yaml(s)) == s
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mlvitals.errors import InputError
from mlvitals.quality.schema import ColumnSchema, Schema

VERSION = 1
_COLUMN_KEYS = {
    "type",
    "required",
    "max_null_share",
    "min",
    "max",
    "max_out_of_range_share",
    "categories",
    "max_unknown_share",
    "identifier",
}
_TOP_KEYS = {"version", "allow_extra_columns", "rows", "max_duplicate_share", "ignore", "columns"}


def schema_to_yaml(schema: Schema) -> str:
    columns: dict[str, Any] = {}
    for c in schema.columns:
        entry: dict[str, Any] = {"type": c.type, "required": c.required}
        entry["max_null_share"] = c.max_null_share
        if c.min is not None or c.max is not None:
            entry["min"] = c.min
            entry["max"] = c.max
            entry["max_out_of_range_share"] = c.max_out_of_range_share
        if c.categories is not None:
            entry["categories"] = list(c.categories)
            entry["max_unknown_share"] = c.max_unknown_share
        if c.identifier:
            entry["identifier"] = True
        columns[c.name] = entry
    doc: dict[str, Any] = {
        "version": VERSION,
        "allow_extra_columns": schema.allow_extra_columns,
        "rows": {"min": schema.min_rows, "max": schema.max_rows},
        "max_duplicate_share": schema.max_duplicate_share,
    }
    if schema.ignore:
        doc["ignore"] = list(schema.ignore)
    doc["columns"] = columns
    header = "# mlvitals schema: edit the limits as needed (see docs/quality.md)\n"
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def save_schema(schema: Schema, path: str | Path) -> None:
    Path(path).write_text(schema_to_yaml(schema), encoding="utf-8")


def load_schema(path: str | Path) -> Schema:
    """Read a schema file; raise :class:`InputError` naming the file and the bad entry."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read schema file {p}: {exc.strerror or exc}") from None
    return schema_from_yaml(text, source=str(p))


def schema_from_yaml(text: str, *, source: str = "schema") -> Schema:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise InputError(f"{source}: expected a mapping with 'columns', got {type(doc).__name__}")
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise InputError(f"{source}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    if doc.get("version", VERSION) != VERSION:
        raise InputError(f"{source}: schema version {doc['version']} is not supported")
    raw_columns = doc.get("columns")
    if not isinstance(raw_columns, dict) or not raw_columns:
        raise InputError(f"{source}: 'columns' must map column names to their rules")
    columns = tuple(_column(str(name), spec or {}, source) for name, spec in raw_columns.items())
    rows = doc.get("rows") or {}
    if not isinstance(rows, dict):
        raise InputError(f"{source}: 'rows' must be a mapping with 'min' and 'max'")
    ignore = doc.get("ignore") or []
    if not isinstance(ignore, list):
        raise InputError(f"{source}: 'ignore' must be a list of column names")
    return Schema(
        ignore=tuple(str(c) for c in ignore),
        columns=columns,
        allow_extra_columns=bool(doc.get("allow_extra_columns", False)),
        min_rows=_opt_int(rows.get("min"), f"{source}: rows.min"),
        max_rows=_opt_int(rows.get("max"), f"{source}: rows.max"),
        max_duplicate_share=_opt_share(doc.get("max_duplicate_share"), f"{source}: duplicates"),
    )


def _column(name: str, spec: Any, source: str) -> ColumnSchema:
    where = f"{source}: column {name!r}"
    if not isinstance(spec, dict):
        raise InputError(f"{where}: expected a mapping of rules")
    unknown = set(spec) - _COLUMN_KEYS
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    if "type" not in spec:
        raise InputError(f"{where}: 'type' is required")
    categories = spec.get("categories")
    if categories is not None and not isinstance(categories, list):
        raise InputError(f"{where}: 'categories' must be a list")
    return ColumnSchema(
        name=name,
        type=str(spec["type"]),
        required=bool(spec.get("required", True)),
        max_null_share=_share(spec.get("max_null_share", 0.0), f"{where}: max_null_share"),
        min=_opt_float(spec.get("min"), f"{where}: min"),
        max=_opt_float(spec.get("max"), f"{where}: max"),
        max_out_of_range_share=_share(
            spec.get("max_out_of_range_share", 0.0), f"{where}: max_out_of_range_share"
        ),
        categories=tuple(str(c) for c in categories) if categories is not None else None,
        max_unknown_share=_share(spec.get("max_unknown_share", 0.0), f"{where}: unknown share"),
        identifier=bool(spec.get("identifier", False)),
    )


def _opt_float(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where} must be a number, got {value!r}")
    return float(value)


def _opt_int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{where} must be a non-negative integer, got {value!r}")
    return value


def _share(value: Any, where: str) -> float:
    share = _opt_float(value, where)
    if share is None or not 0.0 <= share <= 1.0:
        raise InputError(f"{where} must be a share between 0 and 1, got {value!r}")
    return share


def _opt_share(value: Any, where: str) -> float | None:
    return None if value is None else _share(value, where)
