"""NEN 7513 audit trail: one record per send, receive, consent decision, read and
authorisation failure, hash-chained so a modified or deleted record is detected.

Records name who (system/UZI id), on behalf of which organisation (URA), what
(event, action, object), which client (BSN), when (UTC), where from (network
access point) and the outcome. The BSN lives only here and in the dossier
tables, never in ordinary logs: :data:`log` messages carry ids only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store import GENESIS, AuditHead, AuditRecord, utcnow

log = logging.getLogger("jgz.transfer")

SOURCE = "jgz-gateway"
#: Event types (NEN 7513 "gebeurtenis") and their RFC 3881 EventActionCode.
EVENTS = {
    "transfer-out": "E",  # overdragen van gegevens naar een ander systeem
    "transfer-in": "C",  # overdragen van gegevens vanuit een ander systeem
    "consent": "E",  # toestemming/bezwaar getoetst
    "read": "R",
    "authz-failure": "E",
    "auth-failure": "E",
}
_FIELDS = ("seq", "at", "event", "action", "outcome", "user", "organisation", "access_point",
           "client_bsn", "object", "detail", "source", "prev_hash")


def _digest(values: dict) -> str:
    payload = dict(values)
    payload["at"] = payload["at"].astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
    blob = json.dumps([payload[k] for k in _FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def record(
    session: Session,
    *,
    event: str,
    outcome: str,
    user: str,
    organisation: str,
    client_bsn: str | None = None,
    object: str | None = None,  # noqa: A002 - NEN 7513 "object"
    detail: str | None = None,
    access_point: str | None = None,
    at: dt.datetime | None = None,
) -> AuditRecord:
    """Append one record inside the caller's transaction (so it commits or rolls back with the act)."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:  # the store creates it; gone means the trail was tampered with
        raise RuntimeError("the audit chain has no head row: run `jgz audit verify`")
    values = dict(
        seq=head.seq + 1, at=at or utcnow(), event=event, action=EVENTS[event], outcome=outcome, user=_fit("user", user),
        organisation=_fit("organisation", organisation), access_point=_fit("access_point", access_point),
        client_bsn=_fit("client_bsn", client_bsn), object=_fit("object", object), detail=detail, source=SOURCE,
        prev_hash=head.hash,
    )
    rec = AuditRecord(**values, hash=_digest(values))
    session.add(rec)
    head.seq, head.hash = rec.seq, rec.hash
    session.flush()
    return rec


def _fit(column: str, value: str | None) -> str | None:
    """Clip a value (it may come from a hostile message) to its column, so the record is always written."""
    size = AuditRecord.__table__.c[column].type.length
    return value if value is None or len(value) <= size else value[: size - 1] + "…"


@dataclass
class ChainReport:
    records: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session) -> ChainReport:
    """Walk the chain: every record's hash, its link to the previous one, no gaps, head matches."""
    report = ChainReport()
    prev_hash, expected_seq = GENESIS, 1
    for rec in session.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars():
        report.records += 1
        if rec.seq != expected_seq:
            report.problems.append(f"record {expected_seq}" + (f"..{rec.seq - 1}" if rec.seq - 1 > expected_seq else "")
                                   + " missing (deleted?)")
        values = {k: getattr(rec, k) for k in _FIELDS}
        if rec.prev_hash != prev_hash:
            report.problems.append(f"record {rec.seq}: does not link to its predecessor")
        if _digest(values) != rec.hash:
            report.problems.append(f"record {rec.seq}: content does not match its hash (modified)")
        prev_hash, expected_seq = rec.hash, rec.seq + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        report.problems.append(f"chain ends at record {expected_seq - 1} but its head says {head.seq} (records deleted at the end?)")
    if head is None and report.records:
        report.problems.append("chain head is missing")
    return report
