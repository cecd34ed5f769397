"""User-facing strings for the pages, Simplified Chinese first."""

from __future__ import annotations

from locator.domain import schema

LANGS = ("zh", "en")

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "职工服务站点查找", "locate": "定位我附近的站点", "locating": "正在定位…",
        "nearest": "离你最近", "filters": "筛选", "open_now": "现在开放", "all_kinds": "全部",
        "open": "开放中", "closed": "现在关闭", "unknown": "时间未知", "walk": "步行约 {n} 分钟",
        "walk_network": "沿路步行约 {n} 分钟", "walk_area": "15 分钟步行范围",
        "walk_area_hide": "隐藏步行范围", "walk_area_none": "该站点不在已载入的路网附近",
        "drive": "驾车约 {n} 分钟",
        "distance": "{d}", "call": "拨打电话", "navigate": "导航前往", "hours": "开放时间",
        "address": "地址", "amenities": "设施", "close": "关闭",
        "no_results": "附近没有符合条件的站点",
        "geo_denied": "无法获取位置：请在上方搜索地点，或在地图上点选您的位置",
        "error": "加载失败，请稍后重试",
        "demo": "演示数据：本页站点为程序生成的合成数据，并非真实站点",
        "demo_badge": "演示", "lang_switch": "English", "tap_map": "或在地图上点一下选择位置",
        "members": "仅限会员", "temporarily_closed": "暂停开放", "more": "显示更多",
        "closed_until": "暂停开放，预计 {date} 恢复", "reported": "有人反馈：{reasons}",
        "closed_because": "已关闭：{reason}",
        "unknown_hours": "未登记", "skip_to_list": "跳到站点列表", "map_label": "地图",
        "results_label": "站点列表", "kind_label": "站点类型",
        "base_fallback": "地图底图未能加载，已显示区县边界",
        "phone": "电话", "operator": "管理单位", "access": "服务对象", "verified": "最近核实",
        "access_public": "所有户外劳动者", "demo_phone": "（演示号码，不可拨打）",
        "not_recorded": "未登记", "search_label": "搜索地点或站点",
        "search_placeholder": "输入地名、区县或站点名", "search_go": "搜索",
        "search_none": "没有找到匹配的地点", "from_place": "离“{p}”最近",
        "nav_amap": "高德地图", "nav_baidu": "百度地图", "nav_tencent": "腾讯地图",
        "nav_osm": "OpenStreetMap 开放地图", "metres": "{n} 米", "kilometres": "{n} 公里",
        "too_far_to_walk": "太远，不宜步行",
        "offline_stale": "离线：这是上次查到的结果，可能已过时。",
        "geo_denied_wechat": "微信里无法获取位置：请点右上角“···”，选择“在浏览器打开”；"
                             "或直接在上方搜索地点",
        "outside_area": "您不在服务范围内：本地图只覆盖河南省。"
                        "下面仍列出离您最近的站点，距离为实际直线距离。",
        "share": "分享此站点", "share_copied": "链接已复制",
        "report_problem": "报告问题", "still_fine": "还在，一切正常",
        "checking_human": "正在进行防刷验证…", "confirm_sent": "谢谢！已记录这次确认",
        "confirm_failed": "没有记录上，请稍后重试",
        "zoom_in_count": "共 {n} 个站点，放大地图查看",
        "open_full": "打开完整地图", "demo_short": "演示数据", "locate_short": "定位",
        "sheet_expand": "展开全部信息", "sheet_collapse": "收起",
    },
    "en": {
        "title": "Find a workers' station", "locate": "Find stations near me",
        "locating": "Locating…", "nearest": "Nearest", "filters": "Filters",
        "open_now": "Open now", "all_kinds": "All", "open": "Open", "closed": "Closed now",
        "unknown": "Hours unknown", "walk": "about {n} min walk",
        "walk_network": "about {n} min walk along streets", "walk_area": "15-minute walk area",
        "walk_area_hide": "Hide walk area",
        "walk_area_none": "This station is not near the loaded street network",
        "drive": "about {n} min drive", "distance": "{d}",
        "call": "Call", "navigate": "Directions", "hours": "Hours", "address": "Address",
        "amenities": "Amenities", "close": "Close", "no_results": "No matching station nearby",
        "geo_denied": "Location unavailable: search a place above, or tap the map where you are",
        "error": "Loading failed, please try again",
        "demo": "Demo data: the stations on this page are synthetic, not real",
        "demo_badge": "Demo", "lang_switch": "中文", "tap_map": "or tap the map to pick a spot",
        "members": "Members only", "temporarily_closed": "Temporarily closed",
        "closed_until": "Closed until {date}", "reported": "Reported: {reasons}",
        "closed_because": "Closed: {reason}",
        "more": "Show more", "unknown_hours": "not recorded",
        "skip_to_list": "Skip to the station list", "map_label": "Map",
        "results_label": "Station list", "kind_label": "Station type",
        "base_fallback": "Map tiles did not load; showing county outlines",
        "phone": "Phone", "operator": "Run by", "access": "Open to", "verified": "Last verified",
        "access_public": "All outdoor workers", "demo_phone": "(demo number, not dialable)",
        "not_recorded": "not recorded", "search_label": "Search a place or station",
        "search_placeholder": "Place, county or station", "search_go": "Search",
        "search_none": "No matching place found", "from_place": "Nearest to “{p}”",
        "nav_amap": "Amap", "nav_baidu": "Baidu Maps", "nav_tencent": "Tencent Maps",
        "nav_osm": "OpenStreetMap", "metres": "{n} m", "kilometres": "{n} km",
        "too_far_to_walk": "too far to walk",
        "offline_stale": "Offline: these are the last results found and may be out of date.",
        "geo_denied_wechat": "WeChat did not share your location: tap “···” at the top right "
                             "and choose “Open in browser”, or search a place above",
        "outside_area": "You are outside the service area: this map covers Henan province only. "
                        "The nearest stations are listed below at their true distance.",
        "share": "Share this station", "share_copied": "Link copied",
        "report_problem": "Report a problem", "still_fine": "Still here, all fine",
        "checking_human": "Running the anti-spam check…",
        "confirm_sent": "Thank you! Your check is recorded",
        "confirm_failed": "Not recorded; try again in a moment",
        "zoom_in_count": "{n} stations: zoom in to list them",
        "open_full": "Open the full map", "demo_short": "Demo data", "locate_short": "Locate",
        "sheet_expand": "Show all details", "sheet_collapse": "Show less",
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
        "reasons": REASON_LABELS[lang],
    }


