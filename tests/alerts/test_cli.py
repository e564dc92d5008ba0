"""``mlvitals rules`` and ``mlvitals alerts``, on a database and against a real server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import yaml
from click.testing import CliRunner

from mlvitals.alerts.config import RuleSet
from mlvitals.cli.main import main
from mlvitals.server.alerts.evaluator import Evaluator
from mlvitals.server.alerts.rules_source import rules_source
from mlvitals.server.database import open_database
from tests.alerts.helpers import traffic
from tests.conftest import ServerProcess


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_rules_check_exits_0_for_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    code, out, _ = run("rules", "default")
    assert code == 0
    path.write_text(out)
    rules = out.count("\n  - name: ")  # the pack's rules, counted in its text
    code, out, _ = run("rules", "check", str(path))
    assert code == 0 and out.strip() == f"{path}: ok, {rules} rule(s), 0 receiver(s)"


def test_rules_check_exits_1_naming_rule_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    doc = {
        "rules": [
            {"name": "Slow", "kind": "serving", "metric": "latency_p99", "threshold": "1s"},
            {"name": "Down", "kind": "absence", "duration": "2m", "severity": "page"},
        ]
    }
    path.write_text(yaml.safe_dump(doc))
    code, _, err = run("rules", "check", str(path))
    assert code == 1
    assert "rule 'Slow', field 'threshold': expected a number, got '1s'" in err
    assert "rule 'Down', field 'severity': expected one of critical, warning, info" in err
    assert err.strip().endswith("2 error(s)")
    (tmp_path / "broken.yaml").write_text("rules: [\n")
    code, _, err = run("rules", "check", str(tmp_path / "broken.yaml"))
    assert code == 1 and "not valid YAML" in err
    code, _, err = run("rules", "check", str(tmp_path / "missing.yaml"))
    assert code == 1 and "cannot read rules file" in err


def firing_db(tmp_path: Path) -> str:
    db = str(tmp_path / "m.db")
    store = open_database(db)
    now = time.time()
    traffic(store, "fraud", now - 60, now, errors=10)
    Evaluator(store, rules_source("")).run_once(now)
    store.close()
    return db


def test_alerts_silence_and_ack_on_a_database(tmp_path: Path) -> None:
    db = firing_db(tmp_path)
    code, out, _ = run("alerts", "--db", db, "--json")
    assert code == 0
    (alert,) = [a for a in json.loads(out) if a["rule"] == "HighErrorRate"]
    # The default pack's HighErrorRate waits 2 minutes before firing.
    assert alert["state"] == "pending" and alert["labels"]["service"] == "fraud"
    code, out, _ = run("alerts", "--db", db)
    assert code == 0 and "HighErrorRate" in out and "fraud: 20.0% of calls failed" in out
    # Each alert names the page of what it is about.
    assert (
        "/services/fraud"
        in out.splitlines()[
            out.splitlines().index(
                next(line for line in out.splitlines() if "fraud: 20.0% of calls failed" in line)
            )
            + 1
        ]
    )

    code, out, _ = run(
        "alerts",
        "silence",
        "--db",
        db,
        "-m",
        "service=fraud",
        "--duration",
        "2h",
        "--comment",
        "deploy",
        "--by",
        "ana",
        "--json",
    )
    assert code == 0, out
    silence = json.loads(out)
    assert silence["matchers"] == ['service="fraud"'] and silence["created_by"] == "ana"
    assert silence["ends_at"] - silence["starts_at"] == 7200
    code, out, _ = run("alerts", "--db", db)
    assert "pending*" in out and "* silenced" in out
    code, out, _ = run("alerts", "silences", "--db", db)
    assert silence["id"] in out and "deploy" in out
    code, out, _ = run("alerts", "ack", alert["id"], "--db", db, "--by", "bo")
    assert code == 0 and out.strip() == f"alert {alert['id']} acknowledged by bo"
    code, out, _ = run("alerts", "unsilence", silence["id"], "--db", db)
    assert code == 0
    code, out, _ = run("alerts", "silences", "--db", db)
    assert out.strip() == "no silences"
    code, out, _ = run("alerts", "history", "--db", db, "--json")
    assert [(h["from"], h["to"]) for h in json.loads(out) if h["rule"] == "HighErrorRate"] == [
        ("inactive", "pending")
    ]
    code, _, err = run("alerts", "silence", "--db", db, "-m", "service")
    assert code != 0 and "not a matcher" in err


def test_alerts_against_a_running_server(
    tmp_path: Path, server_factory: type[ServerProcess]
) -> None:
    db = firing_db(tmp_path)
    server = server_factory(db, "--tokens", "reader-token:read;admin-token:admin")
    code, out, _ = run("alerts", "--server", server.url, "--token", "reader-token", "--json")
    assert code == 0 and any(a["rule"] == "HighErrorRate" for a in json.loads(out))
    code, out, _ = run("alerts", "--server", server.url, "--token", "reader-token")
    assert code == 0 and f"{server.url}/services/fraud" in out.split()
    code, _, err = run(
        "alerts",
        "silence",
        "--server",
        server.url,
        "--token",
        "reader-token",
        "-m",
        "service=fraud",
    )
    assert code != 0 and "HTTP 403" in err
    code, out, _ = run(
        "alerts",
        "silence",
        "--server",
        server.url,
        "--token",
        "admin-token",
        "-m",
        "service=fraud",
        "--duration",
        "1h",
    )
    assert code == 0 and out.startswith("silence ")
    code, out, _ = run(
        "alerts", "silences", "--server", server.url, "--token", "reader-token", "--json"
    )
    (listed,) = json.loads(out)
    code, out, _ = run(
        "alerts", "unsilence", listed["id"], "--server", server.url, "--token", "admin-token"
    )
    assert code == 0
    code, _, err = run("alerts", "ack", "nope", "--server", server.url, "--token", "admin-token")
    assert code != 0 and "no current alert" in err


def test_empty_rule_set_on_an_empty_database(tmp_path: Path) -> None:
    db = str(tmp_path / "empty.db")
    open_database(db).close()
    Evaluator(open_database(db), RuleSet()).run_once(0.0)
    code, out, _ = run("alerts", "--db", db)
    assert code == 0 and out.strip() == "no alerts"
