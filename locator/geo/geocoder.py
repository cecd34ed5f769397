"""An optional online geocoder for search: Tianditu or Amap, with the operator's key.

Search answers from our own names first (stations, counties, cities, an OSM
extract). A deployment may add one online service for addresses those do not
know; it is never required, and when it is slow, refuses the key or cannot be
reached, search still answers from our own names and says that the service
was unavailable.

Only the text a user typed leaves the server, and only when the operator has
configured a service (``GEOCODER``, ``GEOCODER_KEY``). Answers are kept in the
shared byte-bounded cache, so repeated searches do not spend the key's quota.

Datums: Amap answers in GCJ-02, converted here; Tianditu answers in CGCS2000,
which is WGS-84 within centimetres.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from locator import memo
from locator.geo import datum

log = logging.getLogger(__name__)

SERVICES = ("none", "tianditu", "amap")
# Official endpoints; GEOCODER_URL replaces them (a proxy, or a test server).
ENDPOINTS = {"tianditu": "https://api.tianditu.gov.cn/geocoder",
             "amap": "https://restapi.amap.com/v3/geocode/geo"}
CONTEXT = {"tianditu": "天地图 Tianditu", "amap": "高德 Amap"}
# Amap narrows its answers to a city or province given by name.
AMAP_CITY = "河南"


class GeocoderUnavailableError(Exception):
    """The service did not give a usable answer (network, key, quota or format)."""


@dataclass(frozen=True)
class Geocoder:
    service: str
    key: str
    url: str
    timeout: float

    def lookup(self, q: str) -> list[dict[str, Any]]:
        """Search results for ``q`` in the shape of :func:`locator.stations.search.search`.

        Raises
        ------
        GeocoderUnavailableError
            When the service cannot be asked or its answer cannot be read.
        """
        shared = memo.store()
        k = ("geocoder", self.service, self.url, q)
        got = shared.get(k)
        if got is None:
            got = _ASK[self.service](self, q)
            shared.put(k, got)
        return [dict(r) for r in got]

    def _get(self, params: Mapping[str, str]) -> Any:
        url = f"{self.url}?{urllib.parse.urlencode(params)}"
        req = urllib.request.Request(url, headers={"User-Agent": "locator"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read(1 << 20))
        except (OSError, ValueError) as exc:  # URLError, timeouts and bad JSON alike
            raise GeocoderUnavailableError(f"{self.service}: {type(exc).__name__}: {exc}") from None


def _result(g: Geocoder, label: str, lon: float, lat: float, ref: str) -> dict[str, Any]:
    return {"type": "geocoder", "label": label, "context": CONTEXT[g.service], "ref": ref,
            "lon": round(lon, 6), "lat": round(lat, 6), "score": 0.0}


def _tianditu(g: Geocoder, q: str) -> list[dict[str, Any]]:
    body = g._get({"ds": json.dumps({"keyWord": q}, ensure_ascii=False), "tk": g.key})
    if not isinstance(body, dict) or str(body.get("status")) != "0":
        msg = body.get("msg") if isinstance(body, dict) else body
        raise GeocoderUnavailableError(f"tianditu: {msg!r}")
    loc = body.get("location")
    if not isinstance(loc, dict) or "lon" not in loc or "lat" not in loc:
        return []
    try:
        lon, lat = float(loc["lon"]), float(loc["lat"])
    except (TypeError, ValueError):
        raise GeocoderUnavailableError("tianditu: unreadable location") from None
    return [_result(g, str(loc.get("keyWord") or q), lon, lat, "tianditu:0")]


def _amap(g: Geocoder, q: str) -> list[dict[str, Any]]:
    body = g._get({"address": q, "city": AMAP_CITY, "key": g.key, "output": "JSON"})
    if not isinstance(body, dict) or str(body.get("status")) != "1":
        msg = body.get("info") if isinstance(body, dict) else body
        raise GeocoderUnavailableError(f"amap: {msg!r}")
    out = []
    for i, hit in enumerate(body.get("geocodes") or []):
        try:
            x, y = (float(v) for v in str(hit["location"]).split(","))
        except (KeyError, TypeError, ValueError):
            continue
        lon, lat = datum.gcj02_to_wgs84(x, y)
        out.append(_result(g, str(hit.get("formatted_address") or q), float(lon), float(lat),
                           f"amap:{i}"))
    return out


_ASK = {"tianditu": _tianditu, "amap": _amap}


def configured(cfg: Mapping[str, Any]) -> Geocoder | None:
    """The geocoder the settings name, or ``None`` (the default: no online service)."""
    service = str(cfg.get("GEOCODER") or "none")
    if service == "none":
        return None
    key = str(cfg.get("GEOCODER_KEY") or "")
    if not key:
        log.warning("GEOCODER=%s is set without GEOCODER_KEY; online geocoding is off", service)
        return None
    return Geocoder(service, key, str(cfg.get("GEOCODER_URL") or ENDPOINTS[service]),
                    float(cfg.get("GEOCODER_TIMEOUT", 2.0)))
