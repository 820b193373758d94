"""Organisation directory: who we exchange dossiers with, where, how, and in which BDS versions.

Entries are checked when added (URA format, AORTA application id, https endpoint,
known BDS versions, certificate that carries the same URA), so a bad entry is an
error at ``jgz orgs add``, not a failed transfer days later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..store import Organisation, utcnow

BDS_VERSIONS = ("4.2.0", "4.1.3", "4.0", "3.2.7")
#: BDS version → DOB interaction that carries it.
INTERACTION_FOR = {"4.2.0": "REPC_IN902120NL04", "4.1.3": "REPC_IN902120NL03", "4.0": "REPC_IN902120NL03",
                   "3.2.7": "REPC_IN902120NL"}
TRANSPORTS = ("https", "soap")
_URA = re.compile(r"^[0-9]{8}$")
_APP = re.compile(r"^[0-9]{1,20}$")


class DirectoryError(Exception):
    """A directory entry is invalid or unknown; the message names the field."""


@dataclass(frozen=True)
class OrgEntry:
    ura: str
    name: str
    application_id: str
    endpoint: str
    bds_versions: tuple[str, ...]
    transport: str = "https"
    ggd_region: str | None = None
    certificate_pem: str | None = None

    @classmethod
    def of(cls, row: Organisation) -> OrgEntry:
        return cls(row.ura, row.name, row.application_id, row.endpoint, tuple(row.bds_versions.split(",")),
                   row.transport, row.ggd_region, row.certificate_pem)


def check(entry: OrgEntry) -> None:
    if not _URA.match(entry.ura):
        raise DirectoryError(f"URA {entry.ura!r} must be 8 digits")
    if not entry.name.strip():
        raise DirectoryError("name is empty")
    if not _APP.match(entry.application_id):
        raise DirectoryError(f"AORTA application id {entry.application_id!r} must be 1-20 digits")
    url = urlparse(entry.endpoint)
    if url.scheme != "https" or not url.hostname:
        raise DirectoryError(f"endpoint {entry.endpoint!r} must be an https:// URL")
    if entry.transport not in TRANSPORTS:
        raise DirectoryError(f"transport {entry.transport!r} must be one of {', '.join(TRANSPORTS)}")
    unknown = [v for v in entry.bds_versions if v not in BDS_VERSIONS]
    if not entry.bds_versions or unknown:
        raise DirectoryError(f"BDS versions {list(entry.bds_versions)} must be among {', '.join(BDS_VERSIONS)}")
    if entry.certificate_pem:
        from .pki import CertificateRejected, UziIdentity, load_certificate

        try:
            ident = UziIdentity.from_certificate(load_certificate(entry.certificate_pem.encode()))
        except (ValueError, CertificateRejected) as exc:
            raise DirectoryError(f"certificate: {exc}") from None
        if ident.ura != entry.ura:
            raise DirectoryError(f"certificate is for URA {ident.ura}, not {entry.ura}")


def add(session: Session, entry: OrgEntry, *, replace: bool = False) -> None:
    check(entry)
    existing = session.get(Organisation, entry.ura)
    if existing is not None and not replace:
        raise DirectoryError(f"organisation {entry.ura} is already in the directory (use --replace)")
    row = existing or Organisation(ura=entry.ura, created_at=utcnow())
    row.name, row.application_id, row.endpoint = entry.name, entry.application_id, entry.endpoint
    row.bds_versions, row.transport = ",".join(entry.bds_versions), entry.transport
    row.ggd_region, row.certificate_pem = entry.ggd_region, entry.certificate_pem
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise DirectoryError(f"application id {entry.application_id} is already registered to another organisation") from None


def get(session: Session, ura: str) -> OrgEntry:
    row = session.get(Organisation, ura)
    if row is None:
        raise DirectoryError(f"organisation {ura} is not in the directory")
    return OrgEntry.of(row)


def by_application(session: Session, application_id: str) -> OrgEntry | None:
    row = session.execute(select(Organisation).where(Organisation.application_id == application_id)).scalar_one_or_none()
    return OrgEntry.of(row) if row else None


def all_entries(session: Session) -> list[OrgEntry]:
    return [OrgEntry.of(r) for r in session.execute(select(Organisation).order_by(Organisation.ura)).scalars()]
