"""The Signal protocol: how a rule kind reads the store.

A signal is a function ``(store, rule, now) -> list[Sample]``: one sample per label set it
watches, with the value the rule's condition is judged on. Returning no sample for a label
set means "no data": a pending alert for it drops and a firing one starts to resolve. A
signal raises when it cannot answer (store down, an engine missing); the evaluator then
leaves that rule's alerts as they were and reports the error.
"""

from __future__ import annotations

from typing import Protocol

from mlvitals.alerts.rules import Rule, Selector
from mlvitals.alerts.state import Sample
from mlvitals.store import Store


class Signal(Protocol):
    def __call__(self, store: Store, rule: Rule, now: float) -> list[Sample]: ...


def selector_labels(selector: Selector) -> dict[str, str]:
    """The fixed labels a selector contributes to every sample."""
    return {
        name: value
        for name in ("version", "operation", "instance")
        if (value := getattr(selector, name)) is not None
    }
