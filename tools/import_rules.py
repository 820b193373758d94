"""Compile Nictiz's DOB v03 schematron rules (stated as data) into the gateway's rule file.

Developer tool, not part of the product: run it after ``reference/bds/rules`` changes and
commit what it writes. The product only reads ``jgz_gateway/standards/data/rules/``.

    .venv/bin/python tools/import_rules.py [--ref ../shared/reference/bds]

What it does, so that loading at run time is a plain ``json.loads``:

* parses every context and target path of ``template-constraints.csv`` into a small AST
  (steps with and/or qualifiers), interned in one step table;
* turns every row into an operation (``card``, ``fixed``, ``vs``, ``dt``, ``o``...) with
  its arguments, checking that each row's ``logic`` text is one this tool understands,
  so that a new or changed rule fails here instead of being silently mis-read;
* copies only the value sets the rules name (concepts, deprecated concepts, exceptions);
* reads the DTr1 rule ids, severities and texts from ``datatype-rules.md`` and the UCUM
  warnings from ``ucum-units.csv``;
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
import sys
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REF = ROOT.parent / "shared" / "reference" / "bds"
OUT = ROOT / "jgz_gateway" / "standards" / "data" / "rules"

XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
TPL_PREFIX = "2.16.840.1.113883.2.4.6.10.100."
NULLFLAVOR_CS = "2.16.840.1.113883.5.1008"
COMMIT_SCH = "0eb2a71244023180e9491520b80d6662efc89370"
SEVERITY = {"error": "e", "warning": "w", "info": "i"}
LEXICAL = ("cs", "st", "bl", "set_cs", "ts")  # attribute datatypes of kind=datatype rows


class RuleError(Exception):
    """A row this tool does not know how to compile."""


# --------------------------------------------------------------------------- paths


def split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside square brackets."""
    out, depth, cur, i = [], 0, [], 0
    while i < len(text):
        ch = text[i]
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if depth == 0 and text.startswith(sep, i):
            out.append("".join(cur))
            cur, i = [], i + len(sep)
            continue
        cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def attr_name(name: str) -> str:
    """``xsi:type`` -> Clark notation; other attributes have no namespace."""
    if name.startswith("xsi:"):
        return XSI + name[4:]
    if ":" in name:
        raise RuleError(f"unexpected prefixed attribute {name!r}")
    return name


class Steps:
    """Interned step table: identical step texts share one entry."""

    def __init__(self):
        self.table: list = []
        self.index: dict[str, int] = {}

    def step(self, text: str) -> int:
        if text in self.index:
            return self.index[text]
        m = re.match(r"^(\*|[A-Za-z_][\w.-]*)", text)
        if not m:
            raise RuleError(f"bad step {text!r}")
        name, rest = m.group(1), text[m.end():]
        quals = []
        while rest:
            if rest[0] != "[":
                raise RuleError(f"bad qualifier in {text!r}")
            depth = 0
            for i, ch in enumerate(rest):  # noqa: B007 - i, the closing bracket, is used below
                depth += ch == "["
                depth -= ch == "]"
                if depth == 0:
                    break
            inner, rest = rest[1:i], rest[i + 1:]
            quals.append([self.alt(a.strip()) for a in split_top(inner, "|")])
        node = [name, quals]
        self.table.append(node)
        self.index[text] = len(self.table) - 1
        return self.index[text]

    def alt(self, a: str) -> list:
        if a == "non-null":
            return ["nn"]
        if a == "nullFlavor":
            return ["nf"]
        if a.startswith("vs="):
            key = a[3:]
            if "@" not in key:
                raise RuleError(f"value set without version: {a!r}")
            return ["vs", key]
        if a.startswith("tpl="):
            return ["tpl", TPL_PREFIX + a[4:]]
        if a.startswith("@"):
            return ["has", attr_name(a[1:])]
        m = re.match(r"^(\S+) (with|without) '(.*)'$", a)
        if m:
            return ["wi" if m.group(2) == "with" else "wo", attr_name(m.group(1)), m.group(3)]
        if re.match(r"^[A-Z][A-Z0-9_]*$", a):
            return ["ty", a]
        if "[" not in a and "=" in a:
            k, v = a.split("=", 1)
            return ["eq", attr_name(k), v]
        if "[" not in a and "@" in a:
            code, cs = a.split("@", 1)
            return ["cd", code, cs]
        if re.match(r"^[A-Za-z]\w*(\[.*\])?$", a):
            return ["ch", self.step(a)]
        raise RuleError(f"unknown qualifier {a!r}")

    def path(self, text: str) -> list[int]:
        return [self.step(s) for s in split_top(text, "/")]


