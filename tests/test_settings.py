"""The settings table drives flags, environment variables and the docs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mlvitals.errors import ConfigError
from mlvitals.settings import SETTINGS, Settings, load_settings, markdown_table

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_a_field_with_the_same_default() -> None:
    fields = {f.name: f for f in dataclasses.fields(Settings) if f.name != "extra"}
    assert set(fields) == {s.name for s in SETTINGS}
    defaults = Settings()
    for s in SETTINGS:
        assert getattr(defaults, s.name) == s.default, s.name


def test_flag_beats_env_beats_default() -> None:
    env = {"MLVITALS_PORT": "9001", "MLVITALS_DB": "postgresql://x/y"}
    s = load_settings({"port": "9002"}, environ=env)
    assert (s.port, s.db, s.host) == (9002, "postgresql://x/y", "127.0.0.1")
    assert load_settings({}, environ={"MLVITALS_INSECURE": "yes"}).insecure is True


def test_bad_values_name_their_source() -> None:
    with pytest.raises(ConfigError, match="MLVITALS_PORT"):
        load_settings({}, environ={"MLVITALS_PORT": "http"})
    with pytest.raises(ConfigError, match="--max-body-bytes"):
        load_settings({"max_body_bytes": "-5"}, environ={})
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings({"colour": "blue"}, environ={})


def test_configuration_doc_is_generated_from_the_table() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    assert doc == markdown_table(), (
        "regenerate: python -m mlvitals.settings > docs/configuration.md"
    )
