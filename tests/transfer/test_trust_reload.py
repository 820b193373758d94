"""Trust anchors and CRLs reloaded on an interval in a running gateway; fail closed on a stale CRL (G8)."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509

from jgz_gateway.transfer import pki as P
from jgz_gateway.transfer.pki import CertificateRejected
from jgz_gateway.transfer.transports import DeliveryError, Endpoint, client_tls_context
from jgz_gateway.transfer.transports.https import HttpsTransport
from jgz_gateway.transfer.trust import TrustSource

A, B, C = "00001111", "12345678", "33334444"
#: How a client sees a refused TLS 1.3 client certificate: the server's alert on the first read.
REFUSED = "revoked|expired|disconnected"


@pytest.fixture()
def own_pki(tmp_path) -> P.TestPki:
    """A PKI of this test's own: it gets revoked and its CRLs go stale."""
    return P.TestPki.init(tmp_path / "pki", [(A, "GGD A"), (B, "GGD B"), (C, "GGD C")], key_size=2048)


def _cert(pki, ura) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pki.cert(ura).read_bytes())


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_reloaded_after_the_interval_only(own_pki):
    clock = Clock()
    source = TrustSource(str(own_pki.anchors), [str(own_pki.crl)], interval=3600, clock=clock)
    assert source.current().validate(_cert(own_pki, A)).ura == A
    own_pki.revoke(_cert(own_pki, A))
    clock.now = 3599
    assert source.current().validate(_cert(own_pki, A)).ura == A and source.generation == 1
    clock.now = 3600
    with pytest.raises(CertificateRejected, match="revoked"):
        source.current().validate(_cert(own_pki, A))
    assert source.generation == 2 and source.current().validate(_cert(own_pki, B)).ura == B


def test_a_bad_reload_keeps_the_previous_trust(own_pki, caplog):
    clock = Clock()
    source = TrustSource(str(own_pki.anchors), [str(own_pki.crl)], interval=60, clock=clock)
    good = own_pki.crl.read_bytes()
    for broken in (b"", good[: len(good) // 2], b"-----BEGIN X509 CRL-----\nnonsense\n-----END X509 CRL-----\n"):
        own_pki.crl.write_bytes(broken)
        clock.now += 60
        with caplog.at_level(logging.ERROR, logger="jgz.transfer"):
            assert source.current().validate(_cert(own_pki, A)).ura == A
        assert "keeping the previous ones" in caplog.text
        caplog.clear()
    assert source.generation == 1


def test_stale_crl_fails_closed(own_pki):
    """Whatever the reloads did, a CRL past its nextUpdate rejects what it covers."""
    own_pki.reissue_crls(next_update=dt.timedelta(hours=1))
    source = TrustSource(str(own_pki.anchors), [str(own_pki.crl)], interval=60)
    now = dt.datetime.now(dt.timezone.utc)
    assert source.current().validate(_cert(own_pki, A), at=now).ura == A
    with pytest.raises(CertificateRejected, match="stale"):
        source.current().validate(_cert(own_pki, A), at=now + dt.timedelta(hours=2))


# --- a running gateway ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def gateway(own_pki, tmp_path):
    """``jgz serve`` for B, re-reading its trust every second."""
    port = _free_port()
    cfg = tmp_path / "b.toml"
    cfg.write_text("\n".join([
        f'ura = "{B}"', 'application_id = "5678"', f'cert_file = "{own_pki.chain(B)}"', f'key_file = "{own_pki.key(B)}"',
        f'trust_anchors = "{own_pki.anchors}"', f'crl_files = ["{own_pki.crl}"]',
        f'database_url = "sqlite:///{tmp_path / "b.db"}"', f"listen_port = {port}", "trust_reload_seconds = 1",
    ]) + "\n")
    jgz = str(Path(sys.executable).with_name("jgz"))
    proc = subprocess.Popen([jgz, "serve", "--config", str(cfg), "--no-worker"], stdout=subprocess.DEVNULL,
                            stderr=open(tmp_path / "b.log", "wb"))
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert proc.poll() is None and time.time() < deadline, (tmp_path / "b.log").read_text()[-2000:]
            time.sleep(0.1)
    yield f"https://127.0.0.1:{port}/dossiers"
    proc.terminate()
    proc.wait(15)


def _handshake(pki, url, ura=A) -> None:
    """A TLS handshake with B and one request, by ``ura``; DeliveryError when refused.

    The client checks no CRL of its own, so a refusal can only be B's.
    """
    ctx = client_tls_context(str(pki.chain(ura)), str(pki.key(ura)), str(pki.anchors), [])
    transport = HttpsTransport(ctx)
    try:
        transport.deliver(b"", Endpoint(url, B))  # B answers the empty POST with 405: TLS went through
    finally:
        transport.close()


def test_running_gateway_picks_up_a_revocation(own_pki, gateway):
    _handshake(own_pki, gateway)
    own_pki.revoke(_cert(own_pki, A))
    time.sleep(1.2)
    with pytest.raises(DeliveryError, match=REFUSED):
        _handshake(own_pki, gateway)
    _handshake(own_pki, gateway, C)  # the others still get in


def test_running_gateway_fails_closed_on_a_stale_crl_and_recovers(own_pki, gateway):
    own_pki.reissue_crls(next_update=dt.timedelta(seconds=4))
    time.sleep(1.2)
    _handshake(own_pki, gateway)  # reloaded, still fresh
    time.sleep(3.5)
    for ura in (A, C):  # nothing newer to load: B refuses everyone
        with pytest.raises(DeliveryError, match=REFUSED):
            _handshake(own_pki, gateway, ura)
    own_pki.reissue_crls()
    time.sleep(1.2)
    _handshake(own_pki, gateway)


def test_outgoing_connections_follow_the_reloads(own_pki):
    """The sender's httpx client is rebuilt on the new TLS context once the trust was reloaded."""
    from jgz_gateway.transfer.transports.base import Clients

    clock = Clock()
    source = TrustSource(str(own_pki.anchors), [str(own_pki.crl)], cert_file=str(own_pki.chain(A)),
                         key_file=str(own_pki.key(A)), interval=60, clock=clock)
    clients = Clients(source.client_context, timeout=5)
    first = clients.get()
    assert clients.get() is first
    clock.now = 60
    second = clients.get()
    assert second is not first and first.is_closed and clients.get() is second
    clients.close()