# --------------------------------------------------------------------------- value sets


def read_valueset(path: Path) -> dict:
    """First ``valueSet`` of a voc file; only direct children of its ``conceptList`` count."""
    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    vs = root if root.tag == "valueSet" else root.find("valueSet")
    out = {"name": vs.get("displayName") or vs.get("name") or "", "c": [], "d": [], "x": []}
    cl = vs.find("conceptList")
    for child in cl if cl is not None else ():
        if child.tag == "concept":
            pair = [child.get("code"), child.get("codeSystem")]
            out["c"].append(pair)
            if child.get("type") == "D":
                out["d"].append(pair)
        elif child.tag == "exception":
            out["x"].append([child.get("code"), child.get("codeSystem")])
    return out


# --------------------------------------------------------------------------- rows


def compile_row(r: dict, steps: Steps) -> list:
    """One CSV row -> [op, args...] (the engine prepends id, severity and message)."""
    kind, target, value, logic = r["kind"], r["target"], r["value"], r["logic"]
    lo, hi = r["min"], r["max"]
    if kind == "cardinality":
        if target.startswith("@"):
            names = [t.strip()[1:] for t in target.split(" and ")]
            if lo != "1" or hi != "1":
                raise RuleError(f"{r['row_id']}: attribute cardinality {lo}..{hi}")
            return ["attrs", [attr_name(n) for n in names]]
        return ["card", steps.step(target), int(lo), -1 if hi == "*" else int(hi)]
    if kind == "choice":
        alts = [steps.step(t.strip()) for t in split_top(target, " | ")]
        return ["choice", alts, int(lo), -1 if hi == "*" else int(hi)]
    if kind == "fixed-value":
        attr = attr_name(target.split("/")[0][1:])
        if value.startswith("tokens:"):
            return ["tokens", attr, [t.strip() for t in value[7:].split("|")]]
        if "=" in value and re.match(r"^(code|codeSystem)=", value):
            alts = []
            for alt in value.split(" | "):
                alts.append([[attr_name(k), v] for k, v in (p.split("=", 1) for p in alt.split())])
            return ["coded", alts]
        if " | " in value or lo not in ("0", "1"):
            raise RuleError(f"{r['row_id']}: plain fixed value {value!r} with min {lo!r}")
        return ["fixed", attr, value, lo == "1"]
    if kind == "value-set":
        keys = [v.strip() for v in value.split(" | ")]
        if target == "@nullFlavor":
            extra = [k for k in keys[1:]]
            key = keys[0].replace(" (exception list)", "")
            return ["vsnull", key, extra]
        if value.endswith("(code must not be deprecated)"):
            return ["vsdep", [k.replace(" (code must not be deprecated)", "") for k in keys]]
        if target == "@typeCode":
            expect(r, "after splitting it on whitespace, some token is not the @code of a concept")
            return ["vstok", "typeCode", keys[0]]
        if target != "@code/@codeSystem":
            raise RuleError(f"{r['row_id']}: value-set target {target}")
        if logic:
            expect(r, "an element without @code passes")
            return ["vs", keys, True]
        return ["vs", keys, False]
    if kind == "datatype":
        if target == ".":
            if logic and "reported twice" not in logic:
                raise RuleError(f"{r['row_id']}: datatype logic")
            return ["dt", value]
        lex = value.split()[0]
        if target == "@xsi:type" and lex not in LEXICAL:
            if value.endswith(" (required unless nullFlavor)"):
                return ["xsitype", value.split()[0], True]
            return ["xsitype", value, False]
        if lex not in LEXICAL:
            raise RuleError(f"{r['row_id']}: lexical type {value}")
        return ["lex", attr_name(target[1:]), lex]
    if kind == "unit":
        if value == "valid UCUM unit":
            return ["ucum"]
        return ["unit", value]
    if kind == "pattern":
        attr = attr_name(target[1:])
        if value == r"^-?[1-9]\d*$|^+?\d*$":
            expect(r, r"the effective expression is ^-?[1-9]\d*$|^\d*$")
            value = r"^-?[1-9]\d*$|^\d*$"
        return ["pattern", attr, xpath_regex(value), lo == "1"]
    if kind == "other":
        return compile_other(r)
    raise RuleError(f"{r['row_id']}: unknown kind {kind}")


