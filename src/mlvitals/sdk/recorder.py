"""The hot path: per-thread call buffers that the collector swaps out without a lock.

Each thread appends its calls to its own buffer: end time, latency and CPU time in three
lists per operation, failures and client errors in counters. Nothing is shared between
threads on the hot path, so no lock is taken and no count can be lost to a race.

The collector takes a thread's calls by swapping in an empty table. The owner thread bumps
``seq`` before and after each write, so ``seq`` is odd while a write is in progress. The
protocol relies only on the GIL making each bytecode's effect visible to other threads in
program order:

- the writer bumps ``seq`` (to odd) *before* it reads ``table``, and again after its writes;
- the collector replaces ``table`` *before* it reads ``seq``.

If the collector then reads an even ``seq``, any writer either finished with the old table or
will read the new one. If it reads an odd one, a write to the old table may still be going
on; it is over as soon as ``seq`` changes. Such a table is set aside and folded in at the
next take (or, when the window closes, after a wait of a few microseconds).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

OTHER = "__other__"
"""The operation that series beyond ``max_series`` fold into."""

MAX_NAME = 200


class Series:
    """One operation's calls on one thread since the last swap (parallel lists)."""

    __slots__ = ("client_errors", "cpus", "ends", "failures", "latencies", "operation")

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.ends: list[float] = []
        self.latencies: list[float] = []
        self.cpus: list[float] = []
        self.failures: dict[str, int] = {}
        self.client_errors = 0


class _Alive:
    """Kept only in a thread's local storage: it dies with the thread."""

    __slots__ = ("__weakref__",)


class _ThreadBuffer:
    __slots__ = ("alive", "seq", "table")

    def __init__(self, alive: weakref.ref[_Alive]) -> None:
        self.seq = 0  # odd while the owner thread is writing
        self.table: dict[str, Series] = {}
        self.alive = alive


@dataclass(slots=True)
class Taken:
    """Series taken from every thread, keyed by the operation they count for."""

    series: dict[str, list[Series]] = field(default_factory=dict)

    def add(self, s: Series) -> None:
        self.series.setdefault(s.operation, []).append(s)


