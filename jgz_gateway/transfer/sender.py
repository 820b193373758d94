"""Preparing a dossier for transfer: consent gate, close, build the DOB for the receiver, sign.

Steps in order (issue 6): an objection (element 1395) blocks; consent (1163) is
required when the organisation's policy says so; the decision is audited. Then
the dossier is closed (status completed, care status 487 = 01 "Overdracht naar
een andere JGZ-organisatie"), addressed (new transmission id, our application
and ControlAct author, the receiver's application id), built in a BDS version
the receiver supports (converted when the dossier's own is not among them; the
conversion report goes with the transfer), and signed. The outbox stores it
before any network call.

Closing and addressing never change the caller's dossier, yet copy only what
they replace: a deep copy of a large dossier costs more than signing it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..standards import model as m
from .directory import INTERACTION_FOR, OrgEntry

OBJECTION = 1395
CONSENT = 1163
REASON_SYSTEM = "2.16.840.1.113883.2.4.4.40.82"  # W-code list of element 487 (HL7 flavour)

class TransferRefused(Exception):
    """The dossier may not or cannot be sent; ``rule`` says why (consent, version, ...)."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class ConsentDecision:
    allowed: bool
    basis: str


def consent_gate(dossier: m.Dossier, *, require_consent: bool) -> ConsentDecision:
    """Objection blocks; consent is needed only where policy requires it."""
    if any(c.element == OBJECTION and c.affirmed for c in dossier.consents):
        return ConsentDecision(False, "objection to transfer recorded (element 1395)")
    if require_consent and not any(c.element == CONSENT and c.affirmed for c in dossier.consents):
        return ConsentDecision(False, "policy requires consent for transfer (element 1163); none recorded")
    basis = "consent recorded (1163)" if any(c.element == CONSENT and c.affirmed for c in dossier.consents) else "no objection recorded"
    return ConsentDecision(True, basis)


def close(dossier: m.Dossier, now: dt.datetime) -> m.Dossier:
    """A closed copy of ``dossier``: status completed, end time set, care status 487 = 01."""
    d = dossier.model_copy()  # shallow: every field changed below is replaced, never mutated
    d.status_code = (d.status_code or m.Coded()).model_copy(update={"code": "completed"})
    et = d.effective_time or m.Time()
    if et.high is None or not et.high.value:
        et = et.model_copy(update={"high": m.Time(value=now.strftime("%Y%m%d%H%M%S"))})
    d.effective_time = et
    reason = m.Coded(code="01", code_system=REASON_SYSTEM, display_name="Overdracht naar een andere JGZ-organisatie")
    statuses = [c.model_copy(update={"reason_code": reason}) if c.element == 487 else c for c in d.care_statuses]
    if not any(c.element == 487 for c in statuses):
        template = statuses[0] if statuses else None
        statuses.append(m.CareStatus(
            link_attrs=dict(template.link_attrs) if template else {"typeCode": "SUBJ", "contextConductionInd": "false"},
            other_attrs={"classCode": "STC", "moodCode": "EVN"},
            element=487,
            code=m.Coded(code="487", code_system=m.OID_BDS_ELEMENT, display_name="Zorgbeëindiging"),
            effective_time=m.Time(value=now.strftime("%Y%m%d")),
            reason_code=reason,
        ))
    d.care_statuses = statuses
    return d


def target_version(dossier: m.Dossier, receiver: OrgEntry) -> str:
    """The BDS version to send: the dossier's own if the receiver supports it, else the
    supported version nearest to it (fewest conversion steps; the newer on a tie)."""
    from ..standards.convert import PATH, UnknownTarget, normalise

    try:
        have = normalise(dossier.bds_version)
        supported = [normalise(v) for v in receiver.bds_versions]
    except UnknownTarget as exc:
        raise TransferRefused("JGZ-VERSION", str(exc)) from None
    if have in supported:
        return have
    if not supported:
        raise TransferRefused("JGZ-VERSION", f"receiver {receiver.ura} lists no BDS version")
    return min(supported, key=lambda v: (abs(PATH.index(v) - PATH.index(have)), -PATH.index(v)))


@dataclass(frozen=True)
class Prepared:
    """A signed DOB ready for the outbox, and how it was built."""

    message: bytes
    interaction: str
    bds_version: str
    conversion: object | None = None  # ConversionReport when the dossier was converted


def build_signed(dossier: m.Dossier, receiver: OrgEntry, key, chain) -> Prepared:
    """Build the (closed, addressed) dossier in a version ``receiver`` supports, and sign it."""
    from ..standards.convert import ConversionError, convert_tree, normalise
    from ..standards.hl7v3 import MessageError, build_tree
    from .signing import sign

    version = target_version(dossier, receiver)
    try:
        root = build_tree(dossier)
        report = None
        if version != normalise(dossier.bds_version):
            root, report = convert_tree(root, version)
    except (MessageError, ConversionError) as exc:
        raise TransferRefused("JGZ-VERSION", f"cannot build the dossier as BDS {version}: {exc}") from None
    return Prepared(sign(root, key, chain), INTERACTION_FOR[version], version, report)


def address(dossier: m.Dossier, *, message_id: tuple[str, str], now: dt.datetime, sender_app: str, receiver_app: str,
            ura: str, org_name: str, uzi_system_id: str) -> m.Dossier:
    """A copy of ``dossier`` with the transmission wrapper and ControlAct author of this transfer."""
    d = dossier.model_copy()
    t = d.transmission = dossier.transmission.model_copy()  # its changed fields are all replaced below
    t.id = m.II(root=message_id[0], extension=message_id[1])
    t.creation_time = m.Time(value=now.strftime("%Y%m%d%H%M%S"))
    t.receivers = [_device(t.receivers, receiver_app)]
    t.senders = [_device(t.senders, sender_app)]
    author = _author_node(ura, org_name, uzi_system_id)
    extra = [n for n in t.control_act_extra if n.name != "authorOrPerformer"]
    t.control_act_extra = [author] + extra
    return d


def _device(existing: list[m.Device], app: str) -> m.Device:
    dev = existing[0].model_copy(deep=True) if existing else m.Device()
    dev.ids = [m.II(root=m.OID_AORTA_APP, extension=app)]
    return dev


def _author_node(ura: str, name: str, uzi_system_id: str) -> m.Node:
    org = m.Node(name="Organization", children=[
        m.Node(name="id", attrs={"root": m.OID_URA, "extension": ura}),
        m.Node(name="name", text=name),
    ])
    device = m.Node(name="AssignedDevice", children=[
        m.Node(name="id", attrs={"root": m.OID_UZI_SYSTEM, "extension": uzi_system_id}), org,
    ])
    return m.Node(name="authorOrPerformer", attrs={"typeCode": "AUT"},
                  children=[m.Node(name="participant", children=[device])])
