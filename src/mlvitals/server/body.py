"""Reading a request body within a size limit, gzip included, and parsing its JSON."""

from __future__ import annotations

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
    """Decode gzip without ever holding more than ``limit`` decoded bytes."""
    decoder = zlib.decompressobj(wbits=31)
    try:
        out = decoder.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise BadRequest(f"body is not valid gzip: {exc}") from None
    if len(out) > limit or decoder.unconsumed_tail:
        raise PayloadTooLarge(f"decoded body is over the limit of {limit} bytes")
    if not decoder.eof:
        raise BadRequest("body is not valid gzip: the stream is truncated")
    return out


def parse_json(body: bytes) -> Any:
    if not body:
        raise BadRequest("request body is empty: expected a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None
