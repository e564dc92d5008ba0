"""Signal: the last run of a pipeline ran with other dependency versions than the last good
run before it (value: the number of differences).

The alert resolves when the latest run's environment equals that of the last good run: a
rollback to the old environment, or the run after a good run in the new one (which became
the last good environment). A pipeline that never succeeded compares with its previous run.
"""

from __future__ import annotations

from mlvitals.alerts.rules import EnvironmentSpec, Rule
from mlvitals.alerts.state import Sample
from mlvitals.pipelines.envdiff import diff_environments
from mlvitals.pipelines.fold import RunState
from mlvitals.server.pipelines.queries import environment, good_runs, list_runs
from mlvitals.server.pipelines.signals import pipeline_names
from mlvitals.store import Store

_MAX_LINES = 20


def environment_signal(store: Store, rule: Rule, now: float) -> list[Sample]:
    spec = rule.spec
    assert isinstance(spec, EnvironmentSpec)
    samples = []
    for pipeline in pipeline_names(store, spec.pipeline):
        runs = [r for r in list_runs(store, pipeline=pipeline, limit=20) if r.environment_hash]
        if not runs:
            continue
        new = runs[0]
        old = _last_good(store, pipeline, new) or (runs[1] if len(runs) > 1 else None)
        if old is None or old.environment_hash == new.environment_hash:
            continue
        before = environment(store, old.environment_hash or "")
        after = environment(store, new.environment_hash or "")
        if before is None or after is None:
            continue
        lines = diff_environments(before, after).lines()
        if not lines:
            continue
        shown = lines[:_MAX_LINES] + (
            [f"... {len(lines) - _MAX_LINES} more"] if len(lines) > _MAX_LINES else []
        )
        info = {
            "run_id": new.run_id,
            "previous_run_id": old.run_id,
            "details": "; ".join(shown),
        }
        samples.append(Sample({"pipeline": pipeline}, float(len(lines)), info=info))
    return samples


def _last_good(store: Store, pipeline: str, new: RunState) -> RunState | None:
    """The last succeeded run with a known environment that started before ``new``."""
    started = new.started_at if new.started_at is not None else float("inf")
    for run in good_runs(store, pipeline, limit=20):
        if run.run_id != new.run_id and run.environment_hash and (run.started_at or 0.0) < started:
            return run
    return None
