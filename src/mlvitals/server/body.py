"""Reading a request body within a size limit, gzip included, and parsing its JSON."""

from __future__ import annotations

import json
import zlib
from typing import Any

import orjson
from starlette.requests import Request

from mlvitals.errors import BadRequest, PayloadTooLarge


async def read_body(request: Request, limit: int) -> bytes:
    """The decoded body; 413 past ``limit`` bytes on the wire or after gunzip."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body of {declared} bytes is over the limit of {limit}")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body is over the limit of {limit} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding != "gzip":
        raise BadRequest(f"unsupported Content-Encoding {encoding!r}: send gzip or identity")
    return gunzip(raw, limit)


def gunzip(raw: bytes, limit: int) -> bytes:
    """Decode gzip without ever holding more than ``limit`` decoded bytes.

    Every member is read (a gzip stream may be several concatenated members); bytes after
    the last member that are not gzip are refused, never silently dropped.
    """
    parts: list[bytes] = []
    size = 0
    rest = raw
    while True:
        decoder = zlib.decompressobj(wbits=31)
        try:
            out = decoder.decompress(rest, limit - size + 1)
        except zlib.error as exc:
            if parts:
                raise BadRequest(
                    f"body has {len(rest)} byte(s) after the gzip data that are not gzip"
                ) from None
            raise BadRequest(f"body is not valid gzip: {exc}") from None
        size += len(out)
        if size > limit or decoder.unconsumed_tail:
            raise PayloadTooLarge(f"decoded body is over the limit of {limit} bytes")
        if not decoder.eof:
            raise BadRequest("body is not valid gzip: the stream is truncated")
        parts.append(out)
        rest = decoder.unused_data
        if not rest:
            return b"".join(parts)


def parse_json(body: bytes) -> Any:
    if not body:
        raise BadRequest("request body is empty: expected a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "surrogate" not in str(exc):
            raise BadRequest(f"body is not valid JSON: {exc}") from None
    # An escaped lone surrogate ("\\ud800") is JSON syntax that orjson refuses: read the
    # body with the standard library, so that the record holding it is refused alone.
    try:
        return json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
