"""``jgz adapters``, ``jgz synth``, ``jgz migrate``: vendor formats in and out of the gateway."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer

from . import app
from .messages import check_identifier, fail, write_output

adapters_app = typer.Typer(help="Installed adapters (vendor formats), their coverage and mapping files.",
                           no_args_is_help=True)
app.add_typer(adapters_app, name="adapters")


def _adapter_error(exc: Exception) -> None:
    fail(str(exc))


@adapters_app.command("list")
def list_adapters(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Every adapter installed in the entry-point group ``jgz_gateway.adapters``."""
    from ..adapters.registry import installed

    entries = installed()
    rows = []
    for e in entries:
        d = e.description
        rows.append({"name": e.name, "module": e.target, "package": e.distribution, "problem": e.problem,
                     "version": d.version if d else None, "formats": list(d.formats) if d else [],
                     "bds_versions": list(d.bds_versions) if d else [], "bulk": e.bulk,
                     "summary": d.summary if d else None})
    if as_json:
        write_output(json.dumps(rows, indent=1, ensure_ascii=False), None)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Installed adapters ({len(rows)})")
    for col in ("name", "version", "package", "formats", "BDS", "bulk", "summary"):
        table.add_column(col, overflow="fold")
    for r in rows:
        if r["problem"]:
            table.add_row(r["name"], "-", r["package"] or "-", "-", "-", "-", f"[red]broken: {r['problem']}[/]")
            continue
        table.add_row(r["name"], r["version"], r["package"] or "-", ", ".join(r["formats"]),
                      ", ".join(r["bds_versions"]), "yes" if r["bulk"] else "no", r["summary"])
    Console(width=160).print(table)


