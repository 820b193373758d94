"""``json-export``: a generic vendor export with one nested JSON document per client.

Not any real vendor's format: an example of a package that exports through a JSON API,
driven entirely by ``mappings/json-export.toml``. A table of the mapping is a list of
objects in the document (``path``); an activity's detail tables are lists inside each
activity object. Fields are dotted paths inside an object (``name.family``). A key the
mapping neither maps nor declares unmapped is an error naming the file and the path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..standards import jsonsafe
from ..standards.model import Dossier
from . import declarative
from .base import Coverage, Description, Loaded, Rendered, Unit, read_all, write_all
from .errors import SourceError
from .files import FileWriter, file_count, file_units
from .mapping import Mapping, Table
from .rows import Bundle, Row, get

NAME = "json-export"
VERSION = "1.0"


def describe() -> Description:
    return Description(
        name=NAME, version=VERSION, formats=("JSON, one nested document per client",), bds_versions=("4.1.3", "4.2.0"),
        summary="Generic vendor export (example format, not a real vendor's): one document per client with "
                "parents, organisations, consents and contacts holding measurements, other observations by element number, "
                "vaccinations and notes")


def coverage(**options: Any) -> Coverage:
    return declarative.coverage(declarative.mapping_for(NAME, options))


# --- reading --------------------------------------------------------------------------------


def units(source: str | Path, **options: Any) -> Iterator[Unit]:
    """One unit per ``*.json`` file (a directory, sorted by name, any case) or the one file given."""
    mapping = declarative.mapping_for(NAME, options)
    client = mapping.client
    for unit in file_units(source, "*.json"):
        f = Path(unit.payload)
        try:
            doc = jsonsafe.read_file(f)
        except OSError as exc:
            yield Unit(f.stem, str(f), SourceError(str(f), None, f"cannot read: {exc.strerror}", f.stem))
            continue
        except jsonsafe.JsonRejected as exc:
            where = f"{f.name} line {exc.line}" if exc.line else f.name
            yield Unit(f.stem, str(f), SourceError(where, None, exc.message, f.stem))
            continue
        obj = doc.get(client.source) if isinstance(doc, dict) else None
        key = get(obj, client.key, True) if isinstance(obj, dict) else None
        if key is None or not str(key).strip():
            yield Unit(f.stem, str(f), SourceError(f"{f.name} {client.source}", client.key,
                                                   "missing: the document has no client key", f.stem))
            continue
        yield Unit(str(key).strip(), f.name, doc)


def _check_keys(obj: dict, allowed: set[str], where: str, key: str, mapping: Mapping, table: Table,
                prefix: str = "") -> None:
    for k, v in obj.items():
        path = f"{prefix}{k}"
        if path in allowed:
            continue
        if isinstance(v, dict) and any(a.startswith(path + ".") for a in allowed):
            _check_keys(v, allowed, where, key, mapping, table, path + ".")
            continue
        raise SourceError(where, path, f"is neither mapped nor declared unmapped in {Path(mapping.path).name} "
                          f"(tables.{table.name})", key)


def _rows(mapping: Mapping, table: Table, items: Any, where: str, key: str, link: str | None = None,
          children: tuple[str, ...] = ()) -> list[Row]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise SourceError(where, None, f"expected a list of objects for tables.{table.name}", key)
    allowed = set(table.columns()) | set(table.unmapped) | set(children)  # what a writer may put there
    rows = []
    for i, obj in enumerate(items):
        at = f"{where}[{i}]"
        if not isinstance(obj, dict):
            raise SourceError(at, None, "expected an object", key)
        _check_keys(obj, allowed, at, key, mapping, table)
        rows.append(Row(obj, at, link))
    return rows


def bundle_of(mapping: Mapping, doc: dict, name: str, key: str) -> Bundle:
    """A client's document as rows per table, details linked to their activity's key."""
    client = mapping.client
    if not isinstance(doc, dict):
        raise SourceError(name, None, "expected a JSON object", key)
    top = {t.source for t in mapping.tables.values() if t.role != "detail"}
    for k in doc:
        if k not in top:
            raise SourceError(name, k, f"is not a table of {Path(mapping.path).name}", key)
    bundle: Bundle = {client.name: _rows(mapping, client, [doc[client.source]], f"{name} {client.source}", key)}
    details = [t for t in mapping.tables.values() if t.role == "detail"]
    for table in mapping.tables.values():
        if table.role == "dossier":
            bundle[table.name] = _rows(mapping, table, doc.get(table.source), f"{name} {table.source}", key)
        elif table.role == "activity":
            mine = tuple(d.source for d in details if d.parent == table.name)
            rows = _rows(mapping, table, doc.get(table.source), f"{name} {table.source}", key, children=mine)
            bundle[table.name] = rows
            for row in rows:
                link = get(row.data, table.key, True)
                link = None if link is None else str(link).strip()
                for d in details:
                    if d.parent == table.name:
                        bundle.setdefault(d.name, []).extend(
                            _rows(mapping, d, row.data.get(d.source), f"{row.where}.{d.source}", key, link))
    return bundle


def count(source: str | Path, **options: Any) -> int | None:
    """How many dossiers ``source`` holds (files), for progress bars."""
    return file_count(source, "*.json")


def field_of(element: int | str, **options: Any) -> str | None:
    """The vendor field (``table.column``) that holds a BDS element, for error messages."""
    return declarative.field_of(declarative.mapping_for(NAME, options), element)


def load(unit: Unit, **options: Any) -> Loaded:
    if isinstance(unit.payload, SourceError):
        raise unit.payload
    mapping = declarative.mapping_for(NAME, options)
    bundle = bundle_of(mapping, unit.payload, unit.origin, unit.key)
    return declarative.to_dossier(mapping, unit.key, bundle, unit.origin, options)


def read(source: str | Path, **options: Any) -> Iterator[Dossier]:
    return read_all(units, load, source, **options)


# --- writing --------------------------------------------------------------------------------


def document(mapping: Mapping, bundle: Bundle) -> dict:
    """One client's rows as the nested document (empty lists left out)."""
    doc: dict[str, Any] = {}
    for table in mapping.tables.values():
        rows = bundle.get(table.name, [])
        if table.role == "client" and rows:
            doc[table.source] = rows[0].data
        elif table.role == "dossier" and rows:
            doc[table.source] = [r.data for r in rows]
        elif table.role == "activity" and rows:
            doc[table.source] = [r.data for r in rows]
            by_key = {r.link: r.data for r in rows}
            for detail in mapping.tables.values():
                if detail.role == "detail" and detail.parent == table.name:
                    for r in bundle.get(detail.name, []):
                        by_key[r.link].setdefault(detail.source, []).append(r.data)
    return doc


class JsonWriter(FileWriter):
    """Writes ``<key>.json`` per dossier; a re-run skips files already there."""

    suffix = ".json"

    def __init__(self, destination: str | Path, **options: Any):
        self.mapping = declarative.mapping_for(NAME, options)
        super().__init__(destination, **options)

    def render_bundle(self, key: str, bundle: Bundle) -> bytes:
        return json.dumps(document(self.mapping, bundle), ensure_ascii=False, indent=1).encode("utf-8") + b"\n"

    def render(self, key: str, dossier: Dossier) -> Rendered:
        bundle, dropped = declarative.to_bundle(self.mapping, key, dossier)
        return Rendered(key, self.render_bundle(key, bundle), dropped)



def writer(destination: str | Path, **options: Any) -> JsonWriter:
    return JsonWriter(destination, **options)


def write(dossiers: Iterable[Dossier], destination: str | Path, **options: Any) -> None:
    """Write each dossier as ``<dossier number>.json`` in ``destination``."""
    write_all(writer(destination, **options), dossiers)
