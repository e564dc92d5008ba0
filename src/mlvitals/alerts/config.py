"""The rules file: rules, receivers and the route, validated in one pass.

::

    rules:
      - name: HighErrorRate
        kind: serving
        metric: error_rate
        op: ">"
        threshold: 0.05
        window: 5m
        for: 2m
        severity: critical
        annotations:
          summary: "{service}: {value:.1%} of calls fail"
    receivers: [...]     # see mlvitals.alerts.receivers
    route: {...}         # see mlvitals.alerts.routing

Every mistake is reported with the rule (or receiver) and the field, all at once:

>>> try:
...     parse_rules({"rules": [{"name": "X", "kind": "serving", "metric": "error_rate"}]}, "t")
... except ConfigError as exc:
...     print(exc)
t has 1 error(s):
  rule 'X', field 'threshold': is required
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from mlvitals.alerts.labels import LABEL_NAME
from mlvitals.alerts.reader import Reader
from mlvitals.alerts.receivers import Receiver, parse_receiver
from mlvitals.alerts.routing import Route, parse_route
from mlvitals.alerts.rule_specs import KINDS, parse_spec
from mlvitals.alerts.rules import SEVERITIES, Rule
from mlvitals.alerts.templates import check_template
from mlvitals.errors import ConfigError

RESERVED_LABELS = frozenset({"alertname", "severity"})
_COMMON = frozenset(
    {"name", "kind", "for", "keep_firing_for", "severity", "labels", "annotations", "enabled"}
)
DEFAULT_PACK = "default rule pack"


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything a rules file declares; ``route`` is ``None`` when nothing is notified."""

    rules: tuple[Rule, ...] = ()
    receivers: Mapping[str, Receiver] = field(default_factory=dict)
    route: Route | None = None
    source: str = ""

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)


def _rule(data: Any, index: int, errors: list[str]) -> Rule | None:
    if not isinstance(data, Mapping):
        errors.append(f"rule {index + 1}: expected a mapping with 'name' and 'kind'")
        return None
    name = data.get("name")
    where = f"rule {name!r}" if isinstance(name, str) and name else f"rule {index + 1}"
    r = Reader(data, where, errors)
    r.text("name", required=True)
    if isinstance(name, str) and not LABEL_NAME.fullmatch(name.replace("-", "_").replace(":", "_")):
        r.error("name", "use letters, digits, '_', '-' or ':' (it becomes the alertname label)")
    kind = r.text("kind", required=True, choices=tuple(KINDS))
    r.only(_COMMON | (KINDS[kind][0] if kind in KINDS else frozenset()))
    for_ = r.duration("for")
    keep = r.duration("keep_firing_for")
    severity = r.text("severity", choices=SEVERITIES) or "warning"
    labels = r.labels("labels") or {}
    for reserved in sorted(RESERVED_LABELS & set(labels)):
        r.error("labels", f"{reserved!r} is set from the rule itself; remove it from labels")
    annotations = r.labels("annotations") or {}
    for key, template in annotations.items():
        try:
            check_template(template)
        except ValueError as exc:
            r.error(f"annotations.{key}", str(exc))
    spec = parse_spec(kind, r) if kind is not None else None
    if r.failed or spec is None or not isinstance(name, str):
        return None
    return Rule(
        name,
        spec,
        for_=for_ or 0.0,
        keep_firing_for=keep or 0.0,
        severity=severity,
        labels=MappingProxyType(labels),
        annotations=MappingProxyType(annotations),
    )


def rule_errors(data: Any, where: str) -> tuple[RuleSet | None, list[str]]:
    """Parse a loaded rules document; the rule set, or ``None`` and every error found."""
    errors: list[str] = []
    if not isinstance(data, Mapping) or not isinstance(data.get("rules"), list):
        return None, [f"{where}: expected a mapping with a list 'rules'"]
    top = Reader(data, where, errors)
    top.only({"rules", "receivers", "route"})
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, item in enumerate(data["rules"]):
        if isinstance(item, Mapping) and item.get("enabled") is False:
            continue
        rule = _rule(item, i, errors)
        if rule is None:
            continue
        if rule.name in seen:
            errors.append(f"rule {rule.name!r}, field 'name': used by two rules; names must differ")
        seen.add(rule.name)
        rules.append(rule)
    receivers: dict[str, Receiver] = {}
    for i, item in enumerate(top.items("receivers") or []):
        receiver = parse_receiver(item, i, errors)
        if receiver is not None:
            if receiver.name in receivers:
                errors.append(f"receiver {receiver.name!r}: the name is used twice")
            receivers[receiver.name] = receiver
    route = parse_route(data["route"], errors) if data.get("route") is not None else None
    if route is None and receivers and "route" not in data:
        # One receiver and no route: everything goes to it.
        if len(receivers) == 1:
            route = Route(next(iter(receivers)))
        else:
            errors.append(f"{where}: several receivers need a 'route' saying which gets what")
    for r in route.walk() if route is not None else []:
        if r.receiver not in receivers:
            known = ", ".join(sorted(receivers)) or "none declared"
            errors.append(
                f"route {r.key}, field 'receiver': unknown receiver {r.receiver!r} ({known})"
            )
    if errors:
        return None, errors
    return RuleSet(tuple(rules), MappingProxyType(receivers), route, where), []


def parse_rules(data: Any, where: str) -> RuleSet:
    """A :class:`RuleSet` from a loaded YAML document; :class:`ConfigError` lists all errors."""
    ruleset, errors = rule_errors(data, where)
    if ruleset is None:
        raise ConfigError(f"{where} has {len(errors)} error(s):\n  " + "\n  ".join(errors))
    return ruleset


def _yaml(text: str, where: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where} is not valid YAML: {exc}") from None


def read_rules_file(path: str) -> Any:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read rules file {path}: {exc.strerror}") from None
    return _yaml(text, f"rules file {path}")


def load_rules(path: str = "") -> RuleSet:
    """The rules of ``path``; an empty path means the default rule pack.

    >>> [r.name for r in load_rules().rules][:2]
    ['ServiceDown', 'InstanceDown']
    """
    if not path:
        return default_rules()
    return parse_rules(read_rules_file(path), f"rules file {path}")


def default_rules_text() -> str:
    return resources.files("mlvitals.alerts").joinpath("default_rules.yaml").read_text()


def default_rules() -> RuleSet:
    """The rule pack that ships with mlvitals (``mlvitals/alerts/default_rules.yaml``)."""
    return parse_rules(_yaml(default_rules_text(), DEFAULT_PACK), DEFAULT_PACK)
