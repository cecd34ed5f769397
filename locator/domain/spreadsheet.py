"""Cells that are safe to open in a spreadsheet.

Exports and import reports carry names and addresses typed by strangers; a
cell starting with ``=`` or ``+`` would run as a formula in Excel or WPS.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_text(values: Iterable[Any]) -> list[Any]:
    """Prefix ``'`` to text that a spreadsheet would run as a formula.

    Only strings are touched, so numbers (negative ones included) stay numbers.
    """
    return [("'" + v) if isinstance(v, str) and v[:1] in FORMULA_LEADS else v for v in values]
