"""The command line, run as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from mlvitals.server.areas import MIGRATIONS
from mlvitals.server.database import open_database
from tests.conftest import free_port


def mlvitals(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlvitals.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_lists_the_commands() -> None:
    out = mlvitals("--help")
    assert out.returncode == 0
    for command in ("serve", "demo", "db"):
        assert command in out.stdout


def test_db_upgrade_applies_then_reports_up_to_date(tmp_path: Path, pg_url: str) -> None:
    for db in (str(tmp_path / "m.db"), pg_url):
        first = mlvitals("db", "upgrade", "--db", db)
        assert first.returncode == 0, first.stderr
        assert first.stdout.startswith("applied migrations 1")
        second = mlvitals("db", "upgrade", "--db", db)
        assert "up to date" in second.stdout
        store = open_database(db, migrate=False)
        try:
            assert store.migrate(MIGRATIONS) == []
        finally:
            store.close()


def test_errors_are_one_line_and_exit_non_zero(tmp_path: Path) -> None:
    cases = [
        (["serve", "--port", "70000"], 2, "--port: must be 0-65535"),
        (["db", "upgrade", "--db", "mysql://x/y"], 2, "unsupported database URL scheme"),
        (["db", "upgrade", "--db", str(tmp_path / "no" / "dir" / "x.db")], 3, "does not exist"),
        (["db", "upgrade", "--db", "postgresql://nobody@127.0.0.1:1/x"], 3, "cannot connect"),
    ]
    for args, code, message in cases:
        out = mlvitals(*args)
        assert out.returncode == code, (args, out.stderr)
        assert out.stderr.count("\n") == 1 and message in out.stderr, (args, out.stderr)
        assert "Traceback" not in out.stderr


def test_port_in_use_is_reported(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = mlvitals("serve", "--db", str(tmp_path / "x.db"), "--port", str(port))
    assert out.returncode == 2 and "is in use" in out.stderr


def test_demo_serves_the_dashboard_and_stops_by_itself(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlvitals.cli", "demo", "--duration", "8", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert f"http://127.0.0.1:{port}/" in first
    deadline = 60.0
    import time

    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline:
        try:
            page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    assert page.status_code == 200 and "mlvitals" in page.text
    assert proc.wait(60) == 0
