"""``locator worker``: run planner jobs from the shared queue (``JOBS_URL``)."""

from __future__ import annotations

import logging
import os

import click

from locator import config

JOB_NICENESS = 10


@click.command("worker")
@click.option("--url", default=None, help="Redis URL (default: setting JOBS_URL).")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
def worker(url: str | None, burst: bool) -> None:
    """Run planner jobs from the shared Redis queue, one at a time.

    Start as many as jobs may run at once (each runs one job, in a forked
    work-horse whose memory is capped by JOBS_MEMORY_MB).
    """
    from rq import Queue, Worker

    from locator.jobs import redisq
    from locator.planning import job
    from locator.stations import dataset
    from locator.storage import files

    values = config.load(instance_path=config.ROOT / "instance")
    target = url or values["JOBS_URL"]
    if not target:
        msg = "no queue: set JOBS_URL (e.g. redis://127.0.0.1:6379/0) or pass --url"
        raise click.UsageError(msg)
    # Loaded once here so each forked work-horse starts with the live data in memory.
    path = files.DataDir(values["DATA_DIR"]).live_path(values["DATA_PATH"])
    try:
        job.remember(dataset.read(path), keep=True)
    except (OSError, ValueError) as exc:
        click.echo(f"live dataset not preloaded ({exc}); jobs will read their own", err=True)
    # Planning yields the CPU to the web processes on the same machine, so the
    # nearest API stays quick while jobs run.
    os.nice(JOB_NICENESS)
    logging.basicConfig(level=logging.INFO)
    conn = redisq.connect(target)
    w = Worker([Queue(redisq.QUEUE, connection=conn)], connection=conn)
    click.echo(f"locator worker {w.name} on {target}", err=True)
    w.work(burst=burst, logging_level="INFO")
