"""Wire profiles behind one small protocol: hand over bytes, get the acknowledgement bytes back.

Transfer logic (outbox, retries, acks) never sees the wire; a new network is one
new module here and one entry in :data:`TRANSPORTS`.
"""

from .base import DeliveryError, Endpoint, Transport, client_tls_context

TRANSPORTS = {"https": "jgz_gateway.transfer.transports.https:HttpsTransport",
              "soap": "jgz_gateway.transfer.transports.soap:SoapTransport"}


def transport_class(name: str):
    import importlib

    module, _, cls = TRANSPORTS[name].partition(":")
    return getattr(importlib.import_module(module), cls)


__all__ = ["DeliveryError", "Endpoint", "TRANSPORTS", "Transport", "client_tls_context", "transport_class"]
