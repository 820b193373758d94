"""Build the shipped BDS catalogue from the Nictiz reference artefacts.

Developer tool, not part of the product: run it after the reference folder changes and
commit what it writes. The product only reads ``jgz_gateway/standards/data/bds/``.

    .venv/bin/python tools/import_bds.py [--ref ../shared/reference/bds]

Every fact is recorded for the BDS version whose own source states it. Where a version
has no source for a fact, the value is taken from the nearest earlier version that has
one and the element records that version in ``src`` (the run-time catalogue reports it
as a fallback); where no earlier version has it either, the fact is left out (unknown).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REF = ROOT.parent / "shared" / "reference" / "bds"
OUT = ROOT / "jgz_gateway" / "standards" / "data" / "bds"

VERSIONS = ("3.2.6", "4.0.2", "4.1.3", "4.2.0")
LIST_VERSIONS = ("3.2.6", "4.0.2", "4.2.0")  # versions with published W0639/W0646/W0647 lists

VS_PREFIX = "2.16.840.1.113883.2.4.3.11.60.100.11."
TPL_PREFIX = "2.16.840.1.113883.2.4.6.10.100."
ELEMENT_CS = "2.16.840.1.113883.2.4.4.40.267"
RUBRIEK_CS = "2.16.840.1.113883.2.4.4.40.391"
GROEP_CS = "2.16.840.1.113883.2.4.4.40.393"

# Commits and licences, from reference/README.md and docs/jgz-standards.md §0.
HM = "Nictiz/HL7-mappings (https://github.com/Nictiz/HL7-mappings)"
COMMIT_MAIN = "7b054d26e02744427dd90e90fa96eaf1e549ebd8"
COMMIT_SCH = "0eb2a71244023180e9491520b80d6662efc89370"
COMMIT_ADA = "22162ad726a1790c539a8fe5d7efe01c90ffa275"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _card(lo: str, hi: str) -> list:
    """Cardinality as [min, max]; max None = unbounded."""
    return [int(lo), None if hi in ("*", "unbounded", "") else int(hi)]


# --------------------------------------------------------------------------- sources


def read_lists(ref: Path) -> dict[str, dict[str, dict[str, dict]]]:
    """W0639/W0646/W0647 per published version: {version: {"R"|"G"|"E": {code: {name, status}}}}."""
    out: dict[str, dict[str, dict[str, dict]]] = {}
    for v in LIST_VERSIONS:
        tree = etree.parse(str(ref / "codelists" / f"bds-{v}_valuesets.xml"), _parser())
        lists: dict[str, dict[str, dict]] = {}
        for key, w in (("R", "639"), ("G", "646"), ("E", "647")):
            vs = tree.find(f"valueSet[@id='{VS_PREFIX}2.{w}']")
            lists[key] = {
                c.get("code"): {"name": c.get("displayName"), "status": _status(c.get("type"))}
                for c in vs.iterfind("conceptList/concept")
            }
        out[v] = lists
    return out


def _status(concept_type: str | None) -> str | None:
    return {"L": "active", "D": "deprecated"}.get(concept_type or "")


def read_voc(ref: Path) -> dict[str, dict]:
    """Every value-set version of the JGZ 7.1.3 publication, keyed ``OID@effectiveDate``."""
    sets: dict[str, dict] = {}
    for path in sorted((ref / "valuesets-4.1.3" / "voc").glob("voc-*.xml")):
        vs = etree.parse(str(path), _parser()).find("valueSet")
        if vs is None:  # voc-UCUM.xml holds units, not a value set
            continue
        source_cs = vs.find("sourceCodeSystem")
        entries = []
        concept_list = vs.find("conceptList")
        for c in concept_list if concept_list is not None else ():
            if c.tag in ("concept", "exception"):
                entries.append([c.get("code"), c.get("codeSystem"), c.get("displayName"),
                                c.get("type"), 1 if c.tag == "exception" else 0])
        key = f"{vs.get('id')}@{vs.get('effectiveDate')}"
        sets[key] = {
            "oid": vs.get("id"), "name": vs.get("name"), "display": vs.get("displayName"),
            "effective": vs.get("effectiveDate"), "label": vs.get("versionLabel") or None,
            "code_system": source_cs.get("id") if source_cs is not None else None,
            "file": path.name, "codes": entries,
        }
    return sets


def read_w0188_326(ref: Path) -> dict[str, dict]:
    """The three W0188 subsets embedded in the 3.2.7 conversion XSLT (HL7 flavour only)."""
    tree = etree.parse(str(ref / "codelists" / "bds-3.2.6_valuesets.xml"), _parser())
    sets = {}
    for vs in tree.iterfind("valueSet"):
        if not vs.get("id").startswith(f"{VS_PREFIX}2.188."):
            continue
        entries = [[c.get("code"), c.get("codeSystem"), c.get("displayName"), c.get("type"), 0]
                   for c in vs.iterfind("conceptList/concept")]
        key = f"{vs.get('id')}@{vs.get('effectiveDate')}"
        sets[key] = {"oid": vs.get("id"), "name": vs.get("name"), "display": vs.get("displayName"),
                     "effective": vs.get("effectiveDate"), "label": vs.get("versionLabel"),
                     "code_system": None, "file": "codelists/bds-3.2.6_valuesets.xml", "codes": entries}
    return sets


def _ada_values(text: str) -> dict[tuple[str, str], list[str]]:
    """Parse an ADA value list into {(W-number, flavour): [display, ...]}; lists without a W header are skipped."""
    groups: dict[tuple[str, str], list[str]] = {}
    current = None
    for item in re.split(r"; (?=\d+=)", text):
        _, _, label = item.partition("=")
        header = re.fullmatch(r"(W\d{4}) .* \((BDS|HL7)\)", label)
        if header:
            current = groups.setdefault((header.group(1), header.group(2)), [])
        elif current is not None:
            current.append(label)
        else:
            return {}
    return groups


def read_ada(ref: Path) -> dict:
    """The BDS 4.0 rubriek/groep/element tree of the DOB v03 ADA dataset."""
    path = next((ref / "derived").glob("ada_dataset_*_bds-4.0.csv"))
    elements, groepen, rubrieken, value_lists = {}, {}, {}, {}
    for row in csv.DictReader(path.open(encoding="utf-8")):
        kind, number = row["kind"], row["bds_number"]
        if not number:
            continue  # ADA-only helper concepts (e.g. gekoppeldeActiviteit)
        segments = row["path"].split("/")[1:-1]
        rubriek = next((f"R{int(m.group(1)):03d}" for s in segments if (m := re.match(r"r(\d{3})_", s))), None)
        parent = next((f"G{int(m.group(1)):03d}" for s in reversed(segments)
                       if (m := re.match(r"groep_g(\d{3})_", s))), None)
        card = _card(row["minOccurs"], row["maxOccurs"])
        if kind == "rubriek":
            rubrieken[f"R{int(number):03d}"] = {"cardinality": card}
        elif kind == "groep":
            groepen[f"G{int(number):03d}"] = {"rubriek": rubriek, "parent": parent, "cardinality": card}
        elif kind == "element":
            facts = {"rubriek": rubriek, "groep": parent, "cardinality": card,
                     "datatype": row["ada_datatype"] or None, "unit": row["units"] or None}
            lists = _ada_values(row["values"]) if row["values"] else {}
            ws = {w for w, _ in lists}
            if len(ws) == 1:
                facts["valueset"] = ws.pop()
            value_lists.update(lists)
            elements[number] = facts
    return {"elements": elements, "groepen": groepen, "rubrieken": rubrieken, "value_lists": value_lists}


def read_templates(ref: Path, lists: dict) -> dict:
    """HL7 facts of BDS 4.1.3 from the DOB v03 schematron: observation templates and rubric clusters."""
    tpl_csv = ref / "derived" / "bds-4.1.3_observation_templates_datatypes_valuesets.csv"
    tpl_element: dict[str, str] = {}
    tpl_names: dict[str, str] = {}
    known_names = {n: e["name"] for n, e in lists["4.0.2"]["E"].items()} | {
        n: e["name"] for n, e in lists["4.2.0"]["E"].items()}
    for row in csv.DictReader(tpl_csv.open(encoding="utf-8")):
        tid, codes = row["templateId"], row["bdsElementCodes"].split()
        name = re.sub(r"^obs ", "", row["templateName"]).strip()
        number = codes[0] if len(codes) == 1 else None
        suffix = str(int(tid.rsplit(".", 1)[1]) - 40000)
        if number is None and known_names.get(suffix) == name:
            number = suffix  # coded with LOINC, not the element number, but the name and number agree
        if number:
            tpl_element[tid] = number
            tpl_names[number] = name

    rows = list(csv.DictReader((ref / "rules" / "template-constraints.csv").open(encoding="utf-8")))
    latest: dict[str, str] = {}
    for r in rows:
        latest[r["template_id"]] = max(latest.get(r["template_id"], ""), r["template_effective"])
    rows = [r for r in rows if r["template_effective"] == latest[r["template_id"]]]

    elements: dict[str, dict] = defaultdict(dict)
    for tid, number in tpl_element.items():
        elements[number].update(template_id=tid, template_name=tpl_names[number])
    for r in rows:
        number = tpl_element.get(r["template_id"])
        if number is None:
            continue
        # the path below the observation, qualifiers dropped: "value", "methodCode", "subject/personalRelationship/code"
        path = "/".join(re.match(r"[A-Za-z]+", step).group(0) for step in _steps(r["context"])[1:])
        if r["kind"] == "datatype" and r["target"] == "." and path == "value":
            elements[number]["hl7_type"] = r["value"]
        elif r["kind"] == "unit" and path == "value" and r["value"] != "valid UCUM unit":
            elements[number]["unit"] = r["value"]
        elif r["kind"] == "value-set" and r["target"] == "@code/@codeSystem":
            ws = [_w_of(v.split("@")[0]) for v in r["value"].split(" | ")]
            if len(ws) == 1 and ws[0]:
                elements[number].setdefault("bindings", {})[path] = ws[0]
                if path == "value":
                    elements[number]["valueset"] = ws[0]

    rubrieken, groepen = {}, {}
    for r in rows:
        m = re.search(r"\.100\.(110\d\d)$", r["template_id"])
        if not m:
            continue
        tid = r["template_id"]
        if r["kind"] == "cardinality" and (code := re.fullmatch(rf"code\[(R\d{{3}})@{re.escape(RUBRIEK_CS)}\]", r["target"])):
            rubrieken[code.group(1)] = {"template_id": tid}
        path_groups = re.findall(rf"groupCluster\[code\[(G\d{{3}})@{re.escape(GROEP_CS)}\]", r["context"])
        rubriek = f"R{int(m.group(1)[3:]):03d}"
        for i, g in enumerate(path_groups):
            # no cardinality row for a groupCluster means the template does not bound it: 0..*
            groepen.setdefault(g, {"rubriek": rubriek, "parent": path_groups[i - 1] if i else None,
                                   "hl7_cardinality": [0, None]})
        if r["kind"] != "cardinality":
            continue
        # a group's own occurrence: component[groupCluster[code[G]]] in its parent's context
        if (g := re.fullmatch(rf"component\[groupCluster\[code\[(G\d{{3}})@{re.escape(GROEP_CS)}\]\]\]", r["target"])):
            groepen.setdefault(g.group(1), {"rubriek": rubriek, "parent": path_groups[-1] if path_groups else None})
            groepen[g.group(1)]["hl7_cardinality"] = _card(r["min"], r["max"])
        elif (o := re.fullmatch(r"component\[(?:observation|annotationObsEvent)\[tpl=(4\d{4})\]\]", r["target"])):
            number = tpl_element.get(TPL_PREFIX + o.group(1))
            if number:
                elements[number].update(rubriek=rubriek, groep=path_groups[-1] if path_groups else None,
                                        hl7_cardinality=_card(r["min"], r["max"]))
    # rubric templates claim their rubriek code; check it matches the template-id convention
    for code, facts in rubrieken.items():
        assert facts["template_id"].endswith(f".110{code[2:]}"), (code, facts)
    return {"elements": dict(elements), "groepen": groepen, "rubrieken": rubrieken}


def _steps(path: str) -> list[str]:
    """Split a constraint path on the slashes outside [qualifiers]."""
    steps, depth, current = [], 0, ""
    for ch in path:
        depth += (ch == "[") - (ch == "]")
        if ch == "/" and depth == 0:
            steps.append(current)
            current = ""
        else:
            current += ch
    return [*steps, current]


def _w_of(oid: str) -> str | None:
    m = re.fullmatch(re.escape(VS_PREFIX) + r"[12]\.(\d+)", oid)
    return f"W{int(m.group(1)):04d}" if m and int(m.group(1)) < 10000 else None


# --------------------------------------------------------------------------- value sets


def pair(bds: list[list] | None, hl7: list[list] | None) -> tuple[list[list], str]:
    """Align the BDS and HL7 flavour of a W-domain; returns index pairs and how they were aligned.

    The two flavours are published as parallel lists. They are aligned by identical code
    where every code matches, else by position (entries of type D on the longer side are
    left out when that makes the lengths equal, else concepts and exceptions are aligned
    separately, in the same way). What cannot be aligned stays unpaired: never guessed.
    """
    if not bds or not hl7:
        side = bds or hl7 or []
        return ([[i, None] for i in range(len(side))] if bds else [[None, i] for i in range(len(side))]), "single"
    hl7_index = {e[0]: i for i, e in enumerate(hl7)}
    if all(e[0] in hl7_index for e in bds):
        pairs = [[i, hl7_index[e[0]]] for i, e in enumerate(bds)]
        used = {h for _, h in pairs}
        return pairs + [[None, i] for i in range(len(hl7)) if i not in used], "code"

    def zip_ok(bi: list[int], hi: list[int]) -> bool:
        bds_codes = {bds[i][0] for i in range(len(bds))}
        return len(bi) == len(hi) and all(
            bds[b][0] == hl7[h][0] or hl7[h][0] not in bds_codes for b, h in zip(bi, hi))

    all_b, all_h = list(range(len(bds))), list(range(len(hl7)))
    candidates = [(all_b, all_h)]
    if len(bds) > len(hl7):
        candidates.append(([i for i in all_b if bds[i][3] != "D"], all_h))
    elif len(hl7) > len(bds):
        candidates.append((all_b, [i for i in all_h if hl7[i][3] != "D"]))
    for bi, hi in candidates:
        if zip_ok(bi, hi):
            pairs = [[b, h] for b, h in zip(bi, hi)]
            break
    else:
        pairs = []
        for exc in (0, 1):
            bi = [i for i in all_b if bds[i][4] == exc]
            hi = [i for i in all_h if hl7[i][4] == exc]
            for b_try, h_try in ((bi, hi), ([i for i in bi if bds[i][3] != "D"], hi),
                                 (bi, [i for i in hi if hl7[i][3] != "D"])):
                if zip_ok(b_try, h_try):
                    pairs += [[b, h] for b, h in zip(b_try, h_try)]
                    break
    paired_b = {b for b, _ in pairs}
    paired_h = {h for _, h in pairs}
    pairs += [[i, None] for i in all_b if i not in paired_b] + [[None, i] for i in all_h if i not in paired_h]
    pairs.sort(key=lambda p: (p[0] is None, p[0] if p[0] is not None else p[1]))
    complete = len(paired_b) == len(bds) and len(paired_h) == len(hl7)
    return pairs, "position" if complete else "partial"


def w_domains(voc: dict) -> dict[str, dict[str, list[str]]]:
    """{W-number: {"BDS": [keys oldest..newest], "HL7": [...]}} for the 11.1.N / 11.2.N value sets."""
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"BDS": [], "HL7": []})
    for key, vs in sorted(voc.items(), key=lambda kv: (kv[1]["oid"], kv[1]["effective"])):
        m = re.fullmatch(re.escape(VS_PREFIX) + r"([12])\.(\d+(?:\.\d+)?)", vs["oid"])
        if not m or not vs["name"].startswith("W"):
            continue
        major, _, sub = m.group(2).partition(".")
        w = f"W{int(major):04d}" + (f".{sub}" if sub else "")
        out[w]["BDS" if m.group(1) == "1" else "HL7"].append(key)
    return dict(out)


def domain_entry(voc: dict, bds_key: str | None, hl7_key: str | None, source: str) -> dict:
    pairs, how = pair(voc[bds_key]["codes"] if bds_key else None, voc[hl7_key]["codes"] if hl7_key else None)
    return {"bds": bds_key, "hl7": hl7_key, "src": source, "pairing": how, "pairs": pairs}


def valuesets_for(version: str, voc: dict, domains: dict, ada: dict) -> dict[str, dict]:
    """Which value-set versions describe each W-domain in ``version``, and on whose authority."""
    out = {}
    for w, flav in domains.items():
        bds_key = flav["BDS"][-1] if flav["BDS"] else None
        hl7_key = flav["HL7"][-1] if flav["HL7"] else None
        if version in ("4.1.3", "4.2.0"):
            # 4.1.3 is published; 4.2.0 value sets are not, so 4.2.0 falls back to 4.1.3 (flagged by src).
            out[w] = domain_entry(voc, bds_key, hl7_key, "4.1.3")
        elif version == "4.0.2":
            # No 4.0.x value-set export exists; the 4.0 ADA dataset lists each bound domain's
            # display names. Where a published version has exactly those names, it is the 4.0 set.
            chosen = {}
            for flavour in ("BDS", "HL7"):
                names = ada["value_lists"].get((w, flavour))
                match = [k for k in flav[flavour]
                         if names is not None and [c[2] for c in voc[k]["codes"]] == names]
                chosen[flavour] = match[-1] if match else None
            wanted = [f for f in ("BDS", "HL7") if (w, f) in ada["value_lists"]]
            if wanted and all(chosen[f] for f in wanted):
                out[w] = domain_entry(voc, chosen["BDS"], chosen["HL7"], "4.0.2")
    return out


# --------------------------------------------------------------------------- catalogue

#: Facts that travel together: a version either states all of a bundle or none of it.
BUNDLES = {
    "E": {"list": ("name", "status"), "structure": ("rubriek", "groep"), "cardinality": ("cardinality",),
          "datatype": ("datatype",), "value": ("unit", "valueset"),
          "hl7": ("template_id", "template_name", "hl7_type", "bindings"), "hl7_cardinality": ("hl7_cardinality",)},
    "G": {"list": ("name", "status"), "structure": ("rubriek", "parent"), "cardinality": ("cardinality",),
          "hl7_cardinality": ("hl7_cardinality",)},
    "R": {"list": ("name", "status"), "cardinality": ("cardinality",), "hl7": ("template_id",)},
}


def _own(kind: str, facts: dict) -> dict[str, dict]:
    """Split a flat fact dict into the bundles it fully states."""
    return {b: {f: facts.get(f) for f in fields} for b, fields in BUNDLES[kind].items()
            if any(f in facts for f in fields)}


def build(ref: Path) -> tuple[dict[str, dict], dict]:
    lists = read_lists(ref)
    voc = read_voc(ref)
    ada = read_ada(ref)
    tpl = read_templates(ref, lists)
    w0188 = read_w0188_326(ref)
    domains = w_domains(voc)

    own: dict[str, dict[str, dict[str, dict]]] = {v: {"E": {}, "G": {}, "R": {}} for v in VERSIONS}

    def state(v: str, kind: str, code: str, facts: dict) -> None:
        own[v][kind].setdefault(code, {}).update(_own(kind, facts))

    for v in LIST_VERSIONS:
        for kind in "EGR":
            for code, facts in lists[v][kind].items():
                state(v, kind, code, facts)
    w0639_413 = voc[next(k for k in voc if k.startswith(f"{VS_PREFIX}2.639@"))]
    for code, _cs, name, ctype, _exc in w0639_413["codes"]:
        state("4.1.3", "R", code, {"name": name, "status": _status(ctype)})
    for kind, key in (("E", "elements"), ("G", "groepen"), ("R", "rubrieken")):
        for code, facts in ada[key].items():
            state("4.0.2", kind, code, facts)
        for code, facts in tpl[key].items():
            if kind == "E":
                # a template states the whole HL7 and value bundle: what it leaves out is absent
                facts = dict.fromkeys(("hl7_type", "bindings", "unit", "valueset")) | facts
                if code not in lists["4.0.2"]["E"]:
                    # known to exist in 4.1.3; its concept name and status are not published
                    # (the template name is not the concept name, e.g. "leeftstijl" for Leefstijl)
                    facts |= {"name": None, "status": None}
            state("4.1.3", kind, code, facts)

    catalogues = {}
    for i, v in enumerate(VERSIONS):
        chain = VERSIONS[i::-1]  # this version, then the earlier ones, nearest first
        members: dict[str, list[str]] = {}
        lists_src: dict[str, str] = {}
        for kind in "EGR":
            if v in LIST_VERSIONS or kind == "R":
                members[kind], lists_src[kind] = list(own[v][kind]), v
            else:
                # 4.1.3 has no published element or group list: the 4.0.2 list (every entry of
                # which is still in 4.2.0) plus what the 4.1.3 templates show to exist.
                members[kind] = list(dict.fromkeys([*lists["4.0.2"][kind], *own[v][kind]]))
                lists_src[kind] = "4.0.2"
        cat = {"version": v, "lists": {"elements": lists_src["E"], "groepen": lists_src["G"],
                                       "rubrieken": lists_src["R"]},
               "elements": {}, "groepen": {}, "rubrieken": {}}
        for kind, key in (("E", "elements"), ("G", "groepen"), ("R", "rubrieken")):
            for code in members[kind]:
                facts, src = {}, {}
                for bundle in BUNDLES[kind]:
                    source = next((s for s in chain if bundle in own[s][kind].get(code, {})), None)
                    if source is None:
                        continue  # unknown in this version and every earlier one
                    for field, value in own[source][kind][code][bundle].items():
                        src[field] = source
                        if value is not None:
                            facts[field] = value
                cat[key][code] = facts | {"src": src}
        _link(cat)
        vsets = valuesets_for(v, voc, domains, ada)
        for w, key in (("W0639", "rubrieken"), ("W0646", "groepen"), ("W0647", "elements")):
            vsets[w] = {"list": key, "src": cat["lists"][key]}
        if v == "3.2.6":
            subs = []
            for k in sorted(w0188):
                sub = f"W0188.{w0188[k]['oid'].rsplit('.', 1)[1]}"
                vsets[sub] = domain_entry(w0188, None, k, "3.2.6")
                subs.append(sub)
            vsets["W0188"] = {"union": subs, "src": "3.2.6"}
        cat["valuesets"] = vsets
        catalogues[v] = cat
    return catalogues, voc | w0188


def _link(cat: dict) -> None:
    """Members of every rubriek and groep, derived from the elements' and groups' own facts."""
    for r in cat["rubrieken"].values():
        r["elements"], r["groepen"] = [], []
    for g in cat["groepen"].values():
        g["elements"], g["groepen"] = [], []
    for code, g in cat["groepen"].items():
        holder = cat["groepen"].get(g.get("parent")) if g.get("parent") else cat["rubrieken"].get(g.get("rubriek"))
        if holder is not None:
            holder["groepen"].append(code)
    for number, e in cat["elements"].items():
        holder = cat["groepen"].get(e.get("groep")) if e.get("groep") else cat["rubrieken"].get(e.get("rubriek"))
        if holder is not None:
            holder["elements"].append(int(number))


# --------------------------------------------------------------------------- output


def provenance(ref: Path) -> str:
    return f"""BDS JGZ catalogue data: provenance
