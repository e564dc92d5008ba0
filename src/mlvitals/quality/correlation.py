"""Pearson correlations of numeric columns from mergeable co-moments.

For every pair of columns (i, j) the sketch keeps, over the rows where both are present and
finite: the count ``n[i, j]``, the mean of column i ``mean[i, j]`` (so ``mean[j, i]`` is the
mean of column j over the same rows), the sums of squared deviations ``m2[i, j]`` and the
co-moment ``c[i, j]``. Pairs merge with Chan's parallel formulas, element-wise on the matrices,
so correlations of merged profiles equal those of the whole data (pairwise-complete, like
``pandas.DataFrame.corr``) up to float rounding.

>>> import numpy as np
>>> x = np.arange(10.0); y = 2 * x + 1
>>> acc = CorrelationAccumulator(("x", "y"))
>>> acc.update([x, y], [None, None])
>>> float(acc.freeze().matrix()[0, 1])
1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Rows per block: the stacked block is (rows x columns) float64, so memory stays bounded
# however large a batch is.
_BLOCK_ROWS = 65_536


@dataclass(frozen=True, slots=True, eq=False)
class CoMoments:
    columns: tuple[str, ...]
    n: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    c: np.ndarray

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CoMoments):
            return NotImplemented
        return self.columns == other.columns and all(
            np.array_equal(a, b, equal_nan=True)
            for a, b in zip(
                (self.n, self.mean, self.m2, self.c),
                (other.n, other.mean, other.m2, other.c),
                strict=True,
            )
        )

    __hash__ = None  # type: ignore[assignment]

    @staticmethod
    def empty(columns: tuple[str, ...]) -> CoMoments:
        k = len(columns)
        z = np.zeros((k, k))
        return CoMoments(columns, z.copy(), z.copy(), z.copy(), z.copy())

    def merge(self, other: CoMoments) -> CoMoments:
        if other.columns != self.columns:
            raise ValueError(
                f"correlations over different columns: {self.columns} and {other.columns}"
            )
        n = self.n + other.n
        safe = np.where(n > 0, n, 1.0)
        delta = other.mean - self.mean
        weight = self.n * other.n / safe
        mean = self.mean + delta * (other.n / safe)
        m2 = self.m2 + other.m2 + delta * delta * weight
        c = self.c + other.c + delta * delta.T * weight
        return CoMoments(self.columns, n, mean, m2, c)

    def matrix(self) -> np.ndarray:
        """The Pearson correlation matrix; NaN where a pair has no variance or no rows."""
        with np.errstate(invalid="ignore", divide="ignore"):
            r = self.c / np.sqrt(self.m2 * self.m2.T)
        r = np.clip(r, -1.0, 1.0)
        np.fill_diagonal(r, np.where(np.diag(self.m2) > 0, 1.0, np.nan))
        return np.asarray(r, dtype=np.float64)


class CorrelationAccumulator:
    """Updates co-moments from batches of column arrays (with masks of present values)."""

    __slots__ = ("columns", "state")

    def __init__(self, columns: tuple[str, ...]) -> None:
        self.columns = columns
        self.state = CoMoments.empty(columns)

    def update(self, values: Sequence[np.ndarray], valid: Sequence[np.ndarray | None]) -> None:
        """Add a batch: one float64 array per column (row-aligned) and its validity mask.

        A value counts when its mask is true (``None`` means all values are valid); invalid
        slots may hold anything (NaN included).
        """
        if not values:
            return
        rows, k = len(values[0]), len(values)
        # One column-major buffer per batch, refilled block by block: no per-block allocation.
        x_buf = np.empty((min(rows, _BLOCK_ROWS), k), order="F")
        m_buf: np.ndarray | None = None
        for start in range(0, rows, _BLOCK_ROWS):
            stop = min(rows, start + _BLOCK_ROWS)
            x = x_buf[: stop - start]
            for j, v in enumerate(values):
                x[:, j] = v[start:stop]
            masks = [None if m is None else m[start:stop] for m in valid]
            partial = [m for m in masks if m is not None and not m.all()]
            if not partial:
                self.state = self.state.merge(_block_dense(self.columns, x))
                continue
            # Rows with every value present take the cheap dense path; only the (usually
            # few) rows with a gap need the pairwise-complete sums. Chan merges the two.
            complete = np.logical_and.reduce(partial)
            if complete.any():
                self.state = self.state.merge(_block_dense(self.columns, x[complete]))
            gaps = ~complete
            if m_buf is None:
                m_buf = np.empty_like(x_buf)
            mask = m_buf[: int(gaps.sum())]
            for j, m in enumerate(masks):
                mask[:, j] = 1.0 if m is None else m[gaps]
            self.state = self.state.merge(_block_masked(self.columns, x[gaps], mask))

    def freeze(self) -> CoMoments:
        return self.state


def _block_dense(columns: tuple[str, ...], x: np.ndarray) -> CoMoments:
    """Co-moments of a block with every value present; centres ``x`` in place."""
    rows, k = x.shape
    mu = x.mean(axis=0)
    x -= mu
    c = x.T @ x
    m2 = np.repeat(np.diag(c)[:, None], k, axis=1)
    mean = np.repeat(mu[:, None], k, axis=1)
    return CoMoments(columns, np.full((k, k), float(rows)), mean, m2, c)


def _block_masked(columns: tuple[str, ...], x: np.ndarray, m: np.ndarray) -> CoMoments:
    """Pairwise co-moments of a block; ``m`` is 1.0 where a value is present, else 0.0.

    Overwrites ``x``: missing slots become 0, then every column is shifted by its mean (so
    the sums below stay small: no cancellation) and the missing slots are zeroed again.
    """
    np.copyto(x, 0.0, where=m == 0.0)
    counts = m.sum(axis=0)
    mu = x.sum(axis=0) / np.maximum(counts, 1.0)
    x -= mu
    x *= m
    n = m.T @ m
    s = x.T @ m  # s[i, j]: sum of shifted x_i over rows where i and j are present
    q = x.T @ x
    np.square(x, out=x)
    ss = x.T @ m
    safe = np.where(n > 0, n, 1.0)
    m2 = ss - s * s / safe
    c = q - s * s.T / safe
    mean = s / safe + mu[:, None]
    zero = n == 0
    mean[zero] = m2[zero] = c[zero] = 0.0
    return CoMoments(columns, n, mean, m2, c)
