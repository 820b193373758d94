"""HL7 V3 datatype rules (DTr1) as the DOB schematron applies them.

Follows ``reference/bds/rules/datatype-rules.md`` to the letter, including its "as
implemented" notes: a template row ``kind=datatype, target=.`` names a family, and the
element must satisfy that family and every family it inherits from. Each check appends
the rule label (DTr1 id, or the quoted start of the message for the Dutch rules without
id); ids, severities and texts come from the compiled rule file.

Where the table leaves a detail open, the choice is stated at the check. Sibling
comparisons use string keys; "text" is XPath text (whitespace counts unless the rule
says "non-whitespace").
"""

from __future__ import annotations

import calendar
import re
from functools import lru_cache
from typing import Callable

from .paths import (
    H,
    XML_WS,
    XSI_TYPE,
    children,
    first_child,
    has_child_elements,
    has_text_node,
    is_hl7_type,
    own_text,
    same_named_siblings,
    string_value,
    xpath_number,
)

XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
from .paths import NF  # noqa: E402

# --------------------------------------------------------------------------- helpers

_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))*\Z")
_UUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\Z")
_RUID = re.compile(r"^[A-Za-z][A-Za-z0-9\-]*\Z")
_LANG = re.compile(r"^([a-z]{2,3}(-[a-z]{2})?|[ix]-[a-z0-9]{1,8}(-[a-z0-9]{1,8})*)\Z", re.IGNORECASE)
_TS = re.compile(r"^(-?)([0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(\.[0-9]+)?)?)?)?)?)?)?)([+-][0-9]{1,4})?\Z")
_TIME_UNITS = frozenset({"us", "ms", "s", "min", "h", "d", "wk", "mo", "a"})
_URI_BAD = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f-\U0010ffff]')
_DIGITS9 = re.compile(r"^[0-9]{9}\Z")
_DIGITS8 = re.compile(r"^[0-9]{8}\Z")
_XML_WS_RUN = re.compile(r"[ \t\r\n]+")


def _has(el, name: str) -> bool:
    tag = H + name
    for c in el:
        if c.tag == tag:
            return True
    return False


def _kids(el, name: str) -> list:
    tag = H + name
    return [c for c in el if c.tag == tag]


def _desc(el, name: str) -> list:
    return list(el.iterdescendants(H + name))


def _not_ws(text: str) -> bool:
    return bool(text.strip(XML_WS))


@lru_cache(maxsize=8192)
def ts_parts(value: str) -> tuple | None:
    """A valid HL7 TS as a comparable tuple (missing parts 01/00), or None (dtr1-2-TS)."""
    m = _TS.match(value)
    if not m:
        return None
    sign, digits, frac, _tz = m.group(1), m.group(2), m.group(3), m.group(4)
    if frac:
        digits = digits[: -len(frac)]
    year = int(digits[0:4]) if len(digits) >= 4 else int(digits[0:2]) * 100
    month = int(digits[4:6]) if len(digits) >= 6 else 1
    day = int(digits[6:8]) if len(digits) >= 8 else 1
    hour = int(digits[8:10]) if len(digits) >= 10 else 0
    minute = int(digits[10:12]) if len(digits) >= 12 else 0
    second = int(digits[12:14]) if len(digits) >= 14 else 0
    if not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 59:
        return None
    if not 1 <= day <= calendar.monthrange(year if year > 0 else 2000, month)[1]:
        return None
    year = -year if sign else year
    return (year, month, day, hour, minute, second, float("0" + frac) if frac else 0.0)


# --------------------------------------------------------------------------- families

ANY_ALLOWED = frozenset({XSI_TYPE, XSI_NIL, "classCode", "typeCode", "determinerCode", "moodCode", NF, "partType"})
ANY_ALLOWED_OTH = frozenset({XSI_TYPE, XSI_NIL, NF, "partType", "codeSystem", "codeSystemName", "codeSystemVersion",
                             "extension", "valueSet", "valueSetVersion"})
ANY_DEFAULTS = {"codeSystem": "2.16.840.1.113883.5.139", "codeSystemName": "TimingEvent",
                "integrityCheckAlgorithm": "SHA-1", "inverted": "false", "mediaType": "text/plain",
                "operator": "I", "representation": "TXT", "inclusive": "true", "unit": "1"}


