"""Signals of liveness: services or instances that stopped reporting, probe availability."""

from __future__ import annotations

from mlvitals.alerts.rules import AbsenceSpec, AvailabilitySpec, Rule
from mlvitals.alerts.state import Sample
from mlvitals.server.serving.prober import availability
from mlvitals.server.serving.queries import _last_seen
from mlvitals.store import Store


def absence_signal(store: Store, rule: Rule, now: float) -> list[Sample]:
    """Seconds since the last serving window or instance sample, per service (or per
    instance); series silent for longer than ``forget_after`` are left out, and so are
    instances whose last report said they stopped cleanly (a deploy, a scale-down): a
    service's age is that of its freshest instance still running, and a service whose
    instances all stopped is not watched."""
    spec = rule.spec
    assert isinstance(spec, AbsenceSpec)
    service = spec.selector.service
    rows = [r for r in _last_seen(store, [service] if service else None) if not r["stopped"]]
    if spec.selector.instance is not None:
        rows = [r for r in rows if r["instance"] == spec.selector.instance]
    seen: dict[tuple[str, ...], float] = {}
    for r in rows:
        key: tuple[str, ...] = (r["service"], r["instance"]) if spec.group_by else (r["service"],)
        seen[key] = max(seen.get(key, float("-inf")), float(r["seen"]))
    samples = []
    for key, last in sorted(seen.items()):
        age = max(now - last, 0.0)
        if age > spec.forget_after:
            continue
        labels = dict(zip(("service", "instance"), key, strict=False))
        samples.append(Sample(labels, age, info={"last_seen": last}))
    return samples


def availability_signal(store: Store, rule: Rule, now: float) -> list[Sample]:
    """The share of successful probes per target over the rule's window."""
    spec = rule.spec
    assert isinstance(spec, AvailabilitySpec)
    samples = []
    for r in availability(store, now - spec.window, now):
        if spec.target is not None and r["target"] != spec.target:
            continue
        if r["checks"] < spec.min_checks:
            continue
        info = {
            "checks": r["checks"],
            "ok": r["ok"],
            "last_error": r["last_error"] or "none",
            "last_status": r["last_status"] if r["last_status"] is not None else "none",
        }
        samples.append(Sample({"target": r["target"]}, float(r["availability"]), info=info))
    return samples
