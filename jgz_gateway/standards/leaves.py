"""Leaf content of an XML document: what "lossless" means for the gateway.

The leaf content is the multiset of (element path, attribute name, value) and
(element path, text), ignoring comments, processing instructions, whitespace-only
text, namespace prefixes and ``xsi:schemaLocation``. Two messages with the same
leaf content carry the same data.
"""

from __future__ import annotations

from collections import Counter

from lxml import etree

_SCHEMA_LOCATION = "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation"


def leaf_content(root: etree._Element) -> Counter:
    leaves: Counter = Counter()
    stack = [(root, "")]
    while stack:
        el, parent_path = stack.pop()
        if not isinstance(el.tag, str):
            continue
        path = f"{parent_path}/{el.tag}"
        for name, value in el.attrib.items():
            if name != _SCHEMA_LOCATION:
                leaves[(path, "@" + name, value)] += 1
        if el.text is not None and el.text.strip():
            leaves[(path, "#text", el.text)] += 1
        for child in el:
            if isinstance(child.tag, str) and child.tail is not None and child.tail.strip():
                leaves[(path, "#tail", child.tail)] += 1
            stack.append((child, path))
    return leaves


def leaf_diff(a: etree._Element, b: etree._Element) -> tuple[Counter, Counter]:
    """(only in a, only in b)."""
    la, lb = leaf_content(a), leaf_content(b)
    return la - lb, lb - la
