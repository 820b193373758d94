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
for values, with the conversion of :mod:`.items` and the table ``VALUES``. Parts without an observation of their own get a value node all the same: the
medicine (88) and drug type (745) their code, vitamin K and the like (137, 138, 629) and
the incubator (144) a BL (given or not), G109 its dates as TS.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Iterable, Mapping

from . import model as m
from .items import (Coder, Decoder, Item, Slot, as_code, as_value, from_items, given, negation, node, period,
                    period_items, table, to_items)

ACT_CODE = "2.16.840.1.113883.5.4"
ROLE_CODE = "2.16.840.1.113883.5.111"
PREGNANCY_TEMPLATE = m.TEMPLATE_PREFIX + "121"
NEONATE_TEMPLATE = m.TEMPLATE_PREFIX + "118"
RUBRIEK_NAMES = {"R014": "Zwangerschap", "R015": "Bevalling", "R016": "Pasgeborene en eerste levensweken"}
#: G109 Periode opname kinderafdeling: the inPatientEncounter's effectiveTime low and high.
STAY = STAY_START, STAY_END = 1479, 1480
INCUBATOR = 144
#: 109 Volgnummer bij meerling cannot be carried: TC03294 requires ``value/@value = 'true'`` on
#: 108 Meerling wherever 109 is given, but the template makes that value an ST, which the XML
#: Schema gives no ``@value`` (nor does a BL there pass the template). Every message with 109
#: is invalid either way, so it is counted as not written, never sent.
MULTIPLE_NUMBER = 109
MEDICINE = 88
DRUG_USE, DRUG_TYPE = 93, 745


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

#: The observations, by element.
SLOTS = table(*PREGNANCY, *DELIVERY, *NEONATE)
#: How every element's value is carried: the observations', and the other parts' (given or not
#: as BL, the medicine and drug type as their code, G109's dates as TS).
VALUES = SLOTS | table(*(Slot(n, "BL", yes_no=True) for n in (*MATERIALS, INCUBATOR)), Slot(MEDICINE, "CV"),
                       Slot(DRUG_TYPE, "CV"), Slot(STAY_START, "TS"), Slot(STAY_END, "TS"))
R014 = frozenset({s.element for s in PREGNANCY} | {MEDICINE, DRUG_TYPE})
R015 = frozenset(s.element for s in DELIVERY)
R016 = frozenset({s.element for s in NEONATE} | set(MATERIALS) | {INCUBATOR, STAY_START, STAY_END})
#: Every element this module reads (G109's dates included) ...
KNOWN = R014 | R015 | R016
#: ... and places (109 only read: see ``MULTIPLE_NUMBER``).
ELEMENTS = KNOWN - {MULTIPLE_NUMBER}


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
    found, dropped = to_items(values, VALUES, coder)
    nodes, unplaced = assemble(found)
    return nodes, dropped + unplaced


def read(nodes: Iterable[m.Node], decoder: Decoder) -> tuple[dict[int, Any], Counter[int]]:
    """The values the structures among ``nodes`` hold (others are ignored; a repeated element's
    as a list), and the BDS elements found but not read, counted."""
    found, unread = items(nodes)
    values, untyped = from_items(found, VALUES, decoder)
    return values, unread + untyped


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
        value = as_value(v, slot.kind)
        obs = node(tag, {"classCode": "OBS", "moodCode": "EVN"}, [node("code", {"code": code, "codeSystem": system}), value])
        if details:
            obs.children += details(slot)
        out.append(obs)
    return out


def _rubriek_code(code: str) -> m.Node:
    return node("code", {"code": code, "codeSystem": m.OID_BDS_RUBRIEK, "displayName": RUBRIEK_NAMES[code]})


