"""MCCI_IN000002 accept acknowledgement: build and read.

The receiver answers every DOB with one: ``CA`` (accepted and stored: the sender
may stop resending), ``CE`` (accepted with errors) or ``CR`` (rejected), with an
``acknowledgementDetail`` per problem naming the rule and where it is. Wrapper
values follow the AORTA rules (jgz-standards §2.5): versionCode NICTIZEd2005-Okt,
profileId 810, processing P/T, acceptAckCode NE. Pure: time and ids are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from .. import xmlsafe

HL7 = "urn:hl7-org:v3"
AORTA_APP = "2.16.840.1.113883.2.4.6.6"
ACK_CODES = ("CA", "CE", "CR")  # what this gateway answers: an accept acknowledgement
#: What it reads: the whole HL7 AcknowledgementType domain, since some peers answer an accept
#: acknowledgement with an application code (AA stored; AE, AR refused by the application).
READ_CODES = ("CA", "CE", "CR", "AA", "AE", "AR")


class AckError(Exception):
    """Bytes that are not an acceptable MCCI_IN000002."""


@dataclass(frozen=True)
class Detail:
    """One problem: a stable rule id, a message, and where (XPath), if known."""

    rule: str
    message: str
    location: str | None = None


@dataclass(frozen=True)
class Ack:
    code: str
    message_id: tuple[str, str | None]
    target_id: tuple[str, str | None]
    creation_time: str
    sender_app: str | None = None
    receiver_app: str | None = None
    details: tuple[Detail, ...] = field(default_factory=tuple)

    @property
    def accepted(self) -> bool:
        """The receiver holds the dossier: the sender stops."""
        return self.code in ("CA", "AA")

    @property
    def retryable(self) -> bool:
        """CE: received, but not committed (a fault on the receiver's side): send again later.
        CR, AE and AR refuse the message itself; sending it again changes nothing."""
        return self.code == "CE"


def _sub(parent, name, **attrs):
    el = etree.SubElement(parent, f"{{{HL7}}}{name}")
    for k, v in attrs.items():
        if v is not None:
            el.set(k, v)
    return el


def _id(parent, name, ident: tuple[str, str | None]):
    return _sub(parent, name, root=ident[0], extension=ident[1])


def build_ack(
    *,
    code: str,
    message_id: tuple[str, str | None],
    target_id: tuple[str, str | None],
    creation_time: str,
    sender_app: str,
    receiver_app: str,
    details: list[Detail] | tuple[Detail, ...] = (),
) -> bytes:
    """Serialise an MCCI_IN000002; ``sender_app``/``receiver_app`` are AORTA application ids."""
    if code not in ACK_CODES:
        raise ValueError(f"acknowledgement code {code!r} is not one of {ACK_CODES}")
    root = etree.Element(f"{{{HL7}}}MCCI_IN000002", nsmap={None: HL7})
    _id(root, "id", message_id)
    _sub(root, "creationTime", value=creation_time)
    _sub(root, "versionCode", code="NICTIZEd2005-Okt")
    _sub(root, "interactionId", root="2.16.840.1.113883.1.6", extension="MCCI_IN000002")
    _sub(root, "profileId", root="2.16.840.1.113883.2.4.3.11.1", extension="810")
    _sub(root, "processingCode", code="P")
    _sub(root, "processingModeCode", code="T")
    _sub(root, "acceptAckCode", code="NE")
    ack = _sub(root, "acknowledgement", typeCode=code)
    for d in details:
        det = _sub(ack, "acknowledgementDetail", typeCode="E")
        _sub(det, "text").text = f"[{d.rule}] {d.message}"
        if d.location:
            _sub(det, "location").text = d.location
    _id(_sub(ack, "targetMessage"), "id", target_id)
    _sub(_sub(_sub(root, "receiver"), "device"), "id", root=AORTA_APP, extension=receiver_app)
    _sub(_sub(_sub(root, "sender"), "device"), "id", root=AORTA_APP, extension=sender_app)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def parse_ack(data: bytes) -> Ack:
    """Read an MCCI_IN000002 from untrusted bytes; raises :class:`AckError` naming the problem."""
    try:
        root = xmlsafe.parse_bytes(data, max_bytes=1024 * 1024).getroot()
    except xmlsafe.XmlRejected as exc:
        raise AckError(f"acknowledgement is not acceptable XML: {exc.message}") from None
    if root.tag != f"{{{HL7}}}MCCI_IN000002":
        raise AckError(f"expected an MCCI_IN000002 acknowledgement, got root element {root.tag!r}")
    ns = {"h": HL7}

    def ident(path: str) -> tuple[str, str | None]:
        el = root.find(path, ns)
        if el is None or not el.get("root"):
            raise AckError(f"acknowledgement lacks {path.replace('h:', '')}/@root")
        return el.get("root"), el.get("extension")

    ack = root.find("h:acknowledgement", ns)
    if ack is None or ack.get("typeCode") not in READ_CODES:
        raise AckError(f"acknowledgement/@typeCode must be one of {', '.join(READ_CODES)}")
    ct = root.find("h:creationTime", ns)
    details = []
    for det in ack.findall("h:acknowledgementDetail", ns):
        text = det.findtext("h:text", default="", namespaces=ns)
        code = det.find("h:code", ns)  # a coded detail (AcknowledgementDetailCode: SYN105…) names the rule
        rule, msg = (code.get("code") or "" if code is not None else "", text)
        if text.startswith("[") and "] " in text:
            rule, msg = text[1:].split("] ", 1)
        details.append(Detail(rule, msg, det.findtext("h:location", namespaces=ns)))

    def app(path: str) -> str | None:
        el = root.find(path, ns)
        return el.get("extension") if el is not None else None

    return Ack(
        code=ack.get("typeCode"),
        message_id=ident("h:id"),
        target_id=ident("h:acknowledgement/h:targetMessage/h:id"),
        creation_time=ct.get("value", "") if ct is not None else "",
        sender_app=app("h:sender/h:device/h:id"),
        receiver_app=app("h:receiver/h:device/h:id"),
        details=tuple(details),
    )