def _null_ok(x) -> bool:
    """dtr1-1-ANY for one element that has a nullFlavor."""
    attrs = x.attrib
    if all(k in ANY_ALLOWED or ANY_DEFAULTS.get(k) == v for k, v in attrs.items()):
        if not has_child_elements(x) and not has_text_node(x):
            return True
    if x.get(NF) in ("OTH", "NA", "UNC"):
        if all(k in ANY_ALLOWED_OTH or ANY_DEFAULTS.get(k) == v for k, v in attrs.items()):
            return (x.get("extension") is not None or x.get("codeSystem") is not None
                    or _has(x, "originalText") or _has(x, "translation"))
    return False


def check_any(el, out: list) -> None:
    if el.get(NF) is not None and not _null_ok(el):
        out.append("dtr1-1-ANY")
        return
    if len(el):
        for x in el.iterdescendants():
            if isinstance(x.tag, str) and x.get(NF) is not None and not _null_ok(x):
                out.append("dtr1-1-ANY")
                return


def check_bin(el, out: list) -> None:
    if el.get(NF) is None and not has_child_elements(el) and not _not_ws(own_text(el)):
        out.append("dtr1-1-BIN")


def _plain(el) -> bool:
    """No children and no attribute but xsi:type: nothing for the ED and ST rules to check."""
    return not len(el) and all(k == XSI_TYPE for k in el.attrib)


def check_ed(el, out: list) -> None:
    if _plain(el):
        return
    g = el.get
    null = g(NF) is not None
    if g("integrityCheck") is not None and g("integrityCheckAlgorithm") is None:
        out.append("dtr1-2-ED")
    thumbs = _kids(el, "thumbnail")
    if any(t.get(NF) is not None and _has(t, "reference") for t in thumbs):
        out.append("dtr1-3-ED")
    if any(_has(t, "thumbnail") for t in thumbs):
        out.append("dtr1-4-ED")
    if g("compression") is not None:
        binary = any(r.get("value") is not None for r in _kids(el, "reference")) or (
            g("representation") == "B64" and has_text_node(el))
        if not binary:
            out.append("dtr1-5-ED")
    if g("value") is not None and g("mediaType") not in (None, "text/plain"):
        out.append("dtr1-6-ED")
    for t in _kids(el, "reference") + thumbs:
        if any(t.get(a) is not None for a in ("validTimeLow", "validTimeHigh", "updateMode")):
            out.append("dtr1-7-ED")
            break
    if g("charset") is not None and (g("value") is not None or _has(el, "xml")):
        out.append("dtr1-8-ED")
    if _has(el, "translation") and not any(not _has(t, "translation") for t in thumbs):
        out.append("dtr1-9-ED")
    if null:
        if g("mediaType") not in (None, "text/plain"):
            out.append("dtr1-10-ED")
        if g("charset") is not None:
            out.append("dtr1-11-ED")
        if g("language") is not None:
            out.append("dtr1-12-ED")
        if g("compression") is not None:
            out.append("dtr1-13-ED")
        if g("integrityCheck") is not None:
            out.append("dtr1-14-ED")
        if g("integrityCheckAlgorithm") not in (None, "SHA-1"):
            out.append("dtr1-15-ED")
        if any(t.get(NF) is None for t in thumbs):
            out.append("dtr1-16-ED")
        if _has(el, "translation"):
            out.append("dtr1-17-ED")
    lang = g("language")
    if lang is not None and not _LANG.match(lang):
        out.append("dtr1-18-ED")


def check_st(el, out: list) -> None:
    if _plain(el):
        return
    g = el.get
    if _has(el, "reference"):
        out.append("dtr1-3-ST")
    if _has(el, "thumbnail"):
        out.append("dtr1-4-ST")
    if g("representation") not in (None, "TXT"):
        out.append("dtr1-5-ST")
    if g("mediaType") not in (None, "text/plain"):
        out.append("dtr1-6-ST")
    if g("compression") is not None:
        out.append("dtr1-7-ST")
    if g("integrityCheck") is not None:
        out.append("dtr1-8-ST")
    if g("integrityCheckAlgorithm") not in (None, "SHA-1"):
        out.append("dtr1-9-ST")


