"""R014 Zwangerschap, R015 Bevalling and R016 Pasgeborene in the DOB: structures of their own.

A DOB does not carry these three rubrieken as rubricClusters of a contact but in two
structures of the dossier itself (``careProvisionEvent``), CMETs of the HL7 message model
that both REPC_MT902000NL and REPC_MT902000NL03 include:

* ``pertinentInformation/pregnancyCondition`` (COCT_MT900914NL, template 121): the
  mother's pregnancy (R014) as ``component1/pregnancyObservations`` (drug types, 745, as
  details of 93 Drugsgebruik), the medicines she used (88) as
  ``component2/substanceAdministrationEvent``, and the delivery (R015) as its
  ``outcome/delivery`` with a ``component/deliveryObservation`` per element;
* ``component5/neonateData`` (COCT_MT900913NL, template 118): the newborn (R016) as
  ``component3/neonateObservations``; vitamin K, gammaglobulin and hepatitis B vaccination
  (137, 138, 629) as ``component2/substanceAdministrationEvent`` whose ``negationInd``
  says whether it was given; the stay on the children's ward (G109, template 10264) as
  ``component1/inPatientEncounter``, whose location holds the incubator (144).

Every shape here is what the published template rows require (codes, value types, units,
fixed attributes); ``tests/standards/test_perinatal.py`` checks this table against them.
Observations there are coded by BDS element number, or by LOINC where the template says so
(110 birth weight 8339-4, 129/130 Apgar 9272-6/9274-2, 103 amniotic fluid 38386-9).

Not placed, because no template has a place for them: G108 Periode geel zien (1477, 1478;
the template's 139 Geel zien is deprecated since BDS 3.2.6) and 1609 Scrotale testes
(no value set in the BDS lists); nor 109 Volgnummer bij meerling, which the published rules
make impossible to send validly (see ``MULTIPLE_NUMBER``), though it is read where found.
An element whose value the templates cannot hold is returned as not written, never made
up: "3 Onbekend" of a yes/no code (the values are ``[non-null]``), a drug type (745)
without 93, a second Therapie (142, at most one).

I/O-free. Two views of the same content: *items*, a flat list of (BDS element, HL7
``value`` node) pairs that any format can map one by one (the FHIR view makes an
Observation of each), and *values*, keyed by element and typed as in
:mod:`jgz_gateway.adapters.record` (Decimal quantities in the template's unit, ``int``
counts, ``bool``, ``str``, BDS-flavour codes, dates). :func:`assemble` and :func:`items`
turn items into the two structures and back; :func:`build` and :func:`read` do the same
for values. Parts without an observation of their own get a value node all the same: the
medicine (88) and drug type (745) their code, vitamin K and the like (137, 138, 629) and
the incubator (144) a BL (given or not), G109 its dates as TS.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Mapping, Protocol

from . import model as m
from .timestamps import format_ts, parse_ts

LOINC = "2.16.840.1.113883.6.1"
ACT_CODE = "2.16.840.1.113883.5.4"
ROLE_CODE = "2.16.840.1.113883.5.111"
PREGNANCY_TEMPLATE = m.TEMPLATE_PREFIX + "121"
NEONATE_TEMPLATE = m.TEMPLATE_PREFIX + "118"
RUBRIEK_NAMES = {"R014": "Zwangerschap", "R015": "Bevalling", "R016": "Pasgeborene en eerste levensweken"}
#: BDS "Ja/Nee/Onbekend" codes (137, 138, 629, 144; 91, 92, 93) as the templates' yes/no.
YES, NO = "1", "2"
#: G109 Periode opname kinderafdeling: the inPatientEncounter's effectiveTime low and high.
STAY_START, STAY_END = 1479, 1480
INCUBATOR = 144
#: 109 Volgnummer bij meerling cannot be carried: TC03294 requires ``value/@value = 'true'`` on
#: 108 Meerling wherever 109 is given, but the template makes that value an ST, which the XML
#: Schema gives no ``@value`` (nor does a BL there pass the template). Every message with 109
#: is invalid either way, so it is counted as not written, never sent.
MULTIPLE_NUMBER = 109
MEDICINE = 88
DRUG_USE, DRUG_TYPE = 93, 745


@dataclass(frozen=True)
class Slot:
    """One observation: where it sits, how it is coded and what value type it holds.

    ``kind`` is the template's value type; ``yes_no`` marks a BDS code "1 Ja / 2 Nee" written
    as BL, ``text`` a BDS ordinal (a code, "0".."10") written as INT.
    """

    element: int
    kind: str
    unit: str | None = None
    loinc: str | None = None
    yes_no: bool = False
    text: bool = False

    @property
    def code(self) -> tuple[str, str]:
        return (self.loinc, LOINC) if self.loinc else (str(self.element), m.OID_BDS_ELEMENT)


#: pregnancyCondition/component1/pregnancyObservations (template 121, R014), in template order.
PREGNANCY = (
    Slot(82, "PQ", "d"), Slot(91, "BL", yes_no=True), Slot(92, "BL", yes_no=True), Slot(93, "BL", yes_no=True),
    Slot(619, "ST"), Slot(740, "INT"), Slot(741, "INT"), Slot(1579, "BL"), Slot(1581, "BL"),
)
#: pregnancyCondition/outcome/delivery/component/deliveryObservation (template 121, R015).
DELIVERY = (
    Slot(97, "PQ", "min"), Slot(98, "PQ", "min"), Slot(100, "CV"), Slot(103, "CV", loinc="38386-9"),
    Slot(105, "BL"), Slot(1323, "BL"), Slot(106, "ST"), Slot(107, "ST"), Slot(1324, "ST"),
)
#: neonateData/component3/neonateObservations (template 118, R016).
NEONATE = (
    Slot(108, "ST"), Slot(109, "INT"), Slot(110, "PQ", "g", loinc="8339-4"), Slot(111, "PQ", "g"),
    Slot(112, "PQ", "mm"), Slot(113, "PQ", "mm"), Slot(115, "BL"), Slot(129, "INT", loinc="9272-6", text=True),
    Slot(130, "INT", loinc="9274-2", text=True), Slot(626, "ST"), Slot(131, "ST"), Slot(133, "ST"), Slot(134, "ST"),
    Slot(135, "ST"), Slot(145, "ST"), Slot(747, "CV"), Slot(1340, "CV"), Slot(140, "CV"), Slot(142, "CV"),
)
#: neonateData/component2/substanceAdministrationEvent: administrableMaterialKind coded by element.
MATERIALS = (137, 138, 629)

SLOTS: dict[int, Slot] = {s.element: s for s in (*PREGNANCY, *DELIVERY, *NEONATE)}
#: The BDS "1 Ja / 2 Nee" codes: written as BL values (91-93) or as given-or-not (negationInd).
YES_NO = frozenset({s.element for s in PREGNANCY if s.yes_no} | set(MATERIALS) | {INCUBATOR})
R014 = frozenset({s.element for s in PREGNANCY} | {MEDICINE, DRUG_TYPE})
R015 = frozenset(s.element for s in DELIVERY)
R016 = frozenset({s.element for s in NEONATE} | set(MATERIALS) | {INCUBATOR, STAY_START, STAY_END})
#: Every element this module reads (G109's dates included) ...
KNOWN = R014 | R015 | R016
#: ... and places (109 only read: see ``MULTIPLE_NUMBER``).
ELEMENTS = KNOWN - {MULTIPLE_NUMBER}


class Coder(Protocol):
    """Writes coded values in the HL7 flavour of the element's value set."""

    def coded_node(self, name: str, element: int, bds_code: Any, w: str | None = None,
                   xsi: str | None = None) -> m.Node: ...


