"""Environment capture against importlib.metadata, and diffs of real snapshots."""

from __future__ import annotations

import importlib.metadata
import json
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.utils import canonicalize_name
from packaging.version import Version

from mlvitals.errors import InputError
from mlvitals.pipelines import (
    Environment,
    capture_environment,
    diff_environments,
    load_snapshot,
    save_snapshot,
)
from mlvitals.pipelines.envdiff import EnvDiff
from mlvitals.pipelines.environment import installed_distributions


def reference_packages() -> dict[str, str]:
    """What importlib.metadata reports, first distribution of a name on sys.path wins."""
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        found.setdefault(canonicalize_name(dist.metadata["Name"]), dist.version)
    return found


def test_capture_matches_importlib_metadata() -> None:
    env = capture_environment()
    assert dict(env.packages) == reference_packages()
    assert env.python == ".".join(map(str, sys.version_info[:3]))
    assert env.implementation == sys.implementation.name


def test_folders_without_a_version_in_their_name_read_the_metadata_header(tmp_path: Path) -> None:
    egg = tmp_path / "Some_Pkg.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: Some_Pkg\nVersion: 0.3.1\n\nbody\n")
    dist = tmp_path / "other_pkg-2.0.dist-info"
    dist.mkdir()
    (tmp_path / "not-a-dist").mkdir()
    first = tmp_path / "first"
    (first / "other_pkg-1.0.dist-info").mkdir(parents=True)
    found = installed_distributions([str(first), str(tmp_path), str(tmp_path / "missing.zip")])
    assert found == {"some-pkg": "0.3.1", "other-pkg": "1.0"}


def test_hash_depends_on_content_only() -> None:
    a = Environment("3.11.7", "cpython", "Linux-6-x86_64", {"numpy": "1.26.4"}, captured_at=1.0)
    b = Environment("3.11.7", "cpython", "Linux-6-x86_64", {"numpy": "1.26.4"}, captured_at=2.0)
    c = Environment("3.11.7", "cpython", "Linux-6-x86_64", {"numpy": "2.0.0"})
    assert a.hash == b.hash != c.hash
    assert capture_environment().hash == capture_environment().hash


def test_snapshot_file_round_trip(tmp_path: Path) -> None:
    env = capture_environment(captured_at=123.0)
    save_snapshot(env, tmp_path / "env.json")
    loaded = load_snapshot(tmp_path / "env.json")
    assert loaded == env and loaded.hash == env.hash and loaded.captured_at == 123.0
    assert json.loads((tmp_path / "env.json").read_text())["hash"] == env.hash


def test_bad_snapshot_files_are_input_errors(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{not json")
    (tmp_path / "b.json").write_text('{"python": "3.11"}')
    for name, needle in (("a.json", "not JSON"), ("b.json", "packages"), ("c.json", "cannot read")):
        with pytest.raises(InputError, match=needle):
            load_snapshot(tmp_path / name)


def bump(version: str) -> str:
    v = Version(version)
    return f"{v.major}.{v.minor}.{v.micro + 1}"


def test_diff_of_real_snapshots_with_changed_versions() -> None:
    before = capture_environment()
    names = sorted(before.packages)
    up, down, gone = names[0], names[1], names[2]
    packages = dict(before.packages)
    packages[up] = bump(packages[up])
    old_down = Version(packages[down])
    packages[down] = "0.0.1" if old_down > Version("0.0.1") else "0.0.0"
    del packages[gone]
    packages["brand-new-pkg"] = "1.0"
    after = Environment(before.python, before.implementation, before.platform, packages)

    d = diff_environments(before, after)
    assert d.upgraded == {up: (before.packages[up], packages[up])}
    assert d.downgraded == {down: (before.packages[down], packages[down])}
    assert d.removed == {gone: before.packages[gone]}
    assert d.added == {"brand-new-pkg": "1.0"}
    assert d.changed == {} and d.python is None and not d.empty
    assert (d.before_hash, d.after_hash) == (before.hash, after.hash)
    assert EnvDiff.from_dict(json.loads(json.dumps(d.to_dict()))) == d
    assert diff_environments(before, before).empty


def test_diff_orders_by_pep440_not_by_text() -> None:
    a = Environment("3.11.7", "cpython", "L", {"x": "1.9", "y": "2.0rc1", "z": "1.0", "w": "abc"})
    b = Environment("3.12.1", "cpython", "L", {"x": "1.10", "y": "2.0", "z": "1.0.0", "w": "abd"})
    d = diff_environments(a, b)
    assert d.upgraded == {"x": ("1.9", "1.10"), "y": ("2.0rc1", "2.0")}
    assert d.changed == {"w": ("abc", "abd")}
    assert "z" not in d.upgraded and "z" not in d.downgraded  # equal under PEP 440
    assert d.python == ("3.11.7", "3.12.1")
    assert "↑ x 1.9 -> 1.10" in d.lines() and "~ python 3.11.7 -> 3.12.1" in d.lines()


versions = st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 20)).map(
    lambda t: ".".join(map(str, t))
)
package_sets = st.dictionaries(st.sampled_from("abcdefgh"), versions, max_size=8)


@given(package_sets, package_sets)
def test_diff_laws(old: dict[str, str], new: dict[str, str]) -> None:
    a = Environment("3.11.7", "cpython", "L", old)
    b = Environment("3.11.7", "cpython", "L", new)
    forward, backward = diff_environments(a, b), diff_environments(b, a)
    assert forward.added == backward.removed and forward.removed == backward.added
    assert forward.upgraded == {k: (y, x) for k, (x, y) in backward.downgraded.items()}
    # Applying the diff to the old packages gives the new ones (up to PEP 440 equality).
    applied = {k: v for k, v in old.items() if k not in forward.removed} | forward.added
    applied |= {k: v for k, (_, v) in {**forward.upgraded, **forward.downgraded}.items()}
    assert {k: Version(v) for k, v in applied.items()} == {k: Version(v) for k, v in new.items()}
    same = old.keys() == new.keys() and all(Version(old[k]) == Version(new[k]) for k in old)
    assert forward.empty == same
