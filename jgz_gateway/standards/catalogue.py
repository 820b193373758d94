"""The BDS JGZ catalogue: rubrieken, groepen, elementen and value domains per BDS version.

One typed, read-only view per BDS version (3.2.6, 4.0.2, 4.1.3, 4.2.0), loaded lazily from
the package's own data (``data/bds/``, written by ``tools/import_bds.py``; see its
PROVENANCE). Versions differ and the sources are uneven, so every fact says which BDS
version's source it comes from (``sources``). A fact from an earlier version than the
catalogue's is a fallback (``fallbacks``): callers should treat checks that rest on it as
warnings. A fact no source gives is ``None`` and absent from ``sources``: unknown, never
guessed.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib.resources import files
from types import MappingProxyType
from typing import Any

VERSIONS: tuple[str, ...] = ("3.2.6", "4.0.2", "4.1.3", "4.2.0")
LATEST = VERSIONS[-1]
ALIASES: Mapping[str, str] = MappingProxyType({
    "3.2": "3.2.6", "3.2.7": "3.2.6", "4.0": "4.0.2", "4.1": "4.1.3", "4.2": "4.2.0",
})

ELEMENT_CS = "2.16.840.1.113883.2.4.4.40.267"
RUBRIEK_CS = "2.16.840.1.113883.2.4.4.40.391"
GROEP_CS = "2.16.840.1.113883.2.4.4.40.393"
NULL_FLAVOR_CS = "2.16.840.1.113883.5.1008"
#: Native code system of the BDS flavour of W-domain N is this prefix + N.
BDS_CS_PREFIX = "2.16.840.1.113883.2.4.3.11.60.100.12."
#: Value set of W-domain N: BDS flavour VS_PREFIX + "1.N", HL7 flavour VS_PREFIX + "2.N".
VS_PREFIX = "2.16.840.1.113883.2.4.3.11.60.100.11."
#: Element templates are TEMPLATE_PREFIX + "4" + number (4 digits); rubric clusters "110" + NN.
TEMPLATE_PREFIX = "2.16.840.1.113883.2.4.6.10.100."

_DATA = files(__package__) / "data" / "bds"
_LIST_OIDS = {"W0639": (VS_PREFIX + "2.639", RUBRIEK_CS), "W0646": (VS_PREFIX + "2.646", GROEP_CS),
              "W0647": (VS_PREFIX + "2.647", ELEMENT_CS)}


class UnknownVersion(ValueError):
    """A BDS version the catalogue does not know."""


def normalise_version(version: str) -> str:
    """Map "4.2", "3.2.7", "BDS 4.1.3" ... to a catalogue version, or raise UnknownVersion."""
    v = str(version).strip().lower().removeprefix("bds").strip().removeprefix("v")
    v = ALIASES.get(v, v)
    if v not in VERSIONS:
        known = ", ".join([*VERSIONS, *ALIASES])
        raise UnknownVersion(f"unknown BDS version {version!r}; known: {known}")
    return v


def _card(value: list | None) -> tuple[int, int | None] | None:
    return (value[0], value[1]) if value is not None else None


def _code(prefix: str, value: str | int, width: int) -> str | None:
    m = re.fullmatch(rf"{prefix}?0*(\d{{1,{width}}})(\.\d+)?", str(value).strip(), re.IGNORECASE)
    return f"{prefix}{int(m.group(1)):0{width}d}{m.group(2) or ''}" if m else None


def rubriek_code(value: str | int) -> str | None:
    """"R41", "r041", 41 -> "R041"."""
    return _code("R", value, 3)


def groep_code(value: str | int) -> str | None:
    """"G76", 76 -> "G076"."""
    return _code("G", value, 3)


def w_code(value: str | int) -> str | None:
    """"W422", 422, "W0188.1" -> "W0422", "W0188.1"."""
    return _code("W", value, 4)


class _Sourced:
    """Provenance of a catalogue entry's facts."""

    version: str
    sources: Mapping[str, str]

    def source(self, fact: str) -> str | None:
        """The BDS version whose source states ``fact``; None when unknown."""
        return self.sources.get(fact)

    @property
    def fallbacks(self) -> tuple[str, ...]:
        """Facts taken from an earlier version: checks on them are warnings."""
        return tuple(sorted(f for f, v in self.sources.items() if v != self.version))

    def as_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True, eq=True)
