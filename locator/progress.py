"""Progress bars on standard error for long imports and exports.

tqdm draws only when stderr is a terminal (``disable=None``), so scripts,
tests and CI logs stay clean.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


class Steps:
    """A bar over the named stages of one job."""

    def __init__(self, total: int, desc: str, *, enabled: bool = True) -> None:
        self._bar = tqdm(total=total, desc=desc, unit="step", file=sys.stderr, leave=False,
                         disable=None if enabled else True)

    def step(self, name: str) -> None:
        self._bar.set_postfix_str(name, refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


def chunks(items: Iterable[T], *, total: int, desc: str, enabled: bool = True) -> Iterator[T]:
    """Iterate with a bar counted in ``total`` units (e.g. rows)."""
    yield from tqdm(items, total=total, desc=desc, file=sys.stderr, leave=False,
                    disable=None if enabled else True)
