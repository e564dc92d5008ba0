"""One duration grammar everywhere: one table of inputs through every entry point.

Expected seconds come from :class:`datetime.timedelta`, not from the parser. Each entry
point must accept exactly the valid inputs (bar zero where it needs a positive duration),
give the same seconds, and reject the rest with a message listing the accepted forms.
"""

from __future__ import annotations

import doctest
import json
import math
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from mlvitals.cli.main import main
from mlvitals.errors import ConfigError, MlvitalsError
from mlvitals.server import create_app
from mlvitals.server.database import open_database
from mlvitals.settings import Settings, load_settings
from mlvitals.sketches import QuantileSketch
from tests.records import batch

NOW = 2_000_000_000.0
HINT = "1h30m"  # every rejection lists the accepted forms, this one among them

VALID: list[tuple[str, timedelta]] = [
    ("500ms", timedelta(milliseconds=500)),
    ("30s", timedelta(seconds=30)),
    ("5m", timedelta(minutes=5)),
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("1d", timedelta(days=1)),
    ("1w", timedelta(weeks=1)),
    ("90", timedelta(seconds=90)),
    ("2.5", timedelta(seconds=2.5)),
    ("1.5h", timedelta(minutes=90)),
    ("1m30s", timedelta(seconds=90)),
    ("2h 15m", timedelta(hours=2, minutes=15)),
    (" 6h ", timedelta(hours=6)),
    ("1w2d3h4m5s500ms", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5.5)),
    ("5200w", timedelta(weeks=5200)),
    ("0s", timedelta(0)),
    ("0", timedelta(0)),
]
INVALID = [
    "",
    "   ",
    "-5m",
    "+5m",
    "1h1h",
    "1m30h",
    "30s1m",
    "500ms1s",
    "1h30",
    "1h-5m",
    "h",
    "5 minutes",
    "5M",
    "1H",
    "1y",
    "500us",
    "1.h",
    ".5h",
    "1e3",
    "1,5h",
    "inf",
    "nan",
    "5300w",  # over the 100-year ceiling
    "1" + "0" * 400 + "s",  # overflows a float
    "now",
]


class Rejected(Exception):
    """An entry point refused the input; the message is what a user would read."""


# (input, expected seconds or 0) -> seconds; only the series API looks at the expectation.
EntryPoint = Callable[[str, float], float]


def pure(text: str, _: float) -> float:
    from mlvitals.durations import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise Rejected(str(exc)) from None


@pytest.fixture
def series_api(tmp_path: Path) -> Iterator[EntryPoint]:
    """``GET /api/v1/services/{service}/series?start=now-<d>`` through the real app."""
    store = open_database(str(tmp_path / "api.db"))
    now = [NOW]
    client = TestClient(create_app(Settings(), store, clock=lambda: now[0]))
    window = {
        "kind": "serving_window",
        "service": "svc",
        "version": "1",
        "operation": "POST /predict",
        "instance": "pod-a",
        "start": NOW - 60,
        "length": 10.0,
        "calls": 1,
        "latency": QuantileSketch().to_dict(),
        "cpu": QuantileSketch().to_dict(),
    }
    r = client.post("/api/v1/ingest", json=batch([window]))
    assert r.json()["stored"] == 1, r.text

    def call(text: str, expected: float) -> float:
        # The API aligns the start down to the step. A step of the expected duration and a
        # clock on a multiple of it leave a right answer unmoved (and move a wrong one by a
        # whole step); whether the input is accepted does not depend on either.
        step = expected or 1.0
        now[0] = step * 1_000_000
        r = client.get(
            "/api/v1/services/svc/series", params={"start": f"now-{text}", "step": repr(step)}
        )
        if r.status_code == 400:
            raise Rejected(r.json()["error"])
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["end"] == now[0]
        return float(body["end"] - body["start"])

    yield call
    client.close()
    store.close()


def _rule_file(tmp_path: Path, field: str, text: str) -> float:
    from mlvitals.alerts.config import load_rules
    from mlvitals.alerts.rules import ServingSpec

    rule = {"name": "Slow", "kind": "serving", "metric": "latency_p99", "threshold": 1, field: text}
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"rules": [rule]}))
    try:
        (loaded,) = load_rules(str(path)).rules
    except ConfigError as exc:
        assert f"field '{field}'" in str(exc)
        raise Rejected(str(exc)) from None
    if field == "for":
        return loaded.for_
    assert isinstance(loaded.spec, ServingSpec)
    return loaded.spec.window


def _pipeline_file(tmp_path: Path, field: str, text: str) -> float:
    from mlvitals.pipelines.config import load_configs

    path = tmp_path / "pipelines.yaml"
    path.write_text(yaml.safe_dump({"pipelines": [{"name": "etl", field: text}]}))
    try:
        (config,) = load_configs(path)
    except ConfigError as exc:
        assert field in str(exc)
        raise Rejected(str(exc)) from None
    value = config.grace_seconds if field == "grace" else config.max_duration_seconds
    assert value is not None
    return value


def _setting(text: str, _: float) -> float:
    # What `--alert-interval` and MLVITALS_ALERT_INTERVAL go through.
    try:
        return load_settings({"alert_interval": text}, environ={}).alert_interval
    except ConfigError as exc:
        assert "--alert-interval" in str(exc)
        raise Rejected(str(exc)) from None


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    if result.exit_code != 0:
        assert result.exit_code == 2, result.output
        raise Rejected(result.stderr)
    return result.stdout


