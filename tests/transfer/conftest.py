"""Shared fixtures: one test PKI per session (RSA-2048 for speed), the reference messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from jgz_gateway.transfer.pki import TestPki

SHARED = Path(__file__).resolve().parents[3] / "shared"  # shared/ sits beside the checkout
EXAMPLES = SHARED / "reference" / "hl7v3" / "examples"
KWAL_VERSTUREN = EXAMPLES / "nl04-jgz8.0" / "DOB-4.0.0-KWAL_versturen_hl7.xml"
KWAL_ONTVANGEN = EXAMPLES / "nl04-jgz8.0" / "DOB-4.0.0-KWAL_ontvangen_hl7.xml"
SCHEMAS = SHARED / "reference" / "hl7v3" / "schemas" / "hl7v3_schemas"

URA_A = "00001111"  # the sender in the Nictiz qualification messages
URA_B = "12345678"


class Org:
    def __init__(self, pki: TestPki, ura: str):
        self.ura = ura
        self.pki = pki
        self.chain = x509.load_pem_x509_certificates(pki.chain(ura).read_bytes())
        self.cert = self.chain[0]
        self.key = serialization.load_pem_private_key(pki.key(ura).read_bytes(), None)


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> TestPki:
    return TestPki.init(tmp_path_factory.mktemp("pki"), [(URA_A, "GGD Groningen"), (URA_B, "GGD Testregio")], key_size=2048)


@pytest.fixture(scope="session")
def org_a(pki) -> Org:
    return Org(pki, URA_A)


@pytest.fixture(scope="session")
def org_b(pki) -> Org:
    return Org(pki, URA_B)


@pytest.fixture(scope="session")
def trust(pki):
    return pki.truststore()


@pytest.fixture(scope="session")
def kwal_bytes() -> bytes:
    return KWAL_VERSTUREN.read_bytes()
