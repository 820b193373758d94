"""One organisation's running gateway: the receiving API and the delivery worker, wired from settings.

``jgz serve`` runs the API in ``workers`` uvicorn processes and the delivery
worker in a process of its own, so receiving and sending never share one
interpreter lock. Every process builds its parts (:func:`runtime`) from the same
configuration; the database's unique constraints and leases keep each transfer
imported once and delivered by one worker at a time.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..settings import Settings
from ..store import Store
from .audit import log
from .outbox import Outbox, Policy
from .transports import transport_class
from .trust import TrustSource

CONFIG_ENV = "JGZ_CONFIG_FILE"  # tells the processes `jgz serve` starts which configuration to load


def outbox_for(settings: Settings, store: Store, trust: TrustSource | None = None) -> Outbox:
    trust = trust or TrustSource.from_settings(settings)
    transports = {}
    for name in ("https", "soap"):
        cls = transport_class(name)
        transports[name] = (cls(trust.client_context, timeout=settings.delivery_timeout_seconds) if name == "https" else
                            cls(trust.client_context, key=settings.key, chain=settings.chain,
                                timeout=settings.delivery_timeout_seconds))
    policy = Policy(retry_horizon=dt.timedelta(hours=settings.retry_horizon_hours),
                    alert_after_failures=settings.alert_after_failures,
                    backoff_base=settings.backoff_base_seconds, backoff_max=settings.backoff_max_seconds,
                    lease=dt.timedelta(seconds=2 * settings.delivery_timeout_seconds + 30))
    return Outbox(store, settings.ura, settings.name or settings.ura, settings.application_id, settings.uzi_system_id,
                  settings.key, settings.chain, transports, policy, settings.require_consent)


class Worker(threading.Thread):
    """Delivers due transfers, ``concurrency`` at a time; rests ``interval`` seconds when none is due."""

    def __init__(self, outbox: Outbox, interval: float, concurrency: int = 1):
        super().__init__(name="jgz-delivery", daemon=True)
        self.outbox, self.interval, self.concurrency = outbox, interval, concurrency
        self.stopping = threading.Event()

    def run(self) -> None:
        self.outbox.recover()
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="jgz-deliver") as pool:
            while not self.stopping.is_set():
                attempted = 0
                try:
                    attempted = sum(pool.map(self.outbox.deliver, self.outbox.due(limit=4 * self.concurrency)))
                except Exception:  # noqa: BLE001 - the worker must outlive one bad round; the error is logged
                    log.exception("delivery round failed")
                if not attempted:
                    self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()


# --- processes ---------------------------------------------------------------------


@dataclass
class Runtime:
    """What one gateway process works with."""

    settings: Settings
    store: Store
    trust: TrustSource


_runtime: Runtime | None = None


def runtime(settings: Settings | None = None) -> Runtime:
    """This process's runtime, built once (from ``$JGZ_CONFIG_FILE`` in a process `jgz serve` started)."""
    global _runtime
    if _runtime is None:
        if settings is None:
            from ..settings import load

            _logging()
            settings = load(os.environ.get(CONFIG_ENV) or None)
        store = Store(settings.database_url)
        _runtime = Runtime(settings, store, TrustSource.from_settings(settings))
    return _runtime


def _logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def app():
    """uvicorn app factory (each worker process calls it)."""
    from ..api import create_app
    from ..standards.preload import preload_and_freeze

    rt = runtime()
    preload_and_freeze()  # a receiving process checks every message against the same rules
    return create_app(rt.settings, rt.store, rt.trust)


def ssl_context(_config, _default):
    """uvicorn TLS factory: client certificate required; contexts follow the trust reloads."""
    return runtime().trust.server_context()


def deliver_forever() -> None:
    """The delivery worker as a process: runs until SIGTERM or until its gateway is gone,
    then finishes its round (a delivery cut short is safe anyway: the lease expires)."""
    parent = os.getppid()
    rt = runtime()
    worker = Worker(outbox_for(rt.settings, rt.store, rt.trust), rt.settings.worker_interval_seconds,
                    rt.settings.delivery_concurrency)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    signal.signal(signal.SIGINT, lambda *_: worker.stop())
    worker.start()
    while worker.is_alive():
        worker.join(0.5)
        if os.getppid() != parent:  # orphaned: the gateway died without stopping us
            worker.stop()
    rt.store.dispose()


def _exit(*_) -> None:
    raise SystemExit(0)


def serve(settings: Settings, config: str | None = None, *, worker: bool = True) -> None:
    """Run the gateway until interrupted: uvicorn over mutual TLS, and the delivery worker process."""
    import multiprocessing

    import uvicorn

    from ..api import TlsHttpToolsProtocol

    os.environ[CONFIG_ENV] = str(config or "")
    runtime(settings)  # this process serves too when workers == 1
    # uvicorn re-raises the signal that stopped it once it is done: let that unwind to `finally`
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit)
    delivery = None
    if worker:
        delivery = multiprocessing.get_context("spawn").Process(target=deliver_forever, name="jgz-delivery")
        delivery.start()
    try:
        uvicorn.run(f"{__name__}:app", factory=True, workers=settings.workers, host=settings.listen_host,
                    port=settings.listen_port, http=TlsHttpToolsProtocol, ssl_context_factory=ssl_context,
                    log_level="warning", access_log=False, timeout_keep_alive=30, timeout_graceful_shutdown=10)
    finally:
        if delivery is not None:
            delivery.terminate()
            delivery.join(30)
            if delivery.is_alive():
                delivery.kill()
        runtime().store.dispose()
