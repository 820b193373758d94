"""``hl7v3``: dossieroverdrachtberichten (DOB) as XML files, one per dossier.

Reads every supported interaction (REPC_IN902120NL for BDS 3.2, NL03 for 4.0–4.1.3, NL04
for 4.2.0) through the lossless reader, and writes every one: ``bds`` 3.2.6
(REPC_IN902120NL), 4.0.2 or 4.1.3 (NL03), 4.2.0 (NL04, the default). Every message it
writes is validated first (schema, Nictiz template and datatype rules, BDS rules); one with
errors is refused, never written. A dossier in another BDS version is converted
(:mod:`...standards.convert`), and what the target version cannot carry is reported as dropped.
"""

from __future__ import annotations

from collections import Counter
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
    write_all,
)
from .errors import InvalidOutput, SourceError
from .files import FileWriter, file_count, file_units
from .to_dossier import VERSIONS, Envelope, buildable, requested

NAME = "hl7v3"
VERSION = "1.0"


def describe() -> Description:
    return Description(
        name=NAME, version=VERSION,
        formats=("HL7v3 DOB XML (REPC_IN902120NL, NL03, NL04), one file per dossier",),
        bds_versions=("3.2.6", "4.0.2", "4.1.3", "4.2.0"),
        summary="Dossieroverdrachtbericht: reads and writes every supported version (converting), validated")


def coverage(**options: Any) -> Coverage:
    """What the builder places (in the version it builds in) that the target version carries."""
    from ..standards.convert.versions import carried

    version = _version(options)
    cat = E.catalogue(buildable(version))
    placed = frozenset(e.number for e in cat.elements() if E.levels(e.number, cat))
    fills = placed & carried(_path_version(version))
    return Coverage(fills=fills, drops=placed - fills)


def _version(options: dict[str, Any]) -> str:
    return requested(options.get("bds") or VERSIONS[-1])


def _path_version(version: str) -> str:
    """The converter's name for a catalogue version (3.2.6 → 3.2.7, 4.0.2 → 4.0)."""
    from ..standards.convert import normalise

    return normalise(version)


# --- reading --------------------------------------------------------------------------------


def units(source: str | Path, **options: Any) -> Iterator[Unit]:
    """One unit per ``*.xml`` file (a directory, sorted by name) or the one file given."""
    return file_units(source, "*.xml")


def count(source: str | Path, **options: Any) -> int | None:
    return file_count(source, "*.xml")


def load(unit: Unit, **options: Any) -> Loaded:
    from ..standards.hl7v3 import MessageError, read_message
    from ..standards.xmlsafe import XmlRejected, read_file

    path = Path(unit.payload)
    try:
        dossier = read_message(read_file(path))
    except OSError as exc:
        raise SourceError(str(path), None, f"cannot read: {exc.strerror}", unit.key) from None
    except XmlRejected as exc:
        where = f"{path} line {exc.line}" if exc.line else str(path)
        raise SourceError(where, None, f"{exc.rule}: {exc.message}", unit.key) from None
    except MessageError as exc:
        raise SourceError(str(path), exc.xpath, f"{exc.rule}: {exc.message}", unit.key) from None
    from .from_dossier import extract

    record, unread = extract(dossier, unit.key)
    return Loaded(key=unit.key, dossier=dossier, elements=record.element_counts() + unread)


def read(source: str | Path, **options: Any) -> Iterator[Dossier]:
    return read_all(units, load, source, **options)


# --- writing --------------------------------------------------------------------------------


class Hl7Writer(FileWriter):
    """Writes ``<key>.xml`` per dossier after validating it; a re-run skips files already there."""

    suffix = ".xml"

    def __init__(self, destination: str | Path, **options: Any):
        super().__init__(destination, **options)
        from ..standards.convert.versions import INTERACTION as MESSAGE_OF

        self.version = _path_version(_version(options))
        self.interaction = MESSAGE_OF[self.version]
        self.envelope: Envelope | None = options.get("envelope")
        self.pretty = bool(options.get("pretty", False))

    def render(self, key: str, dossier: Dossier) -> Rendered:
        from ..standards.hl7v3 import write_message
        from ..standards.validation import validate_bytes

        dropped: Counter[str] = Counter()
        if _path_version(dossier.bds_version) != self.version:  # another BDS version: convert, saying what is lost
            from ..standards.convert import ConversionError, convert

            try:
                dossier, report = convert(dossier, self.version)
            except ConversionError as exc:
                raise SourceError(f"record {key}", None, f"cannot convert to BDS {self.version}: {exc}", key) from None
            for change in report.dropped:
                dropped[dropped_key(change.element, change.xpath)] += 1
        data = write_message(dossier, self.interaction, pretty=self.pretty)
        report = validate_bytes(data, key)
        if not report.valid:
            raise InvalidOutput(key, report.findings, data)
        return Rendered(key, data, dropped)



def writer(destination: str | Path, **options: Any) -> Hl7Writer:
    return Hl7Writer(destination, **options)


def write(dossiers: Iterable[Dossier], destination: str | Path, **options: Any) -> None:
    """Validate and write each dossier as ``<dossier number>.xml`` in ``destination``."""
    write_all(writer(destination, **options), dossiers)
