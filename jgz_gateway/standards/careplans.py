"""R035 G041 Ontvangen zorg and R048 G081 Zorgplan in the DOB: structures of the dossier.

Like the pregnancy and the newborn (:mod:`.perinatal`), these two groepen are not
rubricClusters of a contact but CMETs of the dossier (``careProvisionEvent``), one per
groep occurrence:

* G041, care the child receives elsewhere: ``component3/patientCareProvision``
  (COCT_MT900917NL, template 119): 361 Type zorg as its code, 363 Toelichting as its text,
  1201 Afgesloten as its statusCode (completed or active), G103 Periode zorg (1467, 1468)
  as its effectiveTime, 362 Zorg voor as its subject (the child itself or a relation),
  829 Doel as a goal and 365 Reden as a reason;
* G081, the care plan: ``component4/carePlan`` (COCT_MT900918NL, template 120): G110
  Periode duur zorg op maat (1481, 1482) as its effectiveTime, 1151 Probleemomschrijving
  as the problem (with 1152 Oorzaak and 1153 Zich uitend in), 1154 Doelen, 1155
  Interventies and 1156 Evaluatie.

The shapes follow the published template rows and the XML Schema; where they require what
the values lack (a G041 without its period: effectiveTime is ``[non-null]``; a G081 without
1151 or without G110: the schema wants an effectiveTime, the template a low or high), the
groep is counted as not written. 360 Zorg ontvangen in gezin has no place in the DOB.

I/O-free, in the two views :mod:`.perinatal` uses: *items* ((element, value node) pairs) and
*values* (typed as BDS facts).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Mapping

from . import model as m
from .items import (Coder, Decoder, Item, Slot, as_code, as_value, from_items, node, once, period, period_items,
                    table, to_items)

RECEIVED, PLAN = "G041", "G081"
RUBRIEK = {RECEIVED: "R035", PLAN: "R048"}
TEMPLATE = {RECEIVED: m.TEMPLATE_PREFIX + "119", PLAN: m.TEMPLATE_PREFIX + "120"}
#: The groep's period (G103, G110): its start and end.
PERIOD = {RECEIVED: (1467, 1468), PLAN: (1481, 1482)}
PERIOD_GROEP = {RECEIVED: "G103", PLAN: "G110"}
CARE_KIND, CARE_FOR, CARE_NOTE, CLOSED, REASON, GOAL = 361, 362, 363, 1201, 365, 829
PROBLEM, CAUSE, SYMPTOM, GOALS, INTERVENTIONS, EVALUATION = 1151, 1152, 1153, 1154, 1155, 1156
#: How each groep's values are carried; 1201 Afgesloten ("1 Ja / 2 Nee") as the care's
#: statusCode, completed or active.
SLOTS = {RECEIVED: table(Slot(CARE_KIND, "CV"), Slot(CARE_FOR, "CV"), Slot(CARE_NOTE, "ST"), Slot(REASON, "ST"),
                         Slot(GOAL, "ST"), Slot(CLOSED, "CS", yes_no=True, status=("completed", "active")),
                         *(Slot(n, "TS") for n in PERIOD[RECEIVED])),
         PLAN: table(*(Slot(n, "ST") for n in (PROBLEM, CAUSE, SYMPTOM, GOALS, INTERVENTIONS, EVALUATION)),
                     *(Slot(n, "TS") for n in PERIOD[PLAN]))}
ELEMENTS = {groep: frozenset(slots) for groep, slots in SLOTS.items()}
ONESELF = "ONESELF"  # 362 "01 Cliënt/jeugdige": the care is for the child (subject/patient)
#: The parts that hold one element's text, an OBS act coded as that element: element ->
#: (part, its typeCode, act, its moodCode, the act's child holding the text). CAUSE and
#: SYMPTOM are parts of the plan's problem (subject/problem), the others of the structure.
PARTS = {GOAL: ("goal", "GOAL", "observationGoal", "GOL", "text"),
         REASON: ("reasonOf", "RSON", "patientCareObservation", "EVN", "value"),
         CAUSE: ("reasonOf", "RSON", "condition", "EVN", "text"),
         SYMPTOM: ("subjectOf", "SUBJ", "symptom", "EVN", "text"),
         GOALS: ("finalGoal", "OBJF", "observationGoal", "GOL", "value"),
         EVALUATION: ("pertinentInformation", "PERT", "evaluationEvent", "EVN", "value"),
         INTERVENTIONS: ("component", "COMP", "observationIntent", "INT", "value")}
PROBLEM_PATH = "subject/problem"


def holds(n: m.Node) -> bool:
    """Is ``n`` (a child of careProvisionEvent) one of the two structures?"""
    return (n.name == "component3" and n.child("patientCareProvision") is not None
            or n.name == "component4" and n.child("carePlan") is not None)


def _code(number: int) -> m.Node:
    return node("code", {"code": str(number), "codeSystem": m.OID_BDS_ELEMENT})


def _st(name: str, v: m.Node) -> m.Node:
    return v.model_copy(update={"name": name, "attrs": {**v.attrs, "xsi:type": "ST"} if name == "value" else {}})


def _part(number: int, by: dict[int, m.Node]) -> list[m.Node]:
    """The part holding element ``number`` (see ``PARTS``), or nothing when it has no value."""
    if number not in by:
        return []
    part, type_code, act, mood, inner = PARTS[number]
    return [node(part, {"typeCode": type_code}, [node(act, {"classCode": "OBS", "moodCode": mood}, [
        _code(number), _st(inner, by[number])])])]


# --- values <-> items ----------------------------------------------------------------------


def build(groep: str, values: Mapping[int, Any], coder: Coder) -> tuple[m.Node | None, Counter[int]]:
    """The careProvisionEvent child for one G041 or G081 (typed values, its period's dates
    among them), and the elements that could not be written, counted."""
    found, dropped = to_items(values, SLOTS[groep], coder)
    built, unplaced = assemble(groep, found)
    return built, dropped + unplaced


def read(n: m.Node, decoder: Decoder) -> tuple[str, dict[int, Any], Counter[int]]:
    """The groep, its values and the BDS elements found but not read, of one structure."""
    groep, found, unread = items(n)
    values, untyped = from_items(found, SLOTS[groep], decoder)
    return groep, values, unread + untyped


# --- items -> structure --------------------------------------------------------------------


def assemble(groep: str, found: Iterable[Item]) -> tuple[m.Node | None, Counter[int]]:
    """The careProvisionEvent child holding one groep's items, and the items it has no room
    for, counted (all of them when the groep cannot be written)."""
    by, dropped = once(found, ELEMENTS[groep])
    when, rejected = period(by, PERIOD[groep])
    built = _received(by, when) if groep == RECEIVED else _plan(by, when)
    if built is None:
        dropped.update(by.keys())
        return None, dropped
    dropped.update(rejected)
    return built, dropped


def _received(by: dict[int, m.Node], when: m.Node | None) -> m.Node | None:
    kind = by.get(CARE_KIND)
    if when is None or kind is None or not (kind.attrs.get("code") or kind.attrs.get("nullFlavor")):
        return None  # code 1..1 and effectiveTime [non-null] (template 119)
    children = [node("templateId", {"root": TEMPLATE[RECEIVED]}), as_code("code", kind)]
    if CARE_NOTE in by:
        children.append(_st("text", by[CARE_NOTE]))
    closed = by.get(CLOSED)
    children.append(node("statusCode", {"code": closed.attrs["code"]} if closed is not None else {"nullFlavor": "ASKU"}))
    children.append(when)
    who = by.get(CARE_FOR)
    if who is not None and who.attrs.get("code") == ONESELF:
        children.append(node("subject", {"typeCode": "SBJ"}, [node("patient", {"classCode": "PAT"})]))
    elif who is not None:
        children.append(node("subject", {"typeCode": "SBJ"}, [node("personalRelationship", {"classCode": "PRS"}, [
            as_code("code", who),
            node("relationshipHolder", {"classCode": "PSN", "determinerCode": "INSTANCE", "nullFlavor": "NI"})])]))
    else:  # subject [non-null] 1..1: whom the care is for, unknown, is the child's own (TC: patient | personalRelationship)
        return None
    children += _part(GOAL, by) + _part(REASON, by)
    return node("component3", {"typeCode": "COMP"}, [
        node("patientCareProvision", {"classCode": "PCPR", "moodCode": "EVN"}, children)])


def _plan(by: dict[int, m.Node], when: m.Node | None) -> m.Node | None:
    if when is None or PROBLEM not in by:
        return None  # effectiveTime 1..1 (schema) with a low or high (template 10xxx); the problem 1..1
    problem = [_code(PROBLEM), _st("text", by[PROBLEM]), *_part(CAUSE, by), *_part(SYMPTOM, by)]
    children = [node("templateId", {"root": TEMPLATE[PLAN]}),
                node("code", {"code": PLAN, "codeSystem": m.OID_BDS_GROEP, "displayName": "Zorgplan"}), when,
                *_part(GOALS, by),
                node("subject", {"typeCode": "SUBJ"}, [node("problem", {"classCode": "OBS", "moodCode": "EVN"}, problem)]),
                *_part(EVALUATION, by), *_part(INTERVENTIONS, by)]
    return node("component4", {"typeCode": "COMP"}, [node("carePlan", {"classCode": "PCPR", "moodCode": "INT"}, children)])


# --- structure -> items --------------------------------------------------------------------




def _text_value(n: m.Node | None) -> m.Node | None:
    """An ST value node from a ``text`` or ``value`` holding a string."""
    if n is None or not (n.text or "").strip():
        return None
    return node("value", {"xsi:type": "ST"}, text=n.text)


def _coded_as(number: int, holder: m.Node, child: str, inner: str) -> m.Node | None:
    """The text or value of ``holder/child/inner`` when ``inner`` is coded as element ``number``."""
    part = holder.find(child)
    code = part.child("code") if part is not None else None
    if code is None or code.attrs.get("code") != str(number):
        return None
    return _text_value(part.child(inner))


def _where(number: int) -> tuple[str, str]:
    """(path of the act from the structure, its child holding the text) of a part of ``PARTS``."""
    part, _, act, _, inner = PARTS[number]
    return f"{PROBLEM_PATH + '/' if number in (CAUSE, SYMPTOM) else ''}{part}/{act}", inner


def items(n: m.Node) -> tuple[str, list[Item], Counter[int]]:
    """The groep and items one structure holds, and the BDS elements found in parts this
    reader does not interpret, counted."""
    found: list[Item] = []
    unread: Counter[int] = Counter()
    care, plan = n.child("patientCareProvision"), n.child("carePlan")
    if care is not None:
        if care.child("code") is not None:
            found.append((CARE_KIND, as_value(care.child("code"))))
        note = _text_value(care.child("text"))
        if note is not None:
            found.append((CARE_NOTE, note))
        status = care.child("statusCode")
        if status is not None and status.attrs.get("code") in SLOTS[RECEIVED][CLOSED].status:
            found.append((CLOSED, node("value", {"xsi:type": "CS", "code": status.attrs["code"]})))
        found += period_items(care, PERIOD[RECEIVED])
        if care.find("subject/patient") is not None:
            found.append((CARE_FOR, node("value", {"xsi:type": "CV", "code": ONESELF, "codeSystem": "2.16.840.1.113883.5.111"})))
        elif care.find("subject/personalRelationship/code") is not None:
            found.append((CARE_FOR, as_value(care.find("subject/personalRelationship/code"))))
        for number in (GOAL, REASON):
            child, inner = _where(number)
            v = _coded_as(number, care, child, inner)
            if v is not None:
                found.append((number, v))
            elif care.find(child) is not None:
                unread.update(care.find(child).element_codes())
        return RECEIVED, found, unread
    found += period_items(plan, PERIOD[PLAN])
    for number in (PROBLEM, CAUSE, SYMPTOM, GOALS, EVALUATION, INTERVENTIONS):
        child, inner = (PROBLEM_PATH, "text") if number == PROBLEM else _where(number)
        v = _coded_as(number, plan, child, inner)
        if v is not None:
            found.append((number, v))
        elif plan.find(child) is not None and number != PROBLEM:
            unread.update(plan.find(child).element_codes())
    return PLAN, found, unread
