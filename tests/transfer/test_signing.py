"""XML-DSig: sign and verify DOB messages; algorithm/structure policy; signature wrapping (G1-G3)."""

from __future__ import annotations

import copy
import datetime as dt
import random

import pytest
from cryptography import x509
from lxml import etree

from jgz_gateway.standards import xmlsafe
from jgz_gateway.transfer import pki as P
from jgz_gateway.transfer import signing
from jgz_gateway.transfer.signing import DS, SignatureRejected

HL7 = "urn:hl7-org:v3"
NS = {"ds": DS, "hl7": HL7}


@pytest.fixture(scope="module")
def signed(kwal_bytes, org_a) -> bytes:
    return signing.sign(kwal_bytes, org_a.key, org_a.chain)


def _tree(data: bytes):
    return xmlsafe.parse_bytes(data).getroot()


def _bytes(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_round_trip_uses_profile(signed, trust, kwal_bytes):
    root = _tree(signed)
    sig = root.find("ds:Signature", NS)
    assert sig is not None and sig.getparent() is root
    algs = [e.get("Algorithm") for e in sig.iter() if e.get("Algorithm")]
    assert algs == [signing.EXC_C14N, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                    signing.ENVELOPED, signing.EXC_C14N, "http://www.w3.org/2001/04/xmlenc#sha256"]
    v = signing.verify(signed, trust)
    assert v.identity.ura == "00001111"
    assert v.signed_xml.find(".//ds:Signature", NS) is None
    # What was signed is the whole original message (same canonical form).
    original = etree.tostring(_tree(kwal_bytes), method="c14n", exclusive=True, with_comments=False)
    assert etree.tostring(v.signed_xml, method="c14n", exclusive=True) == original


def _mutate(signed: bytes, fn) -> bytes:
    root = _tree(signed)
    fn(root)
    return _bytes(root)


def _sig(root):
    return root.find("ds:Signature", NS)


def _given(root):
    return root.find(".//hl7:patientPerson/hl7:name/hl7:given", NS)


def _xsw_original_nested(root):  # genuine signed doc hidden in a forged doc
    original = copy.deepcopy(root)
    _given(root).text = "Mallory"
    root.remove(_sig(root))
    root.find(".//hl7:ControlActProcess", NS).append(original)


def _xsw_second_signature(root):
    root.append(copy.deepcopy(_sig(root)))


def _xsw_signature_deeper(root):
    sig = _sig(root)
    root.remove(sig)
    root.find(".//hl7:ControlActProcess", NS).append(sig)


def _reference_by_id(root):
    root.set("ID", "x1")
    _sig(root).find(".//ds:Reference", NS).set("URI", "#x1")


def _extra_reference(root):
    si = _sig(root).find("ds:SignedInfo", NS)
    si.append(copy.deepcopy(si.find("ds:Reference", NS)))


def _xpath_transform(root):
    tr = _sig(root).find(".//ds:Transforms", NS)
    t = etree.SubElement(tr, f"{{{DS}}}Transform", Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116")
    etree.SubElement(t, f"{{{DS}}}XPath").text = "not(ancestor-or-self::*[local-name()='given'])"


def _xslt_transform(root):
    tr = _sig(root).find(".//ds:Transforms", NS)
    etree.SubElement(tr, f"{{{DS}}}Transform", Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116")


def _sha1_method(root):
    _sig(root).find(".//ds:SignatureMethod", NS).set("Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1")


def _md5_digest(root):
    _sig(root).find(".//ds:DigestMethod", NS).set("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#md5")


def _inclusive_c14n(root):
    _sig(root).find(".//ds:CanonicalizationMethod", NS).set("Algorithm", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315")


def _key_value(root):
    ki = _sig(root).find("ds:KeyInfo", NS)
    etree.SubElement(etree.SubElement(ki, f"{{{DS}}}KeyValue"), f"{{{DS}}}RSAKeyValue")


def _retrieval_method(root):
    ki = _sig(root).find("ds:KeyInfo", NS)
    etree.SubElement(ki, f"{{{DS}}}RetrievalMethod", URI="http://127.0.0.1:9/key")


def _no_certificate(root):
    x = _sig(root).find("ds:KeyInfo/ds:X509Data", NS)
    for c in list(x):
        x.remove(c)


def _signature_value_flipped(root):
    sv = _sig(root).find("ds:SignatureValue", NS)
    sv.text = ("A" if sv.text[0] != "A" else "B") + sv.text[1:]


def _prefix_list_on_enveloped(root):
    t = _sig(root).find(".//ds:Transform", NS)
    etree.SubElement(t, signing.INCLUSIVE_NAMESPACES, PrefixList="hl7")


def _prefix_list_with_extra(root):
    t = _sig(root).findall(".//ds:Transform", NS)[1]
    etree.SubElement(t, signing.INCLUSIVE_NAMESPACES, PrefixList="hl7", Extra="x")


def _unknown_in_signature_method(root):
    etree.SubElement(_sig(root).find(".//ds:SignatureMethod", NS), "{urn:example}Unknown")


CASES = {
    "tampered body": (lambda r: setattr(_given(r), "text", "Mallory"), "JGZ-SIG-INVALID"),
    "tampered attribute": (lambda r: r.find(".//hl7:attentionLine/hl7:value", NS).set("extension", "999911120"),
                           "JGZ-SIG-INVALID"),
    "element removed": (lambda r: _given(r).getparent().remove(_given(r)), "JGZ-SIG-INVALID"),
    "element added": (lambda r: etree.SubElement(r.find(".//hl7:patientPerson", NS), f"{{{HL7}}}given").__setattr__("text", "X"),
                      "JGZ-SIG-INVALID"),
    "signature removed": (lambda r: r.remove(_sig(r)), "JGZ-SIG-MISSING"),
    "xsw: genuine signed doc nested in forged doc": (_xsw_original_nested, "JGZ-SIG-LOCATION"),
    "xsw: second signature": (_xsw_second_signature, "JGZ-SIG-WRAPPED"),
    "xsw: signature moved deeper": (_xsw_signature_deeper, "JGZ-SIG-LOCATION"),
    "reference by id": (_reference_by_id, "JGZ-SIG-REFERENCE"),
    "extra reference": (_extra_reference, "JGZ-SIG-REFERENCE"),
    "xpath transform": (_xpath_transform, "JGZ-SIG-TRANSFORM"),
    "xslt transform": (_xslt_transform, "JGZ-SIG-TRANSFORM"),
    "sha1 signature method": (_sha1_method, "JGZ-SIG-ALGORITHM"),
    "md5 digest": (_md5_digest, "JGZ-SIG-ALGORITHM"),
    "inclusive c14n": (_inclusive_c14n, "JGZ-SIG-ALGORITHM"),
    "keyvalue beside x509": (_key_value, "JGZ-SIG-KEYINFO"),
    "retrieval method": (_retrieval_method, "JGZ-SIG-KEYINFO"),
    "no certificate": (_no_certificate, "JGZ-SIG-KEYINFO"),
    "signature value flipped": (_signature_value_flipped, "JGZ-SIG-INVALID"),
    "prefix list on the enveloped-signature transform": (_prefix_list_on_enveloped, "JGZ-SIG-TRANSFORM"),
    "prefix list with another attribute": (_prefix_list_with_extra, "JGZ-SIG-TRANSFORM"),
    "signature not valid against the XML-DSig schema": (_unknown_in_signature_method, "JGZ-SIG-INVALID"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rejected(case, signed, trust):
    fn, rule = CASES[case]
    with pytest.raises(SignatureRejected) as exc:
        signing.verify(_mutate(signed, fn), trust)
    assert exc.value.rule == rule, exc.value.message


def test_xsw_forged_document_with_genuine_signature(signed, trust):
    root = _tree(signed)
    sig = _sig(root)
    _given(root).text = "Mallory"  # forged content, genuine signature kept in place
    with pytest.raises(SignatureRejected, match="Digest mismatch"):
        signing.verify(_bytes(root), trust)
    # and the genuine signature glued to a freshly built forged message
    forged = _tree(signed)
    forged.remove(_sig(forged))
    _given(forged).text = "Mallory"
    forged.append(copy.deepcopy(sig))
    with pytest.raises(SignatureRejected):
        signing.verify(_bytes(forged), trust)


def test_real_sha1_signature_rejected(kwal_bytes, org_a, trust):
    from signxml import XMLSigner
    from signxml.algorithms import DigestAlgorithm, SignatureMethod
    from cryptography.hazmat.primitives import serialization

    class LegacySigner(XMLSigner):  # what an old AORTA-era peer would produce
        def check_deprecated_methods(self):
            pass

    signer = LegacySigner(signature_algorithm=SignatureMethod.RSA_SHA1, digest_algorithm=DigestAlgorithm.SHA1,
                          c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    pem = [c.public_bytes(serialization.Encoding.PEM).decode() for c in org_a.chain]
    root = signer.sign(_tree(kwal_bytes), key=org_a.key, cert=pem)
    with pytest.raises(SignatureRejected) as exc:
        signing.verify(_bytes(root), trust)
    assert exc.value.rule == "JGZ-SIG-ALGORITHM"


def test_comment_injection_cannot_split_signed_text(signed, trust):
    """A comment inside signed text survives exc-c14n digests; readers must see the whole value."""
    root = _tree(signed)
    given = _given(root)
    given.text = "Mi"
    comment = etree.Comment("x")
    comment.tail = "chael"
    given.append(comment)
    v = signing.verify(_bytes(root), trust)  # comments are not signed content: still valid
    assert v.signed_xml.find(".//hl7:patientPerson/hl7:name/hl7:given", NS).text == "Michael"
    assert b"<!--" not in v.signed_bytes


def test_key_swapped_in_keyinfo(signed, trust, org_b):
    """Signed by A, but KeyInfo claims B's certificate: the pinned-certificate check fails."""
    import base64
    from cryptography.hazmat.primitives import serialization

    root = _tree(signed)
    first = _sig(root).find("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS)
    first.text = base64.b64encode(org_b.cert.public_bytes(serialization.Encoding.DER)).decode()
    with pytest.raises(SignatureRejected) as exc:
        signing.verify(_bytes(root), trust)
    assert exc.value.rule == "JGZ-SIG-INVALID"


def _signer_from(pki, ura):
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pki.key(ura).read_bytes(), None)
    return key, x509.load_pem_x509_certificates(pki.chain(ura).read_bytes())


@pytest.mark.parametrize("case", ["unknown CA", "expired", "revoked", "self-signed", "pass certificate"])
def test_untrusted_signers(case, kwal_bytes, pki, trust, tmp_path):
    store = trust
    now = dt.datetime.now(dt.timezone.utc)
    if case == "unknown CA":
        other = P.TestPki.init(tmp_path / "other", [("00001111", "Impostor")], key_size=2048)
        key, chain = _signer_from(other, "00001111")
    elif case == "revoked":
        other = P.TestPki.init(tmp_path / "rev", [("00001111", "GGD")], key_size=2048)
        other.revoke(x509.load_pem_x509_certificate(other.cert("00001111").read_bytes()))
        key, chain = _signer_from(other, "00001111")
        store = other.truststore()
    elif case in ("expired", "pass certificate"):
        kw = ({"not_before": now - dt.timedelta(days=900), "not_after": now - dt.timedelta(days=1)}
              if case == "expired" else {"uzi": P.uzi_string("00001111", card_type="Z")})
        issued = pki.add_org("55556666", "Elsewhere", key_size=2048, **kw)
        key, chain = issued.key, [issued.cert]
    else:
        root = P.make_root(2048)
        key, chain = root.key, [root.cert]
    with pytest.raises(SignatureRejected) as exc:
        signing.verify(signing.sign(kwal_bytes, key, chain), store)
    assert exc.value.rule in ("JGZ-SIG-CERT", "JGZ-SIG-KEYINFO"), exc.value.message


def test_generated_mutations_all_rejected(signed, trust):
    """G1: 200 random single mutations of signed content, none accepted."""
    rng = random.Random(6)
    base = _tree(signed)
    elements = [e for e in base.iter() if isinstance(e.tag, str) and not e.tag.startswith(f"{{{DS}}}") and e is not base]
    accepted = []
    for i in range(200):
        root = copy.deepcopy(base)
        target = list(e for e in root.iter() if isinstance(e.tag, str) and not e.tag.startswith(f"{{{DS}}}") and e is not root)[
            elements.index(rng.choice(elements))]
        kind = rng.choice(["attr", "text", "drop", "dup"])
        if kind == "attr" and target.attrib:
            name = rng.choice(sorted(target.attrib))
            target.set(name, target.get(name) + "0")
        elif kind == "text" and (target.text or "").strip():
            target.text = target.text.strip()[::-1] + "x"
        elif kind == "dup" or kind == "text":
            target.addnext(copy.deepcopy(target))
        else:
            target.getparent().remove(target)
        try:
            signing.verify(_bytes(root), trust)
            accepted.append((i, kind, xmlsafe.xpath_of(target)))
        except SignatureRejected:
            pass
    assert accepted == []


def test_hostile_xml_refused_before_crypto(trust):
    from jgz_gateway.standards.xmlsafe import XmlRejected

    with pytest.raises(XmlRejected):
        signing.verify(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', trust)
    with pytest.raises(XmlRejected):
        signing.verify(b"<x><y></x>", trust)


# --- QName values: xsi:type="hl7:CV" with hl7 declared only for them ----------------------


@pytest.fixture(scope="module")
def typed_by_prefix(kwal_bytes) -> bytes:
    """The qualification message with its datatypes written ``hl7:CV`` (the root declares
    ``xmlns:hl7``; no element name uses it): valid, and Nictiz's tools accept it."""
    data = kwal_bytes.replace(b'xsi:type="CV"', b'xsi:type="hl7:CV"')
    assert b'xmlns:hl7="urn:hl7-org:v3"' in data and data.count(b'"hl7:CV"') > 50
    return data


def _errors(tree) -> list:
    from jgz_gateway.standards.validation import validate_tree

    return [f for f in validate_tree(tree).findings if f.severity == "error"]


def test_prefixes_used_only_in_xsi_type_are_signed(typed_by_prefix, org_a, trust):
    """Exclusive c14n drops a declaration only a QName value uses: the signature lists the
    prefix (InclusiveNamespaces PrefixList), so the signed content still binds it."""
    assert not _errors(_tree(typed_by_prefix))
    signed = signing.sign(typed_by_prefix, org_a.key, org_a.chain)
    lists = [e.get("PrefixList") for e in _tree(signed).iter(signing.INCLUSIVE_NAMESPACES)]
    assert lists == ["hl7", "hl7"]  # SignedInfo's c14n and the reference's transform
    verified = signing.verify(signed, trust)
    assert b'xmlns:hl7="urn:hl7-org:v3"' in verified.signed_bytes
    assert not _errors(verified.signed_xml)


def test_a_sender_that_lists_no_prefix_gets_through(typed_by_prefix, org_a, trust):
    """Signed by plain signxml (exclusive c14n, no PrefixList), the prefix is unbound in what
    was signed; the receiver binds it as the received message does, and changes nothing else."""
    from cryptography.hazmat.primitives import serialization
    from signxml import XMLSigner
    from signxml.algorithms import CanonicalizationMethod

    signer = XMLSigner(c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    pems = [c.public_bytes(serialization.Encoding.PEM).decode() for c in org_a.chain]
    signed = _bytes(signer.sign(_tree(typed_by_prefix), key=org_a.key, cert=pems))
    verified = signing.verify(signed, trust)
    assert b"xmlns:hl7" not in verified.signed_bytes  # exclusive c14n dropped it ...
    assert verified.signed_xml.nsmap["hl7"] == HL7  # ... and it is bound again
    assert not _errors(verified.signed_xml)
    assert etree.tostring(verified.signed_xml, method="c14n", exclusive=True) == verified.signed_bytes


def test_a_prefix_declared_where_it_is_used_is_bound_too(typed_by_prefix, org_a, trust):
    """``xmlns:hl7`` declared on each typed element (as some XML libraries write it), not on
    the root; the sender lists no prefix."""
    from cryptography.hazmat.primitives import serialization
    from signxml import XMLSigner
    from signxml.algorithms import CanonicalizationMethod

    local = typed_by_prefix.replace(b' xmlns:hl7="urn:hl7-org:v3"', b"", 1)
    local = local.replace(b'xsi:type="hl7:CV"', b'xmlns:hl7="urn:hl7-org:v3" xsi:type="hl7:CV"')
    assert not _errors(_tree(local))
    signer = XMLSigner(c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    pems = [c.public_bytes(serialization.Encoding.PEM).decode() for c in org_a.chain]
    verified = signing.verify(_bytes(signer.sign(_tree(local), key=org_a.key, cert=pems)), trust)
    assert not _errors(verified.signed_xml)


def test_a_message_with_an_attachment_over_10_mb_is_signed_and_verified(kwal_bytes, org_a, trust):
    """signxml re-reads what it signs and what it returns; with its default parser a text node
    over libxml2's 10 MB limit (a scanned dossier as base64 PDF) made signing fail."""
    import base64

    root = _tree(kwal_bytes)
    text = next(e for e in root.iter(f"{{{HL7}}}text") if e.get("representation") == "B64")
    text.text = base64.b64encode(random.Random(2).randbytes(8_000_000)).decode()
    verified = signing.verify(signing.sign(root, org_a.key, org_a.chain), trust)
    signed_text = next(e for e in verified.signed_xml.iter(f"{{{HL7}}}text") if e.get("representation") == "B64")
    assert signed_text.text == text.text


@pytest.mark.parametrize("encode", [
    lambda root: etree.tostring(root, xml_declaration=True, encoding="UTF-16"),
    lambda root: etree.tostring(root, xml_declaration=True, encoding="ISO-8859-1"),
    lambda root: etree.tostring(root, xml_declaration=True, encoding="US-ASCII"),  # character references
    lambda root: b"\xef\xbb\xbf" + _bytes(root).replace(b"\n", b"\r\n"),
], ids=["utf-16", "iso-8859-1", "character-references", "bom-crlf"])
def test_a_signed_message_verifies_in_any_encoding(signed, trust, encode):
    """A signature covers the canonical form, which no encoding, byte-order mark or line end
    changes: a peer's stack may write the signed message in any of them."""
    data = encode(_tree(signed))
    assert data != signed
    verified = signing.verify(data, trust)
    assert verified.identity.ura == "00001111"
    assert etree.tostring(verified.signed_xml, method="c14n", exclusive=True) == \
        etree.tostring(signing.verify(signed, trust).signed_xml, method="c14n", exclusive=True)


def test_a_signed_message_reads_as_its_dossier(signed, kwal_bytes):
    """The signature belongs to the bytes, not to the dossier: read (a migration from an archive
    of signed messages), the dossier is the unsigned message's, and a message written from it
    carries no signature it would break."""
    from jgz_gateway.standards.hl7v3 import read_message, write_message

    dossier = read_message(signed)
    assert dossier == read_message(kwal_bytes)
    assert b"xmldsig" not in write_message(dossier)


def test_a_converted_message_carries_no_signature_it_would_break(signed, trust):
    """jgz convert on a signed message kept the enveloped signature, now over content it
    never signed (and a schema error). Converting drops it and says so; a message left in
    its own version keeps it, still valid."""
    from jgz_gateway.standards.convert import convert_bytes

    converted, report = convert_bytes(signed, "4.1.3")
    assert b"xmldsig" not in converted
    assert [c.rule for c in report.dropped if "Signature" in c.xpath] == ["JGZ-CONV-SIGNATURE"]
    same, _ = convert_bytes(signed, "4.2.0")
    assert signing.verify(same, trust).identity.ura == "00001111"
