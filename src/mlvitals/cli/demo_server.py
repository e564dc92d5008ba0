"""The demo's uvicorn server (apart from the command, so ``mlvitals`` starts without the
[server] extra)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import FrameType

import uvicorn


class DemoServer(uvicorn.Server):
    """The demo's server: on Ctrl-C (or SIGTERM) the workload stops first, shipping its last
    records while the server still listens; a second signal stops at once."""

    def __init__(self, config: uvicorn.Config, stop_workload: Callable[[], None]) -> None:
        super().__init__(config)
        self._stop_workload = stop_workload
        self._stopping = threading.Event()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._stopping.is_set():
            super().handle_exit(sig, frame)
            return
        self._stopping.set()
        threading.Thread(target=self.finish, name="mlvitals-demo-stop", daemon=True).start()

    def finish(self) -> None:
        self._stopping.set()
        self._stop_workload()
        # The alert loop's last evaluation may still be reading when the store closes at
        # shutdown; what it logs then says nothing about the demo.
        logging.getLogger("mlvitals.server.alerts").setLevel(logging.CRITICAL)
        self.should_exit = True