class Decoder(Protocol):
    """Reads an HL7 coded node as the BDS-flavour code of the element's value set."""

    def code_of(self, element: int, node: m.Node | None, w: str | None = None) -> str | None: ...


Item = tuple[int, m.Node]  # (BDS element, its HL7 value node)


def node(name: str, attrs: dict | None = None, children: list[m.Node] | None = None,
         text: str | None = None) -> m.Node:
    return m.Node(name=name, attrs=attrs or {}, children=children or [], text=text)


def holds(n: m.Node) -> bool:
    """Is ``n`` (a child of careProvisionEvent) one of the two structures?"""
    return (n.name == "pertinentInformation" and n.child("pregnancyCondition") is not None
            or n.name == "component5" and n.child("neonateData") is not None)


def rubriek_of(element: int) -> str | None:
    return "R014" if element in R014 else "R015" if element in R015 else "R016" if element in R016 else None


# --- values <-> items ----------------------------------------------------------------------


def build(values: Mapping[int, Any], coder: Coder) -> tuple[list[m.Node], Counter[int]]:
    """The careProvisionEvent children for the R014-R016 values present (see :func:`assemble`)
    and the elements whose value could not be written, counted."""
    dropped: Counter[int] = Counter()
    out: list[Item] = []
    for number in sorted(KNOWN):
        for value in _each(values[number]) if values.get(number) is not None else []:
            v = _value_node(number, value, coder)
            if v is None:
                dropped[number] += 1
            else:
                out.append((number, v))
    nodes, unplaced = assemble(out)
    return nodes, dropped + unplaced


