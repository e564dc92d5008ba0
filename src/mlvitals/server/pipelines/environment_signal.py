"""Signal: the last run of a pipeline ran with other dependency versions than the run
before it (value: the number of differences; resolves when a run keeps the environment)."""

from __future__ import annotations

from mlvitals.alerts.rules import EnvironmentSpec, Rule
from mlvitals.alerts.state import Sample
from mlvitals.pipelines.envdiff import diff_environments
from mlvitals.server.pipelines.queries import environment, list_runs
from mlvitals.server.pipelines.signals import pipeline_names
from mlvitals.store import Store

_MAX_LINES = 20


def environment_signal(store: Store, rule: Rule, now: float) -> list[Sample]:
    spec = rule.spec
    assert isinstance(spec, EnvironmentSpec)
    samples = []
    for pipeline in pipeline_names(store, spec.pipeline):
        runs = [r for r in list_runs(store, pipeline=pipeline, limit=20) if r.environment_hash]
        if len(runs) < 2 or runs[0].environment_hash == runs[1].environment_hash:
            continue
        new, old = runs[0], runs[1]
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
