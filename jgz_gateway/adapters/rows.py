"""Vendor rows ↔ BDS facts, following a mapping: the engine behind every declarative adapter.

A :class:`Bundle` is one dossier's rows, table by table, as a format reader found them
(CSV lines, JSON objects). ``to_record`` turns a bundle into a :class:`~.record.Record`;
``from_record`` does the reverse. The elements a row maps are grouped as the BDS
groups them (a parent's fields make one G014 occurrence), so mapping files only name
element numbers and the structure comes from the catalogue.

Both directions count what they leave out: vendor fields declared unmapped that hold a
value (``field table.column``), and record elements no table maps (by element number).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import SourceError
from .mapping import Mapping, Table
from .record import Facts, Group, Other, Record, Repeated, each
from .values import Field, ValueProblem


@dataclass
class Row:
    """One vendor row: its fields, where it was read, and the activity key it belongs to."""

    data: dict[str, Any]
    where: str = ""
    link: str | None = None


Bundle = dict[str, list[Row]]


def get(data: dict[str, Any], name: str, nested: bool) -> Any:
    if not nested:
        return data.get(name)
    value: Any = data
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def put(data: dict[str, Any], name: str, value: Any, nested: bool) -> None:
    if not nested:
        data[name] = value
        return
    parts = name.split(".")
    for part in parts[:-1]:
        data = data.setdefault(part, {})
    data[parts[-1]] = value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _items(raw: Any, separator: str) -> list:
    """The values of a ``many`` field: a JSON list, or a text split at the separator."""
    if isinstance(raw, list):
        return [x for x in raw if not _empty(x)]
    return [x for x in str(raw).split(separator) if x.strip()]


class _Groups:
    """The groep chain of each element (top groep first), from the mapping's catalogue."""

    def __init__(self, mapping: Mapping):
        from . import elements as E

        self.cat = E.catalogue(mapping.bds)
        self._chains: dict[int, tuple[str, ...]] = {}

    def chain(self, element: int) -> tuple[str, ...]:
        found = self._chains.get(element)
        if found is None:
            e = self.cat.element(element)
            chain: list[str] = []
            g = self.cat.groep(e.groep) if e and e.groep else None
            while g is not None:
                chain.insert(0, g.code)
                g = self.cat.groep(g.parent) if g.parent else None
            found = self._chains[element] = tuple(chain)
        return found

    def repeatable(self, element: int) -> bool:
        from . import elements as E

        return E.repeatable(self.cat.element(element))

    def is_other(self, element: int, code: Any) -> bool:
        """Is ``code`` the "other" of the element's value set, the kind of value with a text?"""
        from . import elements as E

        return E.is_other(self.cat.valueset(E.valueset(element, self.cat) or ""), code)


# --- vendor → BDS ----------------------------------------------------------------------------