def _pregnancy(by: dict[int, list[m.Node]], dropped: Counter[int]) -> m.Node | None:
    def drug_types(slot: Slot) -> list[m.Node]:
        if slot.element != DRUG_USE:
            return []
        return [node("component", {"typeCode": "COMP"}, [node("detailPregnancyObservation", {"classCode": "OBS", "moodCode": "EVN"}, [
            node("code", {"code": str(DRUG_TYPE), "codeSystem": m.OID_BDS_ELEMENT}),
            as_value(v)])]) for v in by.pop(DRUG_TYPE, [])]

    observations = _observations("pregnancyObservations", PREGNANCY, by, dropped, drug_types)
    if DRUG_TYPE in by:
        dropped[DRUG_TYPE] += len(by[DRUG_TYPE])  # a detail of 93, which is not there
    medicines = [node("component2", {"typeCode": "COMP"}, [node("substanceAdministrationEvent", {"classCode": "SBADM", "moodCode": "EVN"}, [
        node("consumable", {"typeCode": "CSM"}, [node("medication", {"classCode": "ADMM"}, [
            node("administrableMedicine", {"classCode": "MMAT", "determinerCode": "KIND"}, [as_code("code", v)])])])])])
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


def _neonate(by: dict[int, list[m.Node]], dropped: Counter[int]) -> m.Node | None:
    parts: list[m.Node] = []
    stay = _stay(by, dropped)
    if stay is not None:
        parts.append(node("component1", {"typeCode": "COMP"}, [stay]))
    for number in MATERIALS:
        if number not in by:
            continue
        negation_ind = negation(by[number][0])
        if negation_ind is None:
            dropped[number] += 1
            continue
        parts.append(node("component2", {"typeCode": "COMP"}, [
            node("substanceAdministrationEvent", {"classCode": "SBADM", "moodCode": "EVN", "negationInd": negation_ind}, [
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
    stay, rejected = period({n: by[n][0] for n in STAY if n in by}, STAY)
    dropped.update(rejected)
    incubator = negation(by[INCUBATOR][0]) if INCUBATOR in by else None
    if INCUBATOR in by and incubator is None:
        dropped[INCUBATOR] += 1
    if stay is None and incubator is None:
        return None
    children = [node("code", {"code": "IMP", "codeSystem": ACT_CODE, "displayName": "inpatient encounter"})]
    if stay is not None:
        children.append(stay)
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




def _observation(holder: m.Node, obs: m.Node | None, where: tuple[Slot, ...], found: list[Item],
                 unread: Counter[int]) -> bool:
    """Take ``obs`` (in ``holder``) as the item of one of the slots ``where``; else count the
    BDS elements of ``holder`` as unread. Whether it was taken."""
    code = obs.child("code") if obs is not None else None
    slot = _BY_CODE.get((code.attrs.get("code"), code.attrs.get("codeSystem"))) if code is not None else None
    value = obs.child("value") if obs is not None else None
    if slot in where and value is not None:
        found.append((slot.element, value))
        return True
    unread.update(holder.element_codes())
    return False


def _pregnancy_items(p: m.Node, found: list[Item], unread: Counter[int]) -> None:
    for part in p.children:
        if part.name in ("templateId", "code", "subject"):
            continue
        if part.name == "component1":
            obs = part.child("pregnancyObservations")
            if not _observation(part, obs, PREGNANCY, found, unread):
                continue
            for detail in obs.findall("component/detailPregnancyObservation"):
                code, value = detail.child("code"), detail.child("value")
                if code is not None and code.attrs.get("code") == str(DRUG_TYPE) and value is not None:
                    found.append((DRUG_TYPE, value))
                else:
                    unread.update(detail.element_codes())
        elif part.name == "component2":
            code = part.find("substanceAdministrationEvent/consumable/medication/administrableMedicine/code")
            if code is not None:
                found.append((MEDICINE, as_value(code)))
            else:
                unread[MEDICINE] += 1
        elif part.name == "outcome":
            for component in part.findall("delivery/component"):
                _observation(component, component.child("deliveryObservation"), DELIVERY, found, unread)
        else:
            unread.update(part.element_codes())


def _neonate_items(n: m.Node, found: list[Item], unread: Counter[int]) -> None:
    for part in n.children:
        if part.name in ("templateId", "code"):
            continue
        encounter = part.child("inPatientEncounter") if part.name == "component1" else None
        if encounter is not None:
            found += period_items(encounter, STAY)
            incubator = encounter.find("location/serviceDeliveryLocation/locationOf/incubatorAccommodation")
            if incubator is not None:
                value = given(incubator.attrs.get("negationInd", "false"))
                if value is None:
                    unread[INCUBATOR] += 1
                else:
                    found.append((INCUBATOR, value))
        elif part.name == "component2":
            event = part.child("substanceAdministrationEvent")
            kind = part.find("substanceAdministrationEvent/consumable/administerableMaterial/administrableMaterialKind/code")
            number = kind.attrs.get("code", "") if kind is not None else ""
            value = given(event.attrs.get("negationInd", "false")) if event is not None else None
            if number.isdecimal() and int(number) in MATERIALS and value is not None:
                found.append((int(number), value))
            else:
                unread.update(part.element_codes())
        elif part.name == "component3":
            _observation(part, part.child("neonateObservations"), NEONATE, found, unread)
        else:
            unread.update(part.element_codes())