=====================================

Written by tools/import_bds.py from the reference folder {ref.relative_to(ROOT.parent) if ref.is_relative_to(ROOT.parent) else ref}.
The product reads only the files in this folder; it never reads the reference folder.

Files
- bds-<version>.json.gz: rubrieken, groepen, elementen and the value-set index of one BDS version
  (3.2.6, 4.0.2, 4.1.3, 4.2.0). Each fact carries in "src" the BDS version whose source states it.
- valuesets.json.gz: every value-set version of JGZ publication 7.1.3 and the 3.2.6 W0188 subsets,
  keyed OID@effectiveDate, with their concepts and exceptions as published.

Sources (repository {HM}; the repository has no licence file, these are public Nictiz artefacts;
the conversion XSLTs state LGPL 2.1 or later in their headers)
1. W0639 RubriekID, W0646 GroepID, W0647 BDS Elementen for BDS 3.2.6, 4.0.2 and 4.2.0:
   reference/bds/codelists/bds-<v>_valuesets.xml, extracted from the <valueSet> blocks embedded in
   hl7_2_hl7/jeugdgezondheidszorg/dossieroverdracht-327-vs-400/*.xsl (3.2.6, 4.0.2) and
   .../dossieroverdracht-413-vs-420/*.xsl (4.2.0), commit {COMMIT_MAIN}. LGPL 2.1+.
   Concept type D = deprecated, L = active.
2. Value sets (BDS flavour 2.16.840.1.113883.2.4.3.11.60.100.11.1.<W>, HL7 flavour ...11.2.<W>) and
   W0639 for 4.1.3: reference/bds/valuesets-4.1.3/voc/voc-<OID>-<date>.xml, from
   ada_2_hl7/jgz/7.1/hl7v3_schematron/include/ ("JGZ-publicatie 7.1.3", 2024-04-26), commit {COMMIT_SCH}.
3. HL7 facts for 4.1.3 (observation template per element, value xsi:type, unit, value-set bindings,
   rubricCluster/groupCluster nesting and cardinality): reference/bds/rules/template-constraints.csv
   and reference/bds/derived/bds-4.1.3_observation_templates_datatypes_valuesets.csv, derived from
   ada_2_hl7/jgz/7.1/hl7v3_schematron/, commit {COMMIT_SCH}. The latest version of each template is used.
4. BDS 4.0 dataset tree (rubriek/groep/element, cardinality, ADA datatype, unit, W-domain and its
   display names): reference/bds/derived/ada_dataset_versturen_jgzdossieroverdrachtverzoek_v03_bds-4.0.csv,
   derived from ada_2_hl7/jgz/7.0.0/dossieroverdracht/ada_schemas/, commit {COMMIT_ADA} (2023-04-24,
   BDS 4.0.0/4.0.1). It is recorded as the 4.0.2 source: 4.0.2 changed only the value list
   W0422 Soort vaccinatie (maternal flu vaccination, NCJ BDS versiebeheer), and value lists are
   matched separately (below), so W0422 is not claimed for 4.0.2.

Version rules
- "3.2", "3.2.7" and "3.2.6" all use the 3.2.6 lists. The lists in source 1 labelled 3.2.6 come from
  the Nictiz 3.2.7 <-> 4.0 conversion, so 3.2.7's W0647 is taken as 3.2.6's. The 4.1.3 publication
  also holds a W0647 labelled 327 (2012-05-21); it differs (adds 1607, fewer type D) and is shipped
  in valuesets.json.gz as published but not used as an element list.
- "4.0" = 4.0.2, "4.1" = 4.1.3, "4.2" = 4.2.0.
- 4.1.3 has no published W0646/W0647 list. Its elements and groups are the 4.0.2 list (none of
  which is missing from 4.2.0) plus those the 4.1.3 templates show; names and status of the 4.0.2
  entries are the 4.0.2 ones (flagged as fallback); elements only known from a 4.1.3 template
  have no name or status (unknown; their template_name is given). Elements first listed in 4.2.0 without a 4.1.3
  template are not claimed for 4.1.3.
- 4.2.0 value-set contents and HL7 templates are not published: 4.2.0 uses the 4.1.3 ones and
  says so (src "4.1.3").
- 4.0.2 value sets: only where a published version has exactly the display names of the 4.0 ADA
  value list (for every flavour that list gives); otherwise unknown.
- 3.2.6 has no source for structure, datatypes or value sets (other than W0188, W0639, W0646,
  W0647): those facts are unknown (null), never copied from a later version.
- BDS <-> HL7 codes of a W-domain are aligned by identical code where all codes agree, else by
  position (the flavours are published as parallel lists); "pairing" says which, and entries that
  cannot be aligned stay unpaired.
"""


def write(catalogues: dict[str, dict], voc: dict, out: Path, ref: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for v, cat in catalogues.items():
        _dump(cat, out / f"bds-{v}.json.gz")
    _dump({"sets": {k: {f: s[f] for f in s if f != "file"} | {"file": s["file"]} for k, s in voc.items()}},
          out / "valuesets.json.gz")
    (out / "PROVENANCE").write_text(provenance(ref), encoding="utf-8")


def _dump(data: dict, path: Path) -> None:
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    path.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", type=Path, default=DEFAULT_REF, help="reference/bds folder")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    catalogues, voc = build(args.ref.resolve())
    write(catalogues, voc, args.out, args.ref.resolve())
    for v, cat in catalogues.items():
        print(f"{v}: {len(cat['rubrieken'])} rubrieken, {len(cat['groepen'])} groepen, "
              f"{len(cat['elements'])} elementen, {len(cat['valuesets'])} value sets", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