def xpath_regex(rx: str) -> str:
    """XPath regex -> Python: ``$`` is end of string only, ``\\s``/``\\S`` are XML whitespace."""
    out, i = [], 0
    while i < len(rx):
        ch = rx[i]
        if ch == "\\" and i + 1 < len(rx):
            nxt = rx[i + 1]
            out.append({"s": "[ \\t\\n\\r]", "S": "[^ \\t\\n\\r]"}.get(nxt, ch + nxt))
            i += 2
            continue
        out.append("\\Z" if ch == "$" else ch)
        i += 1
    return "".join(out)


def expect(r: dict, snippet: str) -> None:
    if snippet not in r["logic"]:
        raise RuleError(f"{r['row_id']}: logic no longer says {snippet!r}: {r['logic']!r}")


# Rows whose logic is one of a kind: row id -> (handler, params, a phrase the logic must contain).
# The handlers are in jgz_gateway/standards/validation/logic.py.
ONE_OFF = {
    "TC00001": ("need_child", [["attentionLine"]], "no attentionLine child"),
    "TC00013": ("vocab_missing", [], "cannot be read"),
    "TC00348": ("vocab_missing", [], "cannot be read"),
    "TC00014": ("interaction_inactive", [], "as inactive"),
    "TC00015": ("attention_required", ["bsn"], "AttentionLineMetBsn=true"),
    "TC00016": ("attention_required", ["context"], "AttentionLineMetContextCode=true"),
    "TC00017": ("attention_keywordtext", ["bsn"], "keywordText (lower-case w"),
    "TC00018": ("attention_keywordtext", ["context"], "keywordText (lower-case w"),
    "TC00019": ("attention_max_one", ["bsn"], "more than one attentionLine/keyWordText"),
    "TC00020": ("attention_max_one", ["context"], "more than one attentionLine/keyWordText"),
    "TC00037": ("interaction_id", [], "not exactly the local name of the parent"),
    "TC00349": ("query_mood", [], "queryByParameter child"),
    "TC00350": ("trigger_event", [], "none of those @code values is REPC_TE902100NL03"),
    "TC00351": ("trust_person", ["author"], "no author person"),
    "TC00352": ("trust_person", ["overseer"], "no overseer person"),
    "TC00353": ("author_app_id", [], "no value of S is '1'"),
    "TC00354": ("author_device_uzi", [], "no author device has id[root=2.16.528.1.1007.3.2]"),
    "TC00355": ("author_device_ura", [], "no author device has Organization/id[root=2.16.528.1.1007.3.3][@extension]"),
    "TC00356": ("author_device_org", [], "none of these exists"),
    "TC00357": ("author_person_code", [["2.16.840.1.113883.2.4.6.3"], "2.16.840.1.113883.2.4.3.11.8", "P"],
                "no author person has code[codeSystem=2.16.840.1.113883.2.4.3.11.8][code=P]"),
    "TC00358": ("author_person_code",
                [["2.16.840.1.113883.2.4.3.11.7.3", "2.16.528.1.1003.1.3.5.4.1"], "2.16.840.1.113883.2.4.3.11.8",
                 "KLANTENLOKET"], "[code=KLANTENLOKET]"),
    "TC00359": ("author_person_code", [["2.16.528.1.1007.3.1"], "2.16.840.1.113883.2.4.15.111", None],
                "no author person has code[codeSystem=2.16.840.1.113883.2.4.15.111]"),
    "TC00360": ("author_person_org", [["2.16.528.1.1007.3.1"], "2.16.528.1.1007.3.3", None, True],
                "Organization/id[root=2.16.528.1.1007.3.3][@extension]"),
    "TC00361": ("author_person_org", [["2.16.840.1.113883.2.4.6.3"], "2.16.840.1.113883.2.4.3.11.25", None, False],
                "Organization/id[root=2.16.840.1.113883.2.4.3.11.25]"),
    "TC00362": ("author_person_org",
                [["2.16.840.1.113883.2.4.3.11", "2.16.528.1.1003.1.3.5.4.1"], "2.16.840.1.113883.2.4.3.11", "7", False],
                "Organization/id[root=2.16.840.1.113883.2.4.3.11][extension=7]"),
    "TC00363": ("overseer_org_name", ["2.16.528.1.1007.3.3", None], "id[root=2.16.528.1.1007.3.3]"),
    "TC00364": ("overseer_org_name", ["2.16.840.1.113883.2.4.3.11", "7"], "[extension=7]"),
    "TC00365": ("overseer_code", [], "no overseer person has a code child"),
    "TC00366": ("overseer_bsn_code", [], "code[codeSystem=2.16.840.1.113883.2.4.3.11.6]"),
    "TC00367": ("overseer_uzi_has", [["assignedPrincipalChoiceList", "assignedPerson", "name"]],
                "assignedPrincipalChoiceList/assignedPerson/name"),
    "TC00368": ("overseer_uzi_has", [["Organization", "id[root=2.16.528.1.1007.3.3]"]],
                "Organization/id[root=2.16.528.1.1007.3.3]"),
    "TC00369": ("overseer_uzi_has", [["Organization", "name"]], "Organization/name."),
    "TC00370": ("overseer_uzi_has", [["Organization", "addr", "city"]], "Organization/addr/city"),
    "TC00371": ("overseer_org_match", [], "no author entity is an author device"),
    "TC00372": ("author_org_name", [], "With no author entity at all it fires"),
    "TC00375": ("attr_not_in", ["typeCode", ["AUT", "PRF"], False], "exactly AUT or PRF"),
    "TC00467": ("attrs_equal", [[["code", "00.000"], ["codeSystem", "2.16.840.1.113883.2.4.15.111"]]], "00.000"),
    "TC00552": ("attrs_equal", [[["code", "00.000"], ["codeSystem", "2.16.840.1.113883.2.4.15.111"]]], "00.000"),
    "TC00600": ("empty_text_node", [], "never reports"),
    "TC00601": ("oth_text_length", [80], "longer than 80 characters"),
    "TC00629": ("integral_dossier", ["01", "2.16.840.1.113883.2.4.4.40.303"], "@code = 01 and @codeSystem = 2.16.840.1.113883.2.4.4.40.303"),
    "TC00650": ("attr_not_in", ["code", ["completed"], False], "@code is not completed"),
    "TC00655": ("closed_needs_high", [], "has no high child"),
    "TC00664": ("attention_bsn_match", [], "no attentionLine child of any ancestor"),
    "TC00719": ("file_url", ["file:///"], "does not start with file:///"),
    "TC01052": ("attrs_equal", [[["nullFlavor", "OTH"]]], "@nullFlavor = OTH"),
    "TC01762": ("attrs_equal", [[["nullFlavor", "OTH"]]], "@nullFlavor = OTH"),
    "TC01121": ("attr_not_in", ["code", ["PRN"], True], "@code = PRN or @nullFlavor is present"),
    "TC01187": ("performer_identified", [], "some assignedPerson child has a name child"),
    "TC01496": ("performer_identified", [], "some assignedPerson child has a name child"),
    "TC01253": ("id_differs_from_encounter", [], "some id child of ../../.."),
    "TC02530": ("one_method_code", [], "more than one distinct @code value"),
    "TC02833": ("forbid_component_tpl", [TPL_PREFIX + "41006"], "41006"),
    "TC02979": ("method_07_with_1346", [TPL_PREFIX + "41345", "07", "2.16.840.1.113883.2.4.4.40.387", TPL_PREFIX + "41346"],
                "2.16.840.1.113883.2.4.6.10.100.41346"),
    "TC03012": ("negation_child", ["authorization", True], "@negationInd = true and there is no authorization"),
    "TC03013": ("negation_child", ["authorization", False], "not exactly true and there is an authorization"),
    "TC04713": ("negation_child", ["reasonCode", True], "@negationInd = true and there is no reasonCode"),
    "TC04714": ("negation_child", ["reasonCode", False], "not exactly true and there is a reasonCode"),
    "TC03014": ("rmd_in_request", [], "@moodCode = RMD"),
    "TC03015": ("lot_and_authorization", [True], "there is a lotNumberText descendant"),
    "TC03016": ("lot_and_authorization", [False], "there is no lotNumberText descendant"),
    "TC03048": ("medicine_code", [], "(@code and @displayName are both present)"),
    "TC03294": ("needs_108_true", ["108", "2.16.840.1.113883.2.4.4.40.267"], "grandchild value with @value = true"),
    "TC04110": ("own_text_in", [["to", "by"]], "exactly to or by"),
    "TC04398": ("own_text_in", [["to", "by"]], "exactly to or by"),
    "TC04212": ("needs_multiple_birth", [], "preceding sibling multipleBirthInd"),
    "TC04562": ("need_child", [["county", "country"]], "county or a country child"),
    "TC04702": ("need_child", [["id", "name"]], "an id or a name child"),
    "TC04707": ("attr_not_in", ["root", ["2.16.840.1.113883.2.4.6.4"], False], "a missing @root fires"),
    "TC04801": ("code_vs_parent_child", [["01", "02"], "reason", "if"], "the parent has a reason child"),
    "TC04802": ("code_vs_parent_child", [["01"], "reason", "unless"], "or the parent has a reason child"),
    "TC04803": ("code_vs_parent_child", [["01", "02"], "pertinentInformation", "if"], "has a pertinentInformation child"),
    "TC04804": ("code_vs_parent_child", [["01"], "pertinentInformation", "unless"], "or the parent has a pertinentInformation"),
    "TC04805": ("code_vs_parent_child", [["01", "02"], "subjectOf6", "if"], "has a subjectOf6 child"),
    "TC01283": ("attrs_equal", [[["code", "02"]]], "fires if @code = 02."),
    "TC01284": ("attrs_equal", [[["code", "03"]]], "fires if @code = 03."),
    "TC01543": ("attrs_equal", [[["code", "02"]]], "fires if @code = 02."),
    "TC01544": ("attrs_equal", [[["code", "03"]]], "fires if @code = 03."),
    "TC14587": ("wrapper_present", [], "fires if the document has no REPC_IN902120NL03 element"),
}

