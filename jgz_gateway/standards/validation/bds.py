"""BDS layer: checks the published Nictiz rules lack, all reported as warnings.

Interoperate first: the gateway rejects exactly what the published rules call an
error. Everything here is stricter than those rules (or restates them on data the
templates do not reach), so every finding is a warning with a ``JGZ-BDS-…`` id:

- ``JGZ-BDS-ELEMENT-UNKNOWN`` / ``-DEPRECATED``: element number not in the message's
  BDS version (W0647) or deprecated there; the same for rubrieken (W0639) and groepen (W0646);
- ``JGZ-BDS-PLACEMENT``: element outside the rubriek/groep the BDS puts it in;
- ``JGZ-BDS-VALUESET``: coded value outside the element's value set in that version;
- ``JGZ-BDS-DATATYPE`` / ``JGZ-BDS-UNIT``: value type or unit other than the BDS's
  (lengths and head circumference in mm, weights in g);
- ``JGZ-BDS-VALUE``: a negative quantity (no BDS measurement is below zero);
- ``JGZ-BDS-CARDINALITY``: a rubriek twice in one activity, an element more often than allowed;
- ``JGZ-BDS-BSN``: a BSN that fails the 11-proef (python-stdnum) where no datatype rule
  checks it, or an attentionLine BSN that differs from the patient's;
- ``JGZ-BDS-DATE``: a period that ends before it starts, a date after the message's
  creation time, an activity before the child's birth.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from lxml import etree
from stdnum.nl import bsn as stdnum_bsn

from .. import catalogue as cat
from ..findings import Finding
from ..model import OID_BDS_ELEMENT, OID_BDS_GROEP, OID_BDS_RUBRIEK, OID_BSN, datatype
from ..xmlsafe import HL7_NS, XSI_NS, xpath_of
from .context import bds_element_of
from .paths import paused_gc

NS = {"hl7": HL7_NS, "xsi": XSI_NS}
_H = "{" + HL7_NS + "}"
# ``//*[@root=X]``, written so libxml2 tests the attributes instead of every element (3x faster)
_BSN_IDS = etree.XPath(f"//@root[.='{OID_BSN}']/..", namespaces=NS)
_VALUES = etree.XPath("//@value[string-length(.) >= 8]/..", namespaces=NS)
_ENCOUNTERS = etree.XPath("//hl7:component7/hl7:encounter", namespaces=NS)

#: BDS units that the HL7 value must carry as its unit.
_TS_TYPES = {"TS", "IVL_TS"}


def check_bds(root: etree._Element, interaction: str, bds_version: str) -> list[Finding]:
    catalogue = cat.get_catalogue(bds_version)
    findings: list[Finding] = []
    warn = findings.append
    with paused_gc():
        codes = _bds_codes(root)
        encounters = _ENCOUNTERS(root)
        _elements(codes[OID_BDS_ELEMENT], catalogue, warn)
        _clusters(encounters, codes[OID_BDS_RUBRIEK], codes[OID_BDS_GROEP], catalogue, warn)
        _bsns(root, warn)
        _dates(root, encounters, warn)
    return findings


def _finding(rule: str, el: etree._Element, message: str, element: str | None) -> Finding:
    return Finding("warning", rule, xpath_of(el), message, element)


_OBSERVATION = _H + "observation"
_RUBRIC = _H + "rubricCluster"
_GROUP = _H + "groupCluster"
_VALUE = _H + "value"
_CODE = _H + "code"


def _bds_codes(root) -> dict[str, list]:
    """``//hl7:code[@codeSystem=S]`` for the BDS element, rubriek and groep code systems, in
    document order, from one pass in C over the code elements."""
    found: dict[str, list] = {OID_BDS_ELEMENT: [], OID_BDS_RUBRIEK: [], OID_BDS_GROEP: []}
    get = found.get
    for code in root.iter(_CODE):
        same = get(code.get("codeSystem"))
        if same is not None:
            same.append(code)
    return found


def _first(el, tag):
    """``el.find(tag)`` for a plain tag, without ElementPath (a plain loop beats both
    ``find`` and ``iterchildren(tag)`` on the few children an HL7 element has)."""
    for c in el:
        if c.tag == tag:
            return c
    return None


def _elements(element_codes: list, catalogue: cat.Catalogue, warn) -> None:
    version = catalogue.version
    per_cluster: Counter = Counter()
    clusters: dict = {}  # cluster element -> (its code, its rubriek), shared by its observations
    for code in element_codes:
        number = code.get("code") or ""
        spec = _spec(catalogue, number)
        if spec is None:
            if not number.isdecimal():
                warn(_finding("JGZ-BDS-ELEMENT-UNKNOWN", code, f"'{number}' is not a BDS element number", None))
            else:
                warn(_finding("JGZ-BDS-ELEMENT-UNKNOWN", code, f"element {number} does not exist in BDS {version}", number))
            continue
        element = spec.element
        if element.deprecated:
            warn(_finding("JGZ-BDS-ELEMENT-DEPRECATED", code, f"element {number} ({element.name}) is deprecated in BDS {version}", number))
        holder = code.getparent()
        if holder.tag == _OBSERVATION:
            cluster = _observation(holder, spec, catalogue, warn, clusters)
            if cluster is not None:
                per_cluster[(cluster, element.number)] += 1
    for (cluster, number), n in per_cluster.items():
        if n < 2:
            continue
        element = catalogue.element(number)
        if "hl7_cardinality" in element.fallbacks or not element.hl7_cardinality:
            continue  # cardinality not published for this version
        high = element.hl7_cardinality[1]
        if high is not None and n > high:
            warn(_finding("JGZ-BDS-CARDINALITY", cluster, f"element {number} ({element.name}) occurs {n} times; BDS {version} allows {high}", str(number)))


class _Spec:
    """What the checks of one element observation need from the catalogue, looked up once."""

    __slots__ = ("element", "bindings")

    def __init__(self, element: cat.Element, catalogue: cat.Catalogue):
        self.element = element
        # (path to the coded node as Clark steps, binding, its value set when that has a verdict)
        self.bindings = []
        for path, w in element.bindings.items():
            valueset = catalogue.valueset(w)
            if valueset is not None and not valueset.fallback:  # else: content unknown here, no verdict
                self.bindings.append((_clark_steps(path), w, valueset))


@lru_cache(maxsize=8192)
def _spec(catalogue: cat.Catalogue, number: str) -> _Spec | None:
    """The element the code names in this BDS version, or None (not a number, or unknown)."""
    if not number.isdecimal():
        return None
    element = catalogue.element(int(number))
    return _Spec(element, catalogue) if element is not None else None


def _observation(obs, spec: _Spec, catalogue: cat.Catalogue, warn, clusters: dict):
    """Check one element observation; returns its cluster (rubriek or groep) if it has one."""
    element = spec.element
    number = element.code
    wrapper = obs.getparent()
    cluster = wrapper.getparent() if wrapper is not None else None
    if cluster is not None and cluster.tag in (_RUBRIC, _GROUP):
        known = clusters.get(cluster)
        if known is None:
            ccode = _first(cluster, _CODE)
            where = ccode.get("code") if ccode is not None else None
            known = clusters[cluster] = (where, where if cluster.tag == _RUBRIC else _enclosing_rubriek(cluster))
        where, rubriek = known
        if element.rubriek and rubriek and rubriek != element.rubriek:
            warn(_finding("JGZ-BDS-PLACEMENT", obs, f"element {number} ({element.name}) belongs in rubriek {element.rubriek}, not {rubriek}", number))
        elif element.groep and cluster.tag == _RUBRIC:
            warn(_finding("JGZ-BDS-PLACEMENT", obs, f"element {number} ({element.name}) belongs in groep {element.groep}, not directly in {where}", number))
        elif cluster.tag == _GROUP and element.groep and where and where != element.groep:
            warn(_finding("JGZ-BDS-PLACEMENT", obs, f"element {number} ({element.name}) belongs in groep {element.groep}, not {where}", number))
    else:
        cluster = None
    value = _first(obs, _VALUE)
    if value is not None and not value.get("nullFlavor"):
        xsi_type = datatype(value.get(f"{{{XSI_NS}}}type"))
        hl7_type = element.hl7_type
        if hl7_type and xsi_type and xsi_type != hl7_type and not (hl7_type in _CODED and xsi_type in _CODED):
            warn(_finding("JGZ-BDS-DATATYPE", value, f"element {number} ({element.name}) is {hl7_type} in BDS {catalogue.version}, not {xsi_type}", number))
        if element.unit and xsi_type == "PQ" and value.get("unit") != element.unit:
            given = f"not {value.get('unit')!r}" if value.get("unit") is not None else "but no unit is given"
            warn(_finding("JGZ-BDS-UNIT", value, f"element {number} ({element.name}) is recorded in {element.unit}, {given}", number))
        if xsi_type == "PQ" and (value.get("value") or "").lstrip().startswith("-"):
            warn(_finding("JGZ-BDS-VALUE", value, f"element {number} ({element.name}) has a negative quantity {value.get('value')}", number))
    if spec.bindings:
        _bound_codes(obs, spec, catalogue, warn)
    return cluster


_CODED = frozenset(("CV", "CE", "CD", "CO"))


def _bound_codes(obs, spec: _Spec, catalogue: cat.Catalogue, warn) -> None:
    for steps, w, valueset in spec.bindings:
        target = _find_path(obs, steps)
        if target is None or target.get("nullFlavor"):
            continue
        code = target.get("code")
        if code is None:
            continue
        system = target.get("codeSystem") or ""
        if valueset.contains_hl7(code, system):
            continue
        name = f"{w} {valueset.name or ''}".strip()
        if system and system == valueset.bds_code_system and valueset.contains_bds(code):
            hl7 = valueset.bds_to_hl7(code)
            hint = f"; the HL7 flavour is code {hl7.code} in {hl7.code_system}" if hl7 else ""
            message = f"code {code} is in the BDS-native code system of {name}; HL7 messages use its HL7 flavour{hint}"
        else:
            message = f"code {code} in {system or 'no code system'} is not in {name} (BDS {catalogue.version}) for element {spec.element.code}"
        warn(_finding("JGZ-BDS-VALUESET", target, message, spec.element.code))


@lru_cache(maxsize=None)
def _clark_steps(path: str) -> tuple[str, ...]:
    return tuple(_H + step for step in path.split("/"))


def _find_path(el, steps: tuple[str, ...]):
    """``el.find("a/b/c")`` for plain child steps: the first match in document order."""
    if len(steps) == 1:
        return _first(el, steps[0])
    for c in el.iterchildren(steps[0]):
        found = _find_path(c, steps[1:])
        if found is not None:
            return found
    return None


def _enclosing_rubriek(el) -> str | None:
    while el is not None:
        if el.tag == _RUBRIC:
            code = _first(el, _CODE)
            return code.get("code") if code is not None else None
        el = el.getparent()
    return None


def _clusters(encounters: list, rubriek_codes: list, groep_codes: list, catalogue: cat.Catalogue, warn) -> None:
    version = catalogue.version
    for code in rubriek_codes:
        r = code.get("code")
        rubriek = catalogue.rubriek(r) if r else None
        if rubriek is None:
            warn(_finding("JGZ-BDS-ELEMENT-UNKNOWN", code, f"rubriek {r} does not exist in BDS {version}", r))
        elif rubriek.status == "deprecated":
            warn(_finding("JGZ-BDS-ELEMENT-DEPRECATED", code, f"rubriek {r} is deprecated in BDS {version}", r))
    for code in groep_codes:
        g = code.get("code")
        groep = catalogue.groep(g) if g else None
        if groep is None:
            warn(_finding("JGZ-BDS-ELEMENT-UNKNOWN", code, f"groep {g} does not exist in BDS {version}", g))
        elif groep.status == "deprecated":
            warn(_finding("JGZ-BDS-ELEMENT-DEPRECATED", code, f"groep {g} is deprecated in BDS {version}", g))
    for encounter in encounters:
        seen = Counter()
        for cluster in encounter.iterchildren(_H + "pertinentInformation"):
            rc = cluster.find(_H + "rubricCluster")
            code = rc.find(_H + "code") if rc is not None else None
            if code is not None and code.get("code"):
                seen[code.get("code")] += 1
                if seen[code.get("code")] == 2:
                    warn(_finding("JGZ-BDS-CARDINALITY", rc, f"rubriek {code.get('code')} occurs more than once in one activity", code.get("code")))


def _bsns(root, warn) -> None:
    patient_bsns = set()
    attention = []
    for el in _BSN_IDS(root):
        ext = el.get("extension")
        if ext is None:
            continue
        parent = el.getparent()
        if etree.QName(el).localname == "value" and parent is not None and etree.QName(parent).localname == "attentionLine":
            attention.append(el)
        elif parent is not None and etree.QName(parent).localname == "patient":
            patient_bsns.add(ext)
        if not stdnum_bsn.is_valid(ext):
            warn(_finding("JGZ-BDS-BSN", el, f"BSN {ext!r} is not a valid citizen service number (9 digits, 11-proef)", "7"))
    for el in attention:
        if patient_bsns and el.get("extension") not in patient_bsns:
            warn(_finding("JGZ-BDS-BSN", el, "the attentionLine BSN differs from the patient's BSN", "7"))


def _ts(value: str | None) -> str | None:
    """Comparable digits of an HL7 TS (YYYYMMDDHHMMSS...), or None when not a timestamp."""
    if not value or len(value) < 4 or not value[:4].isdecimal():
        return None
    digits = ""
    for ch in value:
        if ch.isdecimal():
            digits += ch
        else:
            break
    return digits


def _has_value(el, tag) -> bool:
    return any(c.get("value") is not None for c in el.iterchildren(tag))


def _dates(root, encounters: list, warn) -> None:
    # //hl7:effectiveTime[hl7:low/@value and hl7:high/@value]
    for et in root.iter(_H + "effectiveTime"):
        if not (_has_value(et, _H + "low") and _has_value(et, _H + "high")):
            continue
        low = _ts(_first(et, _H + "low").get("value"))
        high = _ts(_first(et, _H + "high").get("value"))
        if low and high:
            n = min(len(low), len(high))
            if low[:n] > high[:n]:
                warn(_finding("JGZ-BDS-DATE", et, f"period starts ({low}) after it ends ({high})", None))
    created = root.find(_H + "creationTime")
    now = _ts(created.get("value")) if created is not None else None
    birth_el = root.find(f".//{_H}patientPerson/{_H}birthTime")
    birth = _ts(birth_el.get("value")) if birth_el is not None else None
    if now:
        for el in _VALUES(root):
            name = etree.QName(el).localname
            if name not in ("effectiveTime", "birthTime", "low", "high", "time", "value"):
                continue
            if name == "value" and datatype(el.get(f"{{{XSI_NS}}}type")) not in _TS_TYPES:
                continue
            ts = _ts(el.get("value"))
            if ts and len(ts) >= 8 and ts[:8] > now[:8]:
                warn(_finding("JGZ-BDS-DATE", el, f"date {ts[:8]} is after the message's creation time {now[:8]}", bds_element_of(el)))
    if birth and len(birth) >= 8:
        for enc in encounters:
            et = enc.find(_H + "effectiveTime")
            ts = _ts(et.get("value")) if et is not None else None
            if ts and len(ts) >= 8 and ts[:8] < birth[:8]:
                warn(_finding("JGZ-BDS-DATE", et, f"activity date {ts[:8]} is before the birth date {birth[:8]}", "724"))