@adapters_app.command("coverage")
def coverage(
    name: str = typer.Argument(..., help="adapter name (see jgz adapters list)"),
    mapping: Path | None = typer.Option(None, "--mapping", help="a mapping file instead of the shipped one"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Which BDS elements an adapter fills, which it drops, and which vendor fields it leaves unmapped."""
    from ..adapters.errors import AdapterError
    from ..adapters.registry import get

    try:
        adapter = get(name)
        cov = adapter.coverage(**({"mapping": mapping} if mapping else {}))
    except AdapterError as exc:
        _adapter_error(exc)
    if as_json:
        write_output(json.dumps({"fills": sorted(cov.fills), "drops": sorted(cov.drops), "unmapped": cov.unmapped},
                                indent=1, ensure_ascii=False), None)
        return
    from ..standards.catalogue import get_catalogue

    cat = get_catalogue()
    by_rubriek: dict[str, list[int]] = {}
    for n in sorted(cov.fills):
        e = cat.element(n)
        by_rubriek.setdefault((e.rubriek if e else None) or "-", []).append(n)
    typer.echo(f"{name}: fills {len(cov.fills)} BDS elements, drops {len(cov.drops)} the gateway can carry")
    for rubriek in sorted(by_rubriek):
        r = cat.rubriek(rubriek)
        typer.echo(f"  {rubriek} {r.name if r else ''}: {', '.join(map(str, by_rubriek[rubriek]))}")
    if cov.unmapped:
        typer.echo("deliberately unmapped vendor fields:")
        for f, why in cov.unmapped.items():
            typer.echo(f"  {f}: {why}")


@adapters_app.command("check")
def check(mapping: Path = typer.Argument(..., help="a mapping file (TOML)")) -> None:
    """Load a mapping file and check it against the BDS catalogue it names."""
    from ..adapters.errors import AdapterError
    from ..adapters.mapping import load

    try:
        m = load(mapping)
    except AdapterError as exc:
        _adapter_error(exc)
    typer.echo(f"{mapping}: ok ({m.name}, {m.kind}, BDS {m.bds}): {len(m.tables)} tables, "
               f"{len(m.elements())} BDS elements, {len(m.unmapped())} fields deliberately unmapped")


def _date(value: str | None, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else dt.date.today()
    except ValueError:
        fail(f"{what}: {value!r} is not a date (YYYY-MM-DD)")


@app.command()
def synth(
    count: int = typer.Option(..., "--count", min=1, help="number of dossiers"),
    seed: int = typer.Option(..., "--seed", help="random seed (same seed, same dossiers)"),
    fmt: str = typer.Option(..., "--format", help="csv-export, json-export or hl7v3"),
    output: Path = typer.Option(..., "-o", "--output", help="directory to write"),
    today: str | None = typer.Option(None, "--today", help="reference date YYYY-MM-DD (default: today)"),
    bds: str = typer.Option("4.2.0", "--bds", help="BDS version of hl7v3 output: 3.2.6, 4.0.2, 4.1.3 or 4.2.0"),
    start: int = typer.Option(0, "--start", min=0, help="number of the first dossier (to extend a set)"),
) -> None:
    """Generate realistic, BDS-valid synthetic dossiers (deterministic for a seed and date)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..adapters.errors import AdapterError
    from ..adapters.synth_export import export

    reference = _date(today, "--today")
    try:
        with Progress(TextColumn("synth"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      transient=True) as bar:
            task = bar.add_task("synth", total=count)
            n, skipped = export(fmt, output, count, seed, reference, bds=bds, start=start,
                                progress=lambda done: bar.update(task, completed=done))
    except AdapterError as exc:
        _adapter_error(exc)
    there = f" ({skipped} already there)" if skipped else ""
    typer.echo(f"wrote {n} synthetic dossiers ({fmt}, seed {seed}, as of {reference}) to {output}{there}")


@app.command()
def migrate(
    source: tuple[str, Path] = typer.Option(..., "--from", help="source adapter and path: --from csv-export DIR"),
    destination: tuple[str, Path] = typer.Option(..., "--to", help="destination adapter and path: --to hl7v3 DIR"),
    bds: str = typer.Option("4.2.0", "--bds", help="BDS version of the dossiers: 4.1.3 or 4.2.0, or for hl7v3 output also 3.2.6 or 4.0.2 (converted from 4.1.3)"),
    workers: int = typer.Option(1, "--workers", min=1, help="worker processes"),
    mapping_from: Path | None = typer.Option(None, "--mapping-from", help="mapping file for the source"),
    mapping_to: Path | None = typer.Option(None, "--mapping-to", help="mapping file for the destination"),
    created: str | None = typer.Option(None, "--created", help="message creation time, ISO (default: now)"),
    sender: str = typer.Option("JGZGW", "--sender-app", help="AORTA application id of the sender"),
    receiver: str = typer.Option("JGZGW", "--receiver-app", help="AORTA application id of the receiver"),
    uzi: str = typer.Option("000000000", "--uzi-system", help="UZI system number of the sending system (9 digits)"),
    ura: str | None = typer.Option(None, "--ura", help="URA of the sending organisation (8 digits); default: "
                                                       "each dossier's newest organisation (element 603)"),
    org_name: str | None = typer.Option(None, "--org-name", help="name of the sending organisation (with --ura)"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Move every dossier from one format to another: resumable, an error file per failed dossier.

    Dossiers already in the destination are skipped, so a re-run continues an interrupted one.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from ..adapters.errors import AdapterError
    from ..adapters.migrate import migrate as run
    from ..adapters.to_dossier import Envelope

    try:
        when = dt.datetime.fromisoformat(created) if created else dt.datetime.now().replace(microsecond=0)
    except ValueError:
        fail(f"--created: {created!r} is not an ISO date-time")
    check_identifier("--uzi-system", "UZI", uzi)
    check_identifier("--ura", "URA", ura)
    envelope = Envelope(created=when, sender_application=sender, receiver_application=receiver, uzi_system=uzi,
                        ura=ura, organisation_name=org_name)
    src_options = {"bds": bds, "envelope": envelope} | ({"mapping": str(mapping_from)} if mapping_from else {})
    dst_options = {"bds": bds, "envelope": envelope} | ({"mapping": str(mapping_to)} if mapping_to else {})
    console = Console(stderr=True)
    bar = Progress(TextColumn("migrate"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                   TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(), console=console)
    task = bar.add_task("migrate", total=None, rate="")

    def progress(done: int, total: int | None) -> None:
        if not bar.live.is_started:  # shown once the source has been opened and a batch is done
            bar.start()
        elapsed = bar.tasks[0].elapsed or 0
        bar.update(task, completed=done, total=total, rate=f"{done / elapsed:.0f} dossiers/s" if elapsed else "")

    try:
        summary = run(source[0], source[1], destination[0], destination[1], workers=workers,
                      source_options=src_options, dest_options=dst_options, progress=progress)
    except AdapterError as exc:
        _stop(bar)
        _adapter_error(exc)
    except KeyboardInterrupt:
        _stop(bar)
        console.print("interrupted: what was written is kept; run the same command again to continue")
        raise typer.Exit(130) from None
    _stop(bar)
    data = summary.as_dict()
    if as_json:
        write_output(json.dumps(data, indent=1, ensure_ascii=False), None)
    else:
        _print_summary(data)
    raise typer.Exit(1 if summary.failed else 0)


def _stop(bar) -> None:
    if bar.live.is_started:
        bar.stop()


def _print_summary(d: dict) -> None:
    s = d["seconds"]
    typer.echo(f"{d['source']} → {d['destination']}")
    typer.echo(f"  dossiers: {d['seen']} seen, {d['written']} written, {d['skipped']} already there, "
               f"{d['failed']} failed" + (f" (see {d['errors_dir']})" if d["failed"] else ""))
    other = f"; other items dropped (groepen, rubrieken, parts, texts of 'other' codes): {d['other_dropped']}" if d["other_dropped"] else ""
    typer.echo(f"  BDS elements: {d['elements_mapped']} mapped, {d['elements_dropped']} dropped; "
               f"vendor fields dropped (declared unmapped): {d['fields_dropped']}{other}")
    for what, n in list(d["dropped"].items())[:12]:
        typer.echo(f"    dropped {what}: {n}")
    typer.echo(f"  time: {s['wall']:.1f} s wall ({d['dossiers_per_second']} dossiers/s; per dossier "
               f"p50 {d['ms_per_dossier']['p50']} ms, p95 {d['ms_per_dossier']['p95']} ms); read {s['scan']:.1f} s, "
               f"load {s['load']:.1f} s, render+validate {s['render']:.1f} s, write {s['commit']:.1f} s")
