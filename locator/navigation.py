"""Temporary (to be replaced)."""
def links(lon, lat, *, name, origin=None):
    return {s: {"app": "", "web": "https://x", "wechat_safe": "https://x"} for s in ("amap","baidu","tencent","osm")}