RANGE = re.compile(r"^range \[(-?[\d.]*)\.\.(-?[\d.]*)\](?:; pattern (.+))?$")
STRLEN = re.compile(r"^string length (=|>=) (\d+)$")


def compile_other(r: dict) -> list:
    rid, logic, value, target = r["row_id"], r["logic"], r["value"], r["target"]
    if value == "no child elements":
        expect(r, "fires if the element has any child element.")
        return ["o", "no_child_elements"]
    m = RANGE.match(value)
    if m:
        expect(r, "fires unless @nullFlavor is present or (the value of @value read as a number")
        lo = float(m.group(1)) if m.group(1) else None
        hi = float(m.group(2)) if m.group(2) else None
        pattern = xpath_regex(m.group(3)) if m.group(3) else None
        if pattern:
            expect(r, "and @value matches")
        return ["o", "range", lo, hi, pattern]
    m = STRLEN.match(value)
    if m:
        if target == "text()":
            null_exempt = logic.startswith("fires unless @nullFlavor is present or")
            expect(r, "the element's own text (its text node children; none counts as length 0)")
            return ["o", "text_length", m.group(1), int(m.group(2)), null_exempt]
        expect(r, "(a missing attribute counts as length 0)")
        return ["o", "attr_length", attr_name(target[1:]), m.group(1), int(m.group(2))]
    if logic == "fires if @code is present and @displayName is absent (an empty @displayName passes).":
        return ["o", "needs_display_name"]
    if rid in ONE_OFF:
        handler, params, phrase = ONE_OFF[rid]
        expect(r, phrase)
        return ["o", handler, *params]
    raise RuleError(f"{rid}: no handler for logic {logic!r}")


