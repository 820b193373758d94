"""Declarative vendor mappings (TOML), checked against the BDS catalogue when loaded.

A mapping says which vendor field holds which BDS element, with value maps (vendor
code → BDS code), units (cm → mm, kg → g), date formats, which tables hold repeated
groups and activities, and which vendor fields are deliberately not mapped. The file
format is documented in ``mappings/README.md``.

Loading checks everything a file can get wrong against the catalogue of the BDS version
it names: an unknown element, an element the gateway cannot place at that level, a
target code outside the element's value set, a unit that does not fit. Each problem is
a :class:`~.errors.MappingError` naming the file and the line.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import elements as E
from .errors import MappingError
from .tomlines import key_lines, line_of
from .values import UNITS, Field

ROLES = ("client", "dossier", "activity", "detail")
KINDS = ("csv", "json")


@dataclass(frozen=True)
class Table:
    """One vendor table (CSV file) or list of objects (JSON path) and how its rows map.

    ``role``: ``client`` one row per dossier (its key is the dossier's key); ``dossier``
    rows about the dossier; ``activity`` one row per activity (contact moment);
    ``detail`` rows about an activity of table ``parent`` (linked by ``link``; with
    ``optional`` a row without one is about the dossier). With ``every_element`` the
    ``by`` column holds a BDS element number and ``value`` its value in BDS form: every
    element its rows can hold outside a groep that no other table maps is a kind.
    """

    name: str
    role: str
    source: str
    key: str | None
    client: str | None
    parent: str | None
    link: str | None
    optional: bool
    by: str | None
    value: str | None
    fields: tuple[Field, ...]
    kinds: dict[str, tuple[Field, ...]]
    unmapped: dict[str, str]
    line: int | None
    every_element: bool = False
    occurrence: str | None = None  # every_element: the column that names a row's groep occurrence
    other: str | None = None  # every_element: the column with the text of an "other" code

    @property
    def level(self) -> str:
        return "dossier" if self.role in ("client", "dossier") else "activity"

    @property
    def levels(self) -> tuple[str, ...]:
        """Levels its rows land at: an optional detail row without a link is about the dossier."""
        return (self.level, "dossier") if self.role == "detail" and self.optional else (self.level,)

    def columns(self) -> list[str]:
        """Every column the table has, in the order a writer puts them."""
        cols: list[str] = []
        for c in (self.key, self.client, self.link, self.by, self.value, self.occurrence, self.other):
            if c and c not in cols:
                cols.append(c)
        for f in self.all_fields():
            for name in (f.name, f.other):
                if name and name not in cols:
                    cols.append(name)
        cols += [u for u in self.unmapped if u not in cols]
        return cols

    def all_fields(self) -> list[Field]:
        return list(self.fields) + [f for fs in self.kinds.values() for f in fs]


@dataclass(frozen=True)
class Mapping:
    """A loaded, checked mapping file."""

    name: str
    path: str
    kind: str
    bds: str
    description: str
    options: dict[str, Any]
    tables: dict[str, Table]
    _lines: dict = field(repr=False, default_factory=dict)

    @property
    def client(self) -> Table:
        return next(t for t in self.tables.values() if t.role == "client")

    def elements(self) -> set[int]:
        """Every BDS element the mapping fills."""
        return {f.element for t in self.tables.values() for f in t.all_fields()}

    def unmapped(self) -> dict[str, str]:
        """Vendor fields deliberately not mapped, as ``table.field`` → reason."""
        return {f"{t.name}.{c}": why for t in self.tables.values() for c, why in t.unmapped.items()}


class _Loader:
    def __init__(self, path: Path, text: str):
        self.path = str(path)
        self.lines = key_lines(text)

    def fail(self, message: str, *where: str) -> MappingError:
        return MappingError(self.path, line_of(self.lines, *where), message)

    def load(self, data: dict[str, Any]) -> Mapping:
        fmt = data.get("format")
        if not isinstance(fmt, dict):
            raise self.fail("missing [format] table (name, kind, bds)")
        for key in ("name", "kind", "bds"):
            if not isinstance(fmt.get(key), str):
                raise self.fail(f"[format] needs {key} = \"...\"", "format", key)
        if fmt["kind"] not in KINDS:
            raise self.fail(f"[format] kind must be one of {', '.join(KINDS)}, not {fmt['kind']!r}", "format", "kind")
        from ..standards.catalogue import UnknownVersion, normalise_version

        try:
            self.bds = normalise_version(fmt["bds"])
        except UnknownVersion as exc:
            raise self.fail(str(exc), "format", "bds") from None
        self.cat = E.catalogue(self.bds)
        self.kind = fmt["kind"]
        self.options = {k: v for k, v in fmt.items() if k not in ("name", "kind", "bds", "description")}
        self.value_maps = data.get("value_maps", {})
        if not isinstance(self.value_maps, dict):
            raise self.fail("[value_maps] must be a table of tables", "value_maps")
        for key in data:
            if key not in ("format", "value_maps", "tables"):
                raise self.fail(f"unknown top-level table [{key}] (expected format, value_maps, tables)", key)
        tables_data = data.get("tables")
        if not isinstance(tables_data, dict) or not tables_data:
            raise self.fail("no [tables.<name>] defined", "tables")
        tables = {name: self.table(name, t) for name, t in tables_data.items()}
        tables = {name: self.every_element(t, tables) if t.every_element else t for name, t in tables.items()}
        self.check_tables(tables)
        return Mapping(name=fmt["name"], path=self.path, kind=self.kind, bds=self.bds,
                       description=str(fmt.get("description", "")), options=self.options, tables=tables,
                       _lines=self.lines)

    # --- one table ------------------------------------------------------------------------

    def table(self, name: str, t: Any) -> Table:
        where = ("tables", name)
        if not isinstance(t, dict):
            raise self.fail(f"tables.{name} must be a table", *where)
        allowed = {"role", "file", "path", "key", "client", "parent", "link", "optional", "by", "value", "fields",
                   "kinds", "unmapped", "every_element", "occurrence", "other"}
        for k in t:
            if k not in allowed:
                raise self.fail(f"tables.{name}: unknown key {k!r} (allowed: {', '.join(sorted(allowed))})", *where, k)
        role = t.get("role")
        if role not in ROLES:
            raise self.fail(f"tables.{name}: role must be one of {', '.join(ROLES)}", *where, "role")
        source_key = "file" if self.kind == "csv" else "path"
        source = t.get(source_key)
        if not isinstance(source, str):
            raise self.fail(f"tables.{name}: needs {source_key} = \"...\"", *where)
        level = ["dossier"] if role in ("client", "dossier") else ["activity"]
        if role == "detail" and t.get("optional"):
            level.append("dossier")
        fields = tuple(self.field(f, spec, level, *where, "fields", f) for f, spec in t.get("fields", {}).items())
        kinds: dict[str, tuple[Field, ...]] = {}
        by, value = t.get("by"), t.get("value")
        for kind_value, spec in t.get("kinds", {}).items():
            at = (*where, "kinds", kind_value)
            if not by:
                raise self.fail(f"tables.{name}: kinds need a discriminator column: by = \"...\"", *at)
            if isinstance(spec, dict) and "element" not in spec:
                kinds[kind_value] = tuple(self.field(col, s, level, *at) for col, s in spec.items())
            else:
                if not value:
                    raise self.fail(f"tables.{name}: kind {kind_value!r} maps one element, so the table needs "
                                    f"value = \"<column>\"", *at)
                kinds[kind_value] = (self.field(value, spec, level, *at),)
        unmapped = t.get("unmapped", {})
        if isinstance(unmapped, list):
            unmapped = {u: "" for u in unmapped}
        if not isinstance(unmapped, dict):
            raise self.fail(f"tables.{name}: unmapped must list fields with the reason they are not mapped",
                            *where, "unmapped")
        every = t.get("every_element", False)
        if every is not False:
            if every is not True:
                raise self.fail(f"tables.{name}: every_element is true or absent, not {every!r}", *where, "every_element")
            if role not in ("dossier", "detail") or not by or not value:
                raise self.fail(f"tables.{name}: every_element needs a dossier or detail table with by = \"<column "
                                "with the element number>\" and value = \"<column>\"", *where, "every_element")
        occurrence, other = t.get("occurrence"), t.get("other")
        for option, column in (("occurrence", occurrence), ("other", other)):
            if column is not None and (every is not True or not isinstance(column, str) or not column):
                raise self.fail(f"tables.{name}: {option} = \"<column>\" goes with every_element = true", *where,
                                option)
        table = Table(name=name, role=role, source=source, key=t.get("key"), client=t.get("client"),
                      parent=t.get("parent"), link=t.get("link"), optional=bool(t.get("optional", False)),
                      by=by, value=value, fields=fields, kinds=kinds, unmapped=dict(unmapped),
                      line=line_of(self.lines, *where), every_element=every is True, occurrence=occurrence,
                      other=other)
        self.check_table(table)
        return table

    def check_table(self, t: Table) -> None:
        where = ("tables", t.name)
        if t.role in ("client", "activity") and not t.key:
            raise self.fail(f"tables.{t.name}: a {t.role} table needs key = \"<column>\"", *where)
        if self.kind == "csv" and t.role != "client" and not t.client:
            raise self.fail(f"tables.{t.name}: needs client = \"<column with the client key>\"", *where)
        if t.role == "detail":
            if not t.parent:
                raise self.fail(f"tables.{t.name}: a detail table needs parent = \"<activity table>\"", *where)
            if self.kind == "csv" and not t.link:
                raise self.fail(f"tables.{t.name}: needs link = \"<column with the activity key>\"", *where)
        if t.role == "activity":
            key_field = next((f for f in t.fields if f.name == t.key), None)
            if key_field is None or key_field.element != 1377:
                raise self.fail(f"tables.{t.name}: the key column {t.key!r} must map to element 1377 "
                                "(Activiteit ID), so activities keep their identity", *where, "fields", t.key)
        mapped = {f.name for f in t.all_fields()}
        for col in t.unmapped:
            if col in mapped:
                raise self.fail(f"tables.{t.name}: {col!r} is both mapped and listed as unmapped", *where, "unmapped")
        # rows of dossier/detail tables are group occurrences; kinds are one row each
        plain = list(t.fields)
        if t.role in ("dossier", "detail") and plain:
            first = self.top_groep(plain[0].element)
            bad = next((f for f in plain if self.top_groep(f.element) != first or first is None), None)
            if bad is not None:
                raise self.fail(f"tables.{t.name}: each row must be one occurrence of one groep, but "
                                f"{bad.name!r} (element {bad.element}) is in {self.top_groep(bad.element) or 'no groep'}"
                                f" while {plain[0].name!r} is in {first or 'no groep'}", *where, "fields", bad.name)
        kind_groeps: dict[str, str] = {}
        for kind_value, fs in t.kinds.items() if not t.occurrence else ():  # occurrence: a column says which
            groups = {self.top_groep(f.element) for f in fs}
            if len(fs) > 1 and (None in groups or len(groups) > 1):
                raise self.fail(f"tables.{t.name}: kind {kind_value!r} maps several elements, so they must be "
                                "one groep", *where, "kinds", kind_value)
            groep = groups.pop()
            if groep is not None:  # writing back picks the kind by the occurrence's groep
                if groep in kind_groeps:
                    raise self.fail(f"tables.{t.name}: kinds {kind_groeps[groep]!r} and {kind_value!r} both map "
                                    f"groep {groep}; writing back could not choose", *where, "kinds", kind_value)
                kind_groeps[groep] = kind_value

    def every_element(self, t: Table, tables: dict[str, Table]) -> Table:
        """``t`` with a kind per plain BDS observation its rows can hold that no table maps,
        named by its number, its value in BDS form (codes, units): what a package keyed by BDS
        element numbers exports. Elements in a groep are kinds when the table has an
        ``occurrence`` column and no other table maps anything of that groep. Elements the
        message structure carries (activities, vaccinations, conclusions) and elements the
        catalogue cannot type, place or give a unit are left out (counted as dropped when a
        dossier holds them). An element carried on another observation (81 on 80) is a kind
        of its own, as in any long table; the text of an "other" code goes in ``other``."""
        levels = set(t.levels)
        taken = {f.element for other in tables.values() if levels & set(other.levels) for f in other.all_fields()}
        taken_groeps = {self.top_groep(n) for n in taken} - {None}
        kinds = dict(t.kinds)
        where = ("tables", t.name, "every_element")
        structural = E.ACTIVITY | E.VACCINATION | E.NON_BDS | E.CONCLUSION | E.DOSSIER
        carried = E.carried(self.cat)
        for e in self.cat.elements():
            n = e.number
            groep = self.top_groep(n)
            if (n in taken or n in structural or str(n) in kinds or not (E.observation(e) or n in carried)
                    or (groep is not None and (t.occurrence is None or groep in taken_groeps))
                    or not levels <= E.levels(n, self.cat)):
                continue
            spec = {"element": n}
            if t.other and E.kind(n, self.cat) == "code" and self.has_other(n):
                spec["other"] = t.other  # the text of "98 Anders"
            try:
                kinds[str(n)] = (self.field(t.value, spec, list(t.levels), *where),)
            except MappingError:
                continue
        return replace(t, kinds=kinds)

    def has_other(self, element: int) -> bool:
        """Does the element's value set have an exception ("other") that comes with a text?"""
        vs = self.cat.valueset(E.valueset(element, self.cat) or "")
        return vs is not None and any(c.bds and E.is_other(vs, c.bds.code) for c in vs.concepts)

    def top_groep(self, element: int) -> str | None:
        e = self.cat.element(element)
        g = self.cat.groep(e.groep) if e and e.groep else None
        while g is not None and g.parent:
            g = self.cat.groep(g.parent)
        return g.code if g else None

    def check_tables(self, tables: dict[str, Table]) -> None:
        clients = [t for t in tables.values() if t.role == "client"]
        if len(clients) != 1:
            raise self.fail(f"exactly one table needs role = \"client\" (found {len(clients)})", "tables")
        for t in tables.values():
            if t.parent and (t.parent not in tables or tables[t.parent].role != "activity"):
                raise self.fail(f"tables.{t.name}: parent {t.parent!r} is not a table with role = \"activity\"",
                                "tables", t.name, "parent")
        seen: dict[tuple[str, str | None, int], str] = {}
        for t in tables.values():
            for kind_value, fs in [(None, t.fields)] + list(t.kinds.items()):
                for f in fs:
                    here = f"tables.{t.name}." + (f"kinds.{kind_value}" if kind_value else f"fields.{f.name}")
                    for level in t.levels:
                        scope = (level, self.top_groep(f.element), f.element)
                        if scope in seen:
                            path = ("tables", t.name, "kinds", kind_value) if kind_value else ("tables", t.name, "fields", f.name)
                            raise self.fail(f"element {f.element} is mapped twice at {level} level: {seen[scope]} "
                                            f"and {here}; writing back could not choose", *path)
                        seen[scope] = here

    # --- one field --------------------------------------------------------------------------

    def field(self, name: str, spec: Any, level: list[str], *where: str) -> Field:
        if isinstance(spec, int) and not isinstance(spec, bool):
            spec = {"element": spec}
        if not isinstance(spec, dict) or not isinstance(spec.get("element"), int):
            raise self.fail(f"{name!r}: expected an element number or {{ element = N, ... }}", *where)
        allowed = {"element", "values", "unit", "format", "datetime_format", "true", "false", "other", "many"}
        for k in spec:
            if k not in allowed:
                raise self.fail(f"{name!r}: unknown option {k!r} (allowed: {', '.join(sorted(allowed))})", *where)
        n = spec["element"]
        e = self.cat.element(n)
        if e is None:
            raise self.fail(f"{name!r}: element {n} is not in BDS {self.bds}", *where)
        label = f"element {n} ({e.name})"
        levels = E.levels(n, self.cat)
        if not levels:
            raise self.fail(f"{name!r}: {label} cannot be placed in a dossieroverdrachtbericht by this gateway "
                            "(no observation template in the catalogue, and not a structural element)", *where)
        for lv in level:
            if lv not in levels:
                raise self.fail(f"{name!r}: {label} belongs at {' or '.join(sorted(levels))} level, but rows of "
                                f"this table land at {lv} level", *where)
        kind = E.kind(n, self.cat)
        if kind is None:
            raise self.fail(f"{name!r}: the catalogue does not say what type of value {label} has", *where)
        opts = self.options
        values = reverse = None
        if "values" in spec:
            if kind != "code":
                raise self.fail(f"{name!r}: values are given but {label} is not coded (it is {kind})", *where)
            values = self.value_map(spec["values"], n, label, name, *where)
            reverse = {}
            for vendor, code in values.items():
                reverse.setdefault(code, vendor)
        unit = spec.get("unit")
        factor = Decimal(1)
        if unit is not None or kind == "quantity":
            if kind != "quantity":
                raise self.fail(f"{name!r}: a unit is given but {label} is not a quantity (it is {kind})", *where)
            if not e.unit:
                raise self.fail(f"{name!r}: the catalogue gives no unit for {label}", *where)
            unit = unit or e.unit
            if unit not in UNITS or UNITS[unit][0] != e.unit:
                fits = ", ".join(u for u, (bds, _) in UNITS.items() if bds == e.unit) or e.unit
                raise self.fail(f"{name!r}: unit {unit!r} does not fit {label}, which is in {e.unit} "
                                f"(use one of: {fits})", *where)
            factor = UNITS[unit][1]
        date_format = spec.get("format", opts.get("date", "%Y-%m-%d"))
        datetime_format = spec.get("datetime_format", opts.get("datetime", "%Y-%m-%dT%H:%M:%S"))
        if "format" in spec and kind != "date":
            raise self.fail(f"{name!r}: a date format is given but {label} is not a date (it is {kind})", *where)
        for fmt in (date_format, datetime_format):
            sample = dt.datetime(2021, 11, 23, 14, 5, 9)
            try:
                ok = dt.datetime.strptime(sample.strftime(fmt), fmt).date() == sample.date()
            except ValueError:
                ok = False
            if not ok:
                raise self.fail(f"{name!r}: date format {fmt!r} cannot be read back (needs year, month and day)",
                                *where)
        other = spec.get("other")
        if other is not None:
            if not isinstance(other, str) or not other or other == name:
                raise self.fail(f"{name!r}: 'other' must name another field, the text of an 'other' value", *where)
            if kind != "code":
                raise self.fail(f"{name!r}: 'other' names a text field, but {label} is not coded (it is {kind})", *where)
            if not self.has_other(n):
                raise self.fail(f"{name!r}: 'other' names a text field, but the value set of {label} has no "
                                "exception ('other') to go with it", *where)
        many = None
        if spec.get("many", False) is not False:
            if spec["many"] is not True:
                raise self.fail(f"{name!r}: 'many' is true or absent, not {spec['many']!r}", *where)
            if not E.repeatable(e):
                raise self.fail(f"{name!r}: 'many' holds several values, but {label} occurs at most once "
                                f"at its level (cardinality {_cardinality(e.cardinality)})", *where)
            many = str(opts.get("separator", "|"))
        true = spec.get("true", opts.get("true", "true"))
        false = spec.get("false", opts.get("false", "false"))
        return Field(name=name, element=n, kind=kind, values=values, reverse=reverse, unit=unit, factor=factor, other=other,
                     many=many,
                     date_format=date_format, datetime_format=datetime_format,
                     true=tuple(true) if isinstance(true, list) else (str(true),),
                     false=tuple(false) if isinstance(false, list) else (str(false),),
                     decimal=str(opts.get("decimal", ".")), native=self.kind == "json")

    def value_map(self, spec: Any, n: int, label: str, name: str, *where: str) -> dict[str, str]:
        at = where
        if isinstance(spec, str):
            if spec not in self.value_maps:
                raise self.fail(f"{name!r}: value map {spec!r} is not defined under [value_maps]", *where)
            at = ("value_maps", spec)
            spec = self.value_maps[spec]
        if not isinstance(spec, dict) or not spec:
            raise self.fail(f"{name!r}: values must be a non-empty table of vendor value = BDS code", *at)
        w = E.valueset(n, self.cat)
        vs = self.cat.valueset(w) if w else None
        out = {}
        for vendor, code in spec.items():
            if not isinstance(code, str):
                raise self.fail(f"value {vendor!r}: the BDS code must be a string (\"01\"), not {code!r}", *at, vendor)
            # BDS 4.2.0 codes missing from the 4.1.3 content that stands in (W0619 51) are
            # accepted where the builder carries them into NL04 (elements.unpublished)
            if vs is not None and E.to_hl7(vs, code) is None and E.unpublished(vs, code) is None:
                known = ", ".join(c.bds.code if c.bds else c.hl7.code for c in vs.concepts[:20])
                raise self.fail(f"value {vendor!r} → {code!r}: {code!r} is not in {w} ({vs.name}), the value set of "
                                f"{label} in BDS {self.bds} (codes: {known})", *at, vendor)
            if vs is None and w is not None:
                raise self.fail(f"{name!r}: the content of {w}, the value set of {label}, is unknown in BDS "
                                f"{self.bds}, so the codes cannot be checked", *where)
            out[str(vendor)] = code
        return out


def load(path: str | Path) -> Mapping:
    """Load and check a mapping file; raises :class:`MappingError` naming file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(str(path), None, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise MappingError(str(path), None, "not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        message = str(exc).split(" (at line")[0]
        if line is None:
            import re

            found = re.search(r"at line (\d+)", str(exc))
            line = int(found.group(1)) if found else None
        raise MappingError(str(path), line, f"not valid TOML: {message}") from None
    return _Loader(path, text).load(data)


def shipped(name: str) -> Path:
    """The path of a mapping file shipped with the gateway (``mappings/<name>.toml``)."""
    from importlib.resources import files

    return Path(str(files(__package__) / "mappings" / f"{name}.toml"))


def _cardinality(card: tuple | list | None) -> str:
    if not card:
        return "unknown"
    return f"{card[0]}..{'*' if card[1] is None else card[1]}"
