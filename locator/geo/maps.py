"""Folium map builders with self-hosted assets and datum-aware tile sources.

Folium's defaults pull Leaflet, jQuery, Bootstrap and Font Awesome from public
CDNs, which are slow or blocked for many users in China and absent offline.
Every map built here lists only Leaflet (and plugins) served by our own
``/vendor`` route.

Chinese tile services draw their streets in GCJ-02, so a station's true
WGS-84 point would sit 300-700 m off the street on Amap tiles. Each tile
source therefore names its datum, and markers are converted to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import xstatic.pkg.leaflet as xs_leaflet
import xstatic.pkg.leaflet_markercluster as xs_cluster

from locator import memo
from locator.geo import datum

if TYPE_CHECKING:
    import folium


@dataclass(frozen=True)
class TileSource:
    name: str
    url: str
    attribution: str
    datum: str
    subdomains: str = "abc"
    max_zoom: int = 18
    overlay_url: str | None = None
    attribution_en: str = ""
    """The credit on English pages, when the Chinese one would not do."""


TILE_SOURCES: dict[str, TileSource] = {
    "amap": TileSource(
        "amap",
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
        "&x={x}&y={y}&z={z}",
        "&copy; 高德地图 AutoNavi", "gcj02", subdomains="1234",
        attribution_en="&copy; AutoNavi (Amap)"),
    "tianditu": TileSource(
        "tianditu",
        "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
        "&TILECOL={x}&tk={key}",
        "&copy; 天地图 Tianditu", "wgs84", subdomains="01234567",
        overlay_url="https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        "&VERSION=1.0.0&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        attribution_en="&copy; Tianditu"),
    "osm": TileSource(
        "osm", "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "&copy; OpenStreetMap contributors", "wgs84", subdomains="abc", max_zoom=19),
    "none": TileSource("none", "", "", "wgs84"),
}

# Folders of the PyPI xstatic packages that ship Leaflet and its plugins.
VENDOR_PACKAGES = {"leaflet": xs_leaflet.BASE_DIR, "markercluster": xs_cluster.BASE_DIR}

VENDOR_JS = [("leaflet", "leaflet/leaflet.js"),
             ("markercluster", "markercluster/leaflet.markercluster.js")]
VENDOR_CSS = [("leaflet_css", "leaflet/leaflet.css"),
              ("markercluster_css", "markercluster/MarkerCluster.css"),
              ("markercluster_default_css", "markercluster/MarkerCluster.Default.css")]


def tile_source(name: str) -> TileSource:
    try:
        return TILE_SOURCES[name]
    except KeyError:
        msg = f"unknown tile source {name!r}; expected one of {', '.join(TILE_SOURCES)}"
        raise ValueError(msg) from None


def build_map(
    *,
    tiles: str,
    center: tuple[float, float],
    zoom: int,
    vendor_url: Callable[[str], str],
    tianditu_key: str = "",
    lang: str = "zh",
) -> folium.Map:
    """A Folium map centred on ``center`` (WGS-84 lat, lon) in the tile datum.

    ``vendor_url`` maps a vendor asset path (``"leaflet/leaflet.js"``) to the
    URL this app serves it at.
    """
    src = tile_source(tiles)
    if src.name == "tianditu" and not tianditu_key:
        msg = "the tianditu tile source needs a TIANDITU_KEY"
        raise ValueError(msg)
    lat, lon = center
    attr = src.attribution_en if lang == "en" and src.attribution_en else src.attribution
    x, y = datum.from_wgs84(lon, lat, src.datum)
    # Folium and branca load on the first map drawn, not at every start-up.
    import folium

    m = folium.Map(location=[float(y), float(x)], zoom_start=zoom, tiles=None,
                   control_scale=True, zoom_control=True, prefer_canvas=False)
    # Instance attributes shadow folium's CDN lists for this map only.
    m.default_js = [(n, vendor_url(p)) for n, p in VENDOR_JS]
    m.default_css = [(n, vendor_url(p)) for n, p in VENDOR_CSS]
    if src.url:
        folium.TileLayer(tiles=src.url.replace("{key}", tianditu_key), attr=attr,
                         name=src.name, subdomains=src.subdomains, max_zoom=src.max_zoom,
                         control=False).add_to(m)
    if src.overlay_url:
        folium.TileLayer(tiles=src.overlay_url.replace("{key}", tianditu_key), attr=attr,
                         name=f"{src.name}-labels", subdomains=src.subdomains,
                         max_zoom=src.max_zoom, overlay=True, control=False).add_to(m)
    return m


@memo.cached
def shell_parts(tiles: str, center: tuple[float, float], zoom: int, key: str,
                vendor_prefix: str, lang: str = "zh") -> dict[str, Any]:
    """Rendered parts of an empty map, cached per configuration.

    Pages load their stations through the API, so the map shell does not
    depend on the data and one render serves every request.
    """
    m = build_map(tiles=tiles, center=center, zoom=zoom, tianditu_key=key,
                  vendor_url=lambda p: vendor_prefix + p, lang=lang)
    return render_parts(m)


def render_parts(m: folium.Map) -> dict[str, Any]:
    """Split a rendered map into head links, body div and script for a Jinja page."""
    from branca.element import Figure

    root = m.get_root()
    assert isinstance(root, Figure)
    root.render()
    # Folium adds a viewport meta that forbids zooming; our pages set their own.
    header = re.sub(r'<meta name="viewport"[^>]*>', "", root.header.render())
    script_tag = r'<script[^>]*\bsrc="([^"]+)"[^>]*></script>'
    link_tag = r'<link rel="stylesheet" href="([^"]+)"\s*/?>'
    return {
        "name": m.get_name(),
        "header": header,
        # For pages that load Leaflet after their first answer: the header
        # without Leaflet's scripts and style sheets, and their URLs in order.
        "styles": re.sub(link_tag, "", re.sub(script_tag, "", header)),
        "scripts": re.findall(script_tag, header),
        "sheets": re.findall(link_tag, header),
        "html": root.html.render(),
        "script": root.script.render(),
    }
