"""Receiving a dossier: trust, then store exactly once, then acknowledge.

Order matters: TLS identity → signature (trust anchors; only what signxml says
was signed is used from here on; over SOAP the WS-Security signature over the Body
stands for a DOB that has none of its own, as AORTA sends it) → identity binding (URA of the TLS certificate =
URA of the signing certificate = ControlAct author organisation (the application's or
the person's, when named by URA) = directory entry for the sender's application id;
addressed to us) → validation → import into the
organisation's BDS version (converted when sent in another; the conversion report
is kept) → raw message and dossier stored in one transaction with the
acknowledgement → answer.

The bytes are parsed once by the hardened parser; signxml checks that tree and
hands back the signed content, which validation, conversion and reading share.

Duplicates are caught by unique constraints on the transmission id and the
dossier (CareProvisionRequest) id: the sender gets the original acknowledgement,
never a second import. ``CR`` means "do not resend this message unaltered";
``CE`` means a fault on our side (the sender may retry).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Callable

from cryptography import x509
from lxml import etree
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..standards import xmlsafe
from ..standards.hl7v3.ack import Detail, build_ack
from ..store import InboxMessage, Store, utcnow
from . import audit, directory
from .audit import log
from .pki import CertificateRejected, UziIdentity
from .signing import DS, SignatureRejected, verify
from .trust import TrustSource

HL7 = "urn:hl7-org:v3"
OID_URA = "2.16.528.1.1007.3.3"
NS = {"h": HL7}
MAX_DETAILS = 20
MAX_ID = 200  # characters of root^extension the store keeps for a transmission or dossier id


@dataclass(frozen=True)
class Answer:
    code: str
    ack: bytes
    duplicate: bool = False


class _Reject(Exception):
    def __init__(self, details: list[Detail], event: str = "transfer-in", code: str = "CR"):
        super().__init__(details[0].message)
        self.details = details
        self.event = event
        self.code = code


def _ident(el) -> tuple[str, str | None]:
    return (el.get("root"), el.get("extension")) if el is not None else ("", None)


def key_of(ident: tuple[str, str | None]) -> str:
    return f"{ident[0]}^{ident[1] or ''}"


@dataclass
class Receiver:
    """One organisation's receiving side. Time and ids are injectable for tests."""

    ura: str
    application_id: str
    store: Store
    trust: TrustSource
    bds_version: str = "4.2.0"  # the organisation's version: every dossier is imported in it
    clock: Callable[[], dt.datetime] = utcnow
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex

    def receive(self, message: bytes, peer_cert: x509.Certificate | None, peer: str | None = None,
                signed_by: UziIdentity | None = None) -> Answer:
        """Process one received DOB (already unwrapped from its wire profile).

        ``signed_by``: the wire profile has verified a signature over ``message`` (WS-Security
        over the SOAP Body, :mod:`.transports.soap`) and ``message`` is that signed content. A DOB
        without a signature of its own, as AORTA sends it, is then signed by that identity; a
        DOB with one has it verified all the same. Over plain HTTPS the DOB must be signed.
        """
        target: tuple[str, str | None] = ("", None)
        sender_app = ""
        tls_ura = None
        try:
            tls_ura = self._tls_identity(peer_cert)
            try:
                root = xmlsafe.parse_bytes(message).getroot()
            except xmlsafe.XmlRejected as exc:
                raise _Reject([Detail(exc.rule, exc.message, f"line {exc.line}" if exc.line else None)]) from None
            target = _ident(root.find("h:id", NS))  # for addressing the ack only; trusted data comes below
            sender_app = _device(root, "sender") or ""
            if signed_by is not None and root.find(".//ds:Signature", {"ds": DS}) is None:
                signed, sign_ura = root, signed_by.ura
            else:
                try:
                    verified = verify(root, self.trust.current(), at=self.clock())
                except SignatureRejected as exc:
                    raise _Reject([Detail(exc.rule, exc.message)]) from None
                signed, sign_ura = verified.signed_xml, verified.identity.ura
            target = _ident(signed.find("h:id", NS))
            sender_app = _device(signed, "sender") or ""
            self._bind(signed, tls_ura, sign_ura, sender_app)
            received, dossier, conversion = self._import(signed)
        except _Reject as rej:
            return self._reject(rej, target, sender_app, tls_ura, peer)
        return self._store(message, received, dossier, conversion, target, sender_app, tls_ura, peer)

    # --- steps ---------------------------------------------------------------

    def _tls_identity(self, peer_cert) -> str:
        if peer_cert is None:
            raise _Reject([Detail("JGZ-TLS-NOCERT", "no TLS client certificate")], "auth-failure")
        try:
            return self.trust.current().validate(peer_cert, at=self.clock()).ura
        except CertificateRejected as exc:
            raise _Reject([Detail("JGZ-TLS-CERT", f"TLS client certificate rejected: {exc}")], "auth-failure") from None

    def _bind(self, signed, tls_ura: str, sign_ura: str, sender_app: str) -> None:
        # The author is the application (AssignedDevice) or a person (AssignedPerson); the rules
        # make either name its organisation. Named by URA, it must be the TLS certificate's; named
        # otherwise (a person's organisation may be), the certificates and the directory bind it.
        # A ControlAct with no author organisation at all is the rules' to reject (TC00345, TC00356).
        authors = signed.findall("h:ControlActProcess/h:authorOrPerformer/h:participant/*/h:Organization/h:id", NS)
        author_uras = [a.get("extension") for a in authors if a.get("root") == OID_URA]
        receiver_app = _device(signed, "receiver")
        with self.store.read() as s:
            entry = directory.by_application(s, sender_app) if sender_app else None
        problems = []
        if sign_ura != tls_ura:
            problems.append(f"signing certificate URA {sign_ura} differs from TLS certificate URA {tls_ura}")
        for author_ura in author_uras:
            if author_ura != tls_ura:
                problems.append(f"ControlAct author organisation URA {author_ura} differs from TLS certificate URA {tls_ura}")
        if entry is None:
            problems.append(f"sender application id {sender_app!r} is not in the directory")
        elif entry.ura != tls_ura:
            problems.append(f"sender application id {sender_app} is registered to URA {entry.ura}, not {tls_ura}")
        if receiver_app != self.application_id:
            problems.append(f"message is addressed to application {receiver_app!r}, not to this gateway ({self.application_id})")
        if problems:
            raise _Reject([Detail("JGZ-IDENTITY", p) for p in problems], "authz-failure")

    def _import(self, signed: etree._Element):
        """Validate the signed content, read it, and convert it into our BDS version.

        Returns the interaction and BDS version it was sent in, the dossier (in our
        version) and the conversion report (``None`` when none was needed).
        """
        from ..standards.convert import convert, normalise
        from ..standards.hl7v3 import MessageError, read_message
        from ..standards.validation import validate_tree

        try:
            report = validate_tree(signed, source="received message")
        except Exception as exc:  # noqa: BLE001 - a validator fault must not become a CA or a traceback
            log.exception("validator failed")
            raise _Reject([Detail("JGZ-INTERNAL", f"the receiver could not validate the message ({type(exc).__name__}); retry later")],
                          "transfer-in", code="CE") from None
        errors = [f for f in report.findings if f.severity == "error"]
        if errors:
            raise _Reject([Detail(f.rule, f.message, f.xpath) for f in errors[:MAX_DETAILS]])
        try:
            dossier = read_message(signed)
        except (MessageError, xmlsafe.XmlRejected) as exc:
            raise _Reject([Detail(exc.rule, exc.message, getattr(exc, "xpath", None))]) from None
        for what, ident in (("CareProvisionRequest", dossier.dossier_id), ("message", dossier.transmission.id)):
            if ident is None or not ident.root:
                raise _Reject([Detail("JGZ-DOSSIER-ID", f"{what} has no id")])
            if len(key_of((ident.root, ident.extension))) > MAX_ID:
                raise _Reject([Detail("JGZ-ID-LENGTH", f"{what} id is longer than {MAX_ID} characters")])
        received = (dossier.interaction, dossier.bds_version)
        if normalise(dossier.bds_version) == normalise(self.bds_version):
            return received, dossier, None
        try:
            converted, conversion = convert(dossier, self.bds_version)
        except Exception as exc:  # noqa: BLE001 - our converter's fault: the sender may retry after a fix
            log.exception("converting BDS %s to %s failed", dossier.bds_version, self.bds_version)
            raise _Reject([Detail("JGZ-CONVERT", f"the receiver could not convert BDS {dossier.bds_version} to "
                                                 f"{self.bds_version} ({type(exc).__name__}); retry later")],
                          "transfer-in", code="CE") from None
        return received, converted, conversion

    def _ack(self, code: str, target, sender_app: str, details=()) -> bytes:
        now = self.clock()
        return build_ack(
            code=code,
            message_id=(f"{OID_URA}.{int(self.ura)}.2", self.new_id()),
            target_id=target if target[0] else ("2.16.840.1.113883.2.4.6.6", "unknown"),
            creation_time=now.strftime("%Y%m%d%H%M%S"),
            sender_app=self.application_id,
            receiver_app=sender_app or "0",
            details=details,
        )

    def _reject(self, rej: _Reject, target, sender_app, tls_ura, peer) -> Answer:
        ack = self._ack(rej.code, target, sender_app, rej.details)
        try:
            with self.store.begin() as s:
                audit.record(s, event=rej.event, outcome="rejected", user=f"app:{sender_app or '?'}",
                             organisation=tls_ura or "unknown", object=key_of(target) if target[0] else None,
                             detail="; ".join(f"[{d.rule}] {d.message}" for d in rej.details)[:2000], access_point=peer)
        except SQLAlchemyError:
            log.exception("could not write the audit record of a rejection")
        log.warning("rejected message %s from URA %s: %s", key_of(target), tls_ura, rej.details[0].rule)
        return Answer(rej.code, ack)

    def _store(self, message, received, dossier, conversion, target, sender_app, tls_ura, peer) -> Answer:
        tid, did = key_of(target), key_of((dossier.dossier_id.root, dossier.dossier_id.extension))
        ack = self._ack("CA", target, sender_app)  # warnings do not reach a CA (details there are errors)
        dossier_json = dossier.model_dump_json()
        report_json = json.dumps(conversion.as_dict()) if conversion is not None else None
        note = f"; converted from BDS {received[1]} to {dossier.bds_version}" if conversion is not None else ""
        try:
            with self.store.begin() as s:
                s.add(InboxMessage(
                    transmission_id=tid, dossier_id=did, sender_ura=tls_ura, receiver_ura=self.ura, bsn=dossier.bsn,
                    interaction=received[0], bds_version=dossier.bds_version, raw_message=message,
                    dossier_json=dossier_json, ack=ack, received_at=self.clock(),
                    received_bds_version=received[1], conversion_report=report_json,
                ))
                s.flush()
                audit.record(s, event="transfer-in", outcome="success", user=f"app:{sender_app}", organisation=tls_ura,
                             client_bsn=dossier.bsn, object=did, detail=f"message {tid}{note}", access_point=peer)
        except IntegrityError:
            return self._duplicate(target, did, sender_app, tls_ura, dossier.bsn, peer)
        except SQLAlchemyError as exc:
            log.error("could not store message %s: %s", tid, type(exc).__name__)
            return Answer("CE", self._ack("CE", target, sender_app, [Detail("JGZ-STORE", "the receiver could not store the message; retry later")]))
        log.info("stored message %s (dossier %s) from URA %s", tid, did, tls_ura)
        return Answer("CA", ack)

    def _duplicate(self, target, did, sender_app, tls_ura, bsn, peer) -> Answer:
        tid = key_of(target)
        with self.store.begin() as s:
            row = s.execute(
                select(InboxMessage).where(or_(InboxMessage.transmission_id == tid, InboxMessage.dossier_id == did))
                .order_by(InboxMessage.id)
            ).scalars().first()
            if row is None:  # the constraint that failed was not a duplicate's: our fault
                log.error("could not store message %s: integrity error without a stored original", tid)
                return Answer("CE", self._ack("CE", target, sender_app,
                                              [Detail("JGZ-STORE", "the receiver could not store the message; retry later")]))
            audit.record(s, event="transfer-in", outcome="duplicate", user=f"app:{sender_app}", organisation=tls_ura,
                         client_bsn=bsn, object=did, detail=f"message {tid}: already received; original ack returned",
                         access_point=peer)
            ack = row.ack
        log.info("duplicate message %s (dossier %s): original ack returned", tid, did)
        return Answer("CA", ack, duplicate=True)


def _device(root, role: str) -> str | None:
    el = root.find(f"h:{role}/h:device/h:id", NS)
    return el.get("extension") if el is not None else None
