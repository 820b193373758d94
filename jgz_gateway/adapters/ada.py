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
from .base import Coverage, Description, Loaded, Rendered, Unit, dossier_key, dropped_key, safe_name
from .errors import SourceError
from .files import atomic_write, destination_dir, file_count, file_units

NAME = "ada"
VERSION = "1.0"


def describe() -> Description:
    return Description(name=NAME, version=VERSION, formats=("ADA instance XML (DOB v03 dataset), one file per dossier",),
                       bds_versions=("4.0.2",),
                       summary="Nictiz ADA dataset instances of the dossieroverdracht (BDS 4.0)")


@cache
def _ada_elements() -> frozenset[int]:
    from ..standards.ada.dataset import dataset

    return frozenset(int(code) for code in dataset().by_code if code.isdigit())


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
    from ..standards.ada import AdaError, read_ada
    from ..standards.xmlsafe import XmlRejected
    from .from_dossier import extract

    path = Path(unit.payload)
    envelope = options.get("envelope")
    reference = options.get("reference_date") or (envelope.created.date() if envelope else None)  # None: the ADA reader's default
    try:
        dossier = read_ada(path.read_bytes(), reference_date=reference)
    except OSError as exc:
        raise SourceError(str(path), None, f"cannot read: {exc.strerror}", unit.key) from None
    except XmlRejected as exc:
        raise SourceError(f"{path} line {exc.line}" if exc.line else str(path), None, exc.message, unit.key) from None
    except AdaError as exc:
        raise SourceError(str(path), exc.xpath, exc.message, unit.key) from None
    record, unread = extract(dossier, unit.key)
    from .declarative import default_envelope
    from .to_dossier import rewrap

    rewrap(dossier, record, options.get("envelope") or default_envelope(record))  # the format has no wrapper
    return Loaded(key=unit.key, dossier=dossier, elements=record.element_counts() + unread)


def read(source: str | Path, **options: Any) -> Iterator[Dossier]:
    for unit in units(source, **options):
        yield load(unit, **options).dossier


class AdaWriter:
    """Writes ``<key>.xml`` ADA instances; a re-run skips files already there."""

    def __init__(self, destination: str | Path, **options: Any):
        self.folder = Path(destination) if options.get("render_only") else destination_dir(destination)

    def path(self, key: str) -> Path:
        return self.folder / f"{safe_name(key)}.xml"

    def done(self, key: str) -> bool:
        return self.path(key).exists()

    def render(self, key: str, dossier: Dossier) -> Rendered:
        from ..standards.ada import write_ada_report

        data, skipped = write_ada_report(dossier, instance_id=key)
        dropped = Counter(dropped_key(code, xpath) for xpath, code, _ in skipped)
        return Rendered(key, data, dropped)

    def commit(self, rendered: Rendered) -> None:
        atomic_write(self.path(rendered.key), rendered.payload)

    def close(self, complete: bool = True) -> None:
        pass


def writer(destination: str | Path, **options: Any) -> AdaWriter:
    return AdaWriter(destination, **options)


def write(dossiers: Iterable[Dossier], destination: str | Path, **options: Any) -> None:
    w = writer(destination, **options)
    for dossier in dossiers:
        w.commit(w.render(dossier_key(dossier), dossier))
