"""The shared job queue: RQ on Redis, chosen by ``JOBS_URL=redis://...``.

Web processes enqueue and poll; ``locator worker`` processes run the jobs, one
at a time each, in a forked work-horse. So the number of worker processes caps
concurrent jobs, a job's memory can be capped without touching the web process
(``resource.setrlimit`` in the work-horse), and a job started on one web
process can be polled on any other. Job ids are the deterministic keys, so the
same request from anywhere finds the same job.

Each poll refreshes a short-lived "seen" key; the work-horse watches it and
stops its own job when nobody has polled within ``abandon_after``.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import resource
import threading
import time
from contextlib import AbstractContextManager
from typing import Any

from redis import Redis
from rq import Queue, get_current_job
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus

from locator.errors import LocatorError
from locator.jobs.base import (
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    Cancelled,
    JobView,
    Limits,
    QueueFull,
    Task,
    cancelled_error,
    failed_error,
    over_memory,
)

QUEUE = "locator-plan"
_OUT_OF_MEMORY = re.compile(r"out of memory|bad_alloc|cannot allocate", re.IGNORECASE)
_SEEN = "locator:jobs:seen:"
_CLIENT = "locator:jobs:client:"
_STATES = {JobStatus.QUEUED: QUEUED, JobStatus.CREATED: QUEUED, JobStatus.DEFERRED: QUEUED,
           JobStatus.SCHEDULED: QUEUED, JobStatus.STARTED: RUNNING, JobStatus.FINISHED: DONE,
           JobStatus.FAILED: FAILED, JobStatus.STOPPED: CANCELLED,
           JobStatus.CANCELED: CANCELLED}
_LIVE = (QUEUED, RUNNING, DONE)


def connect(url: str) -> Redis:
    return Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


class RedisQueue:
    """A :class:`~locator.jobs.base.JobQueue` shared by every process using ``url``."""

    def __init__(self, url: str, *, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.conn = connect(url)
        self.queue = Queue(QUEUE, connection=self.conn)

    def _fetch(self, job_id: str) -> Job | None:
        try:
            return Job.fetch(job_id, connection=self.conn)
        except NoSuchJobError:
            return None

    def _touch(self, job_id: str) -> None:
        self.conn.set(_SEEN + job_id, 1, ex=max(1, round(self.limits.abandon_after)))

    def _view(self, job: Job) -> JobView:
        state = _STATES.get(job.get_status(refresh=True) or JobStatus.QUEUED, QUEUED)
        meta = job.get_meta(refresh=True)
        error = None
        if state == FAILED:
            e = meta.get("error")
            if e and e.get("code") == "job_cancelled":
                state, error = CANCELLED, cancelled_error()
            elif e:
                error = LocatorError(int(e["status"]), str(e["code"]), str(e["message"]),
                                     e.get("field"))
            else:
                error = failed_error("planning job failed (its worker stopped or timed out)")
        elif state == CANCELLED:
            error = cancelled_error()
        return JobView(job.id, state, meta.get("progress"), error)

    def _room(self, client: str) -> None:
        wait = max(1, round(self.limits.timeout / 4))
        active = self.queue.count + self.queue.started_job_registry.count
        if active >= self.limits.max_queued:
            msg = f"the planner is busy ({active} jobs waiting or running); retry in {wait} s"
            raise QueueFull(msg, retry_after=wait)
        key = _CLIENT + client
        ids = [i.decode() if isinstance(i, bytes) else str(i) for i in self.conn.smembers(key)]
        jobs = Job.fetch_many(ids, connection=self.conn) if ids else []
        gone = [i for i, j in zip(ids, jobs, strict=True)
                if j is None or _STATES.get(j.get_status(refresh=False) or JobStatus.QUEUED)
                not in (QUEUED, RUNNING)]
        if gone:
            self.conn.srem(key, *gone)
        mine = len(ids) - len(gone)
        if mine >= self.limits.per_client:
            msg = (f"you already have {mine} planning jobs waiting or running; "
                   f"collect them first or retry in {wait} s")
            raise QueueFull(msg, retry_after=wait)

    def submit(self, key: str, fn: Task, kwargs: dict[str, Any], *, client: str,
               urgent: bool = False) -> JobView:
        job = self._fetch(key)
        if job is not None:
            view = self._view(job)
            if view.state in _LIVE:
                self._touch(key)
                return view
            job.delete()
        self._room(client)
        self._touch(key)
        lim = self.limits
        job = self.queue.enqueue_call(
            perform, kwargs={"task": f"{fn.__module__}:{fn.__qualname__}", "kwargs": kwargs,
                             "memory_mb": lim.memory_mb, "abandon_after": lim.abandon_after},
            job_id=key, timeout=max(1, round(lim.timeout)),
            result_ttl=max(1, round(lim.result_ttl)), failure_ttl=max(1, round(lim.result_ttl)),
            at_front=urgent)
        if not urgent:
            # A short urgent job (the page's first answer) rides along with the
            # full run it belongs to: it does not take one of the client's places.
            self.conn.sadd(_CLIENT + client, key)
            self.conn.expire(_CLIENT + client, max(1, round(lim.timeout + lim.abandon_after)))
        return self._view(job)

    def get(self, job_id: str) -> JobView | None:
        job = self._fetch(job_id)
        if job is None:
            return None
        self._touch(job_id)
        return self._view(job)

    def wait(self, job_id: str, timeout: float) -> JobView | None:
        end = time.monotonic() + max(0.0, timeout)
        while True:
            view = self.get(job_id)
            if view is None or view.final or time.monotonic() >= end:
                return view
            # Each look is a few Redis round trips on a web thread: look a few times a second.
            time.sleep(min(0.25, max(0.0, end - time.monotonic())))

    def result(self, job_id: str) -> Any:
        job = self._fetch(job_id)
        if job is None or job.get_status(refresh=True) != JobStatus.FINISHED:
            msg = f"job {job_id} has no result"
            raise KeyError(msg)
        return job.return_value()

    def cancel(self, job_id: str) -> bool:
        job = self._fetch(job_id)
        if job is None:
            return False
        status = job.get_status(refresh=True)
        if status == JobStatus.STARTED:
            try:
                send_stop_job_command(self.conn, job_id)
            except InvalidJobOperation:
                return False
            return True
        if _STATES.get(status or JobStatus.QUEUED) == QUEUED:
            job.cancel()
            return True
        return False

    def holding(self) -> AbstractContextManager[None]:
        # Jobs run in the work-horses' processes: nothing here competes with the page.
        return contextlib.nullcontext()

    def shutdown(self) -> None:
        self.conn.close()


# -- inside the work-horse ----------------------------------------------------------------
def _address_space() -> int:
    with open("/proc/self/statm", encoding="ascii") as fh:  # noqa: PTH123
        pages = int(fh.read().split()[0])
    return pages * resource.getpagesize()


def _cap_memory(memory_mb: int) -> None:
    """Let this work-horse grow by ``memory_mb`` beyond what it inherited, no more."""
    if memory_mb <= 0:
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = _address_space() + memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def _watch(job: Job, conn: Redis, stop: threading.Event) -> None:
    # Nobody polled within the abandon timeout: ask our worker to stop this job.
    while not stop.wait(0.5):
        if not conn.exists(_SEEN + job.id):
            job.meta["abandoned"] = True
            job.save_meta()
            send_stop_job_command(conn, job.id)
            return


def perform(*, task: str, kwargs: dict[str, Any], memory_mb: int,
            abandon_after: float) -> Any:
    """Run ``task`` (``module:function``) in this work-horse under the job's limits."""
    job = get_current_job()
    assert job is not None
    conn = job.connection

    def progress(step: str) -> None:
        job.meta["progress"] = step
        job.save_meta()
        if not conn.exists(_SEEN + job.id):
            raise Cancelled(job.id)

    def fail(error: LocatorError) -> None:
        job.meta["error"] = error.to_dict()
        job.save_meta()

    module, _, name = task.partition(":")
    fn = getattr(importlib.import_module(module), name)
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(job, conn, stop), daemon=True)
    watcher.start()
    try:
        _cap_memory(memory_mb)
        return fn(**kwargs, progress=progress)
    except Cancelled:
        fail(cancelled_error())
        raise
    except MemoryError:
        fail(over_memory(memory_mb))
        raise
    except LocatorError as exc:
        fail(exc)
        raise
    except Exception as exc:
        # Libraries under the cap (PROJ, GEOS, GDAL) report failed allocations in their own words.
        if memory_mb > 0 and _OUT_OF_MEMORY.search(str(exc)):
            fail(over_memory(memory_mb))
        raise
    finally:
        stop.set()
