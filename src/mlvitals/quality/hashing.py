"""Vectorised, stable 64-bit hashes of column values (for distinct counts and duplicate rows).

The hashes are a pure function of the value bytes, the same on every machine and process, so
sketches built on different workers merge. Floats hash by their IEEE bits (after folding -0.0
into 0.0), integers hash as the floats they compare equal to, and strings hash 8 bytes at a
time, little-endian, each step mixed with the MurmurHash3 64-bit finaliser.

>>> import numpy as np
>>> a = hash_floats(np.array([1.0, -0.0, 0.0]))
>>> bool(a[1] == a[2]), bool(a[0] == a[1])
(True, False)
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_SEED = np.uint64(0x9E3779B97F4A7C15)
_C1 = np.uint64(0xFF51AFD7ED558CCD)
_C2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
# Masks that keep the first 1..8 bytes of a little-endian 64-bit word.
_TAIL_MASKS = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [2**64 - 1], dtype=np.uint64)
NULL_HASH = np.uint64(0x6A09E667F3BCC908)


def fmix64(k: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser (a bijection with full avalanche), on a uint64 array."""
    k = k ^ (k >> _S33)
    k *= _C1
    k ^= k >> _S33
    k *= _C2
    k ^= k >> _S33
    return k


def hash_floats(values: np.ndarray) -> np.ndarray:
    """Hashes of float64 values; equal numbers (including 0.0 and -0.0) hash equal."""
    canonical = np.asarray(values, dtype=np.float64) + 0.0  # -0.0 + 0.0 == +0.0
    return fmix64(canonical.view(np.uint64) ^ _SEED)


def hash_strings(arr: pa.Array) -> np.ndarray:
    """Hashes of the values of a string array (null slots get an arbitrary hash)."""
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    n = len(arr)
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32)[arr.offset : arr.offset + n + 1]
    starts = offsets[:-1].astype(np.int64)
    lengths = (offsets[1:] - offsets[:-1]).astype(np.int64)
    lo, hi = int(offsets[0]), int(offsets[-1])
    raw = np.frombuffer(buffers[2], dtype=np.uint8)[lo:hi] if buffers[2] is not None else None
    # Pad so that an 8-byte window starting at any byte stays inside the buffer.
    padded = np.zeros((hi - lo) + 8, dtype=np.uint8)
    if raw is not None:
        padded[: hi - lo] = raw
    starts -= lo
    # An unaligned little-endian uint64 window at every byte offset, without copying.
    windows = np.ndarray(shape=(hi - lo + 1,), dtype="<u8", buffer=padded.data, strides=(1,))
    h = fmix64(lengths.astype(np.uint64) ^ _SEED)
    active = np.flatnonzero(lengths > 0)
    step = 0
    while active.size:
        remaining = lengths[active] - 8 * step
        words = windows[starts[active] + 8 * step] & _TAIL_MASKS[np.minimum(remaining, 8)]
        h[active] = fmix64((h[active] ^ words.astype(np.uint64)) * _C1)
        step += 1
        active = active[remaining > 8]
    return h


def combine(acc: np.ndarray, h: np.ndarray) -> None:
    """Fold a column's hashes into running row hashes, in place: ``acc = acc * C + h``.

    The column hashes are already mixed, so a multiply-add per column keeps rows apart (and
    (a, b) apart from (b, a)); :func:`fmix64` the result once all columns are in.
    """
    np.multiply(acc, _C2, out=acc)
    np.add(acc, h, out=acc)
