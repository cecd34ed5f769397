"""Labels of the planner page, Simplified Chinese first."""

from __future__ import annotations

from pathlib import PurePath

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "站点覆盖规划", "kinds": "站点类型", "preset": "工种预设", "custom": "自定义半径",
        "radius": "服务半径（米）", "distance": "距离算法",
        "distance_network": "沿路网（实际步行距离）", "distance_straight": "直线距离",
        "network_note": "距离沿路网计算（含到道路的直线接入距离）",
        "demand": "需求图层", "none": "无（按面积）",
        "n": "新增站点数", "run": "计算", "computing": "正在计算，请稍候…",
        "refining": "这是初步结果，正在继续优化，完成后页面会自动更新。", "progress": "计算进度",
        "failed": "计算失败", "coverage_map": "各县（市、区）覆盖率", "legend": "覆盖率",
        "gaps": "缺口区域", "sites": "建议新增站点", "county_table": "县级覆盖表",
        "county": "县（市、区）", "city": "市", "adcode": "区划代码", "area": "面积 km²",
        "area_share": "面积覆盖率", "demand_share": "人口覆盖率", "stations": "站点数",
        "uncovered": "未覆盖人口", "after": "新增后", "curve": "覆盖率与新增站点数",
        "headline": "站点数量", "report": "2023 年报告", "count": "本数据", "kind": "类型",
        "downloads": "下载", "rank": "序号", "adds": "新增覆盖", "people": "人",
        "km2": "km²", "gap_area": "缺口面积 km²", "mean_distance": "平均距离 m",
        "province": "全省", "certificate": "最优性", "bound": "上界", "gap": "差距",
        "lang_switch": "English", "demo": "演示数据：站点为程序生成的合成数据，并非真实站点",
        "new_sites": "新增站点数", "share": "覆盖率", "reach_note": "距离按直线计算，绕行系数",
        "status_Optimal": "已证明最优", "status_heuristic": "启发式解，差距为已证明的上限",
        "status_Time limit reached": "达到时限，差距为已证明的上限",
        "explain_area": "面积覆盖率：离最近站点不超过服务半径的土地面积所占的比例。",
        "explain_people": "人口覆盖率：住在离最近站点不超过服务半径范围内的人口所占的比例。",
        "explain_target": "全国目标：1 公里（步行约 15 分钟）内有一个站点。",
        "explain_sites": "每个建议站点按顺序选出，每次选能新覆盖最多{unit}的位置。",
        "within_gap": "已证明：这组选址与可能的最佳方案相差不超过 {gap}。",
        "best_unknown": "尚未证明与最佳方案的差距。",
        "demand_population": "人口（2020 年第七次人口普查）",
        "bad_param": "“{label}”的值无效，请修改后重新计算。",
        "bad_request": "参数无效，请修改后重新计算。",
        "detour": "绕行系数", "all_tables": "全部表格，每表一页",
        "region": "统计范围", "whole_province": "全省", "whole_city": "全市",
        "walk_areas": "建议站点 15 分钟步行范围",
        "region_note": "只统计本区域内的需求，只在本区域内选址；区域外附近的站点仍计入覆盖。",
    },
    "en": {
        "title": "Station coverage planner", "kinds": "Station kinds", "preset": "Job preset",
        "custom": "Custom radius", "radius": "Service radius (m)", "distance": "Distance",
        "distance_network": "along streets (real walking distance)",
        "distance_straight": "straight line",
        "network_note": "Distance along the street network (plus the straight walk to the "
        "nearest street)", "demand": "Demand layer",
        "none": "None (by area)", "n": "New stations", "run": "Compute",
        "computing": "Computing, please wait…",
        "refining": "A first result: it is being refined and the page will update itself.",
        "progress": "Progress", "failed": "Computation failed",
        "coverage_map": "Coverage by county", "legend": "Coverage", "gaps": "Gap areas",
        "sites": "Suggested new stations", "county_table": "County coverage table",
        "county": "County", "city": "City", "adcode": "Adcode", "area": "Area km²",
        "area_share": "Area covered", "demand_share": "People covered", "stations": "Stations",
        "uncovered": "People not covered", "after": "After new", "curve":
        "Coverage against number of new stations", "headline": "Station counts",
        "report": "2023 report", "count": "This dataset", "kind": "Kind",
        "downloads": "Downloads", "rank": "#", "adds": "Adds", "people": "people",
        "km2": "km²", "gap_area": "Gap km²", "mean_distance": "Mean distance m",
        "province": "Province", "certificate": "Optimality", "bound": "bound", "gap": "gap",
        "lang_switch": "中文", "demo": "Demo data: the stations are synthetic, not real",
        "new_sites": "new stations", "share": "coverage", "reach_note":
        "Straight-line distance, detour factor", "status_Optimal": "proven optimal",
        "status_heuristic": "heuristic; the gap is a proven limit",
        "status_Time limit reached": "time limit reached; the gap is a proven limit",
        "explain_area": "Area coverage: the share of land within the service radius of the "
        "nearest station.",
        "explain_people": "People coverage: the share of residents who live within the "
        "service radius of the nearest station.",
        "explain_target": "National target: a station within 1 km (about a 15-minute walk).",
        "explain_sites": "Sites are picked one by one, each where it newly covers the most "
        "{unit}.",
        "within_gap": "Proven: these sites are within {gap} of the best possible.",
        "best_unknown": "No proof yet of how close these sites are to the best possible.",
        "demand_population": "Population (2020 census)",
        "bad_param": "The value of “{label}” is not valid; please change it and compute again.",
        "bad_request": "A value is not valid; please change it and compute again.",
        "detour": "Detour factor", "all_tables": "every table, one sheet each",
        "region": "Area", "whole_province": "Whole province", "whole_city": "whole city",
        "walk_areas": "15-minute walk areas of suggested sites",
        "region_note": "Only demand inside this area is counted and sites are suggested "
        "inside it; stations just outside still count where they reach.",
    },
}


def demand_label(layer: str, lang: str) -> str:
    """A demand layer's name for people: a label for the built-in ones, else the file name.

    Layers given as a file path (the command line) are named by the file's
    stem, so that a report does not show a folder path.
    """
    t = STRINGS[lang]
    if layer == "none":
        return t["none"]
    if layer == "population":
        return t["demand_population"]
    return PurePath(layer).stem if ("/" in layer or "\\" in layer) else layer
