"""waitress's request threads with reads ahead of writes.

waitress hands every complete request to its threads in one first-come queue.
When fifty workers submit reports at once, a map reader's ``GET`` lands behind
all fifty and waits for them, though it needs a few milliseconds itself. Here
there are two lanes: reads (``GET``, ``HEAD``, ``OPTIONS``) go first, and
writes (every other method) never hold more than all threads but one, so a
read finds a thread at once. Writes keep their order among themselves, and one
that has waited ``WRITE_PATIENCE_S`` goes before waiting reads, so a flood of
reads slows writes down but cannot stop them.

Writes also have threads of their own (``write_threads``), which reads never
take. A report spends most of its time waiting for the group commit that makes
it durable (:mod:`locator.living.groupcommit`), holding a thread but not the
processor, and a commit can only gather the writes that hold threads: sharing
eight threads with reads, fifty reports arriving together were written seven
at a time, one disk flush per seven.
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

    def __init__(self, threads: int, write_threads: int = 0) -> None:
        super().__init__()
        self.reads: deque[Any] = deque()
        self.writes: deque[tuple[float, Any]] = deque()
        self.writing = 0
        self.reading = 0
        # Reads use the request threads; writes those and their own, all but one thread.
        self.max_reads = threads
        total = threads + max(0, write_threads)
        self.max_writes = max(1, total - 1)
        self.set_thread_count(total)

    def add_task(self, task: Any) -> None:
        with self.lock:
            read = is_read(task)
            if read:
                self.reads.append(task)
            else:
                self.writes.append((time.monotonic(), task))
            busy = self.reading >= self.max_reads if read else self.writing >= self.max_writes
            if busy or self.active_count >= len(self.threads):
                # Every thread is busy: the request waits (a rate-limited log, see heads).
                self.queue_logger.warning("Task queue depth is %d",
                                          len(self.reads) + len(self.writes))
            self.queue_cv.notify()

    def _next(self) -> tuple[Any, bool] | None:
        """The task a free thread takes now, and whether it is a write; None to wait."""
        can_write = bool(self.writes) and self.writing < self.max_writes
        can_read = bool(self.reads) and self.reading < self.max_reads
        if can_write and (not can_read
                          or time.monotonic() - self.writes[0][0] >= WRITE_PATIENCE_S):
            return self.writes.popleft()[1], True
        if can_read:
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
                self.reading += not write
            try:
                task.service()
            except BaseException:
                self.logger.exception("Exception when servicing %r", task)
            finally:
                with self.lock:
                    if write:
                        self.writing -= 1
                    else:
                        self.reading -= 1
                    self.queue_cv.notify()

    def shutdown(self, cancel_pending: bool = True, timeout: int = 5) -> bool:
        # The base class cancels what is left in its own queue: hand it both lanes.
        with self.lock:
            self.queue.extend(self.reads)
            self.queue.extend(task for _, task in self.writes)
            self.reads.clear()
            self.writes.clear()
        return bool(super().shutdown(cancel_pending, timeout))
