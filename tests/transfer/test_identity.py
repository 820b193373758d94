"""Identity binding (G4): the URA of the TLS certificate, of the signing certificate and of the
ControlAct author organisation, and the directory entry of the sender's application id, must all
name one organisation, and the message must be addressed to us. Every combination that breaks
this is generated, sent to the receiver, rejected (CR, naming each mismatch) and audited."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

from jgz_gateway.standards.hl7v3 import build_tree, read_message
from jgz_gateway.standards.hl7v3.ack import parse_ack
from jgz_gateway.store import AuditRecord, InboxMessage, Store
from jgz_gateway.transfer import directory, sender, signing
from jgz_gateway.transfer.directory import OrgEntry
from jgz_gateway.transfer.receiver import Receiver
from jgz_gateway.transfer.trust import TrustSource

from .conftest import KWAL_ONTVANGEN, URA_A, URA_B

URA_C, URA_D = "33334444", "66667777"
APP = {URA_A: "1111", URA_C: "3333", URA_D: "6666"}
APP_B, WRONG_APP_B, UNKNOWN_APP = "5678", "5679", "9999"
OID_URA, OID_AGB = "2.16.528.1.1007.3.3", "2.16.840.1.113883.2.4.6.1"
HL7 = {"h": "urn:hl7-org:v3"}
ORGS = (URA_A, URA_C, URA_D)
AUTHORS = ORGS + ("missing", "AGB root")  # author organisation: a URA, none, or A's number under another OID
SENDER_APPS = tuple(APP.values()) + (UNKNOWN_APP,)
RECEIVER_APPS = (APP_B, WRONG_APP_B)


@dataclass(frozen=True)
class Case:
    tls: str
    signer: str
    author: str
    sender_app: str
    receiver_app: str

    @property
    def expected(self) -> set[str]:
        """The mismatches the receiver must name (by the words of its message)."""
        out = set()
        if self.signer != self.tls:
            out.add("signing certificate URA")
        if self.author != self.tls:
            out.add("ControlAct author organisation")
        if self.sender_app == UNKNOWN_APP:
            out.add("is not in the directory")
        elif self.sender_app != APP[self.tls]:
            out.add("is registered to URA")
        if self.receiver_app != APP_B:
            out.add("is addressed to application")
        return out

    def __str__(self) -> str:
        return f"tls={self.tls} sig={self.signer} author={self.author} app={self.sender_app} to={self.receiver_app}"


ALL = [Case(*c) for c in itertools.product(ORGS, ORGS, AUTHORS, SENDER_APPS, RECEIVER_APPS)]
VALID = [c for c in ALL if not c.expected]
#: Every case with one mismatch (30), and a fixed draw of 50 of the 327 with several.
MISMATCHES = [c for c in ALL if len(c.expected) == 1]
MISMATCHES += random.Random(6).sample([c for c in ALL if len(c.expected) > 1], 50)
assert len(VALID) == len(ORGS) and len(MISMATCHES) == 80


@pytest.fixture(scope="module")
def orgs(pki):
    """Key, chain and certificate of A, C and D (all valid, all in the directory)."""
    for ura in (URA_C, URA_D):
        if not pki.cert(ura).exists():
            pki.add_org(ura, f"GGD {ura}", key_size=2048)
    out = {}
    for ura in ORGS:
        chain = x509.load_pem_x509_certificates(pki.chain(ura).read_bytes())
        out[ura] = (serialization.load_pem_private_key(pki.key(ura).read_bytes(), None), chain)
    return out


def message(orgs, case: Case, ext: str) -> bytes:
    """The qualification dossier as ``case.signer`` would sign it, with the case's wrapper."""
    d = read_message(KWAL_ONTVANGEN.read_bytes())
    d.ids = [i.model_copy(update={"extension": ext}) for i in d.ids]
    d.request = d.request.model_copy(update={"ids": [i.model_copy(update={"extension": ext}) for i in d.request.ids]})
    author = URA_A if case.author in ("missing", "AGB root") else case.author
    now = dt.datetime.now(dt.timezone.utc)
    d = sender.address(sender.close(d, now), message_id=(f"{OID_URA}.1.1", ext), now=now, sender_app=case.sender_app,
                       receiver_app=case.receiver_app, ura=author, org_name="GGD", uzi_system_id="900001111")
    root = build_tree(d)
    org_id = root.find("h:ControlActProcess/h:authorOrPerformer/h:participant/h:AssignedDevice/h:Organization/h:id", HL7)
    if case.author == "missing":
        performer = root.find("h:ControlActProcess/h:authorOrPerformer", HL7)
        performer.getparent().remove(performer)
    elif case.author == "AGB root":
        org_id.set("root", OID_AGB)
    key, chain = orgs[case.signer]
    return signing.sign(root, key, chain)


