"""False alarms of the default check: two independent samples of one distribution.

For each size N (both sides) and seed, a reference and a current frame are drawn from the
same distributions: 20 numeric columns (normal, skewed, heavy-tailed, discrete, mostly
zero) and 5 categorical columns with rare categories. Nothing changed, so every flag is a
false alarm: the table counts drifted columns, dataset drift, and checks that would exit
non-zero (with the default ``--fail-on dataset-drift`` and with ``column-drift``), and names
the checks behind those exits.

    python -m benchmarks.bench_false_alarms                 # N = 300, 1,000, 10,000; 20 seeds
    python -m benchmarks.bench_false_alarms --sizes 300 --seeds 5
"""

from __future__ import annotations

import argparse
import dataclasses
from collections import Counter
from collections.abc import Callable

import numpy as np
import pandas as pd

from mlvitals.quality import DriftPolicy, check

Draw = Callable[[np.random.Generator, int], np.ndarray]

NUMERIC: dict[str, Draw] = {
    "normal": lambda r, n: r.normal(0, 1, n),
    "normal_wide": lambda r, n: r.normal(1e5, 2e4, n),
    "lognormal": lambda r, n: r.lognormal(10, 0.5, n),
    "lognormal_heavy": lambda r, n: r.lognormal(0, 2, n),
    "pareto_1.1": lambda r, n: r.pareto(1.1, n) + 1,
    "pareto_1.5": lambda r, n: r.pareto(1.5, n) + 1,
    "student_t2": lambda r, n: r.standard_t(2, n),
    "cauchy": lambda r, n: r.standard_cauchy(n),
    "exponential": lambda r, n: r.exponential(3, n),
    "uniform": lambda r, n: r.uniform(0, 10, n),
    "beta": lambda r, n: r.beta(0.5, 0.5, n),
    "gamma": lambda r, n: r.gamma(0.5, 2, n),
    "poisson": lambda r, n: r.poisson(4, n).astype(np.float64),
    "counts_rare": lambda r, n: r.poisson(0.05, n).astype(np.float64),
    "age": lambda r, n: r.integers(18, 90, n),
    "rating": lambda r, n: r.choice([1, 2, 3, 4, 5], n, p=[0.05, 0.1, 0.2, 0.35, 0.3]),
    "zero_inflated": lambda r, n: np.where(r.random(n) < 0.7, 0.0, r.lognormal(3, 1, n)),
    "mostly_zero": lambda r, n: np.where(r.random(n) < 0.95, 0.0, r.normal(5, 1, n)),
    "bimodal": lambda r, n: np.where(r.random(n) < 0.3, r.normal(-3, 1, n), r.normal(2, 0.5, n)),
    "rounded_price": lambda r, n: np.round(r.lognormal(3, 0.8, n), 2),
}


def _categories(common: int, rare: int, rare_share: float) -> tuple[list[str], np.ndarray]:
    names = [f"c{i}" for i in range(common)] + [f"r{i}" for i in range(rare)]
    p = np.concatenate(
        [np.linspace(2, 1, common) / np.linspace(2, 1, common).sum() * (1 - rare_share),
         np.full(rare, rare_share / rare)]
    )  # fmt: skip
    return names, p / p.sum()


CATEGORICAL = {
    "plan": _categories(3, 2, 0.01),
    "country": _categories(12, 8, 0.02),
    "device": _categories(4, 4, 0.004),
    "channel": _categories(6, 10, 0.05),
    "flag": _categories(2, 1, 0.001),
}


def frame(n: int, rng: np.random.Generator) -> pd.DataFrame:
    cols: dict[str, np.ndarray] = {name: draw(rng, n) for name, draw in NUMERIC.items()}
    for name, (names, p) in CATEGORICAL.items():
        cols[name] = np.asarray(names)[rng.choice(len(names), n, p=p)]
    return pd.DataFrame(cols)


@dataclasses.dataclass
class Row:
    size: int
    runs: int = 0
    tested: int = 0
    column_flags: int = 0
    dataset_alarms: int = 0
    exits: int = 0
    exits_column: int = 0
    causes: Counter[str] = dataclasses.field(default_factory=Counter)
    flagged: Counter[str] = dataclasses.field(default_factory=Counter)


def run(size: int, seeds: int) -> Row:
    row = Row(size)
    strict = DriftPolicy(fail_on="column-drift")
    for seed in range(seeds):
        rng = np.random.default_rng([size, seed])
        ref, cur = frame(size, rng), frame(size, rng)
        result = check(cur, reference=ref)
        row.runs += 1
        row.tested += len(result.drift.tested)
        row.column_flags += len(result.drift.drifted)
        row.flagged.update(c.column for c in result.drift.drifted)
        row.dataset_alarms += result.drift.dataset_drift
        if not result.passed:
            row.exits += 1
            row.causes.update(f"{f.check}:{f.column}" for f in result.failures)
            if result.drift.dataset_drift:
                row.causes["dataset drift"] += 1
        row.exits_column += not check(cur, reference=ref, policy=strict).passed
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[300, 1_000, 10_000])
    ap.add_argument("--seeds", type=int, default=20)
    args = ap.parse_args()
    print(
        f"identical distributions, {len(NUMERIC)} numeric + {len(CATEGORICAL)} categorical "
        f"columns, {args.seeds} seeds per size\n"
    )
    head = ("N", "column flags", "share", "dataset alarms", "exit != 0", "exit != 0 (column)")
    print(f"{head[0]:>7} {head[1]:>13} {head[2]:>7} {head[3]:>15} {head[4]:>10} {head[5]:>19}")
    rows = [run(size, args.seeds) for size in args.sizes]
    for r in rows:
        share = r.column_flags / r.tested if r.tested else 0.0
        print(
            f"{r.size:>7,} {f'{r.column_flags}/{r.tested}':>13} {100 * share:>6.2f}% "
            f"{f'{r.dataset_alarms}/{r.runs}':>15} {f'{r.exits}/{r.runs}':>10} "
            f"{f'{r.exits_column}/{r.runs}':>19}"
        )
    for r in rows:
        if r.causes:
            print(f"N={r.size:,}: exits caused by {dict(r.causes)}")
        if r.flagged:
            print(f"N={r.size:,}: flagged columns {dict(r.flagged)}")


if __name__ == "__main__":
    main()
