"""The request threads' lanes: a read waiting behind writes is served first."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from locator.web.lanes import LaneDispatcher, is_read


class _Task:
    def __init__(self, method: str, log: list[str], hold: threading.Event | None = None):
        self.requests = [SimpleNamespace(command=method)]
        self.method, self.log, self.hold = method, log, hold

    def service(self) -> None:
        if self.hold is not None:
            self.hold.wait(5)
        self.log.append(self.method)


def _until(done, deadline: float) -> None:
    """Wait until ``done()`` holds or the monotonic ``deadline`` passes."""
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_methods_are_sorted_into_lanes():
    assert is_read(_Task("GET", []))
    assert is_read(_Task("head", []))
    assert not is_read(_Task("POST", []))
    assert not is_read(_Task("PATCH", []))


def test_a_read_overtakes_queued_writes_and_writes_leave_a_thread_free():
    d = LaneDispatcher(2)  # writes may hold one thread of the two
    log: list[str] = []
    gate = threading.Event()
    try:
        d.add_task(_Task("POST", log, gate))  # holds the one write thread
        time.sleep(0.1)
        for _ in range(5):
            d.add_task(_Task("POST", log))
        d.add_task(_Task("GET", log))
        deadline = time.monotonic() + 5
        _until(lambda: "GET" in log, deadline)
        # The read was served by the free thread while every write still waited.
        assert log == ["GET"]
        gate.set()
        _until(lambda: len(log) >= 7, deadline)
        assert log == ["GET"] + ["POST"] * 6
    finally:
        gate.set()
        d.shutdown(timeout=2)


def test_write_threads_let_more_writes_wait_together_and_reads_keep_a_thread():
    # Two request threads and four for writes: five writes may be under way at once
    # (their four and the request threads but one), and a read still goes at once.
    d = LaneDispatcher(2, 4)
    log: list[str] = []
    gate = threading.Event()
    try:
        assert len(d.threads) == 6 and d.max_writes == 5
        for _ in range(7):
            d.add_task(_Task("POST", log, gate))
        deadline = time.monotonic() + 5
        _until(lambda: d.writing >= 5, deadline)
        time.sleep(0.1)
        assert d.writing == 5 and len(d.writes) == 2
        d.add_task(_Task("GET", log))
        _until(lambda: "GET" in log, deadline)
        assert log == ["GET"]
        gate.set()
        _until(lambda: len(log) >= 8, deadline)
        assert log == ["GET"] + ["POST"] * 7
    finally:
        gate.set()
        d.shutdown(timeout=2)


def test_reads_never_take_the_write_threads():
    d = LaneDispatcher(2, 4)
    log: list[str] = []
    gate = threading.Event()
    try:
        for _ in range(5):
            d.add_task(_Task("GET", log, gate))
        time.sleep(0.2)
        assert d.reading == 2 and len(d.reads) == 3
        d.add_task(_Task("POST", log))  # a write still finds one of its own threads
        deadline = time.monotonic() + 5
        _until(lambda: "POST" in log, deadline)
        assert log == ["POST"]
        gate.set()
        _until(lambda: len(log) >= 6, deadline)
        assert log == ["POST"] + ["GET"] * 5
    finally:
        gate.set()
        d.shutdown(timeout=2)
