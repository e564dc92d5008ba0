"""No password of a database URL reaches a log line, an error or the startup line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mlvitals.errors import StoreError
from mlvitals.store.urls import redact, scrub
from tests.conftest import ServerProcess, free_port

SECRET = "hunter2-Xy9"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:pw-123@db:5432/m", "postgresql://app:***@db:5432/m"),
        ("postgresql://app:p@ss:w@db/m", "postgresql://app:***@db/m"),
        ("postgres://:pw-123@db/m", "postgres://:***@db/m"),
        ("postgresql://app@db/m", "postgresql://app@db/m"),
        (
            "postgresql://db/m?user=a&PASSWORD=pw-123&x=1",
            "postgresql://db/m?user=a&PASSWORD=***&x=1",
        ),
        ("host=db password=pw-123 dbname=m", "host=db password=*** dbname=m"),
        ("host=db password = 'pw 123' dbname=m", "host=db password = *** dbname=m"),
        ("mlvitals.db", "mlvitals.db"),
        (":memory:", ":memory:"),
    ],
)
def test_redact_hides_every_form_of_password(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_scrub_hides_a_password_quoted_inside_an_error() -> None:
    url = f"postgresql://app:{SECRET}@db/m"
    message = f'connection to {url} failed: role "app" with password "{SECRET}" rejected'
    assert SECRET not in scrub(message, url)


def test_a_failed_connection_error_names_the_url_without_its_password() -> None:
    from mlvitals.store.postgres import PostgresStore

    url = f"postgresql://postgres:{SECRET}@127.0.0.1:{free_port()}/test"
    with pytest.raises(StoreError) as caught:
        PostgresStore(url)
    assert SECRET not in str(caught.value)
    assert "postgres:***@127.0.0.1" in str(caught.value)


def test_the_startup_line_and_logs_hide_the_password(pg_url: str) -> None:
    # The test database trusts local connections, so any password is let in.
    url = pg_url.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")
    assert SECRET in url
    server = ServerProcess(url)
    try:
        assert server.proc.stdout is not None
    finally:
        server.stop()
    output = server.proc.stdout.read() if server.proc.stdout else ""
    assert "mlvitals serving" in output
    assert "postgres:***@127.0.0.1" in output
    assert SECRET not in output


def test_a_cli_error_about_the_database_hides_the_password() -> None:
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:{free_port()}/test"
    done = subprocess.run(
        [sys.executable, "-m", "mlvitals.cli", "db", "upgrade", "--db", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "***@127.0.0.1" in done.stdout + done.stderr
    assert SECRET not in done.stdout + done.stderr