class Element(_Sourced):
    """A BDS element (a question), as known in one BDS version."""

    number: int
    name: str | None
    status: str | None  # "active" | "deprecated" | None (unknown)
    rubriek: str | None
    groep: str | None
    cardinality: tuple[int, int | None] | None  # BDS dataset (ADA) min, max; max None = unbounded
    datatype: str | None  # ADA dataset type: code, string, boolean, quantity, datetime, count, ...
    unit: str | None
    valueset: str | None  # W-domain of the value, e.g. "W0422"
    hl7_type: str | None  # xsi:type of observation/value: PQ, CV, ST, BL, INT, TS
    template_id: str | None
    template_name: str | None  # name of the observation template (not always the concept name)
    #: HL7 path below the observation -> W-domain, e.g. {"value": "W0114",
    #: "subject/personalRelationship/code": "W0115", "methodCode": "W0253"}
    bindings: Mapping[str, str]
    hl7_cardinality: tuple[int, int | None] | None  # occurrences of the observation in its cluster
    version: str
    sources: Mapping[str, str] = field(repr=False)

    @property
    def code(self) -> str:
        return str(self.number)

    @property
    def deprecated(self) -> bool:
        return self.status == "deprecated"


@dataclass(frozen=True)
class Groep(_Sourced):
    """A BDS group: elements that repeat together. Members are those whose placement is known."""

    code: str
    name: str | None
    status: str | None
    rubriek: str | None
    parent: str | None  # enclosing groep, if nested
    cardinality: tuple[int, int | None] | None
    hl7_cardinality: tuple[int, int | None] | None
    elements: tuple[int, ...]
    groepen: tuple[str, ...]
    version: str
    sources: Mapping[str, str] = field(repr=False)


@dataclass(frozen=True)
class Rubriek(_Sourced):
    """A BDS rubriek: elements with a care-content relation. Members are those whose placement is known."""

    code: str
    name: str | None
    status: str | None
    cardinality: tuple[int, int | None] | None
    template_id: str | None  # rubricCluster template
    elements: tuple[int, ...]  # directly in the rubriek, not in a groep
    groepen: tuple[str, ...]  # top-level groepen
    version: str
    sources: Mapping[str, str] = field(repr=False)


@dataclass(frozen=True)
class Code:
    """One entry of a published value set."""

    code: str
    code_system: str
    display: str | None
    deprecated: bool = False
    exception: bool = False  # an exception entry (in HL7 usually a nullFlavor)


@dataclass(frozen=True)
class CodeList:
    """One published value set (one flavour, one version), as the schematron reads it."""

    oid: str | None
    name: str
    display_name: str | None
    effective: str | None
    version_label: str | None
    code_system: str | None  # the set's source code system (the BDS-native one for BDS flavours)
    codes: tuple[Code, ...]

    @cached_property
    def _index(self) -> dict[tuple[str, str], Code]:
        return {(c.code, c.code_system): c for c in self.codes}

    @cached_property
    def _by_code(self) -> dict[str, Code]:
        return {c.code: c for c in reversed(self.codes)}

    def get(self, code: str, code_system: str | None = None) -> Code | None:
        """The entry for ``code`` (in ``code_system`` when given)."""
        if code_system is None:
            return self._by_code.get(code)
        return self._index.get((code, code_system))

    def contains(self, code: str, code_system: str | None = None) -> bool:
        return self.get(code, code_system) is not None

    @cached_property
    def null_flavors(self) -> frozenset[str]:
        """NullFlavors the set allows: its exceptions in the NullFlavor code system."""
        return frozenset(c.code for c in self.codes if c.exception and c.code_system == NULL_FLAVOR_CS)


@dataclass(frozen=True)
class Concept:
    """One value of a W-domain in both flavours; a side is None where the other has no counterpart."""

    bds: Code | None
    hl7: Code | None

    def names(self) -> set[str]:
        """Its display names in both flavours, lower case: a text among them only names the code."""
        return {x.display.strip().lower() for x in (self.bds, self.hl7) if x is not None and x.display}