class _Reader:
    def __init__(self, mapping: Mapping, key: str):
        self.m = mapping
        self.key = key
        self.nested = mapping.kind == "json"
        self.groups = _Groups(mapping)
        self.dropped: Counter[str] = Counter()
        self.occurrences: dict[tuple, Group] = {}  # (id(facts), (groep, n), ...) -> the occurrence rows name

    def fields_of(self, table: Table, row: Row) -> list[Field]:
        if not table.by:
            return list(table.fields)
        kind = get(row.data, table.by, self.nested)
        if _empty(kind):
            raise SourceError(row.where, table.by, "is empty; it says which kind of row this is", self.key)
        kind = str(kind).strip()
        if kind not in table.kinds:
            known = ", ".join(list(table.kinds)[:15])
            raise SourceError(row.where, table.by, f"{kind!r} is not a kind this mapping knows (known: {known})",
                              self.key)
        return list(table.fields) + list(table.kinds[kind])

    def row_facts(self, table: Table, row: Row) -> Facts:
        """The row's values, its groep elements made into one occurrence per groep."""
        out = Facts()
        occurrences: dict[str, Group] = {}
        for f in self.fields_of(table, row):
            raw = get(row.data, f.name, self.nested)
            if _empty(raw):
                continue
            try:
                values = [f.parse(x) for x in _items(raw, f.many)] if f.many else [f.parse(raw)]
            except ValueProblem as exc:
                raise SourceError(row.where, f.name, str(exc), self.key) from None
            if not values:
                continue
            text = get(row.data, f.other, self.nested) if f.other else None
            if not _empty(text):
                at = next((i for i, v in enumerate(values) if self.groups.is_other(f.element, v)), None)
                if at is not None:  # the text of the (first) "other" among the values
                    values[at] = Other(values[at], str(text).strip())
                else:  # a text for a value that is not "other": nowhere to put it
                    self.dropped[f"field {table.name}.{f.other}"] += 1
            value = values[0] if len(values) == 1 else Repeated(values)
            chain = self.groups.chain(f.element)
            if not chain:
                out.values[f.element] = value
                continue
            target: Facts = out
            path = ""
            for groep in chain:
                path += "/" + groep
                g = occurrences.get(path)
                if g is None:
                    g = occurrences[path] = Group(groep=groep)
                    target.groups.append(g)
                target = g
            target.values[f.element] = value
        for col in table.unmapped:
            if not _empty(get(row.data, col, self.nested)):
                self.dropped[f"field {table.name}.{col}"] += 1
        return out

    def merge(self, into: Facts, facts: Facts, row: Row, what: str) -> None:
        """Add a row's values; a second value of an element is an error unless it may repeat."""
        for n, value in facts.values.items():
            if n in into.values and self.groups.repeatable(n):
                into.add(n, value)
                continue
            if n in into.values and into.values[n] != value:
                raise SourceError(row.where, None, f"element {n} is given twice for {what} "
                                  f"({into.values[n]!r} and {value!r})", self.key)
            into.values[n] = value
        into.groups += facts.groups

    def join(self, into: Facts, facts: Facts, table: Table, row: Row, what: str) -> None:
        """A row of an ``every_element`` table whose element sits in a groep: its value goes into
        the occurrence its ``occurrence`` column names ("2", or "2.1" for the first occurrence
        of a groep inside the second), which the rows of that occurrence share."""
        self.merge(into, Facts(values=facts.values), row, what)
        raw = get(row.data, table.occurrence, self.nested)
        path = str(raw).strip().split(".") if not _empty(raw) else []
        group = facts.groups[0]
        chain = [group.groep]
        while group.groups:
            group = group.groups[0]
            chain.append(group.groep)
        if len(path) != len(chain) or not all(p.isdecimal() for p in path):
            raise SourceError(row.where, table.occurrence, f"{raw!r} does not name an occurrence of "
                              f"{' in '.join(reversed(chain))} (expected {'.'.join(['N'] * len(chain))})", self.key)
        target, key = into, (id(into),)
        for groep, n in zip(chain, path):
            key += ((groep, int(n)),)
            found = self.occurrences.get(key)
            if found is None:
                found = self.occurrences[key] = Group(groep=groep)
                target.groups.append(found)
            target = found
        self.merge(target, Facts(values=group.values), row, what)

    def record(self, bundle: Bundle) -> Record:
        m = self.m
        client = m.client
        rows = bundle.get(client.name, [])
        if len(rows) != 1:
            where = rows[1].where if len(rows) > 1 else client.source
            raise SourceError(where, client.key, f"expected one {client.name} row for this client, found {len(rows)}",
                              self.key)
        record = Record(key=self.key, facts=self.row_facts(client, rows[0]))
        activities: dict[str, Facts] = {}
        for table in m.tables.values():
            if table.role == "activity":
                for row in bundle.get(table.name, []):
                    key = get(row.data, table.key, self.nested)
                    if _empty(key):
                        raise SourceError(row.where, table.key, "the activity has no key", self.key)
                    key = str(key).strip()
                    if (table.name, key) in activities:
                        raise SourceError(row.where, table.key, f"activity {key!r} appears twice", self.key)
                    facts = self.row_facts(table, row)
                    activities[(table.name, key)] = facts
                    record.activities.append(facts)
        for table in m.tables.values():
            if table.role == "dossier":
                for row in bundle.get(table.name, []):
                    self.merge(record.facts, self.row_facts(table, row), row, "the dossier")
            elif table.role == "detail":
                for row in bundle.get(table.name, []):
                    facts = self.row_facts(table, row)
                    if _empty(row.link):
                        if not table.optional:
                            raise SourceError(row.where, table.link, "is empty; the row must belong to an activity",
                                              self.key)
                        self.merge(record.facts, facts, row, "the dossier")
                        continue
                    activity = activities.get((table.parent, str(row.link).strip()))
                    if activity is None:
                        raise SourceError(row.where, table.link, f"there is no {table.parent} row {row.link!r} for "
                                          "this client", self.key)
                    if table.occurrence and facts.groups:
                        self.join(activity, facts, table, row, f"activity {row.link!r}")
                        continue
                    self.merge(activity, facts, row, f"activity {row.link!r}")
        return record


