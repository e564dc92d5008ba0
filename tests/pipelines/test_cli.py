"""``mlvitals env`` and ``mlvitals runs`` against a SQLite database."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from click.testing import CliRunner

from mlvitals.cli.main import main
from mlvitals.pipelines import Environment, capture_environment, save_snapshot
from mlvitals.pipelines.wire import run_record
from mlvitals.server.database import open_database
from mlvitals.server.ingest import validate_envelope


def seed(db: Path) -> tuple[str, str, Environment, Environment]:
    good_env = capture_environment()
    name = sorted(good_env.packages)[-1]
    bad_env = Environment(
        good_env.python,
        good_env.implementation,
        good_env.platform,
        {k: v for k, v in good_env.packages.items() if k != name} | {"extra-pkg": "0.1"},
    )
    good, bad = str(uuid.uuid4()), str(uuid.uuid4())
    t = time.time() - 600
    records = [
        {"kind": "environment", **good_env.to_dict()},
        {"kind": "environment", **bad_env.to_dict()},
        run_record(good, "start", t, "train", run_kind="training", environment_hash=good_env.hash),
        run_record(good, "complete", t + 30, "train", model_version="1.0"),
        run_record(
            bad, "start", t + 100, "train", run_kind="training", environment_hash=bad_env.hash
        ),
        run_record(
            bad,
            "fail",
            t + 110,
            "train",
            error={"type": "ImportError", "message": "no module", "traceback": ""},
        ),
    ]
    store = open_database(str(db))
    try:
        validated = validate_envelope({"batch_id": str(uuid.uuid4()), "records": records}, t)
        assert validated.errors == []
        store.write_batch(validated.batch)
    finally:
        store.close()
    return good, bad, good_env, bad_env


def test_snapshot_and_diff_of_files(tmp_path: Path) -> None:
    cli = CliRunner()
    a = tmp_path / "a.json"
    result = cli.invoke(main, ["env", "snapshot", "-o", str(a)])
    assert result.exit_code == 0 and "distributions" in result.output
    env = capture_environment()
    changed = Environment(
        env.python, env.implementation, env.platform, {**env.packages, "zzz": "1"}
    )
    save_snapshot(changed, tmp_path / "b.json")
    diff = cli.invoke(main, ["env", "diff", str(a), str(tmp_path / "b.json")])
    assert diff.exit_code == 1 and diff.output.strip() == "+ zzz 1"
    as_json = cli.invoke(main, ["env", "diff", str(a), "current", "--json"])
    assert as_json.exit_code == 0 and json.loads(as_json.output)["added"] == {}
    printed = cli.invoke(main, ["env", "snapshot"])
    assert json.loads(printed.output)["hash"] == env.hash


def test_diff_against_last_good_and_run_ids(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    good, bad, good_env, bad_env = seed(db)
    cli = CliRunner()
    result = cli.invoke(
        main, ["env", "diff", "last-good", bad, "--pipeline", "train", "--db", str(db), "--json"]
    )
    assert result.exit_code == 1, result.output
    d = json.loads(result.output)
    gone = next(iter(set(good_env.packages) - set(bad_env.packages)))
    assert d["added"] == {"extra-pkg": "0.1"} and list(d["removed"]) == [gone]
    assert (d["before_hash"], d["after_hash"]) == (good_env.hash, bad_env.hash)
    same = cli.invoke(
        main, ["env", "diff", good, "last-good", "--pipeline", "train", "--db", str(db)]
    )
    assert same.exit_code == 0 and "no differences" in same.output
    need = cli.invoke(main, ["env", "diff", "last-good", bad, "--db", str(db)])
    assert need.exit_code == 2 and "--pipeline" in need.output


def test_runs_table_json_and_show(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    good, bad, _, _ = seed(db)
    cli = CliRunner()
    table = cli.invoke(main, ["runs", "--db", str(db)])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].startswith("started (UTC)")
    assert bad in lines[1] and "failed" in lines[1] and good in lines[2] and "30.0s" in lines[2]
    failed = cli.invoke(main, ["runs", "--db", str(db), "--state", "failed", "--json"])
    assert [r["run_id"] for r in json.loads(failed.output)] == [bad]
    shown = cli.invoke(main, ["runs", "show", bad, "--db", str(db)])
    assert "error ImportError: no module" in shown.output
    assert f"since the last good run {good}" in shown.output and "+ extra-pkg 0.1" in shown.output
    missing = cli.invoke(main, ["runs", "show", "nope", "--db", str(db)])
    assert missing.exit_code == 1 and "no run with id" in missing.output
    nodb = cli.invoke(main, ["runs", "--db", str(tmp_path / "absent.db")])
    assert nodb.exit_code == 2 and "no database" in nodb.output
    assert not (tmp_path / "absent.db").exists()


def test_declare_from_yaml(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    seed(db)
    f = tmp_path / "pipelines.yaml"
    f.write_text("pipelines:\n  - name: train\n    schedule: '0 3 * * *'\n    max_duration: 1h\n")
    result = CliRunner().invoke(main, ["runs", "declare", str(f), "--db", str(db)])
    assert result.exit_code == 0 and "declared 1 pipeline(s): train" in result.output
    store = open_database(str(db))
    try:
        rows = store.fetch("SELECT schedule, max_duration_seconds FROM pipeline_configs")
    finally:
        store.close()
    assert rows == [{"schedule": "0 3 * * *", "max_duration_seconds": 3600.0}]