@dataclass(frozen=True)
class ValueSet:
    """A W-domain (waardendomein) in one BDS version, with its BDS and HL7 flavour aligned.

    ``source_version`` is the BDS version whose source gives the content; when it differs
    from ``version`` the set is a fallback. ``pairing`` says how the flavours were aligned:
    "code" (identical codes), "position" (parallel lists), "partial" (some entries have
    no counterpart), "single" (one flavour published).
    """

    w: str
    name: str | None
    version: str
    source_version: str
    pairing: str
    bds: CodeList | None
    hl7: CodeList | None
    concepts: tuple[Concept, ...]

    @property
    def fallback(self) -> bool:
        return self.source_version != self.version

    @property
    def bds_oid(self) -> str | None:
        return self.bds.oid if self.bds else None

    @property
    def hl7_oid(self) -> str | None:
        return self.hl7.oid if self.hl7 else None

    @property
    def bds_code_system(self) -> str | None:
        return self.bds.code_system if self.bds else None

    @cached_property
    def hl7_code_systems(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.hl7.code_system for c in self.concepts if c.hl7 and not c.hl7.exception))

    @cached_property
    def _by_bds(self) -> dict[str, Concept]:
        return {c.bds.code: c for c in reversed(self.concepts) if c.bds}

    @cached_property
    def _by_hl7(self) -> dict[tuple[str, str], Concept]:
        return {(c.hl7.code, c.hl7.code_system): c for c in self.concepts if c.hl7}

    def bds_concept(self, code: str) -> Concept | None:
        return self._by_bds.get(code)

    def hl7_concept(self, code: str, code_system: str) -> Concept | None:
        return self._by_hl7.get((code, code_system))

    def contains_bds(self, code: str) -> bool:
        """Is ``code`` a value (concept or exception) of the BDS flavour?"""
        return code in self._by_bds

    def contains_hl7(self, code: str, code_system: str) -> bool:
        """Is (code, code_system) an entry of the HL7 flavour? ``hl7_concept`` tells deprecated/exception."""
        return (code, code_system) in self._by_hl7

    def bds_to_hl7(self, code: str) -> Code | None:
        c = self._by_bds.get(code)
        return c.hl7 if c else None

    def hl7_to_bds(self, code: str, code_system: str) -> Code | None:
        c = self._by_hl7.get((code, code_system))
        return c.bds if c else None

    @property
    def null_flavors(self) -> frozenset[str]:
        return self.hl7.null_flavors if self.hl7 else frozenset()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; the flavours' codes appear once, aligned, under ``concepts``."""
        data = _plain(self)
        for flavour in ("bds", "hl7"):
            if data[flavour]:
                del data[flavour]["codes"]
        return data | {"fallback": self.fallback, "null_flavors": sorted(self.null_flavors)}


@dataclass(frozen=True)
class VersionDiff:
    """What changed between two BDS versions. ``notes`` names lists that are fallbacks.

    Value sets are compared only where both versions know them (``valuesets_changed``).
    """

    old: str
    new: str
    elements_added: tuple[int, ...]
    elements_removed: tuple[int, ...]
    elements_deprecated: tuple[int, ...]
    elements_undeprecated: tuple[int, ...]
    elements_renamed: tuple[tuple[int, str, str], ...]
    groepen_added: tuple[str, ...]
    groepen_removed: tuple[str, ...]
    groepen_deprecated: tuple[str, ...]
    groepen_renamed: tuple[tuple[str, str, str], ...]
    rubrieken_added: tuple[str, ...]
    rubrieken_removed: tuple[str, ...]
    rubrieken_renamed: tuple[tuple[str, str, str], ...]
    valuesets_changed: tuple[str, ...]  # known in both versions, with different content
    #: Known in only one of the two versions. The sources publish no complete list of
    #: W-domains per version, so absence is never read as "added" or "removed".
    valuesets_unknown: tuple[str, ...]
    notes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return _plain(self)


