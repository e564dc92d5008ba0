"""The mlvitals server: HTTP API, dashboard and background loops (needs ``mlvitals[server]``)."""

from mlvitals.server.app import create_app

__all__ = ["create_app"]
