"""Tables: organisation directory, outbox (transfers + attempts), inbox, audit trail."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """Timestamps are stored as UTC and always come back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC time")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


#: The hash the audit chain starts from.
GENESIS = "0" * 64


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    """A JGZ organisation the gateway may exchange dossiers with."""

    __tablename__ = "organisations"

    ura: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    ggd_region: Mapped[str | None] = mapped_column(String(100))
    application_id: Mapped[str] = mapped_column(String(64), unique=True)
    endpoint: Mapped[str] = mapped_column(String(500))
    transport: Mapped[str] = mapped_column(String(16), default="https")
    certificate_pem: Mapped[str | None] = mapped_column(Text)
    bds_versions: Mapped[str] = mapped_column(String(100))  # comma-separated, newest first
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Transfer(Base):
    """The outbox: one signed DOB on its way to one receiver, with its state."""

    __tablename__ = "transfers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)  # root^extension
    dossier_id: Mapped[str] = mapped_column(String(200))
    receiver_ura: Mapped[str] = mapped_column(String(8), ForeignKey("organisations.ura"))
    bsn: Mapped[str | None] = mapped_column(String(32))  # as the message has it
    interaction: Mapped[str] = mapped_column(String(32))
    bds_version: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    alert: Mapped[bool] = mapped_column(Boolean, default=False)
    signed_message: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # loaded only to send it
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ack_code: Mapped[str | None] = mapped_column(String(2))
    ack: Mapped[bytes | None] = mapped_column(LargeBinary)
    last_error: Mapped[str | None] = mapped_column(Text)
    conversion_report: Mapped[str | None] = mapped_column(Text)  # JSON, when built in another BDS version

    history: Mapped[list[TransferAttempt]] = relationship(
        back_populates="transfer", order_by="TransferAttempt.number", cascade="all, delete-orphan"
    )


class TransferAttempt(Base):
    """One delivery attempt and how it ended."""

    __tablename__ = "transfer_attempts"
    __table_args__ = (UniqueConstraint("transfer_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transfer_id: Mapped[str] = mapped_column(String(36), ForeignKey("transfers.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16))  # CA, CE, CR, error
    detail: Mapped[str | None] = mapped_column(Text)

    transfer: Mapped[Transfer] = relationship(back_populates="history")


class InboxMessage(Base):
    """A received dossier: stored (raw + parsed) before it is acknowledged, exactly once."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transmission_id: Mapped[str] = mapped_column(String(200), unique=True)  # root^extension
    dossier_id: Mapped[str] = mapped_column(String(200), unique=True)  # CareProvisionRequest root^extension
    sender_ura: Mapped[str] = mapped_column(String(8))
    receiver_ura: Mapped[str] = mapped_column(String(8), index=True)
    bsn: Mapped[str | None] = mapped_column(String(32))  # as the message has it
    interaction: Mapped[str] = mapped_column(String(32))
    bds_version: Mapped[str | None] = mapped_column(String(16))
    raw_message: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # the big columns load on access
    dossier_json: Mapped[str] = mapped_column(Text, deferred=True)  # in the organisation's BDS version
    ack: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    received_bds_version: Mapped[str | None] = mapped_column(String(16))  # as sent, before conversion
    conversion_report: Mapped[str | None] = mapped_column(Text)  # JSON, when converted on import


class AuditRecord(Base):
    """A NEN 7513 log line, hash-chained to its predecessor (``seq`` orders the chain)."""

    __tablename__ = "audit"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    event: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(1))
    outcome: Mapped[str] = mapped_column(String(16))
    user: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(8))
    access_point: Mapped[str | None] = mapped_column(String(200))
    client_bsn: Mapped[str | None] = mapped_column(String(32))  # as the message has it
    object: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(100))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The chain's newest link (one row): appending locks it, so the chain stays linear on any database."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