def check_sc(el, out: list) -> None:
    g = el.get
    if g("code") is not None and g("codeSystem") is None:
        out.append("dtr1-2-SC")
    if g("codeSystemName") is not None and g("codeSystem") is None:
        out.append("dtr1-3-SC")
    if g("codeSystemVersion") is not None and g("codeSystem") is None:
        out.append("dtr1-4-SC")
    if g("displayName") is not None and g("code") is None:
        out.append("dtr1-5-SC")
    if g(NF) is not None:
        if g("code") is not None:
            out.append("dtr1-6-SC")
        if g("displayName") is not None:
            out.append("dtr1-7-SC")


def check_adxp(el, out: list) -> None:
    sibs = same_named_siblings(el)
    if sibs:
        mine = string_value(el)
        if any(string_value(s) == mine for s in sibs):
            out.append("dtr1-1-ADXP")


def _name_key(el) -> str:
    return (el.get("use") or "") + string_value(el)


def _tokens(value: str | None) -> list[str]:
    """XPath ``tokenize(., '\\s+')``: split on XML whitespace only."""
    return [t for t in _XML_WS_RUN.split(value) if t] if value else []


def check_en(el, out: list) -> None:
    null = el.get(NF) is not None
    kids = children(el)
    text = _not_ws(own_text(el))
    if null and (kids or has_text_node(el)):
        out.append("dtr1-1.1-EN")
    if kids and text:
        out.append("dtr1-1.2-EN")
    if not null and not kids and not text:
        out.append("dtr1-1.3-EN")
    # "empty" part: its string value is the empty string.
    if any(k.tag != H + "validTime" and k.get(NF) is None and string_value(k) == "" and not has_child_elements(k)
           for k in kids):
        out.append("dtr1-3-EN")
    if string_value(el).startswith('"'):
        out.append("dtr1-4-EN")
    sibs = same_named_siblings(el)
    if null and any(s.get(NF) is None for s in sibs):
        out.append("dtr1-5-EN")
    if sibs:
        key = _name_key(el)
        if any(_name_key(s) == key for s in sibs):
            out.append("dtr1-6-EN")
    # As implemented: passes as soon as one part has no repeated token; a name without
    # parts passes (there is no part to test).
    if kids and all(len(t) != len(set(t)) for t in (_tokens(k.get("qualifier")) for k in kids)):
        out.append("dtr1-7-EN")


def _ls_part(el) -> bool:
    return any("LS" in _tokens(k.get("qualifier")) for k in children(el))


def check_pn(el, out: list) -> None:
    if _ls_part(el):
        out.append("dtr1-1-PN")


PN_IN = "Datatype PN: als given/@qualifier 'IN' bevat"
PN_IN_CL = "Datatype PN: given/@qualifier 'IN' en 'CL'"
PN_CL = "Datatype PN: als given/@qualifier 'CL' bevat"
PN_VV = "Datatype PN: als er een spatie tussen een voorvoegsel"
PN_PREFIX = "Datatype PN: voorvoegsels moeten in het prefix element"


def check_pn_nl(el, out: list) -> None:
    if _ls_part(el):
        out.append("PN.NL:dtr1-1-PN")
    givens = _kids(el, "given")
    initials = [g for g in givens if "IN" in (g.get("qualifier") or "") and g.get("qualifier") is not None]
    if initials:
        def initial_ok(g) -> bool:
            t = own_text(g)
            return "." in t and t.endswith(".") and not t.startswith(".")
        if not any(initial_ok(g) for g in initials):
            out.append(PN_IN)
    if any("IN" in q and "CL" in q for q in (g.get("qualifier") for g in givens) if q is not None):
        out.append(PN_IN_CL)
    if any("CL" in (g.get("qualifier") or "") and "." in own_text(g) for g in givens if g.get("qualifier") is not None):
        out.append(PN_CL)
    if any(p.get("qualifier") == "VV" and not own_text(p).endswith(" ") for p in _kids(el, "prefix")):
        out.append(PN_VV)
    if any(string_value(f).startswith(("van ", "de ", "in ")) for f in _kids(el, "family")):
        out.append(PN_PREFIX)


def check_on(el, out: list) -> None:
    if _has(el, "family") or _has(el, "given"):
        out.append("dtr1-1-ON")
    if has_child_elements(el):
        out.append("dtr1-2-ON")


def check_tn(el, out: list) -> None:
    if has_child_elements(el):
        out.append("dtr1-1-TN")


