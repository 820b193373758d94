"""SOAP 1.1 + WS-Security, as AORTA carries HL7v3: the signed DOB in the Body, and in the
Security header a BinarySecurityToken (our certificate), a Timestamp (5-minute
window) and an XML signature (signxml; RSA-SHA256, exc-c14n) over Timestamp and
Body. The receiver checks all of it, then hands the DOB to the same receiving
path as plain HTTPS, which verifies the DOB's own signature too when it has one (ours
do); an AORTA sender signs only the envelope, and its signature then stands for the DOB's.
"""

from __future__ import annotations

import base64
import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from ...standards import xmlsafe
from .. import signing
from ..pki import CertificateRejected, TrustStore, UziIdentity
from .base import Clients, DeliveryError, Endpoint
from .https import post

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
CONTENT_TYPE = 'text/xml; charset="utf-8"'
WINDOW = dt.timedelta(minutes=5)
SKEW = dt.timedelta(seconds=60)
NS = {"soap": SOAP, "wsse": WSSE, "wsu": WSU, "ds": signing.DS}
_ID = f"{{{WSU}}}Id"


class SoapRejected(Exception):
    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule, self.message = rule, message


def _ts(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(body_xml: bytes | None, *, body_element: etree._Element | None = None) -> etree._Element:
    env = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP, "wsse": WSSE, "wsu": WSU})
    etree.SubElement(env, f"{{{SOAP}}}Header")
    body = etree.SubElement(env, f"{{{SOAP}}}Body")
    body.append(body_element if body_element is not None else xmlsafe.parse_bytes(body_xml).getroot())
    return env


