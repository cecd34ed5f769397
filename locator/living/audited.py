"""A change of the station table published together with its audit entries.

The entries are written in a transaction that commits only after the new version
went live; whatever fails after that point (the publish's own last step, or the
audit's commit) withdraws the version again, also when it was the very first one
and there is no earlier version to roll back to. So a failed change leaves neither
a version nor an entry, and a published one always has its entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import geopandas as gpd
from sqlalchemy.orm import Session

from locator.living import db
from locator.living.models import AuditEntry
from locator.storage import base

log = logging.getLogger(__name__)


def publish(cfg: Mapping[str, Any], source: base.StationSource, frame: gpd.GeoDataFrame,
             entries: list[AuditEntry], meta: dict[str, Any],
             within: Callable[[Session], None] | None = None) -> str:
    """Audit entries and the new version together: a failure of either leaves neither.

    The entries are flushed (``within`` may do more in the same transaction first),
    the version is published, and the audit commits; whatever fails after the
    version went live, the publish itself included, withdraws it. Call under the
    store's writer lock, so that a live version other than ``live`` can only be ours.
    """
    live = source.version()
    try:
        with db.session(cfg) as s:
            if within is not None:
                within(s)
            s.add_all(entries)
            s.flush()
            name = source.publish(frame, meta=meta)
    except BaseException:
        _withdraw(source, live)
        raise
    return name


def _withdraw(source: base.StationSource, live: str | None) -> None:
    """Take back a version that went live without its audit entry (the first one too)."""
    try:
        now = source.version()
        if now is not None and now != live:
            source.withdraw(now, live)
    except Exception:  # the store is away as well: say so loudly, keep the first error
        log.critical("a version may be live without its audit entry (was %s); check "
                     "`locator versions` and roll back", live, exc_info=True)
