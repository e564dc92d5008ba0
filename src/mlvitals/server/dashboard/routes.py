"""Dashboard routes (placeholder overview until the dashboard shell lands)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


def static_dir() -> Path:
    return Path(__file__).parent / "static"


@router.get("/")
async def overview() -> HTMLResponse:
    return HTMLResponse("<!doctype html><title>mlvitals</title><h1>mlvitals</h1>")
