"""One organisation's running gateway: the receiving API and the delivery worker, wired from settings."""

from __future__ import annotations

import threading

from ..settings import Settings
from ..store import Store
from .audit import log
from .outbox import Outbox, Policy
from .transports import client_tls_context, transport_class
from .transports.base import server_tls_context


def outbox_for(settings: Settings, store: Store) -> Outbox:
    import datetime as dt

    tls = client_tls_context(settings.cert_file, settings.key_file, settings.trust_anchors, settings.crl_files)
    transports = {}
    for name in ("https", "soap"):
        cls = transport_class(name)
        transports[name] = (cls(tls, timeout=settings.delivery_timeout_seconds) if name == "https" else
                            cls(tls, key=settings.key, chain=settings.chain, timeout=settings.delivery_timeout_seconds))
    policy = Policy(retry_horizon=dt.timedelta(hours=settings.retry_horizon_hours),
                    alert_after_failures=settings.alert_after_failures,
                    backoff_base=settings.backoff_base_seconds, backoff_max=settings.backoff_max_seconds,
                    lease=dt.timedelta(seconds=2 * settings.delivery_timeout_seconds + 30))
    return Outbox(store, settings.ura, settings.name or settings.ura, settings.application_id, settings.uzi_system_id,
                  settings.key, settings.chain, transports, policy, settings.require_consent)


class Worker(threading.Thread):
    """Delivers due transfers every ``interval`` seconds until stopped."""

    def __init__(self, outbox: Outbox, interval: float):
        super().__init__(name="jgz-delivery", daemon=True)
        self.outbox, self.interval, self.stopping = outbox, interval, threading.Event()

    def run(self) -> None:
        self.outbox.recover()
        while not self.stopping.is_set():
            try:
                self.outbox.deliver_due()
            except Exception:  # noqa: BLE001 - the worker must outlive one bad round; the error is logged
                log.exception("delivery round failed")
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()


def serve(settings: Settings, *, worker: bool = True) -> None:
    """Run the gateway until interrupted: uvicorn with TLS (client certificate required) + worker."""
    import uvicorn

    from ..api import TlsHttpToolsProtocol, create_app

    store = Store(settings.database_url)
    app = create_app(settings, store)
    tls = server_tls_context(settings.cert_file, settings.key_file, settings.trust_anchors, settings.crl_files)
    config = uvicorn.Config(app, host=settings.listen_host, port=settings.listen_port, http=TlsHttpToolsProtocol,
                            ssl_context_factory=lambda _cfg, _default: tls, log_level="warning", access_log=False,
                            timeout_keep_alive=30)
    delivery = Worker(outbox_for(settings, store), settings.worker_interval_seconds) if worker else None
    if delivery:
        delivery.start()
    try:
        uvicorn.Server(config).run()
    finally:
        if delivery:
            delivery.stop()
            delivery.join(timeout=10)
        store.dispose()
