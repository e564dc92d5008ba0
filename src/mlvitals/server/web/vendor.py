"""Serving Plotly's browser bundle from the installed ``plotly`` package.

The dashboard must work without internet access, so the charting library comes from the
Python package the ``server`` extra installs, not from a CDN, and nothing is copied into
this repository. The bundle is several megabytes; it is gzipped once, on first request,
for browsers that accept it, and cached by browsers (revalidated by ETag).
"""

from __future__ import annotations

import gzip
import threading
from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from mlvitals.errors import ConfigError

router: APIRouter = APIRouter(include_in_schema=False)

PLOTLY_URL = "/static/vendor/plotly.min.js"
_CACHE_CONTROL = "public, max-age=86400"

_lock = threading.Lock()
_gzipped: dict[Path, bytes] = {}


def plotly_js() -> Path:
    """The path of ``plotly.min.js`` inside the installed ``plotly`` package."""
    try:
        bundle = resources.files("plotly") / "package_data" / "plotly.min.js"
    except ModuleNotFoundError:
        raise ConfigError("the dashboard needs plotly: pip install 'mlvitals[server]'") from None
    path = Path(str(bundle))
    if not path.is_file():
        raise ConfigError(
            f"the installed plotly package has no {path.name}: reinstall it with "
            "pip install --force-reinstall plotly"
        )
    return path


def _etag(path: Path, encoding: str) -> str:
    info = path.stat()
    return f'"plotly-{info.st_size:x}-{int(info.st_mtime):x}-{encoding}"'


def _gzip(path: Path) -> bytes:
    with _lock:
        data = _gzipped.get(path)
        if data is None:
            data = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
            _gzipped[path] = data
        return data


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


@router.get(PLOTLY_URL)
async def plotly_bundle(request: Request) -> Response:
    path = plotly_js()
    compress = _accepts_gzip(request)
    # Each encoding is its own representation, so each gets its own validator.
    etag = _etag(path, "gz" if compress else "id")
    headers = {"ETag": etag, "Cache-Control": _CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if compress:
        body = await run_in_threadpool(_gzip, path)
        return Response(
            body,
            media_type="text/javascript",
            headers={**headers, "Content-Encoding": "gzip"},
        )
    return FileResponse(path, media_type="text/javascript", headers=headers)
