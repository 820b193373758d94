"""The sender's durable outbox: state machine, delivery with backoff, and alerts.

States: ``queued`` → ``delivering`` (leased by one worker) → ``delivered`` (CA) |
``rejected`` (CR: terminal, alert) | back to ``queued`` (no ack, or CE) until
the retry horizon has passed → ``expired`` (terminal, alert). ``alert`` is also
raised once ``alert_after_failures`` attempts have failed. The signed message is
stored before the first network call and resent unchanged (same transmission
id), so the receiver's deduplication makes the transfer happen once.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import undefer

from ..standards import model as m
from ..standards.hl7v3.ack import AckError, parse_ack
from ..store import Store, Transfer, TransferAttempt, utcnow
from . import audit, directory, sender
from .audit import log
from .receiver import key_of
from .transports import DeliveryError, Endpoint

TERMINAL = ("delivered", "rejected", "expired")


@dataclass
class Policy:
    retry_horizon: dt.timedelta = dt.timedelta(days=5)
    alert_after_failures: int = 10
    backoff_base: float = 30.0
    backoff_max: float = 3600.0
    lease: dt.timedelta = dt.timedelta(minutes=5)

    def backoff(self, failures: int, rng: random.Random) -> dt.timedelta:
        """Exponential backoff with jitter: between half and all of base·2^(n-1), capped."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** max(0, failures - 1))
        return dt.timedelta(seconds=ceiling * rng.uniform(0.5, 1.0))


