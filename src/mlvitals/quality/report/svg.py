"""Small inline SVG charts: reference vs current distribution of one column.

Numeric columns draw the density of each side on the reference's bins (share / bin width) as
a filled area (reference) and a line (current); categorical columns draw paired bars for the
most frequent categories. Coordinates are rounded to keep the markup small.

>>> from mlvitals.quality.histogram import Histogram
>>> h = Histogram((0.0, 1.0), (0, 5, 5))
>>> numeric_chart(h, Histogram((0.0, 1.0), (0, 2, 8)), 0.0, 2.0).startswith("<svg")
True
"""

from __future__ import annotations

from html import escape

import numpy as np

from mlvitals.quality.histogram import Histogram

WIDTH, HEIGHT = 220, 56
REF_FILL, CUR_STROKE = "#c9d3df", "#d9480f"


def _svg(body: str, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img"><title>{escape(title)}</title>{body}</svg>'
    )


def numeric_chart(ref: Histogram, cur: Histogram | None, low: float, high: float) -> str:
    """Densities on the bins ``(low, e0), [e0, e1), ..., [e_last, high]``."""
    edges = np.array(ref.edges, dtype=np.float64)
    left = min(low, edges[0])
    right = max(high, edges[-1])
    if right <= left:
        right = left + 1.0
    bounds = np.concatenate(([left], edges, [right]))
    widths = np.maximum(np.diff(bounds), (right - left) * 1e-3)
    series = [np.asarray(ref.counts, dtype=np.float64)]
    if cur is not None and cur.edges == ref.edges:
        series.append(np.asarray(cur.counts, dtype=np.float64))
    dens = [s / max(s.sum(), 1.0) / widths for s in series]
    top = max(float(d.max()) for d in dens) or 1.0

    def x(v: float) -> float:
        return round(2 + float(v - left) / float(right - left) * (WIDTH - 4), 1)

    def y(d: float) -> float:
        return round(HEIGHT - 2 - d / top * (HEIGHT - 6), 1)

    def steps(d: np.ndarray) -> str:
        pts = []
        for i, v in enumerate(d):
            pts += [f"{x(bounds[i])},{y(v)}", f"{x(bounds[i + 1])},{y(v)}"]
        return " ".join(pts)

    base = HEIGHT - 2
    body = (
        f'<polygon points="{x(left)},{base} {steps(dens[0])} {x(right)},{base}" fill="{REF_FILL}"/>'
    )
    if len(dens) > 1:
        body += (
            f'<polyline points="{steps(dens[1])}" fill="none" stroke="{CUR_STROKE}" '
            'stroke-width="1.5"/>'
        )
    return _svg(body, "reference (filled) vs current (line)")


def categorical_chart(ref: dict[str, int], cur: dict[str, int], limit: int = 8) -> str:
    """Paired bars of the shares of the most frequent categories (reference first)."""
    total_r, total_c = max(sum(ref.values()), 1), max(sum(cur.values()), 1)
    names = sorted(set(ref) | set(cur), key=lambda k: -(ref.get(k, 0) / total_r))[:limit]
    if not names:
        return _svg("", "no values")
    shares = [(ref.get(n, 0) / total_r, cur.get(n, 0) / total_c) for n in names]
    top = max(max(a, b) for a, b in shares) or 1.0
    slot = (WIDTH - 4) / len(names)
    bar = max(slot / 2 - 1, 1)
    body = []
    for i, (name, (a, b)) in enumerate(zip(names, shares, strict=True)):
        x0 = 2 + i * slot
        for j, (share, color) in enumerate(((a, REF_FILL), (b, CUR_STROKE))):
            h = round(share / top * (HEIGHT - 14), 1)
            body.append(
                f'<rect x="{round(x0 + j * bar, 1)}" y="{round(HEIGHT - 12 - h, 1)}" '
                f'width="{round(bar, 1)}" height="{h}" fill="{color}"/>'
            )
        label = escape(name if len(name) <= 6 else name[:5] + "…")
        body.append(
            f'<text x="{round(x0 + bar, 1)}" y="{HEIGHT - 2}" font-size="8" '
            f'text-anchor="middle" fill="#555">{label}</text>'
        )
    return _svg("".join(body), "reference (grey) vs current (orange) shares")
