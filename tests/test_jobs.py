"""The in-process job queue: one run per key, bounds, abandonment, results kept for a TTL."""

from __future__ import annotations

import threading
import time

import pytest

from locator.jobs.base import CANCELLED, DONE, FAILED, Limits, QueueFull
from locator.jobs.threads import ThreadQueue


def _gate(gate: threading.Event, runs: list[int], *, progress) -> int:
    progress("waiting")
    gate.wait(5)
    runs.append(1)
    progress("done")
    return 42


def _flaky(calls: list[int], *, progress) -> int:
    calls.append(1)
    if len(calls) == 1:
        msg = "first try fails"
        raise RuntimeError(msg)
    return 7


def test_submit_does_not_wait_and_shares_one_run_per_key():
    q = ThreadQueue(workers=1)
    gate, runs = threading.Event(), []
    view = q.submit("a", _gate, {"gate": gate, "runs": runs}, client="c")
    assert view.state in ("queued", "running")
    assert q.submit("a", _gate, {"gate": gate, "runs": runs}, client="c").id == view.id
    gate.set()
    assert q.wait("a", 5).state == DONE
    assert q.result("a") == 42 and runs == [1]
    q.submit("a", _gate, {"gate": gate, "runs": runs}, client="c")
    assert runs == [1]
    q.shutdown()


def test_failures_are_kept_then_retried():
    q = ThreadQueue(workers=1)
    calls: list[int] = []
    q.submit("f", _flaky, {"calls": calls}, client="c")
    view = q.wait("f", 5)
    assert view.state == FAILED and "first try fails" in view.error.message
    q.submit("f", _flaky, {"calls": calls}, client="c")
    assert q.wait("f", 5).state == DONE and q.result("f") == 7 and len(calls) == 2
    q.shutdown()


def test_queue_and_client_bounds_answer_queue_full():
    q = ThreadQueue(workers=1, limits=Limits(max_queued=3, per_client=2))
    gate, runs = threading.Event(), []
    q.submit("a", _gate, {"gate": gate, "runs": runs}, client="one")
    q.submit("b", _gate, {"gate": gate, "runs": runs}, client="one")
    with pytest.raises(QueueFull) as per_client:
        q.submit("c", _gate, {"gate": gate, "runs": runs}, client="one")
    assert per_client.value.status == 429 and per_client.value.retry_after >= 1
    q.submit("c", _gate, {"gate": gate, "runs": runs}, client="two")
    with pytest.raises(QueueFull):
        q.submit("d", _gate, {"gate": gate, "runs": runs}, client="three")
    gate.set()
    for key in "abc":
        assert q.wait(key, 5).state == DONE
    # Finished jobs no longer count against either bound.
    q.submit("d", _gate, {"gate": gate, "runs": runs}, client="one")
    assert q.wait("d", 5).state == DONE and len(runs) == 4
    q.shutdown()


def test_abandoned_job_is_cancelled_and_results_expire():
    q = ThreadQueue(workers=1, limits=Limits(abandon_after=0.3, result_ttl=5))
    steps: list[str] = []
    stop = threading.Event()

    def looping(*, progress) -> None:
        for i in range(100):
            steps.append(str(i))
            progress(str(i))
            time.sleep(0.05)
        stop.set()

    q.submit("loop", looping, {}, client="c")
    time.sleep(1.0)  # nobody polls
    view = q.get("loop")
    assert view is not None and view.state == CANCELLED
    assert not stop.is_set() and len(steps) < 30
    q.shutdown()
    q = ThreadQueue(workers=1, limits=Limits(abandon_after=5, result_ttl=0.5))
    q.submit("quick", lambda *, progress: 1, {}, client="c")
    assert q.wait("quick", 5).state == DONE
    time.sleep(0.3)
    assert q.get("quick") is not None  # still valid: polled within the TTL
    time.sleep(0.8)
    assert q.get("quick") is None
    q.shutdown()


def _started(at: list[float], *, progress) -> int:
    at.append(time.monotonic())
    return 1


def test_jobs_queued_while_a_page_holds_the_queue_start_after_it():
    q = ThreadQueue(workers=1)
    full, urgent = [], []
    with q.holding():
        held_from = time.monotonic()
        q.submit("full", _started, {"at": full}, client="c")
        q.submit("first", _started, {"at": urgent}, client="c", urgent=True)
        # The answer someone waits for runs at once; the queued run waits for the page.
        assert q.wait("first", 5).state == DONE
        time.sleep(0.3)
        assert full == []
        released = time.monotonic()
    assert q.wait("full", 5).state == DONE
    assert urgent[0] - held_from < 0.3 <= full[0] - held_from
    assert full[0] >= released
    q.shutdown()


def test_a_hold_never_keeps_a_job_waiting_longer_than_its_bound(monkeypatch):
    from locator.jobs import threads

    monkeypatch.setattr(threads, "HOLD_MAX_S", 0.2)
    q = ThreadQueue(workers=1)
    at: list[float] = []
    with q.holding():
        t0 = time.monotonic()
        q.submit("full", _started, {"at": at}, client="c")
        assert q.wait("full", 5).state == DONE
    assert 0.15 <= at[0] - t0 < 2.0
    q.shutdown()
