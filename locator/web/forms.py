"""Form input attributes taken from the one parameter table."""

from __future__ import annotations

from markupsafe import Markup, escape

from locator.domain.params import TABLE


def input_attrs(name: str, hi: float | None = None) -> Markup:
    """``min``/``max``/``step`` attributes of an ``<input>`` for parameter ``name``.

    ``hi`` gives the upper bound when the table takes it from a setting.
    """
    attrs = TABLE[name].html_attrs(hi=hi)
    return Markup(" ".join(f'{k}="{escape(v)}"' for k, v in attrs.items()))
