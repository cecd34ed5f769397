"""Group commit: one writer thread files many requests' writes in one transaction.

Under a burst, a report's own statements cost little next to what surrounds
them: taking the database's write lock, the commit's flush to disk, and every
return from the database, which must wait for the interpreter lock while other
request threads parse, validate and answer. A :class:`Batcher` runs a single
writer thread per database (and process) that takes every job waiting when it
is free and hands them to one call, so a burst pays those costs once per group
instead of once per report.

Nothing is less durable for it: a request returns only after the transaction
holding its job has committed (or failed), and it gets that job's own outcome.
A job whose request gave up waiting before the writer took it is never written.
The writer thread ends when it has been idle a while and is started again by
the next job, so apps made and dropped (tests, scripts) leave no threads behind.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Generic, TypeVar

J = TypeVar("J")
R = TypeVar("R")

# Outcomes of a group: one per job, in order, each a result or the exception to raise.
Run = Callable[[Sequence[J]], Sequence["R | BaseException"]]


class BusyError(Exception):
    """The writer did not take the job in time; it was not written."""


class Batcher(Generic[J, R]):
    """A writer thread that hands waiting jobs to ``run`` in groups of at most ``most``."""

    def __init__(self, run: Run[J, R], *, most: int = 64, idle_s: float = 5.0,
                 name: str = "locator-writer") -> None:
        self._run = run
        self._most = most
        self._idle_s = idle_s
        self._name = name
        self._jobs: deque[tuple[J, Future[R]]] = deque()
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def submit(self, job: J, *, wait_s: float) -> R:
        """Queue ``job``, wait until its group has been written, and return its result.

        Raises the job's own exception, or :class:`BusyError` when the writer has not
        taken it within ``wait_s`` seconds (it is then dropped, never written).
        Once taken, the job is waited for to the end: the group's transaction is
        bounded by the database's own timeouts, and an answer must say what happened.
        """
        done: Future[R] = Future()
        with self._cv:
            if self._pid != os.getpid():  # forked: the parent's thread is not ours
                self._jobs.clear()
                self._thread, self._pid = None, os.getpid()
            self._jobs.append((job, done))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name=self._name)
                self._thread.start()
            self._cv.notify()
        try:
            return done.result(timeout=wait_s)
        except FutureTimeout:
            if done.cancel():
                raise BusyError from None
            return done.result()

    def _take(self) -> list[tuple[J, Future[R]]] | None:
        """The next group (cancelled jobs left out); None when idle long enough to stop."""
        with self._cv:
            while not self._jobs:
                if not self._cv.wait(self._idle_s) and not self._jobs:
                    self._thread = None
                    return None
            group: list[tuple[J, Future[R]]] = []
            while self._jobs and len(group) < self._most:
                job, done = self._jobs.popleft()
                if done.set_running_or_notify_cancel():
                    group.append((job, done))
            return group

    def _loop(self) -> None:
        while (group := self._take()) is not None:
            if not group:
                continue
            try:
                outcomes = list(self._run([job for job, _ in group]))
                if len(outcomes) != len(group):
                    raise RuntimeError(f"{len(outcomes)} outcomes for {len(group)} jobs")
            except BaseException as err:  # the writer must outlive any one group
                outcomes = [err] * len(group)
            for (_, done), got in zip(group, outcomes, strict=True):
                if isinstance(got, BaseException):
                    done.set_exception(got)
                else:
                    done.set_result(got)