# The planner's table of how each union keeps its stations true.
UNION_COUNT_STRINGS: dict[str, dict[str, str]] = {
    "zh": {"heading": "各级工会反馈处理情况", "union": "工会", "open_cases": "待处理反馈",
           "stale": "超期未核实站点", "resolved": "已办结反馈",
           "median_days": "办结用时中位数（天）", "counties": "县（市、区）工会",
           "province": "全省合计",
           "explain": "待处理反馈含职工报告的问题和建议新增的站点；超期未核实指 {days} 天内"
                      "既无工会核实也无职工确认的开放或暂停站点；用时从首次反馈到办结。"
                      "市级工会的数字包含其下属县区。"},
    "en": {"heading": "How each union keeps up", "union": "Union", "open_cases": "Open cases",
           "stale": "Stale stations", "resolved": "Cases closed",
           "median_days": "Median days to resolve", "counties": "County unions",
           "province": "Province total",
           "explain": "Open cases are workers' reports and suggested stations still open; a "
                      "station is stale when neither its union nor a worker checked it within "
                      "{days} days (closed stations left out); the time runs from the first "
                      "report to the case's resolution. A city union's figures include its "
                      "counties."},
}


# The station-list import on the staff page.
IMPORT_STRINGS: dict[str, dict[str, str]] = {
    "zh": {"heading": "导入站点名单", "file": "名单文件（CSV、XLSX、GeoPackage）",
           "union": "导入到", "crs": "坐标系", "crs_auto": "按文件所写", "kind": "默认类型",
           "kind_none": "按文件", "check": "检查", "publish": "发布",
           "checking": "正在检查…", "publishing": "正在发布…",
           "summary": "读取 {rows} 行：可导入 {accepted} 行，拒绝 {rejected} 行。"
                      "发布后新增 {added}、更新 {updated}、删除 {removed}、"
                      "不变 {unchanged} 个站点（来源：{source}）。",
           "published": "已发布版本 {version}。", "nothing": "没有站点变化，未发布新版本。",
           "refused": "文件被拒绝：{message}", "failed": "失败：{message}",
           "row": "行", "column": "列", "value": "内容", "reason": "原因", "severity": "级别",
           "error": "错误", "warning": "提示", "no_problems": "没有发现问题。",
           "note": "只导入本工会辖区内的行，发布只替换本工会来源的站点；"
                   "辖区外的行在报告中列为错误。"},
    "en": {"heading": "Import a station list", "file": "List file (CSV, XLSX, GeoPackage)",
           "union": "Import for", "crs": "Coordinates", "crs_auto": "As the file says",
           "kind": "Default kind",
           "kind_none": "From the file", "check": "Check", "publish": "Publish",
           "checking": "Checking…", "publishing": "Publishing…",
           "summary": "Read {rows} rows: {accepted} can be imported, {rejected} rejected. "
                      "Publishing adds {added}, updates {updated}, removes {removed} and keeps "
                      "{unchanged} stations (source: {source}).",
           "published": "Published version {version}.",
           "nothing": "No station changed; no new version.",
           "refused": "File refused: {message}", "failed": "Failed: {message}",
           "row": "Row", "column": "Column", "value": "Value", "reason": "Reason",
           "severity": "Severity", "error": "error", "warning": "warning",
           "no_problems": "No problems found.",
           "note": "Only rows inside your union's area are imported, and publishing replaces "
                   "only your union's own source; rows outside are listed as errors."},
}


