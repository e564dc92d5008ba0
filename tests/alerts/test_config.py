"""Rules files: the default pack loads, and mistakes are reported by rule and field."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mlvitals.alerts.config import default_rules, load_rules, parse_rules, rule_errors
from mlvitals.alerts.labels import _fnv1a, fingerprint
from mlvitals.alerts.matchers import Matcher, parse_matcher
from mlvitals.alerts.receivers import AlertmanagerConfig, EmailConfig, SlackConfig, WebhookConfig
from mlvitals.alerts.rules import BurnRateSpec, BurnWindow, ServingSpec
from mlvitals.alerts.templates import check_template, render
from mlvitals.errors import ConfigError


def errors_of(doc: dict[str, Any]) -> list[str]:
    ruleset, errors = rule_errors(doc, "t")
    assert ruleset is None
    return errors


def test_the_default_pack_covers_services_and_pipelines() -> None:
    rules = default_rules().rules
    kinds = {r.kind for r in rules}
    assert {"serving", "absence", "burn_rate", "availability", "pipeline"} <= kinds
    burn = next(r for r in rules if r.kind == "burn_rate").spec
    assert isinstance(burn, BurnRateSpec)
    assert burn.windows == (BurnWindow(3600, 300, 14.4), BurnWindow(21600, 1800, 6.0))
    assert load_rules("").rules == rules


def test_a_full_rule_is_parsed() -> None:
    doc = yaml.safe_load(
        """
rules:
  - name: SlowFraud
    kind: serving
    metric: latency_p99
    op: ">="
    threshold: 0.25
    window: 10m
    selector: {service: fraud, version: "2"}
    group_by: [instance]
    min_calls: 10
    for: 1m30s
    keep_firing_for: 5m
    severity: critical
    labels: {team: risk}
    annotations: {summary: "{service} p99 {value:.3f}s"}
"""
    )
    (r,) = parse_rules(doc, "t").rules
    assert (r.name, r.for_, r.keep_firing_for, r.severity) == ("SlowFraud", 90.0, 300.0, "critical")
    assert isinstance(r.spec, ServingSpec)
    assert (r.spec.metric, r.spec.window, r.spec.group_by, r.spec.min_calls) == (
        "latency_p99",
        600.0,
        ("instance",),
        10,
    )
    assert (r.spec.selector.service, r.spec.selector.version) == ("fraud", "2")
    assert r.spec.condition.holds(0.25) and not r.spec.condition.holds(0.2)


def test_every_error_names_its_rule_and_field() -> None:
    doc = {
        "rules": [
            {"name": "A", "kind": "serving", "metric": "latency_p42", "threshold": "high"},
            {"name": "B", "kind": "absense", "duration": "2m"},
            {"name": "C", "kind": "availability", "below": 1.5, "window": "ten minutes"},
            {
                "name": "D",
                "kind": "burn_rate",
                "objective": 0.999,
                "windows": [{"long": "5m", "short": "1h", "factor": 2}],
            },
            {"name": "E", "kind": "pipeline", "condition": "exploded", "for": "-1m"},
            {"kind": "absence", "duration": "1m"},
            {"name": "F", "kind": "serving", "metric": "error_rate", "threshold": 1, "treshold": 2},
            {"name": "G", "kind": "absence", "duration": "1m", "labels": {"alertname": "x"}},
            {
                "name": "H",
                "kind": "absence",
                "duration": "1m",
                "annotations": {"s": "{value.__class__}"},
            },
        ]
    }
    errors = errors_of(doc)
    expected = [
        "rule 'A', field 'metric': unknown metric 'latency_p42'",
        "rule 'A', field 'threshold': expected a number, got 'high'",
        "rule 'B', field 'kind': expected one of serving, absence",
        "rule 'C', field 'below': must be between 0 and 1, got 1.5",
        "rule 'C', field 'window': not a duration",
        "rule 'D', windows 1, field 'short': must be shorter than 'long'",
        "rule 'E', field 'condition': expected one of failed, late, missed",
        "rule 'E', field 'for': a duration cannot be negative",
        "rule 6, field 'name': is required",
        "rule 'F', field 'treshold': unknown field",
        "rule 'G', field 'labels': 'alertname' is set from the rule itself",
        "rule 'H', field 'annotations.s': template field {value.__class__} must be a plain name",
    ]
    for line in expected:
        assert any(e.startswith(line) for e in errors), (line, errors)
    with pytest.raises(ConfigError, match=r"t has \d+ error\(s\)"):
        parse_rules(doc, "t")


def test_duplicate_names_and_unknown_receivers_are_errors() -> None:
    doc = {
        "rules": [
            {"name": "A", "kind": "absence", "duration": "1m"},
            {"name": "A", "kind": "absence", "duration": "2m"},
        ],
        "receivers": [{"name": "ops", "webhooks": [{"url": "http://x/hook"}]}],
        "route": {
            "receiver": "ops",
            "routes": [{"matchers": ["severity=critical"], "receiver": "pager"}],
        },
    }
    errors = errors_of(doc)
    assert any("rule 'A', field 'name': used by two rules" in e for e in errors)
    assert any("field 'receiver': unknown receiver 'pager' (ops)" in e for e in errors)


def test_receivers_of_every_kind_and_a_routing_tree() -> None:
    doc = yaml.safe_load(
        """
rules: []
receivers:
  - name: ops
    webhooks: [{url: "http://hooks.local/a", max_alerts: 5, headers: {Authorization: "Bearer x"}}]
    slack: [{url: "https://chat.local/hooks/T/B/X", send_resolved: false, channel: "#ml"}]
  - name: pager
    alertmanager: [{url: "http://am.local:9093/", resend_interval: 30s}]
    email: [{to: oncall@example.com, from: mlvitals@example.com, host: smtp.local, port: 587}]