@pytest.fixture(scope="module")
def receiver(pki, orgs, tmp_path_factory):
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('identity') / 'b.db'}")
    with store.begin() as s:
        for ura in ORGS:
            directory.add(s, OrgEntry(ura, f"GGD {ura}", APP[ura], "https://127.0.0.1:1/dob", ("4.2.0",)))
    yield Receiver(URA_B, APP_B, store, TrustSource(str(pki.anchors), [str(pki.crl)]))
    store.dispose()


def _counts(store) -> tuple[int, int]:
    with store.read() as s:
        return (s.execute(select(func.count()).select_from(InboxMessage)).scalar_one(),
                s.execute(select(func.count()).select_from(AuditRecord)).scalar_one())


def test_every_mismatch_is_rejected_and_audited(receiver, orgs):
    signed: dict[tuple, bytes] = {}
    for case in MISMATCHES:
        wrapper = (case.signer, case.author, case.sender_app, case.receiver_app)
        if wrapper not in signed:  # one message per signer and wrapper; the TLS side varies
            signed[wrapper] = message(orgs, case, f"id-{len(signed)}")
        inbox, audits = _counts(receiver.store)
        answer = receiver.receive(signed[wrapper], orgs[case.tls][1][0], peer="10.0.0.1")
        ack = parse_ack(answer.ack)
        assert (answer.code, ack.code) == ("CR", "CR"), case
        assert {d.rule for d in ack.details} == {"JGZ-IDENTITY"}, case
        named = {kind for kind in case.expected for d in ack.details if kind in d.message}
        assert named == case.expected, f"{case}: {[d.message for d in ack.details]}"
        assert _counts(receiver.store) == (inbox, audits + 1), case
        with receiver.store.read() as s:
            rec = s.execute(select(AuditRecord).order_by(AuditRecord.seq.desc())).scalars().first()
        assert (rec.event, rec.outcome, rec.organisation, rec.access_point) == ("authz-failure", "rejected", case.tls, "10.0.0.1")
        assert rec.user == f"app:{case.sender_app}" and all(d.message in rec.detail for d in ack.details)


@pytest.mark.parametrize("case", VALID, ids=str)
def test_matching_identities_are_accepted(receiver, orgs, case):
    """The control: the same generator with every identity agreeing gives a CA."""
    answer = receiver.receive(message(orgs, case, f"ok-{case.tls}"), orgs[case.tls][1][0])
    assert answer.code == "CA", parse_ack(answer.ack).details


def test_unknown_sender_organisation(receiver, pki):
    """A trusted certificate, signature and author for an organisation missing from the directory."""
    ura, app = "77778888", "7777"
    if not pki.cert(ura).exists():
        pki.add_org(ura, "GGD Unknown", key_size=2048)
    chain = x509.load_pem_x509_certificates(pki.chain(ura).read_bytes())
    key = serialization.load_pem_private_key(pki.key(ura).read_bytes(), None)
    data = message({ura: (key, chain)}, Case(ura, ura, ura, app, APP_B), "unknown-org")
    ack = parse_ack(receiver.receive(data, chain[0]).ack)
    assert ack.code == "CR"
    assert [d.message for d in ack.details] == [f"sender application id '{app}' is not in the directory"]