class Catalogue:
    """Everything the BDS defines in one version. Obtain with :func:`get_catalogue`."""

    def __init__(self, data: dict[str, Any]):
        self.version: str = data["version"]
        #: BDS version whose published list gives the members (elements/groepen/rubrieken).
        self.lists: Mapping[str, str] = MappingProxyType(data["lists"])
        v = self.version
        self._elements = {int(n): _element(int(n), e, v) for n, e in sorted(data["elements"].items(),
                                                                             key=lambda kv: int(kv[0]))}
        self._groepen = {c: _groep(c, g, v) for c, g in sorted(data["groepen"].items())}
        self._rubrieken = {c: _rubriek(c, r, v) for c, r in sorted(data["rubrieken"].items())}
        self._vs_index: dict[str, dict] = data["valuesets"]
        self._by_template = {e.template_id: e for e in self._elements.values() if e.template_id}
        self._rubriek_by_template = {r.template_id: r for r in self._rubrieken.values() if r.template_id}

    def __repr__(self) -> str:
        return f"<Catalogue BDS {self.version}: {len(self._elements)} elementen>"

    @property
    def complete(self) -> bool:
        """True when the element list is this version's own published list."""
        return self.lists["elements"] == self.version

    # elements, groepen, rubrieken
    def element(self, number: int | str) -> Element | None:
        try:
            return self._elements.get(int(str(number).strip()))
        except ValueError:
            return None

    def elements(self) -> Iterator[Element]:
        return iter(self._elements.values())

    def groep(self, code: str | int) -> Groep | None:
        return self._groepen.get(groep_code(code) or "")

    def groepen(self) -> Iterator[Groep]:
        return iter(self._groepen.values())

    def rubriek(self, code: str | int) -> Rubriek | None:
        return self._rubrieken.get(rubriek_code(code) or "")

    def rubrieken(self) -> Iterator[Rubriek]:
        return iter(self._rubrieken.values())

    def element_by_template(self, template_id: str) -> Element | None:
        """The element an observation template (…10.100.4NNNN) carries."""
        return self._by_template.get(template_id)

    def rubriek_by_template(self, template_id: str) -> Rubriek | None:
        """The rubriek of a rubricCluster template (…10.100.110NN)."""
        return self._rubriek_by_template.get(template_id)

    def display_name(self, code: str | int, code_system: str | None = None) -> str | None:
        """This version's name for an element number, R-code or G-code (for conversion)."""
        if code_system == ELEMENT_CS or (code_system is None and str(code).strip().isdecimal()):
            item: Element | Groep | Rubriek | None = self.element(code)
        elif code_system == RUBRIEK_CS or (code_system is None and str(code).upper().startswith("R")):
            item = self.rubriek(code)
        elif code_system == GROEP_CS or (code_system is None and str(code).upper().startswith("G")):
            item = self.groep(code)
        else:
            item = None
        return item.name if item else None

    def code_display(self, code: str | None, code_system: str | None) -> str | None:
        """The display name this version's value sets give a code (the first set that has it),
        for writers whose source left it out: several templates require it (TC03048)."""
        return self._code_displays.get((code, code_system))

    @cached_property
    def _code_displays(self) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        for w in self.valuesets():
            vs = self.valueset(w)
            for flavour in (vs.hl7, vs.bds):
                for c in flavour.codes if flavour else ():
                    if c.display and not c.exception:
                        found.setdefault((c.code, c.code_system), c.display)
        return found

    # value sets
    def valuesets(self) -> tuple[str, ...]:
        """W-domains whose content is known in this version (own or fallback)."""
        return tuple(sorted(self._vs_index))

    def valueset(self, w: str | int) -> ValueSet | None:
        """The W-domain in this version; None when its content is not known for it."""
        key = w_code(w)
        return self._valueset(key) if key in self._vs_index else None

    @cache  # noqa: B019 - catalogues live for the whole process
    def _valueset(self, w: str) -> ValueSet:
        entry = self._vs_index[w]
        if "list" in entry:
            return self._list_valueset(w, entry)
        if "union" in entry:
            parts = [self._valueset(p) for p in entry["union"]]
            concepts = tuple(c for p in parts for c in p.concepts)
            hl7 = CodeList(None, f"{w}_HL7", f"{w} (union of {', '.join(entry['union'])})", None, None, None,
                           tuple(c.hl7 for c in concepts if c.hl7))
            name = " / ".join(dict.fromkeys(p.name for p in parts if p.name))
            return ValueSet(w, name, self.version, entry["src"], "single", None, hl7, concepts)
        bds = _codelist(entry["bds"]) if entry["bds"] else None
        hl7 = _codelist(entry["hl7"]) if entry["hl7"] else None
        concepts = tuple(Concept(bds.codes[b] if b is not None and bds else None,
                                 hl7.codes[h] if h is not None and hl7 else None) for b, h in entry["pairs"])
        name = _domain_name((bds or hl7).display_name) if (bds or hl7) else None
        return ValueSet(w, name, self.version, entry["src"], entry["pairing"], bds, hl7, concepts)

    def _list_valueset(self, w: str, entry: dict) -> ValueSet:
        oid, cs = _LIST_OIDS[w]
        items: list[Element | Groep | Rubriek] = list(
            {"rubrieken": self.rubrieken, "groepen": self.groepen, "elements": self.elements}[entry["list"]]())
        codes = tuple(Code(i.code, cs, i.name, i.status == "deprecated") for i in items)
        names = {"W0639": "RubriekID", "W0646": "GroepID", "W0647": "BDS Elementen"}
        hl7 = CodeList(oid, f"{w}_HL7", f"{w} {names[w]}", None, self.version, cs, codes)
        return ValueSet(w, names[w], self.version, entry["src"], "single", None, hl7,
                        tuple(Concept(None, c) for c in codes))


