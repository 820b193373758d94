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


def read_dossier_file(path: Path):
    """A dossier from a DOB message (XML) or from dossier JSON, with a clear error otherwise."""
    from ..standards.hl7v3 import MessageError, read_message
    from ..standards.model import from_json
    from ..standards.xmlsafe import MAX_BYTES, XmlRejected

    try:
        if path.stat().st_size > MAX_BYTES:
            fail(f"{path}: larger than {MAX_BYTES:,} bytes")
        data = path.read_bytes()
    except OSError as exc:
        fail(f"{path}: {exc.strerror}")
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


@app.command()
def parse(
    message: Path = typer.Argument(..., help="DOB message (REPC_IN902120NL, NL03 or NL04)"),
    output: Path | None = typer.Option(None, "-o", "--output", help="write the dossier JSON here"),
    source_format: str = typer.Option("hl7v3", "--from", help="input format: hl7v3"),
) -> None:
    """Read a message into the canonical dossier model and print it as JSON."""
    from ..standards.model import to_json

    if source_format != "hl7v3":
        fail(f"unknown input format {source_format!r}")
    dossier = read_dossier_file(message)
    write_output(to_json(dossier), output)


@app.command()
def build(
    dossier: Path = typer.Argument(..., help="dossier JSON (from jgz parse) or a DOB message"),
    interaction: str | None = typer.Option(
        None, "--interaction", help="REPC_IN902120NL, REPC_IN902120NL03 or REPC_IN902120NL04 (default: the dossier's own)"
    ),
    output: Path | None = typer.Option(None, "-o", "--output", help="write the message here"),
) -> None:
    """Write a dossier as a DOB message."""
    from ..standards.hl7v3 import INTERACTIONS, MessageError, write_message

    if interaction is not None and interaction not in INTERACTIONS:
        fail(f"unknown interaction {interaction!r}; choose one of {', '.join(INTERACTIONS)}")
    model = read_dossier_file(dossier)
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
    from ..standards.validation import validate_file

    reports = [validate_file(f) for f in files]
    if output_format is Format.json:
        write_output(json.dumps([r.as_dict() for r in reports], indent=1, ensure_ascii=False), None)
    else:
        _print_text(reports, warnings)
    raise typer.Exit(0 if all(r.valid for r in reports) else 1)


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
