"""Seed for the Datasets pages: real checks and profiles made by ``Monitor`` and sent to the
server through its shipper, at times spread over the last days (an injected clock).

``features`` is checked four times against one reference while its ``income`` column
moves away (0, 0.2, 0.5 and 1.0 standard deviations); the last check also holds ages past
the reference's range, so it fails validation with samples. ``raw`` only has a profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlvitals import Monitor
from mlvitals.quality import CheckResult, Profile

DATASET = "features"
PROFILED = "raw"
SHIFTS = (0.0, 0.2, 0.5, 1.0)
DAYS_AGO = (3.0, 2.0, 1.0, 1 / 24)
ROWS = (1800, 1900, 2000, 2100)
BAD_AGE = 150


def reference_frame(n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "income": rng.normal(50.0, 10.0, n),
            "age": rng.integers(18, 90, n),
            "plan": rng.choice(["free", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
        }
    )


def current_frame(shift: float, n: int, seed: int, bad_ages: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.normal(50.0 + 10.0 * shift, 10.0, n),
            "age": rng.integers(18, 90, n),
            "plan": rng.choice(["free", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
        }
    )
    if bad_ages:
        frame.loc[::40, "age"] = BAD_AGE
    return frame


@dataclass
class Seeded:
    reference: pd.DataFrame
    currents: list[pd.DataFrame] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    profile: Profile | None = None

    @property
    def latest(self) -> CheckResult:
        return self.checks[-1]


def seed_datasets(server_url: str, now: float) -> Seeded:
    clock = [now]
    monitor = Monitor("feature-etl", server=server_url, background=False, clock=lambda: clock[0])
    seeded = Seeded(reference_frame())
    last = len(SHIFTS) - 1
    for i, (shift, days, rows) in enumerate(zip(SHIFTS, DAYS_AGO, ROWS, strict=True)):
        clock[0] = now - days * 86400.0
        current = current_frame(shift, rows, seed=100 + i, bad_ages=i == last)
        seeded.currents.append(current)
        seeded.checks.append(monitor.check(current, reference=seeded.reference, dataset=DATASET))
        seeded.times.append(clock[0])
    clock[0] = now - 7200.0
    seeded.profile = monitor.profile(seeded.reference, dataset=PROFILED)
    assert monitor.flush(timeout=20.0), "the seed did not reach the server"
    monitor.close()
    return seeded