def check_ad(el, out: list) -> None:
    null = el.get(NF) is not None
    kids = children(el)
    text = _not_ws(own_text(el))
    if not (null or (kids and not text) or (text and not kids)):
        out.append("dtr1-1-AD")
    periods = _kids(el, "useablePeriod")
    if null and _has(el, "thumbnail") and any(p.get(NF) is None for p in periods):
        out.append("dtr1-2-AD")
    if any(p.get("updateMode") is not None for p in periods):
        out.append("dtr1-3-AD")
    bad5 = bad6 = bad7 = False
    for p in periods:
        lo = [x.get("value") for x in _kids(p, "low") if x.get("value") is not None]
        hi = [x.get("value") for x in _kids(p, "high") if x.get("value") is not None]
        if lo and hi:
            if len(lo[0]) != len(hi[0]):
                bad5 = True
            if not xpath_number((lo[0] + "0" * 14)[:14]) < xpath_number((hi[0] + "0" * 14)[:14]):
                bad6 = True
        if any(w.get("unit") is not None and w.get("unit") not in _TIME_UNITS for w in _kids(p, "width")):
            bad7 = True
    if bad5:
        out.append("dtr1-5-AD")
    if bad6:
        out.append("dtr1-6-AD")
    if bad7:
        out.append("dtr1-7-AD")
    if any(k.tag != H + "useablePeriod" and k.get(NF) is None and string_value(k) == "" and not has_child_elements(k)
           for k in kids):
        out.append("dtr1-8-AD")
    sibs = same_named_siblings(el)
    if null and any(s.get(NF) is None for s in sibs):
        out.append("dtr1-9-AD")
    if sibs:
        key = _name_key(el)
        if any(_name_key(s) == key for s in sibs):
            out.append("dtr1-10-AD")


def check_url(el, out: list) -> None:
    null = el.get(NF) is not None
    value = el.get("value")
    if not null and value is None:
        out.append("dtr1-1-URL")
    if value is not None and _URI_BAD.search(value):
        out.append("dtr1-2-URL")
    sibs = same_named_siblings(el)
    if null and any(s.get(NF) is None for s in sibs):
        out.append("dtr1-4-URL")
    if value is not None and sibs:
        key = (el.get("use") or "") + value
        if any(s.get("value") is not None and (s.get("use") or "") + s.get("value") == key for s in sibs):
            out.append("dtr1-5-URL")


def check_tel(el, out: list) -> None:
    if el.get(NF) is not None and _has(el, "useablePeriod"):
        out.append("dtr1-1-TEL")


@lru_cache(maxsize=4096)
def _root_flags(root: str) -> tuple[bool, bool, bool, bool]:
    """(too long, not OID or UUID, RUID, lower-case UUID) for an II root."""
    uuid = bool(_UUID.match(root))
    return (len(root) > 128, not (_OID.match(root) or uuid), bool(_RUID.match(root)) and not uuid,
            uuid and re.search("[a-f]", root) is not None)


def check_ii(el, out: list) -> None:
    g = el.get
    root = g("root")
    ext = g("extension")
    if g(NF) is not None:
        if root is not None:
            out.append("dtr1-2-II")
        for attr, label in (("identifierName", "dtr1-4-II"), ("displayable", "dtr1-5-II"),
                            ("reliability", "dtr1-6-II"), ("assigningAuthorityName", "dtr1-7-II")):
            if g(attr) is not None:
                out.append(label)
    elif root is None:
        out.append("dtr1-1-II")
    if root is not None:
        long_root, not_oid, ruid, lower_uuid = _root_flags(root)
        if long_root:
            out.append("dtr1-8-II")
    if ext is not None and len(ext) > 64:
        out.append("dtr1-9-II")
    if root is not None:
        if not_oid:
            out.append("dtr1-10-II")
        if ruid:
            out.append("dtr1-10a-II")
        sibs = same_named_siblings(el)
        if sibs and any(s.get("root") == root and (ext is None or s.get("extension") == ext) for s in sibs):
            out.append("dtr1-12-II")
        if lower_uuid:
            out.append("dtr1-13-II")


def _ii_nl(root_ok: tuple, rules: tuple) -> Callable:
    """II.NL.* families: root check, then the extension format per root."""
    def check(el, out: list) -> None:
        if el.get(NF) is not None:
            return
        root = el.get("root")
        if root not in root_ok:
            out.append(rules[0])
        for r, label, fmt in rules[1]:
            if root == r and not fmt(el.get("extension") or ""):
                out.append(label)
    return check


