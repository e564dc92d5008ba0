"""Routes: which receiver gets an alert, and how alerts are grouped into notifications.

A small subset of Alertmanager's routing tree::

    route:
      receiver: ml-oncall            # the default for every alert
      group_by: [alertname, service] # one notification per group; [...] groups by all labels
      group_interval: 1m             # at most one update of a group per interval
      repeat_interval: 4h            # re-send a still-firing group after this long
      routes:                        # first matching child wins, unless `continue: true`
        - matchers: ['severity="critical"']
          receiver: pager

A child inherits any setting it does not give from its parent.

>>> from mlvitals.alerts.matchers import parse_matcher
>>> child = Route("pager", (parse_matcher("severity=critical"),))
>>> root = Route("default", routes=(child,))
>>> [r.receiver for r in root.match({"severity": "critical"})]
['pager']
>>> [r.receiver for r in root.match({"severity": "warning"})]
['default']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from mlvitals.alerts.labels import Labels, render_labels
from mlvitals.alerts.matchers import Matcher, matches_all, parse_matcher
from mlvitals.alerts.reader import Reader

ALL_LABELS = "..."


@dataclass(frozen=True, slots=True)
class Route:
    receiver: str
    matchers: tuple[Matcher, ...] = ()
    group_by: tuple[str, ...] = ("alertname",)
    group_interval: float = 60.0
    repeat_interval: float = 4 * 3600.0
    continue_: bool = False
    routes: tuple[Route, ...] = ()
    key: str = "{}"

    def __post_init__(self) -> None:
        # Children's keys extend their parent's: the group keys of two routes never clash.
        keyed = tuple(
            replace(c, key=f"{self.key}/{{{', '.join(map(str, c.matchers))}}}") for c in self.routes
        )
        object.__setattr__(self, "routes", keyed)

    def match(self, labels: Labels) -> list[Route]:
        """The routes that take an alert with ``labels`` (the deepest matching ones)."""
        if not matches_all(self.matchers, labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            hit = child.match(labels)
            if hit:
                found += hit
                if not child.continue_:
                    break
        return found or [self]

    def group_labels(self, labels: Labels) -> dict[str, str]:
        if ALL_LABELS in self.group_by:
            return dict(labels)
        return {name: labels[name] for name in self.group_by if name in labels}

    def group_key(self, labels: Labels) -> str:
        """Alertmanager-style ``{route path}:{group labels}``."""
        return f"{self.key}:{render_labels(self.group_labels(labels))}"

    def walk(self) -> list[Route]:
        out = [self]
        for child in self.routes:
            out += child.walk()
        return out


def parse_route(
    data: Any, errors: list[str], parent: Route | None = None, where: str = "route"
) -> Route | None:
    if not isinstance(data, Mapping):
        errors.append(f"{where}: expected a mapping with 'receiver'")
        return None
    r = Reader(data, where, errors)
    allowed = {"receiver", "group_by", "group_interval", "repeat_interval", "routes"}
    r.only(allowed if parent is None else allowed | {"matchers", "continue"})
    receiver = r.text("receiver", required=parent is None)
    matchers: list[Matcher] = []
    for text in r.strings("matchers") or ():
        try:
            matchers.append(parse_matcher(text))
        except ValueError as exc:
            r.error("matchers", str(exc))
    group_by = r.strings("group_by")
    group_interval = r.duration("group_interval")
    repeat_interval = r.duration("repeat_interval", positive=True)
    cont = r.flag("continue")
    children = r.items("routes") or []
    if r.failed:
        return None
    base = parent or Route(receiver or "")
    route = replace(
        base,
        receiver=receiver or base.receiver,
        matchers=tuple(matchers),
        group_by=group_by if group_by is not None else base.group_by,
        group_interval=group_interval if group_interval is not None else base.group_interval,
        repeat_interval=repeat_interval if repeat_interval is not None else base.repeat_interval,
        continue_=bool(cont),
        routes=(),
    )
    parsed = []
    for i, child in enumerate(children):
        sub = parse_route(child, errors, route, f"{where}, routes {i + 1}")
        if sub is not None:
            parsed.append(sub)
    return replace(route, routes=tuple(parsed))
