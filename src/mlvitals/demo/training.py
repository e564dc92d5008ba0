"""The demo's model pipelines: ``tumour-retrain`` (training) and ``tumour-deploy``
(deployment), their history, and the retraining that breaks after a dependency update.

Training jobs are simulated in size (a :class:`~mlvitals.demo.sim.SimMeter` states that
they keep six cores and about three of their four GPUs busy) but write a real model file
(the served model, pickled) that their ``export`` step describes. The environment of every
run is the one this interpreter really has, except for the broken retraining, which runs
with a copy in which scikit-learn is one minor version newer.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from mlvitals.cost.timegrid import day_start
from mlvitals.demo.history import SERVICE
from mlvitals.demo.sim import SimClock, SimMeter
from mlvitals.pipelines import Environment, Run, RunTracker

TRAIN = "tumour-retrain"
DEPLOY = "tumour-deploy"
UPGRADED = "scikit-learn"
CPU_CORES = 6.0
RSS_BYTES = 12 * 1024**3
GPUS_BUSY = 3.2  # of the four GPUs a retraining requests (see the demo rate card)
FIT_SHARE = 0.8  # of a retraining's time spent in its fit step
HOUR = 3600.0


def upgraded(env: Environment, package: str = UPGRADED) -> Environment:
    """``env`` with ``package`` one minor version newer: what a careless ``pip install -U``
    leaves behind."""
    current = env.packages.get(package, "1.0.0")
    try:
        v = Version(current)
        newer = f"{v.major}.{v.minor + 1}.0"
    except InvalidVersion:
        newer = current + ".post1"
    return Environment(
        env.python, env.implementation, env.platform, {**env.packages, package: newer}
    )


def fit_error(env: Environment) -> TypeError:
    """The error the training script hits with the upgraded library."""
    version = env.packages.get(UPGRADED, "?")
    return TypeError(
        f"HistGradientBoostingClassifier.__init__() got an unexpected keyword argument "
        f"'max_iter' (scikit-learn {version})"
    )


def meter(clock: Callable[[], float]) -> SimMeter:
    return SimMeter(clock, cpu_cores=CPU_CORES, rss_bytes=RSS_BYTES, gpus=GPUS_BUSY)


def training_run(
    tracker: RunTracker,
    wait: Callable[[float], object],
    *,
    seconds: float,
    version: str,
    model: Any,
    models: Path,
    features: Path | None,
    trigger: str,
    scheduled_at: float | None = None,
    error: BaseException | None = None,
) -> Run:
    """One retraining of ``seconds``; it fails in ``fit`` with ``error`` when given (the
    failure is recorded on the run and not raised further)."""
    spec = tracker.run(TRAIN, kind="training", trigger=trigger, scheduled_at=scheduled_at)
    try:
        with spec as run:
            with run.step("load-features") as s:
                if features is not None and features.exists():
                    s.input(features, name="biopsies/features.parquet")
                else:
                    s.input("biopsies/features.parquet")
                wait(0.1 * seconds)
            with run.step("fit"):
                wait(FIT_SHARE * seconds)
                if error is not None:
                    raise error
            with run.step("evaluate"):
                wait(0.05 * seconds)
            with run.step("export") as s:
                models.mkdir(parents=True, exist_ok=True)
                path = models / f"{SERVICE}-{version}.pkl"
                path.write_bytes(pickle.dumps(model))
                wait(0.05 * seconds)
                s.output(path, name=f"models/{SERVICE}")
            run.set_model_version(version)
    except Exception as exc:
        if exc is not error:
            raise
        # Recorded as the run's failure, with its traceback: that is what the demo shows.
    return run


def deployment_run(
    tracker: RunTracker, wait: Callable[[float], object], version: str, seconds: float
) -> Run:
    """A deployment that puts model ``version`` on the service as serving version
    ``version``."""
    with tracker.run(DEPLOY, kind="deployment", trigger="upstream") as run:
        run.set_model_version(version)
        run.set_deployment(SERVICE, version)
        with run.step("rollout"):
            wait(seconds)
    return run


def history(
    now: float, env: Environment, model: Any, models: Path, features: Path | None
) -> list[dict[str, Any]]:
    """Records of the runs behind what serves now: model 1.4.0 trained and deployed two days
    ago, the canary's 1.5.0 trained and deployed before the serving history begins. All
    end before today (UTC), so today's retraining budget starts empty."""
    before = min(day_start(now), now - 6 * HOUR)
    records: list[dict[str, Any]] = []
    for version, start, minutes, trigger in (
        ("1.4.0", before - 30 * HOUR, 35.0, "manual"),
        ("1.5.0", before - 4 * HOUR, 38.0, "drift_alert"),
    ):
        clock = SimClock(start)
        tracker = RunTracker(
            records.append, clock=clock, environment=lambda: env, meter=meter(clock)
        )
        training_run(
            tracker,
            clock.advance,
            seconds=minutes * 60,
            version=version,
            model=model,
            models=models,
            features=features,
            trigger=trigger,
            scheduled_at=start - 30.0,
        )
        clock.advance(25 * 60)
        small = SimMeter(clock, cpu_cores=0.2, rss_bytes=200 * 1024**2)
        deploy = RunTracker(records.append, clock=clock, environment=False, meter=small)
        deployment_run(deploy, clock.advance, version, 180.0)
    return records
