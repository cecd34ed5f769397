"""Labels of the planner page, Simplified Chinese first."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "站点覆盖规划", "kinds": "站点类型", "preset": "工种预设", "custom": "自定义半径",
        "radius": "服务半径（米）", "distance": "距离算法",
        "distance_network": "沿路网（实际步行距离）", "distance_straight": "直线距离",
        "network_note": "距离沿路网计算（含到道路的直线接入距离）",
        "demand": "需求图层", "none": "无（按面积）",
        "n": "新增站点数", "run": "计算", "computing": "正在计算，请稍候…",
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
    },
    "en": {
        "title": "Station coverage planner", "kinds": "Station kinds", "preset": "Job preset",
        "custom": "Custom radius", "radius": "Service radius (m)", "distance": "Distance",
        "distance_network": "along streets (real walking distance)",
        "distance_straight": "straight line",
        "network_note": "Distance along the street network (plus the straight walk to the "
        "nearest street)", "demand": "Demand layer",
        "none": "None (by area)", "n": "New stations", "run": "Compute",
        "computing": "Computing, please wait…", "failed": "Computation failed",
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
    },
}
