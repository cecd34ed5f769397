"""What every job queue offers, whichever backend runs the jobs.

A job is identified by a deterministic key (the planner uses its parameters
plus the dataset version), so asking twice for the same work shares one run
and any web process can find a job another one started. A queue is bounded:
when it is full, or one client already has its share of jobs waiting, submit
raises :class:`QueueFull` (HTTP 429 with ``Retry-After``). A job nobody polls
within the abandon timeout is cancelled, and a finished job is kept until its
key expires, so an id handed out stays answerable for that long.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from locator.errors import LocatorError

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINAL = (DONE, FAILED, CANCELLED)

#: A job function: keyword arguments, plus ``progress`` to report a step by name.
#: ``progress`` raises :class:`Cancelled` once nobody wants the result any more.
Task = Callable[..., Any]


class Cancelled(Exception):  # noqa: N818 - a signal, not a failure
    """Raised inside a job when it was cancelled or abandoned."""


@dataclass(frozen=True)
class Limits:
    """Bounds shared by every backend.

    Parameters
    ----------
    max_queued
        Jobs waiting or running at once, in this process (threads) or in the
        whole shared queue (Redis).
    per_client
        Jobs one client address may have waiting or running.
    result_ttl
        Seconds a finished job's result (or error) stays answerable.
    abandon_after
        Seconds without a poll after which an unfinished job is cancelled.
    memory_mb
        Memory one job may add to its process, where the backend can enforce it.
    timeout
        Seconds one job may run before it is stopped.
    """

    max_queued: int = 8
    per_client: int = 2
    result_ttl: float = 600.0
    abandon_after: float = 30.0
    memory_mb: int = 1024
    timeout: float = 120.0

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> Limits:
        return cls(max_queued=max(1, int(cfg["JOBS_MAX_QUEUED"])),
                   per_client=max(1, int(cfg["JOBS_MAX_PER_CLIENT"])),
                   result_ttl=float(cfg["JOBS_RESULT_TTL"]),
                   abandon_after=float(cfg["JOBS_ABANDON_SECONDS"]),
                   memory_mb=int(cfg["JOBS_MEMORY_MB"]),
                   timeout=float(cfg["JOBS_TIMEOUT"]))


@dataclass(frozen=True)
class JobView:
    """One look at a job: its id, state, last progress step and outcome."""

    id: str
    state: str
    progress: str | None = None
    error: LocatorError | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL


class QueueFull(LocatorError):  # noqa: N818 - reads as the condition it reports
    """The queue, or this client's share of it, is full: retry later."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(429, "too_many_jobs", message)
        self.retry_after = retry_after


def over_memory(limit_mb: int) -> LocatorError:
    """The error a job gets when it needs more memory than its cap."""
    return LocatorError(
        507, "job_over_memory_limit",
        f"this planning job needed more than its memory limit of {limit_mb} MB "
        "(setting JOBS_MEMORY_MB); ask for fewer kinds, fewer sites or a coarser grid")


def failed_error(message: str) -> LocatorError:
    return LocatorError(500, "job_failed", message)


def cancelled_error() -> LocatorError:
    return LocatorError(409, "job_cancelled",
                        "this planning job was cancelled (nobody polled it in time); "
                        "ask again to start it anew")


class JobQueue(Protocol):
    """A bounded queue of keyed jobs (see the module docstring)."""

    def submit(self, key: str, fn: Task, kwargs: dict[str, Any], *, client: str,
               urgent: bool = False) -> JobView:
        """The job for ``key``, started now unless one is queued, running or done.

        An ``urgent`` job is short and someone waits on it: it goes ahead of the
        queue and is not lowered in priority. Raises :class:`QueueFull` when no
        room is left for a new job.
        """
        ...

    def get(self, job_id: str) -> JobView | None:
        """The job's state, or None once it expired; a look counts as a poll."""
        ...

    def wait(self, job_id: str, timeout: float) -> JobView | None:
        """Like :meth:`get`, after waiting up to ``timeout`` seconds for it to finish."""
        ...

    def result(self, job_id: str) -> Any:
        """The finished job's return value (only for a job in state ``done``)."""
        ...

    def cancel(self, job_id: str) -> bool:
        """Stop the job if it is not finished; True when it was."""
        ...

    def holding(self) -> AbstractContextManager[None]:
        """While the block runs, jobs this process would start wait (a bounded time).

        A page drawing an answer for someone waiting uses it, so that the run it
        has just queued behind that answer does not take half the processor from
        it. Backends whose jobs run in other processes need not hold anything.
        """
        ...

    def shutdown(self) -> None:
        ...
