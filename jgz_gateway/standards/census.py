"""Count the BDS element values a dossier holds, wherever in the model they sit.

A reader of facts (``adapters.from_dossier``) takes element values from the places the
standard puts them and counts what it sees elsewhere as unread. This census is its
independent check: it walks the whole model, typed objects and verbatim :class:`Node`
trees alike, and counts every element observation that carries a value. An element
value the census finds more often than the reader accounted for was passed over
without a word (an element the reader has no place for, or an observation in a place
no schema allows, such as inside another observation's value); a migration then
reports it as dropped, and the ADA writer as skipped, instead of losing it silently.

Only values with content count (a value, a code, text, child elements, a null flavour
such as OTH or NA that a value set may read as an exception): an empty value, or one
with no information (NI), says nothing a reader could lose.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import get_args, get_origin

from pydantic import BaseModel

from .model import OID_BDS_ELEMENT, Node, Observation, Value


def valued_elements(dossier: BaseModel) -> Counter[int]:
    """Per BDS element number, how many observations in ``dossier`` carry a value."""
    found: Counter[int] = Counter()
    stack: list = [dossier]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        item = pop()
        if item.__class__ is Node:
            if item.children:
                _node(item, found)
                extend(item.children)
            continue
        if item.__class__ is Observation and _has_value(item.value):
            number = item.element if item.element is not None else _number(item.extra)
            if number is not None:
                found[number] += 1
        fields = item.__dict__
        for name in _model_fields(item.__class__):
            value = fields[name]
            if value.__class__ is list:
                extend(value)
            elif value is not None:
                push(value)
    return found


@lru_cache(maxsize=None)
def _model_fields(cls: type) -> tuple[str, ...]:
    """The fields of a model class that may hold models (or lists of them): the rest are
    strings, numbers and attribute dicts, which hold no element."""
    def holds_models(annotation) -> bool:
        if get_origin(annotation) is dict:
            return False  # attributes
        if isinstance(annotation, type):
            return issubclass(annotation, BaseModel)
        return any(holds_models(a) for a in get_args(annotation))

    return tuple(name for name, f in cls.model_fields.items() if holds_models(f.annotation))


def _number(extra: list[Node]) -> int | None:
    """The element number of a BDS element code kept verbatim (a code the reader could not
    type, such as one holding text)."""
    for n in extra:
        code = n.attrs.get("code") or ""
        if n.name == "code" and n.attrs.get("codeSystem") == OID_BDS_ELEMENT and code.isdecimal():
            return int(code)
    return None


def _has_value(value: Value | None) -> bool:
    """Anything in the value besides its type (as for a verbatim value, see :func:`_node`)."""
    if value is None or value.null_flavor == "NI":
        return False
    return any(v.strip() if k == "text" else v for k, v in value.__dict__.items() if k != "xsi_type" and v)


def _node(node: Node, found: Counter[int]) -> None:
    """A verbatim element observation: a BDS element ``code`` child and a ``value`` (or, in a
    conclusion or annotation, a ``text``) child with content. Non-BDS data asks its own
    question under a BDS code: not an element value."""
    if node.name == "nonBDSData":
        return
    number = content = text = None
    for c in node.children:
        if c.name == "code" and c.attrs.get("codeSystem") == OID_BDS_ELEMENT:
            number = c.attrs.get("code") or ""
        elif c.name == "value" and content is None:
            content = c
        elif c.name == "text" and text is None:
            text = c
    content = content if content is not None else text
    if number is None or not number.isdecimal() or content is None or content.attrs.get("nullFlavor") == "NI":
        return
    if (content.text and content.text.strip()) or content.children or any(
            v for k, v in content.attrs.items() if k != "xsi:type"):
        found[int(number)] += 1
