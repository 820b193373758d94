"""SOAP 1.1 + WS-Security wire profile: token, 5-minute timestamp, signature over Timestamp and Body."""

from __future__ import annotations

import datetime as dt

import pytest

from jgz_gateway.transfer import signing
from jgz_gateway.transfer.transports import soap
from jgz_gateway.transfer.transports.soap import SoapRejected

NOW = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
_EXPIRES = soap._ts(NOW + soap.WINDOW).encode()
_STRETCHED = soap._ts(NOW + soap.WINDOW + dt.timedelta(hours=1)).encode()


@pytest.fixture(scope="module")
def envelope(kwal_bytes, org_a):
    return soap.wrap(signing.sign(kwal_bytes, org_a.key, org_a.chain), org_a.key, org_a.chain, NOW)


def test_unwrap_returns_the_signed_dob(envelope, trust):
    dob, identity = soap.unwrap(envelope, trust, NOW + dt.timedelta(minutes=1))
    assert identity.ura == "00001111"
    assert signing.verify(dob, trust).identity.ura == "00001111"  # the DOB's own signature survives the envelope


@pytest.mark.parametrize("case, at, mutate, rule", [
    ("expired", NOW + dt.timedelta(minutes=6), None, "JGZ-WSS-TIMESTAMP"),
    ("from the future", NOW - dt.timedelta(minutes=2), None, "JGZ-WSS-TIMESTAMP"),
    ("body tampered", NOW, lambda e: e.replace(b"XXX_Wely", b"XXX_Evil"), "JGZ-WSS-SIGNATURE"),
    ("timestamp stretched", NOW, lambda e: e.replace(_EXPIRES, _STRETCHED), "JGZ-WSS-TIMESTAMP"),
    ("duplicate id", NOW, lambda e: e.replace(b"<soap:Header>", b'<soap:Header><x wsu:Id="Body"/>'), "JGZ-WSS-WRAPPED"),
    ("sha1", NOW, lambda e: e.replace(b"xmldsig-more#rsa-sha256", b"xmldsig#rsa-sha1"), "JGZ-WSS-ALGORITHM"),
    ("no security header", NOW, lambda e: e.replace(b"wsse:Security", b"wsse:Insecurity"), "JGZ-WSS-MISSING"),
])
def test_rejections(envelope, trust, case, at, mutate, rule):
    data = mutate(envelope) if mutate else envelope
    with pytest.raises(SoapRejected) as exc:
        soap.unwrap(data, trust, at)
    assert exc.value.rule == rule, exc.value.message


def test_untrusted_token(envelope, tmp_path, kwal_bytes):
    from jgz_gateway.transfer.pki import TestPki

    other = TestPki.init(tmp_path / "o", [("00001111", "Impostor")], key_size=2048)
    with pytest.raises(SoapRejected) as exc:
        soap.unwrap(envelope, other.truststore(), NOW)
    assert exc.value.rule == "JGZ-WSS-TOKEN"


@pytest.fixture(scope="module")
def typed_by_prefix(kwal_bytes) -> bytes:
    """Datatypes written ``hl7:CV``, the prefix declared on the DOB root and used by no name."""
    return kwal_bytes.replace(b'xsi:type="CV"', b'xsi:type="hl7:CV"')


def _dob_errors(dob: bytes, trust) -> list:
    from jgz_gateway.standards.validation import validate_tree

    return [f for f in validate_tree(signing.verify(dob, trust).signed_xml).findings if f.severity == "error"]


def test_prefixes_used_only_in_xsi_type_survive_the_envelope(typed_by_prefix, org_a, trust):
    """The envelope's signature lists them in its PrefixList (in SignedInfo's c14n as well, as
    WS-Security stacks write it), and the DOB inside keeps its declarations."""
    envelope = soap.wrap(signing.sign(typed_by_prefix, org_a.key, org_a.chain), org_a.key, org_a.chain, NOW)
    assert envelope.count(b'PrefixList="hl7"') == 3 + 2  # SignedInfo, Timestamp, Body; the DOB's own two
    dob, _ = soap.unwrap(envelope, trust, NOW)
    assert not _dob_errors(dob, trust)


def test_an_envelope_that_lists_no_prefix_gets_through(typed_by_prefix, org_a, trust, monkeypatch):
    """A sender whose signatures list no prefix at all: exclusive c14n drops ``xmlns:hl7`` from
    the Body and from the DOB; the receiver declares it again as the sender's message did."""
    monkeypatch.setattr(signing, "type_prefixes", lambda el: [])  # such a sender
    envelope = soap.wrap(signing.sign(typed_by_prefix, org_a.key, org_a.chain), org_a.key, org_a.chain, NOW)
    monkeypatch.undo()  # this receiver
    assert b"PrefixList" not in envelope
    dob, _ = soap.unwrap(envelope, trust, NOW)
    assert b'xmlns:hl7="urn:hl7-org:v3"' in dob
    assert not _dob_errors(dob, trust)


