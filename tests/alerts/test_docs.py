"""docs/alerts.md stays true: its YAML examples load and its Python example prints what it says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import yaml

from mlvitals.alerts.config import parse_rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "alerts.md"


def test_the_yaml_examples_form_a_valid_rules_file() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    rules, notifications = (yaml.safe_load(b) for b in blocks)
    ruleset = parse_rules(rules | notifications, "docs/alerts.md")
    assert [r.name for r in ruleset.rules] == ["HighErrorRate"]
    assert sorted(ruleset.receivers) == ["ml-oncall", "pager"]


def test_the_python_example_prints_what_the_doc_shows() -> None:
    (block,) = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    expected = [line[2:] for line in block.splitlines() if line.startswith("# ")]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, str(DOC), "exec"), {})
    assert out.getvalue().splitlines() == expected
