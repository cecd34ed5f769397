"""Station lists an officer of 金水区 uploads in the web-import tests."""

from __future__ import annotations

from pathlib import Path

from locator.config import ROOT
from locator.geo import regions

BOUNDARIES = ROOT / "data" / "boundaries"
HOSTILE_PHONE = '<img src=x onerror="window.__pwned=1">'


def label_point(adcode: str) -> tuple[float, float]:
    c = regions.counties(BOUNDARIES).set_index("county_adcode")
    return float(c.loc[adcode, "label_lon"]), float(c.loc[adcode, "label_lat"])


def jinshui_list(path: Path) -> Path:
    """Two good 金水区 rows (one with an unusable, hostile phone), one 二七区 row, one
    row with no coordinates."""
    jx, jy = label_point("410105")
    ex, ey = label_point("410103")
    path.write_text(
        "名称,类型,经度,纬度,地址,电话\n"
        f"金水测试驿站甲,rest_station,{jx:.6f},{jy:.6f},金水路1号,0371-12345678\n"
        f"金水测试驿站乙,rest_station,{jx + 0.004:.6f},{jy + 0.003:.6f},金水路2号,"
        f"\"{HOSTILE_PHONE.replace(chr(34), chr(34) * 2)}\"\n"
        f"二七测试驿站,rest_station,{ex:.6f},{ey:.6f},二七路3号,0371-87654321\n"
        "无坐标驿站,rest_station,,,某路4号,\n", encoding="utf-8")
    return path


def nameless_list(path: Path) -> Path:
    jx, jy = label_point("410105")
    path.write_text(f"地址,经度,纬度\n金水路5号,{jx:.6f},{jy:.6f}\n", encoding="utf-8")
    return path
