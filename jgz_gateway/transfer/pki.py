"""Certificates: the test PKI, UZI identities, and trust-anchor validation.

Who an organisation is comes from its UZI server certificate: the subscriber
number (URA) in the UZI ``otherName`` of the subjectAltName. That identity counts
only after the certificate chains to a configured trust anchor (cryptography's
X.509 verifier does the chain, validity and extension checks), is not revoked
(CRL, fail closed when missing or stale), and is a server certificate (pass type
``S``). A self-signed certificate is never trusted.

The test PKI mirrors production: a root (stand-in for "Staat der Nederlanden
Private Root CA - G1"), an intermediate modelled on "UZI-register Server CA",
and per organisation a server certificate usable for TLS (both directions) and
for signing messages. It is for tests only: never a production key.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store, VerificationError

#: UZI ``otherName`` type id in subjectAltName (IA5String value).
UZI_OTHERNAME_OID = x509.ObjectIdentifier("2.5.5.5")
#: OID of the UZI-register Server CA, first field of a server certificate's UZI string.
UZI_SERVER_CA_OID = "2.16.528.1.1003.1.3.5.5.5"
_UZI_RE = re.compile(
    r"^(?P<ca_oid>[0-9]+(?:\.[0-9]+)+)-(?P<version>[0-9]+)-(?P<uzi>[0-9]+)-(?P<type>[ZNMS])-"
    r"(?P<subscriber>[0-9]{8})-(?P<role>[0-9]{2}\.[0-9]{3})-(?P<agb>[0-9]{8})$"
)
_URA_RE = re.compile(r"^[0-9]{8}$")


class CertificateRejected(Exception):
    """A certificate is not acceptable as an organisation's identity; the message says why."""


@dataclass(frozen=True)
class UziIdentity:
    """The fields of a UZI ``otherName``: ``<CA-OID>-<version>-<UZI-nr>-<type>-<URA>-<role>-<AGB>``."""

    ca_oid: str
    version: str
    uzi_number: str
    card_type: str
    ura: str
    role: str
    agb: str

    @classmethod
    def parse(cls, value: str) -> UziIdentity:
        m = _UZI_RE.match(value)
        if not m:
            raise CertificateRejected(f"UZI otherName {value!r} is not <CA-OID>-<version>-<UZI-nr>-<type>-<URA>-<role>-<AGB>")
        return cls(m["ca_oid"], m["version"], m["uzi"], m["type"], m["subscriber"], m["role"], m["agb"])

    @classmethod
    def from_certificate(cls, cert: x509.Certificate) -> UziIdentity:
        """The UZI identity in ``cert``'s subjectAltName (exactly one UZI otherName)."""
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            raise CertificateRejected(f"certificate {_describe(cert)} has no subjectAltName (no UZI identity)") from None
        values = [n.value for n in san.get_values_for_type(x509.OtherName) if n.type_id == UZI_OTHERNAME_OID]
        if len(values) != 1:
            raise CertificateRejected(f"certificate {_describe(cert)} carries {len(values)} UZI otherNames; expected 1")
        return cls.parse(_ia5_decode(values[0]))

    def __str__(self) -> str:
        return f"{self.ca_oid}-{self.version}-{self.uzi_number}-{self.card_type}-{self.ura}-{self.role}-{self.agb}"


def _ia5_encode(text: str) -> bytes:
    raw = text.encode("ascii")
    if len(raw) >= 128:
        raise ValueError("UZI otherName too long")
    return bytes([0x16, len(raw)]) + raw  # DER IA5String, short form length


def _ia5_decode(der: bytes) -> str:
    if len(der) < 2 or der[0] != 0x16 or der[1] >= 0x80 or len(der) != 2 + der[1]:
        raise CertificateRejected("UZI otherName is not a DER IA5String")
    try:
        return der[2:].decode("ascii")
    except UnicodeDecodeError:
        raise CertificateRejected("UZI otherName is not ASCII") from None