@dataclass
class Outbox:
    """One organisation's outbox. ``transports`` maps a directory transport name to a Transport."""

    store: Store
    ura: str
    org_name: str
    application_id: str
    uzi_system_id: str
    key: object
    chain: list
    transports: dict = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)
    require_consent: bool = False
    clock: Callable[[], dt.datetime] = utcnow
    rng: random.Random = field(default_factory=random.Random)
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex

    # --- enqueue -------------------------------------------------------------

    def enqueue(self, dossier: m.Dossier, receiver_ura: str, *, user: str = "system") -> Transfer:
        """Gate, close, build, sign and store one transfer. Raises :class:`sender.TransferRefused`.

        The consent decision is audited in the same transaction that queues the
        transfer (or alone, when it blocks): neither exists without the other.
        """
        now = self.clock()
        with self.store.read() as s:
            receiver = directory.get(s, receiver_ura)
        dossier_key = key_of(_dossier_key(dossier))
        decision = sender.consent_gate(dossier, require_consent=self.require_consent)

        def audit_decision(s) -> None:
            audit.record(s, event="consent", outcome="allowed" if decision.allowed else "blocked", user=user,
                         organisation=self.ura, client_bsn=dossier.bsn, object=dossier_key,
                         detail=f"transfer to {receiver_ura}: {decision.basis}")

        if not decision.allowed:
            with self.store.begin() as s:
                audit_decision(s)
            log.warning("transfer to %s refused by the consent gate", receiver_ura)
            raise sender.TransferRefused("JGZ-CONSENT", decision.basis)
        message_id = (f"2.16.528.1.1007.3.3.{int(self.ura)}.1", self.new_id())
        addressed = sender.address(sender.close(dossier, now), message_id=message_id, now=now,
                                   sender_app=self.application_id, receiver_app=receiver.application_id, ura=self.ura,
                                   org_name=self.org_name, uzi_system_id=self.uzi_system_id)
        prepared = sender.build_signed(addressed, receiver, self.key, self.chain)
        report = prepared.conversion
        row = Transfer(
            id=str(uuid.uuid4()), message_id=key_of(message_id), dossier_id=dossier_key,
            receiver_ura=receiver_ura, bsn=dossier.bsn, interaction=prepared.interaction, bds_version=prepared.bds_version,
            state="queued", alert=False, signed_message=prepared.message, attempts=0, next_attempt_at=now,
            expires_at=now + self.policy.retry_horizon, created_at=now, updated_at=now,
            conversion_report=json.dumps(report.as_dict()) if report is not None else None,
        )
        with self.store.begin() as s:
            audit_decision(s)
            s.add(row)
        log.info("transfer %s queued for %s (message %s%s)", row.id, receiver_ura, row.message_id,
                 f", converted to BDS {prepared.bds_version}" if report is not None else "")
        return row

    # --- deliver -------------------------------------------------------------

    def recover(self) -> int:
        """At start: transfers left ``delivering`` by a killed process go back to the queue."""
        with self.store.begin() as s:
            n = s.execute(update(Transfer).where(Transfer.state == "delivering")
                          .values(state="queued", lease_until=None)).rowcount
        if n:
            log.info("recovered %d transfers interrupted mid-delivery", n)
        return n

    def due(self, limit: int = 50) -> list[str]:
        now = self.clock()
        with self.store.read() as s:
            return list(s.execute(
                select(Transfer.id).where(
                    ((Transfer.state == "queued") & (Transfer.next_attempt_at <= now))
                    | ((Transfer.state == "delivering") & (Transfer.lease_until < now))
                ).order_by(Transfer.next_attempt_at).limit(limit)
            ).scalars())

    def deliver_due(self, limit: int = 50) -> int:
        """Try every due transfer once; return how many were attempted."""
        n = 0
        for tid in self.due(limit):
            n += self.deliver(tid)
        return n

    def _claim(self, transfer_id: str) -> Transfer | None:
        now = self.clock()
        with self.store.begin() as s:
            claimed = s.execute(
                update(Transfer).where(
                    (Transfer.id == transfer_id)
                    & (((Transfer.state == "queued") & (Transfer.next_attempt_at <= now))
                       | ((Transfer.state == "delivering") & (Transfer.lease_until < now)))
                ).values(state="delivering", lease_until=now + self.policy.lease, updated_at=now)
            ).rowcount
            if not claimed:
                return None
            row = s.get(Transfer, transfer_id, options=[undefer(Transfer.signed_message)])
            org = directory.get(s, row.receiver_ura)
            return row, org

    def deliver(self, transfer_id: str) -> int:
        """One attempt for one transfer (if it is due and not leased by someone else)."""
        claimed = self._claim(transfer_id)
        if claimed is None:
            return 0
        row, org = claimed
        started = self.clock()
        transport = self.transports.get(org.transport)
        try:
            if transport is None:
                raise DeliveryError(f"no transport {org.transport!r} configured", retryable=False)
            ack_bytes = transport.deliver(row.signed_message, Endpoint(org.endpoint, org.ura))
            ack = parse_ack(ack_bytes)
        except (DeliveryError, AckError) as exc:
            self._finish(row.id, started, outcome="error", detail=str(exc),
                         retry=getattr(exc, "retryable", True))
            return 1
        if key_of(ack.target_id) != row.message_id:
            note = f"receiver already holds this dossier (acknowledged message {key_of(ack.target_id)})"
            self._finish(row.id, started, outcome=ack.code, detail=note, ack=ack_bytes, ack_code=ack.code,
                         retry=False, delivered=ack.accepted)
            return 1
        detail = "; ".join(f"[{d.rule}] {d.message}" for d in ack.details) or None
        self._finish(row.id, started, outcome=ack.code, detail=detail, ack=ack_bytes, ack_code=ack.code,
                     retry=ack.retryable, delivered=ack.accepted)
        return 1

    def _finish(self, transfer_id: str, started: dt.datetime, *, outcome: str, detail: str | None, retry: bool,
                ack: bytes | None = None, ack_code: str | None = None, delivered: bool = False) -> None:
        now = self.clock()
        with self.store.begin() as s:
            row = s.get(Transfer, transfer_id)
            row.attempts += 1
            s.add(TransferAttempt(transfer_id=row.id, number=row.attempts, started_at=started, finished_at=now,
                                  outcome=outcome, detail=detail))
            row.lease_until, row.updated_at = None, now
            if ack is not None:
                row.ack, row.ack_code = ack, ack_code
            if delivered:
                row.state, row.last_error = "delivered", detail
            elif not retry:
                row.state, row.alert, row.last_error = "rejected", True, detail
            elif now >= row.expires_at:
                row.state, row.alert, row.last_error = "expired", True, f"retry horizon passed; last: {detail}"
            else:
                row.state, row.last_error = "queued", detail
                row.next_attempt_at = now + self.policy.backoff(row.attempts, self.rng)
                if row.attempts >= self.policy.alert_after_failures:
                    row.alert = True
            if row.state in TERMINAL:
                audit.record(s, event="transfer-out", outcome="success" if delivered else row.state,
                             user=f"app:{self.application_id}", organisation=self.ura, client_bsn=row.bsn,
                             object=row.dossier_id, detail=f"message {row.message_id} to {row.receiver_ura}: {outcome}"
                             + (f" ({detail[:500]})" if detail else ""))
            state, attempts, alert = row.state, row.attempts, row.alert
        log.info("transfer %s attempt %d: %s -> %s%s", transfer_id, attempts, outcome, state, " [ALERT]" if alert else "")


def _dossier_key(dossier: m.Dossier) -> tuple[str, str | None]:
    did = dossier.dossier_id
    if did is None or not did.root:
        raise sender.TransferRefused("JGZ-DOSSIER-ID", "the dossier has no CareProvisionRequest id")
    return did.root, did.extension
