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


# --- databases: SQLite always, PostgreSQL when configured -----------------------------

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """URL of the throwaway PostgreSQL server (``$JGZ_TEST_POSTGRES_URL``, or started by
    ``scripts/postgres.sh`` when ``JGZ_TEST_POSTGRES=1``); the test is skipped without one."""
    import os
    import subprocess

    url = os.environ.get("JGZ_TEST_POSTGRES_URL")
    if not url and os.environ.get("JGZ_TEST_POSTGRES") == "1":
        url = subprocess.run([str(ROOT / "scripts" / "postgres.sh")], check=True, capture_output=True, text=True).stdout.strip()
    if not url:
        pytest.skip("no PostgreSQL: set JGZ_TEST_POSTGRES=1 or JGZ_TEST_POSTGRES_URL (scripts/test.sh does)")
    return url


class Databases:
    """Fresh databases for one test or module: a SQLite file, or a new PostgreSQL database."""

    def __init__(self, tmp: Path, server: str | None):
        self.tmp, self.server, self.created = tmp, server, []

    def url(self, backend: str, name: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.db')}"
        import uuid

        from sqlalchemy import create_engine, text

        db = f"jgz_{name}_{uuid.uuid4().hex[:8]}".lower()
        engine = create_engine(self.server, isolation_level="AUTOCOMMIT")
        with engine.connect() as c:
            c.execute(text(f'CREATE DATABASE "{db}"'))
        engine.dispose()
        self.created.append(db)
        return self.server.rsplit("/", 1)[0] + "/" + db

    def drop(self) -> None:
        if not self.created:
            return
        from sqlalchemy import create_engine, text

        engine = create_engine(self.server, isolation_level="AUTOCOMMIT")
        with engine.connect() as c:
            for db in self.created:
                c.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        engine.dispose()


def databases_for(request, tmp: Path) -> Databases:
    """The :class:`Databases` of a test parametrised with a backend (``request.param``)."""
    server = request.getfixturevalue("postgres_server") if request.param == "postgres" else None
    dbs = Databases(tmp, server)
    request.addfinalizer(dbs.drop)
    return dbs
