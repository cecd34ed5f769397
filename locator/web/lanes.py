"""waitress's request threads with reads ahead of writes.

waitress hands every complete request to its threads in one first-come queue.
When fifty workers submit reports at once, a map reader's ``GET`` lands behind
all fifty and waits for them, though it needs a few milliseconds itself. Here
there are two lanes: reads (``GET``, ``HEAD``, ``OPTIONS``) go first, and
writes (every other method) never hold more than all request threads but
one, so a read finds a thread at once. Writes keep their order among themselves, and one
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

import threading
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
    """A ``ThreadedTaskDispatcher`` with a read lane served first and a bounded write lane.

    Threads ``0 .. threads - 1`` are request threads: they take reads first, and
    writes while the write lane has room. The ``write_threads`` after them take
    writes only and wait on a condition of their own, so an answer to a read
    never wakes one of them.
    """

    def __init__(self, threads: int, write_threads: int = 0) -> None:
        super().__init__()
        self.reads: deque[Any] = deque()
        self.writes: deque[tuple[float, Any]] = deque()
        self.writing = 0
        self.reading = 0
        self.write_idle = 0
        self.write_cv = threading.Condition(self.lock)
        write_threads = max(0, write_threads)
        # Reads use the request threads; writes their own threads and all request
        # threads but one, so that one is always there for a read.
        self.max_reads = threads
        self.req_writes = threads - 1 if write_threads else max(1, threads - 1)
        self.req_writing = 0
        self.max_writes = write_threads + self.req_writes
        self.set_thread_count(threads + write_threads)

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
            if not read and self.write_idle:
                # Counted off here, not by the thread once it runs: the next write
                # must see that this thread is taken and wake another.
                self.write_idle -= 1
                self.write_cv.notify()
            else:
                self.queue_cv.notify()

    def set_thread_count(self, count: int) -> None:
        super().set_thread_count(count)
        with self.lock:
            if self.stop_count:  # write threads asked to stop are waiting here
                self.write_idle = 0
                self.write_cv.notify_all()

    def _next(self) -> tuple[Any, bool] | None:
        """The task a free request thread takes now, and whether it is a write; None to wait."""
        can_write = bool(self.writes) and self.req_writing < self.req_writes
        can_read = bool(self.reads) and self.reading < self.max_reads
        if can_write and (not can_read
                          or time.monotonic() - self.writes[0][0] >= WRITE_PATIENCE_S):
            return self.writes.popleft()[1], True
        if can_read:
            return self.reads.popleft(), False
        return None

    def _next_write(self) -> tuple[Any, bool] | None:
        """The write a free write thread takes now; None to wait."""
        if self.writes:
            return self.writes.popleft()[1], True
        return None

    def handler_thread(self, thread_no: int) -> None:
        writer = thread_no >= self.max_reads
        pick, cv = (self._next_write, self.write_cv) if writer else (self._next, self.queue_cv)
        while True:
            with self.lock:
                picked = pick()
                while picked is None and self.stop_count == 0:
                    self.active_count -= 1
                    self.write_idle += writer
                    cv.wait()
                    self.active_count += 1
                    picked = pick()
                if picked is None:
                    self.active_count -= 1
                    self.stop_count -= 1
                    self.threads.discard(thread_no)
                    self.thread_exit_cv.notify()
                    return
                task, write = picked
                self.writing += write
                self.req_writing += write and not writer
                self.reading += not write
            try:
                task.service()
            except BaseException:
                self.logger.exception("Exception when servicing %r", task)
            finally:
                # No one to wake: this thread takes the next task itself, and waking
                # another for every answer cost a thread switch per request.
                with self.lock:
                    self.writing -= write
                    self.req_writing -= write and not writer
                    self.reading -= not write

    def shutdown(self, cancel_pending: bool = True, timeout: int = 5) -> bool:
        # The base class cancels what is left in its own queue: hand it both lanes.
        with self.lock:
            self.queue.extend(self.reads)
            self.queue.extend(task for _, task in self.writes)
            self.reads.clear()
            self.writes.clear()
        return bool(super().shutdown(cancel_pending, timeout))
