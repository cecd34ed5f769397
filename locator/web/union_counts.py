"""The planner page's table of how each union keeps up (see :mod:`locator.living.unionstats`)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from locator.domain.i18n import UNION_COUNT_STRINGS
from locator.errors import LocatorError
from locator.living import unionstats
from locator.web import state


def context(lang: str) -> dict[str, Any]:
    """Template variables of ``_union_counts.html``; none while the database is away,
    so that the plan still shows."""
    cfg = current_app.config
    try:
        table = unionstats.per_union(cfg, state.current().frame)
    except LocatorError as exc:
        current_app.logger.warning("union counts unavailable: %s", exc.message)
        return {"union_counts": None}
    return {"union_counts": unionstats.for_page(table),
            "union_strings": UNION_COUNT_STRINGS[lang],
            "stale_days": f"{float(cfg['STALE_DAYS']):g}"}
