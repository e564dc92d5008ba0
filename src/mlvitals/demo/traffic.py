"""Demo traffic: a steady stream of predictions with some client errors, failures and slow
calls, plus incidents switched on and off by the scenario."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

import httpx
import numpy as np


@dataclass
class TrafficMix:
    """Shares of each kind of call; the scenario changes them to stage incidents."""

    rate: float = 25.0  # calls per second
    failing: float = 0.01
    client_error: float = 0.02
    slow: float = 0.03


@dataclass
class Traffic:
    url: str
    sample: np.ndarray
    mix: TrafficMix = field(default_factory=TrafficMix)
    sent: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mlvitals-demo-traffic", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        rng = random.Random(42)
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                row = self.sample[rng.randrange(len(self.sample))]
                draw = rng.random()
                body: dict[str, object] = {"features": row.tolist()}
                mix = self.mix
                if draw < mix.failing:
                    body["explode"] = True
                elif draw < mix.failing + mix.client_error:
                    body["features"] = row[:10].tolist()
                elif draw < mix.failing + mix.client_error + mix.slow:
                    body["slow"] = True
                try:
                    if rng.random() < 0.1:
                        client.post("/predict/batch", json=[r.tolist() for r in self.sample[:32]])
                    else:
                        client.post("/predict", json=body)
                    self.sent += 1
                except httpx.HTTPError:
                    pass  # the model service is down: that is what the demo shows
                pause = 1.0 / mix.rate - (time.monotonic() - started)
                if pause > 0:
                    self._stop.wait(pause)
