"""The ADA dataset of the DOB v03 (transaction 2.16.840.1.113883.2.4.3.11.60.100.4.34, BDS 4.0).

Loaded once from ``data/ada/dataset.json.gz`` (built by ``tools/import_ada.py`` from
Nictiz's ADA schema; see PROVENANCE). Every concept knows its ADA element name, its
BDS number and kind (rubriek ``…2.1.N``, groep ``…2.2.N``, element ``…2.3.N``),
cardinality, ADA datatype and unit; coded concepts their ADA value list.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

CONCEPT = "2.16.840.1.113883.2.4.3.11.60.100.2."
_KIND = {"1": "rubriek", "2": "groep", "3": "element"}


@dataclass(eq=False)
class Concept:
    name: str
    concept: str | None
    min: int
    max: int | None
    datatype: str | None = None
    unit: str | None = None
    values: tuple[str, ...] = ()
    nullable: bool = False  # the ADA type has a nullFlavor attribute
    children: list["Concept"] = field(default_factory=list)
    parent: "Concept | None" = field(default=None, repr=False)

    @property
    def kind(self) -> str | None:
        if self.concept and self.concept.startswith(CONCEPT):
            return _KIND.get(self.concept[len(CONCEPT):].split(".")[0])
        return None

    @property
    def number(self) -> int | None:
        """BDS number: element number, or the N of RNNN / GNNN."""
        if self.kind is None:
            return None
        return int(self.concept.rsplit(".", 1)[1])

    @property
    def code(self) -> str | None:
        """"R027", "G076" or "235"."""
        n = self.number
        if n is None:
            return None
        return {"rubriek": f"R{n:03d}", "groep": f"G{n:03d}", "element": str(n)}[self.kind]

    def child(self, name: str) -> "Concept | None":
        return next((c for c in self.children if c.name == name), None)

    def element(self, number: int) -> "Concept | None":
        """The element (or groep, with a G-code) below this concept."""
        for c in self.children:
            if c.number == number and c.kind == "element":
                return c
        return None

    def by_code(self, code: str) -> "Concept | None":
        return next((c for c in self.children if c.code == code), None)


class Dataset:
    """The concept tree with indexes by name (within a parent) and by BDS code."""

    def __init__(self, data: dict):
        self.transaction = data["transaction"]
        self.effective = data["transactionEffectiveDate"]
        self.root = self._concept(data["root"], None)
        #: element number → its observation's code when the template codes it outside the
        #: BDS element code system (R039 blood pressure is SNOMED-coded).
        self.foreign: dict[int, dict] = {int(k): v for k, v in data.get("foreign", {}).items()}
        self.by_code: dict[str, list[Concept]] = {}
        named: dict[str, list[Concept]] = {}
        stack = [self.root]
        while stack:
            c = stack.pop()
            if c.code:
                self.by_code.setdefault(c.code, []).append(c)
                named.setdefault(c.name, []).append(c)
            stack.extend(c.children)
        #: ADA element name → its BDS concept, for the names that occur once in the dataset
        self.by_name: dict[str, Concept] = {name: found[0] for name, found in named.items() if len(found) == 1}

    def _concept(self, d: dict, parent: Concept | None) -> Concept:
        c = Concept(name=d["name"], concept=d.get("concept"), min=d["min"], max=d.get("max"),
                    datatype=d.get("datatype"), unit=d.get("unit"), values=tuple(d.get("values", ())),
                    nullable=d.get("nullable", False), parent=parent)
        c.children = [self._concept(x, c) for x in d.get("children", [])]
        return c

    def rubriek(self, code: str) -> Concept | None:
        return next((c for c in self.by_code.get(code, []) if c.kind == "rubriek"), None)


@cache
def dataset() -> Dataset:
    raw = (files("jgz_gateway.standards") / "data" / "ada" / "dataset.json.gz").read_bytes()
    return Dataset(json.loads(gzip.decompress(raw)))


_RUBRIEK_ID = re.compile(r"^r(\d{3})_")


def rubriek_code(name: str) -> str | None:
    """"r027_groei" → "R027"."""
    m = _RUBRIEK_ID.match(name)
    return f"R{m.group(1)}" if m else None