def _describe(cert: x509.Certificate) -> str:
    return f"'{cert.subject.rfc4514_string()}' (serial {cert.serial_number:x})"


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
        return True
    except (ValueError, TypeError, Exception):  # noqa: BLE001 - any failure means "not self-signed"
        return False


# --- trust-anchor validation -------------------------------------------------------


def _require_digital_signature(_policy, _cert, ku: x509.KeyUsage | None) -> None:
    if ku is None or not ku.digital_signature:
        raise ValueError("KeyUsage must include digitalSignature")


@dataclass
class TrustStore:
    """Trust anchors (self-signed roots), known intermediates and CRLs.

    ``validate`` answers one question: may this certificate speak for the URA in
    it, at this time? ``require_crl`` makes a missing or stale CRL a rejection
    (fail closed), as production demands.
    """

    anchors: list[x509.Certificate]
    intermediates: list[x509.Certificate] = field(default_factory=list)
    crls: list[x509.CertificateRevocationList] = field(default_factory=list)
    require_crl: bool = True

    def __post_init__(self) -> None:
        if not self.anchors:
            raise ValueError("no trust anchors configured")
        for cert in self.anchors:
            bc = _basic_constraints(cert)
            if not (_self_signed(cert) and bc is not None and bc.ca):
                raise ValueError(f"trust anchor {_describe(cert)} is not a self-signed CA certificate")
        self._store = Store(self.anchors)
        self._ee_policy = ExtensionPolicy.webpki_defaults_ee().require_present(
            x509.KeyUsage, Criticality.AGNOSTIC, _require_digital_signature
        )

    @classmethod
    def from_pem(cls, bundle: bytes, crls: bytes = b"", *, require_crl: bool = True) -> TrustStore:
        """Split a PEM bundle into roots (self-signed) and intermediates; load PEM CRLs."""
        certs = x509.load_pem_x509_certificates(bundle) if bundle.strip() else []
        anchors = [c for c in certs if _self_signed(c)]
        inter = [c for c in certs if not _self_signed(c)]
        return cls(anchors, inter, load_crls(crls), require_crl=require_crl)

    @classmethod
    def from_files(cls, anchors: Path | str, crl_files=(), *, require_crl: bool = True) -> TrustStore:
        crl_bytes = b"".join(Path(p).read_bytes() for p in crl_files)
        return cls.from_pem(Path(anchors).read_bytes(), crl_bytes, require_crl=require_crl)

    def validate(
        self,
        cert: x509.Certificate,
        chain: list[x509.Certificate] | tuple = (),
        *,
        at: dt.datetime | None = None,
    ) -> UziIdentity:
        """Check ``cert`` (with optional untrusted ``chain``) and return its UZI identity.

        Raises :class:`CertificateRejected` naming the reason.
        """
        at = at or dt.datetime.now(dt.timezone.utc)
        if _self_signed(cert):
            raise CertificateRejected(f"certificate {_describe(cert)} is self-signed; self-signed certificates are never trusted")
        builder = (
            PolicyBuilder()
            .store(self._store)
            .time(at)
            .max_chain_depth(4)
            .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=self._ee_policy)
        )
        try:
            verified = builder.build_client_verifier().verify(cert, list(chain) + self.intermediates)
        except VerificationError as exc:
            raise CertificateRejected(f"certificate {_describe(cert)} does not chain to a trust anchor: {exc}") from None
        self._check_revocation(verified.chain, at)
        identity = UziIdentity.from_certificate(cert)
        if identity.card_type != "S":
            raise CertificateRejected(f"certificate {_describe(cert)} is a UZI pass of type {identity.card_type}, not a server certificate (S)")
        return identity

    def _check_revocation(self, chain: list[x509.Certificate], at: dt.datetime) -> None:
        for cert, issuer in zip(chain, chain[1:]):
            crl = self._crl_for(issuer)
            if crl is None:
                if self.require_crl:
                    raise CertificateRejected(f"no valid CRL from issuer '{issuer.subject.rfc4514_string()}'; cannot check revocation")
                continue
            if crl.next_update_utc is not None and crl.next_update_utc < at:
                raise CertificateRejected(
                    f"CRL of '{issuer.subject.rfc4514_string()}' is stale (next update {crl.next_update_utc:%Y-%m-%d %H:%M}Z)"
                )
            if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
                raise CertificateRejected(f"certificate {_describe(cert)} is revoked")

    def missing_crls(self) -> list[str]:
        """CA certificates (anchors and intermediates) without a CRL signed by them."""
        return [ca.subject.rfc4514_string() for ca in self.anchors + self.intermediates if self._crl_for(ca) is None]

    def _crl_for(self, issuer: x509.Certificate) -> x509.CertificateRevocationList | None:
        for crl in self.crls:
            if crl.issuer == issuer.subject and crl.is_signature_valid(issuer.public_key()):
                return crl
        return None


