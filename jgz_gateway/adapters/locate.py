"""Which BDS element a validation finding is about, so an error file can name the source field.

Findings name a rule and an XPath into the written message; many do not name an element.
The element is found from the message itself: the nearest enclosing act coded with a BDS
element number, or, for the parts the message carries structurally (the child's BSN is
``patient/id``), a short table of the places :mod:`.to_dossier` writes them.
"""

from __future__ import annotations

from lxml import etree

from ..standards.model import OID_BDS_ELEMENT
from ..standards.xmlsafe import HL7_NS

_NS = {"hl7": HL7_NS}
_H = "{" + HL7_NS + "}"

#: (element, parent) local names → the BDS element written there.
STRUCTURAL: dict[tuple[str, str], int] = {
    ("id", "patient"): 7,
    ("birthTime", "patientPerson"): 20,
    ("administrativeGenderCode", "patientPerson"): 19,
    ("id", "encounter"): 1377,
    ("code", "encounter"): 494,
    ("effectiveTime", "encounter"): 724,
    ("reasonCode", "encounter"): 1424,
    ("effectiveTime", "substanceAdministration"): 1409,
    ("lotNumberText", "administrableMedicine"): 472,
    ("code", "administrableMedicine"): 461,
    ("id", "relationshipHolder1"): 655,
    ("birthTime", "relationshipHolder1"): 63,
    ("postalCode", "addr"): 16,
    ("houseNumber", "addr"): 12,
}


def _local(el: etree._Element) -> str:
    tag = el.tag if isinstance(el.tag, str) else ""
    return tag[len(_H):] if tag.startswith(_H) else tag


def element_at(root: etree._Element, xpath: str) -> int | None:
    """The BDS element the node at ``xpath`` belongs to, or None when it is not about one."""
    try:
        found = root.xpath(xpath, namespaces=_NS) if xpath.startswith("/") else []
    except etree.XPathError:
        return None
    node = found[0] if found and isinstance(found[0], etree._Element) else None
    while node is not None:
        parent = node.getparent()
        if parent is not None and (_local(node), _local(parent)) in STRUCTURAL:
            return STRUCTURAL[(_local(node), _local(parent))]
        code = node.find(_H + "code")
        if code is not None and code.get("codeSystem") == OID_BDS_ELEMENT and (code.get("code") or "").isdecimal():
            return int(code.get("code"))
        node = parent
    return None


def elements_of(data: bytes, findings: list) -> list[int | None]:
    """For each finding, the element it names or the one at its XPath in ``data``."""
    from ..standards.xmlsafe import parse_bytes

    root = None
    out: list[int | None] = []
    for f in findings:
        if f.element and str(f.element).isdecimal():
            out.append(int(f.element))
            continue
        if root is None:
            root = parse_bytes(data).getroot()
        out.append(element_at(root, f.xpath))
    return out
