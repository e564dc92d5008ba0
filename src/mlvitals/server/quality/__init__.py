"""Stored data-quality results: queries over profiles, checks and per-column drift."""
