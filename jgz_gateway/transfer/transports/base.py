"""The transport protocol, delivery errors, and the mutual-TLS client context."""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass
from typing import Callable, Protocol


@dataclass(frozen=True)
class Endpoint:
    """Where to deliver, and which organisation (URA) must answer there."""

    url: str
    ura: str


class DeliveryError(Exception):
    """Delivery did not produce an acknowledgement. ``retryable`` says whether trying later may
    help; ``body`` is what the server answered, if anything (a wire profile may explain it)."""

    def __init__(self, message: str, *, retryable: bool = True, body: bytes | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.body = body


class Transport(Protocol):
    def deliver(self, message: bytes, endpoint: Endpoint) -> bytes:
        """Send one signed DOB; return the MCCI_IN000002 bytes or raise :class:`DeliveryError`."""
        ...

    def close(self) -> None: ...


class Clients:
    """An httpx client on the current TLS context: a new one once the context changes (CRL refresh).

    ``tls`` is a context, or a function returning the context to use now
    (:meth:`~..trust.TrustSource.client_context`).
    """

    def __init__(self, tls: ssl.SSLContext | Callable[[], ssl.SSLContext], timeout: float):
        self._tls = tls if callable(tls) else (lambda: tls)
        self._timeout = timeout
        self._lock = threading.Lock()
        self._ctx = self._client = None

    def get(self):
        import httpx

        ctx = self._tls()
        with self._lock:
            if ctx is not self._ctx:
                old, self._ctx = self._client, ctx
                self._client = httpx.Client(verify=ctx, timeout=self._timeout, http2=False)
                if old is not None:
                    old.close()  # a delivery still running on it may fail: it is retried
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._ctx = self._client = None


def client_tls_context(cert_file: str, key_file: str, trust_anchors: str, crl_files: list[str] = ()) -> ssl.SSLContext:
    """TLS 1.2+ client context presenting our certificate and trusting only the configured anchors."""
    ctx = _tls_context(ssl.PROTOCOL_TLS_CLIENT, cert_file, key_file, trust_anchors, crl_files)
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    return ctx


def server_tls_context(cert_file: str, key_file: str, trust_anchors: str, crl_files: list[str] = ()) -> ssl.SSLContext:
    """TLS 1.2+ server context that requires a client certificate chaining to the anchors (CRL-checked)."""
    ctx = _tls_context(ssl.PROTOCOL_TLS_SERVER, cert_file, key_file, trust_anchors, crl_files)
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def _tls_context(protocol: int, cert_file: str, key_file: str, trust_anchors: str, crl_files) -> ssl.SSLContext:
    """Our certificate and key, only the configured anchors, CRLs checked along the chain when given."""
    ctx = ssl.SSLContext(protocol)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_file, key_file)
    ctx.load_verify_locations(cafile=trust_anchors)
    for crl in crl_files:
        ctx.load_verify_locations(cafile=crl)
    if crl_files:
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
    return ctx


def peer_ura(response) -> str | None:
    """The UZI URA in the server certificate of an httpx response's connection."""
    from cryptography import x509

    from ..pki import CertificateRejected, UziIdentity

    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    der = ssl_object.getpeercert(True) if ssl_object is not None else None
    if not der:
        return None
    try:
        return UziIdentity.from_certificate(x509.load_der_x509_certificate(der)).ura
    except CertificateRejected:
        return None
