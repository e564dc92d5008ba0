"""A mergeable quantile sketch with a relative-error guarantee (the DDSketch scheme).

Values are non-negative (latencies, CPU seconds). A value ``v > 1e-9`` is counted in bucket
``i = ceil(log(v) / log(gamma))`` with ``gamma = (1 + alpha) / (1 - alpha)``; bucket ``i``
holds the values in ``(gamma**(i-1), gamma**i]`` and is represented by
``2 * gamma**i / (gamma + 1)``, which is within a relative ``alpha`` of every value in it.
Values ``<= 1e-9`` are counted in a zero bucket represented by 0. Negative values are clamped
to 0: they can only come from a clock that went backwards.

Two sketches with the same ``alpha`` merge by adding bucket counts, so merging is exact:
merging sketches of parts equals sketching the whole.
"""

from __future__ import annotations

import base64
import binascii
import math
import sys
from array import array
from collections import defaultdict
from collections.abc import Iterable, Mapping
from math import ceil, inf, log
from typing import Any, Literal

import numpy as np

ZERO_CUTOFF = 1e-9
"""Values at or below this are counted in the zero bucket."""

MAX_BINS = 4096
"""Most buckets in the dict form. With alpha=0.01 that spans a factor of e**82 between the
smallest and largest value; past it the lowest buckets are collapsed into one."""

_KEYS = ("alpha", "count", "sum", "min", "max", "zero", "offset", "bins")
_MAX_OFFSET = 2**62