def _bsn_ok(ext: str) -> bool:
    if not _DIGITS9.match(ext):
        return True  # dtr1-2 reports the format
    d = [int(c) for c in ext]
    return (sum(w * x for w, x in zip((9, 8, 7, 6, 5, 4, 3, 2), d)) - d[8]) % 11 == 0


def _bsn(el, out: list) -> None:
    if el.get(NF) is not None:
        return
    root, ext = el.get("root"), el.get("extension") or ""
    if root != "2.16.840.1.113883.2.4.6.3":
        out.append("dtr1-1-II.NL.BSN")
        return
    if not _DIGITS9.match(ext):
        out.append("dtr1-2-II.NL.BSN")
    elif not _bsn_ok(ext):
        out.append("dtr1-3-II.NL.BSN")


_d8 = _DIGITS8.match
_d9 = _DIGITS9.match
#: The extension formats the II.NL rules below require, by identifier (for checks at the edges).
IDENTIFIER_FORMAT = {"URA": (_d8, "8 digits"), "UZI": (_d9, "9 digits")}
check_agb = _ii_nl(("2.16.840.1.113883.2.4.6.1",), ("dtr1-1-II.NL.AGB", [("2.16.840.1.113883.2.4.6.1", "dtr1-2-II.NL.AGB", _d8)]))
check_big = _ii_nl(("2.16.528.1.1007.5.1",), ("dtr1-1-II.NL.BIG", []))
check_ura = _ii_nl(("2.16.528.1.1007.3.3",), ("dtr1-1-II.NL.URA", [("2.16.528.1.1007.3.3", "dtr1-2-II.NL.URA", _d8)]))
check_uzi = _ii_nl(("2.16.528.1.1007.3.1", "2.16.528.1.1007.3.2"),
                   ("dtr1-1-II.NL.UZI", [("2.16.528.1.1007.3.1", "dtr1-2-II.NL.UZI", _d9),
                                         ("2.16.528.1.1007.3.2", "dtr1-3-II.NL.UZI", _d9)]))


def check_cd(el, out: list) -> None:
    g = el.get
    null = g(NF) is not None
    code, cs = g("code"), g("codeSystem")
    dn = g("displayName")
    has_children = len(el) > 0
    if not (null or code is not None or (has_children and any(o.get(NF) is None for o in _kids(el, "originalText")))):
        out.append("dtr1-1-CD")
    if cs is None:
        if code is not None:
            out.append("dtr1-2-CD")
        if g("codeSystemName") is not None:
            out.append("dtr1-3-CD")
        if g("codeSystemVersion") is not None:
            out.append("dtr1-4-CD")
    if dn is not None and code is None:
        out.append("dtr1-5-CD")
    if null and code is not None:
        out.append("dtr1-6-CD")
    if null and dn is not None:
        out.append("dtr1-7-CD")
    translations = _desc(el, "translation") if has_children else ()
    if translations:
        if any(t.get(NF) is not None for t in translations):
            out.append("dtr1-10-CD")
        if any(t.get("codeSystem") is not None and t.get("code") is None for t in translations):
            out.append("dtr1-11-CD")
        if any(t.get("codeSystemName") is not None and t.get("codeSystem") is None for t in translations):
            out.append("dtr1-12-CD")
        if any(t.get("codeSystemVersion") is not None and t.get("codeSystem") is None for t in translations):
            out.append("dtr1-13-CD")
        if any(t.get("displayName") is not None and t.get("code") is None for t in translations):
            out.append("dtr1-14-CD")
    if dn is not None and ("\r" in dn or "\n" in dn or "\t" in dn):
        out.append("dtr1-15-CD")
    if code is not None and cs is not None:
        sibs = same_named_siblings(el)
        if sibs and any(s.get("code") == code and s.get("codeSystem") == cs for s in sibs):
            out.append("dtr1-18-CD")
    if len(translations) > 1:
        keys = [(t.get("code") or "") + (t.get("codeSystem") or "") for t in translations]
        if len(keys) != len(set(keys)):
            out.append("dtr1-19-CD")
    if has_children and any(o.get("language") is not None and not _LANG.match(o.get("language"))
                            for o in _kids(el, "originalText")):
        out.append("dtr1-20-CD")


def check_ce(el, out: list) -> None:
    if len(el) and _has(el, "qualifier"):
        out.append("dtr1-1-CE")


