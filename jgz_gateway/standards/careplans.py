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

import datetime as dt
from collections import Counter
from typing import Any, Iterable, Mapping

from . import model as m
from .items import Coder, Decoder, Item, Slot, as_code, as_value, from_items, node, table, to_items
from .timestamps import parse_ts

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


def holds(n: m.Node) -> bool:
    """Is ``n`` (a child of careProvisionEvent) one of the two structures?"""
    return (n.name == "component3" and n.child("patientCareProvision") is not None
            or n.name == "component4" and n.child("carePlan") is not None)


def _code(number: int) -> m.Node:
    return node("code", {"code": str(number), "codeSystem": m.OID_BDS_ELEMENT})


def _st(name: str, v: m.Node) -> m.Node:
    return v.model_copy(update={"name": name, "attrs": {**v.attrs, "xsi:type": "ST"} if name == "value" else {}})


def _period(by: dict[int, m.Node], groep: str) -> m.Node | None:
    bounds = [node(tag, {"value": by[n].attrs["value"]}) for n, tag in zip(PERIOD[groep], ("low", "high"))
              if n in by and isinstance(parse_ts(by[n].attrs.get("value")), dt.date)]
    return node("effectiveTime", {}, bounds) if bounds else None


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
    by: dict[int, m.Node] = {}
    dropped: Counter[int] = Counter()
    for number, v in found:
        if number in by or number not in ELEMENTS[groep]:
            dropped[number] += 1
        else:
            by[number] = v
    built = _received(by) if groep == RECEIVED else _plan(by)
    if built is None:
        dropped.update(by.keys())
        return None, dropped
    return built, dropped


def _received(by: dict[int, m.Node]) -> m.Node | None:
    period = _period(by, RECEIVED)
    kind = by.get(CARE_KIND)
    if period is None or kind is None or not (kind.attrs.get("code") or kind.attrs.get("nullFlavor")):
        return None  # code 1..1 and effectiveTime [non-null] (template 119)
    children = [node("templateId", {"root": TEMPLATE[RECEIVED]}), as_code("code", kind)]
    if CARE_NOTE in by:
        children.append(_st("text", by[CARE_NOTE]))
    closed = by.get(CLOSED)
    children.append(node("statusCode", {"code": closed.attrs["code"]} if closed is not None else {"nullFlavor": "ASKU"}))
    children.append(period)
    who = by.get(CARE_FOR)
    if who is not None and who.attrs.get("code") == ONESELF:
        children.append(node("subject", {"typeCode": "SBJ"}, [node("patient", {"classCode": "PAT"})]))
    elif who is not None:
        children.append(node("subject", {"typeCode": "SBJ"}, [node("personalRelationship", {"classCode": "PRS"}, [
            as_code("code", who),
            node("relationshipHolder", {"classCode": "PSN", "determinerCode": "INSTANCE", "nullFlavor": "NI"})])]))
    else:  # subject [non-null] 1..1: whom the care is for, unknown, is the child's own (TC: patient | personalRelationship)
        return None
    if GOAL in by:
        children.append(node("goal", {"typeCode": "GOAL"}, [node("observationGoal", {"classCode": "OBS", "moodCode": "GOL"}, [
            _code(GOAL), _st("text", by[GOAL])])]))
    if REASON in by:
        children.append(node("reasonOf", {"typeCode": "RSON"}, [node("patientCareObservation", {"classCode": "OBS", "moodCode": "EVN"}, [
            _code(REASON), _st("value", by[REASON])])]))
    return node("component3", {"typeCode": "COMP"}, [
        node("patientCareProvision", {"classCode": "PCPR", "moodCode": "EVN"}, children)])