def read(nodes: Iterable[m.Node], decoder: Decoder) -> Read:
    """The values the structures among ``nodes`` hold (others are ignored)."""
    found, unread = items(nodes)
    out = Read({}, unread)
    for number, v in found:
        value = _typed(number, v, decoder)
        if value is None:
            out.unread[number] += 1
        elif number in out.values:
            old = out.values[number]
            out.values[number] = [*(old if isinstance(old, list) else [old]), value]
        else:
            out.values[number] = value
    return out


@dataclass
class Read:
    """Values by element (repeated ones as lists), and the BDS elements found but not read."""

    values: dict[int, Any]
    unread: Counter[int]


def _each(value: Any) -> list:
    return list(value) if isinstance(value, list) else [value]


def _kind(number: int) -> str:
    """How an element's value is carried: its slot's value type, "yes/no" (a BDS 1 Ja / 2 Nee
    as BL or negationInd), "TS" (G109's dates) or "CV" (the medicine, the drug type)."""
    if number in YES_NO:
        return "yes/no"
    if number in (STAY_START, STAY_END):
        return "TS"
    return "CV" if number in (MEDICINE, DRUG_TYPE) else SLOTS[number].kind


def _value_node(number: int, value: Any, coder: Coder) -> m.Node | None:
    """The HL7 value node of a typed value, or None when the templates cannot hold it."""
    kind = _kind(number)
    try:
        if kind == "yes/no":
            return bl(str(value) == YES) if str(value) in (YES, NO) else None
        if kind == "TS":
            return node("value", {"xsi:type": "TS", "value": format_ts(value)})
        if kind == "CV":
            return coder.coded_node("value", number, value, xsi="CV")
        if kind == "BL":
            return bl(value) if isinstance(value, bool) else None
        if kind == "PQ":
            return node("value", {"xsi:type": "PQ", "value": _number(value), "unit": SLOTS[number].unit})
        if kind == "INT":
            return node("value", {"xsi:type": "INT", "value": str(int(str(value)))})
        text = str(value)
        return node("value", {"xsi:type": "ST"}, text=text) if text.strip() else None
    except (TypeError, ValueError, InvalidOperation):
        return None


def bl(yes: bool) -> m.Node:
    """A BL value node: how items carry yes/no (and given-or-not) values."""
    return node("value", {"xsi:type": "BL", "value": "true" if yes else "false"})


def _number(value: Any) -> str:
    d = Decimal(str(value))
    if not d.is_finite():
        raise InvalidOperation(str(value))
    return format(d.normalize(), "f")


def _typed(number: int, v: m.Node, decoder: Decoder) -> Any:
    """The typed value of an item's value node, or None when it holds none this reader knows."""
    kind = _kind(number)
    a = v.attrs
    try:
        if kind == "TS":
            when = parse_ts(a.get("value"))
            return when if isinstance(when, dt.date) else None
        if kind == "CV":
            return decoder.code_of(number, v)
        if kind in ("yes/no", "BL"):
            if a.get("value") not in ("true", "false"):
                return None
            yes = a["value"] == "true"
            return (YES if yes else NO) if kind == "yes/no" else yes
        if kind == "PQ":
            return Decimal(a["value"]) if a.get("value") and a.get("unit", "1") == SLOTS[number].unit else None
        if kind == "INT":
            count = int(a["value"]) if a.get("value") else None
            return str(count) if SLOTS[number].text and count is not None else count
        return v.text if v.text and v.text.strip() else a.get("value") or None
    except (ValueError, InvalidOperation):
        return None


# --- items -> structures -------------------------------------------------------------------


