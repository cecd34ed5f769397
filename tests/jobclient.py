"""Ask the planner API and poll its job the way a client does."""

from __future__ import annotations

import time
from typing import Any


def planned(client: Any, url: str, *, timeout: float = 120.0) -> Any:
    """The final answer to ``url``: follows 202 poll URLs until the job is no longer running."""
    r = client.get(url)
    end = time.monotonic() + timeout
    while r.status_code == 202 and time.monotonic() < end:
        time.sleep(0.2)
        r = client.get(r.json["poll"])
    return r
