"""Finished answers to repeated requests, kept per dataset for the current minute.

Workers standing at the same depot, a kiosk page refreshing, a map re-asking
after a pan back: the same nearest request comes again and again. Building its
answer (search, today's state, ~36 KB of JSON) costs several times what the
web framework does around it, yet the answer can only change when one of its
inputs does. The caller names those inputs in the key (the request as the
client wrote it, the host its links carry, the feedback flags, the street
graph); the dataset is implied, since the cache lives in
:attr:`Dataset.cache <locator.stations.dataset.Dataset.cache>` and dies with
it; and the minute is implied too, because opening hours are evaluated to the
minute: the whole store is dropped when the minute changes, so an answer says
what is open at the minute it is served in.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from locator.stations.dataset import Dataset

# ~36 KB per nearest answer with all links: about 9 MB a dataset at most, and it
# only fills with requests repeated within one minute.
MAX_ANSWERS = 256
_KEY = "answers.by_minute"


@dataclass
class _Minute:
    minute: int
    answers: dict[Hashable, bytes] = field(default_factory=dict)


def _bucket(ds: Dataset, minute: int) -> _Minute:
    got: _Minute | None = ds.cache.get(_KEY)
    if got is None or got.minute != minute:
        # Replaced whole, never cleared in place: a thread still holding the old
        # minute's bucket can finish its lookup without seeing half a change.
        got = ds.cache[_KEY] = _Minute(minute)
    return got


def get(ds: Dataset, minute: int, key: Hashable) -> bytes | None:
    """The answer stored for ``key`` in this ``minute``, or ``None``."""
    got: _Minute | None = ds.cache.get(_KEY)
    if got is None or got.minute != minute:
        return None
    return got.answers.get(key)


def put(ds: Dataset, minute: int, key: Hashable, body: bytes) -> None:
    """Keep ``body`` as the answer to ``key`` for the rest of ``minute``."""
    bucket = _bucket(ds, minute)
    if len(bucket.answers) >= MAX_ANSWERS:
        # Many distinct requests: start afresh rather than grow, as the minute turning would.
        bucket = ds.cache[_KEY] = _Minute(minute)
    bucket.answers[key] = body