def check_cs(el, out: list) -> None:
    g = el.get
    null = g(NF) is not None
    coded = g("code") is not None or g("typeCode") is not None
    if not ((null and not coded) or (not null and coded)):
        out.append("dtr1-1-CS")
    if g("codeSystem") not in (None, "2.16.840.1.113883.5.139"):
        out.append("dtr1-2-CS")
    if g("codeSystemName") not in (None, "TimingEvent"):
        out.append("dtr1-3-CS")
    if g("codeSystemVersion") is not None:
        out.append("dtr1-4-CS")
    if g("displayName") is not None:
        out.append("dtr1-5-CS")
    if len(el):
        if _has(el, "originalText"):
            out.append("dtr1-6-CS")
        if _has(el, "qualifier"):
            out.append("dtr1-7-CS")
        if _has(el, "translation"):
            out.append("dtr1-8-CS")


def check_qty(el, out: list) -> None:
    if len(el):
        if any(u.get(a) is not None for u in _kids(el, "uncertainty") for a in ("expression", "uncertainty", "originalText")):
            out.append("dtr1-1-QTY")
        parts = _kids(el, "originalText") + _kids(el, "uncertainty") + _kids(el, "expression")
        if any(p.get(a) is not None for p in parts for a in ("validTimeLow", "validTimeHigh", "updateMode")):
            out.append("dtr1-2-QTY")
    sibs = same_named_siblings(el)
    if sibs:
        if el.get(NF) is not None and any(s.get(NF) is None for s in sibs):
            out.append("dtr1-3-QTY")
        value = el.get("value")
        if value is not None:
            key = (value, el.get("unit"))
            if any((s.get("value"), s.get("unit")) == key for s in sibs):
                out.append("dtr1-4-QTY")


def _value_or_content(el, label: str, out: list) -> None:
    null = el.get(NF) is not None
    value = el.get("value") is not None
    if not (null or value or has_child_elements(el)) or (null and value):
        out.append(label)


def check_int(el, out: list) -> None:
    _value_or_content(el, "dtr1-1-INT", out)
    if len(el) and _has(el, "uncertainty"):
        out.append("dtr1-2-INT")


def check_int_pos(el, out: list) -> None:
    if el.get(NF) is None and not xpath_number(el.get("value")) > 0:
        out.append("dtr1-2-INT.POS")


def check_pq(el, out: list) -> None:
    _value_or_content(el, "dtr1-1-PQ", out)
    if len(el):
        keys = [(t.get("value") or "") + (t.get("code") or "") + (t.get("codeSystem") or "")
                for t in _desc(el, "translation")]
        if len(keys) != len(set(keys)):
            out.append("dtr1-3-PQ")


def check_ts(el, out: list) -> None:
    _value_or_content(el, "dtr1-1-TS", out)
    value = el.get("value")
    if value is not None and ts_parts(value) is None:
        out.append("dtr1-2-TS")


def check_ts_datetime_min(el, out: list) -> None:
    if el.get(NF) is None and not re.match(r"^[0-9]{14}", el.get("value") or ""):
        out.append("dtr1-1-TS.DATETIME.MIN")


def check_sxcm(el, out: list) -> None:
    if el.get(NF) is not None and el.get("operator") not in (None, "I"):
        out.append("dtr1-1-SXCM_TS")


_IVL_PARTS = ("low", "center", "high", "width")