# Labels of the staff pages (login, the union's work queue).
STAFF_STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "login_title": "工会工作人员登录", "email": "电子邮箱", "password": "密码",
        "login": "登录", "logout": "退出登录", "logged_in_as": "已登录：{email}",
        "login_failed": "邮箱或密码不正确", "login_throttled": "登录失败次数过多，请几分钟后再试",
        "csrf_failed": "页面已过期，请刷新后重试", "staff_only": "仅供工会工作人员使用",
        "invalid_email": "请输入正确的电子邮箱", "back_to_map": "返回地图",
    },
    "en": {
        "login_title": "Union staff login", "email": "E-mail", "password": "Password",
        "login": "Log in", "logout": "Log out", "logged_in_as": "Logged in as {email}",
        "login_failed": "Wrong e-mail address or password",
        "login_throttled": "Too many failed logins; wait a few minutes and try again",
        "csrf_failed": "The page has expired; reload it and try again",
        "staff_only": "For union staff only", "invalid_email": "Enter a valid e-mail address",
        "back_to_map": "Back to the map",
    },
}


# Workers' reports: the fixed reasons and the ticket page.
REASON_LABELS: dict[str, dict[str, str]] = {
    "zh": {"closed": "关门或找不到", "moved": "已搬迁", "locked": "锁门或无人值守",
           "no_water": "没有饮用水", "no_toilet": "没有厕所", "dirty": "不卫生",
           "medicine_expired": "药品过期", "wrong_hours": "开放时间不对",
           "wrong_location": "位置不对", "other": "其他问题"},
    "en": {"closed": "Closed or not found", "moved": "Moved", "locked": "Locked or no one there",
           "no_water": "No drinking water", "no_toilet": "No toilet", "dirty": "Dirty",
           "medicine_expired": "Medicine expired", "wrong_hours": "Wrong opening hours",
           "wrong_location": "Wrong location", "other": "Other"},
}

FEEDBACK_STRINGS: dict[str, dict[str, str]] = {
    "zh": {"ticket_title": "反馈进度", "ticket_code": "反馈编号",
           "not_found": "没有找到这个反馈编号",
           "state_open": "处理中", "state_resolved": "已处理", "state_rejected": "未采纳",
           "reply": "工会回复", "no_reply": "工会还没有回复", "station": "站点",
           "suggestion": "新站点建议", "reason": "问题", "reported_at": "提交时间",
           "updated_at": "最近更新", "others": "共有 {n} 人反馈了同样的问题",
           "your_text": "您的说明"},
    "en": {"ticket_title": "Your report", "ticket_code": "Ticket", "not_found":
           "No report has that ticket code", "state_open": "Being handled",
           "state_resolved": "Resolved", "state_rejected": "Not accepted",
           "reply": "The union's reply", "no_reply": "No reply from the union yet",
           "station": "Station", "suggestion": "Suggested new station", "reason": "Problem",
           "reported_at": "Sent", "updated_at": "Last update",
           "others": "{n} people reported the same problem", "your_text": "Your words"},
}