def message(r: dict, op: list):
    """The row's message; for bounds (card, choice) a pair [below-min message, above-max message]."""
    text = r["message"]
    if op[0] not in ("card", "choice"):
        return text
    lo, hi = op[-2], op[-1]
    parts = text.split(" | ")
    wants = [lo > 0, hi != -1]
    if len(parts) == 2 and all(wants):
        return parts
    if len(parts) == 1 and wants.count(True) == 1:
        return [parts[0], None] if wants[0] else [None, parts[0]]
    if len(parts) == 1 and lo == 0 and hi == 0:
        return [None, parts[0]]
    raise RuleError(f"{r['row_id']}: cannot split message {text!r} for bounds {lo}..{hi}")


# --------------------------------------------------------------------------- DTr1 rules


def read_dtr1(path: Path) -> dict:
    """``datatype-rules.md`` -> {label: [severity, family, text]} (label = rule id or quoted start)."""
    rules: dict[str, list] = {}
    family = None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^### (\S+)", line)
        if m:
            family = m.group(1).rstrip(":")
            continue
        if family is None or not line.startswith("| ") or line.startswith("| rule id") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) != 3 or cells[2] not in SEVERITY:
            continue
        rid, text, sev = cells
        q = re.match(r'^\(no id\) "(.*?)…?"$', rid)
        label = q.group(1) if q else re.sub(r" \((low|center|high)\)$", "", rid)
        text = text.replace("\\|", "|").replace("`", "")
        key = label
        if key in rules and rules[key][1] != family:
            key = f"{family}:{label}"  # dtr1-1-PN repeated under PN.NL
        if key in rules:
            rules[key][2] += " " + text  # dtr1-9-IVL_TS low/center/high
            continue
        rules[key] = [SEVERITY[sev], family, text]
    return rules