def check_ivl(el, out: list) -> None:
    g = el.get
    has = {p: _has(el, p) for p in _IVL_PARTS}
    for x in el.iter():
        if isinstance(x.tag, str) and x.get(NF) is not None and (
                x.get("value") is not None or x.get("unit") is not None or any(_has(x, p) for p in _IVL_PARTS)):
            out.append("dtr1-2-IVL_TS")
            break
    if g("value") is not None and has_child_elements(el):
        out.append("dtr1-3-IVL_TS")
    if g("value") is not None and any(has.values()):
        out.append("dtr1-4-2-IVL_TS")
    if has["center"] and (has["low"] or has["high"] or has["width"]):
        out.append("dtr1-4-3-IVL_TS")
    if has["width"] and has["low"] and has["high"]:
        out.append("dtr1-4-4-IVL_TS")
    if any(c.get("updateMode") is not None for c in children(el)):
        out.append("dtr1-5-IVL_TS")
    low = first_child(el, H + "low")
    high = first_child(el, H + "high")
    lo = low.get("value") if low is not None else None
    hi = high.get("value") if high is not None else None
    if lo is not None and hi is not None and lo == hi:
        out.append("dtr1-6-IVL_TS")
    widths = _kids(el, "width")
    if any(w.get("unit") is not None and w.get("value") is None for w in widths):
        out.append("dtr1-1-PQR")
    if any(_has(w, "translation") for w in widths):
        out.append("dtr1-2-PQR")
    if low is not None and low.get(NF) == "PINF":
        out.append("dtr1-7-1-IVL_TS")
    if high is not None and high.get(NF) == "NINF":
        out.append("dtr1-7-2-IVL_TS")
    if any(w.get("unit") is not None and w.get("unit") not in _TIME_UNITS for w in widths):
        out.append("dtr1-8-IVL_TS")
    for part in ("low", "center", "high"):
        node = first_child(el, H + part)
        v = node.get("value") if node is not None else None
        if v is not None and ts_parts(v) is None:
            out.append("dtr1-9-IVL_TS")
    if lo is not None and hi is not None:
        a, b = ts_parts(lo), ts_parts(hi)
        if a is not None and b is not None and a > b:
            out.append("dtr1-7-IVL_TS")


def _cooccurrence_ok(el) -> bool:
    """dtr1-3-PIVL_TS as implemented: no @value with children, and some child passes the part rules."""
    kids = children(el)
    if el.get("value") is not None and kids:
        return False
    if not kids:
        return True

    def ok(c) -> bool:
        if c.get(NF) is not None:
            return True
        center, low, high, width = (_has(c, p) for p in ("center", "low", "high", "width"))
        return not (center and (low or high or width)) and not (width and (low or high))

    return any(ok(c) for c in kids)


def _null_exclusive(x) -> bool:
    null = x.get(NF) is not None
    content = x.get("value") is not None or x.get("unit") is not None or has_child_elements(x)
    return (null and not content) or (not null and content)


def _decimals_ok(value: str | None) -> bool:
    return value is None or "." not in value or len(value.split(".", 1)[1]) <= 4


def check_pivl(el, out: list) -> None:
    if any(c.get("updateMode") is not None for n in ("phase", "period") for c in _kids(el, n)):
        out.append("dtr1-1-PIVL_TS")
    if not any(_null_exclusive(x) for x in el.iter() if isinstance(x.tag, str)):
        out.append("dtr1-2-PIVL_TS")
    if not _cooccurrence_ok(el):
        out.append("dtr1-3-PIVL_TS")
    if not all(_decimals_ok(p.get("value")) for p in _kids(el, "period")):
        out.append("dtr1-5-PIVL_TS")
    widths = _desc(el, "width")
    if any(w.get("unit") is not None and w.get("value") is None for w in widths):
        out.append("dtr1-6-PIVL_TS")
    if any(_has(w, "translation") for w in widths):
        out.append("dtr1-7-PIVL_TS")


