"""waitress's request threads with reads ahead of writes.

waitress hands every complete request to its threads in one first-come queue.
When fifty workers submit reports at once, a map reader's ``GET`` lands behind
all fifty and waits for them, though it needs a few milliseconds itself. Here
there are two lanes: reads (``GET``, ``HEAD``, ``OPTIONS``) go first, and
writes (every other method) never hold more than all threads but one, so a
read finds a thread at once. Writes keep their order among themselves, and one
that has waited ``WRITE_PATIENCE_S`` goes before waiting reads, so a flood of
reads slows writes down but cannot stop them.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from waitress.task import ThreadedTaskDispatcher

READS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_PATIENCE_S = 1.0


def is_read(task: Any) -> bool:
    """Whether a waitress channel's next request is a read."""
    requests = getattr(task, "requests", None)
    command = getattr(requests[0], "command", None) if requests else None
    # A request that failed to parse has no method yet: its error answer is cheap.
    return command is None or str(command).upper() in READS


class LaneDispatcher(ThreadedTaskDispatcher):
    """A ``ThreadedTaskDispatcher`` with a read lane served first and a bounded write lane."""

    def __init__(self, threads: int) -> None:
        super().__init__()
        self.reads: deque[Any] = deque()
        self.writes: deque[tuple[float, Any]] = deque()
        self.writing = 0
        self.max_writes = max(1, threads - 1)
        self.set_thread_count(threads)

    def add_task(self, task: Any) -> None:
        with self.lock:
            if is_read(task):
                self.reads.append(task)
            else:
                self.writes.append((time.monotonic(), task))
            if self.active_count >= len(self.threads):
                # Every thread is busy: the request waits (a rate-limited log, see heads).
                self.queue_logger.warning("Task queue depth is %d",
                                          len(self.reads) + len(self.writes))
            self.queue_cv.notify()

    def _next(self) -> tuple[Any, bool] | None:
        """The task a free thread takes now, and whether it is a write; None to wait."""
        can_write = bool(self.writes) and self.writing < self.max_writes
        if can_write and (not self.reads
                          or time.monotonic() - self.writes[0][0] >= WRITE_PATIENCE_S):
            return self.writes.popleft()[1], True
        if self.reads:
            return self.reads.popleft(), False
        return None

    def handler_thread(self, thread_no: int) -> None:
        while True:
            with self.lock:
                picked = self._next()
                while picked is None and self.stop_count == 0:
                    self.active_count -= 1
                    # Woken by a new task, or by a write ending (a write may go then).
                    self.queue_cv.wait()
                    self.active_count += 1
                    picked = self._next()
                if picked is None:
                    self.active_count -= 1
                    self.stop_count -= 1
                    self.threads.discard(thread_no)
                    self.thread_exit_cv.notify()
                    return
                task, write = picked
                self.writing += write
            try:
                task.service()
            except BaseException:
                self.logger.exception("Exception when servicing %r", task)
            finally:
                if write:
                    with self.lock:
                        self.writing -= 1
                        self.queue_cv.notify()

    def shutdown(self, cancel_pending: bool = True, timeout: int = 5) -> bool:
        # The base class cancels what is left in its own queue: hand it both lanes.
        with self.lock:
            self.queue.extend(self.reads)
            self.queue.extend(task for _, task in self.writes)
            self.reads.clear()
            self.writes.clear()
        return bool(super().shutdown(cancel_pending, timeout))