REPORT_PAGE_STRINGS: dict[str, dict[str, str]] = {
    "zh": {"title": "反馈站点问题", "what": "遇到了什么问题？", "text": "补充说明（可不填）",
           "send": "提交反馈", "sending": "正在提交…", "sent": "已提交，反馈编号：{code}",
           "follow": "查看处理进度", "confirm": "站点还在，一切正常",
           "confirmed": "谢谢！已记录这次确认", "failed": "提交失败：{message}",
           "pick_reason": "请选择一个问题", "human": "正在进行防刷验证…",
           "altcha_label": "我不是机器人", "altcha_verifying": "正在验证…",
           "altcha_verified": "验证通过", "altcha_error": "验证失败，请重试",
           "photo": "现场照片（可不加，JPEG 或 PNG）",
           "photo_too_big": "照片太大（最大 {mb} MB），请换一张小一些的照片",
           "photo_bad": "无法读取这张照片：只接受 JPEG 或 PNG 图片",
           "challenge_failed": "防刷验证没有通过，请稍候重试"},
    "en": {"title": "Report a problem", "what": "What is wrong?",
           "text": "More details (optional)", "send": "Send", "sending": "Sending…",
           "sent": "Sent. Your ticket: {code}", "follow": "See what the union does",
           "confirm": "Still here, all fine", "confirmed": "Thank you! Your check is recorded",
           "failed": "Not sent: {message}", "pick_reason": "Pick a problem",
           "human": "Running the anti-spam check…", "altcha_label": "I am not a robot",
           "altcha_verifying": "Verifying…", "altcha_verified": "Verified",
           "altcha_error": "Verification failed, try again",
           "photo": "Photo (optional, JPEG or PNG)",
           "photo_too_big": "The photo is too large (at most {mb} MB); pick a smaller one",
           "photo_bad": "This photo cannot be read: only JPEG or PNG images are accepted",
           "challenge_failed": "The anti-spam check did not pass; try again in a moment"},
}

ADMIN_STRINGS: dict[str, dict[str, str]] = {
    "zh": {"title": "工会工作台", "cases": "待处理事项", "stale": "长期未核实的站点",
           "station": "站点", "reason": "问题", "age": "已等待", "days": "{n} 天",
           "reports": "反馈人数", "action": "处理", "reply": "回复反馈人",
           "resolve": "已处理", "reject": "不采纳", "escalated": "已上报",
           "suggestion": "新站点建议", "none": "没有待处理事项", "verified": "最近核实",
           "never": "从未核实", "scope_all": "显示下级全部事项", "done": "已保存",
           "failed": "保存失败：{message}", "stale_count": "共 {n} 个站点超过期限未核实",
           "photo": "现场照片 {n}"},
    "en": {"title": "Union work queue", "cases": "Open cases", "stale": "Stations not checked",
           "station": "Station", "reason": "Problem", "age": "Waiting", "days": "{n} days",
           "reports": "Reports", "action": "Action", "reply": "Reply to the reporter",
           "resolve": "Resolved", "reject": "Reject", "escalated": "Escalated",
           "suggestion": "Suggested station", "none": "Nothing to handle",
           "verified": "Last verified", "never": "never", "scope_all": "Show the whole area",
           "done": "Saved", "failed": "Not saved: {message}",
           "stale_count": "{n} stations are past their check date", "photo": "Photo {n}"},
}

EDIT_STRINGS: dict[str, dict[str, str]] = {
    "zh": {"heading": "编辑站点", "station_id": "站点编号", "load": "读取", "save": "保存修改",
           "edit": "编辑", "opening_hours": "开放时间（OSM 格式）", "phone": "电话",
           "amenities": "设施", "status": "状态", "reopens_on": "恢复开放日期",
           "closed_reason": "关闭原因", "lon": "经度（WGS-84）", "lat": "纬度（WGS-84）",
           "merge_into": "合并到站点（重复站点编号）", "merge": "合并", "saved": "已保存并发布",
           "stale": "您读取后，该站点已被他人修改，您的修改没有保存。请对照下面两个版本，"
                    "载入最新内容后再编辑。",
           "conflict_title": "版本冲突：您的修改没有保存", "conflict_field": "项目",
           "conflict_current": "当前已保存的内容", "conflict_yours": "您提交的修改",
           "reload": "载入最新内容", "empty": "（空）",
           "code_station_closed": "该站点已关闭，请先恢复开放再做此修改",
           "code_merge_into_self": "不能把站点合并到它自己",
           "code_merge_target_closed": "要保留的站点已关闭，不能合并到它",
           "forbidden": "无权编辑：该站点或新位置不在本工会辖区内。",
           "invalid": "填写有误（{field}）：{message}", "conflict": "状态冲突：{message}",
           "failed": "保存失败：{message}", "loaded": "已读取：{name}",
           "accept": "采纳并发布"},
    "en": {"heading": "Edit a station", "station_id": "Station id", "load": "Load",
           "save": "Save changes", "edit": "Edit", "opening_hours": "Opening hours (OSM syntax)",
           "phone": "Phone", "amenities": "Amenities", "status": "Status",
           "reopens_on": "Reopens on", "closed_reason": "Reason for closing",
           "lon": "Longitude (WGS-84)", "lat": "Latitude (WGS-84)",
           "merge_into": "Merge into station (id of the one to keep)", "merge": "Merge",
           "saved": "Saved and published",
           "stale": "Someone else changed this station after you loaded it; your change "
                    "was not saved. Compare both versions below, load the current one and "
                    "edit again.",
           "conflict_title": "Version conflict: your change was not saved",
           "conflict_field": "Field", "conflict_current": "Saved now",
           "conflict_yours": "Your change", "reload": "Load the current version",
           "empty": "(empty)",
           "code_station_closed": "The station is closed; reopen it before this change",
           "code_merge_into_self": "A station cannot be merged into itself",
           "code_merge_target_closed": "The station to keep is closed; it cannot take a merge",
           "forbidden": "Not allowed: the station or its new point is outside your union's "
                        "area.",
           "invalid": "Please correct {field}: {message}", "conflict": "Conflict: {message}",
           "failed": "Not saved: {message}", "loaded": "Loaded: {name}",
           "accept": "Accept and publish"},
}

