"""Following the live version from a running server, and choosing what to serve.

:func:`load_best` loads the live version at start-up; when that version is
unreadable it serves the newest version that still loads and says so in its
:class:`~locator.storage.base.Health`. :class:`Watcher` then keeps the app's
:class:`~locator.stations.dataset.Store` in step with the source: it checks the
live version at most every ``interval`` seconds (and at once when the source
pushes a change, as PostGIS does with ``NOTIFY``), loads a new version in a
background thread, and swaps it in only after it loaded and passed its checks.
Requests already holding the old dataset finish on it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from locator import allocator
from locator.errors import LocatorError
from locator.stations import dataset
from locator.storage.base import Health, StationSource, open_source

log = logging.getLogger(__name__)


def load_best(source: StationSource) -> tuple[dataset.Dataset, Health]:
    """The live version's dataset, else the newest good one (``Health`` says which)."""
    live = source.version()
    try:
        return source.load(live), Health(live, live)
    except LocatorError as exc:
        if exc.status == 503:  # the store itself is down: nothing else to try
            raise
        problem: Exception = exc
    except Exception as exc:  # a broken file raises whatever its reader raises
        problem = exc
    log.critical("THE LIVE VERSION %s CANNOT BE SERVED (%s); looking for the newest good "
                 "version", live, problem)
    for v in reversed(source.versions()):
        if v.name == live:
            continue
        try:
            ds = source.load(v.name)
        except Exception as exc:  # try the next older one
            log.error("version %s cannot be served either: %s", v.name, exc)
            continue
        log.critical("SERVING OLDER VERSION %s INSTEAD OF THE LIVE %s; fix or roll back",
                     v.name, live)
        return ds, Health(live, v.name, f"{type(problem).__name__}: {problem}")
    raise problem


class Watcher:
    """Keeps ``target`` on the source's live version without a restart."""

    def __init__(self, source: StationSource, target: dataset.Store, *, interval: float,
                 health: Health) -> None:
        self.source = source
        self.store = target
        self.interval = interval
        self.health = health
        self._failed: str | None = None
        self._next = 0.0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # Called (without arguments) after each new version is swapped in.
        self.on_swap: list[Callable[[], None]] = []

    @property
    def loaded(self) -> str | None:
        return self.health.loaded

    def nudge(self) -> None:
        """Check at the next chance (called when the source pushes a change)."""
        self._next = 0.0
        self.poll()

    def poll(self) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        with self._lock:
            if now < self._next or (self._thread is not None and self._thread.is_alive()):
                return
            self._next = now + self.interval
            try:
                name = self.source.version()
            except Exception as exc:  # store down: keep serving what is loaded
                log.warning("cannot read the live version from %s (%s); still serving %s",
                            self.source.describe(), exc, self.loaded)
                return
            if name == self.loaded or name == self._failed:
                return
            self._thread = threading.Thread(target=self._load, args=(name,), daemon=True,
                                            name="locator-reload")
            self._thread.start()

    def wait(self, timeout: float = 30.0) -> None:
        t = self._thread
        if t is not None:
            t.join(timeout)

    def _load(self, name: str | None) -> None:
        try:
            fresh = self.source.load(name)
        except Exception as exc:  # a bad version must never take the live map down
            log.exception("could not load published version %s; keeping %s", name, self.loaded)
            self._failed = name
            self.health = Health(name, self.loaded, f"{type(exc).__name__}: {exc}")
            return
        old = self.store.swap(fresh)
        self.health = Health(name, name)
        self._failed = None
        log.info("now serving version %s (%d stations)", name, len(fresh))
        for hook in self.on_swap:
            try:
                hook()
            except Exception:  # a listener's fault must not undo the swap
                log.exception("a version-swap listener failed")
        # The replaced version and the load's temporaries are free now (or once the
        # requests still using them finish); hand their pages back to the system.
        del old
        allocator.trim()


def live_dataset(config: Mapping[str, Any]) -> dataset.Dataset:
    """The dataset a command works on: the live version (or the newest good one)."""
    return load_best(open_source(config))[0]
