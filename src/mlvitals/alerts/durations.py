"""Kept for imports from server modules; the grammar lives in :mod:`mlvitals.durations`."""

from __future__ import annotations

from mlvitals.durations import format_duration, parse_duration

__all__ = ["format_duration", "parse_duration"]