def check_sxpr(el, out: list) -> None:
    comps = _desc(el, "comp")
    if el.get(NF) is None and len(_kids(el, "comp")) < 2:
        out.append("dtr1-1-SXPR_TS")
    nested = [c for c in comps if is_hl7_type(c, "SXPR_TS")]
    if nested and not any(c.get(NF) is not None or len(_kids(c, "comp")) >= 2 for c in nested):
        out.append("dtr1-2-SXPR_TS")
    if any(x.get("updateMode") is not None for x in el.iterdescendants() if isinstance(x.tag, str)):
        out.append("dtr1-3-SXPR_TS")

    def existential(kind: str, label: str, ok: Callable) -> None:
        group = [c for c in comps if is_hl7_type(c, kind)]
        if group and not any(ok(c) for c in group):
            out.append(label)

    def null_excl(c) -> bool:
        return not (c.get(NF) is not None and (c.get("value") is not None or c.get("unit") is not None
                                               or has_child_elements(c)))

    def same_len(c) -> bool:
        low, high = c.find(".//" + H + "low"), c.find(".//" + H + "high")
        lo = low.get("value") if low is not None else None
        hi = high.get("value") if high is not None else None
        return lo is None or hi is None or len(lo) == len(hi)

    def width_value(c) -> bool:
        return not any(w.get("unit") is not None and w.get("value") is None for w in _desc(c, "width"))

    def width_plain(c) -> bool:
        return not any(_has(w, "translation") for w in _desc(c, "width"))

    def period_ok(c) -> bool:
        if _has(c, "frequency"):
            return True
        return any((p.get(NF) is not None and p.get("value") is None) or (p.get(NF) is None and p.get("value") is not None)
                   for p in _kids(c, "period"))

    def null_period_plain(c) -> bool:
        return not any(p.get(NF) is not None and _has(p, "translation") for p in _kids(c, "period"))

    def decimals(c) -> bool:
        return all(_decimals_ok(p.get("value")) for p in _kids(c, "period"))

    existential("IVL_TS", "dtr1-4-SXPR_TS", null_excl)
    existential("IVL_TS", "dtr1-5-SXPR_TS", _cooccurrence_ok)
    existential("IVL_TS", "dtr1-6-SXPR_TS", same_len)
    existential("IVL_TS", "dtr1-7-SXPR_TS", width_value)
    existential("IVL_TS", "dtr1-8-SXPR_TS", width_plain)
    existential("PIVL_TS", "dtr1-9-SXPR_TS", period_ok)
    existential("PIVL_TS", "dtr1-10-SXPR_TS", null_period_plain)
    existential("PIVL_TS", "dtr1-11-SXPR_TS", null_excl)
    existential("PIVL_TS", "dtr1-12-SXPR_TS", _cooccurrence_ok)
    existential("PIVL_TS", "dtr1-13-SXPR_TS", same_len)
    existential("PIVL_TS", "dtr1-14-SXPR_TS", decimals)
    existential("PIVL_TS", "dtr1-15-SXPR_TS", width_value)
    existential("PIVL_TS", "dtr1-16-SXPR_TS", width_plain)


# family -> (parent family, own checks)
FAMILIES: dict[str, tuple[str | None, Callable | None]] = {
    "ANY": (None, check_any),
    "BIN": ("ANY", check_bin),
    "ED": ("BIN", check_ed),
    "ST": ("ED", check_st),
    "SC": ("ST", check_sc),
    "ADXP": ("ST", check_adxp),
    "ENXP": ("ST", None),
    "EN": ("ANY", check_en),
    "PN": ("EN", check_pn),
    "PN.NL": ("PN", check_pn_nl),
    "ON": ("EN", check_on),
    "TN": ("EN", check_tn),
    "AD": ("ANY", check_ad),
    "URL": ("ANY", check_url),
    "TEL": ("URL", check_tel),
    "II": ("ANY", check_ii),
    "II.NL.AGB": ("II", check_agb),
    "II.NL.BIG": ("II", check_big),
    "II.NL.BSN": ("II", _bsn),
    "II.NL.URA": ("II", check_ura),
    "II.NL.UZI": ("II", check_uzi),
    "CD": ("ANY", check_cd),
    "CE": ("CD", check_ce),
    "CV": ("CE", None),
    "CS": ("ANY", check_cs),
    "BL": ("ANY", None),
    "QTY": ("ANY", check_qty),
    "INT": ("QTY", check_int),
    "INT.POS": ("INT", check_int_pos),
    "PQ": ("QTY", check_pq),
    "TS": ("QTY", check_ts),
    "TS.DATETIME.MIN": ("TS", check_ts_datetime_min),
    "SXCM_TS": ("TS", check_sxcm),
    "IVL_TS": ("SXCM_TS", check_ivl),
    "PIVL_TS": ("SXCM_TS", check_pivl),
    "SXPR_TS": ("SXCM_TS", check_sxpr),
}


# Checks that find nothing on an element without nullFlavor and without child nodes.
_SILENT_ON_PLAIN = frozenset({check_any, check_ce})


def family_checks(family: str) -> tuple[Callable, ...]:
    """The checks of a family and its ancestors, base family first."""
    chain = []
    name: str | None = family
    while name is not None:
        parent, check = FAMILIES[name]
        if check is not None:
            chain.append(check)
        name = parent
    return tuple(reversed(chain))


def family_check(family: str) -> Callable:
    """One function for the whole family; skips the checks an ordinary element cannot fail."""
    full = family_checks(family)
    light = tuple(c for c in full if c not in _SILENT_ON_PLAIN)
    if len(light) == len(full):
        if len(full) == 1:
            return full[0]

        def chain(el, out: list) -> None:
            for c in full:
                c(el, out)

        return chain

    def check(el, out: list) -> None:
        for c in (light if el.get(NF) is None and not len(el) else full):
            c(el, out)

    return check
