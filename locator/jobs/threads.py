"""The single-process job queue: a few threads, bounded, results kept for a TTL.

This is the default when ``JOBS_URL`` is empty. Jobs started here can only be
polled on this process; run several web processes with the Redis backend
(:mod:`locator.jobs.redisq`). Threads cannot be given their own memory cap, so
``JOBS_MEMORY_MB`` is only enforced by the Redis backend's work-horses.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from locator import allocator
from locator.errors import LocatorError
from locator.jobs.base import (
    CANCELLED,
    DONE,
    FAILED,
    FINAL,
    QUEUED,
    RUNNING,
    Cancelled,
    JobView,
    Limits,
    QueueFull,
    Task,
    cancelled_error,
    failed_error,
)

_NICENESS = 10
# Longest a job waits to start while pages hold the queue (see ThreadQueue.holding).
HOLD_MAX_S = 2.0


def _lower_priority() -> None:
    # Linux schedules threads separately: let request threads win the CPU over planning.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _NICENESS)


@dataclass
class _Entry:
    id: str
    client: str
    urgent: bool = False
    future: Future[Any] | None = None
    state: str = QUEUED
    progress: str | None = None
    error: LocatorError | None = None
    seen: float = field(default_factory=time.monotonic)
    finished: float | None = None
    stop: threading.Event = field(default_factory=threading.Event)

    def view(self) -> JobView:
        return JobView(self.id, self.state, self.progress, self.error)


class ThreadQueue:
    """A :class:`~locator.jobs.base.JobQueue` run by ``workers`` threads of this process."""

    def __init__(self, *, workers: int = 1, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        allocator.tune()
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers),
                                        thread_name_prefix="locator-job")
        # Urgent jobs (short, with someone waiting) get their own thread at
        # normal priority, so a long run in the pool does not hold them up.
        self._urgent = ThreadPoolExecutor(max_workers=1, thread_name_prefix="locator-job-urgent")
        self._jobs: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._holds = 0
        self._unheld = threading.Event()
        self._unheld.set()

    # -- helpers (called with the lock held) ----------------------------------------------
    def _sweep(self, now: float) -> None:
        lim = self.limits
        for key, e in list(self._jobs.items()):
            if e.state in FINAL:
                if now - max(e.finished or now, e.seen) > lim.result_ttl:
                    del self._jobs[key]
            elif now - e.seen > lim.abandon_after:
                self._cancel(e)

    def _cancel(self, e: _Entry) -> None:
        e.stop.set()
        if e.future is not None and e.future.cancel():
            self._finish(e, CANCELLED, cancelled_error())

    def _finish(self, e: _Entry, state: str, error: LocatorError | None = None) -> None:
        e.state, e.error, e.finished = state, error, time.monotonic()
        self._changed.notify_all()

    def _room(self, client: str) -> None:
        active = [e for e in self._jobs.values() if e.state not in FINAL]
        wait = max(1, round(self.limits.timeout / 4))
        if len(active) >= self.limits.max_queued:
            msg = (f"the planner is busy ({len(active)} jobs waiting or running); "
                   f"retry in {wait} s")
            raise QueueFull(msg, retry_after=wait)
        # A short urgent job (the page's first answer) rides along with the full
        # run it belongs to: it does not take one of the client's places.
        mine = sum(1 for e in active if e.client == client and not e.urgent)
        if mine >= self.limits.per_client:
            msg = (f"you already have {mine} planning jobs waiting or running; "
                   f"collect them first or retry in {wait} s")
            raise QueueFull(msg, retry_after=wait)

    # -- the protocol ---------------------------------------------------------------------
    def submit(self, key: str, fn: Task, kwargs: dict[str, Any], *, client: str,
               urgent: bool = False) -> JobView:
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            e = self._jobs.get(key)
            if e is not None and e.state in (QUEUED, RUNNING, DONE):
                e.seen = now
                return e.view()
            self._room(client)
            e = _Entry(key, client, urgent)
            self._jobs[key] = e
            pool = self._urgent if urgent else self._pool
            e.future = pool.submit(self._run, e, fn, kwargs, urgent)
            return e.view()

    def _run(self, e: _Entry, fn: Task, kwargs: dict[str, Any], urgent: bool = False) -> Any:
        def progress(step: str) -> None:
            with self._lock:
                e.progress = step
                if time.monotonic() - e.seen > self.limits.abandon_after:
                    e.stop.set()
            if e.stop.is_set():
                raise Cancelled(e.id)

        if not urgent:
            # One interpreter: a run starting while a page is drawn would share it.
            self._unheld.wait(HOLD_MAX_S)
            _lower_priority()
        with self._lock:
            if e.stop.is_set():
                self._finish(e, CANCELLED, cancelled_error())
                return None
            e.state = RUNNING
        try:
            out = fn(**kwargs, progress=progress)
        except Cancelled:
            with self._lock:
                self._finish(e, CANCELLED, cancelled_error())
            return None
        except LocatorError as exc:
            with self._lock:
                self._finish(e, FAILED, exc)
            return None
        except Exception as exc:  # any failure becomes the job's error
            with self._lock:
                self._finish(e, FAILED, failed_error(f"planning job failed: {exc}"))
            return None
        finally:
            allocator.trim()
        with self._lock:
            self._finish(e, DONE)
        return out

    def get(self, job_id: str) -> JobView | None:
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            e = self._jobs.get(job_id)
            if e is None:
                return None
            e.seen = now
            return e.view()

    def wait(self, job_id: str, timeout: float) -> JobView | None:
        end = time.monotonic() + max(0.0, timeout)
        with self._lock:
            e = self._jobs.get(job_id)
            while e is not None and e.state not in FINAL:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            if e is not None:
                e.seen = time.monotonic()
            return None if e is None else e.view()

    def result(self, job_id: str) -> Any:
        with self._lock:
            e = self._jobs.get(job_id)
        if e is None or e.state != DONE or e.future is None:
            msg = f"job {job_id} has no result"
            raise KeyError(msg)
        return e.future.result()

    def cancel(self, job_id: str) -> bool:
        with self._lock:
            e = self._jobs.get(job_id)
            if e is None or e.state in FINAL:
                return False
            self._cancel(e)
            return True

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Non-urgent jobs wait to start while the block runs (at most :data:`HOLD_MAX_S`)."""
        with self._lock:
            self._holds += 1
            self._unheld.clear()
        try:
            yield
        finally:
            with self._lock:
                self._holds -= 1
                if self._holds == 0:
                    self._unheld.set()

    def shutdown(self) -> None:
        with self._lock:
            for e in self._jobs.values():
                e.stop.set()
        with contextlib.suppress(RuntimeError):
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._urgent.shutdown(wait=False, cancel_futures=True)
