"""What the mapping-driven adapters share: rows → facts → Dossier, and back.

``csv-export`` and ``json-export`` differ only in how they find rows (files per table,
or one nested document per client); everything between rows and a Dossier is here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..standards.model import Dossier
from . import elements as E
from .base import Coverage, Loaded
from .errors import SourceError
from .mapping import Mapping, load, shipped
from .record import Record
from .rows import Bundle, from_record, to_record
from .to_dossier import VERSIONS, BuildError, Envelope, build, buildable


@lru_cache(maxsize=16)
def _load(path: str) -> Mapping:
    return load(path)


def mapping_for(name: str, options: dict[str, Any]) -> Mapping:
    """The mapping named by the ``mapping`` option (a path), else the shipped one."""
    path = options.get("mapping") or shipped(name)
    return _load(str(Path(path)))


def target_version(mapping: Mapping, options: dict[str, Any]) -> str:
    return buildable(options.get("bds") or (mapping.bds if mapping.bds in VERSIONS else VERSIONS[-1]))


def default_envelope(record: Record) -> Envelope:
    """A deterministic envelope when none is given: created at the dossier's last known date."""
    dates: list[dt.date] = []
    for a in record.activities:
        if isinstance(a.values.get(724), dt.date):
            dates.append(a.values[724])
    for g in record.facts.groups_of("G092"):
        if isinstance(g.values.get(488), dt.date):
            dates.append(g.values[488])
    last = max((d if isinstance(d, dt.datetime) else dt.datetime.combine(d, dt.time()) for d in dates),
               default=dt.datetime(2000, 1, 1))
    return Envelope(created=last)


def to_dossier(mapping: Mapping, key: str, bundle: Bundle, origin: str, options: dict[str, Any]) -> Loaded:
    """Rows of one client → a Dossier in the target BDS version (errors name origin and field)."""
    record, dropped_fields = to_record(mapping, key, bundle)
    envelope = options.get("envelope") or default_envelope(record)
    try:
        dossier, dropped = build(record, target_version(mapping, options), envelope)
    except BuildError as exc:
        field = field_of(mapping, exc.element)
        raise SourceError(origin, field, exc.message, key) from None
    for n, count in dropped.items():
        dropped_fields[f"element {n}"] += count
    return Loaded(key=key, dossier=dossier, dropped=dropped_fields, elements=record.element_counts())


def to_bundle(mapping: Mapping, key: str, dossier: Dossier) -> tuple[Bundle, Counter[str]]:
    """A Dossier → one client's rows, and what the mapping cannot hold: ``element N``, and
    ``text of element N`` for an "other" whose text no field holds (see the field option ``other``)."""
    from .from_dossier import extract
    from .record import Other

    record, unread = extract(dossier, key)
    bundle, lost = from_record(mapping, record)
    lost.update({f"element {n}": c for n, c in unread.items()})
    with_text = {f.element for t in mapping.tables.values() for f in t.all_fields() if f.other}
    for n, value in record.items():
        if isinstance(value, Other) and n not in with_text:
            lost[f"text of element {n}"] += 1
    return bundle, lost


def field_of(mapping: Mapping, element: int | str | None) -> str | None:
    """``table.column`` of the vendor field that holds ``element`` (first one), if any."""
    try:
        number = int(element) if element is not None else None
    except ValueError:
        return None
    for table in mapping.tables.values():
        for f in table.all_fields():
            if f.element == number:
                return f"{table.name}.{f.name}"
    return None


def coverage(mapping: Mapping) -> Coverage:
    cat = E.catalogue(mapping.bds)
    placeable = frozenset(e.number for e in cat.elements() if E.levels(e.number, cat))
    fills = frozenset(mapping.elements())
    return Coverage(fills=fills, drops=placeable - fills, unmapped=mapping.unmapped())
