"""``ada``: ADA dataset instances of the DOB v03 (Nictiz's neutral XML, BDS 4.0), one per file.

A thin adapter around :mod:`...standards.ada`. Reading resolves relative ADA dates
(``T-16Y``) against ``reference_date`` (default: the envelope's creation date) and gives
BDS 4.0 dossiers (REPC_IN902120NL03); writing converts other versions to 4.0 first and
reports every item the ADA dataset cannot hold as dropped.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..standards.model import Dossier
from . import elements as E
from .base import (
    Coverage,
    Description,
    Loaded,
    Rendered,
    Unit,
    dropped_key,
    read_all,
    unwrapped,
    write_all,
)
from .errors import SourceError
from .files import FileWriter, file_count, file_units

NAME = "ada"
VERSION = "1.0"


def describe() -> Description:
    return Description(name=NAME, version=VERSION, formats=("ADA instance XML (DOB v03 dataset), one file per dossier",),
                       bds_versions=("4.0.2",),
                       summary="Nictiz ADA dataset instances of the dossieroverdracht (BDS 4.0)")


@cache
def _ada_elements() -> frozenset[int]:
    from ..standards.ada.dataset import dataset

    return frozenset(int(code) for code in dataset().by_code if code.isdecimal())


def coverage(**options: Any) -> Coverage:
    cat = E.catalogue("4.0.2")
    placeable = frozenset(e.number for e in cat.elements() if E.levels(e.number, cat))
    fills = _ada_elements()
    return Coverage(fills=fills, drops=placeable - fills)


def units(source: str | Path, **options: Any) -> Iterator[Unit]:
    """One unit per ``*.xml`` file (a directory, sorted by name) or the one file given."""
    return file_units(source, "*.xml")


def count(source: str | Path, **options: Any) -> int | None:
    return file_count(source, "*.xml")


def load(unit: Unit, **options: Any) -> Loaded:
    from ..standards.ada import AdaError, read_ada_report
    from ..standards.xmlsafe import XmlRejected, read_file

    path = Path(unit.payload)
    envelope = options.get("envelope")
    reference = options.get("reference_date") or (envelope.created.date() if envelope else None)  # None: the ADA reader's default
    try:
        dossier, skipped = read_ada_report(read_file(path), reference_date=reference)
    except OSError as exc:
        raise SourceError(str(path), None, f"cannot read: {exc.strerror}", unit.key) from None
    except XmlRejected as exc:
        raise SourceError(f"{path} line {exc.line}" if exc.line else str(path), None, exc.message, unit.key) from None
    except AdaError as exc:
        raise SourceError(str(path), exc.xpath, exc.message, unit.key) from None
    loaded = unwrapped(dossier, unit.key, options)
    loaded.dropped.update(dropped_key(code, name) for _, name, code in skipped)  # what the DOB has no place for
    return loaded


def read(source: str | Path, **options: Any) -> Iterator[Dossier]:
    return read_all(units, load, source, **options)


class AdaWriter(FileWriter):
    """Writes ``<key>.xml`` ADA instances; a re-run skips files already there."""

    suffix = ".xml"

    def render(self, key: str, dossier: Dossier) -> Rendered:
        from ..standards.ada import write_ada_report

        data, skipped = write_ada_report(dossier, instance_id=key)
        dropped = Counter(dropped_key(code, xpath) for xpath, code, _ in skipped)
        return Rendered(key, data, dropped)



def writer(destination: str | Path, **options: Any) -> AdaWriter:
    return AdaWriter(destination, **options)


def write(dossiers: Iterable[Dossier], destination: str | Path, **options: Any) -> None:
    write_all(writer(destination, **options), dossiers)