def _basic_constraints(cert: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


def load_crls(data: bytes) -> list[x509.CertificateRevocationList]:
    """All PEM CRLs in ``data``."""
    out = []
    for block in re.findall(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", data, re.S):
        out.append(x509.load_pem_x509_crl(block))
    return out


def load_certificate(data: bytes) -> x509.Certificate:
    """A PEM or DER certificate."""
    return x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)


# --- the test PKI -------------------------------------------------------------------

ROOT_NAME = "TEST Staat der Nederlanden Private Root CA - G1"
CA_NAME = "TEST UZI-register Server CA"


@dataclass
class Issued:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _name(cn: str, org: str = "jgz-gateway TEST PKI (never production)") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _ski(key) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def make_root(key_size: int = 4096, *, now: dt.datetime | None = None) -> Issued:
    now = now or _now()
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = _name(ROOT_NAME)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(_ski(key), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
    )


def make_intermediate(root: Issued, key_size: int = 4096, *, now: dt.datetime | None = None) -> Issued:
    now = now or _now()
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(CA_NAME))
        .issuer_name(root.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1825))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(_ski(key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()), critical=False)
        .sign(root.key, hashes.SHA256())
    )
    return Issued(cert, key)


def uzi_string(ura: str, *, uzi_number: str = "", agb: str = "00000000", card_type: str = "S") -> str:
    """The UZI otherName of a server certificate for ``ura``."""
    if not _URA_RE.match(ura):
        raise ValueError(f"URA {ura!r} must be 8 digits")
    uzi_number = uzi_number or f"9{ura}"
    return f"{UZI_SERVER_CA_OID}-1-{uzi_number}-{card_type}-{ura}-00.000-{agb}"


def make_server_cert(
    ca: Issued,
    ura: str,
    name: str,
    *,
    key_size: int = 4096,
    hostnames: tuple[str, ...] = ("localhost",),
    ip_addresses: tuple[str, ...] = ("127.0.0.1",),
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    uzi: str | None = None,
    key: rsa.RSAPrivateKey | None = None,
) -> Issued:
    """A UZI server certificate for organisation ``ura``: TLS server and client, and signing."""
    import ipaddress

    now = _now()
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    san = [x509.OtherName(UZI_OTHERNAME_OID, _ia5_encode(uzi or uzi_string(ura)))]
    san += [x509.DNSName(h) for h in hostnames]
    san += [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0] if hostnames else name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, ura),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(days=1))
        .not_valid_after(not_after or now + dt.timedelta(days=3 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=True, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(_ski(key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(cert, key)


def make_crl(
    issuer: Issued, revoked: list[int] = (), *, now: dt.datetime | None = None, next_update: dt.timedelta = dt.timedelta(days=7)
) -> x509.CertificateRevocationList:
    now = now or _now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + next_update)
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now - dt.timedelta(minutes=1)).build()
        )
    return builder.sign(issuer.key, hashes.SHA256())


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.PEM)


# --- the on-disk test PKI (``jgz certs init``) -----------------------------------


