"""Click options declared by the one parameter table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from locator.domain.params import TABLE


def param_option(name: str, *flags: str, default_help: str = "",
                 **kwargs: Any) -> Callable[[Any], Any]:
    """A ``--name`` option whose help and bounds come from the parameter table.

    Values stay strings: the command hands them to the same parser as the API,
    so a bad value gets the same message on both.
    """
    p = TABLE[name]
    lo, hi = p.bounds()
    bounds = ""
    if p.lo is not None or p.hi is not None:
        bounds = f" [{lo:g}..{hi:g}]" if p.hi is not None else f" [>= {lo:g}]"
    text = p.help + bounds + (f" {default_help}" if default_help else "")
    return click.option(*(flags or (f"--{name.replace('_', '-')}",)), help=text, **kwargs)