def _domain_name(display: str | None) -> str | None:
    """"W0422 Soort vaccinatie (BDS)" -> "Soort vaccinatie"."""
    if display is None:
        return None
    return re.sub(r"\s*\((BDS|HL7)\)\s*$", "", re.sub(r"^W\d{4}\s+", "", display)).strip()


def _sources(data: dict) -> Mapping[str, str]:
    return MappingProxyType(data.get("src", {}))


def _element(number: int, e: dict, version: str) -> Element:
    return Element(
        number=number, name=e.get("name"), status=e.get("status"), rubriek=e.get("rubriek"),
        groep=e.get("groep"), cardinality=_card(e.get("cardinality")), datatype=e.get("datatype"),
        unit=e.get("unit"), valueset=e.get("valueset"), hl7_type=e.get("hl7_type"),
        template_id=e.get("template_id"), template_name=e.get("template_name"), bindings=MappingProxyType(e.get("bindings") or {}),
        hl7_cardinality=_card(e.get("hl7_cardinality")), version=version, sources=_sources(e))


def _groep(code: str, g: dict, version: str) -> Groep:
    return Groep(
        code=code, name=g.get("name"), status=g.get("status"), rubriek=g.get("rubriek"),
        parent=g.get("parent"), cardinality=_card(g.get("cardinality")),
        hl7_cardinality=_card(g.get("hl7_cardinality")), elements=tuple(g["elements"]),
        groepen=tuple(g["groepen"]), version=version, sources=_sources(g))


def _rubriek(code: str, r: dict, version: str) -> Rubriek:
    return Rubriek(
        code=code, name=r.get("name"), status=r.get("status"), cardinality=_card(r.get("cardinality")),
        template_id=r.get("template_id"), elements=tuple(r["elements"]), groepen=tuple(r["groepen"]),
        version=version, sources=_sources(r))


def _load(name: str) -> Any:
    return json.loads(gzip.decompress((_DATA / name).read_bytes()))


@cache
def get_catalogue(version: str = LATEST) -> Catalogue:
    """The catalogue of a BDS version (aliases such as "4.2" or "3.2.7" accepted); loaded once."""
    return _catalogue(normalise_version(version))


@cache
def _catalogue(version: str) -> Catalogue:
    return Catalogue(_load(f"bds-{version}.json.gz"))


@cache
def _valueset_store() -> dict[str, dict]:
    return _load("valuesets.json.gz")["sets"]


