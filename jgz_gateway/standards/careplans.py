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
from .perinatal import Coder, Decoder, Item, node
from .timestamps import format_ts, parse_ts

RECEIVED, PLAN = "G041", "G081"
RUBRIEK = {RECEIVED: "R035", PLAN: "R048"}
TEMPLATE = {RECEIVED: m.TEMPLATE_PREFIX + "119", PLAN: m.TEMPLATE_PREFIX + "120"}
#: The groep's period (G103, G110): its start and end.
PERIOD = {RECEIVED: (1467, 1468), PLAN: (1481, 1482)}
CARE_KIND, CARE_FOR, CARE_NOTE, CLOSED, REASON, GOAL = 361, 362, 363, 1201, 365, 829
PROBLEM, CAUSE, SYMPTOM, GOALS, INTERVENTIONS, EVALUATION = 1151, 1152, 1153, 1154, 1155, 1156
CODED = frozenset({CARE_KIND, CARE_FOR})
ELEMENTS = {RECEIVED: frozenset({CARE_KIND, CARE_FOR, CARE_NOTE, CLOSED, REASON, GOAL, *PERIOD[RECEIVED]}),
            PLAN: frozenset({PROBLEM, CAUSE, SYMPTOM, GOALS, INTERVENTIONS, EVALUATION, *PERIOD[PLAN]})}
#: 1201 Afgesloten ("1 Ja / 2 Nee") as the statusCode of the care.
CLOSED_STATUS = {"1": "completed", "2": "active"}
ONESELF = "ONESELF"  # 362 "01 Cliënt/jeugdige": the care is for the child (subject/patient)
PERIODS = {"G103": RECEIVED, "G110": PLAN}  # the period groep inside each


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
    found: list[Item] = []
    dropped: Counter[int] = Counter()
    for number in sorted(ELEMENTS[groep]):
        value = values.get(number)
        if value is None:
            continue
        if isinstance(value, list):  # each element once per groep
            dropped[number] += len(value) - 1
            value = value[0]
        v = _value_node(number, value, coder)
        if v is None:
            dropped[number] += 1
        else:
            found.append((number, v))
    built, unplaced = assemble(groep, found)
    return built, dropped + unplaced


def _value_node(number: int, value: Any, coder: Coder) -> m.Node | None:
    if number in CODED:
        try:
            return coder.coded_node("value", number, value, xsi="CV")
        except (TypeError, ValueError):
            return None
    if number == CLOSED:
        return node("value", {"xsi:type": "CS", "code": CLOSED_STATUS[str(value)]}) if str(value) in CLOSED_STATUS else None
    if number in PERIOD[RECEIVED] + PERIOD[PLAN]:
        try:
            return node("value", {"xsi:type": "TS", "value": format_ts(value)})
        except TypeError:
            return None
    text = str(value)
    return node("value", {"xsi:type": "ST"}, text=text) if text.strip() else None


def read(n: m.Node, decoder: Decoder) -> tuple[str, dict[int, Any], Counter[int]]:
    """The groep, its values and the BDS elements found but not read, of one structure."""
    groep, found, unread = items(n)
    values: dict[int, Any] = {}
    for number, v in found:
        if number in CODED:
            value = decoder.code_of(number, v)
        elif number == CLOSED:
            value = {s: c for c, s in CLOSED_STATUS.items()}.get(v.attrs.get("code"))
        elif number in PERIOD[groep]:
            when = parse_ts(v.attrs.get("value"))
            value = when if isinstance(when, dt.date) else None
        else:
            value = v.text if v.text and v.text.strip() else None
        if value is None:
            unread[number] += 1
        else:
            values[number] = value
    return groep, values, unread


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
    children = [node("templateId", {"root": TEMPLATE[RECEIVED]}), kind.model_copy(update={"name": "code", "attrs": {
        k: x for k, x in kind.attrs.items() if k != "xsi:type"}})]
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
            who.model_copy(update={"name": "code", "attrs": {k: x for k, x in who.attrs.items() if k != "xsi:type"}}),
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


def _coded_item(code: m.Node | None) -> m.Node | None:
    return code.model_copy(update={"name": "value", "attrs": {**code.attrs, "xsi:type": "CV"}}) if code is not None else None


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
        kind = _coded_item(care.child("code"))
        if kind is not None:
            found.append((CARE_KIND, kind))
        note = _text_value(care.child("text"))
        if note is not None:
            found.append((CARE_NOTE, note))
        status = care.child("statusCode")
        if status is not None and status.attrs.get("code") in CLOSED_STATUS.values():
            found.append((CLOSED, node("value", {"xsi:type": "CS", "code": status.attrs["code"]})))
        _period_items(care, RECEIVED, found)
        if care.find("subject/patient") is not None:
            found.append((CARE_FOR, node("value", {"xsi:type": "CV", "code": ONESELF, "codeSystem": "2.16.840.1.113883.5.111"})))
        elif care.find("subject/personalRelationship/code") is not None:
            found.append((CARE_FOR, _coded_item(care.find("subject/personalRelationship/code"))))
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