route:
  receiver: ops
  group_by: [alertname, service]
  repeat_interval: 2h
  routes:
    - matchers: ['severity="critical"', 'team=~"risk|fraud"']
      receiver: pager
      continue: true
    - matchers: [service=fraud]
      group_interval: 5m
"""
    )
    rs = parse_rules(doc, "t")
    ops, pager = rs.receivers["ops"], rs.receivers["pager"]
    hook, slack = ops.integrations
    assert isinstance(hook, WebhookConfig) and hook.max_alerts == 5
    assert hook.headers == {"Authorization": "Bearer x"}
    assert isinstance(slack, SlackConfig) and not slack.send_resolved and slack.channel == "#ml"
    am, mail = pager.integrations
    assert isinstance(am, AlertmanagerConfig)
    assert (am.url, am.resend_interval) == ("http://am.local:9093", 30.0)
    assert isinstance(mail, EmailConfig)
    assert (mail.to, mail.port, mail.starttls) == (("oncall@example.com",), 587, True)
    assert rs.route is not None
    critical = {"severity": "critical", "team": "risk", "service": "fraud"}
    # continue: true lets the alert also reach the next matching child
    matched = rs.route.match(critical)
    assert [r.receiver for r in matched] == ["pager", "ops"]
    assert [r.group_interval for r in matched] == [60.0, 300.0]
    assert all(r.repeat_interval == 7200.0 for r in matched)  # inherited
    assert [r.receiver for r in rs.route.match({"severity": "warning"})] == ["ops"]
    assert matched[0].group_key(critical) == (
        '{}/{severity="critical", team=~"risk|fraud"}:{service="fraud"}'
    )


def test_receiver_errors_name_the_receiver_and_field() -> None:
    doc = {
        "rules": [],
        "receivers": [
            {
                "name": "r",
                "webhooks": [{"url": "ftp://x"}],
                "email": [{"to": "nobody", "host": "h"}],
            }
        ],
    }
    errors = errors_of(doc)
    assert any(
        e.startswith("receiver 'r', webhooks 1, field 'url': expected an http") for e in errors
    )
    assert any(e.startswith("receiver 'r', email 1, field 'to': expected e-mail") for e in errors)
    assert any(e.startswith("receiver 'r', email 1, field 'from': is required") for e in errors)


def test_a_single_receiver_needs_no_route() -> None:
    rs = parse_rules(
        {"rules": [], "receivers": [{"name": "only", "webhooks": [{"url": "http://h/"}]}]}, "t"
    )
    assert rs.route is not None and rs.route.receiver == "only"


def test_not_a_rules_document() -> None:
    assert errors_of({"alerts": []}) == ["t: expected a mapping with a list 'rules'"]


def test_disabled_rules_are_skipped() -> None:
    rs = parse_rules({"rules": [{"name": "X", "kind": "bogus", "enabled": False}]}, "t")
    assert rs.rules == ()


def test_fnv1a_matches_the_published_test_vectors() -> None:
    # From the FNV reference test suite (64-bit FNV-1a).
    offset = 0xCBF29CE484222325
    assert _fnv1a(offset, b"") == 0xCBF29CE484222325
    assert _fnv1a(offset, b"a") == 0xAF63DC4C8601EC8C
    assert _fnv1a(offset, b"foobar") == 0x85944171F73967E8
    assert fingerprint({}) == "cbf29ce484222325"


@given(
    st.dictionaries(st.from_regex(r"[a-z_]{1,5}", fullmatch=True), st.text(max_size=5), max_size=4)
)
def test_fingerprints_ignore_order(labels: dict[str, str]) -> None:
    assert fingerprint(dict(reversed(list(labels.items())))) == fingerprint(labels)


def test_matchers() -> None:
    assert parse_matcher('severity="critical"') == Matcher("severity", "=", "critical")
    m = parse_matcher("service=~fraud.*")
    assert m.matches({"service": "fraud-v2"}) and not m.matches({"service": "antifraud"})
    assert parse_matcher("team!~ml|ds").matches({"team": "ops"})
    assert parse_matcher('team=""').matches({})
    with pytest.raises(ValueError, match="not a matcher"):
        parse_matcher("service")
    with pytest.raises(ValueError, match="bad regular expression"):
        parse_matcher("service=~(")
    assert Matcher.from_dict(parse_matcher("a!~b").to_dict()) == parse_matcher("a!~b")


@given(value=st.text(max_size=6), actual=st.text(max_size=6))
def test_negated_matchers_are_complements(value: str, actual: str) -> None:
    labels = {"x": actual}
    assert Matcher("x", "=", value).matches(labels) != Matcher("x", "!=", value).matches(labels)
    pattern = value.replace("\\", "").replace("(", "").replace("[", "")
    try:
        eq = Matcher("x", "=~", pattern)
    except ValueError:
        return
    assert eq.matches(labels) != Matcher("x", "!~", pattern).matches(labels)


def test_templates_are_safe_and_never_fail() -> None:
    assert render("{a} {value:.1%} {b}", {"a": "x", "value": 0.25}) == "x 25.0% <no value>"
    assert render("{value:.2f}", {"value": "n/a"}) == "n/a"
    assert render("{{literal}} {a!r}", {"a": "x"}) == "{literal} x"
    for bad in ("{a.b}", "{a[0]}", "{0}", "{", "{a:{b}}"):
        with pytest.raises(ValueError):
            check_template(bad)
