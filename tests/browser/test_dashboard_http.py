"""Dashboard behaviour seen through a plain HTTP client against the real server process."""

from __future__ import annotations

import gzip
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from .harness import INGEST_TOKEN, READ_TOKEN, LiveServer, start_server, stop_server

PAGES = ["/", "/server", "/services", "/datasets", "/pipelines", "/cost", "/alerts"]


class _Page(HTMLParser):
    """What these tests read from a page: resource URLs and the text of <pre><code> blocks."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.resources: list[str] = []
        self.code_blocks: list[str] = []
        self._in_pre_code = False
        self._open: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {"script": "src", "link": "href", "img": "src"}
        for key, value in attrs:
            if tag in names and key == names[tag] and value is not None:
                self.resources.append(value)
        if tag == "code" and self._open[-1:] == ["pre"]:
            self._in_pre_code = True
            self.code_blocks.append("")
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._in_pre_code = False
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._in_pre_code:
            self.code_blocks[-1] += data


@pytest.fixture(scope="module")
def scratch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """An empty open server this module may write to."""
    server = start_server(tmp_path_factory.mktemp("scratch"))
    try:
        yield server
    finally:
        stop_server(server)


def test_a_page_without_a_token_is_a_303_to_login_not_json(token_server: LiveServer) -> None:
    for path in PAGES:
        reply = httpx.get(token_server.url + path + "?x=1", follow_redirects=False)
        assert reply.status_code == 303, path
        assert reply.headers["location"] == "/login?next=" + quote(path + "?x=1", safe="")
    # The API keeps answering JSON 401.
    api = httpx.get(token_server.url + "/api/v1/summary")
    assert api.status_code == 401
    assert "error" in api.json()


def test_an_unaccepted_cookie_is_cleared_and_the_login_says_why(
    token_server: LiveServer,
) -> None:
    reply = httpx.get(
        token_server.url + "/",
        cookies={"mlvitals_token": INGEST_TOKEN},  # known, but without the read scope
        follow_redirects=False,
    )
    assert reply.status_code == 303
    assert reply.headers["location"] == "/login?next=%2F&error=rejected"
    assert 'mlvitals_token=""' in reply.headers["set-cookie"]
    assert "Max-Age=0" in reply.headers["set-cookie"]
    form = httpx.get(token_server.url + reply.headers["location"])
    assert "no longer accepted" in form.text


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", ""],
)
def test_login_never_redirects_off_the_server(token_server: LiveServer, target: str) -> None:
    reply = httpx.post(
        token_server.url + "/login",
        data={"token": READ_TOKEN, "next": target},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    assert reply.headers["location"] == "/"


def test_login_sets_a_protective_cookie_and_returns_to_the_page(token_server: LiveServer) -> None:
    reply = httpx.post(
        token_server.url + "/login",
        data={"token": READ_TOKEN, "next": "/cost?range=1d"},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    assert reply.headers["location"] == "/cost?range=1d"
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith(f"mlvitals_token={READ_TOKEN};")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here; browsers would drop a Secure cookie
    page = httpx.get(token_server.url + "/cost", cookies={"mlvitals_token": READ_TOKEN})
    assert page.status_code == 200


def test_rejected_logins_answer_with_a_status(token_server: LiveServer) -> None:
    unknown = httpx.post(token_server.url + "/login", data={"token": "x" * 12})
    assert unknown.status_code == 401
    no_read = httpx.post(token_server.url + "/login", data={"token": INGEST_TOKEN})
    assert no_read.status_code == 403
    empty = httpx.post(token_server.url + "/login", data={"token": ""})
    assert empty.status_code == 400
    for reply in (unknown, no_read, empty):
        assert "set-cookie" not in reply.headers
        assert '<form method="post" action="/login"' in reply.text


def test_plotly_is_served_from_the_installed_package(seeded_server: LiveServer) -> None:
    bundle = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js")).read_bytes()
    url = seeded_server.url + "/static/vendor/plotly.min.js"
    # httpx decodes gzip itself; compare what is on the wire separately.
    with httpx.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as reply:
        wire = b"".join(reply.iter_raw())
        headers = reply.headers
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(wire) == bundle
    assert len(wire) < len(bundle) / 2
    plain = httpx.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.content == bundle
    assert plain.headers["content-type"].startswith("text/javascript")
    again = httpx.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]})
    assert again.status_code == 304
    assert plain.headers["etag"] != headers["etag"]  # one validator per encoding


def test_pages_carry_security_headers_and_load_nothing_remote(seeded_server: LiveServer) -> None:
    for path in PAGES:
        reply = httpx.get(seeded_server.url + path)
        assert reply.status_code == 200
        csp = reply.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert reply.headers["x-content-type-options"] == "nosniff"
        resources = _Page(reply.text).resources
        assert resources
        for ref in resources:
            assert ref.startswith("/static/"), (path, ref)


def test_the_how_to_start_snippet_on_the_page_sends_a_record(scratch_server: LiveServer) -> None:
    page = httpx.get(scratch_server.url + "/server")
    (snippet,) = _Page(page.text).code_blocks
    run = subprocess.run(
        [sys.executable, "-c", snippet], capture_output=True, text=True, timeout=30, check=False
    )
    assert run.returncode == 0, run.stderr
    assert '"stored":1' in run.stdout.replace(" ", "")
    summary = httpx.get(scratch_server.url + "/api/v1/summary").json()
    assert summary["records"] == 1
