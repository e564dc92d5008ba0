"""Demo traffic: a steady stream of predictions with some client errors, failures and slow
calls, plus incidents switched on and off by the scenario.

Traffic is open-loop, as a service's users are: calls start at ``rate`` per second whatever
the replica's latency (up to ``max_in_flight`` at once), so a slow replica gets as many
calls as before and its latency shows in every window.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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
    max_in_flight: int = 16
    seed: int = 42
    sent: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _local: threading.local = field(default_factory=threading.local)
    _clients: list[httpx.Client] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _in_flight: int = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mlvitals-demo-traffic", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _client(self) -> httpx.Client:
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(base_url=self.url, timeout=5)
            with self._lock:
                self._clients.append(client)
        return client

    def _call(self, path: str, body: object) -> None:
        sent = 0
        try:
            self._client().post(path, json=body)
            sent = 1
        except httpx.HTTPError:
            pass  # the model service is down: that is what the demo shows
        finally:
            with self._lock:
                self._in_flight -= 1
                self.sent += sent

    def _body(self, rng: random.Random) -> tuple[str, object]:
        if rng.random() < 0.1:
            return "/predict/batch", [r.tolist() for r in self.sample[:32]]
        row = self.sample[rng.randrange(len(self.sample))]
        body: dict[str, object] = {"features": row.tolist()}
        mix, draw = self.mix, rng.random()
        if draw < mix.failing:
            body["explode"] = True
        elif draw < mix.failing + mix.client_error:
            body["features"] = row[:10].tolist()
        elif draw < mix.failing + mix.client_error + mix.slow:
            body["slow"] = True
        return "/predict", body

    def _run(self) -> None:
        rng = random.Random(self.seed)
        with ThreadPoolExecutor(
            self.max_in_flight, thread_name_prefix="mlvitals-demo-call"
        ) as pool:
            next_at = time.monotonic()
            while not self._stop.is_set():
                with self._lock:
                    room = self._in_flight < self.max_in_flight
                    if room:
                        self._in_flight += 1
                if room:
                    pool.submit(self._call, *self._body(rng))
                next_at = max(next_at + 1.0 / self.mix.rate, time.monotonic() - 1.0)
                self._stop.wait(max(next_at - time.monotonic(), 0.0))
        for client in self._clients:
            client.close()
