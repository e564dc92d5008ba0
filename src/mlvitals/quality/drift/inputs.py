"""What a drift method reads about one column, from raw data or from profiles.

:class:`ColumnData` holds a column's reference and current profiles and, when available, its
raw finite values, and computes (once, on demand) the two shapes the methods use:

- :meth:`ColumnData.ecdf`: the pooled ECDFs of numeric columns (KS, Wasserstein,
  Anderson-Darling). From raw data it is exact. A side known only by its profile contributes
  its KLL sketch's weighted items; every ECDF value is then within that sketch's rank error,
  so a KS statistic is within ``error_bound`` = the sum of the sides' rank errors (about 0.013
  each) of the raw-data statistic.
- :meth:`ColumnData.binned`: aligned counts (numeric: the histogram on the reference's frozen
  bins; categorical: counts per category). These are exact from profiles as from raw data, as
  long as the category counts are exact (at most 768 distinct values); past that, categories
  outside both top lists pool into one "other" bucket and counts are within the sketch error.
"""

from __future__ import annotations

import numpy as np

from mlvitals.errors import InputError
from mlvitals.quality.columns import ColumnKind
from mlvitals.quality.drift.ecdf import MergedECDF, merge
from mlvitals.quality.profile import ColumnProfile

OTHER = "(other)"


class ColumnData:
    __slots__ = (
        "_binned",
        "_ecdf",
        "cur",
        "cur_raw",
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
        ref_raw: np.ndarray | None = None,
        cur_raw: np.ndarray | None = None,
        *,
        ks_method: str = "auto",
    ) -> None:
        self.name = ref.name
        self.ks_method = ks_method
        self.kind = ref.kind
        self.ref, self.cur = ref, cur
        self.ref_raw, self.cur_raw = ref_raw, cur_raw
        self._ecdf: MergedECDF | None = None
        self._binned: tuple[np.ndarray, np.ndarray, tuple[str, ...]] | None = None

    @property
    def n_ref(self) -> int:
        return self.ref.valid

    @property
    def n_cur(self) -> int:
        return self.cur.valid

    @property
    def ref_std(self) -> float:
        return self.ref.std if self.ref.std is not None else float("nan")

    @property
    def raw(self) -> bool:
        return self.ref_raw is not None and self.cur_raw is not None

    @property
    def rank_error(self) -> float:
        """Bound on the error of any ECDF value difference (0 on raw data)."""
        err = 0.0
        for raw, prof in ((self.ref_raw, self.ref), (self.cur_raw, self.cur)):
            if raw is None and prof.quantiles is not None:
                err += prof.quantiles.rank_error
        return err

    def ecdf(self) -> MergedECDF:
        if self._ecdf is None:
            a, wa = self._sample(self.ref_raw, self.ref)
            b, wb = self._sample(self.cur_raw, self.cur)
            self._ecdf = merge(a, b, wa, wb)
        return self._ecdf

    def _sample(
        self, raw: np.ndarray | None, prof: ColumnProfile
    ) -> tuple[np.ndarray, np.ndarray | None]:
        if raw is not None:
            return np.sort(raw), None
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
        h_ref, h_cur = self.ref.histogram, self.cur.histogram
        if h_ref is None or h_cur is None:
            raise InputError(f"column {self.name!r} has no histogram to compare")
        if h_ref.edges != h_cur.edges:
            raise InputError(
                f"incompatible profiles: column {self.name!r} was binned on different edges; "
                "profile the current data against the reference (reference=...)"
            )
        e = h_ref.edges
        labels = (f"< {e[0]:.6g}", *(f"[{a:.6g}, {b:.6g})" for a, b in zip(e, e[1:])))
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
