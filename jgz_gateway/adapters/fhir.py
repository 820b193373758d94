"""``fhir``: FHIR R4 (nl-core) Bundles as JSON, one per dossier.

A thin adapter around :mod:`...standards.fhir`. Every Bundle written is checked against
the FHIR models first; the elements a Bundle cannot hold (the view's coverage report)
are reported as dropped.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..standards.model import Dossier
from .base import (
    Coverage,
    Description,
    Loaded,
    Rendered,
    Unit,
    read_all,
    unwrapped,
    write_all,
)
from .errors import SourceError
from .files import FileWriter, file_count, file_units

NAME = "fhir"
VERSION = "1.0"


def describe() -> Description:
    return Description(name=NAME, version=VERSION, formats=("FHIR R4 Bundle JSON (nl-core), one file per dossier",),
                       bds_versions=("4.1.3", "4.2.0"),
                       summary="FHIR R4 view of the dossier: Patient, RelatedPerson, Encounter, Observation, "
                               "Immunization, Consent")


@cache
def _probe() -> tuple[frozenset[int], frozenset[int]]:
    """Elements the FHIR view maps and leaves unmapped, measured on synthetic dossiers."""
    import datetime as dt

    from ..standards.fhir import to_fhir
    from .synth import generate
    from .to_dossier import Envelope, build

    mapped: set[int] = set()
    unmapped: set[int] = set()
    envelope = Envelope(created=dt.datetime(2025, 6, 1))
    for record in generate(25, 1, dt.date(2025, 6, 1)):
        _, report = to_fhir(build(record, "4.2.0", envelope)[0], check=False)
        for row in report["elements"]:
            if row["element"].isdigit():
                (mapped if row["status"] == "mapped" else unmapped).add(int(row["element"]))
    return frozenset(mapped), frozenset(unmapped - mapped)


def coverage(**options: Any) -> Coverage:
    fills, drops = _probe()
    return Coverage(fills=fills, drops=drops)


def units(source: str | Path, **options: Any) -> Iterator[Unit]:
    """One unit per ``*.json`` file (a directory, sorted by name) or the one file given."""
    return file_units(source, "*.json")


def count(source: str | Path, **options: Any) -> int | None:
    return file_count(source, "*.json")


def load(unit: Unit, **options: Any) -> Loaded:
    from ..standards import jsonsafe
    from ..standards.fhir import FhirError, from_fhir

    path = Path(unit.payload)
    try:
        bundle = jsonsafe.read_file(path)
    except OSError as exc:
        raise SourceError(str(path), None, f"cannot read: {exc.strerror}", unit.key) from None
    except jsonsafe.JsonRejected as exc:
        raise SourceError(str(path), None, exc.message, unit.key) from None
    try:
        dossier = from_fhir(bundle)
    except FhirError as exc:
        raise SourceError(str(path), exc.where, str(exc).split(": ", 1)[-1], unit.key) from None
    return unwrapped(dossier, unit.key, options)


def read(source: str | Path, **options: Any) -> Iterator[Dossier]:
    return read_all(units, load, source, **options)


class FhirWriter(FileWriter):
    """Writes ``<key>.json`` Bundles (checked against the FHIR models); a re-run skips files already there."""

    suffix = ".json"

    def render(self, key: str, dossier: Dossier) -> Rendered:
        from ..standards.fhir import FhirError, to_fhir

        try:
            bundle, report = to_fhir(dossier)
        except FhirError as exc:
            raise SourceError(f"record {key}", exc.where, f"the Bundle is not valid FHIR: {exc}", key) from None
        dropped = Counter({f"element {row['element']}": row["occurrences"] - row["mapped"]
                           for row in report["elements"] if row["occurrences"] > row["mapped"]})
        return Rendered(key, json.dumps(bundle, ensure_ascii=False, indent=1).encode("utf-8"), dropped)



def writer(destination: str | Path, **options: Any) -> FhirWriter:
    return FhirWriter(destination, **options)


def write(dossiers: Iterable[Dossier], destination: str | Path, **options: Any) -> None:
    write_all(writer(destination, **options), dossiers)
