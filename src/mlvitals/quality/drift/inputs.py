"""What a drift method reads about one column, from raw data or from profiles.

:class:`ColumnData` holds a column's reference and current profiles and, when available, its
raw finite values, and computes (once, on demand) the two shapes the methods use:

- :meth:`ColumnData.ecdf`: the pooled ECDFs of numeric columns (KS, Wasserstein,
  Anderson-Darling). From raw data it is exact. A side known only by its profile contributes
  its KLL sketch's weighted items; every ECDF value is then within that sketch's rank error,
  so a KS statistic is within ``statistic_error`` = the sum of the sides' rank errors (about 0.013
  each) of the raw-data statistic.
- :meth:`ColumnData.binned`: aligned counts (numeric: the histogram on the reference's frozen
  bins; categorical: counts per category). These are exact from profiles as from raw data, as
  long as the category counts are exact (at most 768 distinct values); past that, categories
  outside both top lists pool into one "other" bucket and counts are within the sketch error.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from mlvitals.errors import InputError
from mlvitals.quality.columns import ColumnKind
from mlvitals.quality.drift.ecdf import MergedECDF, merge
from mlvitals.quality.histogram import Histogram
from mlvitals.quality.profiler import complete_numeric
from mlvitals.quality.profiles import ColumnProfile
from mlvitals.quality.profiling import complete_reference
from mlvitals.quality.sorted_stats import Runs
from mlvitals.quality.sorting import sort_chunks

OTHER = "(other)"
IQR_PER_STD = 1.349
"""The interquartile range of a normal distribution in standard deviations."""


class ColumnData:
    """One column's inputs to the drift methods.

    ``deferred`` says both profiles still lack what sorting gives (quantiles, top values,
    histograms): :meth:`prepare` sorts each side once, completes the profiles from the sorted
    values and keeps those for the ECDF methods.
    """

    __slots__ = (
        "_binned",
        "_cur_sorted",
        "_ecdf",
        "_ref_histogram",
        "_ref_sorted",
        "_runs",
        "cur",
        "cur_raw",
        "deferred",
        "from_data",
        "kind",
        "ks_method",
        "name",
        "ref",
        "ref_raw",
    )

    def __init__(
        self,
        ref: ColumnProfile,
        cur: ColumnProfile,
        ref_raw: Sequence[np.ndarray] | None = None,
        cur_raw: Sequence[np.ndarray] | None = None,
        *,
        ks_method: str = "auto",
        from_data: bool = False,
        deferred: bool = False,
    ) -> None:
        if deferred and (ref_raw is None or cur_raw is None):
            raise ValueError("a deferred column needs raw values on both sides")
        self.deferred = deferred
        self._cur_sorted: np.ndarray | None = None
        self._runs: tuple[Runs, Runs] | None = None
        self.name = ref.name
        self.ks_method = ks_method
        self.from_data = from_data
        self.kind = ref.kind
        self.ref, self.cur = ref, cur
        self.ref_raw, self.cur_raw = ref_raw, cur_raw
        self._ecdf: MergedECDF | None = None
        self._binned: tuple[np.ndarray, np.ndarray, tuple[str, ...]] | None = None
        self._ref_sorted: np.ndarray | None = None
        self._ref_histogram: Histogram | None = ref.histogram

    @property
    def n_ref(self) -> int:
        return self.ref.valid

    @property
    def n_cur(self) -> int:
        return self.cur.valid

    @property
    def ref_std(self) -> float:
        return self.ref.std if self.ref.std is not None else float("nan")

    def ref_scale(self) -> float:
        """The reference's robust spread: its interquartile range / 1.349 (the standard
        deviation of a normal distribution), from its raw values when kept (numpy's linear
        quantiles), else from its quantile sketch. When the quartiles are equal (more than
        half the values are one value) it is the standard deviation; 0 for a constant."""
        q1: float | None
        q3: float | None
        if self.ref_raw is not None:
            s = self.ref_sorted()
            q1, q3 = _sorted_quantile(s, 0.25), _sorted_quantile(s, 0.75)
        else:
            q1, q3 = self.ref.quantile(0.25), self.ref.quantile(0.75)
        iqr = (q3 - q1) if q1 is not None and q3 is not None else 0.0
        if iqr > 0:
            return iqr / IQR_PER_STD
        return self.ref_std

    @property
    def raw(self) -> bool:
        """Whether the statistics come from the data itself on both sides (not sketches).

        Counts per category are exact either way, so a categorical column read from data on
        both sides (``from_data``) counts as raw.
        """
        if self.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
            return self.from_data and self.binned_error == 0
        return self.ref_raw is not None and self.cur_raw is not None

    @property
    def rank_error(self) -> float:
        """Bound on the error of any ECDF value difference (0 on raw data)."""
        err = 0.0
        for raw, prof in ((self.ref_raw, self.ref), (self.cur_raw, self.cur)):
            if raw is None and prof.quantiles is not None:
                err += prof.quantiles.rank_error
        return err

    def pooled_range(self) -> tuple[float, float]:
        """The smallest and largest value of both sides (exact, from the profiles)."""
        lows = [v for v in (self.ref.min, self.cur.min) if v is not None]
        highs = [v for v in (self.ref.max, self.cur.max) if v is not None]
        return (min(lows), max(highs)) if lows else (0.0, 0.0)

    def prepare(self) -> None:
        """Complete deferred profiles: sort each side once, read its quantiles and top
        values off the sorted values, bin both on edges from the completed reference."""
        if not self.deferred:
            return
        self.ref, ref_runs = complete_reference(self.ref, self.ref_sorted())
        self._ref_histogram = self.ref.histogram
        edges = self._ref_histogram.edges if self._ref_histogram is not None else None
        assert self.cur_raw is not None
        b = sort_chunks("current", self.cur_raw, _bounds(self.cur))
        self.cur, cur_runs = complete_numeric(self.cur, b, edges)
        self._cur_sorted = b
        self._runs = (ref_runs, cur_runs)
        self.deferred = False

    def ecdf(self) -> MergedECDF:
        """The pooled ECDFs; valid until :meth:`release` (raw sides live in work buffers)."""
        if self._ecdf is None:
            if self._runs is not None and self._ref_sorted is not None:
                # Prepared: both sides are sorted and their run lengths known.
                assert self._cur_sorted is not None
                a, wa = _weighted(self._ref_sorted, self._runs[0])
                b, wb = _weighted(self._cur_sorted, self._runs[1])
            else:
                if self.ref_raw is not None:
                    a, wa = self.ref_sorted(), None
                else:
                    a, wa = self._sketch(self.ref)
                if self.cur_raw is not None:
                    b, wb = sort_chunks("current", self.cur_raw, _bounds(self.cur)), None
                else:
                    b, wb = self._sketch(self.cur)
            self._ecdf = merge(a, b, wa, wb)
        return self._ecdf

    def ref_sorted(self) -> np.ndarray:
        """The reference's raw values, sorted once for every method that needs them."""
        if self._ref_sorted is None:
            if self.ref_raw is None:
                raise InputError(f"column {self.name!r}: no raw reference values")
            self._ref_sorted = sort_chunks("reference", self.ref_raw, _bounds(self.ref))
            # Count the reference's histogram while its values are sorted at hand.
            if self._ref_histogram is None and self.cur.histogram is not None:
                self._ref_histogram = Histogram.of_sorted(
                    self._ref_sorted, self.cur.histogram.edges
                )
        return self._ref_sorted

    def reference_histogram(self, edges: tuple[float, ...]) -> Histogram:
        """The reference's histogram on ``edges`` (from its sorted raw values if it has none)."""
        if self._ref_histogram is None or self._ref_histogram.edges != edges:
            self._ref_sorted = None
            self._ref_histogram = Histogram.of_sorted(self.ref_sorted(), edges)
            self.release()
        return self._ref_histogram

    def release(self) -> None:
        """Forget the sorted raw values (their work buffers go to the next column)."""
        self._ecdf = None
        self._ref_sorted = self._cur_sorted = None
        self._runs = None

    def _sketch(self, prof: ColumnProfile) -> tuple[np.ndarray, np.ndarray | None]:
        if prof.quantiles is None:
            raise InputError(f"column {self.name!r} has no quantile sketch to compare")
        return prof.quantiles.weighted_items()

    def binned(self) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        """(reference counts, current counts, bin labels), aligned."""
        if self._binned is None:
            if self.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
                self._binned = self._categories()
            else:
                self._binned = self._histograms()
        return self._binned

    def _histograms(self) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        h_ref, h_cur = self._ref_histogram, self.cur.histogram
        if h_ref is None and h_cur is not None and self.ref_raw is not None:
            h_ref = self.reference_histogram(h_cur.edges)
        if h_ref is None or h_cur is None:
            raise InputError(f"column {self.name!r} has no histogram to compare")
        if h_ref.edges != h_cur.edges:
            raise InputError(
                f"incompatible profiles: column {self.name!r} was binned on different edges; "
                "profile the current data against the reference (reference=...)"
            )
        e = h_ref.edges
        labels = (f"< {e[0]:.6g}", *(f"[{a:.6g}, {b:.6g})" for a, b in itertools.pairwise(e)))
        labels = (*labels, f">= {e[-1]:.6g}")
        return (
            np.asarray(h_ref.counts, dtype=np.float64),
            np.asarray(h_cur.counts, dtype=np.float64),
            labels,
        )

    def _categories(self) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        ref_counts = self.ref.category_counts()
        cur_counts = self.cur.category_counts()
        names = sorted(set(ref_counts) | set(cur_counts))
        a = np.array([ref_counts.get(c, 0) for c in names], dtype=np.float64)
        b = np.array([cur_counts.get(c, 0) for c in names], dtype=np.float64)
        rest_a = self.ref.valid - a.sum()
        rest_b = self.cur.valid - b.sum()
        if rest_a > 0 or rest_b > 0:
            names.append(OTHER)
            a = np.append(a, max(rest_a, 0.0))
            b = np.append(b, max(rest_b, 0.0))
        return a, b, tuple(names)

    @property
    def binned_error(self) -> float:
        """Bound on any count's error, as a share of its side (0 when counts are exact)."""
        err = 0.0
        for prof in (self.ref, self.cur):
            if prof.top is not None and prof.kind is not ColumnKind.NUMERIC and prof.valid:
                err = max(err, prof.top.max_error / prof.valid)
        return err


def _bounds(prof: ColumnProfile) -> tuple[float, float] | None:
    low, high = prof.min, prof.max
    return (low, high) if low is not None and high is not None else None


def _sorted_quantile(s: np.ndarray, q: float) -> float:
    """``numpy.quantile(s, q)`` (linear interpolation) of sorted ``s``, without sorting."""
    pos = q * (s.size - 1)
    lo = int(pos)
    hi = min(lo + 1, s.size - 1)
    return float(s[lo] + (pos - lo) * (s[hi] - s[lo]))


def _weighted(s: np.ndarray, runs: Runs) -> tuple[np.ndarray, np.ndarray | None]:
    """A sorted side for the ECDF merge: as distinct values with their counts when values
    repeat a lot (a far smaller merge, the same ECDF), else as it is."""
    if runs.counts is not None and runs.values.size * 4 <= s.size:
        return runs.values, runs.counts.astype(np.float64)
    return s, None
