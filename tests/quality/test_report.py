"""The HTML report: self-contained, parseable, small for wide data; Jupyter's repr."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pyarrow as pa

from mlvitals.quality import check


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    p.close()
    return p


def test_report_shows_verdict_failures_drift_and_charts_without_external_assets() -> None:
    rng = np.random.default_rng(0)
    ref = pa.table({"x": rng.normal(size=2_000), "c": rng.choice(["a", "b"], 2_000)})
    cur = pa.table({"x": rng.normal(2.0, 1.0, 2_000), "c": rng.choice(["a", "b", "<z>"], 2_000)})
    result = check(cur, reference=ref)
    html = result.to_html()
    doc = _parse(html)
    text = " ".join(doc.text)
    assert "FAILED" in text and "categories" in text and "dataset drift" in text
    assert "<z>" in text  # the offending value, escaped in the markup
    assert "<z>" not in html.replace("&lt;z&gt;", "")
    assert doc.tags.count("svg") == 2  # one chart per column
    assert not {"script", "link", "img", "iframe"} & set(doc.tags)
    assert not [v for k, v in doc.attrs if k in ("src", "href") and v]
    fragment = result._repr_html_()
    assert fragment.startswith('<div class="mlv">') and "<html" not in fragment


def test_report_stays_small_for_wide_data() -> None:
    rng = np.random.default_rng(1)
    n, width = 500, 400
    ref = pa.table({f"c{i}": rng.normal(size=n) for i in range(width)})
    cur = pa.table({f"c{i}": rng.normal(size=n) for i in range(width)})
    html = check(cur, reference=ref).to_html()
    doc = _parse(html)
    assert doc.tags.count("svg") == 60  # charts are capped; every column still has a row
    columns_table = html[html.index("<h2>Columns</h2>") :]
    assert columns_table.count("<tr>") == width + 1
    assert len(html.encode()) < 600_000


def test_reports_show_numbers_for_people() -> None:
    ref = pa.table({"income": [49_040.0 - 10.0, 49_040.0 + 10.0] * 500})
    cur = pa.table({"income": [52_500.0, 53_500.0] * 500})
    result = check(cur, reference=ref)
    text = "".join(_parse(result.to_html()).text)
    assert "mean 53,000" in text and "[49,030, 49,050]" in text  # thousands separators
    assert "1,000 values are outside [49,030, 49,050]" in result.summary()
    assert "e+0" not in text and "e+0" not in result.summary()
