"""What sampling alone explains: the tolerances of the inferred schema rules.

A share limit in a schema (``max_out_of_range_share``, ``max_unknown_share``) is the share of
such values the data's *population* may hold. A sample of ``n`` rows drawn at that share
holds a binomial count, so a check fails only when the count is above
:func:`allowed_count`: the count such a sample exceeds with probability at most
:data:`SAMPLING_ALPHA`. A limit of 0 allows none.

The inferred limits themselves bound what the reference's own sampling leaves unseen:

- categories: the share of the population in categories the reference never saw is about
  ``f1 / n`` (Good-Turing: ``f1`` categories seen once in ``n`` rows); the rule allows
  ``(f1 + 3 * sqrt(f1 + 2 * f2) + 3) / n`` (``f2``: categories seen twice), three standard
  errors above that estimate plus three rows' worth for categories too rare to be seen;
- ranges: a fresh value of continuous data lands past the extremes of ``n`` reference values
  with probability ``2 / (n + 1)``, and the share past them follows a Beta(2, n - 1)
  distribution whose 99.9 % quantile is about ``9.2 / n``; the rule allows ``10 / n`` plus
  0.1 % for rounded or discrete values.

>>> allowed_count(0.01, 300), allowed_count(0.0, 300)
(10, 0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from scipy import stats

SAMPLING_ALPHA = 0.001
"""Chance that a sample drawn at exactly the limit share fails the check."""

OUT_OF_RANGE_SHARE = 0.001
OUT_OF_RANGE_ROWS = 10.0


def allowed_count(share: float, n: int) -> int:
    """The most values a sample of ``n`` rows holds at ``share``, but for a chance of at
    most :data:`SAMPLING_ALPHA` (the binomial upper quantile)."""
    if share <= 0 or n <= 0:
        return 0
    if share >= 1:
        return n
    return int(stats.binom.ppf(1 - SAMPLING_ALPHA, n, share))


def unseen_share(counts: Iterable[int], n: int) -> float:
    """Upper bound on the population share of categories a sample of ``n`` rows, with
    these ``counts`` per category, did not see (see the module docstring)."""
    if n <= 0:
        return 1.0
    values = list(counts)
    f1 = sum(1 for c in values if c == 1)
    f2 = sum(1 for c in values if c == 2)
    return min(1.0, (f1 + 3 * math.sqrt(f1 + 2 * f2) + 3) / n)


def out_of_range_share(n: int) -> float:
    """The share of values past ``n`` reference values' extremes the inferred range allows."""
    return min(1.0, OUT_OF_RANGE_SHARE + OUT_OF_RANGE_ROWS / max(n, 1))
