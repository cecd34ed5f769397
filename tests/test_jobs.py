"""Background jobs: submit returns at once, one run per key, bounded cache, retry on failure."""

from __future__ import annotations

import threading

import pytest

from locator.jobs.threads import Jobs


def test_submit_does_not_wait_and_shares_one_run_per_key():
    jobs = Jobs(workers=1, keep=2)
    gate = threading.Event()
    runs: list[int] = []

    def slow() -> int:
        gate.wait(5)
        runs.append(1)
        return 42

    job = jobs.submit("a", slow)
    assert job.state == "running"
    assert jobs.submit("a", slow) is job
    gate.set()
    assert job.future.result(timeout=5) == 42
    assert job.state == "done" and runs == [1]
    assert jobs.submit("a", slow) is job and runs == [1]
    jobs.shutdown()


def test_cache_is_bounded_and_failures_are_retried():
    jobs = Jobs(workers=1, keep=2)
    for key in ("a", "b", "c"):
        jobs.submit(key, lambda: 1).future.result(timeout=5)
    assert jobs.get("a") is None and jobs.get("c") is not None
    calls: list[int] = []

    def flaky() -> int:
        calls.append(1)
        if len(calls) == 1:
            msg = "first try fails"
            raise RuntimeError(msg)
        return 7

    first = jobs.submit("f", flaky)
    with pytest.raises(RuntimeError):
        first.future.result(timeout=5)
    assert first.state == "failed"
    second = jobs.submit("f", flaky)
    assert second is not first and second.future.result(timeout=5) == 7
    jobs.shutdown()
