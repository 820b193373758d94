"""Items: BDS elements of a structure as (element, HL7 value node) pairs, and back to values.

The structures a DOB carries outside the rubricClusters (:mod:`.perinatal`, :mod:`.careplans`,
:mod:`.heelprick`) each assemble items into their HL7 shape and read them back. Between items
and BDS facts values (typed as in :mod:`jgz_gateway.adapters.record`) the conversion is the
same for all of them, driven by a table of :class:`Slot`\\ s: how each element's value is
carried. I/O-free.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping, Protocol

from . import model as m
from .timestamps import format_ts, parse_ts

LOINC = "2.16.840.1.113883.6.1"
#: BDS "Ja/Nee/Onbekend" codes, written as a yes or a no (3 Onbekend has no place).
YES, NO = "1", "2"

Item = tuple[int, m.Node]  # (BDS element, its HL7 value node)


@dataclass(frozen=True)
class Slot:
    """How one element's value is carried.

    ``kind`` is the HL7 value type (PQ with ``unit``, INT, BL, ST, CV, TS, CS); ``yes_no``
    marks a BDS code "1 Ja / 2 Nee", written as BL or, with ``status``, as the CS code for yes
    or for no; ``text`` a BDS ordinal (a code, "0".."10") written as INT. An observation slot
    is coded by its element, or by ``loinc`` where the template says so.
    """

    element: int
    kind: str
    unit: str | None = None
    loinc: str | None = None
    yes_no: bool = False
    text: bool = False
    status: tuple[str, str] | None = None

    @property
    def code(self) -> tuple[str, str]:
        return (self.loinc, LOINC) if self.loinc else (str(self.element), m.OID_BDS_ELEMENT)


def table(*slots: Slot) -> dict[int, Slot]:
    return {s.element: s for s in slots}


class Coder(Protocol):
    """Writes coded values in the HL7 flavour of the element's value set."""

    def coded_node(self, name: str, element: int, bds_code: Any, w: str | None = None,
                   xsi: str | None = None) -> m.Node: ...


class Decoder(Protocol):
    """Reads an HL7 coded node as the BDS-flavour code of the element's value set."""

    def code_of(self, element: int, node: m.Node | None, w: str | None = None) -> str | None: ...


def node(name: str, attrs: dict | None = None, children: list[m.Node] | None = None,
         text: str | None = None) -> m.Node:
    return m.Node(name=name, attrs=attrs or {}, children=children or [], text=text)


def bl(yes: bool) -> m.Node:
    """A BL value node: how items carry yes/no (and given-or-not) values."""
    return node("value", {"xsi:type": "BL", "value": "true" if yes else "false"})


def negation(v: m.Node | None) -> str | None:
    """``negationInd`` of a given-or-not act from its BL item: "false" when given, "true" when
    not, None for a value that is neither."""
    said = v.attrs.get("value") if v is not None else None
    return {"true": "false", "false": "true"}.get(said or "")


def given(negation_ind: str | None) -> m.Node | None:
    """The inverse of :func:`negation`: the BL item of an act's ``negationInd``."""
    return bl(negation_ind == "false") if negation_ind in ("true", "false") else None


def once(found: Iterable[Item], elements: frozenset[int]) -> tuple[dict[int, m.Node], Counter[int]]:
    """The first item of each of ``elements``, for a structure that holds each once; the
    other items counted."""
    by: dict[int, m.Node] = {}
    dropped: Counter[int] = Counter()
    for number, v in found:
        if number in by or number not in elements:
            dropped[number] += 1
        else:
            by[number] = v
    return by, dropped


def as_value(code: m.Node, xsi: str = "CV") -> m.Node:
    """A coded element of the message (``code``, ``reasonCode``…) as an item's value node."""
    return code.model_copy(update={"name": "value", "attrs": {**code.attrs, "xsi:type": xsi}})


def as_code(name: str, value: m.Node) -> m.Node:
    """An item's coded value node as the coded element ``name`` (no xsi:type)."""
    return value.model_copy(update={"name": name, "attrs": {k: x for k, x in value.attrs.items() if k != "xsi:type"}})


def period(by: Mapping[int, m.Node], numbers: tuple[int, int]) -> tuple[m.Node | None, list[int]]:
    """A structure's ``effectiveTime`` from the TS items of its start and end (``numbers``),
    and the elements of those whose value is no date (left out)."""
    bounds: list[m.Node] = []
    rejected: list[int] = []
    for number, tag in zip(numbers, ("low", "high")):
        if number in by:
            when = by[number].attrs.get("value")
            if isinstance(parse_ts(when), dt.date):
                bounds.append(node(tag, {"value": when}))
            else:
                rejected.append(number)
    return (node("effectiveTime", {}, bounds) if bounds else None), rejected


