"""The lock-free swap protocol between recording threads and the collector.

A writer is frozen in the middle of a record (as if the OS or the GIL descheduled it there)
while the collector takes the buffers: the call must be counted once, never lost.
"""

from __future__ import annotations

import threading
import time

from mlvitals.sdk.recorder import Recorder, Series


class FreezingList(list[float]):
    """A list whose next append blocks until released: a thread paused mid-write."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.armed = False

    def append(self, value: float) -> None:
        if self.armed:
            self.armed = False
            self.entered.set()
            self.release.wait(5)
        super().append(value)


def frozen_writer(rec: Recorder) -> tuple[threading.Thread, FreezingList]:
    """A thread with one call recorded, then a second one frozen after its first append."""
    ready = threading.Event()
    lists: dict[str, FreezingList] = {}

    def run() -> None:
        rec.ok("op", 1.0, 0.1, 0.01)
        # Swap this thread's series lists for freezing ones, then record again.
        buf = rec._tls.buffer
        s: Series = buf.table["op"]
        frozen = FreezingList()
        frozen.extend(s.latencies)
        s.latencies = frozen
        frozen.armed = True
        lists["l"] = frozen
        ready.set()
        rec.ok("op", 2.0, 0.2, 0.02)

    t = threading.Thread(target=run)
    t.start()
    ready.wait(5)
    lists["l"].entered.wait(5)
    return t, lists["l"]


def calls(taken_series: dict[str, list[Series]]) -> int:
    return sum(len(s.cpus) for ss in taken_series.values() for s in ss)


def test_take_waits_for_a_write_in_progress() -> None:
    rec = Recorder(max_series=10)
    t, frozen = frozen_writer(rec)
    threading.Timer(0.05, frozen.release.set).start()
    started = time.monotonic()
    taken = rec.take(wait=True)
    waited = time.monotonic() - started
    n = calls(taken.series)  # counted before the writer thread can do anything more
    t.join()
    assert waited >= 0.04  # it did wait for the frozen writer
    assert n == 2
    (series,) = taken.series["op"]
    assert series.latencies == [0.1, 0.2] and series.ends == [1.0, 2.0]
    assert calls(rec.take().series) == 0


def test_take_without_wait_sets_the_table_aside_until_the_write_is_over() -> None:
    rec = Recorder(max_series=10)
    t, frozen = frozen_writer(rec)
    first = rec.take(wait=False)
    assert calls(first.series) == 0  # not ready: left for the next take
    frozen.release.set()
    t.join()
    assert calls(rec.take(wait=False).series) == 2
    assert calls(rec.take(wait=False).series) == 0


def test_a_write_after_the_swap_goes_to_the_new_table() -> None:
    rec = Recorder(max_series=10)
    rec.ok("op", 1.0, 0.1, 0.0)
    assert calls(rec.take().series) == 1
    rec.ok("op", 2.0, 0.1, 0.0)
    rec.fail("op", 3.0, 0.1, 0.0, "KeyError")
    rec.client_error("op", 4.0, 0.1, 0.0)
    taken = rec.take()
    (s,) = taken.series["op"]
    assert len(s.cpus) == 3 and s.failures == {"KeyError": 1} and s.client_errors == 1


def test_buffers_of_finished_threads_are_collected_then_dropped() -> None:
    rec = Recorder(max_series=10)
    t = threading.Thread(target=rec.ok, args=("op", 1.0, 0.1, 0.0))
    t.start()
    t.join()
    del t
    assert rec.threads == 1
    assert calls(rec.take().series) == 1  # its last calls still count
    assert rec.threads == 0


def test_a_scrape_sees_calls_set_aside_and_in_progress_tables() -> None:
    rec = Recorder(max_series=10)
    t, frozen = frozen_writer(rec)
    rec.take(wait=False)  # the frozen writer's table is set aside
    assert calls(rec.peek().series) == 1  # the finished call; the frozen one not yet
    frozen.release.set()
    t.join()
    assert calls(rec.peek().series) == 2
    assert calls(rec.take(wait=False).series) == 2
