"""Alerting: rules, their evaluation, grouping, silences and notification payloads.

The pure core: rule configuration (:mod:`~mlvitals.alerts.config`), the evaluation state
machine (:func:`evaluate`), grouping and deduplication (:func:`plan_notifications`) and
payload builders (:mod:`~mlvitals.alerts.payloads`). Signals that read the store, the
evaluation loop and the API live in ``mlvitals.server.alerts``; senders in
:mod:`mlvitals.alerts.notifiers`.

>>> from mlvitals.alerts import load_rules
>>> "HighErrorRate" in [r.name for r in load_rules().rules]
True
"""

from mlvitals.alerts.config import RuleSet, load_rules, parse_rules, rule_errors
from mlvitals.alerts.evaluate import Evaluation, evaluate
from mlvitals.alerts.grouping import LogEntry, Notification, plan_notifications
from mlvitals.alerts.matchers import Matcher, parse_matcher
from mlvitals.alerts.rules import Rule
from mlvitals.alerts.silences import Silence
from mlvitals.alerts.state import AlertState, Sample, Transition

__all__ = [
    "AlertState",
    "Evaluation",
    "LogEntry",
    "Matcher",
    "Notification",
    "Rule",
    "RuleSet",
    "Sample",
    "Silence",
    "Transition",
    "evaluate",
    "load_rules",
    "parse_matcher",
    "parse_rules",
    "plan_notifications",
    "rule_errors",
]