# --------------------------------------------------------------------------- main


def build(ref: Path) -> dict:
    rules_dir = ref / "rules"
    rows = list(csv.DictReader(open(rules_dir / "template-constraints.csv", encoding="utf-8", newline="")))
    steps = Steps()
    patterns: list[str] = []
    contexts: list = []
    ctx_index: dict[tuple[str, str], int] = {}
    vs_keys: set[str] = set()
    errors = []
    for r in rows:
        try:
            op = compile_row(r, steps)
        except RuleError as exc:
            errors.append(str(exc))
            continue
        if r["source_file"] not in patterns:
            patterns.append(r["source_file"])
        key = (r["source_file"], r["context"])
        if key not in ctx_index:
            ctx_index[key] = len(contexts)
            path = [] if r["context"] == "/" else steps.path(r["context"])
            contexts.append([patterns.index(r["source_file"]), path, []])
        times = 2 if "reported twice" in r["logic"] else 1
        never = 1 if r["never_fires"] == "true" else 0
        row = [r["row_id"], SEVERITY[r["severity"]], message(r, op), never, times, op]
        contexts[ctx_index[key]][2].append(row)
        vs_keys.update(re.findall(r"(?:vs=)?([0-9.]+@\d{4}-\d\d-\d\dT\d{6})", r["context"] + " " + r["target"] + " " + r["value"]))
    unused = sorted(set(ONE_OFF) - {r["row_id"] for r in rows if r["kind"] == "other"})
    if unused:
        errors.append(f"ONE_OFF rows not in the CSV (or no longer kind=other): {unused}")
    if errors:
        raise SystemExit("cannot compile:\n  " + "\n  ".join(errors))
    if len(rows) != sum(len(c[2]) for c in contexts):
        raise SystemExit("row count mismatch")

    voc = ref / "valuesets-4.1.3" / "voc"
    valuesets = {}
    for key in sorted(vs_keys):
        oid, version = key.split("@")
        path = voc / f"voc-{oid}-{version}.xml"
        if not path.exists():
            raise SystemExit(f"value set file missing: {path.name}")
        valuesets[key] = read_valueset(path)
        bad = [x for x in valuesets[key]["x"] if x[1] != NULLFLAVOR_CS]
        if bad:
            raise SystemExit(f"{key}: exception outside NullFlavor: {bad}")

    with open(rules_dir / "ucum-units.csv", encoding="utf-8", newline="") as fh:
        ucum = {row["unit"]: row["message"] for row in csv.DictReader(fh)}

    return {
        "format": 1,
        "interaction": "REPC_IN902120NL03",
        "patterns": patterns,
        "steps": steps.table,
        "contexts": contexts,
        "valuesets": valuesets,
        "ucum": ucum,
        "dtr1": read_dtr1(rules_dir / "datatype-rules.md"),
    }