@dataclass
class TestPki:
    """A test PKI directory. Layout (see certs/README.md)::

    DIR/root.crt root.key ca.crt ca.key trust-anchors.pem crl.pem
    DIR/orgs/<URA>/server.crt server.key chain.pem
    """

    root_dir: Path

    @property
    def anchors(self) -> Path:
        return self.root_dir / "trust-anchors.pem"

    @property
    def crl(self) -> Path:
        return self.root_dir / "crl.pem"

    def org_dir(self, ura: str) -> Path:
        return self.root_dir / "orgs" / ura

    def cert(self, ura: str) -> Path:
        return self.org_dir(ura) / "server.crt"

    def key(self, ura: str) -> Path:
        return self.org_dir(ura) / "server.key"

    def chain(self, ura: str) -> Path:
        return self.org_dir(ura) / "chain.pem"

    def _load(self, stem: str) -> Issued:
        cert = x509.load_pem_x509_certificate((self.root_dir / f"{stem}.crt").read_bytes())
        key = serialization.load_pem_private_key((self.root_dir / f"{stem}.key").read_bytes(), None)
        return Issued(cert, key)  # type: ignore[arg-type]

    def truststore(self, **kw) -> TrustStore:
        return TrustStore.from_files(self.anchors, [self.crl], **kw)

    @classmethod
    def init(cls, directory: Path | str, orgs: list[tuple[str, str]], *, key_size: int = 4096) -> TestPki:
        """Create root, intermediate, CRLs and one server certificate per ``(ura, name)``."""
        pki = cls(Path(directory))
        pki.root_dir.mkdir(parents=True, exist_ok=True)
        if (pki.root_dir / "root.crt").exists():
            raise FileExistsError(f"{pki.root_dir} already holds a test PKI (root.crt exists)")
        root = make_root(key_size)
        ca = make_intermediate(root, key_size)
        for stem, issued in (("root", root), ("ca", ca)):
            _write(pki.root_dir / f"{stem}.crt", issued.cert_pem())
            _write(pki.root_dir / f"{stem}.key", issued.key_pem(), private=True)
        # The bundle carries the root as anchor and the Server CA as known intermediate.
        _write(pki.anchors, root.cert_pem() + ca.cert_pem())
        _write(pki.crl, crl_pem(make_crl(root)) + crl_pem(make_crl(ca)))
        for ura, name in orgs:
            pki.add_org(ura, name, key_size=key_size, _ca=ca)
        return pki

    def add_org(self, ura: str, name: str, *, key_size: int = 4096, _ca: Issued | None = None, **kw) -> Issued:
        ca = _ca or self._load("ca")
        issued = make_server_cert(ca, ura, name, key_size=key_size, **kw)
        d = self.org_dir(ura)
        d.mkdir(parents=True, exist_ok=True)
        _write(d / "server.crt", issued.cert_pem())
        _write(d / "server.key", issued.key_pem(), private=True)
        _write(d / "chain.pem", issued.cert_pem() + ca.cert_pem())
        return issued

    def revoke(self, cert: x509.Certificate) -> None:
        """Add ``cert`` to the CRL of the Server CA (both CRLs re-issued)."""
        self.reissue_crls(extra=[cert.serial_number])

    def reissue_crls(self, *, extra: list[int] = (), next_update: dt.timedelta = dt.timedelta(days=7)) -> None:
        """New CRLs from the root and the Server CA: the revocations so far plus ``extra``,
        valid until ``next_update`` from now."""
        root, ca = self._load("root"), self._load("ca")
        crls = load_crls(self.crl.read_bytes())
        serials = [r.serial_number for c in crls if c.issuer == ca.cert.subject for r in c] + list(extra)
        _write(self.crl, crl_pem(make_crl(root, next_update=next_update))
               + crl_pem(make_crl(ca, serials, next_update=next_update)))


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Replace ``path`` at once (a running gateway may be reading it)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    if private:
        tmp.chmod(0o600)
    tmp.replace(path)