# The embed builder (/embed/builder), its form and its error messages.
BUILDER_STRINGS: dict[str, dict[str, str]] = {
    "zh": {"title": "嵌入地图生成器", "heading": "嵌入地图生成器", "kinds": "站点类型",
           "must_have": "必备设施", "area": "范围", "region": "地区",
           "whole_province": "全省 / 自定义", "whole_city": "全市", "bbox": "范围框 bbox",
           "center": "中心（纬度,经度）", "zoom": "缩放", "look": "外观", "language": "语言",
           "default": "默认", "show_list": "显示站点列表", "theme": "主题", "light": "浅色",
           "dark": "深色", "accent": "主色", "width": "宽", "height": "高", "snippet": "代码",
           "copy": "复制代码", "copied": "已复制", "preview": "预览",
           "err_zoom": "缩放应为 {lo} 到 {hi} 之间的整数",
           "err_width": "宽应为 {lo} 到 {hi} 之间的整数（像素）",
           "err_height": "高应为 {lo} 到 {hi} 之间的整数（像素）",
           "err_bbox": "范围框应为“西,南,东,北”四个经纬度数字，西小于东、南小于北，"
                       "例如 113.5,34.7,113.8,34.9",
           "err_center": "中心应为“纬度,经度”两个数字，例如 34.7466,113.6254",
           "err_other": "无法生成代码：请检查填写的内容",
           "err_network": "无法生成代码：网络连接失败，请稍后重试"},
    "en": {"title": "Embed builder", "heading": "Embed the station map", "kinds": "Kinds",
           "must_have": "Must have", "area": "Area", "region": "Region",
           "whole_province": "Whole province / custom", "whole_city": "whole city",
           "bbox": "bbox", "center": "Centre (lat,lon)", "zoom": "Zoom", "look": "Look",
           "language": "Language", "default": "default", "show_list": "Show the list",
           "theme": "Theme", "light": "light", "dark": "dark", "accent": "Accent",
           "width": "Width", "height": "Height", "snippet": "Snippet", "copy": "Copy",
           "copied": "Copied", "preview": "Preview",
           "err_zoom": "Zoom must be a whole number from {lo} to {hi}",
           "err_width": "Width must be a whole number of pixels from {lo} to {hi}",
           "err_height": "Height must be a whole number of pixels from {lo} to {hi}",
           "err_bbox": "bbox must be four numbers west,south,east,north with west < east and "
                       "south < north, e.g. 113.5,34.7,113.8,34.9",
           "err_center": "Centre must be two numbers lat,lon, e.g. 34.7466,113.6254",
           "err_other": "Could not build the snippet: check the form",
           "err_network": "Could not build the snippet: the network failed, try again"},
}


def builder_strings(lang: str, bounds: dict[str, tuple[float, float]]) -> dict[str, str]:
    """The builder's labels, with the ranges of its number inputs filled in.

    ``bounds`` maps an input (``zoom``, ``width``, ``height``) to its range.
    """
    out = dict(BUILDER_STRINGS[lang])
    for name, (lo, hi) in bounds.items():
        key = f"err_{name}"
        out[key] = out[key].format(lo=f"{lo:g}", hi=f"{hi:g}")
    return out