def assemble(found: Iterable[Item]) -> tuple[list[m.Node], Counter[int]]:
    """The careProvisionEvent children holding ``found``: a ``pertinentInformation`` with the
    pregnancy (and delivery), a ``component5`` with the newborn; and the items the templates
    have no room for, counted (an element they do not hold, a second value of a 0..1
    observation, a drug type without 93, 109, a null value where the template wants one)."""
    by: dict[int, list[m.Node]] = {}
    for number, v in found:
        by.setdefault(number, []).append(v)
    dropped: Counter[int] = Counter()
    for number in [n for n in by if n not in KNOWN]:  # no element of R014-R016 (G108's dates...)
        dropped[number] += len(by.pop(number))
    for number, vs in by.items():  # one each, but the repeatable parts (88, 745)
        if number not in (MEDICINE, DRUG_TYPE) and len(vs) > 1:
            dropped[number] += len(vs) - 1
            del vs[1:]
    if MULTIPLE_NUMBER in by:
        dropped[MULTIPLE_NUMBER] += len(by.pop(MULTIPLE_NUMBER))  # TC03294 against the XML Schema
    out = []
    pregnancy = _pregnancy(by, dropped)
    if pregnancy is not None:
        out.append(node("pertinentInformation", {"typeCode": "PERT"}, [pregnancy]))
    neonate = _neonate(by, dropped)
    if neonate is not None:
        out.append(node("component5", {"typeCode": "COMP"}, [neonate]))
    return out, dropped


def _non_null(slot: Slot, v: m.Node) -> bool:
    """The value fits the template: filled (coded values may carry their set's null flavour)."""
    if slot.kind == "CV":
        return bool(v.attrs.get("code") or v.attrs.get("nullFlavor"))
    return v.attrs.get("nullFlavor") is None and bool(v.attrs.get("value") or (v.text or "").strip())


def _observations(tag: str, slots: Iterable[Slot], by: dict[int, list[m.Node]], dropped: Counter[int],
                  details: Callable[[Slot], list[m.Node]] | None = None) -> list[m.Node]:
    out = []
    for slot in slots:
        v = by.get(slot.element, [None])[0]
        if v is None:
            continue
        if not _non_null(slot, v):
            dropped[slot.element] += 1
            continue
        code, system = slot.code
        value = v.model_copy(update={"name": "value", "attrs": {**v.attrs, "xsi:type": slot.kind}})
        obs = node(tag, {"classCode": "OBS", "moodCode": "EVN"}, [node("code", {"code": code, "codeSystem": system}), value])
        if details:
            obs.children += details(slot)
        out.append(obs)
    return out


def _rubriek_code(code: str) -> m.Node:
    return node("code", {"code": code, "codeSystem": m.OID_BDS_RUBRIEK, "displayName": RUBRIEK_NAMES[code]})


def _coded_as(name: str, v: m.Node) -> m.Node:
    """A value node as a plain code (no xsi:type): the medicine's or material's code."""
    return v.model_copy(update={"name": name, "attrs": {k: x for k, x in v.attrs.items() if k != "xsi:type"}})


def _pregnancy(by: dict[int, list[m.Node]], dropped: Counter[int]) -> m.Node | None:
    def drug_types(slot: Slot) -> list[m.Node]:
        if slot.element != DRUG_USE:
            return []
        return [node("component", {"typeCode": "COMP"}, [node("detailPregnancyObservation", {"classCode": "OBS", "moodCode": "EVN"}, [
            node("code", {"code": str(DRUG_TYPE), "codeSystem": m.OID_BDS_ELEMENT}),
            v.model_copy(update={"name": "value", "attrs": {**v.attrs, "xsi:type": "CV"}})])]) for v in by.pop(DRUG_TYPE, [])]

    observations = _observations("pregnancyObservations", PREGNANCY, by, dropped, drug_types)
    if DRUG_TYPE in by:
        dropped[DRUG_TYPE] += len(by[DRUG_TYPE])  # a detail of 93, which is not there
    medicines = [node("component2", {"typeCode": "COMP"}, [node("substanceAdministrationEvent", {"classCode": "SBADM", "moodCode": "EVN"}, [
        node("consumable", {"typeCode": "CSM"}, [node("medication", {"classCode": "ADMM"}, [
            node("administrableMedicine", {"classCode": "MMAT", "determinerCode": "KIND"}, [_coded_as("code", v)])])])])])
        for v in by.get(MEDICINE, [])]
    delivery = _observations("deliveryObservation", DELIVERY, by, dropped)
    if not (observations or medicines or delivery):
        return None
    children = [node("templateId", {"root": PREGNANCY_TEMPLATE}), _rubriek_code("R014"),
                node("subject", {"typeCode": "SBJ"}, [node("personalRelationship", {"classCode": "PRS"}, [
                    node("code", {"code": "NMTH", "codeSystem": ROLE_CODE, "displayName": "natural mother"}),
                    node("relationshipHolder", {"classCode": "PSN", "determinerCode": "INSTANCE", "nullFlavor": "NI"})])])]
    if delivery:
        children.append(node("outcome", {"typeCode": "OUTC"}, [node("delivery", {"classCode": "PROC", "moodCode": "EVN"}, [
            _rubriek_code("R015"), *(node("component", {"typeCode": "COMP"}, [o]) for o in delivery)])]))
    children += [node("component1", {"typeCode": "COMP"}, [o]) for o in observations]
    children += medicines
    return node("pregnancyCondition", {"classCode": "COND", "moodCode": "EVN"}, children)


