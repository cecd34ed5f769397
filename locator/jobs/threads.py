"""Background planning jobs: computed once per key, never on a request thread.

A :class:`Jobs` pool runs functions in a small thread pool and keeps the most
recent results per key (parameters plus dataset version), so a page can ask
for a result, get a job id at once, and poll until it is done.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Job:
    id: str
    future: Future[Any]
    started: float = field(default_factory=time.monotonic)

    @property
    def state(self) -> str:
        if not self.future.done():
            return "running"
        return "failed" if self.future.exception() is not None else "done"


class Jobs:
    """A keyed, bounded cache of background computations."""

    def __init__(self, *, workers: int = 1, keep: int = 16) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers),
                                        thread_name_prefix="locator-plan")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = max(1, keep)

    def submit(self, key: str, fn: Callable[[], Any]) -> Job:
        """The job for ``key``, started now unless it is running or done."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.state != "failed":
                self._jobs.move_to_end(key)
                return job
            job = Job(key, self._pool.submit(fn))
            self._jobs[key] = job
            while len(self._jobs) > self._keep:
                self._jobs.popitem(last=False)
            return job

    def get(self, key: str) -> Job | None:
        with self._lock:
            return self._jobs.get(key)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
