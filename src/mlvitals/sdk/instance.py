"""The name of this process in its service's fleet.

An instance that restarts under the same name is the same instance coming back, not a new
one next to a dead one. So the name is, in order:

1. the ``instance=`` argument of ``Monitor``;
2. the ``MLVITALS_INSTANCE`` environment variable (read through :mod:`mlvitals.settings`;
   in Kubernetes, set it from the pod name or a StatefulSet ordinal);
3. the hostname, for a container's main process (process id 1): a container's hostname is
   its own (the pod name in Kubernetes, the ``HOSTNAME`` a container runtime sets) and stays
   the same when the container restarts;
4. ``host:pid`` otherwise: several processes can share a host (gunicorn or uvicorn workers
   in one container, services on one machine), and two processes shipping under one name
   would overwrite each other's windows.

A forked child of a monitor with a name from 1 or 2 is ``<name>:<child pid>``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

from mlvitals.errors import ConfigError
from mlvitals.sdk.recorder import MAX_NAME


def instance_from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """``MLVITALS_INSTANCE`` when set and not empty, else None."""
    from mlvitals.settings import setting_value

    name = str(setting_value("instance", environ))
    if not name:
        return None
    if len(name) > MAX_NAME:
        raise ConfigError(f"MLVITALS_INSTANCE must be 1-{MAX_NAME} characters, got {len(name)}")
    return name


def default_instance(*, pid: int | None = None, hostname: str | None = None) -> str:
    """The name of a process given no name: see the module's docstring.

    >>> default_instance(pid=1, hostname="fraud-model-7d9c-x2")
    'fraud-model-7d9c-x2'
    >>> default_instance(pid=4242, hostname="gpu-box")
    'gpu-box:4242'
    """
    pid = os.getpid() if pid is None else pid
    host = socket.gethostname() if hostname is None else hostname
    name = host if pid == 1 and host else f"{host}:{pid}"
    return name[:MAX_NAME]
