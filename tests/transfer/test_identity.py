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
from lxml import etree
from sqlalchemy import func, select

from jgz_gateway.standards import xmlsafe
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
#: The ControlAct author: the application of a URA (AssignedDevice) or a person of a URA
#: (AssignedPerson); the rules allow both, and both name the organisation.
AUTHORS = ORGS + tuple(f"person {ura}" for ura in ORGS)
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
    def author_ura(self) -> str:
        return self.author.split()[-1]

    @property
    def expected(self) -> set[str]:
        """The mismatches the receiver must name (by the words of its message)."""
        out = set()
        if self.signer != self.tls:
            out.add("signing certificate URA")
        if self.author_ura != self.tls:
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
#: Every case with one mismatch (48), and a fixed draw of 50 of the 378 with several.
MISMATCHES = [c for c in ALL if len(c.expected) == 1]
MISMATCHES += random.Random(6).sample([c for c in ALL if len(c.expected) > 1], 50)
assert len(VALID) == len(AUTHORS) and len(MISMATCHES) == 98


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
    now = dt.datetime.now(dt.timezone.utc)
    d = sender.address(sender.close(d, now), message_id=(f"{OID_URA}.1.1", ext), now=now, sender_app=case.sender_app,
                       receiver_app=case.receiver_app, ura=case.author_ura, org_name="GGD", uzi_system_id="900001111")
    root = build_tree(d)
    if case.author.startswith("person"):
        as_person(root)
    key, chain = orgs[case.signer]
    return signing.sign(root, key, chain)


def as_person(root) -> None:
    """The ControlAct author made a JGZ doctor of the same organisation (AssignedPerson: UZI
    number, name, Organization), as the rules allow (Nictiz's validator finds no error)."""
    h = "{urn:hl7-org:v3}"
    device = root.find("h:ControlActProcess/h:authorOrPerformer/h:participant/h:AssignedDevice", HL7)
    person = etree.Element(h + "AssignedPerson")
    etree.SubElement(person, h + "id", root="2.16.528.1.1007.3.1", extension="012345678")
    name = etree.SubElement(etree.SubElement(etree.SubElement(person, h + "assignedPrincipalChoiceList"),
                                             h + "assignedPerson"), h + "name")
    etree.SubElement(name, h + "given").text = "Jan"
    etree.SubElement(name, h + "family").text = "Arts"
    person.append(device.find("h:Organization", HL7))
    device.getparent().replace(device, person)


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
    answer = receiver.receive(message(orgs, case, f"ok-{case.tls}-{case.author}"), orgs[case.tls][1][0])
    assert answer.code == "CA", parse_ack(answer.ack).details


@pytest.mark.parametrize("wrong", ["no author", "organisation by AGB number"])
def test_an_author_without_organisation_is_the_rules_to_reject(receiver, orgs, wrong):
    """A ControlAct naming no author organisation by URA binds no identity, and the rules
    reject it: the author is mandatory (TC00345), the application's organisation must be
    identified by URA (TC00355)."""
    case = Case(URA_A, URA_A, URA_A, APP[URA_A], APP_B)
    root = xmlsafe.parse_bytes(message(orgs, case, f"wrong-{wrong}")).getroot()
    root.remove(root.find("ds:Signature", {"ds": signing.DS}))
    performer = root.find("h:ControlActProcess/h:authorOrPerformer", HL7)
    if wrong == "no author":
        performer.getparent().remove(performer)
    else:
        performer.find(".//h:Organization/h:id", HL7).set("root", OID_AGB)
    answer = receiver.receive(signing.sign(root, *orgs[URA_A]), orgs[URA_A][1][0])
    details = parse_ack(answer.ack).details
    assert answer.code == "CR" and "JGZ-IDENTITY" not in {d.rule for d in details}
    expected = "TC00345" if wrong == "no author" else "TC00355"
    assert any(d.message.startswith(expected) for d in details), [d.message for d in details]


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
