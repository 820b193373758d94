"""``jgz certs``, ``jgz orgs``, ``jgz send``, ``jgz transfers``, ``jgz serve``, ``jgz audit``.

Thin commands over :mod:`jgz_gateway.transfer`; heavy imports happen inside the
commands. Every failure is one clear line on stderr and a non-zero exit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from . import app
from .messages import fail, read_dossier_file

certs_app = typer.Typer(help="Test PKI (never production keys).", no_args_is_help=True)
orgs_app = typer.Typer(help="Organisation directory.", no_args_is_help=True)
transfers_app = typer.Typer(help="Outgoing transfers: state and history.", no_args_is_help=True)
audit_app = typer.Typer(help="NEN 7513 audit trail.", no_args_is_help=True)
app.add_typer(certs_app, name="certs")
app.add_typer(orgs_app, name="orgs")
app.add_typer(transfers_app, name="transfers")
app.add_typer(audit_app, name="audit")

ConfigOpt = typer.Option(None, "--config", "-c", help="gateway TOML file (JGZ_* environment variables override it)")


def _settings(config: Optional[Path], *, check: bool = True):
    from ..settings import SettingsError, load

    try:
        return load(config, check=check)
    except SettingsError as exc:
        fail(str(exc))


def _store(config: Optional[Path]):
    from ..store import Store

    return Store(_settings(config, check=False).database_url)


@certs_app.command("init")
def certs_init(
    directory: Path = typer.Argument(..., help="where to create the test PKI"),
    org: List[str] = typer.Option(..., "--org", help="URA:NAME, repeatable"),
    key_size: int = typer.Option(4096, "--key-size", help="RSA key size (2048 allowed for tests)"),
) -> None:
    """Create a test root, a test 'UZI-register Server CA', CRLs and one server certificate per organisation."""
    from ..transfer.pki import TestPki

    if key_size not in (2048, 3072, 4096):
        fail("--key-size must be 2048, 3072 or 4096")
    orgs = []
    for item in org:
        ura, _, name = item.partition(":")
        if not (len(ura) == 8 and ura.isdecimal()) or not name:
            fail(f"--org {item!r}: expected URA:NAME with an 8-digit URA")
        orgs.append((ura, name))
    try:
        pki = TestPki.init(directory, orgs, key_size=key_size)
    except (FileExistsError, OSError) as exc:
        fail(str(exc))
    typer.echo(f"test PKI in {pki.root_dir}: trust anchors {pki.anchors.name}, CRLs {pki.crl.name}")
    for ura, name in orgs:
        typer.echo(f"  {ura} {name}: {pki.chain(ura)} + {pki.key(ura)}")


@orgs_app.command("add")
def orgs_add(
    ura: str = typer.Argument(...),
    name: str = typer.Option(..., "--name"),
    application_id: str = typer.Option(..., "--app-id", help="AORTA application id (2.16.840.1.113883.2.4.6.6)"),
    endpoint: str = typer.Option(..., "--endpoint", help="https URL of the receiving gateway"),
    bds: List[str] = typer.Option(["4.2.0"], "--bds", help="supported BDS version, repeatable"),
    transport: str = typer.Option("https", "--transport", help="https or soap"),
    region: Optional[str] = typer.Option(None, "--region", help="GGD region"),
    certificate: Optional[Path] = typer.Option(None, "--cert", help="the organisation's certificate (PEM)"),
    replace: bool = typer.Option(False, "--replace"),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Add (or replace) an organisation in the directory."""
    from ..transfer import directory

    pem = None
    if certificate is not None:
        try:
            pem = certificate.read_text()
        except OSError as exc:
            fail(f"--cert {certificate}: {exc.strerror}")
    entry = directory.OrgEntry(ura, name, application_id, endpoint, tuple(bds), transport, region, pem)
    store = _store(config)
    try:
        with store.begin() as s:
            directory.add(s, entry, replace=replace)
    except directory.DirectoryError as exc:
        fail(str(exc))
    typer.echo(f"added {ura} {name}")


