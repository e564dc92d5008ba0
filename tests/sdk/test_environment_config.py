"""A container points its monitor at a server through MLVITALS_* variables, no code change;
explicit arguments win over the variables."""

from __future__ import annotations

import pytest

from mlvitals import Monitor
from mlvitals.errors import ConfigError
from tests.sdk.conftest import Receiver


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> Receiver:
    monkeypatch.setenv("MLVITALS_SERVER", receiver.url)
    monkeypatch.setenv("MLVITALS_TOKEN", "secret-from-env")
    monkeypatch.setenv("MLVITALS_SERVICE", "fraud-from-env")
    monkeypatch.setenv("MLVITALS_VERSION", "7.1")
    return receiver


def test_monitor_with_no_arguments_ships_where_the_environment_says(
    environment: Receiver,
) -> None:
    monitor = Monitor(background=False, nvml=False)
    with monitor.track("predict"):
        pass
    assert monitor.flush(10)
    monitor.close()
    windows = [r for r in environment.records if r["kind"] == "serving_window"]
    assert [(w["service"], w["version"], w["calls"]) for w in windows] == [
        ("fraud-from-env", "7.1", 1)
    ]
    auth = {r["headers"].get("Authorization") for r in environment.requests}
    assert auth == {"Bearer secret-from-env"}


def test_explicit_arguments_win_over_the_environment(
    environment: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Receiver().start()
    try:
        monitor = Monitor(
            "given", "2.0", server=other.url, token="given-token", background=False, nvml=False
        )
        assert (monitor.service, monitor.version) == ("given", "2.0")
        with monitor.track("op"):
            pass
        assert monitor.flush(10)
        monitor.close()
        assert environment.requests == []
        assert {r["headers"].get("Authorization") for r in other.requests} == {"Bearer given-token"}
    finally:
        other.stop()


def test_no_service_anywhere_says_how_to_give_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLVITALS_SERVICE", raising=False)
    with pytest.raises(ConfigError, match="MLVITALS_SERVICE"):
        Monitor(background=False, nvml=False)


def test_a_bad_server_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLVITALS_SERVER", "127.0.0.1:8765")
    with pytest.raises(ConfigError, match=r"MLVITALS_SERVER: .*http:// or https://"):
        Monitor("svc", background=False, nvml=False)