def period_items(holder: m.Node, numbers: tuple[int, int]) -> list[Item]:
    """The inverse of :func:`period`: ``holder``'s effectiveTime low and high as TS items."""
    found: list[Item] = []
    for number, tag in zip(numbers, ("low", "high")):
        bound = holder.find("effectiveTime/" + tag)
        if bound is not None and bound.attrs.get("value"):
            found.append((number, node("value", {"xsi:type": "TS", "value": bound.attrs["value"]})))
    return found


# --- values -> items -----------------------------------------------------------------------


def to_items(values: Mapping[int, Any], slots: Mapping[int, Slot], coder: Coder) -> tuple[list[Item], Counter[int]]:
    """The items of the values present for ``slots`` (each value of a repeated element an item
    of its own: the structure keeps what it has room for), and the values no value node can
    hold, counted."""
    found: list[Item] = []
    dropped: Counter[int] = Counter()
    for number in sorted(slots):
        given = values.get(number)
        for value in (list(given) if isinstance(given, list) else [given]) if given is not None else []:
            v = value_node(slots[number], value, coder)
            if v is None:
                dropped[number] += 1
            else:
                found.append((number, v))
    return found, dropped


def value_node(slot: Slot, value: Any, coder: Coder) -> m.Node | None:
    """The HL7 value node of a typed value, or None when the slot cannot hold it."""
    kind = slot.kind
    try:
        if slot.yes_no:
            if str(value) not in (YES, NO):
                return None
            yes = str(value) == YES
            return node("value", {"xsi:type": "CS", "code": slot.status[0 if yes else 1]}) if slot.status else bl(yes)
        if kind == "TS":
            return node("value", {"xsi:type": "TS", "value": format_ts(value)})
        if kind == "CV":
            return coder.coded_node("value", slot.element, value, xsi="CV")
        if kind == "BL":
            return bl(value) if isinstance(value, bool) else None
        if kind == "PQ":
            return node("value", {"xsi:type": "PQ", "value": quantity_text(value), "unit": slot.unit})
        if kind == "INT":
            return node("value", {"xsi:type": "INT", "value": str(int(str(value)))})
        text = str(value)
        return node("value", {"xsi:type": "ST"}, text=text) if text.strip() else None
    except (TypeError, ValueError, InvalidOperation):
        return None


def quantity_text(value: Any) -> str:
    """A PQ value as HL7 writes it: plain decimal notation, no exponent, no trailing zeros;
    a value that is not a finite number raises (InvalidOperation, an ArithmeticError)."""
    return format(quantity(str(value)).normalize(), "f")


def quantity(text: str) -> Decimal:
    """A PQ ``@value`` as a number; ``NaN`` and ``Infinity``, which Decimal would read, raise
    InvalidOperation like any other text that is no number."""
    d = Decimal(text)
    if not d.is_finite():
        raise InvalidOperation(text)
    return d


# --- items -> values -----------------------------------------------------------------------


def from_items(found: Iterable[Item], slots: Mapping[int, Slot], decoder: Decoder) -> tuple[dict[int, Any], Counter[int]]:
    """Values by element (an element given more than once as a list), and the items whose
    value this reader cannot type, counted."""
    values: dict[int, Any] = {}
    unread: Counter[int] = Counter()
    for number, v in found:
        value = typed(slots[number], v, decoder)
        if value is None:
            unread[number] += 1
        elif number in values:
            old = values[number]
            values[number] = [*(old if isinstance(old, list) else [old]), value]
        else:
            values[number] = value
    return values, unread


def typed(slot: Slot, v: m.Node, decoder: Decoder | None) -> Any:
    """The typed value of an item's value node, or None when it holds none the slot knows."""
    a = v.attrs
    try:
        if slot.yes_no and slot.status:
            said = a.get("code")
            return YES if said == slot.status[0] else NO if said == slot.status[1] else None
        if slot.kind == "TS":
            when = parse_ts(a.get("value"))
            return when if isinstance(when, dt.date) else None
        if slot.kind == "CV":
            return decoder.code_of(slot.element, v) if decoder is not None else None
        if slot.kind == "BL":
            if a.get("value") not in ("true", "false"):
                return None
            yes = a["value"] == "true"
            return (YES if yes else NO) if slot.yes_no else yes
        if slot.kind == "PQ":
            return quantity(a["value"]) if a.get("value") and a.get("unit", "1") == slot.unit else None
        if slot.kind == "INT":
            count = int(a["value"]) if a.get("value") else None
            return str(count) if slot.text and count is not None else count
        return v.text if v.text and v.text.strip() else a.get("value") or None
    except (ValueError, InvalidOperation):
        return None