def _plan(by: dict[int, m.Node]) -> m.Node | None:
    period = _period(by, PLAN)
    if period is None or PROBLEM not in by:
        return None  # effectiveTime 1..1 (schema) with a low or high (template 10xxx); the problem 1..1
    problem = [_code(PROBLEM), _st("text", by[PROBLEM])]
    if CAUSE in by:
        problem.append(node("reasonOf", {"typeCode": "RSON"}, [node("condition", {"classCode": "OBS", "moodCode": "EVN"}, [
            _code(CAUSE), _st("text", by[CAUSE])])]))
    if SYMPTOM in by:
        problem.append(node("subjectOf", {"typeCode": "SUBJ"}, [node("symptom", {"classCode": "OBS", "moodCode": "EVN"}, [
            _code(SYMPTOM), _st("text", by[SYMPTOM])])]))
    children = [node("templateId", {"root": TEMPLATE[PLAN]}),
                node("code", {"code": PLAN, "codeSystem": m.OID_BDS_GROEP, "displayName": "Zorgplan"}), period]
    if GOALS in by:
        children.append(node("finalGoal", {"typeCode": "OBJF"}, [node("observationGoal", {"classCode": "OBS", "moodCode": "GOL"}, [
            _code(GOALS), _st("value", by[GOALS])])]))
    children.append(node("subject", {"typeCode": "SUBJ"}, [node("problem", {"classCode": "OBS", "moodCode": "EVN"}, problem)]))
    if EVALUATION in by:
        children.append(node("pertinentInformation", {"typeCode": "PERT"}, [node("evaluationEvent", {"classCode": "OBS", "moodCode": "EVN"}, [
            _code(EVALUATION), _st("value", by[EVALUATION])])]))
    if INTERVENTIONS in by:
        children.append(node("component", {"typeCode": "COMP"}, [node("observationIntent", {"classCode": "OBS", "moodCode": "INT"}, [
            _code(INTERVENTIONS), _st("value", by[INTERVENTIONS])])]))
    return node("component4", {"typeCode": "COMP"}, [node("carePlan", {"classCode": "PCPR", "moodCode": "INT"}, children)])


# --- structure -> items --------------------------------------------------------------------




def _text_value(n: m.Node | None) -> m.Node | None:
    """An ST value node from a ``text`` or ``value`` holding a string."""
    if n is None or not (n.text or "").strip():
        return None
    return node("value", {"xsi:type": "ST"}, text=n.text)


def _period_items(holder: m.Node, groep: str, found: list[Item]) -> None:
    for number, tag in zip(PERIOD[groep], ("low", "high")):
        bound = holder.find("effectiveTime/" + tag)
        if bound is not None and bound.attrs.get("value"):
            found.append((number, node("value", {"xsi:type": "TS", "value": bound.attrs["value"]})))


def _coded_as(number: int, holder: m.Node, child: str, inner: str) -> m.Node | None:
    """The text or value of ``holder/child/inner`` when ``inner`` is coded as element ``number``."""
    part = holder.find(child)
    code = part.child("code") if part is not None else None
    if code is None or code.attrs.get("code") != str(number):
        return None
    return _text_value(part.child(inner))


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
        _period_items(care, RECEIVED, found)
        if care.find("subject/patient") is not None:
            found.append((CARE_FOR, node("value", {"xsi:type": "CV", "code": ONESELF, "codeSystem": "2.16.840.1.113883.5.111"})))
        elif care.find("subject/personalRelationship/code") is not None:
            found.append((CARE_FOR, as_value(care.find("subject/personalRelationship/code"))))
        for number, child, inner in ((GOAL, "goal/observationGoal", "text"), (REASON, "reasonOf/patientCareObservation", "value")):
            v = _coded_as(number, care, child, inner)
            if v is not None:
                found.append((number, v))
            elif care.find(child) is not None:
                unread.update(care.find(child).element_codes())
        return RECEIVED, found, unread
    _period_items(plan, PLAN, found)
    for number, child, inner in ((PROBLEM, "subject/problem", "text"), (CAUSE, "subject/problem/reasonOf/condition", "text"),
                                 (SYMPTOM, "subject/problem/subjectOf/symptom", "text"),
                                 (GOALS, "finalGoal/observationGoal", "value"), (EVALUATION, "pertinentInformation/evaluationEvent", "value"),
                                 (INTERVENTIONS, "component/observationIntent", "value")):
        v = _coded_as(number, plan, child, inner)
        if v is not None:
            found.append((number, v))
        elif plan.find(child) is not None and number != PROBLEM:
            unread.update(plan.find(child).element_codes())
    return PLAN, found, unread