class QuantileSketch:
    """Quantiles of non-negative values, each within a relative error ``alpha``.

    >>> s = QuantileSketch(alpha=0.01)
    >>> for ms in range(1, 101):
    ...     s.add(ms / 1000)
    >>> round(s.quantile(0.5), 4), s.count
    (0.0503, 100)
    >>> t = QuantileSketch.from_dict(s.to_dict())
    >>> t.merge(s)
    >>> t.count, t.quantile(0.5) == s.quantile(0.5)
    (200, True)

    ``add`` is a few hundred nanoseconds of plain Python; ``add_many`` takes a batch (any
    iterable or NumPy array) at a few nanoseconds per value. Not thread-safe: give each
    thread its own sketch and merge them.
    """

    __slots__ = ("_alpha", "_bins", "_count", "_log_gamma", "_max", "_min", "_sum", "_zero")

    def __init__(self, alpha: float = 0.01) -> None:
        alpha = _check_alpha(alpha)
        self._alpha = alpha
        self._log_gamma = log((1.0 + alpha) / (1.0 - alpha))
        # A defaultdict makes the hot increment one subscript, with no method call.
        self._bins: defaultdict[int, int] = defaultdict(int)
        self._zero = 0
        self._count = 0
        self._sum = 0.0
        self._min = inf
        self._max = 0.0

    # -- reading ---------------------------------------------------------------------------

    @property
    def alpha(self) -> float:
        """The relative accuracy: every quantile is within ``alpha`` of a true one."""
        return self._alpha

    @property
    def count(self) -> int:
        return self._count

    @property
    def sum(self) -> float:
        """The exact sum of the values added (negatives counted as 0)."""
        return self._sum

    @property
    def min(self) -> float:
        """The exact smallest value; 0 when empty."""
        return self._min if self._count else 0.0

    @property
    def max(self) -> float:
        """The exact largest value; 0 when empty."""
        return self._max

    @property
    def gamma(self) -> float:
        return math.exp(self._log_gamma)

    def quantile(self, q: float) -> float:
        """The value at rank ``q * (count - 1)`` (the lower one), within a relative ``alpha``.

        Returns NaN for an empty sketch. Values in the zero bucket are estimated as 0, so
        their relative error is unbounded but their absolute error is at most 1e-9.
        """
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile must be between 0 and 1, got {q!r}")
        if self._count == 0:
            return math.nan
        rank = q * (self._count - 1)
        seen = self._zero
        if seen > rank:
            return self.min
        gamma = self.gamma
        key = 0
        for key in sorted(self._bins):
            seen += self._bins[key]
            if seen > rank:
                break
        estimate = 2.0 * gamma**key / (gamma + 1.0)
        return min(max(estimate, self.min), self._max)

    # -- adding ----------------------------------------------------------------------------

    def add(self, value: float) -> None:
        """Count one value. Negative values count as 0; NaN and infinity raise ValueError."""
        if ZERO_CUTOFF < value < inf:
            self._bins[ceil(log(value) / self._log_gamma)] += 1
        elif value != value or value == inf:
            raise ValueError(f"sketch values must be finite, got {value!r}")
        else:
            if value < 0.0:
                value = 0.0
            self._zero += 1
        self._count += 1
        self._sum += value
        if value < self._min:
            self._min = value
        if value > self._max:
            self._max = value

    def add_many(self, values: Iterable[float] | Any) -> None:
        """Count a batch of values (a sequence, iterable or NumPy array), vectorised."""
        import numpy as np

        arr = np.asarray(values if hasattr(values, "__len__") else list(values), dtype=np.float64)
        arr = arr.ravel()
        if arr.size == 0:
            return
        if not np.isfinite(arr).all():
            raise ValueError("sketch values must be finite; the batch has NaN or infinity")
        arr = np.maximum(arr, 0.0)
        positive = arr[arr > ZERO_CUTOFF]
        if positive.size:
            keys = np.ceil(np.log(positive) / self._log_gamma).astype(np.int64)
            low = int(keys.min())
            counts = np.bincount(keys - low)
            bins = self._bins
            for i in np.flatnonzero(counts).tolist():
                bins[low + i] += int(counts[i])
        self._zero += int(arr.size - positive.size)
        self._count += int(arr.size)
        self._sum += float(arr.sum())
        self._min = min(self._min, float(arr.min()))
        self._max = max(self._max, float(arr.max()))

    def merge(self, other: QuantileSketch) -> None:
        """Add ``other``'s counts into this sketch. Both must have the same ``alpha``."""
        if other._alpha != self._alpha:
            raise ValueError(
                f"cannot merge sketches of different accuracy ({self._alpha} and {other._alpha});"
                " build them with the same alpha"
            )
        bins = self._bins
        for key, n in other._bins.items():
            bins[key] += n
        self._zero += other._zero
        self._count += other._count
        self._sum += other._sum
        self._min = min(self._min, other._min)
        self._max = max(self._max, other._max)

    def copy(self) -> QuantileSketch:
        new = QuantileSketch(self._alpha)
        new.merge(self)
        return new

    # -- the dict form (the wire and storage format) ----------------------------------------

    def to_dict(self, *, packed: bool = False) -> dict[str, Any]:
        """The dict form: ``{"alpha", "count", "sum", "min", "max", "zero", "offset", "bins"}``.

        With ``packed``, ``bins`` is a string: ``"u1:"`` + base64 of the counts as bytes, or
        ``"u2:"``, ``"u4:"``, ``"u8:"`` with little-endian 16, 32 or 64-bit integers, the
        narrowest that holds the largest count (:func:`pack_bins`). That is what the SDK
        ships: a server parses and checks one short string far faster than hundreds of JSON
        numbers, and stores it as it came.

        ``bins[k]`` counts bucket ``offset + k``; leading and trailing empty buckets are left
        out. Past :data:`MAX_BINS` buckets, the lowest are collapsed into the lowest kept one.
        """
        keys = [k for k, n in self._bins.items() if n]
        if keys:
            low, high = min(keys), max(keys)
            if high - low >= MAX_BINS:
                low = high - MAX_BINS + 1
            dense = [0] * (high - low + 1)
            for key, n in self._bins.items():
                dense[max(key, low) - low] += n
        else:
            low, dense = 0, []
        return {
            "alpha": self._alpha,
            "count": self._count,
            "sum": self._sum,
            "min": self.min,
            "max": self._max,
            "zero": self._zero,
            "offset": low,
            "bins": pack_bins(dense) if packed else dense,
        }

    @staticmethod
    def is_plain_packed(data: Any) -> bool:
        """True for a well-formed dict in the SDK's packed ``u4`` form, checked with builtins
        alone (the ingest fast path). False means "not plainly so", not "invalid": give such
        data to :meth:`check_dict`, which accepts this and more and names what is wrong.
        """
        return _plain_packed(data)

    @staticmethod
    def check_dict(data: Any) -> None:
        """Check :meth:`to_dict`'s form without building a sketch (the ingest path).

        Raises ValueError naming the field that is wrong.
        """
        if not _plain_packed(data):
            _checked(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuantileSketch:
        """Rebuild a sketch from :meth:`to_dict`'s form, checking every field.

        Raises ValueError naming the field that is wrong.
        """
        alpha, count, zero, offset, bins, total_sum, low, high = _checked(data)
        sketch = cls(alpha)
        counts = bins if isinstance(bins, list) else unpack_bins(bins).tolist()
        for k, n in enumerate(counts):
            if n:
                sketch._bins[offset + k] = n
        sketch._zero = zero
        sketch._count = count
        sketch._sum = total_sum
        sketch._min = low if count else inf
        sketch._max = high
        return sketch

    def to_bytes(self) -> bytes:
        """A compact binary form of :meth:`to_dict` (see :mod:`mlvitals.sketches.encoding`)."""
        from mlvitals.sketches.encoding import encode

        return encode(self.to_dict())

    @classmethod
    def from_bytes(cls, data: bytes) -> QuantileSketch:
        """Rebuild a sketch from :meth:`to_bytes`; raises ValueError on malformed input."""
        from mlvitals.sketches.encoding import decode

        return cls.from_dict(decode(data))

    def __repr__(self) -> str:
        return f"QuantileSketch(alpha={self._alpha}, count={self._count})"


# Longest packed bins the fast path takes, per width: the prefix, then base64 of MAX_BINS counts.
_MAX_PACKED = {
    prefix: 3 + 4 * (MAX_BINS * size + 2) // 3 + 4
    for prefix, size in (("u1:", 1), ("u2:", 2), ("u4:", 4))
}
_FAST_CODES: dict[str, tuple[Literal["B", "H", "I"], int]] = {
    "u1:": ("B", 1),
    "u2:": ("H", 2),
    "u4:": ("I", 4),
}
if sys.byteorder != "little":  # the packed form is little-endian: leave it to _checked
    _MAX_PACKED = {}


def _plain_packed(data: Any) -> bool:
    if type(data) is not dict or len(data) != len(_KEYS):
        return False
    bins = data.get("bins")
    if type(bins) is not str or len(bins) > _MAX_PACKED.get(bins[:3], -1):
        return False
    try:
        alpha, count, zero, offset = data["alpha"], data["count"], data["zero"], data["offset"]
        total, low, high = data["sum"], data["min"], data["max"]
    except KeyError:
        return False
    if (
        type(alpha) is not float
        or not 0.0 < alpha < 1.0
        or type(count) is not int
        or type(zero) is not int
        or type(offset) is not int
        or not 0 <= zero <= count
        or abs(offset) > _MAX_OFFSET
    ):
        return False
    for number in (total, low, high):
        if (type(number) is not float and type(number) is not int) or not 0.0 <= number < inf:
            return False
    if low > high or (count == 0 and (total or low or high)):
        return False
    try:
        raw = binascii.a2b_base64(bins[3:], strict_mode=True)
    except (binascii.Error, ValueError):
        return False
    counts = memoryview(raw)
    code, size = _FAST_CODES[bins[:3]]
    if size > 1:
        if len(raw) % size:
            return False
        counts = counts.cast(code)
    return len(counts) <= MAX_BINS and zero + sum(counts) == count


def _checked(
    data: Any,
) -> tuple[float, int, int, int, list[int] | str, float, float, float]:
    if not isinstance(data, Mapping):
        raise ValueError(f"a sketch must be an object, got {type(data).__name__}")
    missing = [k for k in _KEYS if k not in data]
    if missing or len(data) != len(_KEYS):
        extra = sorted(str(k) for k in data if k not in _KEYS)
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("unknown " + ", ".join(extra))
        raise ValueError(f"sketch fields: {'; '.join(parts)}")
    alpha = _check_alpha(data["alpha"])
    count = _check_count("count", data["count"])
    zero = _check_count("zero", data["zero"])
    offset = data["offset"]
    if type(offset) is not int or abs(offset) > _MAX_OFFSET:
        raise ValueError(f"sketch offset must be an integer, got {offset!r}")
    bins = data["bins"]
    if isinstance(bins, str):
        counts = unpack_bins(bins)
        if len(counts) > MAX_BINS:
            raise ValueError(f"sketch has {len(counts)} bins, more than the {MAX_BINS} allowed")
        total = zero + sum(counts)
        if total != count:
            raise ValueError(f"sketch count is {count} but zero + bins add up to {total}")
        return (alpha, count, zero, offset, bins, *_checked_values(data, count))
    if not isinstance(bins, list):
        raise ValueError(
            f"sketch bins must be a list of counts or packed counts, got {type(bins).__name__}"
        )
    if len(bins) > MAX_BINS:
        raise ValueError(f"sketch has {len(bins)} bins, more than the {MAX_BINS} allowed")
    # This runs for every ingested window: builtins only. The sum of a list is an int only
    # when every entry is one (a float makes it a float; anything else raises TypeError).
    try:
        binned = sum(bins)
    except TypeError:
        binned = None
    if type(binned) is not int:
        for n in bins:
            _check_count("bins entry", n)
        raise ValueError("sketch bins entries must be integers")
    if bins and min(bins) < 0:
        raise ValueError(f"sketch bins entry must not be negative, got {min(bins)}")
    total = zero + binned
    if total != count:
        raise ValueError(f"sketch count is {count} but zero + bins add up to {total}")
    return (alpha, count, zero, offset, bins, *_checked_values(data, count))


def _checked_values(data: Mapping[str, Any], count: int) -> tuple[float, float, float]:
    total_sum = _check_value("sum", data["sum"])
    low = _check_value("min", data["min"])
    high = _check_value("max", data["max"])
    if low > high:
        raise ValueError(f"sketch min {low} is above its max {high}")
    if count == 0 and (total_sum or low or high):
        raise ValueError("an empty sketch must have sum, min and max 0")
    return total_sum, low, high


_WIDTHS = (("u1", "<u1", 0xFF), ("u2", "<u2", 0xFFFF), ("u4", "<u4", 0xFFFFFFFF))
_CODES = {"u1": "B", "u2": "H", "u4": "I", "u8": "Q"}


def pack_counts(counts: np.ndarray) -> str:
    """:func:`pack_bins` of an integer array, without a Python list in between."""
    top = int(counts.max()) if counts.size else 0
    prefix, dtype = next(((p, d) for p, d, limit in _WIDTHS if top <= limit), ("u8", "<u8"))
    raw = counts.astype(dtype).tobytes()
    return prefix + ":" + base64.b64encode(raw).decode("ascii")


def pack_bins(counts: list[int]) -> str:
    """The counts as the narrowest of ``"u1:"``, ``"u2:"``, ``"u4:"`` and ``"u8:"`` + base64
    of little-endian unsigned 8, 16, 32 or 64-bit integers.

    >>> pack_bins([1, 0, 2])
    'u1:AQAC'
    >>> pack_bins([1, 0, 300])
    'u2:AQAAACwB'
    >>> unpack_bins(pack_bins([1, 0, 2])).tolist()
    [1, 0, 2]
    """
    return pack_counts(np.asarray(counts, dtype=np.uint64))


def unpack_bins(text: str) -> array[int]:
    """The counts of :func:`pack_bins`; raises ValueError on anything malformed."""
    kind, _, payload = text.partition(":")
    code = _CODES.get(kind)
    if code is None:
        raise ValueError("packed sketch bins must start with 'u1:', 'u2:', 'u4:' or 'u8:'")
    counts = array(code)
    if len(payload) > 4 * (MAX_BINS * counts.itemsize + 2) // 3 + 4:
        raise ValueError(f"sketch has more than the {MAX_BINS} bins allowed")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("packed sketch bins are not valid base64") from None
    if len(raw) % counts.itemsize:
        raise ValueError("packed sketch bins have a partial count at the end")
    counts.frombytes(raw)
    if sys.byteorder == "big":
        counts.byteswap()
    return counts


def _check_alpha(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float):
        raise ValueError(f"sketch alpha must be a number, got {alpha!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"sketch alpha must be between 0 and 1 (exclusive), got {alpha!r}")
    return float(alpha)


def _check_count(name: str, value: Any) -> int:
    if type(value) is not int:
        raise ValueError(f"sketch {name} must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"sketch {name} must not be negative, got {value}")
    return value


def _check_value(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"sketch {name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"sketch {name} must be a finite non-negative number, got {value!r}")
    return float(value)
