"""R037 Hielprik pasgeborene in the DOB: the activity's ``component4/heelPrick`` (template 133).

The heel prick is no rubricCluster either: its elements are parts of one act of the
encounter (COCT_MT900920NL). 373 Type hielprik is its code (W0316, required), 368 Hielprik
afgenomen its ``negationInd`` (taken: false), 380 Reden niet afgenomen its reasonCode
(W0313), 374 Datum its performer's time, 1411 Naam uitvoerende persoon the performer's
name and 370 Uitvoerende instantie the organisation it represents (its id unknown, NI), and
381 Uitslag the outcome's result (W0321).

Not placed: 379 Reden herhaling, 1431 Bijzonderheden and 1432 Setnummer vorige hielprik
belong to the request the prick fulfils (``inFulfillmentOf/procedureRequest``), where the
published template (134, "Hielprikverzoek") and the XML Schema disagree on the shape
(``reason/act`` and ``subjectOf6`` against ``reason/repeatHeelPrick`` and ``subjectOf``) and
the template wants ids the BDS does not hold; they are reported, not written. A heel prick
without 373 cannot be written (its code is 1..1), nor the performer's name or organisation
without 374 (``time[non-null]``).

I/O-free, in the two views :mod:`.perinatal` uses: items ((element, value node) pairs,
which the ADA reader and writer use) and values (typed as BDS facts, for the facts path).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Mapping

from . import model as m
from .items import Coder, Decoder, Item, Slot, as_code, as_value, from_items, given, negation, node, once, table, to_items

TEMPLATE = m.TEMPLATE_PREFIX + "133"
TAKEN, PERFORMER_ORG, KIND, DATE, REASON_NOT, RESULT, PERFORMER_NAME = 368, 370, 373, 374, 380, 381, 1411
#: How what the heel prick itself carries is typed (the request's 379, 1431 and 1432 are not placed).
SLOTS = table(Slot(KIND, "CV"), Slot(REASON_NOT, "CV"), Slot(RESULT, "CV"), Slot(TAKEN, "BL"), Slot(DATE, "TS"),
              Slot(PERFORMER_NAME, "ST"), Slot(PERFORMER_ORG, "ST"))
ELEMENTS = frozenset(SLOTS)


def holds(n: m.Node) -> bool:
    """Is ``n`` (a child of an encounter) a heel prick?"""
    return n.name == "component4" and n.child("heelPrick") is not None


def build(values: Mapping[int, Any], coder: Coder) -> tuple[m.Node | None, Counter[int]]:
    """The encounter's ``component4`` for an activity's R037 values (typed as BDS facts), and
    the elements that could not be written, counted."""
    found, dropped = to_items(values, SLOTS, coder)
    built, unplaced = assemble(found)
    return built, dropped + unplaced


def read(n: m.Node, decoder: Decoder) -> tuple[dict[int, Any], Counter[int]]:
    """An activity's R037 values from its heel prick, and the BDS elements found but not read."""
    found, unread = items(n)
    values, untyped = from_items(found, SLOTS, decoder)
    return values, unread + untyped


def assemble(found: Iterable[Item]) -> tuple[m.Node | None, Counter[int]]:
    """The encounter's ``component4`` holding one heel prick's items, and the items it has no
    room for, counted (all of them without 373)."""
    by, dropped = once(found, ELEMENTS)
    kind = by.get(KIND)
    if kind is None or not (kind.attrs.get("code") or kind.attrs.get("nullFlavor")):
        dropped.update(by.keys())
        return None, dropped
    attrs = {"classCode": "SPECCOLLECT", "moodCode": "EVN"}
    if TAKEN in by:
        negation_ind = negation(by[TAKEN])
        if negation_ind is None:
            dropped[TAKEN] += 1
        else:
            attrs["negationInd"] = negation_ind
    children = [node("templateId", {"root": TEMPLATE}), as_code("code", kind)]
    if REASON_NOT in by:
        children.append(as_code("reasonCode", by[REASON_NOT]))
    when = by.get(DATE)
    if when is not None and when.attrs.get("value"):
        entity = []
        if PERFORMER_NAME in by:
            entity.append(node("assignedPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"}, [
                node("name", {}, text=by[PERFORMER_NAME].text)]))
        if PERFORMER_ORG in by:
            entity.append(node("representedOrganization", {"classCode": "ORG", "determinerCode": "INSTANCE"}, [
                node("id", {"nullFlavor": "NI"}), node("name", {}, text=by[PERFORMER_ORG].text)]))
        children.append(node("performer", {"typeCode": "PRF"}, [
            node("time", {"value": when.attrs["value"]}), node("assignedEntity", {"classCode": "ASSIGNED"}, entity)]))
    else:  # the performer's time is [non-null]: without the date, no performer
        dropped.update(n for n in (DATE, PERFORMER_NAME, PERFORMER_ORG) if n in by)
    if RESULT in by:
        children.append(node("outcome", {"typeCode": "OUTC", "contextConductionInd": "false"}, [
            node("result", {"classCode": "OBS", "moodCode": "EVN"}, [
                node("code", {"code": str(RESULT), "codeSystem": m.OID_BDS_ELEMENT}),
                as_value(by[RESULT])])]))
    return node("component4", {"typeCode": "COMP"}, [node("heelPrick", attrs, children)]), dropped


def items(n: m.Node) -> tuple[list[Item], Counter[int]]:
    """The items one heel prick (a ``component4``) holds, and the BDS elements found in parts
    this reader does not interpret (the request it fulfils), counted."""
    prick = n.child("heelPrick")
    found: list[Item] = []
    unread: Counter[int] = Counter()
    code = prick.child("code")
    if code is not None:
        found.append((KIND, as_value(code)))
    taken = given(prick.attrs.get("negationInd"))
    if taken is not None:
        found.append((TAKEN, taken))
    reason = prick.child("reasonCode")
    if reason is not None:
        found.append((REASON_NOT, as_value(reason)))
    time = prick.find("performer/time")
    if time is not None and time.attrs.get("value"):
        found.append((DATE, node("value", {"xsi:type": "TS", "value": time.attrs["value"]})))
    for number, path in ((PERFORMER_NAME, "performer/assignedEntity/assignedPerson/name"),
                         (PERFORMER_ORG, "performer/assignedEntity/representedOrganization/name")):
        part = prick.find(path)
        if part is not None and (part.text or "").strip():
            found.append((number, node("value", {"xsi:type": "ST"}, text=part.text)))
    result = prick.find("outcome/result")
    value = result.child("value") if result is not None else None
    if value is not None:
        found.append((RESULT, value))
    request = prick.child("inFulfillmentOf")
    if request is not None:
        unread.update(request.element_codes())
        unread.update({n: 1 for n in (1431,) if request.find("procedureRequest/subjectOf") is not None
                       or request.find("procedureRequest/subjectOf6") is not None})
    return found, unread