def _cli_silence(db: str, text: str) -> float:
    out = _cli("alerts", "silence", "-m", "service=fraud", "--duration", text, "--json", "--db", db)
    created = json.loads(out)
    return float(created["ends_at"] - created["starts_at"])


def _cli_cost(db: str, text: str) -> float:
    report = json.loads(_cli("cost", "--start", f"now-{text}", "--json", "--db", db))
    return float(report["end"] - report["start"])


@pytest.fixture
def entry_points(tmp_path: Path, series_api: EntryPoint) -> dict[str, tuple[EntryPoint, bool]]:
    """Every entry point, with whether it needs a positive duration."""
    db = str(tmp_path / "cli.db")
    open_database(db).close()
    return {
        "pure function": (pure, False),
        "series API start=now-<d>": (series_api, True),
        "rule file for:": (lambda t, _: _rule_file(tmp_path, "for", t), False),
        "rule file window:": (lambda t, _: _rule_file(tmp_path, "window", t), True),
        "pipeline grace:": (lambda t, _: _pipeline_file(tmp_path, "grace", t), False),
        "pipeline max_duration:": (lambda t, _: _pipeline_file(tmp_path, "max_duration", t), True),
        "setting --alert-interval": (_setting, True),
        "CLI alerts silence --duration": (lambda t, _: _cli_silence(db, t), True),
        "CLI cost --start now-<d>": (lambda t, _: _cli_cost(db, t), True),
    }


def test_every_entry_point_accepts_the_same_inputs_with_the_same_seconds(
    entry_points: dict[str, tuple[EntryPoint, bool]],
) -> None:
    wrong: list[str] = []
    for name, (parse, positive) in entry_points.items():
        for text, expected in VALID:
            seconds = expected.total_seconds()
            try:
                got = parse(text, seconds)
            except Rejected as exc:
                if not (positive and seconds == 0):
                    wrong.append(f"{name}: rejected {text!r}: {str(exc).strip()}")
                continue
            except Exception as exc:  # an entry point that crashes is as wrong as one that lies
                wrong.append(f"{name}: {text!r} raised {exc!r}")
                continue
            if positive and seconds == 0:
                wrong.append(f"{name}: accepted a zero duration {text!r}")
            elif not math.isclose(got, seconds, rel_tol=1e-12, abs_tol=1e-6):
                wrong.append(f"{name}: {text!r} gave {got} s, expected {seconds} s")
    assert not wrong, "\n".join(wrong)


def test_every_entry_point_rejects_the_same_inputs_naming_the_accepted_forms(
    entry_points: dict[str, tuple[EntryPoint, bool]],
) -> None:
    wrong: list[str] = []
    for name, (parse, _) in entry_points.items():
        for text in INVALID:
            try:
                got = parse(text, 0.0)
            except Rejected as exc:
                if HINT not in str(exc):
                    wrong.append(f"{name}: {text!r} rejected without the accepted forms: {exc}")
                continue
            except Exception as exc:
                wrong.append(f"{name}: {text!r} raised {exc!r}")
                continue
            wrong.append(f"{name}: accepted {text!r} as {got} s")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("value", [True, None, [], float("inf"), float("nan"), -1, 1e10])
def test_non_text_values_are_rejected(value: object) -> None:
    from mlvitals.durations import parse_duration

    with pytest.raises(ConfigError, match=HINT):
        parse_duration(value)


def test_numbers_are_seconds_and_positive_is_the_callers_choice() -> None:
    from mlvitals.durations import parse_duration

    assert parse_duration(90) == 90.0 and parse_duration(0.25) == 0.25
    assert parse_duration(0) == 0.0
    with pytest.raises(ConfigError, match="positive"):
        parse_duration("0s", positive=True)


def test_errors_are_config_errors_and_value_errors() -> None:
    from mlvitals.durations import parse_duration

    with pytest.raises(MlvitalsError) as info:
        parse_duration("1h1h")
    assert isinstance(info.value, ValueError) and info.value.exit_code == 2
    assert "'1h1h'" in str(info.value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.25, "250ms"),
        (1.5, "1s500ms"),
        (59, "59s"),
        (90, "1m30s"),
        (90.4, "1m30s"),  # sub-second parts are dropped from a minute on
        (5400, "1h30m"),
        (86400 * 9 + 61, "9d1m1s"),
    ],
)
def test_format_for_people(seconds: float, text: str) -> None:
    from mlvitals.durations import format_duration

    assert format_duration(seconds) == text


@given(st.integers(0, 10**9))
def test_whole_seconds_round_trip(seconds: int) -> None:
    from mlvitals.durations import format_duration, parse_duration

    assert parse_duration(format_duration(seconds)) == seconds


@given(st.integers(0, 59_999))
def test_milliseconds_under_a_minute_round_trip(ms: int) -> None:
    from mlvitals.durations import format_duration, parse_duration

    assert parse_duration(format_duration(ms / 1000)) == pytest.approx(ms / 1000, abs=1e-9)


def test_docstring_examples() -> None:
    import mlvitals.durations

    result = doctest.testmod(mlvitals.durations, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