PROVENANCE = """\
Validation rules of the JGZ dossier transfer message (DOB), compiled for jgz-gateway
===================================================================================

rules.json.gz is generated by tools/import_rules.py; do not edit it by hand.

Source
------
Nictiz/HL7-mappings (https://github.com/Nictiz/HL7-mappings), path
ada_2_hl7/jgz/7.1/hl7v3_schematron/, commit {commit_sch}: the ART-DECOR schematron of
JGZ publication 7.1.3 (BDS up to 4.1.3), transaction "Versturen JGZ-dossieroverdrachtverzoek
v03 413" (2.16.840.1.113883.2.4.3.11.60.100.4.34, 2020-05-27), main file
jgz-versturenDossieroverdrachtbericht-03.sch with include/*.sch and include/voc-*.xml.

The schematron itself is not copied. The project's reference folder states its rules as
data (reference/bds/rules/: template-constraints.csv, datatype-rules.md, ucum-units.csv)
and holds the value-set exports (reference/bds/valuesets-4.1.3/voc/). This file contains:

* every row of template-constraints.csv ({rows} rows, {contexts} rule contexts in
  {patterns} schematron patterns), with paths parsed into steps and each row turned into
  an operation; the row id (TCnnnnn), severity and message are kept verbatim;
* the {valuesets} value sets the rows name (voc-<OID>-<version>.xml: the first valueSet,
  direct children of its conceptList: concepts, their deprecated (type D) subset, and
  exceptions);
* the DTr1 datatype rule ids, severities and texts of datatype-rules.md;
* the 26 UCUM units of ucum-units.csv for which the "valid UCUM unit" warning fires
  (from include/voc-UCUM.xml, DECOR-ucum (c) Kai U. Heitmann, GPL v3; UCUM (c) Regenstrief
  Institute).

Licence
-------
The repository has no licence file; these are public Nictiz artefacts (see
reference/README.md).

Derivation for the interactions without a published schematron
--------------------------------------------------------------
REPC_IN902120NL03 (BDS 4.0-4.1): the rules apply as published.

REPC_IN902120NL04 (BDS 4.2.0): no schematron is public. The engine applies the NL03 rules:
* the transmission and ControlAct wrapper contexts REPC_IN902120NL03[...] apply to the
  root REPC_IN902120NL04 (the interaction name is substituted, also in the interaction
  id check and in the ControlActProcess/code trigger event, REPC_TE902100NL04; the
  interaction-list facts of NL03 are assumed: active, trust level Laag, no BSN or
  context-code attentionLine switch);
* payload and template rules apply unchanged;
* value sets: BDS 4.2.0 contents are not published (W0639/W0646/W0647 excepted, which
  the rules use only in metaData categoryInBDS). A code outside a 4.1.3 BDS W-domain
  value set (2.16.840.1.113883.2.4.3.11.60.100.11.2.*) is never an error: every error
  that holds only because some coded element's code is not in such a 4.1.3 value set
  (that is, that disappears when those value-set tests accept any code) is reported as
  a warning with the same rule id;
* the BDS 4.2.0 dataset's rubriek and groep cardinalities are not published either
  (the 4.2.0 change-request messages repeat element 80 within one G019 group, which
  the 4.1.3 rubric template 11012 allows once): a rubriek or groep holding a BDS
  element more often than its 4.1.3 maximum is a warning, same rule id;
* elements new in 4.2.0 (1608-1690) have no observation template in 4.1.3, so no rule
  context opens on them; rubric and group rules do not list them, so they cause no error.

REPC_IN902120NL (BDS 3.2): no schematron is public here. The engine applies the DTr1
datatype rules with their own severity, and the template rules whose contexts match
(wrapper contexts with the interaction name substituted, trigger event REPC_TE902100NL),
but every template-row error becomes a warning: those rules define the BDS 4.x message,
not the 3.2 one, so only the HL7 datatype rules, which do not depend on the BDS
version, can reject a 3.2 message here.
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", type=Path, default=DEFAULT_REF)
    args = ap.parse_args(argv)
    data = build(args.ref)
    OUT.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with gzip.GzipFile(OUT / "rules.json.gz", "wb", compresslevel=9, mtime=0) as fh:
        fh.write(raw)
    rows = sum(len(c[2]) for c in data["contexts"])
    (OUT / "PROVENANCE").write_text(
        PROVENANCE.format(
            commit_sch=COMMIT_SCH,
            rows=f"{rows:,}",
            contexts=f"{len(data['contexts']):,}",
            patterns=len(data["patterns"]),
            valuesets=len(data["valuesets"]),
        ),
        encoding="utf-8",
    )
    print(f"{rows} rows, {len(data['contexts'])} contexts, {len(data['steps'])} steps, "
          f"{len(data['valuesets'])} value sets, {len(raw):,} bytes JSON", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