def wrap(message: bytes, key, chain: list[x509.Certificate], now: dt.datetime) -> bytes:
    """The signed DOB in a WS-Security-signed SOAP envelope."""
    from signxml import SignatureReference, XMLSigner, methods
    from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

    env = envelope(message)
    header, body = env[0], env[1]
    body.set(_ID, "Body")
    sec = etree.SubElement(header, f"{{{WSSE}}}Security")
    sec.set(f"{{{SOAP}}}mustUnderstand", "1")
    bst = etree.SubElement(sec, f"{{{WSSE}}}BinarySecurityToken", EncodingType=BASE64, ValueType=X509V3)
    bst.set(_ID, "X509Token")
    bst.text = base64.b64encode(chain[0].public_bytes(serialization.Encoding.DER)).decode()
    ts = etree.SubElement(sec, f"{{{WSU}}}Timestamp")
    ts.set(_ID, "Timestamp")
    etree.SubElement(ts, f"{{{WSU}}}Created").text = _ts(now)
    etree.SubElement(ts, f"{{{WSU}}}Expires").text = _ts(now + WINDOW)
    key_info = etree.Element(f"{{{signing.DS}}}KeyInfo", nsmap={"ds": signing.DS})
    str_ = etree.SubElement(key_info, f"{{{WSSE}}}SecurityTokenReference")
    etree.SubElement(str_, f"{{{WSSE}}}Reference", URI="#X509Token", ValueType=X509V3)
    signer = XMLSigner(method=methods.detached, signature_algorithm=SignatureMethod.RSA_SHA256,
                       digest_algorithm=DigestAlgorithm.SHA256,
                       c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    sig = signer.sign(env, key=key, reference_uri=[SignatureReference(URI="#Timestamp"), SignatureReference(URI="#Body")],
                      key_info=key_info, id_attribute="Id",
                      inclusive_ns_prefixes=signing.type_prefixes(body) or None)  # see signing: QName values
    sec.append(sig)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def unwrap(data: bytes, trust: TrustStore, now: dt.datetime) -> tuple[bytes, UziIdentity]:
    """Check the WS-Security header; return the Body's DOB (as signed) and the token's identity."""
    from signxml import SignatureConfiguration
    from signxml.algorithms import DigestAlgorithm, SignatureMethod
    from signxml.exceptions import SignXMLException

    root = xmlsafe.parse_bytes(data).getroot()
    if root.tag != f"{{{SOAP}}}Envelope":
        raise SoapRejected("JGZ-SOAP-ENVELOPE", "not a SOAP 1.1 Envelope")
    sec = root.find("soap:Header/wsse:Security", NS)
    body = root.find("soap:Body", NS)
    if sec is None or body is None:
        raise SoapRejected("JGZ-WSS-MISSING", "SOAP Header/wsse:Security or Body missing")
    # signxml resolves "#x" by any attribute whose local name is Id: all of them must be unique.
    ids = [v for el in root.iter() if isinstance(el.tag, str) for k, v in el.attrib.items() if etree.QName(k).localname == "Id"]
    if len(ids) != len(set(ids)):
        raise SoapRejected("JGZ-WSS-WRAPPED", "duplicate wsu:Id values")
    bst, ts = sec.findall("wsse:BinarySecurityToken", NS), sec.findall("wsu:Timestamp", NS)
    sigs = root.findall(".//ds:Signature", NS)
    envelope_sigs = [s for s in sigs if s.getparent() is sec]
    if len(bst) > 1 or len(ts) != 1 or len(envelope_sigs) != 1:
        raise SoapRejected("JGZ-WSS-MISSING", "wsse:Security needs exactly one Timestamp and Signature, and at most "
                                              "one BinarySecurityToken")
    sig = envelope_sigs[0]
    refs = [r.get("URI") for r in sig.findall("ds:SignedInfo/ds:Reference", NS)]
    required = {f"#{ts[0].get(_ID)}", f"#{body.get(_ID)}"}
    # Beside them WS-Security stacks may sign the token and header blocks (WS-Addressing), never
    # anything inside the Body: what is read from the Body is the Body's signed content.
    optional = {f"#{el.get(_ID)}" for el in (*bst, *root.find("soap:Header", NS)) if isinstance(el.tag, str) and el.get(_ID)}
    if (None in (ts[0].get(_ID), body.get(_ID)) or len(set(refs)) != len(refs) or not required <= set(refs)
            or not set(refs) <= required | optional):
        raise SoapRejected("JGZ-WSS-REFERENCE", "signature must cover the Timestamp and the Body, and beside them "
                                                f"only the token or SOAP header blocks; it covers {refs}")
    for el in sig.iter(f"{{{signing.DS}}}SignatureMethod", f"{{{signing.DS}}}DigestMethod", f"{{{signing.DS}}}CanonicalizationMethod"):
        allowed = {"SignatureMethod": signing.SIGNATURE_METHODS, "DigestMethod": signing.DIGEST_METHODS,
                   "CanonicalizationMethod": {signing.EXC_C14N}}[etree.QName(el).localname]
        if el.get("Algorithm") not in allowed:
            raise SoapRejected("JGZ-WSS-ALGORITHM", f"{etree.QName(el).localname} {el.get('Algorithm')!r} is not allowed")
    for t in sig.iter(f"{{{signing.DS}}}Transform"):
        if t.get("Algorithm") != signing.EXC_C14N:
            raise SoapRejected("JGZ-WSS-ALGORITHM", f"transform {t.get('Algorithm')!r} is not allowed")
    cert, intermediates = _token(bst, sig)
    try:
        identity = trust.validate(cert, intermediates, at=now)
    except CertificateRejected as exc:
        raise SoapRejected("JGZ-WSS-TOKEN", f"the signer's certificate is rejected: {exc}") from None
    _check_timestamp(ts[0], now)
    config = SignatureConfiguration(
        location="./{%s}Header/{%s}Security/" % (SOAP, WSSE), expect_references=len(refs),
        signature_methods=frozenset(m for m in SignatureMethod if m.value in signing.SIGNATURE_METHODS),
        digest_algorithms=frozenset(d for d in DigestAlgorithm if d.value in signing.DIGEST_METHODS),
        verification_time=now,
    )
    try:
        results = signing.verifier().verify(root, x509_cert=cert, id_attribute="Id", expect_config=config)
    except (SignXMLException, ValueError, etree.DocumentInvalid) as exc:
        raise SoapRejected("JGZ-WSS-SIGNATURE", f"WS-Security signature does not verify: {exc}") from None
    signed_body = next((r.signed_xml for r in results if r.signed_xml is not None and r.signed_xml.tag == f"{{{SOAP}}}Body"), None)
    if signed_body is None or len(signed_body) != 1 or len(body) != 1:
        raise SoapRejected("JGZ-SOAP-BODY", "the signed Body must hold exactly one message")
    # The DOB keeps the declarations exclusive c14n of the Body dropped (prefixes used only in
    # xsi:type values, or listed in the DOB's own signature's PrefixList): that signature, which
    # the receiving path checks next, was made over the DOB as the sender declared it.
    received = body[0]
    parent = received.getparent().nsmap
    own = {p for p, uri in received.nsmap.items() if parent.get(p) != uri}
    dob = signing.bind_prefixes(signed_body[0], received, own | signing.unbound_type_prefixes(signed_body[0]))
    return etree.tostring(dob, encoding="UTF-8", xml_declaration=True), identity


def _token(bst: list, sig: etree._Element) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """The signer's certificate and the intermediates sent with it: the BinarySecurityToken, or
    (AORTA allows either) the certificates in the signature's ``KeyInfo/X509Data``."""
    if bst:
        try:
            return x509.load_der_x509_certificate(base64.b64decode("".join((bst[0].text or "").split()), validate=True)), []
        except ValueError as exc:
            raise SoapRejected("JGZ-WSS-TOKEN", f"BinarySecurityToken is not a certificate: {exc}") from None
    try:
        chain = signing.certificates(sig)
        leaf = signing.end_entity(chain)
    except signing.SignatureRejected as exc:
        raise SoapRejected("JGZ-WSS-TOKEN", f"no BinarySecurityToken, and ds:KeyInfo gives no certificate: {exc.message}") from None
    return leaf, [c for c in chain if c is not leaf]


def _instant(text: str | None) -> dt.datetime:
    """An xs:dateTime with its time zone (``2026-11-25T07:26:04Z``; WS-Security stacks add
    milliseconds, ``…04.123Z``), in UTC; a time without zone is refused."""
    found = dt.datetime.fromisoformat((text or "").strip())
    if found.tzinfo is None:
        raise ValueError("no time zone")
    return found.astimezone(dt.timezone.utc)


def _check_timestamp(ts: etree._Element, now: dt.datetime) -> None:
    expires_text = ts.findtext("wsu:Expires", namespaces=NS)
    try:
        created = _instant(ts.findtext("wsu:Created", namespaces=NS))
        expires = _instant(expires_text) if expires_text is not None else created + WINDOW  # Expires is optional
    except ValueError:
        raise SoapRejected("JGZ-WSS-TIMESTAMP", "Timestamp Created/Expires must be xs:dateTime with a time zone "
                                                "(YYYY-MM-DDThh:mm:ss[.sss]Z)") from None
    if expires - created > WINDOW:
        raise SoapRejected("JGZ-WSS-TIMESTAMP", f"Timestamp window {expires - created} exceeds {WINDOW}")
    if created > now + SKEW:
        raise SoapRejected("JGZ-WSS-TIMESTAMP", f"Timestamp created {created:%Y-%m-%dT%H:%M:%SZ} lies in the future")
    if expires <= now:
        raise SoapRejected("JGZ-WSS-TIMESTAMP", f"Timestamp expired at {expires:%Y-%m-%dT%H:%M:%SZ}")


def receive(receiver, data: bytes, peer_cert: x509.Certificate | None, peer: str | None) -> bytes:
    """Server side: unwrap, bind the token to the TLS identity, receive, answer the ack in a SOAP Body."""
    from ...standards.hl7v3.ack import Detail
    from ..receiver import _Reject

    now = receiver.clock()
    tls_ura = None
    try:
        tls_ura = receiver._tls_identity(peer_cert)
        try:
            message, identity = unwrap(data, receiver.trust.current(), now)
        except xmlsafe.XmlRejected as exc:
            raise _Reject([Detail(exc.rule, exc.message)]) from None
        except SoapRejected as exc:
            raise _Reject([Detail(exc.rule, exc.message)]) from None
        if tls_ura != identity.ura:
            raise _Reject([Detail("JGZ-IDENTITY", f"WS-Security token URA {identity.ura} differs from TLS URA {tls_ura}")],
                          "authz-failure")
    except _Reject as rej:
        ack = receiver._reject(rej, ("", None), "", tls_ura, peer).ack
    else:
        ack = receiver.receive(message, peer_cert, peer, signed_by=identity).ack
    return etree.tostring(envelope(ack), xml_declaration=True, encoding="UTF-8")


class SoapTransport:
    def __init__(self, tls, *, key, chain: list[x509.Certificate], timeout: float = 60.0, clock=None):
        from ...store import utcnow

        self._clients = Clients(tls, timeout)
        self._key, self._chain, self._clock = key, chain, clock or utcnow

    def deliver(self, message: bytes, endpoint: Endpoint) -> bytes:
        data = wrap(message, self._key, self._chain, self._clock())
        try:
            answer = post(self._clients.get(), endpoint, data, {"content-type": CONTENT_TYPE, "SOAPAction": '"urn:hl7-org:v3:REPC_IN902120"'})
        except DeliveryError as exc:  # a SOAP Fault comes with HTTP 500: say what it was
            fault = fault_of(exc.body) if exc.body else None
            if fault is None:
                raise
            raise DeliveryError(f"{exc}: {fault}", retryable=exc.retryable) from None
        return answer_of(answer)

    def close(self) -> None:
        self._clients.close()


def answer_of(answer: bytes) -> bytes:
    """The acknowledgement in a SOAP answer's Body; a SOAP Fault is a delivery error naming its code and reason."""
    body = _body(answer)
    if len(body) != 1:
        raise DeliveryError("SOAP answer has no Body with one element")
    fault = _fault(body[0])
    if fault is not None:
        raise DeliveryError(fault)
    return etree.tostring(body[0], encoding="UTF-8", xml_declaration=True)


def fault_of(answer: bytes) -> str | None:
    """``SOAP Fault <faultcode>: <faultstring>`` when ``answer`` is a SOAP Fault, else None."""
    try:
        body = _body(answer, max_bytes=1024 * 1024)
    except DeliveryError:
        return None
    return _fault(body[0]) if len(body) else None


def _body(answer: bytes, max_bytes: int = xmlsafe.MAX_BYTES) -> etree._Element:
    """A SOAP answer's Body, or a delivery error saying why there is none."""
    try:
        root = xmlsafe.parse_bytes(answer, max_bytes=max_bytes).getroot()
    except xmlsafe.XmlRejected as exc:
        raise DeliveryError(f"SOAP answer is not acceptable XML: {exc.message}") from None
    body = root.find("soap:Body", NS)
    if root.tag != f"{{{SOAP}}}Envelope" or body is None:
        raise DeliveryError("SOAP answer has no Body with one element")
    return body


def _fault(el: etree._Element) -> str | None:
    if el.tag != f"{{{SOAP}}}Fault":
        return None
    code, reason = (" ".join((el.findtext(name) or "").split()) for name in ("faultcode", "faultstring"))
    return f"SOAP Fault {code or '(no faultcode)'}: {reason[:300] or '(no faultstring)'}"
