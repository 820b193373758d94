"""``fhir``: FHIR R4 (nl-core) Bundles, one per dossier: written as JSON, read as JSON or XML.

A thin adapter around :mod:`...standards.fhir`. Every Bundle written is checked against
the FHIR models first; the facts a Bundle does not give back when read (measured per
dossier, :func:`lost_in`) and the view's unmapped elements are reported as dropped.
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
    write_all,
)
from .errors import SourceError
from .files import FileWriter, file_count, file_units
from .record import Record

NAME = "fhir"
VERSION = "1.0"


def describe() -> Description:
    return Description(name=NAME, version=VERSION, formats=("FHIR R4 Bundle JSON (nl-core), one file per dossier; reads FHIR XML too",),
                       bds_versions=("4.1.3", "4.2.0"),
                       summary="FHIR R4 view of the dossier: Patient, RelatedPerson, Group (households), "
                               "PractitionerRole and Organization (huisarts, care providers, childcare, school), "
                               "Encounter, Observation, Immunization, Consent")


@cache
def _probe() -> tuple[frozenset[int], frozenset[int]]:
    """Elements that come back from a Bundle, and elements lost in it, measured on synthetic
    dossiers: each is built, viewed as a Bundle and read back (see :func:`lost_in`)."""
    import datetime as dt

    from ..standards.fhir import to_fhir
    from .from_dossier import extract
    from .synth import generate
    from .to_dossier import Envelope, build

    fills: set[int] = set()
    drops: set[int] = set()
    envelope = Envelope(created=dt.datetime(2025, 6, 1))
    for record in generate(25, 1, dt.date(2025, 6, 1)):
        dossier = build(record, "4.2.0", envelope)[0]
        bundle, _ = to_fhir(dossier, check=False)
        before = extract(dossier, record.key)[0]
        lost = lost_in(before, bundle, record.key)
        drops |= set(lost)
        fills |= set(before.element_counts()) - set(lost)
    return frozenset(fills), frozenset(drops)


def lost_in(before: Record, bundle: dict, key: str) -> Counter[int]:
    """Per element, the values of a dossier's BDS facts (``before``) that its Bundle does not
    give back when read: what the view has no place for (a contact's second note) or shows
    in a form that does not read back. ``bundle`` is one :func:`to_fhir` has just checked,
    and the FHIR models read the view's Bundles as they are (a test holds this), so it is
    read without checking it twice."""
    from ..standards.fhir.read import read_bundle
    from .from_dossier import extract

    return before.lost_in(extract(read_bundle(bundle), key)[0])


def coverage(**options: Any) -> Coverage:
    fills, drops = _probe()
    return Coverage(fills=fills, drops=drops)


#: Bundle files: FHIR JSON, and FHIR XML as Nictiz publishes nl-core.
PATTERNS = ("*.json", "*.xml")


def units(source: str | Path, **options: Any) -> Iterator[Unit]:
    """One unit per ``*.json`` or ``*.xml`` file (a directory, sorted by name) or the one file given."""
    return file_units(source, PATTERNS)


def count(source: str | Path, **options: Any) -> int | None:
    return file_count(source, PATTERNS)


def load(unit: Unit, **options: Any) -> Loaded:
    from ..standards.fhir import FhirError, bundle_of_bytes, from_fhir_report
    from ..standards.xmlsafe import XmlRejected, read_file

    path = Path(unit.payload)
    try:
        bundle = bundle_of_bytes(read_file(path))
    except OSError as exc:
        raise SourceError(str(path), None, f"cannot read: {exc.strerror}", unit.key) from None
    except (XmlRejected, FhirError) as exc:  # too large; not JSON, or not a readable XML Bundle
        where = getattr(exc, "where", None)
        raise SourceError(str(path), where if where not in (None, "$", "/") else None,
                          exc.message, unit.key) from None
    try:
        read, unplaced = from_fhir_report(bundle)
    except FhirError as exc:
        raise SourceError(str(path), exc.where, exc.message, unit.key) from None
    return rebuilt(read, unit.key, str(path), options, unplaced, bundle)


def rebuilt(read: Dossier, key: str, origin: str, options: dict[str, Any],
            unplaced: Counter[int] | None = None, bundle: dict | None = None) -> Loaded:
    """The DOB dossier for what a Bundle holds, built from its BDS facts.

    A Bundle read back is only the skeleton of a DOB (no templates, wrapper or rubriek
    structure), so it is never written out as it is: its facts are read as every vendor
    format's are and built anew, in the Bundle's BDS version or ``bds``. BDS elements of
    the Bundle that the facts do not hold (no place in a dossier built here) are dropped
    and counted, with those the Bundle reader had no place for (``unplaced``) and, given
    the ``bundle``, its resources of a type the reader takes nothing from (``resource X``).
    """
    from .declarative import default_envelope
    from .from_dossier import extract
    from .to_dossier import INTERACTION, BuildError, build, buildable

    record, unread = extract(read, key)
    version = buildable(options.get("bds") or ("4.2.0" if read.interaction == INTERACTION["4.2.0"] else "4.1.3"))
    try:
        dossier, dropped = build(record, version, options.get("envelope") or default_envelope(record))
    except BuildError as exc:
        where = f"element {exc.element}" if exc.element is not None else None
        raise SourceError(origin, where, exc.message, key) from None
    lost = Counter({f"element {n}": c for n, c in (dropped + unread + (unplaced or Counter())).items()})
    if bundle is not None:  # resources the reader takes nothing from
        from ..standards.fhir.read import unread_resources

        lost.update({f"resource {kind}": n for kind, n in unread_resources(bundle).items()})
    return Loaded(key=key, dossier=dossier, dropped=lost, elements=record.element_counts())


def read(source: str | Path, **options: Any) -> Iterator[Dossier]:
    return read_all(units, load, source, **options)


class FhirWriter(FileWriter):
    """Writes ``<key>.json`` Bundles (checked against the FHIR models); a re-run skips files already there."""

    suffix = ".json"

    def render(self, key: str, dossier: Dossier) -> Rendered:
        from ..standards.fhir import FhirError, to_fhir
        from .from_dossier import extract

        try:
            bundle, report = to_fhir(dossier)
        except FhirError as exc:
            raise SourceError(f"record {key}", exc.where, f"the Bundle is not valid FHIR: {exc}", key) from None
        dropped = Counter({f"element {row['element']}": row["occurrences"] - row["mapped"]
                           for row in report["elements"] if row["occurrences"] > row["mapped"]})
        dropped |= Counter({f"element {n}": c for n, c in lost_in(extract(dossier, key)[0], bundle, key).items()})
        return Rendered(key, json.dumps(bundle, ensure_ascii=False, indent=1).encode("utf-8"), dropped)



def writer(destination: str | Path, **options: Any) -> FhirWriter:
    return FhirWriter(destination, **options)


def write(dossiers: Iterable[Dossier], destination: str | Path, **options: Any) -> None:
    write_all(writer(destination, **options), dossiers)
