"""Plain HTTPS POST of the signed HL7v3 message over mutual TLS; the response body is the ack."""

from __future__ import annotations

import ssl

import httpx

from .base import Clients, DeliveryError, Endpoint, peer_ura

CONTENT_TYPE = "application/hl7-v3+xml; charset=utf-8"


class HttpsTransport:
    def __init__(self, tls, *, timeout: float = 60.0):
        self._clients = Clients(tls, timeout)

    def deliver(self, message: bytes, endpoint: Endpoint) -> bytes:
        return post(self._clients.get(), endpoint, message, {"content-type": CONTENT_TYPE})

    def close(self) -> None:
        self._clients.close()


def post(client: httpx.Client, endpoint: Endpoint, body: bytes, headers: dict) -> bytes:
    """POST ``body``; check the answering server is ``endpoint.ura``; return the body of a 2xx/4xx answer."""
    try:
        with client.stream("POST", endpoint.url, content=body, headers=headers) as response:
            ura = peer_ura(response)
            if ura != endpoint.ura:
                raise DeliveryError(f"server at {endpoint.url} identifies as URA {ura}, expected {endpoint.ura}")
            data = response.read()
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"timeout talking to {endpoint.url}: {type(exc).__name__}") from None
    except (httpx.TransportError, ssl.SSLError) as exc:
        raise DeliveryError(f"cannot reach {endpoint.url}: {exc}") from None
    if response.status_code >= 500 or response.status_code in (408, 429):
        raise DeliveryError(f"{endpoint.url} answered HTTP {response.status_code}", body=data or None)
    if not data:
        raise DeliveryError(f"{endpoint.url} answered HTTP {response.status_code} without a body",
                            retryable=response.status_code < 400)
    return data
