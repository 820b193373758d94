"""Test PKI and trust-anchor validation: who may speak for a URA."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509

from jgz_gateway.transfer import pki as P
from jgz_gateway.transfer.pki import CertificateRejected, TrustStore, UziIdentity

from .conftest import URA_A


def test_layout_and_uzi_identity(pki, org_a, trust):
    for f in ("root.crt", "ca.crt", "trust-anchors.pem", "crl.pem"):
        assert (pki.root_dir / f).exists()
    assert oct(pki.key(URA_A).stat().st_mode & 0o777) == "0o600"
    ident = trust.validate(org_a.cert)
    assert ident == UziIdentity.from_certificate(org_a.cert)
    assert (ident.ura, ident.card_type, ident.ca_oid) == (URA_A, "S", P.UZI_SERVER_CA_OID)
    assert str(ident) == f"2.16.528.1.1003.1.3.5.5.5-1-9{URA_A}-S-{URA_A}-00.000-00000000"
    ku = org_a.cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.key_encipherment
    eku = org_a.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {x509.oid.ExtendedKeyUsageOID.SERVER_AUTH, x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH}
    ca = x509.load_pem_x509_certificate((pki.root_dir / "ca.crt").read_bytes())
    assert "UZI-register Server CA" in ca.subject.rfc4514_string()


def test_uzi_parse_rejects_malformed():
    ok = UziIdentity.parse("2.16.528.1.1003.1.3.5.5.2-1-12345678-Z-90000123-01.015-00000000")
    assert ok.card_type == "Z" and ok.ura == "90000123" and ok.role == "01.015"
    for bad in ("", "2.16.528-1-1-S-1234567-00.000-00000000", "x-1-1-S-12345678-00.000-00000000",
                "2.16.528.1-1-1-Q-12345678-00.000-00000000"):
        with pytest.raises(CertificateRejected):
            UziIdentity.parse(bad)


def _ca(pki):
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate((pki.root_dir / "ca.crt").read_bytes())
    key = serialization.load_pem_private_key((pki.root_dir / "ca.key").read_bytes(), None)
    return P.Issued(cert, key)


NOW = dt.datetime.now(dt.timezone.utc)


@pytest.mark.parametrize(
    "case, reason",
    [
        ("self-signed", "self-signed"),
        ("unknown CA", "does not chain"),
        ("expired", "not valid at validation time"),
        ("not yet valid", "not valid at validation time"),
        ("pass instead of server", "not a server certificate"),
        ("no SAN", "missing required extension"),
        ("two UZI names", "carries 2"),
    ],
)
def test_rejections(pki, trust, case, reason):
    ca = _ca(pki)
    kw = dict(key_size=2048)
    if case == "self-signed":
        cert = P.make_root(2048).cert
    elif case == "unknown CA":
        other = P.make_intermediate(P.make_root(2048), 2048)
        cert = P.make_server_cert(other, "11112222", "Elsewhere", **kw).cert
    elif case == "expired":
        cert = P.make_server_cert(ca, "11112222", "Old", not_before=NOW - dt.timedelta(days=800),
                                  not_after=NOW - dt.timedelta(days=1), **kw).cert
    elif case == "not yet valid":
        cert = P.make_server_cert(ca, "11112222", "New", not_before=NOW + dt.timedelta(days=2), **kw).cert
    elif case == "pass instead of server":
        cert = P.make_server_cert(ca, "11112222", "Pas", uzi=P.uzi_string("11112222", card_type="Z"), **kw).cert
    elif case == "no SAN":
        cert = _without_san(ca)
    else:
        cert = _two_uzi(ca)
    with pytest.raises(CertificateRejected, match=reason):
        trust.validate(cert)


def _without_san(ca):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = P.make_server_cert(ca, "11112222", "x", key=key)
    b = (x509.CertificateBuilder().subject_name(good.cert.subject).issuer_name(good.cert.issuer)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(good.cert.not_valid_before_utc).not_valid_after(good.cert.not_valid_after_utc))
    for ext in good.cert.extensions:
        if not isinstance(ext.value, x509.SubjectAlternativeName):
            b = b.add_extension(ext.value, ext.critical)
    return b.sign(ca.key, hashes.SHA256())


def _two_uzi(ca):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = P.make_server_cert(ca, "11112222", "x", key=key)
    san = x509.SubjectAlternativeName([
        x509.OtherName(P.UZI_OTHERNAME_OID, P._ia5_encode(P.uzi_string("11112222"))),
        x509.OtherName(P.UZI_OTHERNAME_OID, P._ia5_encode(P.uzi_string("22223333"))),
        x509.DNSName("localhost"),
    ])
    b = (x509.CertificateBuilder().subject_name(good.cert.subject).issuer_name(good.cert.issuer)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(good.cert.not_valid_before_utc).not_valid_after(good.cert.not_valid_after_utc))
    for ext in good.cert.extensions:
        b = b.add_extension(san if isinstance(ext.value, x509.SubjectAlternativeName) else ext.value, ext.critical)
    return b.sign(ca.key, hashes.SHA256())


def test_revocation_and_crl_freshness(tmp_path):
    pki = P.TestPki.init(tmp_path / "pki", [("22223333", "GGD R"), ("33334444", "GGD S")], key_size=2048)
    victim = x509.load_pem_x509_certificate(pki.cert("22223333").read_bytes())
    other = x509.load_pem_x509_certificate(pki.cert("33334444").read_bytes())
    assert pki.truststore().validate(victim).ura == "22223333"
    pki.revoke(victim)
    store = pki.truststore()
    with pytest.raises(CertificateRejected, match="revoked"):
        store.validate(victim)
    assert store.validate(other).ura == "33334444"
    # Fail closed: a stale CRL, or none at all, rejects.
    with pytest.raises(CertificateRejected, match="stale"):
        store.validate(other, at=NOW + dt.timedelta(days=30))
    no_crl = TrustStore.from_pem(pki.anchors.read_bytes())
    with pytest.raises(CertificateRejected, match="no valid CRL"):
        no_crl.validate(other)
    # A CRL signed by someone else does not count.
    forged = P.make_crl(P.make_intermediate(P.make_root(2048), 2048))
    with pytest.raises(CertificateRejected, match="no valid CRL"):
        TrustStore.from_pem(pki.anchors.read_bytes(), P.crl_pem(forged)).validate(other)


def test_trust_anchor_must_be_self_signed_ca(pki, org_a):
    with pytest.raises(ValueError, match="no trust anchors"):
        TrustStore.from_pem(org_a.pki.chain(URA_A).read_bytes())  # leaf + intermediate only
    with pytest.raises(ValueError, match="no trust anchors"):
        TrustStore([])


def test_init_refuses_to_overwrite(pki):
    with pytest.raises(FileExistsError):
        P.TestPki.init(pki.root_dir, [("99998888", "x")], key_size=2048)


def test_cli_certs_init(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    jgz = str(Path(sys.executable).with_name("jgz"))
    out = subprocess.run([jgz, "certs", "init", str(tmp_path / "p"), "--org", "00001111:GGD Een", "--org", "12345678:GGD Twee",
                          "--key-size", "2048"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    store = P.TestPki(tmp_path / "p").truststore()
    for ura in ("00001111", "12345678"):
        chain = x509.load_pem_x509_certificates((tmp_path / "p" / "orgs" / ura / "chain.pem").read_bytes())
        assert store.validate(chain[0], chain[1:]).ura == ura
    bad = subprocess.run([jgz, "certs", "init", str(tmp_path / "q"), "--org", "123:x"], capture_output=True, text=True)
    assert bad.returncode == 2 and "8-digit URA" in bad.stderr and "Traceback" not in bad.stderr
