"""A planning run as a queued job: everything it needs travels as plain values.

The web layer submits :func:`plan` to whichever job queue is configured. In the
web process the live dataset is handed over with :func:`remember`; a worker
process reads the dataset file named in the job and checks its version, so a
job never runs against data other than the version in its key.
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from locator import config
from locator.errors import LocatorError
from locator.planning import runs
from locator.stations import dataset
from locator.stations.dataset import Dataset

_lock = threading.Lock()
# Handed over by the web layer, whose store owns them: held weakly, so a replaced
# version is freed once its jobs finish instead of living on here.
_known: weakref.WeakValueDictionary[str, Dataset] = weakref.WeakValueDictionary()
# Read by this module (a worker process): the newest one is kept for the next job.
_read: list[Dataset] = []


def remember(ds: Dataset, *, keep: bool = False) -> None:
    """Let jobs of ``ds``'s version in this process use ``ds``.

    With ``keep`` this module holds it (replacing the one it held before);
    otherwise only while its owner, the web layer's store, does.
    """
    with _lock:
        _known[ds.version] = ds
        if keep:
            _read[:] = [ds]


def _dataset(version: str, path: str) -> Dataset:
    with _lock:
        ds = _known.get(version)
    if ds is None:
        ds = dataset.read(path)
        if ds.version != version:
            msg = (f"the dataset changed while this job waited (asked for {version}, "
                   f"found {ds.version}); ask again")
            raise LocatorError(409, "dataset_changed", msg)
        remember(ds, keep=True)
    return ds


def settings(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a run reads, as plain values a worker can receive."""
    return {name: cfg[name] for name in config.BY_NAME if name in cfg}


def plan(*, params: dict[str, Any], version: str, path: str, cfg: dict[str, Any],
         progress: Callable[[str], None], first: bool = False) -> runs.Plan:
    """Run the plan ``params`` describes on dataset ``version`` (read from ``path``).

    ``first`` asks for the fast first answer of :func:`locator.planning.runs.run`.
    """
    p = runs.PlanParams(**{**params, "kinds": tuple(params["kinds"])})
    out = runs.run(p, _dataset(version, path), cfg, progress=progress, first=first)
    # The grid-sized coverage arrays are only for the command line; results are kept a while.
    return dataclasses.replace(out, cov=None)
