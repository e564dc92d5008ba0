"""Column kinds: how an Arrow type is profiled, validated and compared.

Every column falls in one kind. ``numeric`` columns (integers, floats, decimals) get moments,
quantiles, a histogram and ECDF drift tests; ``categorical`` (strings, dictionaries) and
``boolean`` columns get category counts and count-based drift; ``datetime`` columns are profiled
as seconds since the epoch but not tested for drift by default (time always moves);
``other`` columns (lists, structs, binary, all-null) only get counts.

>>> import pyarrow as pa
>>> kind_of(pa.int32()), logical_type(pa.int32())
(<ColumnKind.NUMERIC: 'numeric'>, 'integer')
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlvitals.errors import SchemaError


class ColumnKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    OTHER = "other"


def logical_type(t: pa.DataType) -> str:
    """The type name used in schemas: stable across widths and encodings (int32 == int64)."""
    if pa.types.is_dictionary(t):
        return logical_type(t.value_type)
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    if _is_string(t):
        return "string"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_timestamp(t):
        return "datetime"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_null(t):
        return "null"
    return str(t)


def kind_of(t: pa.DataType) -> ColumnKind:
    """The kind of a column of Arrow type ``t``."""
    name = logical_type(t)
    if name in ("integer", "float"):
        return ColumnKind.NUMERIC
    if name == "string":
        return ColumnKind.CATEGORICAL
    if name == "boolean":
        return ColumnKind.BOOLEAN
    if name in ("datetime", "date"):
        return ColumnKind.DATETIME
    return ColumnKind.OTHER


def types_compatible(expected: str, actual: str) -> bool:
    """Whether data of logical type ``actual`` satisfies a schema that says ``expected``.

    Integers pass a float schema (CSV readers may read whole numbers as integers); nothing
    else converts silently. Floats against an integer schema are decided by their values
    (:mod:`mlvitals.quality.validate`): pandas turns an integer column with a null into floats.
    """
    return expected == actual or (expected == "float" and actual == "integer")


def _is_string(t: pa.DataType) -> bool:
    return (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_string_view(t)
        or (pa.types.is_dictionary(t) and _is_string(t.value_type))
    )


_SECONDS_PER_UNIT = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def to_float64(arr: pa.Array) -> pa.Array:
    """A numeric or datetime array as float64 (datetimes as seconds since the epoch)."""
    t = arr.type
    if pa.types.is_float64(t):
        return arr
    if pa.types.is_timestamp(t):
        scale = _SECONDS_PER_UNIT[t.unit]
        ints = pc.cast(arr, pa.int64())
        return pc.multiply(pc.cast(ints, pa.float64()), scale)
    if pa.types.is_date32(t):
        return pc.multiply(pc.cast(pc.cast(arr, pa.int32()), pa.float64()), 86400.0)
    if pa.types.is_date64(t):
        return pc.multiply(pc.cast(pc.cast(arr, pa.int64()), pa.float64()), 1e-3)
    return pc.cast(arr, pa.float64(), safe=False)


def as_numpy_float(arr: pa.Array) -> np.ndarray:
    """The non-null values of a numeric/datetime array as float64 (zero-copy when possible)."""
    floats = to_float64(arr)
    if floats.null_count:
        floats = floats.drop_null()
    return np.asarray(floats.to_numpy(zero_copy_only=False), dtype=np.float64)


def as_dictionary(arr: pa.Array) -> pa.DictionaryArray:
    """A string or boolean array as a dictionary array of strings (booleans as 'false'/'true')."""
    t = arr.type
    if pa.types.is_boolean(t):
        idx = pc.cast(arr, pa.int8())
        return pa.DictionaryArray.from_arrays(idx, pa.array(["false", "true"]))
    if pa.types.is_dictionary(t):
        if not pa.types.is_string(t.value_type):
            arr = pc.cast(arr, pa.dictionary(t.index_type, pa.string()))
        return arr
    if pa.types.is_string_view(t) or pa.types.is_large_string(t):
        arr = pc.cast(arr, pa.string())
    return arr.dictionary_encode()


def check_uniform(name: str, t1: pa.DataType, t2: pa.DataType, where: str) -> None:
    """Raise SchemaError when one column changes logical type between parts of the data."""
    if logical_type(t1) != logical_type(t2) and not pa.types.is_null(t2):
        raise SchemaError(
            f"column {name!r} mixes types: {logical_type(t1)} ({t1}) and "
            f"{logical_type(t2)} ({t2}) in {where}; convert it to one type first"
        )
