"""The result of a check: validation failures, drift, both profiles; JSON and HTML forms.

>>> import pyarrow as pa
>>> from mlvitals.quality import check
>>> r = check(pa.table({"x": [1.0, 2.0, 3.0]}), reference=pa.table({"x": [1.0, 2.0, 3.0]}))
>>> r.passed, r.failures
(True, ())
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlvitals.numbers import format_number as _n
from mlvitals.quality.drift.result import DriftReport
from mlvitals.quality.failures import Failure
from mlvitals.quality.profiles import Profile
from mlvitals.quality.schema import Schema

FORMAT = "mlvitals.check"
VERSION = 1
SUMMARY_COLUMNS = 8
"""Drifted columns named on the summary's first line (the rest are counted)."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """``passed`` is true when no check failed and no drift failed the check (by default:
    the dataset did not drift; see :attr:`DriftPolicy.fail_on`)."""

    passed: bool
    failures: tuple[Failure, ...]
    drift: DriftReport
    profile: Profile
    reference: Profile
    schema: Schema
    data_name: str = "data"
    reference_name: str = "reference"
    notes: tuple[str, ...] = ()
    warnings: tuple[Failure, ...] = ()
    """Offending values within a tolerance (say, a few values past the reference's range):
    shown with their samples, they do not fail the check."""

    @property
    def rows(self) -> int:
        return self.profile.rows

    def to_dict(self) -> dict[str, Any]:
        from mlvitals.quality.profile_json import to_dict

        return {
            "format": FORMAT,
            "version": VERSION,
            "passed": self.passed,
            "data": self.data_name,
            "reference": self.reference_name,
            "rows": self.profile.rows,
            "reference_rows": self.reference.rows,
            "failures": [f.to_dict() for f in self.failures],
            "warnings": [w.to_dict() for w in self.warnings],
            "drift": self.drift.to_dict(),
            "notes": list(self.notes),
            "profile": to_dict(self.profile),
            "reference_profile": to_dict(self.reference),
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """Versioned JSON with failures, drift and both profiles (sketches as base64)."""
        return json.dumps(self.to_dict(), indent=indent, default=str)

    def to_html(self) -> str:
        """A self-contained HTML report (inline SVG and CSS, no external assets)."""
        from mlvitals.quality.report.html import render

        return render(self)

    def save_html(self, path: str | Path) -> None:
        Path(path).write_text(self.to_html(), encoding="utf-8")

    def _repr_html_(self) -> str:
        from mlvitals.quality.report.html import render

        return render(self, standalone=False)

    def summary(self) -> str:
        """One line per failure, warning and drifted column, for terminals and logs."""
        head = "PASSED" if self.passed else "FAILED"
        drifted = [c.column for c in self.drift.drifted]
        names = ""
        if drifted:
            shown = ", ".join(drifted[:SUMMARY_COLUMNS])
            more = len(drifted) - SUMMARY_COLUMNS
            names = f": {shown}" + (f" and {more} more" if more > 0 else "")
        lines = [
            f"{head}: {_n(self.profile.rows)} rows vs {_n(self.reference.rows)} reference rows, "
            f"{len(self.failures)} failed checks, {len(drifted)} of "
            f"{len(self.drift.tested)} columns drifted{names} "
            f"({100 * self.drift.drifted_share:.0f}%, dataset drift at "
            f"{100 * self.drift.dataset_share:.0f}%)"
        ]
        for f in self.failures:
            where = f"{f.column}: " if f.column else ""
            lines.append(f"  check {f.check}: {where}{f.message}")
        for w in self.warnings:
            where = f"{w.column}: " if w.column else ""
            shown = ", ".join(f"row {s.row}: {s.value!r}" for s in w.samples)
            lines.append(
                f"  warning {w.check}: {where}{w.message}" + (f" ({shown})" if shown else "")
            )
        for c in self.drift.drifted:
            p = f", p={_n(c.p_adjusted, digits=2)}" if c.p_adjusted is not None else ""
            e = f", {c.effect}={_n(c.effect_size, digits=3)}" if c.effect_size is not None else ""
            lines.append(f"  drift {c.column}: {c.method}{e}{p}")
        if self.schema.identifiers:
            names = ", ".join(self.schema.identifiers)
            lines.append(f"  identifiers: {names} (not tested for range or drift)")
        if self.schema.ignore:
            lines.append(f"  ignored: {', '.join(self.schema.ignore)}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)
