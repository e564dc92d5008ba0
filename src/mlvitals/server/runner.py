"""Running the app under uvicorn, with the checks ``mlvitals serve`` and the demo share."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from mlvitals.errors import ConfigError
from mlvitals.server.app import create_app
from mlvitals.server.auth import token_table
from mlvitals.server.database import open_database
from mlvitals.settings import Settings, load_settings, to_environ
from mlvitals.store.urls import redact


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings) -> None:
    """Refuse to expose an unauthenticated server beyond this machine."""
    if is_loopback(settings.host) or settings.insecure:
        return
    if not token_table(settings.tokens, settings.tokens_file).enabled:
        raise ConfigError(
            f"refusing to bind {settings.host} without authentication: configure --tokens or "
            "--tokens-file, or pass --insecure to serve without tokens"
        )


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        # As uvicorn binds: a port left in TIME_WAIT by a server that just exited is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _preflight(settings: Settings) -> None:
    check_bind(settings)
    if settings.port and not port_free(settings.host, settings.port):
        raise ConfigError(
            f"port {settings.port} on {settings.host} is in use: pick another with --port"
        )
    # Open (and migrate) the store once here, so that a bad --db fails with one clear line
    # before any worker starts, and workers never race to migrate.
    open_database(settings.db, pool_size=1).close()


def build_server(settings: Settings) -> uvicorn.Server:
    """A uvicorn server for the app; ``server.run()`` blocks until SIGINT/SIGTERM, then lets
    in-flight requests finish (up to ``shutdown_timeout``) before the store is closed."""
    _preflight(settings)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=int(settings.shutdown_timeout),
        access_log=False,
        lifespan="on",
    )
    return uvicorn.Server(config)


def app_from_environment() -> FastAPI:
    """The app of one worker process: settings come from the ``MLVITALS_*`` variables."""
    return create_app(load_settings())


def serve(settings: Settings, announce: Callable[[str], None] = print) -> None:
    """Serve until SIGINT/SIGTERM, in one process or ``settings.workers`` processes;
    ``announce`` gets one line once the checks passed."""
    line = f"mlvitals serving http://{settings.host}:{settings.port}/ (db: {redact(settings.db)})"
    if settings.workers <= 1:
        server = build_server(settings)
        announce(line)
        server.run()
        return
    _preflight(settings)
    announce(f"{line}, {settings.workers} workers")
    os.environ.update(to_environ(settings))  # read back by app_from_environment
    uvicorn.run(
        "mlvitals.server.runner:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        timeout_graceful_shutdown=int(settings.shutdown_timeout),
        access_log=False,
    )