def _negation(v: m.Node | None) -> str | None:
    """``negationInd`` of a given-or-not part: "false" when given, "true" when not."""
    said = v.attrs.get("value") if v is not None else None
    return {"true": "false", "false": "true"}.get(said or "")


def _neonate(by: dict[int, list[m.Node]], dropped: Counter[int]) -> m.Node | None:
    parts: list[m.Node] = []
    stay = _stay(by, dropped)
    if stay is not None:
        parts.append(node("component1", {"typeCode": "COMP"}, [stay]))
    for number in MATERIALS:
        if number not in by:
            continue
        negation = _negation(by[number][0])
        if negation is None:
            dropped[number] += 1
            continue
        parts.append(node("component2", {"typeCode": "COMP"}, [
            node("substanceAdministrationEvent", {"classCode": "SBADM", "moodCode": "EVN", "negationInd": negation}, [
                node("consumable", {"typeCode": "CSM"}, [node("administerableMaterial", {"classCode": "ADMM"}, [
                    node("administrableMaterialKind", {"classCode": "MAT", "determinerCode": "KIND"}, [
                        node("code", {"code": str(number), "codeSystem": m.OID_BDS_ELEMENT})])])])])]))
    parts += [node("component3", {"typeCode": "COMP"}, [o]) for o in _observations("neonateObservations", NEONATE, by, dropped)]
    if not parts:
        return None
    return node("neonateData", {"classCode": "CATEGORY", "moodCode": "EVN"},
                [node("templateId", {"root": NEONATE_TEMPLATE}), _rubriek_code("R016"), *parts])


def _stay(by: dict[int, list[m.Node]], dropped: Counter[int]) -> m.Node | None:
    """G109 and the incubator: ``inPatientEncounter`` (IMP) on the children's ward (PEDICU)."""
    bounds = []
    for number, tag in ((STAY_START, "low"), (STAY_END, "high")):
        if number in by:
            when = by[number][0].attrs.get("value")
            if isinstance(parse_ts(when), dt.date):
                bounds.append(node(tag, {"value": when}))
            else:
                dropped[number] += 1
    incubator = _negation(by[INCUBATOR][0]) if INCUBATOR in by else None
    if INCUBATOR in by and incubator is None:
        dropped[INCUBATOR] += 1
    if not bounds and incubator is None:
        return None
    children = [node("code", {"code": "IMP", "codeSystem": ACT_CODE, "displayName": "inpatient encounter"})]
    if bounds:
        children.append(node("effectiveTime", {}, bounds))
    if incubator is not None:
        children.append(node("location", {"typeCode": "LOC"}, [node("serviceDeliveryLocation", {"classCode": "SDLOC"}, [
            node("code", {"code": "PEDICU", "codeSystem": ROLE_CODE, "displayName": "pediatric intensive care unit"}),
            node("locationOf", {"typeCode": "LOC"}, [
                node("incubatorAccommodation", {"classCode": "ACCM", "moodCode": "EVN", "negationInd": incubator}, [
                    node("code", {"code": str(INCUBATOR), "codeSystem": m.OID_BDS_ELEMENT})])])])]))
    return node("inPatientEncounter", {"classCode": "ENC", "moodCode": "EVN"}, children)


