"""Embeddable map options, the ``<iframe>`` snippet and oEmbed answers.

A partner configures ``/embed`` entirely through its query string. This module
validates that query into :class:`EmbedOptions`, writes it back in one
canonical order (so equal maps have equal URLs), and builds the snippet and
the oEmbed document (https://oembed.com/, type ``rich``) for an embed URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from locator.domain import i18n, params, schema
from locator.errors import LocatorError, invalid, not_found
from locator.geo import regions

PARAMS = ("kind", "amenity", "region", "bbox", "center", "zoom", "lang", "list", "theme",
          "accent")
THEMES = ("light", "dark")
# Markers an embed draws before it shows counted grid clusters instead: a
# phone-sized frame cannot show more usefully, and each one costs ~0.35 KB.
VIEW_LIMIT = 300
DEFAULT_WIDTH = 600
DEFAULT_HEIGHT = 450
PROVIDER = "Locator · 职工服务站点"
_HEX = re.compile(r"^[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class EmbedOptions:
    """A validated embed configuration."""

    kinds: tuple[str, ...] = ()
    amenities: tuple[str, ...] = ()
    region: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    center: tuple[float, float] | None = None
    zoom: int | None = None
    lang: str | None = None
    show_list: bool = True
    theme: str = "light"
    accent: str | None = None


def _one(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = list(args.get(name, ()))
    if len(values) > 1:
        raise invalid(name, f"{name} may be given once")
    return values[0] if values else None


def parse(args: Mapping[str, Sequence[str]], *, boundaries_dir: str | Path) -> EmbedOptions:
    """Validate an embed query (``name -> list of values``); 400 on anything wrong."""
    unknown = sorted(set(args) - set(PARAMS))
    if unknown:
        raise invalid(unknown[0], f"unknown parameter {unknown[0]!r}; the embed takes: "
                                  f"{', '.join(PARAMS)}")
    kinds = tuple(params.kinds(list(args.get("kind", ()))))
    amen_codes = params.TABLE["amenity"].parse_list(list(args.get("amenity", ())))
    region = _one(args, "region")
    bbox_raw = _one(args, "bbox")
    if region:
        # A region names the area more precisely than a box, so it wins when both come.
        region_bounds(region, boundaries_dir)
        bbox_raw = None
    bbox = params.bbox(bbox_raw) if bbox_raw else None
    center_raw = _one(args, "center")
    center = None
    if center_raw:
        parts = center_raw.split(",")
        if len(parts) != 2:
            raise invalid("center", "center must be lat,lon")
        center = (params.number("center", parts[0], lo=-90, hi=90),
                  params.number("center", parts[1], lo=-180, hi=180))
    zoom_raw = _one(args, "zoom")
    zoom = params.TABLE["zoom"].parse(zoom_raw, default=0) if zoom_raw else None
    lang_raw = _one(args, "lang")
    lang = params.lang(lang_raw) if lang_raw else None
    accent = _one(args, "accent")
    if accent:
        accent = accent.removeprefix("#")
        if not _HEX.match(accent):
            raise invalid("accent", "accent must be a colour as 6 hex digits, e.g. c8102e")
        accent = accent.lower()
    return EmbedOptions(
        kinds=kinds, amenities=tuple(dict.fromkeys(amen_codes)), region=region, bbox=bbox,
        center=center, zoom=zoom, lang=lang,
        show_list=params.boolean("list", _one(args, "list"), default=True),
        theme=params.choice("theme", _one(args, "theme"), THEMES, default="light"),
        accent=accent)


def canonical_query(opts: EmbedOptions) -> str:
    """The options as a query string in a fixed order, defaults left out."""
    pairs: list[tuple[str, str]] = []
    if opts.kinds:
        pairs.append(("kind", ",".join(opts.kinds)))
    if opts.amenities:
        pairs.append(("amenity", ",".join(opts.amenities)))
    if opts.region:
        pairs.append(("region", opts.region))
    if opts.bbox:
        pairs.append(("bbox", ",".join(f"{v:g}" for v in opts.bbox)))
    if opts.center:
        pairs.append(("center", f"{opts.center[0]:g},{opts.center[1]:g}"))
    if opts.zoom is not None:
        pairs.append(("zoom", str(opts.zoom)))
    if opts.lang:
        pairs.append(("lang", opts.lang))
    if not opts.show_list:
        pairs.append(("list", "false"))
    if opts.theme != "light":
        pairs.append(("theme", opts.theme))
    if opts.accent:
        pairs.append(("accent", opts.accent))
    return urlencode(pairs, safe=",")


def region_bounds(adcode: str, boundaries_dir: str | Path) -> tuple[str, list[float]]:
    """Name and ``[minlon, minlat, maxlon, maxlat]`` of a city or county by adcode."""
    if not re.fullmatch(r"\d{6}", adcode):
        raise invalid("region", f"region must be a 6-digit adcode of a city or county, "
                                f"got {adcode!r}")
    for frame, code_col, name_col in ((regions.cities(str(boundaries_dir)), "city_adcode",
                                       "city"),
                                      (regions.counties(str(boundaries_dir)), "county_adcode",
                                       "county")):
        hit = frame[frame[code_col] == adcode]
        if len(hit):
            name = str(hit.iloc[0][name_col])
            if name_col == "county":
                name = f"{hit.iloc[0]['city']}{name}"
            return name, [float(v) for v in hit.total_bounds]
    raise not_found(f"no city or county in Henan has adcode {adcode}", "region")


def title(opts: EmbedOptions, *, lang: str, boundaries_dir: str | Path) -> str:
    """A short human title: region and kinds, in the embed's language."""
    what = ("、" if lang == "zh" else ", ").join(
        schema.label(schema.KINDS, k, lang) for k in opts.kinds) or i18n.STRINGS[lang]["title"]
    if opts.region:
        name, _ = region_bounds(opts.region, boundaries_dir)
        return f"{name} · {what}"
    return what


