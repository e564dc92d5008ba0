"""The examples of docs/pipelines.md run, and its YAML is a valid configuration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlvitals.pipelines import load_configs

DOC = Path(__file__).resolve().parents[2] / "docs" / "pipelines.md"
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", DOC.read_text(), re.S)


@pytest.mark.parametrize(
    "code",
    [code for lang, code in BLOCKS if lang == "python" and "http://" not in code],
)
def test_python_examples_run(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLVITALS_RUN_ID", raising=False)
    exec(compile(code, str(DOC), "exec"), {})


def test_yaml_example_is_valid(tmp_path: Path) -> None:
    (yaml_block,) = [code for lang, code in BLOCKS if lang == "yaml"]
    f = tmp_path / "pipelines.yaml"
    f.write_text(yaml_block)
    (config,) = load_configs(f)
    assert (config.name, config.grace_seconds, config.max_duration_seconds) == (
        "nightly-etl",
        900,
        7200,
    )
