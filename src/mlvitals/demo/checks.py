"""Data-quality checks of the feature pipeline's batches, sent to the server.

Each live run of ``tumour-features`` checks its validated batch against the reference (the
measurements the model was trained on) with :func:`mlvitals.quality.check`: the schema
inferred from the reference, and drift per column. The result goes to the server as a
``check_result`` record naming the run and its ``validate`` step, where it shows on the
dataset's page and feeds the ``drift`` and ``check_failed`` alert rules.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlvitals.quality import CheckResult, ColumnRule, DriftPolicy, check, profile
from mlvitals.sdk.quality import check_record, fit

DATASET = "biopsies"
# Ids are not a distribution: a new batch numbers its rows from 0 like any other.
POLICY = DriftPolicy(columns={"biopsy_id": ColumnRule(skip=True)})
# The demo's pages and alerts need neither sketches nor correlations: without them a check
# is about 26 KB instead of 310 KB (see mlvitals.sdk.quality.fit).
RECORD_LIMIT = 64 * 1024


class BatchChecker:
    """Checks a batch (a CSV path) against ``reference`` and hands the record to ``send``."""

    def __init__(
        self,
        reference: Path,
        send: Callable[[dict[str, Any]], None],
        clock: Callable[[], float],
    ) -> None:
        self._reference = profile(str(reference))
        self._send = send
        self._clock = clock
        self.last_sent: float | None = None

    def __call__(self, batch: Path, run_id: str, step_id: str) -> CheckResult:
        result = check(str(batch), reference=self._reference, policy=POLICY)
        record = check_record(
            result,
            dataset=DATASET,
            time=self._clock(),
            run_id=run_id,
            step_id=step_id,
            data_bytes=batch.stat().st_size,
        )
        fitted = fit(record, RECORD_LIMIT)
        if fitted is not None:
            self._send(fitted)
            self.last_sent = self._clock()
        return result
