"""``jgz parse``, ``jgz build``, ``jgz validate``: DOB messages in and out of the canonical model."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path

import typer

from . import app


class Format(str, Enum):
    text = "text"
    json = "json"


def fail(message: str, code: int = 2) -> None:
    """One clear line on stderr and a non-zero exit; never a traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def check_identifier(option: str, kind: str, value: str | None) -> None:
    """An identifier option in the format the DTr1 II.NL rules require, else a clear error
    now rather than a message the validator refuses later."""
    from ..standards.validation.datatypes import IDENTIFIER_FORMAT

    matches, shape = IDENTIFIER_FORMAT[kind]
    if value is not None and not matches(value):
        fail(f"{option}: {value!r} is not a {kind} number ({shape})")


def write_output(data: bytes | str, output: Path | None) -> None:
    if isinstance(data, str):
        data = data.encode("utf-8")
    if output is None:
        sys.stdout.buffer.write(data)
        if not data.endswith(b"\n"):
            sys.stdout.buffer.write(b"\n")
        return
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(output)  # never a half-written output file


def read_input(path: Path) -> bytes:
    """The file's bytes, refusing one larger than the XML limit before reading it."""
    from ..standards.xmlsafe import XmlRejected, read_file

    try:
        return read_file(path)
    except OSError as exc:
        fail(f"{path}: {exc.strerror}")
    except XmlRejected as exc:
        fail(f"{path}: {exc.message}")