@cache
def _codelist(key: str) -> CodeList:
    s = _valueset_store()[key]
    codes = tuple(Code(c, cs, d, t == "D", bool(x)) for c, cs, d, t, x in s["codes"])
    return CodeList(s["oid"], s["name"], s["display"], s["effective"], s["label"], s["code_system"], codes)


def codelist(oid: str, effective: str | None = None) -> CodeList | None:
    """A value set of JGZ publication 7.1.3 by OID (latest version, or the one ``effective`` names).

    ``effective`` may be written as in the schematron file names (2012-05-21T012654) or ISO.
    """
    store = _valueset_store()
    keys = sorted(k for k in store if k.rpartition("@")[0] == oid)
    if effective is not None:
        wanted = re.sub(r"\D", "", effective)
        keys = [k for k in keys if re.sub(r"\D", "", k.rpartition("@")[2]) == wanted]
    return _codelist(keys[-1]) if keys else None


def diff(old: str | Catalogue, new: str | Catalogue) -> VersionDiff:
    """Elements, groepen, rubrieken and value sets added, removed, deprecated or renamed."""
    a = old if isinstance(old, Catalogue) else get_catalogue(old)
    b = new if isinstance(new, Catalogue) else get_catalogue(new)

    def changes(xs: dict, ys: dict) -> tuple[tuple, tuple, tuple, tuple, tuple]:
        added = tuple(k for k in sorted(ys) if k not in xs)
        removed = tuple(k for k in sorted(xs) if k not in ys)
        both = [k for k in sorted(xs) if k in ys]
        dep = tuple(k for k in both if xs[k].status == "active" and ys[k].status == "deprecated")
        undep = tuple(k for k in both if xs[k].status == "deprecated" and ys[k].status == "active")
        renamed = tuple((k, xs[k].name, ys[k].name) for k in both
                        if xs[k].name and ys[k].name and xs[k].name != ys[k].name)
        return added, removed, dep, undep, renamed

    e = changes(a._elements, b._elements)
    g = changes(a._groepen, b._groepen)
    r = changes(a._rubrieken, b._rubrieken)
    lists = ("W0639", "W0646", "W0647")  # reported above as rubrieken, groepen, elementen
    va = {w for w in a.valuesets() if w not in lists}
    vb = {w for w in b.valuesets() if w not in lists}
    changed = tuple(w for w in sorted(va & vb) if _content(a.valueset(w)) != _content(b.valueset(w)))
    notes = []
    for cat in (a, b):
        for kind, src in cat.lists.items():
            if src != cat.version:
                notes.append(f"BDS {cat.version} has no published {kind} list; the {src} list is used")
        fallbacks = sorted({vs.source_version for w in cat.valuesets()
                            if w not in lists and (vs := cat.valueset(w)) and vs.fallback})
        if fallbacks:
            notes.append(f"BDS {cat.version} value sets are not published; the {', '.join(fallbacks)} ones are used")
    return VersionDiff(
        old=a.version, new=b.version,
        elements_added=e[0], elements_removed=e[1], elements_deprecated=e[2], elements_undeprecated=e[3],
        elements_renamed=e[4], groepen_added=g[0], groepen_removed=g[1], groepen_deprecated=g[2],
        groepen_renamed=g[4], rubrieken_added=r[0], rubrieken_removed=r[1], rubrieken_renamed=r[4],
        valuesets_changed=changed, valuesets_unknown=tuple(sorted(va ^ vb)), notes=tuple(notes))


def _content(vs: ValueSet | None) -> tuple | None:
    if vs is None:
        return None
    return tuple((c.bds and (c.bds.code, c.bds.display, c.bds.deprecated),
                  c.hl7 and (c.hl7.code, c.hl7.code_system, c.hl7.display, c.hl7.deprecated)) for c in vs.concepts)


def _plain(obj: Any) -> Any:
    """Dataclasses, mappings and tuples as JSON-ready values."""
    if hasattr(obj, "__dataclass_fields__"):
        return {k: _plain(getattr(obj, k)) for k in obj.__dataclass_fields__}
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)):
        return [_plain(v) for v in obj]
    return obj
