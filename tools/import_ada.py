"""Build the shipped ADA dataset tree of the DOB v03 from the Nictiz ADA schema.

Developer tool, not part of the product: run it when the reference ADA schema changes
and commit what it writes. The product reads only ``jgz_gateway/standards/data/ada/``.

    .venv/bin/python tools/import_ada.py [--ref ../shared/reference/ada]

The tree lists, in schema order, every concept of transaction 2.16.840.1.113883.2.4.3.11.60.100.4.34
(rubrieken, groepen, elementen) with its ADA element name, concept id, cardinality,
ADA datatype, fixed unit and, for coded concepts, the ADA value list (the documentation
of each ``value`` enumeration, in order), so ADA instances can be read and written.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REF = ROOT.parent / "shared" / "reference" / "ada"
RULES = ROOT.parent / "shared" / "reference" / "bds" / "rules" / "template-constraints.csv"
OUT = ROOT / "jgz_gateway" / "standards" / "data" / "ada"
XS = "{http://www.w3.org/2001/XMLSchema}"
SCHEMA = "schemas/versturen_jgzdossieroverdrachtverzoek_v03.xsd"
TRANSACTION_ELEMENT = "versturen_jgzdossieroverdrachtverzoek_v03"


def _occurs(value: str | None, default: int) -> int | None:
    if value is None:
        return default
    return None if value == "unbounded" else int(value)


def build(ref: Path) -> dict:
    tree = etree.parse(str(ref / SCHEMA), etree.XMLParser(resolve_entities=False, no_network=True))
    types = {t.get("name"): t for t in tree.getroot().iter(XS + "complexType") if t.get("name")}

    def concept(type_name: str, name: str, lo: int, hi: int | None) -> dict:
        ctype = types[type_name]
        node: dict = {"name": name, "min": lo, "max": hi}
        if ctype.find(XS + "attribute[@name='nullFlavor']") is not None:
            node["nullable"] = True
        for attr in ctype.findall(XS + "attribute"):
            key = attr.get("name")
            if key == "conceptId":
                node["concept"] = attr.get("fixed")
            elif key == "datatype" and attr.get("fixed"):
                node["datatype"] = attr.get("fixed")
            elif key == "unit" and attr.get("fixed"):
                node["unit"] = attr.get("fixed")
            elif key == "value":
                docs = [e.findtext(f"{XS}annotation/{XS}documentation") or "" for e in attr.iter(XS + "enumeration")
                        if e.get("value")]
                values = [e.get("value") for e in attr.iter(XS + "enumeration") if e.get("value")]
                if docs and values == [str(i) for i in range(1, len(values) + 1)]:
                    node["values"] = docs
        children = []
        for el in ctype.iterfind(f"{XS}sequence/{XS}element"):
            child = el.get("name")
            if child.endswith("-start") or child == "adaextension":
                continue
            children.append(concept(el.get("type"), child, _occurs(el.get("minOccurs"), 1), _occurs(el.get("maxOccurs"), 1)))
        if children:
            node["children"] = children
        return node

    root = tree.getroot().find(f"{XS}element[@name='{TRANSACTION_ELEMENT}']")
    return {"transaction": "2.16.840.1.113883.2.4.3.11.60.100.4.34", "transactionEffectiveDate": "2020-05-27T00:00:00",
            "root": concept(root.get("type"), TRANSACTION_ELEMENT, 1, 1), "foreign": foreign_codes(RULES)}


#: The display names Nictiz's converters write for the foreign codes (the SNOMED CT Dutch
#: edition's terms; the template rules name only the codes).
FOREIGN_DISPLAY = {("271649006", "2.16.840.1.113883.6.96"): "systolische bloeddruk",
                   ("271650006", "2.16.840.1.113883.6.96"): "diastolische bloeddruk"}


def foreign_codes(rules: Path) -> dict:
    """Elements whose observation template is coded outside the BDS element code system
    (R039 blood pressure: SNOMED), from the DOB v03 template constraints: element → code
    (with its display name where :data:`FOREIGN_DISPLAY` knows one)."""
    out: dict = {}
    context = re.compile(r"observation\[code\[([^@\]]+)@([0-9.]+)\]\]")
    with rules.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            m = context.search(row["context"])
            tid = row["template_id"]
            if not m or m.group(2) == "2.16.840.1.113883.2.4.4.40.267" or not re.search(r"\.100\.4\d{4}$", tid):
                continue
            entry = out.setdefault(str(int(tid[-4:])), {"code": m.group(1), "codeSystem": m.group(2), "template": tid})
            if (m.group(1), m.group(2)) in FOREIGN_DISPLAY:
                entry["displayName"] = FOREIGN_DISPLAY[(m.group(1), m.group(2))]
            if row["kind"] == "datatype" and row["target"] == "." and "/value[" in row["context"]:
                entry["type"] = row["value"]
            if row["kind"] == "unit" and row["value"] and row["value"] != "valid UCUM unit":
                entry["unit"] = row["value"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", type=Path, default=DEFAULT_REF)
    args = parser.parse_args()
    data = build(args.ref)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "dataset.json.gz").write_bytes(gzip.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(), mtime=0))
    count = 0
    stack = [data["root"]]
    while stack:
        n = stack.pop()
        count += 1
        stack.extend(n.get("children", []))
    print(f"wrote {OUT / 'dataset.json.gz'}: {count} concepts")


if __name__ == "__main__":
    main()