def read_dossier_file(path: Path):
    """A dossier from a DOB message (XML) or from dossier JSON, with a clear error otherwise."""
    from ..standards.hl7v3 import MessageError, read_message
    from ..standards.model import from_json
    from ..standards.xmlsafe import XmlRejected

    data = read_input(path)
    if data.lstrip()[:1] == b"{":
        from pydantic import ValidationError

        try:
            return from_json(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = "/".join(str(p) for p in first["loc"])
            fail(f"{path}: not a dossier JSON: {where}: {first['msg']} ({exc.error_count()} problem(s))")
    try:
        return read_message(data)
    except XmlRejected as exc:
        fail(f"{path}: {exc.message}" + (f" (line {exc.line})" if exc.line else ""))
    except MessageError as exc:
        fail(f"{path}: {exc.message} at {exc.xpath}")


class Source(str, Enum):
    hl7v3 = "hl7v3"
    ada = "ada"
    fhir = "fhir"


def _parse_date(text: str | None):
    from datetime import date

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--reference-date {text!r} is not a date (YYYY-MM-DD)")


def read_source(path: Path, source: "Source", reference_date=None, envelope=None):
    """A dossier from a DOB message, dossier JSON, an ADA instance or a FHIR Bundle;
    ``envelope``: for ADA, the message around the dossier (default: Nictiz's placeholders)."""
    if source is Source.hl7v3:
        return read_dossier_file(path)
    from ..standards.xmlsafe import XmlRejected

    data = read_input(path)
    if source is Source.ada:
        from ..standards.ada import AdaError, read_ada_message
        from ..standards.hl7v3 import MessageError, read_message

        try:
            reading = read_ada_message(data, reference_date=reference_date, envelope=envelope)
            dossier = read_message(reading.root)
        except XmlRejected as exc:
            fail(f"{path}: {exc.message}" + (f" (line {exc.line})" if exc.line else ""))
        except (AdaError, MessageError) as exc:
            fail(f"{path}: {exc}")
        dossier.bds_version = "4.0.2"
        for xpath, name, element in reading.skipped:
            typer.echo(f"warning: {path}: {xpath}: {name}" + (f" (BDS {element})" if element else "")
                       + " has no place in the DOB and is not carried", err=True)
        return dossier
    from ..standards.fhir import FhirError, bundle_of_bytes, from_fhir_report

    try:
        bundle = bundle_of_bytes(data)  # FHIR JSON or FHIR XML
    except FhirError as exc:
        fail(f"{path}: {exc}")
    from ..adapters.errors import SourceError
    from ..adapters.fhir import rebuilt

    try:  # a Bundle holds no DOB structure: its BDS facts are built into one, as jgz migrate does
        read, unplaced = from_fhir_report(bundle)
        loaded = rebuilt(read, path.stem, str(path), {}, unplaced, bundle)
    except FhirError as exc:
        fail(f"{path}: {exc}")
    except SourceError as exc:
        fail(str(exc))
    for what, count in sorted(loaded.dropped.items()):
        typer.echo(f"warning: {path}: {what} ({count}x) has no place in a DOB built here and is not carried", err=True)
    return loaded.dossier


@app.command()
def parse(
    message: Path = typer.Argument(..., help="DOB message (REPC_IN902120NL, NL03 or NL04), ADA instance or FHIR Bundle"),
    output: Path | None = typer.Option(None, "-o", "--output", help="write the dossier JSON here"),
    source_format: Source = typer.Option(Source.hl7v3, "--from", help="input format: hl7v3, ada or fhir"),
    reference_date: str | None = typer.Option(None, "--reference-date",
                                              help="ADA: the date relative dates (T-1D, DOB+3M) count from (default today)"),
    ura: str | None = typer.Option(None, "--ura", help="ADA: URA of the sending organisation (8 digits)"),
    org_name: str | None = typer.Option(None, "--org-name", help="ADA: name of the sending organisation"),
    uzi: str | None = typer.Option(None, "--uzi-system", help="ADA: UZI system number of the sending system (9 digits)"),
    sender: str | None = typer.Option(None, "--sender-app", help="ADA: AORTA application id of the sender"),
    receiver: str | None = typer.Option(None, "--receiver-app", help="ADA: AORTA application id of the receiver"),
) -> None:
    """Read a message into the canonical dossier model and print it as JSON.

    An ADA instance holds the dossier only: the message around it (sending organisation and
    system, application ids) comes from the options, else from Nictiz's placeholders
    ({$orgId}...), which a DOB cannot be sent with.
    """
    from ..standards.model import to_json

    envelope = None
    given = {"organisation_ura": ura, "organisation_name": org_name, "device_uzi": uzi,
             "sender_application": sender, "receiver_application": receiver}
    if any(v is not None for v in given.values()):
        if source_format is not Source.ada:
            fail("--ura, --org-name, --uzi-system, --sender-app and --receiver-app are for --from ada")
        check_identifier("--ura", "URA", ura)
        check_identifier("--uzi-system", "UZI", uzi)
        from ..standards.ada.to_hl7 import Envelope

        envelope = Envelope(**{k: v for k, v in given.items() if v is not None})
    dossier = read_source(message, source_format, _parse_date(reference_date), envelope)
    write_output(to_json(dossier), output)


class Target(str, Enum):
    hl7v3 = "hl7v3"
    ada = "ada"
    fhir = "fhir"


@app.command()
def build(
    dossier: Path = typer.Argument(..., help="dossier JSON (from jgz parse) or a DOB message"),
    interaction: str | None = typer.Option(
        None, "--interaction",
        help="REPC_IN902120NL, REPC_IN902120NL03 or REPC_IN902120NL04 (default: the dossier's own; another is converted to)"
    ),
    output: Path | None = typer.Option(None, "-o", "--output", help="write the message here"),
    target: Target = typer.Option(Target.hl7v3, "--to", help="output format: hl7v3 (DOB), ada or fhir"),
) -> None:
    """Write a dossier as a DOB message (or as an ADA instance or a FHIR Bundle)."""
    from ..standards.hl7v3 import INTERACTIONS, MessageError, write_message

    if interaction is not None and interaction not in INTERACTIONS:
        fail(f"unknown interaction {interaction!r}; choose one of {', '.join(INTERACTIONS)}")
    if interaction is not None and target is not Target.hl7v3:
        fail("--interaction applies to --to hl7v3 only")
    model = read_dossier_file(dossier)
    if target is Target.ada:
        from ..standards.ada import AdaError, write_ada_report

        try:
            data, skipped = write_ada_report(model)
        except (AdaError, MessageError) as exc:
            fail(f"{dossier}: {exc}")
        for xpath, element, why in skipped:
            typer.echo(f"warning: {dossier}: {xpath}" + (f" (BDS {element})" if element else "") + f": {why}", err=True)
        write_output(data, output)
        return
    if target is Target.fhir:
        from ..standards.fhir import FhirError, to_fhir

        try:
            bundle, _ = to_fhir(model)
        except FhirError as exc:
            fail(f"{dossier}: the FHIR view is not valid FHIR: {exc}")
        write_output(json.dumps(bundle, indent=1, ensure_ascii=False), output)
        return
    if interaction is not None and interaction != model.interaction:  # another message version: convert
        from ..standards.convert import ConversionError, convert
        from ..standards.convert.versions import SOURCE_OF

        try:
            model, report = convert(model, SOURCE_OF[interaction])
        except ConversionError as exc:
            fail(f"{dossier}: {exc}")
        for change in report.dropped:
            typer.echo(f"warning: {dossier}: {change.xpath}" + (f" (BDS {change.element})" if change.element else "")
                       + f": BDS {report.target_version} has no place for it: {change.message}", err=True)
    try:
        write_output(write_message(model, interaction), output)
    except MessageError as exc:
        fail(exc.message)


@app.command()
def validate(
    files: list[Path] = typer.Argument(..., help="messages to validate"),
    output_format: Format = typer.Option(Format.text, "--format", help="text or json"),
    warnings: bool = typer.Option(True, "--warnings/--no-warnings", help="show warnings in text output"),
) -> None:
    """Validate messages: XSD, Nictiz template and datatype rules, BDS rules.

    Exit status 0 only if no file has an error.
    """
    from ..standards.validation import helper, validate_file

    if sum(size for size in map(_size, files) if size >= helper.SPLIT_FROM) >= helper.BATCH_FROM:
        helper.enable()  # a batch of large messages: each checked on both cores
    reports = [validate_file(f) for f in files]
    if output_format is Format.json:
        write_output(json.dumps([r.as_dict() for r in reports], indent=1, ensure_ascii=False), None)
    else:
        _print_text(reports, warnings)
    raise typer.Exit(0 if all(r.valid for r in reports) else 1)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # validate_file reports it


def _print_text(reports, show_warnings: bool) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    for r in reports:
        errors = len(r.errors)
        warns = sum(1 for f in r.findings if f.severity == "warning")
        status = "[green]valid[/]" if r.valid else "[red]INVALID[/]"
        what = f"{r.interaction} (BDS {r.bds_version})" if r.interaction else "not a DOB"
        console.print(f"{status} {escape(r.file)}: {what}, {errors} error(s), {warns} warning(s)")
        for f in r.findings:
            if f.severity == "warning" and not show_warnings:
                continue
            colour = {"error": "red", "warning": "yellow"}.get(f.severity, "blue")
            element = f" [element {f.element}]" if f.element else ""
            console.print(f"  [{colour}]{f.severity}[/] {escape(f.rule)}{element} {escape(f.xpath)}\n    {escape(f.message)}")
    n_bad = sum(1 for r in reports if not r.valid)
    console.print(f"{len(reports)} file(s), {n_bad} invalid")


@app.command()
def summary(
    files: list[Path] = typer.Argument(..., help="DOB messages or dossier JSON files"),
    output_format: Format = typer.Option(Format.text, "--format", help="text or json"),
) -> None:
    """Summarise dossiers: child, organisation, activities, rubrieken, vaccinations, consents."""
    from ..standards.summary import summarise

    rows = [summarise(read_dossier_file(f), str(f)) for f in files]
    if output_format is Format.json:
        write_output(json.dumps(rows, indent=1, ensure_ascii=False), None)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Dossiers")
    for col in ("file", "BDS", "child BSN", "born", "from URA", "activities", "rubrieken", "observations", "vaccinations", "consents"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            Path(r["file"]).name, r["bds_version"], r["bsn"] or "-", r["birth_date"] or "-", r["sender_ura"] or "-",
            str(r["activities"]), str(len(r["rubrieken"])), str(r["observations"]),
            f"{r['vaccinations']} ({r['refusals']} refused)", str(len(r["consents"])),
        )
    Console(width=150).print(table)