def to_record(mapping: Mapping, key: str, bundle: Bundle) -> tuple[Record, Counter[str]]:
    """The record of one dossier's rows, and the count of unmapped vendor fields that held a value."""
    reader = _Reader(mapping, key)
    return reader.record(bundle), reader.dropped


# --- BDS → vendor ----------------------------------------------------------------------------


class _Writer:
    def __init__(self, mapping: Mapping, record: Record):
        self.m = mapping
        self.record = record
        self.nested = mapping.kind == "json"
        self.groups = _Groups(mapping)
        self.used_values: Counter[tuple[int, int]] = Counter()  # (id(facts), element): values written
        self.used_groups: set[int] = set()
        self.dropped_texts: Counter[int] = Counter()  # element: "other" texts no field could hold
        self.bundle: Bundle = {name: [] for name in mapping.tables}
        self.key = record.key  # the client's key in the rows written (set by bundle_of)
        self.generic: dict[str, tuple] = {}  # every_element tables: see generic_kinds

    def render(self, table: Table, f: Field, value: Any) -> Any:
        try:
            return f.render(value)
        except ValueProblem as exc:
            raise SourceError(f"{self.m.name} table {table.name}", f.name, str(exc), self.record.key) from None

    def lookup(self, facts: Facts, chain: tuple[str, ...], element: int, picked: dict[str, Group]) -> tuple[Facts, Any] | None:
        """The value of ``element`` below ``facts`` along its groep chain (first occurrences)."""
        target = facts
        path = ""
        for groep in chain:
            path += "/" + groep
            g = picked.get(path)
            if g is None:
                g = next((x for x in target.groups_of(groep) if id(x) not in self.used_groups), None)
                if g is None:
                    return None
                picked[path] = g
            target = g
        if element not in target.values:
            return None
        return target, target.values[element]

    def fill(self, table: Table, fields: list[Field], facts: Facts, data: dict[str, Any],
             picked: dict[str, Group] | None = None) -> bool:
        """Render ``fields`` from ``facts`` into ``data``; True when any had a value."""
        picked = {} if picked is None else picked
        any_value = False
        for f in fields:
            found = self.lookup(facts, self.groups.chain(f.element), f.element, picked)
            if found is None:
                continue
            owner, value = found
            values = each(value) if f.many else each(value)[:1]  # a plain field holds one value
            self.put_values(table, f, values, data)
            self.used_values[id(owner), f.element] += len(values)
            any_value = True
        for g in picked.values():
            self.used_groups.add(id(g))
        return any_value

    def put_values(self, table: Table, f: Field, values: list, data: dict[str, Any]) -> None:
        """One value, or the values of a ``many`` field (CSV: joined; JSON: a list)."""
        rendered = [self.render(table, f, v) for v in values]
        if not f.many:
            put(data, f.name, rendered[0], self.nested)
        elif self.nested:
            put(data, f.name, rendered, self.nested)
        else:
            if any(f.many in str(r) for r in rendered):  # it would read back as more values
                raise SourceError(f"{self.m.name} table {table.name}", f.name, f"a value contains the separator "
                                  f"{f.many!r} between the values of this field", self.record.key)
            put(data, f.name, f.many.join(str(r) for r in rendered), self.nested)
        texts = [v.text for v in values if isinstance(v, Other)]
        if f.other and texts:
            put(data, f.other, texts[0], self.nested)
            self.dropped_texts[f.element] += len(texts) - 1  # one text field: a second "other" loses its text

    def base(self, table: Table, link: str | None, index: int) -> Row:
        data: dict[str, Any] = {}
        if table.client and not self.nested:
            data[table.client] = self.key
        if table.link and link is not None and not self.nested:
            data[table.link] = link
        if table.key and table.role in ("dossier", "detail"):
            put(data, table.key, f"{link or self.key}.{index}", self.nested)
        return Row(data=data, link=link)

    def rows_for(self, table: Table, facts: Facts, link: str | None) -> None:
        """Rows of a dossier/detail table for the occurrences (or single elements) in ``facts``."""
        out = self.bundle[table.name]
        start = len(out)
        plain = list(table.fields)
        if plain:
            groep = self.groups.chain(plain[0].element)[0]
            for g in facts.groups_of(groep):
                if id(g) in self.used_groups:
                    continue
                row = self.base(table, link, len(out) - start + 1)
                self.fill(table, plain, _Holder(g), row.data)
                out.append(row)
        for kind, fs in self.kinds_for(table, facts):
            chain = self.groups.chain(fs[0].element)
            if chain and table.occurrence:
                continue  # written below, a row per value with its occurrence
            if not chain:  # one element per row: a row for each of its values
                f = fs[0]
                used = self.used_values[id(facts), f.element]
                for value in each(facts.values[f.element])[used:] if f.element in facts.values else []:
                    row = self.base(table, link, len(out) - start + 1)
                    put(row.data, table.by, kind, self.nested)
                    self.put_values(table, f, [value], row.data)
                    self.used_values[id(facts), f.element] += 1
                    out.append(row)
                continue
            for g in facts.groups_of(chain[0]):
                if id(g) in self.used_groups:
                    continue
                row = self.base(table, link, len(out) - start + 1)
                put(row.data, table.by, kind, self.nested)
                self.fill(table, list(fs), _Holder(g), row.data)
                out.append(row)

        if table.occurrence:
            self.occurrence_rows(table, facts, link, start)

    def occurrence_rows(self, table: Table, facts: Facts, link: str | None, start: int) -> None:
        """The groep occurrences no other table took, as a row per value naming its occurrence
        ("2", "2.1"); a value the table has no kind for (an element BDS 4.2.0 does not place)
        is left out and counted as dropped."""
        out = self.bundle[table.name]
        kinds, groeps = self.generic_kinds(table)[:2]

        def write(g: Group, path: str) -> None:
            for n, value in g.values.items():
                if n not in kinds:
                    continue
                kind, f = kinds[n]
                for v in each(value):
                    row = self.base(table, link, len(out) - start + 1)
                    put(row.data, table.by, kind, self.nested)
                    put(row.data, table.occurrence, path, self.nested)
                    self.put_values(table, f, [v], row.data)
                    out.append(row)
                self.used_values[id(g), n] += len(each(value))
            self.used_groups.add(id(g))
            seen: Counter[str] = Counter()
            for x in g.groups:
                seen[x.groep] += 1
                write(x, f"{path}.{seen[x.groep]}")

        seen: Counter[str] = Counter()
        for g in facts.groups:
            seen[g.groep] += 1
            if id(g) not in self.used_groups and g.groep in groeps:
                write(g, str(seen[g.groep]))

    def kinds_for(self, table: Table, facts: Facts) -> Iterable[tuple[str, tuple[Field, ...]]]:
        """The kinds that may have rows for ``facts``: all of a table's, but of an ``every_element``
        table (hundreds of kinds, a few with values) only those of the elements ``facts`` holds
        and those in a groep, in the table's order."""
        if not table.every_element:
            return table.kinds.items()
        kinds, _, position, grouped = self.generic_kinds(table)
        wanted = {kinds[n][0] for n in facts.values if n in kinds} | grouped
        return [(k, table.kinds[k]) for k in sorted(wanted, key=position.__getitem__)]

    def generic_kinds(self, table: Table) -> tuple[dict[int, tuple[str, Field]], set[str], dict[str, int], set[str]]:
        """An ``every_element`` table's kinds by element, the top groepen they reach, each kind's
        place in the table, and the kinds in a groep or of several fields (once per table)."""
        found = self.generic.get(table.name)
        if found is None:
            kinds = {fs[0].element: (kind, fs[0]) for kind, fs in table.kinds.items()}
            groeps = {self.groups.chain(n)[0] for n in kinds if self.groups.chain(n)}
            position = {kind: i for i, kind in enumerate(table.kinds)}
            grouped = {kind for kind, fs in table.kinds.items() if len(fs) > 1 or self.groups.chain(fs[0].element)}
            found = self.generic[table.name] = (kinds, groeps, position, grouped)
        return found

    def activity_key(self, table: Table, facts: Facts) -> str | None:
        key_field = next(f for f in table.fields if f.name == table.key)
        return self.render(table, key_field, facts.values[1377]) if 1377 in facts.values else None

    def bundle_of(self) -> Bundle:
        m = self.m
        record = self.record
        client = m.client
        row = Row(data={})
        put(row.data, client.key, record.key, self.nested)
        self.fill(client, list(client.fields), record.facts, row.data)
        # the key as the client row ends up with (its key field may be a mapped element, the dossier
        # id 695, which need not be the record's key): every other table links to that
        self.key = str(get(row.data, client.key, self.nested) or record.key)
        self.bundle[client.name].append(row)
        for table in m.tables.values():
            if table.role == "dossier" or (table.role == "detail" and table.optional):
                self.rows_for(table, record.facts, None)
        activity_tables = [t for t in m.tables.values() if t.role == "activity"]
        for facts in record.activities:
            if not activity_tables:
                break
            table = activity_tables[0]
            arow = Row(data={})
            if table.client and not self.nested:
                arow.data[table.client] = self.key
            self.fill(table, list(table.fields), facts, arow.data)
            link = self.activity_key(table, facts)
            arow.link = link
            self.bundle[table.name].append(arow)
            for detail in m.tables.values():
                if detail.role == "detail" and detail.parent == table.name:
                    self.rows_for(detail, facts, link)
        return self.bundle

    def dropped(self) -> Counter[str]:
        """``element N``: values no table holds; ``text of element N``: "other" texts beyond the
        one a ``many`` field's text field holds."""
        out: Counter[str] = Counter({f"text of element {n}": c for n, c in self.dropped_texts.items() if c})

        def walk(facts: Facts, used: bool) -> None:
            for n, value in facts.values.items():
                left = len(each(value)) - (self.used_values[id(facts), n] if used else 0)
                if left > 0:
                    out[f"element {n}"] += left
            for g in facts.groups:
                walk(g, used and id(g) in self.used_groups)

        walk(self.record.facts, True)
        for a in self.record.activities:
            walk(a, True)
        return out


class _Holder(Facts):
    """Facts wrapper that presents one group occurrence as the top of a lookup."""

    def __init__(self, group: Group):
        super().__init__(values={}, groups=[group])


def from_record(mapping: Mapping, record: Record) -> tuple[Bundle, Counter[str]]:
    """The vendor rows of a record, table by table, and the count of what they cannot hold
    (``element N``, ``text of element N``)."""
    writer = _Writer(mapping, record)
    bundle = writer.bundle_of()
    return bundle, writer.dropped()

