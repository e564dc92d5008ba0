"""The live scheduler of ``tumour-features``: a run at every slot of its cron schedule, its
batch checked against the reference, and the pipeline incidents (a late start, a short
extract, a drifted batch) when the scenario asks, one incident per run."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mlvitals.demo import checks, features, files
from mlvitals.demo.sim import waiter
from mlvitals.demo.timeline import Expect, Staged, Timeline
from mlvitals.demo.timing import Timing
from mlvitals.pipelines import RunTracker, Terminated
from mlvitals.pipelines.schedule import next_nominal

KEEP_FOLDERS = 60  # run folders kept on disk (older ones are deleted)
START_DELAY = 0.2  # a scheduler starts a run a moment after its slot
LATE, FEW_ROWS, DRIFT = "late", "few-rows", "drift"


class FeatureScheduler:
    """Runs the pipeline at each slot after ``after`` (see :meth:`start`) until stopped;
    ``checker`` checks each live batch (see :class:`mlvitals.demo.checks.BatchChecker`)."""

    def __init__(
        self,
        tracker: RunTracker,
        parent: Path,
        timing: Timing,
        timeline: Timeline,
        stop: threading.Event,
        checker: checks.BatchChecker | None = None,
        seed: int = 11,
    ) -> None:
        self._tracker = tracker
        self._parent = parent
        self._timing = timing
        self._timeline = timeline
        self._stop = stop
        self._checker = checker
        self._rng = np.random.default_rng(seed)
        self._requests: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self, after: float) -> None:
        self._thread = threading.Thread(
            target=self._loop, args=(after,), name="mlvitals-demo-features", daemon=True
        )
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def stage(self, incident: str, not_before: float) -> None:
        """Stage ``incident`` (``late``, ``few-rows`` or ``drift``) in the first run of a
        slot at or after ``not_before`` that has no incident yet."""
        with self._lock:
            self._requests.append((not_before, incident))
            self._requests.sort()

    def _take(self, slot: float) -> str | None:
        with self._lock:
            if self._requests and self._requests[0][0] <= slot:
                return self._requests.pop(0)[1]
        return None

    def _loop(self, after: float) -> None:
        with contextlib.suppress(Terminated):  # the demo stopped during a run (now aborted)
            self._schedule(after)

    def _schedule(self, after: float) -> None:
        t = self._timing
        slot = next_nominal(t.cron, "UTC", after)
        while not self._stop.is_set():
            if self._stop.wait(max(slot + START_DELAY - time.time(), 0.0)):
                return
            incident = self._take(slot)
            if incident == LATE:
                self._hold_back(slot)
                if self._stop.wait(max(slot + t.grace + t.late_by - time.time(), 0.0)):
                    return
                self._timeline.note(
                    f"{features.PIPELINE}: the late run starts, {time.time() - slot:.1f}s"
                    " after its slot"
                )
            self._run(slot, incident)
            files.prune(self._parent, KEEP_FOLDERS)
            slot = next_nominal(t.cron, "UTC", slot)

    def _hold_back(self, slot: float) -> None:
        t = self._timing
        self._timeline.staged(
            Staged(
                "late-run",
                slot,
                slot + t.grace,
                (Expect("PipelineLateStart", {"pipeline": features.PIPELINE}),),
                f"{features.PIPELINE}: the run due now is held back"
                f" ({t.grace:g}s grace, starts {t.grace + t.late_by:g}s late)",
                f"/pipelines/{features.PIPELINE}",
            )
        )

    def _run(self, slot: float, incident: str | None) -> None:
        t = self._timing
        rows = features.FEW_ROWS if incident == FEW_ROWS else features.normal_rows(self._rng)
        scale = files.RECALIBRATED if incident == DRIFT else None
        checked: list[float] = []
        checker: Callable[[Path, str, str], object] | None = None
        if self._checker is not None:
            batch_checker = self._checker

            def checker(batch: Path, run_id: str, step_id: str) -> None:
                batch_checker(batch, run_id, step_id)
                checked.append(time.time())

        began = time.time()
        run = features.feature_run(
            self._tracker,
            features.run_folder(self._parent, slot),
            slot,
            rows,
            t.run_seconds,
            waiter(self._stop),
            self._rng,
            scale=scale,
            checker=checker,
        )
        ended = time.time()
        if incident == FEW_ROWS:
            self._timeline.staged(
                Staged(
                    "few-rows",
                    began,
                    ended + t.ship_margin,
                    (Expect("PipelineStepAnomaly", {"pipeline": features.PIPELINE}),),
                    f"{features.PIPELINE}: a run extracted {rows} rows instead of about"
                    f" {features.NORMAL_ROWS}",
                    f"/runs/{run.id}",
                )
            )
        elif incident == DRIFT and checked:
            changed = ", ".join(files.RECALIBRATED)
            labels = {"dataset": checks.DATASET}
            self._timeline.staged(
                Staged(
                    "drifted-batch",
                    began,
                    checked[0] + t.ship_margin,
                    (Expect("DatasetDrift", labels), Expect("DataCheckFailed", labels)),
                    f"{features.PIPELINE}: a recalibrated scanner sent a batch with larger"
                    f" {changed}",
                    f"/datasets/{checks.DATASET}",
                )
            )
