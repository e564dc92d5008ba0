"""Background loops of the server: rollups and retention, uptime probes, alert evaluation.

Each loop runs until the server shuts down; one failing pass is logged and the loop goes on.
Every server process runs them; over PostgreSQL, passes of several processes are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from mlvitals.cost.config import load_config
from mlvitals.server.alerts.loop import run_alerting
from mlvitals.server.cost.usage import roll_up_cost
from mlvitals.server.deps import AppState
from mlvitals.server.serving.prober import load_probes, run_prober
from mlvitals.server.serving.rollup import Retention, apply_retention, roll_up

log = logging.getLogger("mlvitals.server.loops")


@dataclass
class Loops:
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def close(self, grace: float = 10.0) -> None:
        """Stop every loop. A pass running in a thread is waited for (up to ``grace``
        seconds) rather than cancelled, so it never runs on after the store is closed."""
        self.stop.set()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=grace)
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def every(
    interval: float, stop: asyncio.Event, name: str, fn: Callable[[], Awaitable[object]]
) -> None:
    """Run ``fn`` now and then every ``interval`` seconds until ``stop``."""
    while not stop.is_set():
        try:
            await fn()
        except Exception:
            log.exception("background loop %s failed; retrying in %ss", name, interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


def start_loops(app: AppState) -> Loops:
    loops = Loops()
    s = app.settings
    retention = Retention(s.retention_raw_days, s.retention_minute_days, s.retention_hour_days)

    max_gap = load_config(s.rate_card or None).max_gap

    async def maintain() -> None:
        now = app.clock()
        await asyncio.to_thread(roll_up, app.store, now, late_seconds=s.late_seconds)
        # Cost rollups read raw samples: roll them before retention deletes any.
        await asyncio.to_thread(
            roll_up_cost, app.store, now, late_seconds=s.late_seconds, max_gap=max_gap
        )
        await asyncio.to_thread(apply_retention, app.store, now, retention)

    loops.tasks.append(
        asyncio.create_task(every(s.rollup_interval, loops.stop, "rollup", maintain))
    )
    targets = load_probes(s.probes_file)
    if targets:
        loops.tasks.append(
            asyncio.create_task(run_prober(app.store, targets, loops.stop, app.clock))
        )
    loops.tasks.append(asyncio.create_task(run_alerting(app, loops.stop)))
    return loops