WSA = "http://www.w3.org/2005/08/addressing"


def _signed_over(dob: bytes, org, parts, token: str = "bst") -> bytes:
    """An envelope as another WS-Security stack may sign it: Timestamp and Body as ours, a
    WS-Addressing ``To`` header block, and the references ``parts`` picks from them; the
    certificate in a BinarySecurityToken (``token="bst"``) or in the signature's KeyInfo."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from lxml import etree
    from signxml import SignatureReference, XMLSigner, methods

    env = soap.envelope(dob)
    header, body = env[0], env[1]
    body.set(soap._ID, "Body")
    if "Dob" in parts:
        body[0].set(soap._ID, "Dob")  # the DOB itself (its own signature then fails: never read)
    to = etree.SubElement(header, f"{{{WSA}}}To")
    to.set(soap._ID, "To")
    to.text = "https://gateway.example/soap"
    sec = etree.SubElement(header, f"{{{soap.WSSE}}}Security")
    if token == "bst":
        bst = etree.SubElement(sec, f"{{{soap.WSSE}}}BinarySecurityToken", EncodingType=soap.BASE64, ValueType=soap.X509V3)
        bst.set(soap._ID, "X509Token")
        bst.text = base64.b64encode(org.cert.public_bytes(serialization.Encoding.DER)).decode()
    ts = etree.SubElement(sec, f"{{{soap.WSU}}}Timestamp")
    ts.set(soap._ID, "Timestamp")
    etree.SubElement(ts, f"{{{soap.WSU}}}Created").text = soap._ts(NOW)
    etree.SubElement(ts, f"{{{soap.WSU}}}Expires").text = soap._ts(NOW + soap.WINDOW)
    key_info = etree.Element(f"{{{signing.DS}}}KeyInfo")
    etree.SubElement(etree.SubElement(key_info, f"{{{soap.WSSE}}}SecurityTokenReference"), f"{{{soap.WSSE}}}Reference",
                     URI="#X509Token", ValueType=soap.X509V3)
    signer = XMLSigner(method=methods.detached, c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    pems = [c.public_bytes(serialization.Encoding.PEM).decode() for c in org.chain]
    sec.append(signer.sign(env, key=org.key, reference_uri=[SignatureReference(URI=f"#{p}") for p in parts],
                           id_attribute="Id", **({"key_info": key_info} if token == "bst" else {"cert": pems})))
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def test_a_signature_over_the_token_and_addressing_headers_too_is_accepted(kwal_bytes, org_a, trust):
    dob = signing.sign(kwal_bytes, org_a.key, org_a.chain)
    data = _signed_over(dob, org_a, ["Timestamp", "Body", "X509Token", "To"])
    got, identity = soap.unwrap(data, trust, NOW)
    assert identity.ura == "00001111" and signing.verify(got, trust).identity.ura == "00001111"


def test_the_certificate_may_come_in_the_signatures_keyinfo(kwal_bytes, org_a, trust):
    """AORTA sends the certificate as a BinarySecurityToken or in KeyInfo: the chain in X509Data."""
    dob = signing.sign(kwal_bytes, org_a.key, org_a.chain)
    data = _signed_over(dob, org_a, ["Timestamp", "Body"], token="keyinfo")
    assert b"BinarySecurityToken" not in data and b"X509Certificate" in data
    _, identity = soap.unwrap(data, trust, NOW)
    assert identity.ura == "00001111"
    with pytest.raises(SoapRejected) as exc:  # and with neither, no certificate at all
        soap.unwrap(data.replace(b"X509Certificate>", b"X509CRL>"), trust, NOW)
    assert exc.value.rule == "JGZ-WSS-TOKEN"


@pytest.mark.parametrize("parts", [["Body"], ["Timestamp", "Body", "Dob"], ["Timestamp", "Body", "Body"]],
                         ids=["no timestamp", "inside the body", "body twice"])
def test_a_signature_over_other_parts_is_rejected(kwal_bytes, org_a, trust, parts):
    dob = signing.sign(kwal_bytes, org_a.key, org_a.chain)
    with pytest.raises(SoapRejected) as exc:
        soap.unwrap(_signed_over(dob, org_a, parts), trust, NOW)
    assert exc.value.rule == "JGZ-WSS-REFERENCE", exc.value.message


FAULT = (b'<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
         b"<soap:Fault><faultcode>soap:Server</faultcode><faultstring>Interne fout\n bij verwerking</faultstring>"
         b"</soap:Fault></soap:Body></soap:Envelope>")


def test_a_soap_fault_is_a_delivery_error_naming_it():
    from jgz_gateway.transfer.transports.base import DeliveryError

    assert soap.fault_of(FAULT) == "SOAP Fault soap:Server: Interne fout bij verwerking"
    with pytest.raises(DeliveryError) as exc:
        soap.answer_of(FAULT)
    assert str(exc.value) == "SOAP Fault soap:Server: Interne fout bij verwerking" and exc.value.retryable
    assert soap.fault_of(b"<html>502 Bad Gateway</html>") is None
    from lxml import etree

    ack = soap.answer_of(etree.tostring(soap.envelope(b"<MCCI_IN000002 xmlns='urn:hl7-org:v3'/>")))
    assert etree.fromstring(ack).tag == "{urn:hl7-org:v3}MCCI_IN000002"


@pytest.fixture(scope="module")
def receiver(pki, tmp_path_factory):
    from jgz_gateway.store import Store
    from jgz_gateway.transfer import directory
    from jgz_gateway.transfer.directory import OrgEntry
    from jgz_gateway.transfer.receiver import Receiver
    from jgz_gateway.transfer.trust import TrustSource

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('soap') / 'b.db'}")
    with store.begin() as s:
        directory.add(s, OrgEntry("00001111", "GGD A", "1111", "https://127.0.0.1:1/soap", ("4.2.0",), "soap"))
    yield Receiver("12345678", "5678", store, TrustSource(str(pki.anchors), [str(pki.crl)]))
    store.dispose()


def _unsigned_dob(ext: str) -> bytes:
    """The qualification dossier addressed from A (application 1111) to B (5678), not signed."""
    from jgz_gateway.standards.hl7v3 import build_tree, read_message
    from jgz_gateway.transfer import sender

    from .conftest import KWAL_ONTVANGEN

    d = read_message(KWAL_ONTVANGEN.read_bytes())
    d.ids = [i.model_copy(update={"extension": ext}) for i in d.ids]
    d.request = d.request.model_copy(update={"ids": [i.model_copy(update={"extension": ext}) for i in d.request.ids]})
    now = dt.datetime.now(dt.timezone.utc)
    d = sender.address(sender.close(d, now), message_id=("2.16.528.1.1007.3.3.1.1", ext), now=now, sender_app="1111",
                       receiver_app="5678", ura="00001111", org_name="GGD A", uzi_system_id="900001111")
    from lxml import etree

    return etree.tostring(build_tree(d), xml_declaration=True, encoding="UTF-8")


def test_an_aorta_sender_signs_only_the_envelope(receiver, org_a):
    """AORTA signs the SOAP envelope, not the DOB inside: the WS-Security signature over the
    Body stands for it. Over plain HTTPS the same unsigned DOB is refused."""
    from lxml import etree

    from jgz_gateway.standards.hl7v3.ack import parse_ack

    dob = _unsigned_dob("aorta-1")
    now = dt.datetime.now(dt.timezone.utc)
    answer = soap.receive(receiver, soap.wrap(dob, org_a.key, org_a.chain, now), org_a.cert, "10.0.0.1")
    ack = parse_ack(soap.answer_of(answer))
    assert ack.code == "CA", ack.details
    plain = receiver.receive(_unsigned_dob("aorta-2"), org_a.cert)
    assert plain.code == "CR" and parse_ack(plain.ack).details[0].rule == "JGZ-SIG-MISSING"
    # A signature inside the DOB is still checked: one that does not verify is refused.
    signed = etree.fromstring(signing.sign(_unsigned_dob("aorta-3"), org_a.key, org_a.chain))
    signed.find("{urn:hl7-org:v3}creationTime").set("value", "20000101000000")
    answer = soap.receive(receiver, soap.wrap(etree.tostring(signed), org_a.key, org_a.chain, now), org_a.cert, None)
    assert [d.rule for d in parse_ack(soap.answer_of(answer)).details] == ["JGZ-SIG-INVALID"]


@pytest.mark.parametrize("created, expires, ok", [
    ("2026-11-25T07:26:04.123Z", "2026-11-25T07:31:04.123Z", True),  # milliseconds, as WSS4J and WCF write them
    ("2026-11-25T08:26:04+01:00", "2026-11-25T08:31:04+01:00", True),  # an offset
    ("2026-11-25T07:26:04Z", None, True),  # Expires is optional: the window then ends 5 minutes after Created
    ("2026-11-25T07:26:04", "2026-11-25T07:31:04", False),  # no time zone
    ("25-11-2026 07:26", "2026-11-25T07:31:04Z", False),
])
def test_timestamp_forms(created, expires, ok):
    from lxml import etree

    ts = etree.Element(f"{{{soap.WSU}}}Timestamp")
    etree.SubElement(ts, f"{{{soap.WSU}}}Created").text = created
    if expires is not None:
        etree.SubElement(ts, f"{{{soap.WSU}}}Expires").text = expires
    now = dt.datetime(2026, 11, 25, 7, 27, tzinfo=dt.timezone.utc)
    if ok:
        soap._check_timestamp(ts, now)
        with pytest.raises(SoapRejected):  # and it still expires
            soap._check_timestamp(ts, now + dt.timedelta(minutes=5))
    else:
        with pytest.raises(SoapRejected) as exc:
            soap._check_timestamp(ts, now)
        assert exc.value.rule == "JGZ-WSS-TIMESTAMP"
