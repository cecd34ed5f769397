"""Each station's static GeoJSON, serialised once per dataset and reused by every answer.

A nearest answer is ten stations, each ~3.5 KB of JSON of which only a dozen
values (distance, walking time, today's state, the feedback flags) depend on
the request; the rest (attributes, hours text, navigation links, geometry)
is fixed for a dataset version, an output datum, a links variant and a
language. Building those dicts and encoding them again on every request cost
more than the search itself, so the fixed part of each feature is kept here
as bytes, its closing braces left off, and an answer only appends the
per-request properties.

The cache lives in :attr:`Dataset.cache <locator.stations.dataset.Dataset.cache>`
and dies with the dataset, so a new version is never answered from old text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from locator.stations.dataset import Dataset

# numpy scalars may reach properties from columns; keys are always text.
OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
# About 3.5 KB a station with all links: a bound of ~70 MB, whatever clients page through.
# It holds a province's stations (Henan has about 14,000), so workers asking from
# all over do not clear it again and again.
MAX_HEADS = 20_000
_KEY = "prebuilt.heads"

# ``to_features``: (ds, rows, out_crs=, with_links=, lang=) -> one feature dict per row.
Builder = Callable[..., list[dict[str, Any]]]


def links_variant(with_links: bool | str) -> str:
    """``all``, ``web`` or ``none``: the spelling ``with_links`` arguments reduce to."""
    if with_links is True or with_links == "all":
        return "all"
    if with_links == "web":
        return "web"
    return "none"


def heads(ds: Dataset, rows: np.ndarray, build: Builder, *, out_crs: str, links: str,
          lang: str) -> list[bytes]:
    """The serialised fixed part of each row's feature, open for more properties.

    Each value is a feature's JSON up to and including its last fixed property
    followed by a comma: append the other properties' members and ``}}`` (see
    :func:`features`). ``build`` makes the feature dicts of rows not yet cached,
    the same builder the unserialised answers use, so both say the same.
    """
    variants: dict[tuple[str, str, str], dict[int, bytes]] = ds.cache.setdefault(_KEY, {})
    # Keyed by row within one variant: an int's hash costs less than a tuple's.
    cache = variants.get((out_crs, links, lang))
    if cache is None:
        cache = variants.setdefault((out_crs, links, lang), {})
    wanted = np.asarray(rows, dtype=np.int64).tolist()
    found = [cache.get(r) for r in wanted]
    missing = [r for r, got in zip(wanted, found, strict=True) if got is None]
    if missing:
        built = build(ds, np.asarray(missing, dtype=np.int64), out_crs=out_crs,
                      with_links=links, lang=lang)
        if sum(map(len, variants.values())) + len(missing) > MAX_HEADS:
            # Bounded: a client paging through every station must not grow it.
            for kept in variants.values():
                kept.clear()
        made = {}
        for r, f in zip(missing, built, strict=True):
            # '...,"last":value}}' -> '...,"last":value,'
            made[r] = cache[r] = orjson.dumps(f, option=OPTIONS)[:-2] + b","
        found = [got if got is not None else made[r]
                 for r, got in zip(wanted, found, strict=True)]
    return [got for got in found if got is not None]


def members_of(columns: list[Any], names: list[str], n: int) -> list[bytes]:
    """Per row, the properties ``names`` from ``columns`` as JSON members, each after a comma.

    ``b""`` for every row when there are none; see :func:`features`.
    """
    if not names:
        return [b""] * n
    return [b"," + orjson.dumps(dict(zip(names, vals, strict=True)), option=OPTIONS)[1:-1]
            for vals in zip(*columns, strict=True)]


def features(heads: list[bytes], tails: list[bytes]) -> orjson.Fragment:
    """The answer's features as one JSON array: each ``head`` closed by its ``tail``.

    A tail holds the row's remaining properties as JSON members, the last one
    followed by ``}}`` (closing the properties and the feature). The result
    goes into an answer as it is: ``orjson`` writes a fragment's bytes without
    encoding them again.
    """
    # One join, so the answer's ~36 KB are copied once here rather than once per step.
    parts = [b"["]
    for head, tail in zip(heads, tails, strict=True):
        parts += (head, tail, b",")
    if len(parts) > 1:
        parts.pop()
    parts.append(b"]")
    return orjson.Fragment(b"".join(parts))