# --- structures -> items -------------------------------------------------------------------

_BY_CODE = {s.code: s for s in SLOTS.values()}


def items(nodes: Iterable[m.Node]) -> tuple[list[Item], Counter[int]]:
    """The items the structures among ``nodes`` hold, and the BDS elements found in parts
    this reader does not interpret, counted."""
    found: list[Item] = []
    unread: Counter[int] = Counter()
    for n in nodes:
        pregnancy, neonate = n.child("pregnancyCondition"), n.child("neonateData")
        if n.name == "pertinentInformation" and pregnancy is not None:
            _pregnancy_items(pregnancy, found, unread)
        elif n.name == "component5" and neonate is not None:
            _neonate_items(neonate, found, unread)
    return found, unread




def _observation_item(obs: m.Node | None, where: tuple[Slot, ...]) -> Item | None:
    code = obs.child("code") if obs is not None else None
    slot = _BY_CODE.get((code.attrs.get("code"), code.attrs.get("codeSystem"))) if code is not None else None
    value = obs.child("value") if obs is not None else None
    return (slot.element, value) if slot in where and value is not None else None


def _as_value(code: m.Node, xsi: str = "CV") -> m.Node:
    return code.model_copy(update={"name": "value", "attrs": {**code.attrs, "xsi:type": xsi}})


def _pregnancy_items(p: m.Node, found: list[Item], unread: Counter[int]) -> None:
    for part in p.children:
        if part.name in ("templateId", "code", "subject"):
            continue
        if part.name == "component1":
            obs = part.child("pregnancyObservations")
            item = _observation_item(obs, PREGNANCY)
            if item is None:
                unread.update(part.element_codes())
                continue
            found.append(item)
            for detail in obs.findall("component/detailPregnancyObservation"):
                code, value = detail.child("code"), detail.child("value")
                if code is not None and code.attrs.get("code") == str(DRUG_TYPE) and value is not None:
                    found.append((DRUG_TYPE, value))
                else:
                    unread.update(detail.element_codes())
        elif part.name == "component2":
            code = part.find("substanceAdministrationEvent/consumable/medication/administrableMedicine/code")
            if code is not None:
                found.append((MEDICINE, _as_value(code)))
            else:
                unread[MEDICINE] += 1
        elif part.name == "outcome":
            for component in part.findall("delivery/component"):
                item = _observation_item(component.child("deliveryObservation"), DELIVERY)
                if item is None:
                    unread.update(component.element_codes())
                else:
                    found.append(item)
        else:
            unread.update(part.element_codes())


def _given(negation: str | None) -> m.Node | None:
    return bl(negation == "false") if negation in ("true", "false") else None


def _neonate_items(n: m.Node, found: list[Item], unread: Counter[int]) -> None:
    for part in n.children:
        if part.name in ("templateId", "code"):
            continue
        encounter = part.child("inPatientEncounter") if part.name == "component1" else None
        if encounter is not None:
            for number, tag in ((STAY_START, "low"), (STAY_END, "high")):
                bound = encounter.find("effectiveTime/" + tag)
                if bound is not None and bound.attrs.get("value"):
                    found.append((number, node("value", {"xsi:type": "TS", "value": bound.attrs["value"]})))
            incubator = encounter.find("location/serviceDeliveryLocation/locationOf/incubatorAccommodation")
            if incubator is not None:
                value = _given(incubator.attrs.get("negationInd", "false"))
                if value is None:
                    unread[INCUBATOR] += 1
                else:
                    found.append((INCUBATOR, value))
        elif part.name == "component2":
            event = part.child("substanceAdministrationEvent")
            kind = part.find("substanceAdministrationEvent/consumable/administerableMaterial/administrableMaterialKind/code")
            number = kind.attrs.get("code", "") if kind is not None else ""
            value = _given(event.attrs.get("negationInd", "false")) if event is not None else None
            if number.isdecimal() and int(number) in MATERIALS and value is not None:
                found.append((int(number), value))
            else:
                unread.update(part.element_codes())
        elif part.name == "component3":
            item = _observation_item(part.child("neonateObservations"), NEONATE)
            if item is None:
                unread.update(part.element_codes())
            else:
                found.append(item)
        else:
            unread.update(part.element_codes())
