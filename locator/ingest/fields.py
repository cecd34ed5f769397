"""Text columns of an imported file: cell checks, kinds, hours, amenities, phones,
statuses and dates, each worked out once per distinct value."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from locator.domain import schema
from locator.ingest.columns import ColumnMapping, Columns, amenities_of, kind_from_name, kind_of
from locator.ingest.hours import convert_unique
from locator.ingest.read import RawTable
from locator.ingest.report import Report

_FORMULA = re.compile(r"^(?:[=@]|[+\-](?![\d\s().\-/,转]*$))")
_APOSTROPHE = re.compile(r"^'(?=[=+\-@])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SUSPECT = re.compile(r"^['=+\-@]|[\x00-\x08\x0b-\x1f\x7f]")
_PHONE = re.compile(r"^[0-9+()\- ,/转]{3,40}$")
TEXT_FIELDS = ("id", "name", "address", "kind", "opening_hours", "phone", "operator", "county",
               "city", "amenities", "status", "access", "verified_at", "approximate", "datum")
_STATUS_WORDS = {**{t.code: t.code for t in schema.STATUSES},
                 **{t.zh: t.code for t in schema.STATUSES},
                 "开放": "open", "正常": "open", "运行": "open", "暂停": "temporarily_closed",
                 "关闭": "closed", "撤销": "closed"}
_ACCESS_WORDS = {**{t.code: t.code for t in schema.ACCESS}, **{t.zh: t.code for t in schema.ACCESS}}


def text_fields(table: RawTable, cols: Columns, rep: Report) -> dict[str, pd.Series]:
    """Every text field as a stripped string column ('' when absent); formulas and
    control characters reported.

    Work is done on each column's distinct values; a single regex search picks
    the few values that need a closer look.
    """
    n = len(table.frame)
    out: dict[str, pd.Series] = {}
    for name in (*TEXT_FIELDS, "lon", "lat", "coords"):
        header = cols.by_field.get(name)
        if header is None:
            out[name] = pd.Series([""] * n, dtype=object)
            continue
        codes, uniq = pd.factorize(table.frame[header].to_numpy(object), use_na_sentinel=False)
        raw = [str(u).strip() for u in uniq]
        raw = ["" if u.lower() in ("nan", "none", "null") else u for u in raw]
        clean = list(raw)
        formula_u = np.zeros(len(raw), dtype=bool)
        ctrl_u = np.zeros(len(raw), dtype=bool)
        for i, u in enumerate(raw):
            if _SUSPECT.search(u):
                formula_u[i] = bool(_FORMULA.search(u))
                clean[i] = _APOSTROPHE.sub("", u)
                ctrl_u[i] = not formula_u[i] and bool(_CONTROL.search(clean[i]))
        s = pd.Series(np.asarray(clean, dtype=object)[codes], dtype=object)
        formula, ctrl = formula_u[codes], ctrl_u[codes]
        rep.add("formula", table.rows[formula], header,
                np.asarray(raw, dtype=object)[codes][formula])
        rep.add("control_chars", table.rows[ctrl], header, s[ctrl].to_numpy())
        if name in ("name", "address", "operator", "county", "city"):
            length = np.fromiter(map(len, clean), dtype=np.int64, count=len(clean))[codes]
            long = length > schema.MAX_TEXT
            rep.add("text_too_long", table.rows[long], header, s[long].to_numpy(),
                    length[long].astype(str))
        out[name] = s
    return out


def attributes(table: RawTable, text: dict[str, pd.Series], mapping: ColumnMapping,
                default_kind: str | None, rep: Report) -> dict[str, Any]:
    rows = table.rows
    name = text["name"]
    blank = (name == "").to_numpy()
    rep.add("name_missing", rows[blank], "name")
    kind = _kinds(rows, text["kind"], name, mapping, default_kind, rep)
    raw_hours = text["opening_hours"]
    conv = convert_unique(raw_hours[raw_hours != ""])
    osm = raw_hours.map(lambda v: conv.get(v) if v else None)
    unparsed = ((raw_hours != "") & osm.isna()).to_numpy()
    rep.add("hours_unparsed", rows[unparsed], "opening_hours", raw_hours[unparsed].to_numpy())
    hours = osm.where(~pd.Series(unparsed), raw_hours)  # unknown text is kept, never guessed
    am = text["amenities"]
    parsed = {u: amenities_of(u, mapping) for u in pd.unique(am[am != ""])}
    codes = am.map(lambda v: parsed[v][0] if v else "")
    unknown = am.map(lambda v: "、".join(parsed[v][1]) if v else "")
    has = (unknown != "").to_numpy()
    rep.add("amenity_unknown", rows[has], "amenities", am[has].to_numpy(), unknown[has].to_numpy())
    phone = text["phone"].map(lambda v: unicodedata.normalize("NFKC", v))
    bad_phone = ((phone != "") & ~phone.str.match(_PHONE)).to_numpy()
    rep.add("phone_unusable", rows[bad_phone], "phone", phone[bad_phone].to_numpy())
    phone = phone.where(~pd.Series(bad_phone), "")
    status = _choice(rows, text["status"], _STATUS_WORDS, "open", "status", rep)
    access = _choice(rows, text["access"], _ACCESS_WORDS, "public", "access", rep)
    verified = pd.to_datetime(text["verified_at"], errors="coerce", format="mixed")
    bad_date = (verified.isna() & (text["verified_at"] != "")).to_numpy()
    rep.add("bad_value", rows[bad_date], "verified_at", text["verified_at"][bad_date].to_numpy(),
            "YYYY-MM-DD")
    return {"kind": kind, "name": name.to_numpy(object),
            "address": _none(text["address"]), "opening_hours": hours.to_numpy(object),
            "amenities": codes.to_numpy(object), "phone": _none(phone),
            "operator": _none(text["operator"]), "access": access, "status": status,
            "verified_at": verified.dt.strftime("%Y-%m-%d").astype(object)
            .where(verified.notna(), None).to_numpy(object)}


def _none(s: pd.Series) -> np.ndarray:
    return s.where(s != "", None).to_numpy(object)


def _kinds(rows: np.ndarray, kinds: pd.Series, names: pd.Series, mapping: ColumnMapping,
           default_kind: str | None, rep: Report) -> np.ndarray:
    uniq = {u: kind_of(u, mapping) for u in pd.unique(kinds[kinds != ""])}
    got = kinds.map(lambda v: uniq.get(v) if v else None)
    unknown = ((kinds != "") & got.isna()).to_numpy()
    rep.add("kind_unknown", rows[unknown], "kind", kinds[unknown].to_numpy())
    empty = (kinds == "").to_numpy()
    fallback = default_kind
    if fallback is None:
        guess = names[empty].map(kind_from_name)
        got[empty] = guess
    else:
        got[empty] = fallback
    nothing = empty & got.isna().to_numpy()
    rep.add("kind_missing", rows[nothing], "kind", names[nothing].to_numpy())
    return got.to_numpy(object)


def _choice(rows: np.ndarray, values: pd.Series, words: dict[str, str], default: str,
            column: str, rep: Report) -> np.ndarray:
    got = values.map(lambda v: words.get(v.strip().lower(), words.get(v.strip())) if v
                     else default)
    bad = got.isna().to_numpy()
    rep.add("bad_value", rows[bad], column, values[bad].to_numpy(),
            " / ".join(sorted(set(words.values()))))
    return got.fillna(default).to_numpy(object)
