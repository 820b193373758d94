"""``jgz convert`` (BDS versions) and ``jgz fhir`` (FHIR R4 view of a dossier)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from . import app
from .messages import fail, read_dossier_file, read_input, write_output


def _write_json(data: dict, path: Path) -> None:
    write_output(json.dumps(data, indent=1, ensure_ascii=False), path)


@app.command()
def convert(
    message: Path = typer.Argument(..., help="DOB message (REPC_IN902120NL, NL03 or NL04)"),
    to: str = typer.Option(..., "--to", help="target BDS version: 4.2.0, 4.1.3, 4.0 or 3.2.7"),
    output: Path | None = typer.Option(None, "-o", "--output", help="write the converted message here"),
    report: Path | None = typer.Option(None, "--report", help="write the conversion report (JSON) here"),
) -> None:
    """Convert a DOB to another BDS version; every dropped or changed item is reported."""
    from ..standards.convert import ConversionError, UnknownTarget, convert_bytes
    from ..standards.xmlsafe import XmlRejected

    data = read_input(message)
    try:
        converted, result = convert_bytes(data, to)
    except UnknownTarget as exc:
        fail(str(exc))
    except XmlRejected as exc:
        fail(f"{message}: {exc.message}" + (f" (line {exc.line})" if exc.line else ""))
    except ConversionError as exc:
        fail(f"{message}: {exc}")
    write_output(converted, output)
    if report is not None:
        _write_json(result.as_dict() | {"file": str(message)}, report)
    counts = ", ".join(f"{n} {a}" for a, n in sorted(result.summary().items())) or "no changes"
    steps = " then ".join(result.steps) or "nothing to do"
    typer.echo(f"{message}: BDS {result.source_version} → {result.target_version} ({steps}): {counts}", err=True)


@app.command()
def fhir(
    message: Path = typer.Argument(..., help="DOB message or dossier JSON"),
    output: Path | None = typer.Option(None, "-o", "--output", help="write the FHIR Bundle (JSON) here"),
    report: Path | None = typer.Option(None, "--report", help="write the coverage report (JSON) here"),
) -> None:
    """The dossier as a FHIR R4 Bundle with Nictiz nl-core profiles; the report lists every
    BDS element of the dossier as mapped or unmapped."""
    from ..standards.fhir import FhirError, to_fhir

    dossier = read_dossier_file(message)
    try:
        bundle, coverage = to_fhir(dossier)
    except FhirError as exc:  # a view the FHIR models reject is a gateway bug; say where
        fail(f"{message}: the FHIR view is not valid FHIR: {exc}")
    write_output(json.dumps(bundle, indent=1, ensure_ascii=False), output)
    if report is not None:
        _write_json(coverage | {"file": str(message)}, report)
    s = coverage["summary"]
    typer.echo(f"{message}: {len(bundle['entry'])} resources; {s['mapped']} of {s['elements']} BDS elements mapped",
               err=True)
