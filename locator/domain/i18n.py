"""User-facing strings for the pages, Simplified Chinese first."""

from __future__ import annotations

from locator.domain import schema

LANGS = ("zh", "en")

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "职工服务站点查找", "locate": "定位我附近的站点", "locating": "正在定位…",
        "nearest": "离你最近", "filters": "筛选", "open_now": "现在开放", "all_kinds": "全部",
        "open": "开放中", "closed": "现在关闭", "unknown": "时间未知", "walk": "步行约 {n} 分钟",
        "distance": "{d}", "call": "拨打电话", "navigate": "导航前往", "hours": "开放时间",
        "address": "地址", "amenities": "设施", "close": "关闭",
        "no_results": "附近没有符合条件的站点",
        "geo_denied": "无法获取位置：请在上方搜索地点，或在地图上点选您的位置", "error": "加载失败，请稍后重试",
        "demo": "演示数据：本页站点为程序生成的合成数据，并非真实站点",
        "demo_badge": "演示", "lang_switch": "English", "tap_map": "或在地图上点一下选择位置",
        "members": "仅限会员", "temporarily_closed": "暂停开放", "more": "显示更多",
        "unknown_hours": "未登记", "skip_to_list": "跳到站点列表", "map_label": "地图",
        "results_label": "站点列表", "kind_label": "站点类型",
        "base_fallback": "地图底图未能加载，已显示区县边界",
        "phone": "电话", "operator": "管理单位", "access": "服务对象", "verified": "最近核实",
        "access_public": "所有户外劳动者", "demo_phone": "（演示号码，不可拨打）",
        "not_recorded": "未登记", "search_label": "搜索地点或站点",
        "search_placeholder": "输入地名、区县或站点名", "search_go": "搜索",
        "search_none": "没有找到匹配的地点", "from_place": "离“{p}”最近",
    },
    "en": {
        "title": "Find a workers' station", "locate": "Find stations near me",
        "locating": "Locating…", "nearest": "Nearest", "filters": "Filters",
        "open_now": "Open now", "all_kinds": "All", "open": "Open", "closed": "Closed now",
        "unknown": "Hours unknown", "walk": "about {n} min walk", "distance": "{d}",
        "call": "Call", "navigate": "Directions", "hours": "Hours", "address": "Address",
        "amenities": "Amenities", "close": "Close", "no_results": "No matching station nearby",
        "geo_denied": "Location unavailable: search a place above, or tap the map where you are",
        "error": "Loading failed, please try again",
        "demo": "Demo data: the stations on this page are synthetic, not real",
        "demo_badge": "Demo", "lang_switch": "中文", "tap_map": "or tap the map to pick a spot",
        "members": "Members only", "temporarily_closed": "Temporarily closed",
        "more": "Show more", "unknown_hours": "not recorded",
        "skip_to_list": "Skip to the station list", "map_label": "Map",
        "results_label": "Station list", "kind_label": "Station type",
        "base_fallback": "Map tiles did not load; showing county outlines",
        "phone": "Phone", "operator": "Run by", "access": "Open to", "verified": "Last verified",
        "access_public": "All outdoor workers", "demo_phone": "(demo number, not dialable)",
        "not_recorded": "not recorded", "search_label": "Search a place or station",
        "search_placeholder": "Place, county or station", "search_go": "Search",
        "search_none": "No matching place found", "from_place": "Nearest to “{p}”",
    },
}

# The amenities a worker filters on most, offered as big toggle chips.
QUICK_AMENITIES = ("drinking_water", "toilet", "microwave", "phone_charging", "hot_water",
                   "shower", "truck_parking")


def pick(lang: str | None, default: str = "zh") -> str:
    return lang if lang in LANGS else default


def client_strings(lang: str) -> dict[str, object]:
    """Everything the page script needs to label things, in one JSON object."""
    return {
        "t": STRINGS[lang],
        "kinds": {k.code: (k.zh if lang == "zh" else k.en) for k in schema.KINDS},
        "amenities": {a.code: (a.zh if lang == "zh" else a.en) for a in schema.AMENITIES},
        "quickAmenities": list(QUICK_AMENITIES),
    }
