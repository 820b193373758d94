"""XML-DSig enveloped signatures over whole DOB messages (signxml does the cryptography).

Profile: one ``ds:Signature``, a direct child of the message root, signing the
whole document (``URI=""``) with the transforms enveloped-signature + exclusive
c14n, RSA-SHA256 (SHA-384/512 accepted), SHA-256+ digests, and the signer's
certificate chain in ``X509Data``. Anything else is refused *before* any
cryptography runs: that is the algorithm and structure policy (no SHA-1/MD5, no
XPath/XSLT transforms, no RetrievalMethod, no KeyValue beside the certificate).

Trust: the signing certificate must pass :class:`~jgz_gateway.transfer.pki.TrustStore`
(chain, validity, CRL, UZI server identity); signxml then verifies with that
certificate pinned. Callers get only what signxml says was signed
(``signed_xml``/``signed_bytes``), never the received tree, which defeats
signature wrapping.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from dataclasses import dataclass

from cryptography import x509
from lxml import etree

from ..standards import xmlsafe
from .pki import CertificateRejected, TrustStore, UziIdentity

DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
SIGNATURE_METHODS = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
}
DIGEST_METHODS = {
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
}
_NS = {"ds": DS}

# signxml logs every canonicalised document at DEBUG: that is the whole dossier, BSN included.
# Ordinary logs must never carry it, whatever level the application configures.
logging.getLogger("signxml").setLevel(logging.WARNING)


class SignatureRejected(Exception):
    """The message's signature is missing, malformed, outside policy, untrusted or wrong."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class Verified:
    """What a valid signature vouches for: the signed document, and who signed it."""

    signed_xml: etree._Element
    signed_bytes: bytes
    identity: UziIdentity
    certificate: x509.Certificate


def sign(message: bytes | etree._Element, key, chain: list[x509.Certificate]) -> bytes:
    """Return ``message`` with an enveloped RSA-SHA256 / exc-c14n signature by ``key``.

    ``chain`` is the signer's certificate first, then its intermediates (they go
    into ``X509Data`` so a receiver can build the path to its trust anchor).
    """
    from signxml import XMLSigner
    from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

    root = xmlsafe.parse_bytes(message).getroot() if isinstance(message, bytes) else message
    if root.find(".//ds:Signature", _NS) is not None:
        raise SignatureRejected("JGZ-SIG-PRESENT", "message is already signed")
    signer = XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    from cryptography.hazmat.primitives import serialization

    pems = [c.public_bytes(serialization.Encoding.PEM).decode() for c in chain]
    signed = signer.sign(root, key=key, cert=pems)
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def verify(message: bytes | etree._Element, trust: TrustStore, *, at: dt.datetime | None = None) -> Verified:
    """Check ``message``'s signature under the profile and trust anchors.

    ``message`` is the received bytes, or the tree :func:`xmlsafe.parse_bytes`
    made of them (so the receiver parses once). Raises :class:`SignatureRejected`
    (rule + reason) or lets :class:`~jgz_gateway.standards.xmlsafe.XmlRejected`
    through for hostile XML.
    """
    root = xmlsafe.parse_bytes(message).getroot() if isinstance(message, bytes) else message
    signature = _check_structure(root)
    chain = _certificates(signature)
    leaf = _end_entity(chain)
    try:
        identity = trust.validate(leaf, [c for c in chain if c is not leaf], at=at)
    except CertificateRejected as exc:
        raise SignatureRejected("JGZ-SIG-CERT", f"signing certificate rejected: {exc}") from None
    return Verified(*_signxml_verify(root, leaf, at), identity, leaf)


def _signxml_verify(root: etree._Element, leaf: x509.Certificate, at: dt.datetime | None):
    from signxml import SignatureConfiguration, XMLVerifier
    from signxml.algorithms import DigestAlgorithm, SignatureMethod
    from signxml.exceptions import SignXMLException

    config = SignatureConfiguration(
        require_x509=True,
        location="./",
        expect_references=1,
        signature_methods=frozenset(m for m in SignatureMethod if m.value in SIGNATURE_METHODS),
        digest_algorithms=frozenset(d for d in DigestAlgorithm if d.value in DIGEST_METHODS),
        verification_time=at,
    )
    try:
        result = XMLVerifier().verify(root, x509_cert=leaf, expect_config=config)
    except (SignXMLException, ValueError) as exc:
        raise SignatureRejected("JGZ-SIG-INVALID", f"signature does not verify: {exc}") from None
    if result.signed_xml is None:
        raise SignatureRejected("JGZ-SIG-INVALID", "signed data is not XML")
    if result.signed_xml.find(".//ds:Signature", _NS) is not None:
        raise SignatureRejected("JGZ-SIG-WRAPPED", "signed content contains a further ds:Signature")
    return result.signed_xml, result.signed_data


