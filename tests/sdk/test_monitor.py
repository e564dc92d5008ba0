"""Monitor construction: arguments are checked with messages that say what to do."""

from __future__ import annotations

import pytest

from mlvitals import Monitor
from mlvitals.errors import ConfigError


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"service": ""}, "service must be 1-200 characters"),
        ({"service": "x" * 201}, "service must be 1-200 characters"),
        ({"version": "v" * 201}, "version must be at most 200"),
        ({"window": 0}, "window must be between 0 and 86400"),
        ({"window": 90_000}, "window must be between 0 and 86400"),
        ({"max_series": 0}, "max_series must be at least 1"),
        ({"tick": 0}, "tick must be a positive number"),
        ({"server": "127.0.0.1:8765"}, "server must be an http:// or https:// URL"),
    ],
)
def test_bad_arguments_raise_config_error(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"service": "svc", "background": False, "nvml": False, **kwargs}
    with pytest.raises(ConfigError, match=message):
        Monitor(**args)  # type: ignore[arg-type]


def test_identity_and_context_manager() -> None:
    with Monitor("svc", version="3", instance="pod-7", background=False, nvml=False) as m:
        assert m.instance == "pod-7"
        assert repr(m) == "Monitor('svc', version='3', instance='pod-7')"
        assert m.flush() is True  # no server: nothing to wait for
    assert m.close() is True  # closing twice is harmless


def test_track_rejects_what_it_cannot_time() -> None:
    m = Monitor("svc", background=False, nvml=False)
    with pytest.raises(TypeError, match="function or an operation name"):
        m.track(42)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="must not be empty"):
        m.track("")
    m.close()