@orgs_app.command("list")
def orgs_list(config: Optional[Path] = ConfigOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """All organisations in the directory."""
    from ..transfer import directory

    with _store(config).begin() as s:
        entries = directory.all_entries(s)
    if as_json:
        typer.echo(json.dumps([_org_dict(e) for e in entries], indent=2))
        return
    for e in entries:
        typer.echo(f"{e.ura}  {e.name:<30} app {e.application_id:<10} {e.transport:<5} BDS {','.join(e.bds_versions):<12} {e.endpoint}")


def _org_dict(e) -> dict:
    return {"ura": e.ura, "name": e.name, "application_id": e.application_id, "endpoint": e.endpoint,
            "transport": e.transport, "bds_versions": list(e.bds_versions), "ggd_region": e.ggd_region,
            "has_certificate": bool(e.certificate_pem)}


@orgs_app.command("show")
def orgs_show(ura: str, config: Optional[Path] = ConfigOpt) -> None:
    """One organisation."""
    from ..transfer import directory

    try:
        with _store(config).begin() as s:
            e = directory.get(s, ura)
    except directory.DirectoryError as exc:
        fail(str(exc))
    typer.echo(json.dumps(_org_dict(e), indent=2))


@app.command("send")
def send(
    dossier: Path = typer.Argument(..., help="DOB message (XML) or dossier JSON (jgz parse)"),
    to: str = typer.Option(..., "--to", help="URA of the receiving organisation"),
    deliver: bool = typer.Option(True, "--deliver/--queue-only", help="try delivery now (the serve worker retries)"),
    config: Optional[Path] = ConfigOpt,
) -> None:
    """Gate, close, sign and queue a dossier for transfer; then try to deliver it once."""
    from ..store import Store, Transfer
    from ..transfer import directory
    from ..transfer.gateway import outbox_for
    from ..transfer.sender import TransferRefused

    settings = _settings(config)
    d = read_dossier_file(dossier)
    store = Store(settings.database_url)
    outbox = outbox_for(settings, store)
    try:
        row = outbox.enqueue(d, to, user=f"cli:{settings.uzi_system_id}")
    except TransferRefused as exc:
        fail(f"not sent [{exc.rule}]: {exc.message}", 1)
    except directory.DirectoryError as exc:
        fail(str(exc))
    typer.echo(f"transfer {row.id} queued (message {row.message_id})")
    if deliver:
        outbox.deliver(row.id)
    with store.begin() as s:
        t = s.get(Transfer, row.id)
        typer.echo(f"state: {t.state}" + (f" ({t.last_error})" if t.last_error else ""))


@transfers_app.command("list")
def transfers_list(config: Optional[Path] = ConfigOpt, state: Optional[str] = typer.Option(None, "--state"),
                   alerts: bool = typer.Option(False, "--alerts", help="only transfers in alert")) -> None:
    """Outgoing transfers, newest first."""
    from sqlalchemy import select

    from ..store import Transfer

    q = select(Transfer).order_by(Transfer.created_at.desc())
    if state:
        q = q.where(Transfer.state == state)
    if alerts:
        q = q.where(Transfer.alert.is_(True))
    with _store(config).begin() as s:
        for t in s.execute(q).scalars():
            typer.echo(f"{t.id}  {t.state:<10} {'ALERT ' if t.alert else ''}to {t.receiver_ura}  attempts {t.attempts}"
                       f"  {t.created_at:%Y-%m-%d %H:%M}Z  {t.message_id}")


@transfers_app.command("show")
def transfers_show(transfer_id: str, config: Optional[Path] = ConfigOpt) -> None:
    """One transfer with its attempt history."""
    from ..store import Transfer

    with _store(config).begin() as s:
        t = s.get(Transfer, transfer_id)
        if t is None:
            fail(f"no transfer {transfer_id}")
        out = {"id": t.id, "state": t.state, "alert": t.alert, "receiver_ura": t.receiver_ura, "message_id": t.message_id,
               "dossier_id": t.dossier_id, "interaction": t.interaction, "attempts": t.attempts,
               "next_attempt_at": t.next_attempt_at.isoformat(), "expires_at": t.expires_at.isoformat(),
               "ack_code": t.ack_code, "last_error": t.last_error,
               "history": [{"number": a.number, "started_at": a.started_at.isoformat(), "outcome": a.outcome,
                            "detail": a.detail} for a in t.history]}
    typer.echo(json.dumps(out, indent=2))


@audit_app.command("verify")
def audit_verify(config: Optional[Path] = ConfigOpt) -> None:
    """Check the hash chain: exit 1 if any record was modified or deleted."""
    from ..transfer import audit

    with _store(config).begin() as s:
        report = audit.verify(s)
    if report.ok:
        typer.echo(f"audit trail intact: {report.records} records")
        return
    for p in report.problems:
        typer.echo(f"TAMPERED: {p}", err=True)
    raise typer.Exit(1)


@app.command("serve")
def serve(config: Optional[Path] = ConfigOpt,
          worker: bool = typer.Option(True, "--worker/--no-worker", help="run the delivery worker too")) -> None:
    """Run this organisation's gateway: receiving API over mutual TLS and the delivery worker."""
    import logging

    from ..transfer.gateway import serve as run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings(config)
    typer.echo(f"jgz-gateway {settings.ura} listening on https://{settings.listen_host}:{settings.listen_port}"
               f" ({settings.workers} receiving process{'es' if settings.workers > 1 else ''}"
               f"{', delivery worker' if worker else ''})", err=True)
    run(settings, str(config.resolve()) if config else None, worker=worker)
