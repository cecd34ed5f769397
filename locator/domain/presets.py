"""Job presets: who is travelling, to which kind of station, how far.

Each preset's radius is a setting (``PRESET_*_M``), so the API, the CLI and
the planner page all read the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Preset:
    code: str
    zh: str
    en: str
    kinds: tuple[str, ...]
    setting: str

    def radius(self, cfg: Mapping[str, Any]) -> float:
        return float(cfg[self.setting])


PRESETS: tuple[Preset, ...] = (
    Preset("sanitation", "环卫工人（步行，爱心驿站）", "Sanitation worker (walking, rest station)",
           ("rest_station",), "PRESET_SANITATION_M"),
    Preset("delivery", "外卖骑手（电动车，爱心驿站）", "Delivery rider (e-bike, rest station)",
           ("rest_station",), "PRESET_DELIVERY_M"),
    Preset("truck", "货车司机（司机之家）", "Truck driver (driver home)",
           ("driver_home",), "PRESET_TRUCK_M"),
)
PRESET_CODES = tuple(p.code for p in PRESETS)
BY_CODE = {p.code: p for p in PRESETS}


def describe(cfg: Mapping[str, Any], lang: str = "zh") -> list[dict[str, Any]]:
    """The presets with their radii, for pages and the API."""
    return [{"code": p.code, "label": p.zh if lang == "zh" else p.en, "kinds": list(p.kinds),
             "radius_m": p.radius(cfg)} for p in PRESETS]
