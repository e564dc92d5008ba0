"""The live demo: history, a model service of three instrumented replicas with traffic,
a scheduled feature pipeline, today's retraining, and a timeline of staged incidents, all
sent to the demo server (see ``docs/demo.md``).

:meth:`Demo.prepare` trains the model and starts the replicas (before the server, so its
uptime probes find them up); :meth:`Demo.run` blocks: it starts the rest of the workload,
stages the incidents at their times and then keeps everything running until
:meth:`Demo.stop`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from mlvitals.cost import load_config
from mlvitals.demo import budget, checks, features, files, training
from mlvitals.demo.configs import DemoFiles
from mlvitals.demo.fleet import TOTAL_RATE, Fleet, wait_for
from mlvitals.demo.history import SERVICE, backfill, envelope
from mlvitals.demo.incidents import Action, Plan, ServingIncidents
from mlvitals.demo.jobs import Retraining
from mlvitals.demo.model import TrainedModel, train
from mlvitals.demo.scheduler import DRIFT, FEW_ROWS, LATE, FeatureScheduler
from mlvitals.demo.sim import SimMeter
from mlvitals.demo.timeline import AlertWatcher, Timeline
from mlvitals.demo.timing import Timing
from mlvitals.errors import RequestError
from mlvitals.http import Client
from mlvitals.pipelines import Environment, HttpSink, RunTracker, capture_environment
from mlvitals.sdk.transport import HttpTransport

log = logging.getLogger("mlvitals.demo")


class Demo:
    """The demo against the server at ``server_url``, configured by ``files``."""

    def __init__(
        self,
        server_url: str,
        files: DemoFiles,
        timing: Timing,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.server_url = server_url
        self.files = files
        self.timing = timing
        self._echo = echo
        self._stop = threading.Event()
        self._stopped = False
        self._lock = threading.Lock()
        # Pipeline records travel like the SDK's: batched, retried, off the jobs' path; a
        # check is sent on its own, as Monitor.check sends it.
        self._transport = HttpTransport(server_url)
        self._checks = HttpTransport(server_url, batch_size=1, max_buffer=100)
        self.fleet: Fleet | None = None
        self._trained: TrainedModel | None = None
        self._scheduler: FeatureScheduler | None = None
        self._retraining: Retraining | None = None
        self._watcher: AlertWatcher | None = None

    def _emit(self, record: dict[str, Any]) -> None:
        self._transport.send([record])

    def _send_check(self, record: dict[str, Any]) -> None:
        self._checks.send([record])

    @property
    def _features_dir(self) -> Path:
        return self.files.folder / "features"

    def prepare(self) -> None:
        """Train the model and start the replicas' servers (about two seconds)."""
        self._trained = train()
        self.fleet = Fleet.serve(self._trained, self.files.ports)

    def run(self) -> None:
        """Start the workload, stage the incidents, then keep running until :meth:`stop`."""
        if self.fleet is None:
            self.prepare()
        fleet, trained = self.fleet, self._trained
        assert fleet is not None and trained is not None
        wait_for(self.server_url + "/healthz")
        t = self.timing
        timeline = Timeline(self._echo, self.files.folder / "timeline.jsonl", time.time())
        env = capture_environment()
        scheduler = self._start_pipelines(timeline, env, trained)
        if self._stop.is_set():
            return
        plan, limit = self._start_serving(fleet)
        self._retraining = Retraining(
            self._emit, env, trained.model, self.files.folder, t, timeline, self._stop
        )
        timeline.ready(
            f"running: {len(fleet.replicas)} replicas of {SERVICE} with traffic,"
            f" {features.PIPELINE} on '{t.cron}', {t.history_hours:g} h of history;"
            f" alerts every {t.alert_interval:g}s; first incident in {t.clean:g}s",
            {"timing": asdict(t), "first": plan.first, "end": plan.end, "budget": limit},
        )
        self._watcher = AlertWatcher(self.server_url, timeline, t.alert_interval)
        self._watcher.start()
        actions = sorted(self._actions(plan, fleet, scheduler, timeline), key=lambda a: a[0])
        for at, what, action in actions:
            if self._stop.wait(max(at - time.time(), 0.0)):
                return
            log.debug("demo: %s", what)
            action()
        if self._stop.wait(max(plan.end - time.time(), 0.0)):
            return
        timeline.end("every incident is staged; the demo keeps running until it is stopped")

    def _start_pipelines(
        self, timeline: Timeline, env: Environment, trained: TrainedModel
    ) -> FeatureScheduler:
        """Start the feature pipeline's schedule, live from the first slot after its
        history, then send the pipelines' history."""
        t = self.timing
        slots = features.history_slots(t.cron, t.run_seconds, t.history_runs, time.time())
        tracker = RunTracker(
            self._emit,
            environment=lambda: env,
            meter=SimMeter(time.time, cpu_cores=features.CPU_CORES, rss_bytes=features.RSS_BYTES),
            host="etl-worker-1",
        )
        reference = files.write_reference(self.files.folder / "reference" / "training.csv")
        checker = checks.BatchChecker(reference, self._send_check, time.time)
        scheduler = FeatureScheduler(tracker, self._features_dir, t, timeline, self._stop, checker)
        scheduler.start(after=slots[-1])
        self._scheduler = scheduler
        rng = np.random.default_rng(5)
        records = features.history(
            self._features_dir, slots, t.cron, t.grace, t.run_seconds, env, rng
        )
        # The history's retraining runs read the feature table of their day, long replaced.
        models = self.files.folder / "models"
        records += training.history(time.time(), env, trained.model, models, None)
        if not HttpSink(self.server_url, retries=2).send(records):
            raise RuntimeError("the server did not take the pipelines' history")
        return scheduler

    def _start_serving(self, fleet: Fleet) -> tuple[Plan, float]:
        """Attach the replicas' monitors, send the serving history, start the traffic once
        the monitors' own records are stored, then plan the timeline and set the retraining
        budget for it; returns the plan and the budget's limit."""
        t = self.timing
        # Building and storing the history is the demo's busiest moment. It ends where the
        # replicas' monitors take over, and they report (resource samples) while it is
        # stored, so the service never looks silent however long storing takes on a busy
        # machine; the traffic waits, so no call is slowed by it.
        client = Client(self.server_url, timeout=60, user_agent="mlvitals-demo")
        history = backfill(time.time(), t.history_hours, rate=TOTAL_RATE)
        live_from = time.time()
        fleet.instrument(self.server_url, t.sdk_window)
        for batch in reversed(history):  # newest first
            client.post("/api/v1/ingest", envelope(batch), idempotent=True)
        _wait_for_live(client, list(fleet.replicas), live_from, self._stop)
        fleet.start_traffic()
        plan = Plan(time.time() + t.clean, t)
        limit = budget.set_retraining_budget(
            client,
            training.TRAIN,
            plan.retraining.usages(),
            load_config(self.files.rate_card),
            plan.retraining.rerun_ends,
        )
        return plan, limit

    def _actions(
        self, plan: Plan, fleet: Fleet, scheduler: FeatureScheduler, timeline: Timeline
    ) -> list[Action]:
        t = self.timing
        serving = ServingIncidents(fleet, t, timeline)
        retraining = self._retraining
        assert retraining is not None
        jobs = plan.retraining
        return [
            (plan.at(0), "error burst", serving.error_burst),
            (plan.at(0) + t.incident_seconds, "error burst over", serving.error_burst_over),
            (plan.at(1), "late run", lambda: scheduler.stage(LATE, plan.at(1))),
            (plan.at(2), "latency regression", serving.latency),
            (plan.at(2) + t.incident_seconds, "latency over", serving.latency_over),
            (plan.at(3), "few rows", lambda: scheduler.stage(FEW_ROWS, plan.at(3))),
            (plan.at(4), "drifted batch", lambda: scheduler.stage(DRIFT, plan.at(4))),
            (plan.at(5), "instance stops", serving.stop_instance),
            (jobs.start, "retraining", lambda: retraining.launch(jobs)),
        ]

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called (what fails afterwards is the shutdown's doing)."""
        return self._stop.is_set()

    def stop(self) -> None:
        """Stop the workload and ship what is left while the server still listens."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._stop.set()
        logging.getLogger("mlvitals.sdk").setLevel(logging.ERROR)
        if self._watcher is not None:
            self._watcher.stop()
        for job in (self._scheduler, self._retraining):
            if job is not None:
                job.join(5)
        self._transport.close(2.0)
        self._checks.close(1.0)
        if self.fleet is not None:
            self.fleet.stop()


def _wait_for_live(
    client: Client,
    instances: list[str],
    since: float,
    stop: threading.Event,
    timeout: float = 120.0,
) -> None:
    """Wait until the server holds a record sent after ``since`` by every one of
    ``instances`` (at most ``timeout`` seconds; the demo goes on either way)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        try:
            listed = client.get(f"/api/v1/services/{SERVICE}/instances")
        except RequestError:  # not stored yet (404) or busy: ask again
            listed = None
        if listed is not None:
            seen = {i["instance"]: i["last_seen"] for i in listed["instances"]}
            if all(seen.get(name, 0.0) > since for name in instances):
                return
        stop.wait(0.2)
    log.warning("demo: the replicas' first windows were not stored within %.0fs", timeout)
