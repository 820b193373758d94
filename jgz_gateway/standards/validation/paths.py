"""The path and qualifier language of the DOB rules, compiled into predicates.

``tools/import_rules.py`` parses the notation of ``template-constraints.csv`` (README
"Context and target notation") into steps ``[name, [[alt, ...], ...]]``: all qualifier
groups must hold, one alternative per group. This module turns a step into a Python
predicate on an lxml element, plus the small XML helpers the rules share. Everything
here tolerates odd trees (comments, processing instructions, missing attributes).
"""

from __future__ import annotations

import gc
import re
import threading
from typing import Callable

from lxml import etree

HL7 = "urn:hl7-org:v3"
H = "{" + HL7 + "}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
TEMPLATE_ID = H + "templateId"
XML_WS = " \t\r\n"
NF = "nullFlavor"

Pred = Callable[[etree._Element], bool]
_QNAME = re.compile(r"^[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?$")


def local(el) -> str:
    tag = el.tag
    return tag[tag.index("}") + 1:] if tag[0] == "{" else tag


def children(el) -> list:
    """Child elements (not comments or processing instructions)."""
    return [c for c in el if isinstance(c.tag, str)]


def first_child(el, tag: str):
    """``el.find(tag)`` for a Clark tag: a plain loop over the children is several times
    cheaper than ElementPath (``find``) or an ``iterchildren(tag)`` iterator here."""
    for c in el:
        if c.tag == tag:
            return c
    return None


def has_child(el, tag: str) -> bool:
    for c in el:
        if c.tag == tag:
            return True
    return False


def kids_named(el, tag: str) -> list:
    """``list(el.iterchildren(tag))`` for a Clark tag."""
    return [c for c in el if c.tag == tag]


def has_child_elements(el) -> bool:
    for c in el:
        if isinstance(c.tag, str):
            return True
    return False


def own_text(el) -> str:
    """The element's own text nodes joined (XPath ``text()``), untrimmed."""
    parts = [el.text] if el.text is not None else []
    for c in el:
        if c.tail is not None:
            parts.append(c.tail)
    return "".join(parts)


def has_text_node(el) -> bool:
    if el.text is not None:
        return True
    return any(c.tail is not None for c in el)


def string_value(el) -> str:
    """XPath ``string(.)``: all descendant text, comments excluded."""
    return "".join(el.itertext())


_memo = threading.local()


class paused_gc:
    """Pause the cyclic garbage collector for one check of one message.

    A check allocates thousands of short-lived lists, dicts and element proxies, which
    starts a young-generation collection every 700 allocations and now and then a full one
    that traverses the compiled rules (~240,000 objects): about 5% of a check's time.
    Reference counting frees what a check allocates; any cycle left is collected after
    the block. Restores the previous state (nested or concurrent use
    leaves the collector enabled once the outermost block that found it enabled ends).
    """

    __slots__ = ("was_enabled",)

    def __enter__(self):
        self.was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc):
        if self.was_enabled:
            gc.enable()
        return False


class sibling_index:
    """Within this block (one run over one unchanging tree), :func:`same_named_siblings`
    learns once per parent which names its children share, instead of scanning per call."""

    __slots__ = ("previous",)

    def __enter__(self):
        self.previous = getattr(_memo, "kids", None)
        _memo.kids = {}
        return self

    def __exit__(self, *exc):
        _memo.kids = self.previous
        return False


_NONE_SHARED: dict = {}


def _shared_names(parent) -> dict:
    """The parent's children by name, for the names more than one child has."""
    tags = [c.tag for c in parent]
    if len(set(tags)) == len(tags):
        return _NONE_SHARED  # the common case: every child has a name of its own
    by_tag: dict = {}
    for c in parent:
        by_tag.setdefault(c.tag, []).append(c)
    return {t: same for t, same in by_tag.items() if len(same) > 1}


def same_named_siblings(el) -> list:
    """The other children of the parent with the same name (preceding and following)."""
    parent = el.getparent()
    if parent is None:
        return []
    kids = getattr(_memo, "kids", None)
    if kids is None:
        return [s for s in parent.iterchildren(el.tag) if s is not el]
    shared = kids.get(parent)
    if shared is None:
        shared = kids[parent] = _shared_names(parent)
    if not shared:
        return []
    same = shared.get(el.tag)
    return [s for s in same if s is not el] if same else []


_DOUBLE = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")


def xpath_number(text: str | None) -> float:
    """XPath ``number()`` as the reference engine reads an attribute: an xs:double, else NaN."""
    if text is None:
        return float("nan")
    t = text.strip(XML_WS)
    if t == "INF":
        return float("inf")
    if t == "-INF":
        return float("-inf")
    if _DOUBLE.match(t):
        return float(t)
    return float("nan")


def xsi_type(el) -> tuple[str | None, str] | None:
    """``xsi:type`` resolved against the namespaces in scope: (namespace, local) or None if absent.

    A value that is not a QName, or whose prefix is not bound, resolves to namespace None.
    An unprefixed name takes the default namespace, as ``resolve-QName`` does.
    """
    value = el.get(XSI_TYPE)
    if value is None:
        return None
    if not _QNAME.match(value):
        return (None, value)
    prefix, _, name = value.rpartition(":")
    if el.tag.startswith(H) and el.prefix == (prefix or None):
        return (HL7, name)  # the element's own prefix is bound to HL7 here
    return (el.nsmap.get(prefix or None), name)


