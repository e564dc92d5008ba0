"""A check result as one self-contained HTML page (inline CSS and SVG, no scripts or links).

The page stays small for wide data: every column gets a table row, but only the first
:data:`MAX_CHARTS` columns get a chart, failing and drifted columns first.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from mlvitals.numbers import format_number
from mlvitals.quality.columns import ColumnKind
from mlvitals.quality.drift.result import ColumnDrift
from mlvitals.quality.profiles import ColumnProfile
from mlvitals.quality.report.svg import categorical_chart, numeric_chart

if TYPE_CHECKING:
    from mlvitals.quality.result import CheckResult

MAX_CHARTS = 60

_CSS = """
.mlv{font:13px/1.4 system-ui,-apple-system,Segoe UI,sans-serif;color:#1d2733;max-width:1200px}
.mlv h1{font-size:20px;margin:0 0 4px}.mlv h2{font-size:16px;margin:18px 0 6px}
.mlv table{border-collapse:collapse;width:100%}
.mlv th,.mlv td{border-bottom:1px solid #e3e7ec;padding:4px 6px;text-align:left;
vertical-align:top}
.mlv th{background:#f5f7f9;font-weight:600}
.mlv td.n{text-align:right;font-variant-numeric:tabular-nums}
.mlv .ok{color:#0b7a3e;font-weight:600}.mlv .bad{color:#c92a2a;font-weight:600}
.mlv .muted{color:#6b7785}
.mlv .badge{display:inline-block;padding:2px 8px;border-radius:10px;color:#fff}
.mlv .badge.ok{background:#2b8a3e}.mlv .badge.bad{background:#c92a2a}
.mlv code{font-size:12px;background:#f1f3f5;padding:0 3px;border-radius:3px}
"""


def _fmt(x: float | int | None, digits: int = 4) -> str:
    return format_number(x, digits=digits)


def _sample_text(f_samples: tuple[object, ...]) -> str:
    parts = []
    for s in f_samples:
        row, value = getattr(s, "row", "?"), getattr(s, "value", None)
        parts.append(f"row {row}: <code>{escape(repr(value))}</code>")
    return ", ".join(parts)


def _chart(ref: ColumnProfile | None, cur: ColumnProfile) -> str:
    if ref is None:
        return ""
    if ref.kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME) and ref.histogram is not None:
        lows = [v for v in (ref.min, cur.min) if v is not None]
        highs = [v for v in (ref.max, cur.max) if v is not None]
        if not lows:
            return ""
        return numeric_chart(ref.histogram, cur.histogram, min(lows), max(highs))
    if ref.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
        return categorical_chart(ref.category_counts(), cur.category_counts())
    return ""


def _drift_cells(d: ColumnDrift | None) -> str:
    if d is None:
        return '<td colspan="5" class="muted">not in the reference</td>'
    if d.skipped:
        return f'<td colspan="5" class="muted">{escape(d.note or "not tested")}</td>'
    verdict = '<span class="bad">drift</span>' if d.drifted else '<span class="ok">ok</span>'
    effect = "—"
    if d.effect is not None:
        effect = f"{escape(d.effect)} {_fmt(d.effect_size, 3)} (≥ {_fmt(d.threshold)})"
    test = "—"
    if d.test is not None:
        test = (
            f"{escape(d.test)} {_fmt(d.statistic, 3)}, p={_fmt(d.p_value, 2)}, "
            f"adj. {_fmt(d.p_adjusted, 2)} (&lt; {_fmt(d.alpha)})"
        )
    route = escape(d.route)
    if d.route == "profile":
        errors = [
            f"{label} ±{_fmt(v, 2)}"
            for label, v in (("stat.", d.statistic_error), ("effect", d.effect_error))
            if v
        ]
        route += f" ({', '.join(errors)})" if errors else ""
    return (
        f"<td>{verdict}</td><td>{effect}</td><td>{test}</td>"
        f'<td class="n">{_fmt(d.n_reference)} / {_fmt(d.n_current)}</td><td>{route}</td>'
    )


def render(result: CheckResult, *, standalone: bool = True) -> str:
    """The report's HTML; ``standalone=False`` gives a fragment (for Jupyter)."""
    drift_by = {d.column: d for d in result.drift.columns}
    failing = {f.column for f in result.failures if f.column}
    verdict = (
        '<span class="badge ok">PASSED</span>'
        if result.passed
        else '<span class="badge bad">FAILED</span>'
    )
    dd = result.drift
    out = [
        f'<div class="mlv"><style>{_CSS}</style>',
        f"<h1>Data check {verdict}</h1>",
        f'<p class="muted">{escape(result.data_name)} ({_fmt(result.profile.rows)} rows) against '
        f"{escape(result.reference_name)} ({_fmt(result.reference.rows)} rows)</p>",
        f"<p>{len(result.failures)} failed checks · {len(dd.drifted)} of {len(dd.tested)} "
        f"tested columns drifted ({100 * dd.drifted_share:.0f}%; the dataset drifts at "
        f"{100 * dd.dataset_share:.0f}%): "
        + ('<span class="bad">dataset drift</span>' if dd.dataset_drift else "no dataset drift")
        + "</p>",
    ]
    for note in result.notes:
        out.append(f'<p class="muted">Note: {escape(note)}</p>')
    if result.failures:
        out.append("<h2>Failed checks</h2><table><tr><th>check</th><th>column</th>")
        out.append("<th>what</th><th>sample</th></tr>")
        for f in result.failures:
            out.append(
                f"<tr><td>{escape(f.check)}</td><td>{escape(f.column or '—')}</td>"
                f"<td>{escape(f.message)}</td><td>{_sample_text(f.samples)}</td></tr>"
            )
        out.append("</table>")
    if result.warnings:
        out.append('<h2>Warnings</h2><p class="muted">Within the tolerance: these do not fail ')
        out.append("the check.</p><table><tr><th>check</th><th>column</th><th>what</th>")
        out.append("<th>sample</th></tr>")
        for w in result.warnings:
            out.append(
                f"<tr><td>{escape(w.check)}</td><td>{escape(w.column or '—')}</td>"
                f"<td>{escape(w.message)}</td><td>{_sample_text(w.samples)}</td></tr>"
            )
        out.append("</table>")
    out.append("<h2>Columns</h2><table><tr><th>column</th><th>distribution</th>")
    out.append("<th>drift</th><th>effect size</th><th>test</th><th>n ref / cur</th>")
    out.append("<th>route</th><th>profile (current)</th></tr>")
    ranked = sorted(
        result.profile.columns,
        key=lambda c: (
            not (c.name in failing or (c.name in drift_by and drift_by[c.name].drifted)),
        ),
    )
    charted = {c.name for c in ranked[:MAX_CHARTS]}
    for col in result.profile.columns:
        ref = result.reference.column(col.name) if col.name in result.reference else None
        chart = _chart(ref, col) if col.name in charted else ""
        name = escape(col.name)
        if col.name in failing:
            name = f'<span class="bad">{name}</span>'
        stats = (
            f"{escape(col.logical)} · nulls {_fmt(col.nulls)} · distinct "
            f"{_fmt(col.distinct_count, 3)}"
        )
        if col.mean is not None:
            stats += (
                f"<br>mean {_fmt(col.mean)} · std {_fmt(col.std)} · "
                f"min {_fmt(col.min)} · max {_fmt(col.max)}"
            )
        out.append(
            f"<tr><td>{name}</td><td>{chart}</td>{_drift_cells(drift_by.get(col.name))}"
            f'<td class="muted">{stats}</td></tr>'
        )
    out.append("</table>")
    out.append(
        '<p class="muted">Charts: reference in grey, current in orange. Drift: a column drifts '
        "when its corrected p-value is below alpha and its effect size reaches the threshold."
        "</p></div>"
    )
    body = "".join(out)
    if not standalone:
        return body
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>mlvitals check: {'passed' if result.passed else 'failed'}</title></head>"
        f"<body>{body}</body></html>"
    )