def snippet(url: str, *, width: int, height: int, title: str) -> str:
    """The ``<iframe>`` a partner pastes into its page."""
    return (f'<iframe src="{escape(url)}" width="{int(width)}" height="{int(height)}" '
            f'style="border:0;max-width:100%" loading="lazy" '
            f'referrerpolicy="strict-origin-when-cross-origin" '
            f'title="{escape(title)}"></iframe>')


def embed_url_options(url: str, *, base: str) -> dict[str, list[str]]:
    """Query of ``url`` when it is this site's ``/embed``; a 404 for any other URL."""
    got, own = urlsplit(url), urlsplit(base + "/embed")
    if (got.scheme not in ("http", "https") or got.netloc.lower() != own.netloc.lower()
            or got.path.rstrip("/") != own.path):
        raise LocatorError(404, "not_found", "no embeddable resource at this URL: oEmbed "
                           f"answers only for {base}/embed", "url")
    out: dict[str, list[str]] = {}
    for k, v in parse_qsl(got.query, keep_blank_values=True):
        out.setdefault(k, []).append(v)
    return out


def oembed(url: str, *, base: str, boundaries_dir: str | Path, demo: bool,
           maxwidth: int | None = None, maxheight: int | None = None) -> dict[str, Any]:
    """The oEmbed 1.0 ``rich`` answer for one of our embed URLs."""
    query = embed_url_options(url, base=base)
    try:
        opts = parse(query, boundaries_dir=boundaries_dir)
    except LocatorError as exc:
        raise LocatorError(404, "not_found", f"the embed URL is not valid: {exc.message}",
                           "url") from None
    # The map is fluid, so it takes all the room the consumer offers.
    width = maxwidth or DEFAULT_WIDTH
    height = maxheight or DEFAULT_HEIGHT
    lang = opts.lang or "zh"
    name = title(opts, lang=lang, boundaries_dir=boundaries_dir)
    if demo:
        name += " (演示数据)" if lang == "zh" else " (demo data)"
    query_s = canonical_query(opts)
    src = f"{base}/embed" + (f"?{query_s}" if query_s else "")
    return {"version": "1.0", "type": "rich", "title": name,
            "provider_name": PROVIDER, "provider_url": f"{base}/",
            "cache_age": 86400,
            "html": snippet(src, width=width, height=height, title=name),
            "width": width, "height": height}
