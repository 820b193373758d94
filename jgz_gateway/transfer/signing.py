"""XML-DSig enveloped signatures over whole DOB messages (signxml does the cryptography).

Profile: one ``ds:Signature``, a direct child of the message root, signing the
whole document (``URI=""``) with the transforms enveloped-signature + exclusive
c14n, RSA-SHA256 (SHA-384/512 accepted), SHA-256+ digests, and the signer's
certificate chain in ``X509Data``. Anything else is refused *before* any
cryptography runs: that is the algorithm and structure policy (no SHA-1/MD5, no
XPath/XSLT transforms, no RetrievalMethod, no KeyValue beside the certificate).

QNames in attribute values (``xsi:type="hl7:PQ"``) are invisible to exclusive c14n, which
drops the declaration of a prefix used only there from what it signs. :func:`sign` lists
such prefixes in the c14n's InclusiveNamespaces PrefixList, so their bindings are signed;
:func:`verify` accepts that parameter, and for a sender that did not list them binds the
prefixes as the received message does (:func:`bind_prefixes`).

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
import threading
from dataclasses import dataclass
from functools import cache

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
_XSI = {"xsi": "http://www.w3.org/2001/XMLSchema-instance"}
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
INCLUSIVE_NAMESPACES = f"{{{EXC_C14N}}}InclusiveNamespaces"

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
    from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

    root = xmlsafe.parse_bytes(message).getroot() if isinstance(message, bytes) else message
    if root.find(".//ds:Signature", _NS) is not None:
        raise SignatureRejected("JGZ-SIG-PRESENT", "message is already signed")
    signer = _signer()(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    from cryptography.hazmat.primitives import serialization

    pems = [c.public_bytes(serialization.Encoding.PEM).decode() for c in chain]
    signed = signer.sign(root, key=key, cert=pems, inclusive_ns_prefixes=type_prefixes(root) or None)
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


@cache
def _signer():
    """signxml's signer, writing the PrefixList into an enveloped signature's exclusive-c14n
    transform: signxml 5.2 digests the reference with it but writes it there only for the
    detached and enveloping methods, so the signature would not verify."""
    from signxml import XMLSigner
    from signxml.algorithms import SignatureConstructionMethod

    class Signer(XMLSigner):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._parser = _reparser()

        def _build_transforms_for_reference(self, *, transforms_node, reference, exclude_c14n_transform_element=True):
            super()._build_transforms_for_reference(transforms_node=transforms_node, reference=reference,
                                                    exclude_c14n_transform_element=exclude_c14n_transform_element)
            last = transforms_node[-1]
            if (self.construction_method == SignatureConstructionMethod.enveloped and reference.inclusive_ns_prefixes
                    and last.get("Algorithm") == EXC_C14N and not len(last)):
                etree.SubElement(last, INCLUSIVE_NAMESPACES, PrefixList=" ".join(reference.inclusive_ns_prefixes))

    return Signer


def verify(message: bytes | etree._Element, trust: TrustStore, *, at: dt.datetime | None = None) -> Verified:
    """Check ``message``'s signature under the profile and trust anchors.

    ``message`` is the received bytes, or the tree :func:`xmlsafe.parse_bytes`
    made of them (so the receiver parses once). Raises :class:`SignatureRejected`
    (rule + reason) or lets :class:`~jgz_gateway.standards.xmlsafe.XmlRejected`
    through for hostile XML.
    """
    root = xmlsafe.parse_bytes(message).getroot() if isinstance(message, bytes) else message
    signature = _check_structure(root)
    chain = certificates(signature)
    leaf = end_entity(chain)
    try:
        identity = trust.validate(leaf, [c for c in chain if c is not leaf], at=at)
    except CertificateRejected as exc:
        raise SignatureRejected("JGZ-SIG-CERT", f"signing certificate rejected: {exc}") from None
    signed_xml, signed_bytes = _signxml_verify(root, leaf, at)
    signed_xml = bind_prefixes(signed_xml, root, unbound_type_prefixes(signed_xml))
    return Verified(signed_xml, signed_bytes, identity, leaf)


def type_prefixes(el: etree._Element) -> list[str]:
    """The namespace prefixes that ``xsi:type`` values in ``el`` use (``hl7`` of ``hl7:PQ``)."""
    return sorted({v.partition(":")[0] for v in el.xpath("descendant-or-self::*/@xsi:type", namespaces=_XSI) if ":" in v})


def unbound_type_prefixes(el: etree._Element) -> set[str]:
    """The prefixes of ``xsi:type`` values in ``el`` that are not bound where they are used."""
    if not type_prefixes(el):  # the common case, found in C
        return set()
    return {prefix for e in el.xpath("descendant-or-self::*[@xsi:type]", namespaces=_XSI)
            for prefix, colon, _ in [e.get(XSI_TYPE).partition(":")] if colon and prefix not in e.nsmap}


def bind_prefixes(signed: etree._Element, received: etree._Element, prefixes) -> etree._Element:
    """``signed`` with those of ``prefixes`` it does not bind declared as the ``received``
    element (the same content as it arrived) declares them, in scope or inside it.

    Exclusive c14n drops a declaration whose prefix no element or attribute name uses, so a
    prefix used only in an ``xsi:type`` value (``hl7:PQ``) arrives unbound in the signed
    content of a sender that did not list it in the PrefixList, though the message it sent
    binds it (and Nictiz's tools accept the message). A prefix declared with two meanings is
    left unbound. Nothing read from a DOB depends on the binding: a datatype is read by its
    local name, and validation rejects a binding outside the HL7 namespace. Declarations
    change no element, attribute or text.
    """
    binds = {}
    for prefix in sorted(filter(None, prefixes)):
        if prefix not in signed.nsmap:
            uris = {uri for _, uri in received.xpath("descendant-or-self::*/namespace::*[name()=$p]", p=prefix)}
            if len(uris) == 1:
                binds[prefix] = uris.pop()
    if not binds:
        return signed
    rebound = etree.Element(signed.tag, nsmap={**signed.nsmap, **binds})
    for name, value in signed.attrib.items():
        rebound.set(name, value)
    rebound.text = signed.text
    for child in list(signed):
        rebound.append(child)
    return rebound


def verifier():
    """signxml's verifier, checking a ds:Signature against the XML-DSig schema *and* exclusive
    c14n's: XML-DSig takes any element in a CanonicalizationMethod strictly, so without the
    declaration of InclusiveNamespaces (as WS-Security stacks write it) signxml would refuse
    every such signature as schema-invalid."""
    return _verifier_class()()


@cache
def _verifier_class():
    from signxml import XMLVerifier

    class Verifier(XMLVerifier):
        @classmethod
        def schemas(cls):
            return [_signature_schema()]

        def verify(self, data, **kwargs):
            kwargs.setdefault("parser", _reparser())
            return super().verify(data, **kwargs)

    return Verifier


def _reparser() -> etree.XMLParser:
    """The parser signxml re-reads its own serialisations with (the document it signs, the
    signed content it returns): signxml's default, without network and with libxml2's 10 MB
    limit per text node lifted, so a message with a large attachment, which the hardened parser
    has already read whole, can be signed and verified."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


_schemas = threading.local()  # an XMLSchema keeps its error log: one per thread, as signxml's own are not


def _signature_schema() -> etree.XMLSchema:
    schema = getattr(_schemas, "signature", None)
    if schema is None:
        from importlib import resources

        with resources.as_file(resources.files("signxml.schemas") / "xmldsig1-schema.xsd") as dsig, \
                resources.as_file(resources.files("jgz_gateway.transfer") / "schemas" / "exc-c14n.xsd") as exc:
            doc = etree.parse(str(exc), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
            doc.getroot().insert(0, etree.Element("{http://www.w3.org/2001/XMLSchema}import", namespace=DS,
                                                  schemaLocation=dsig.resolve().as_uri()))
            schema = _schemas.signature = etree.XMLSchema(doc)
    return schema


def _signxml_verify(root: etree._Element, leaf: x509.Certificate, at: dt.datetime | None):
    from signxml import SignatureConfiguration
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
        result = verifier().verify(root, x509_cert=leaf, expect_config=config)
    except (SignXMLException, ValueError, etree.DocumentInvalid) as exc:
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
    _only_prefix_list(si.find("ds:CanonicalizationMethod", _NS), "the canonicalization method")
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
        _only_prefix_list(t, "a transform")
    _expect(ref, "ds:DigestMethod", DIGEST_METHODS, "digest method")
    key_info = sig.find("ds:KeyInfo", _NS)
    if key_info is None:
        raise SignatureRejected("JGZ-SIG-KEYINFO", "ds:KeyInfo with the signing certificate is missing")
    others = [etree.QName(c).localname for c in key_info if isinstance(c.tag, str) and c.tag != f"{{{DS}}}X509Data"]
    if others:
        raise SignatureRejected("JGZ-SIG-KEYINFO", f"ds:KeyInfo may hold only X509Data, found {others}")
    return sig


def _only_prefix_list(method: etree._Element, what: str) -> None:
    """Exclusive c14n's one parameter, an InclusiveNamespaces PrefixList, is allowed; no other
    parameter (an XPath, say) is, on any algorithm."""
    params = [c for c in method if isinstance(c.tag, str)]
    if not params:
        return
    if (method.get("Algorithm") == EXC_C14N and len(params) == 1 and params[0].tag == INCLUSIVE_NAMESPACES
            and set(params[0].attrib) == {"PrefixList"} and not len(params[0])):
        return
    raise SignatureRejected("JGZ-SIG-TRANSFORM", f"{what} may carry no parameter but exclusive c14n's InclusiveNamespaces PrefixList")


def _expect(parent: etree._Element, path: str, allowed: set[str], what: str) -> None:
    el = parent.find(path, _NS)
    alg = el.get("Algorithm") if el is not None else None
    if alg not in allowed:
        raise SignatureRejected("JGZ-SIG-ALGORITHM", f"{what} {alg!r} is not allowed (allowed: {', '.join(sorted(allowed))})")


def certificates(signature: etree._Element) -> list[x509.Certificate]:
    """The certificates in a ds:Signature's ``KeyInfo/X509Data``, in the order given."""
    out = []
    for el in signature.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", _NS):
        try:
            out.append(x509.load_der_x509_certificate(base64.b64decode("".join((el.text or "").split()), validate=True)))
        except ValueError as exc:
            raise SignatureRejected("JGZ-SIG-KEYINFO", f"X509Certificate is not a DER certificate: {exc}") from None
    if not out:
        raise SignatureRejected("JGZ-SIG-KEYINFO", "ds:X509Data holds no X509Certificate")
    return out


def end_entity(chain: list[x509.Certificate]) -> x509.Certificate:
    """The one certificate of ``chain`` that is not a CA: the signer's."""
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