class Recorder:
    """Per-thread call buffers for one monitor.

    ``ok``, ``fail`` and ``client_error`` are called on the request path: they append to the
    calling thread's buffer and never block on another thread, do I/O or raise.
    """

    def __init__(self, max_series: int, on_new_thread: Callable[[], None] | None = None) -> None:
        if max_series < 1:
            raise ValueError(f"max_series must be at least 1, got {max_series}")
        self.max_series = max_series
        self._on_new_thread = on_new_thread
        self._init()

    def _init(self) -> None:
        self._tls = threading.local()
        self._lock = threading.Lock()
        self._buffers: list[_ThreadBuffer] = []
        self._admitted: set[str] = set()
        self._closed = False
        self._set_aside: list[tuple[_ThreadBuffer, dict[str, Series], int]] = []

    def reset(self) -> None:
        """Forget everything (a forked child starts afresh; the parent keeps its data)."""
        self._init()

    def close(self) -> None:
        """From now on calls are discarded; what was buffered can still be taken."""
        self._closed = True
        # Every thread misses its buffer from now on and lands in _new_buffer, which hands
        # out a buffer nobody keeps.
        self._tls = threading.local()

    # -- the hot path ----------------------------------------------------------------------

    def ok(self, operation: str, end: float, latency: float, cpu: float) -> None:
        try:
            buf: _ThreadBuffer = self._tls.buffer
        except AttributeError:
            buf = self._new_buffer()
        buf.seq += 1
        s = buf.table.get(operation)
        if s is None:
            s = self._new_series(buf, operation)
        s.ends.append(end)
        s.latencies.append(latency)
        s.cpus.append(cpu)
        buf.seq += 1

    def fail(self, operation: str, end: float, latency: float, cpu: float, error: str) -> None:
        try:
            buf: _ThreadBuffer = self._tls.buffer
        except AttributeError:
            buf = self._new_buffer()
        buf.seq += 1
        s = buf.table.get(operation)
        if s is None:
            s = self._new_series(buf, operation)
        # Counted before the call is appended, so a scrape never sees the call without it.
        s.failures[error] = s.failures.get(error, 0) + 1
        s.ends.append(end)
        s.latencies.append(latency)
        s.cpus.append(cpu)
        buf.seq += 1

    def client_error(self, operation: str, end: float, latency: float, cpu: float) -> None:
        try:
            buf: _ThreadBuffer = self._tls.buffer
        except AttributeError:
            buf = self._new_buffer()
        buf.seq += 1
        s = buf.table.get(operation)
        if s is None:
            s = self._new_series(buf, operation)
        s.client_errors += 1
        s.ends.append(end)
        s.latencies.append(latency)
        s.cpus.append(cpu)
        buf.seq += 1

    # -- slow paths: once per thread, and once per operation per thread per swap ------------

    def _new_buffer(self) -> _ThreadBuffer:
        alive = _Alive()
        buf = _ThreadBuffer(weakref.ref(alive))
        if self._closed:
            return buf
        self._tls.alive = alive
        self._tls.buffer = buf
        with self._lock:
            self._buffers.append(buf)
        if self._on_new_thread is not None:
            self._on_new_thread()
        return buf

    def _new_series(self, buf: _ThreadBuffer, operation: str) -> Series:
        name = operation[:MAX_NAME] or OTHER
        with self._lock:
            if name not in self._admitted:
                if len(self._admitted) < self.max_series:
                    self._admitted.add(name)
                else:
                    name = OTHER
        s = buf.table.get(name)
        if s is None:
            s = Series(name)
            buf.table[name] = s
        # An operation over the limit is an alias of __other__ in this table.
        buf.table[operation] = s
        return s

    # -- the collector's side ----------------------------------------------------------------

    def take(self, wait: bool = True, timeout: float = 1.0) -> Taken:
        """Swap every thread's table for an empty one and return what they held.

        A table whose owner was in the middle of a write is returned once that write is
        over: with ``wait`` this waits for it (microseconds, unless the owner is starved of
        the GIL; at most ``timeout``), without it the table waits for the next take.
        """
        with self._lock:
            buffers = list(self._buffers)
        pending, self._set_aside = self._set_aside, []
        for buf in buffers:
            old = buf.table
            buf.table = {}
            pending.append((buf, old, buf.seq))
        taken = Taken()
        deadline = time.monotonic() + timeout
        for buf, old, seq in pending:
            if seq & 1 and buf.seq == seq:
                if not wait:
                    self._set_aside.append((buf, old, seq))
                    continue
                while buf.seq == seq and time.monotonic() < deadline:
                    time.sleep(0)  # lets the writer finish its few bytecodes
            seen: set[int] = set()
            for s in old.values():
                if id(s) not in seen:  # aliases of __other__ appear more than once
                    seen.add(id(s))
                    taken.add(s)
        dead = [b for b in buffers if b.alive() is None and b.seq & 1 == 0]
        if dead:
            with self._lock:
                self._buffers = [b for b in self._buffers if b not in dead]
        return taken

    def peek(self) -> Taken:
        """A copy of what the threads hold now, without taking it (for a scrape).

        Tables set aside by the last take are included: their calls are in no window yet.
        Call it under the same lock as ``take``.
        """
        taken = Taken()
        with self._lock:
            tables = [buf.table for buf in self._buffers]
        tables += [table for _, table, _ in self._set_aside]
        for table in tables:
            seen: set[int] = set()
            for s in list(table.values()):
                if id(s) in seen:
                    continue
                seen.add(id(s))
                copy = Series(s.operation)
                # Read in the reverse order of the writes: every call in the cpus copy is
                # also in the two later copies, and its failure or client error (counted
                # before the appends) is in the counters read last. So counters a scrape
                # derives (ok = calls - failures - client errors) never go backwards.
                cpu = list(s.cpus)
                n = len(cpu)
                copy.cpus = cpu
                copy.latencies = list(s.latencies)[:n]
                copy.ends = list(s.ends)[:n]
                copy.failures = dict(s.failures)
                copy.client_errors = s.client_errors
                taken.add(copy)
        return taken

    @property
    def threads(self) -> int:
        return len(self._buffers)
