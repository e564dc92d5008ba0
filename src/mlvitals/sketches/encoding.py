"""A compact binary form of a sketch's dict form, for storage and caches.

Layout (little-endian): the magic ``b"MQS1"``; alpha, sum, min and max as float64; count and
zero as uint64; offset as int64; then the bin counts as unsigned LEB128 varints: 56 bytes
plus about one byte per bucket, a third of the compact JSON form or less.

>>> d = {"alpha": 0.01, "count": 3, "sum": 0.6, "min": 0.1, "max": 0.3,
...      "zero": 0, "offset": -115, "bins": [1, 0, 2]}
>>> decode(encode(d)) == d
True
"""

from __future__ import annotations

import struct
from typing import Any

MAGIC = b"MQS1"
_HEAD = struct.Struct("<4sddddQQq")


def encode(d: dict[str, Any]) -> bytes:
    """Encode a sketch dict (as produced by ``QuantileSketch.to_dict``)."""
    out = bytearray(
        _HEAD.pack(
            MAGIC, d["alpha"], d["sum"], d["min"], d["max"], d["count"], d["zero"], d["offset"]
        )
    )
    for n in d["bins"]:
        while n >= 0x80:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        out.append(n)
    return bytes(out)


def decode(data: bytes) -> dict[str, Any]:
    """Decode :func:`encode`'s output; raises ValueError on anything malformed.

    Only the framing is checked here; ``QuantileSketch.from_bytes`` then checks the fields.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ValueError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < _HEAD.size or data[:4] != MAGIC:
        raise ValueError("not an encoded sketch (bad magic or too short)")
    _, alpha, total, low, high, count, zero, offset = _HEAD.unpack_from(data)
    bins: list[int] = []
    n = shift = 0
    for byte in data[_HEAD.size :]:
        n |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            if shift > 63:
                raise ValueError("encoded sketch has a bin count over 64 bits")
        else:
            bins.append(n)
            n = shift = 0
    if shift:
        raise ValueError("encoded sketch ends in the middle of a bin count")
    return {
        "alpha": alpha,
        "count": count,
        "sum": total,
        "min": low,
        "max": high,
        "zero": zero,
        "offset": offset,
        "bins": bins,
    }
