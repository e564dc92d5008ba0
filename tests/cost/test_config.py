"""The rate card file: defaults, effective dates, overrides, and errors naming file and field."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mlvitals.cost.config import DEFAULT_CONFIG, load_config, parse_config
from mlvitals.cost.defaults import DEFAULT_RATES
from mlvitals.errors import ConfigError
from tests.cost.conftest import GIB, T


def test_defaults_are_opencosts_public_prices() -> None:
    rates = DEFAULT_CONFIG.card.at(T)
    assert DEFAULT_CONFIG.card.currency == "USD"
    assert (rates.cpu_core_hour, rates.ram_gib_hour) == (0.031611, 0.004237)
    assert rates.gpu_hour["default"] == 0.95
    assert (rates.object_storage_gib_month, rates.block_storage_gib_month) == (0.023, 0.08)
    # The GPU-only part of g5.xlarge (1.006/h with 4 vCPU and 16 GiB), by hand:
    assert rates.gpu_hour["A10G"] == pytest.approx(1.006 - 4 * 0.031611 - 16 * 0.004237, abs=1e-4)


@pytest.mark.parametrize(
    ("device", "key"),
    [
        ("NVIDIA A100-SXM4-40GB", "A100"),
        ("NVIDIA A10G", "A10G"),
        ("Tesla T4", "T4"),
        ("NVIDIA H100 80GB HBM3", "H100"),
        ("NVIDIA GeForce RTX 4090", "default"),
        ("", "default"),
    ],
)
def test_gpu_models_match_as_whole_tokens(device: str, key: str) -> None:
    matched, price = DEFAULT_RATES.gpu(device)
    assert matched == key
    assert price == DEFAULT_RATES.gpu_hour[key]


def test_later_entries_change_only_what_they_name_from_their_date(tmp_path: Path) -> None:
    path = tmp_path / "cost.yaml"
    path.write_text(
        """
currency: EUR
rates:
  - cpu_core_hour: 0.04
    gpu_hour: {L4: 0.6}
  - effective_from: 2026-11-02T12:00:00Z
    cpu_core_hour: 0.05
    gpu_hour: {A100: 2.0}
"""
    )
    card = load_config(path).card
    before, after = card.at(T), card.at(T + 12 * 3600)
    assert card.currency == "EUR"
    assert (before.cpu_core_hour, after.cpu_core_hour) == (0.04, 0.05)
    assert before.ram_gib_hour == after.ram_gib_hour == 0.004237
    assert before.gpu_hour["L4"] == after.gpu_hour["L4"] == 0.6
    assert (before.gpu_hour["A100"], after.gpu_hour["A100"]) == (1.7555, 2.0)
    assert card.change_points(T, T + 86400) == [T + 12 * 3600]
    assert card.at(-math.inf).cpu_core_hour == 0.04


def test_allocations_most_specific_rule_wins() -> None:
    cfg = parse_config(
        {
            "allocations": [
                {"service": "iris", "cpu_cores": 4, "memory_gib": 8},
                {"service": "iris", "instance": "pod-9", "cpu_cores": 16},
                {"pipeline": "train", "gpus": {"A100": 2}, "cpu_cores": 8},
            ]
        },
        "cost.yaml",
    )
    assert cfg.service_allocation("iris", "1", "pod-1").cpu_cores == 4
    assert cfg.service_allocation("iris", "1", "pod-1").memory_bytes == 8 * GIB
    assert cfg.service_allocation("iris", "1", "pod-9").cpu_cores == 16
    assert cfg.service_allocation("other", "1", "pod-1").cpu_cores is None
    assert cfg.pipeline_request("train").gpus == ("A100", "A100")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"currency": "dollars"}, "cost.yaml: currency: must be a three-letter"),
        ({"rates": [{"cpu_core_hour": "cheap"}]}, "cost.yaml: rates[0].cpu_core_hour: must be"),
        ({"rates": [{"ram_gib_hour": -1}]}, "cost.yaml: rates[0].ram_gib_hour: must be zero"),
        ({"rates": [{"cpu_core_hours": 1}]}, "cost.yaml: rates[0].cpu_core_hours: unknown field"),
        (
            {"rates": [{"cpu_core_hour": 1}, {"cpu_core_hour": 2}]},
            "rates[1].effective_from: is required",
        ),
        (
            {"rates": [{"effective_from": "2026-11-02T10:30:00", "cpu_core_hour": 1}]},
            "rates[0].effective_from: must fall on a whole hour",
        ),
        (
            {"rates": [{"effective_from": "soon"}]},
            "rates[0].effective_from: must be a date",
        ),
        (
            {
                "rates": [
                    {"effective_from": "2026-12-01"},
                    {"effective_from": "2026-11-01"},
                ]
            },
            "rates[1].effective_from: must be later",
        ),
        ({"allocations": [{"cpu_cores": 2}]}, "allocations[0]: needs exactly one of"),
        ({"allocations": [{"pipeline": "p", "gpus": {"A100": 1.5}}]}, "allocations[0].gpus.A100"),
        ({"storage": [{"dataset": "*", "class": "tape"}]}, "storage[0].class: must be one of"),
        ({"uptime_max_gap_seconds": 0}, "uptime_max_gap_seconds: must be positive"),
        ([1, 2], "cost.yaml: must be a mapping"),
    ],
)
def test_errors_name_the_file_and_the_field(data: object, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data, "cost.yaml")
    assert message in str(err.value)


def test_unreadable_or_broken_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read rate card .*missing\.yaml"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rates: [\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML"):
        load_config(bad)
    assert load_config("") is DEFAULT_CONFIG
