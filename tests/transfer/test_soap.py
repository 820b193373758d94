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