def is_hl7_type(el, type_name: str) -> bool:
    return xsi_type(el) == (HL7, type_name)


class ValueSets:
    """Value sets as frozensets, from the compiled rule file.

    In the NL04 profile's second pass the BDS W-domain sets, whose 4.2.0 content is not
    published, accept any code (see templates.py).
    """

    W_DOMAIN = "2.16.840.1.113883.2.4.3.11.60.100.11.2."

    def __init__(self, data: dict):
        self.pairs: dict[str, frozenset] = {}
        self.joined: dict[str, frozenset] = {}
        self.deprecated: dict[str, frozenset] = {}
        self.exceptions: dict[str, frozenset] = {}
        self.codes: dict[str, frozenset] = {}
        self.names: dict[str, str] = {}
        for key, vs in data.items():
            concepts = [tuple(p) for p in vs["c"]]
            self.pairs[key] = frozenset(concepts)
            self.joined[key] = frozenset((c or "") + (s or "") for c, s in concepts)
            self.codes[key] = frozenset(c for c, _ in concepts)
            self.deprecated[key] = frozenset(tuple(p) for p in vs["d"])
            self.exceptions[key] = frozenset(c for c, s in vs["x"] if s == "2.16.840.1.113883.5.1008")
            self.names[key] = vs["name"]

    def is_w_domain(self, key: str) -> bool:
        return key.startswith(self.W_DOMAIN)



class StepCompiler:
    """Compiles interned steps into ``(tag, predicate)``; ``tag`` None means any element."""

    def __init__(self, steps: list, valuesets: ValueSets, lenient: bool = False):
        self.steps = steps
        self.vs = valuesets
        self.lenient = lenient
        self.cache: dict[int, tuple[str | None, Pred | None]] = {}

    def step(self, index: int, skip_group: int | None = None) -> tuple[str | None, Pred | None]:
        """Tag and predicate of a step; ``skip_group`` leaves out one qualifier group (already indexed)."""
        if skip_group is None and index in self.cache:
            return self.cache[index]
        name, groups = self.steps[index]
        tag = None if name == "*" else H + name
        preds = [self.group(g) for i, g in enumerate(groups) if i != skip_group]
        pred = _all(preds)
        if skip_group is None:
            self.cache[index] = (tag, pred)
        return tag, pred

    def matches_child(self, index: int) -> Pred:
        """Predicate: the element has a child matching the step."""
        tag, pred = self.step(index)
        if tag is None:
            if pred is None:
                return has_child_elements

            def any_child(el) -> bool:
                for c in el:
                    if isinstance(c.tag, str) and pred(c):
                        return True
                return False

            return any_child
        if pred is None:
            return lambda el: has_child(el, tag)

        def named_child(el) -> bool:
            for c in el:
                if c.tag == tag and pred(c):
                    return True
            return False

        return named_child

    def group(self, alts: list) -> Pred:
        preds = [self.alt(a) for a in alts]
        if len(preds) == 1:
            return preds[0]
        if len(preds) == 2:
            a, b = preds
            return lambda el: a(el) or b(el)

        def any_alt(el) -> bool:
            for p in preds:
                if p(el):
                    return True
            return False

        return any_alt

    def alt(self, a: list) -> Pred:
        kind = a[0]
        if kind == "nn":
            return lambda el: el.get("nullFlavor") is None
        if kind == "nf":
            return lambda el: el.get("nullFlavor") is not None
        if kind == "eq":
            attr, value = a[1], a[2]
            return lambda el: el.get(attr) == value
        if kind == "has":
            attr = a[1]
            return lambda el: el.get(attr) is not None
        if kind == "cd":
            code, cs = a[1], a[2]
            return lambda el: el.get("code") == code and el.get("codeSystem") == cs
        if kind == "vs":
            return self.vs_pred(a[1])
        if kind == "tpl":
            root = a[1]

            def has_template(el) -> bool:
                for t in el:
                    if t.tag == TEMPLATE_ID and t.get("root") == root:
                        return True
                return False

            return has_template
        if kind == "ty":
            expected = (HL7, a[1])
            return lambda el: el.get(XSI_TYPE) is not None and xsi_type(el) == expected
        if kind == "wi":
            attr, text = a[1], a[2]

            def has_text(el) -> bool:
                value = el.get(attr)
                return value is not None and text in value

            return has_text
        if kind == "wo":
            attr, text = a[1], a[2]
            return lambda el: text not in (el.get(attr) or "")
        if kind == "ch":
            return self.matches_child(a[1])
        raise ValueError(f"unknown qualifier {a!r}")

    def vs_pred(self, key: str) -> Pred:
        """``[vs=KEY]``: concept (code and code system joined, as the schematron compares) or exception null flavor."""
        joined = self.vs.joined.get(key, frozenset())
        exceptions = self.vs.exceptions.get(key, frozenset())
        lenient = self.lenient and self.vs.is_w_domain(key)

        def pred(el) -> bool:
            code = el.get("code")
            cs = el.get("codeSystem")
            if (code is not None or cs is not None) and (code or "") + (cs or "") in joined:
                return True
            nf = el.get("nullFlavor")
            if nf is not None and nf in exceptions:
                return True
            return lenient and code is not None and nf is None

        return pred


def _all(preds: list[Pred]) -> Pred | None:
    if not preds:
        return None
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda el: a(el) and b(el)

    def every(el) -> bool:
        for p in preds:
            if not p(el):
                return False
        return True

    return every
