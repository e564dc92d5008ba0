"""Shared web plumbing of the dashboard: layout, rendering, login, access, units, assets."""
