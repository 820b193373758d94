"""Read and write a whole dossieroverdrachtbericht (DOB) as a :class:`~..model.Dossier`.

Levels: transmission wrapper (root) → ControlActProcess → subject →
CareProvisionRequest → sequelTo → careProvisionEvent (the dossier). The typed
parts follow :mod:`.codec`'s specs; these functions only stitch the levels.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

from lxml import etree

from .. import model as m
from ..xmlsafe import HL7_NS, XSI_NS, XmlRejected, parse_bytes, xpath_of
from . import codec

#: Interaction → the BDS version it carries (the newest one for NL03; 4.0.x is a subset).
INTERACTIONS = {
    "REPC_IN902120NL": "3.2.7",
    "REPC_IN902120NL03": "4.1.3",
    "REPC_IN902120NL04": "4.2.0",
}


def dob_interaction(root: etree._Element) -> str | None:
    """The DOB interaction a root element is (one of :data:`INTERACTIONS`, in the HL7
    namespace), else None."""
    tag = root.tag if isinstance(root.tag, str) else ""
    name = tag[len(HL7_NS) + 2:] if tag.startswith("{" + HL7_NS + "}") else None
    return name if name in INTERACTIONS else None


class MessageError(Exception):
    """The XML is well-formed but is not a DOB the gateway can read."""

    def __init__(self, rule: str, message: str, xpath: str = "/"):
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.xpath = xpath


def _root(source) -> etree._Element:
    if isinstance(source, (bytes, bytearray)):
        return parse_bytes(bytes(source)).getroot()
    if isinstance(source, etree._ElementTree):
        return source.getroot()
    if isinstance(source, etree._Element):
        return source
    raise TypeError(f"cannot read a DOB from {type(source).__name__}")


def read_message(source) -> m.Dossier:
    """Parse a DOB (bytes from outside, or an already hardened-parsed tree) into a Dossier.

    Raises :class:`~..xmlsafe.XmlRejected` for unacceptable XML and
    :class:`MessageError` when the document is not a DOB.
    """
    root = _root(source)
    with _gc_paused():
        return _read(root)


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while reading.

    The reader allocates tens of thousands of objects (model instances, their lists
    and dicts) that all survive and form no cycles; the collector would scan them
    again and again as they pile up (a fifth of the reading time). Reference
    counting still frees everything; the collector runs at its next chance after.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


DS_SIGNATURE = "{http://www.w3.org/2000/09/xmldsig#}Signature"


def _read(root: etree._Element) -> m.Dossier:
    tag = root.tag
    if not isinstance(tag, str) or not tag.startswith("{" + HL7_NS + "}"):
        raise MessageError("JGZ-MSG-ROOT", f"root element {tag!r} is not in the HL7v3 namespace {HL7_NS}")
    interaction = codec.local_or_clark(tag)
    if interaction not in INTERACTIONS:
        raise MessageError(
            "JGZ-MSG-INTERACTION",
            f"root element {interaction} is not a dossieroverdrachtbericht ({', '.join(INTERACTIONS)})",
        )
    hold: dict = {"ControlActProcess": None}
    _no_text(root)
    transmission: m.Transmission = codec.read(root, m.Transmission, hold)
    # An enveloped XML signature (our HTTPS profile's) signs these bytes, not the dossier: any
    # message written from the dossier would carry it broken. It is not part of the dossier.
    transmission.extra = [n for n in transmission.extra if n.name != DS_SIGNATURE]
    transmission.interaction = interaction
    transmission.namespaces = _namespaces(root)
    cap = hold["ControlActProcess"]
    dossier = None
    if cap is None:
        raise MessageError("JGZ-MSG-CONTROLACT", f"{interaction} has no ControlActProcess", f"/hl7:{interaction}")
    _no_text(cap)
    transmission.control_act_attrs = {codec.attr_key(k): v for k, v in cap.attrib.items()}
    subject = None
    extra, prev = [], None
    for child in cap:
        if not isinstance(child.tag, str):
            continue
        name = codec.local_or_clark(child.tag)
        if subject is None and name == "subject" and child.find(f"{{{HL7_NS}}}CareProvisionRequest") is not None:
            subject = child
        else:
            extra.append(codec.read_node(child, after=prev))
        prev = name
    transmission.control_act_extra = extra
    if subject is None:
        raise MessageError(
            "JGZ-MSG-PAYLOAD",
            "ControlActProcess has no subject/CareProvisionRequest",
            f"/hl7:{interaction}/hl7:ControlActProcess",
        )
    transmission.subject_attrs = {codec.attr_key(k): v for k, v in subject.attrib.items()}
    cpr, transmission.subject_extra = codec._unwrap(subject, "CareProvisionRequest")
    _no_text(subject)
    _no_text(cpr)
    hold = {"sequelTo": None}
    request = codec.read(cpr, m.CareProvisionRequest, hold)
    sequel = hold["sequelTo"]
    if sequel is not None:
        event, request.sequel_extra = codec._unwrap(sequel, "careProvisionEvent")
        request.sequel_attrs = {codec.attr_key(k): v for k, v in sequel.attrib.items()}
        if event is not None:
            _no_text(sequel)
            _no_text(event)
            dossier = codec.read(event, m.Dossier)
        else:
            request.sequel_extra = []
            request.extra.append(codec.read_node(sequel, after="author"))
    if dossier is None:
        raise MessageError(
            "JGZ-MSG-PAYLOAD",
            "CareProvisionRequest has no sequelTo/careProvisionEvent (the dossier)",
            f"/hl7:{interaction}/hl7:ControlActProcess/hl7:subject/hl7:CareProvisionRequest",
        )
    dossier.bds_version = INTERACTIONS[interaction]
    dossier.interaction = interaction
    dossier.transmission = transmission
    dossier.request = request
    return dossier


def _no_text(el: etree._Element) -> None:
    """The message's frame (root to careProvisionEvent) has no place for text, nor has the
    schema: text there is refused by name rather than dropped."""
    text = el.text
    if text is not None and text.strip():
        raise MessageError("JGZ-MSG-TEXT", f"text {text.strip()[:40]!r} in {codec.local_or_clark(el.tag)}, "
                           "where the message model allows none", xpath_of(el))


def _namespaces(root: etree._Element) -> dict[str, str]:
    """Namespace declarations to repeat on output: the root's, plus any prefix an
    ``xsi:type`` value uses (``hl7:PQ``) that was declared deeper down."""
    spaces = {(k or ""): v for k, v in root.nsmap.items()}
    for attr in root.xpath("//@xsi:type[contains(., ':')]", namespaces={"xsi": XSI_NS}):
        prefix = attr.partition(":")[0]
        if prefix not in spaces:
            uri = attr.getparent().nsmap.get(prefix)
            if uri:
                spaces[prefix] = uri
    return spaces


def write_message(dossier: m.Dossier, interaction: str | None = None, *, pretty: bool = True) -> bytes:
    """Serialise a Dossier as a DOB (UTF-8 bytes with XML declaration)."""
    return etree.tostring(
        build_tree(dossier, interaction), xml_declaration=True, encoding="UTF-8", pretty_print=pretty
    )


def build_tree(dossier: m.Dossier, interaction: str | None = None) -> etree._Element:
    interaction = interaction or dossier.interaction
    if interaction not in INTERACTIONS:
        raise MessageError("JGZ-MSG-INTERACTION", f"unknown interaction {interaction}")
    t = dossier.transmission
    nsmap = {(k or None): v for k, v in (t.namespaces or {}).items()}
    nsmap[None] = HL7_NS
    nsmap.setdefault("xsi", XSI_NS)
    root = etree.Element(codec.qualified(interaction), nsmap=nsmap)
    if interaction != t.interaction and t.interaction_id is not None and t.interaction_id.extension == t.interaction:
        t = t.model_copy(update={"interaction_id": t.interaction_id.model_copy(update={"extension": interaction})})
    codec.fill(root, t, then=lambda el: _control_act(el, dossier))
    return root


def _control_act(root: etree._Element, dossier: m.Dossier) -> None:
    t = dossier.transmission
    cap = etree.SubElement(root, codec.qualified("ControlActProcess"))
    for k, v in t.control_act_attrs.items():
        cap.set(codec.attr_name(k), v)
    subject = etree.SubElement(cap, codec.qualified("subject"))
    for k, v in t.subject_attrs.items():
        subject.set(codec.attr_name(k), v)
    cpr = etree.SubElement(subject, codec.qualified("CareProvisionRequest"))
    codec.fill(cpr, dossier.request, then=lambda el: _sequel(el, dossier))
    codec.place_extras(subject, t.subject_extra)
    codec.place_extras(cap, t.control_act_extra)


def _sequel(cpr: etree._Element, dossier: m.Dossier) -> None:
    request = dossier.request
    sequel = etree.SubElement(cpr, codec.qualified("sequelTo"))
    for k, v in request.sequel_attrs.items():
        sequel.set(codec.attr_name(k), v)
    codec.write(sequel, "careProvisionEvent", dossier)
    codec.place_extras(sequel, request.sequel_extra)


__all__ = ["INTERACTIONS", "MessageError", "XmlRejected", "read_message", "write_message", "build_tree"]