def _check_structure(root: etree._Element) -> etree._Element:
    signatures = root.findall(".//ds:Signature", _NS)
    if not signatures:
        raise SignatureRejected("JGZ-SIG-MISSING", "message is not signed (no ds:Signature)")
    if len(signatures) > 1:
        raise SignatureRejected("JGZ-SIG-WRAPPED", f"message carries {len(signatures)} ds:Signature elements; expected 1")
    sig = signatures[0]
    if sig.getparent() is not root:
        raise SignatureRejected(
            "JGZ-SIG-LOCATION", f"ds:Signature must be a child of the message root, found at {xmlsafe.xpath_of(sig)}"
        )
    si = sig.find("ds:SignedInfo", _NS)
    if si is None:
        raise SignatureRejected("JGZ-SIG-MALFORMED", "ds:Signature has no ds:SignedInfo")
    _expect(si, "ds:CanonicalizationMethod", {EXC_C14N}, "canonicalization method")
    _expect(si, "ds:SignatureMethod", SIGNATURE_METHODS, "signature method")
    refs = si.findall("ds:Reference", _NS)
    if len(refs) != 1:
        raise SignatureRejected("JGZ-SIG-REFERENCE", f"expected exactly 1 ds:Reference, found {len(refs)}")
    ref = refs[0]
    if ref.get("URI") != "":
        raise SignatureRejected("JGZ-SIG-REFERENCE", f"the reference must sign the whole message (URI=\"\"), not {ref.get('URI')!r}")
    transforms = [t.get("Algorithm") for t in ref.findall("ds:Transforms/ds:Transform", _NS)]
    if transforms not in ([ENVELOPED, EXC_C14N], [ENVELOPED]):
        raise SignatureRejected("JGZ-SIG-TRANSFORM", f"transforms {transforms} are outside policy (enveloped-signature, exc-c14n)")
    for t in ref.findall("ds:Transforms/ds:Transform", _NS):
        if len(t):
            raise SignatureRejected("JGZ-SIG-TRANSFORM", "transforms must not carry parameters (XPath, InclusiveNamespaces)")
    _expect(ref, "ds:DigestMethod", DIGEST_METHODS, "digest method")
    key_info = sig.find("ds:KeyInfo", _NS)
    if key_info is None:
        raise SignatureRejected("JGZ-SIG-KEYINFO", "ds:KeyInfo with the signing certificate is missing")
    others = [etree.QName(c).localname for c in key_info if isinstance(c.tag, str) and c.tag != f"{{{DS}}}X509Data"]
    if others:
        raise SignatureRejected("JGZ-SIG-KEYINFO", f"ds:KeyInfo may hold only X509Data, found {others}")
    return sig


def _expect(parent: etree._Element, path: str, allowed: set[str], what: str) -> None:
    el = parent.find(path, _NS)
    alg = el.get("Algorithm") if el is not None else None
    if alg not in allowed:
        raise SignatureRejected("JGZ-SIG-ALGORITHM", f"{what} {alg!r} is not allowed (allowed: {', '.join(sorted(allowed))})")


def _certificates(signature: etree._Element) -> list[x509.Certificate]:
    out = []
    for el in signature.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", _NS):
        try:
            out.append(x509.load_der_x509_certificate(base64.b64decode("".join((el.text or "").split()), validate=True)))
        except ValueError as exc:
            raise SignatureRejected("JGZ-SIG-KEYINFO", f"X509Certificate is not a DER certificate: {exc}") from None
    if not out:
        raise SignatureRejected("JGZ-SIG-KEYINFO", "ds:X509Data holds no X509Certificate")
    return out


def _end_entity(chain: list[x509.Certificate]) -> x509.Certificate:
    leaves = []
    for cert in chain:
        try:
            ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            ca = False
        if not ca:
            leaves.append(cert)
    if len(leaves) != 1:
        raise SignatureRejected("JGZ-SIG-KEYINFO", f"X509Data must hold exactly one end-entity certificate, found {len(leaves)}")
    return leaves[0]
