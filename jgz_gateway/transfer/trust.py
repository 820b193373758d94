"""Trust that stays current in a running gateway: anchors and CRLs reloaded on an interval.

CRLs must be refreshed at least hourly (security.md G8). A :class:`TrustSource`
re-reads the trust-anchor bundle and the CRL files once its interval has passed
(on first use after that, so an idle gateway does no work) and hands out the
:class:`~.pki.TrustStore` and TLS contexts of the latest good load. A load that
fails, or lacks a CRL for one of the CAs, keeps the previous one and is logged. Either way a CRL past its nextUpdate
rejects every certificate it covers: fail closed, in the TLS handshake (OpenSSL)
and in signature checks (:meth:`~.pki.TrustStore.validate`) alike.

The TLS server keeps one listening context; its SNI callback, which OpenSSL calls
for every handshake, hands each new connection the latest context.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Callable

from .pki import TrustStore

log = logging.getLogger("jgz.transfer")


@dataclass(frozen=True)
class _Loaded:
    trust: TrustStore
    server: ssl.SSLContext | None
    client: ssl.SSLContext | None


class TrustSource:
    """Trust anchors + CRLs from files (and our TLS contexts built on them), kept current."""

    def __init__(self, anchors: str, crl_files: list[str] | tuple = (), *, cert_file: str | None = None,
                 key_file: str | None = None, require_crl: bool = True, interval: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic):
        self.anchors, self.crl_files = anchors, list(crl_files)
        self.cert_file, self.key_file = cert_file, key_file
        self.require_crl, self.interval, self.clock = require_crl, interval, clock
        self._lock = threading.Lock()
        self._loaded = self._load()  # the first load must succeed: errors go to the caller
        self._at = clock()
        self.generation = 1

    @classmethod
    def from_settings(cls, settings, **kw) -> TrustSource:
        return cls(settings.trust_anchors, settings.crl_files, cert_file=settings.cert_file, key_file=settings.key_file,
                   require_crl=settings.require_crl, interval=settings.trust_reload_seconds, **kw)

    def current(self) -> TrustStore:
        """The trust store to check a certificate with now."""
        return self._fresh().trust

    def client_context(self) -> ssl.SSLContext:
        """TLS client context (our certificate; the current anchors and CRLs) for new connections."""
        ctx = self._fresh().client
        if ctx is None:
            raise ValueError("no certificate and key configured for TLS")
        return ctx

    def server_context(self) -> ssl.SSLContext:
        """A listening context whose every new connection gets the then-current context."""
        base = self._fresh().server
        if base is None:
            raise ValueError("no certificate and key configured for TLS")

        def switch(ssl_object, _server_name, _ctx) -> None:
            ssl_object.context = self._fresh().server

        base.sni_callback = switch
        return base

    def reload(self) -> bool:
        """Load now; keep the previous trust if that fails. Returns whether it succeeded."""
        with self._lock:
            return self._reload_locked()

    # --- internals -----------------------------------------------------------

    def _fresh(self) -> _Loaded:
        if self.clock() - self._at >= self.interval:
            with self._lock:
                if self.clock() - self._at >= self.interval:
                    self._reload_locked()
        return self._loaded

    def _reload_locked(self) -> bool:
        self._at = self.clock()
        try:
            loaded = self._load()
        except (OSError, ValueError, ssl.SSLError) as exc:
            log.error("reloading trust anchors/CRLs failed, keeping the previous ones: %s", exc)
            return False
        self._loaded, self.generation = loaded, self.generation + 1
        log.info("trust anchors and CRLs reloaded (generation %d)", self.generation)
        return True

    def _load(self) -> _Loaded:
        from .transports.base import client_tls_context, server_tls_context

        trust = TrustStore.from_files(self.anchors, self.crl_files, require_crl=self.require_crl)
        missing = trust.missing_crls() if self.require_crl else []
        if missing:  # e.g. a CRL file caught half-written: keep what we had rather than reject everyone
            raise ValueError(f"no CRL for {'; '.join(missing)}")
        server = client = None
        if self.cert_file and self.key_file:
            server = server_tls_context(self.cert_file, self.key_file, self.anchors, self.crl_files)
            client = client_tls_context(self.cert_file, self.key_file, self.anchors, self.crl_files)
        return _Loaded(trust, server, client)
