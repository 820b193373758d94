"""Oracle sweep: does every published DOB v03 template rule fire when a real message breaks it?

For each row of ``bds/rules/template-constraints.csv`` of kind cardinality, fixed-value,
value-set (``@code/@codeSystem``), unit (fixed units, not the UCUM warnings) and pattern,
with ``never_fires`` empty, the sweep takes the first element of a reference NL03 message
(smallest message first) that the row's context matches, makes ONE minimal mutation that
violates exactly that row, runs ``templates.check_templates`` on the mutant and checks that
a NEW finding (not in the base message's findings) with the row id and the row's severity
appears:

- cardinality, min >= 1: remove every child matching the target step (or the attribute);
- cardinality, finite max: append deep copies of a matching child until there are max+1;
- fixed-value: set the attribute to ``XX<value>`` (``tokens:`` rows: ``XX``); coded
  targets: ``@code`` := ``ZZZ999`` (``@codeSystem`` for code-system-only rows), only on
  elements without nullFlavor;
- value-set: ``@code`` := ``ZZZ999`` keeping ``@codeSystem``, only without nullFlavor;
- unit: ``@unit`` := ``zz``; pattern: the attribute := a string the regex rejects.

Why it is independent of the engine: the context notation is translated here, from the
README of the rules folder, into lxml XPath (first step ``//``; qualifiers as predicates;
``vs=`` membership read directly from the ``voc-*.xml`` files; bare TYPE through a small
XPath extension that resolves the ``xsi:type`` QName). The README's "first context per
pattern" rule is applied here too, so an element is only used for a row whose context
claims it. Nothing under ``jgz_gateway/standards/validation`` except the public
``templates.check_templates`` entry point is used: the validator is only the thing under
test. After a mutation the sweep re-checks with its own XPath that the mutated element
still belongs to the row's context; when the mutation necessarily takes it out (the
context qualifier tests the very value that is mutated) the row is SKIPPED, not failed.

    .venv/bin/python tools/rule_sweep.py [--kind cardinality] [--rows TC00001,TC00002] [--limit N] [--every N]
                                        [--template 118] [--base extra.xml] [--json /tmp/sweep.json] [--show-passed]
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lxml import etree

from jgz_gateway.standards.validation import templates
from jgz_gateway.standards.xmlsafe import parse_bytes

REFERENCE = ROOT.parent / "shared" / "reference"
RULES = REFERENCE / "bds" / "rules"
VOC = REFERENCE / "bds" / "valuesets-4.1.3" / "voc"
BASES = [REFERENCE / "hl7v3" / "examples" / "nl03-jgz7.0", REFERENCE / "ada" / "hl7"]
INTERACTION = "REPC_IN902120NL03"

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
EXT = "urn:x-rule-sweep"
NS = {"h": HL7, "xsi": XSI, "x": EXT}
TPL = "2.16.840.1.113883.2.4.6.10.100."
KINDS = ("cardinality", "fixed-value", "value-set", "unit", "pattern")
CANDIDATES = 4  # elements tried per test before giving up on "mutation leaves the context"


class Untranslatable(ValueError):
    """A context or target the notation parser cannot translate."""


# --------------------------------------------------------------------------- notation


@dataclass
class Step:
    name: str  # local name in the HL7 namespace, or "*"
    quals: list[list[tuple]] = field(default_factory=list)  # and-list of or-lists of alternatives


def _split(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside square brackets."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise Untranslatable(f"unbalanced ']' in {text!r}")
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth:
        raise Untranslatable(f"unbalanced '[' in {text!r}")
    parts.append("".join(cur))
    return parts


def parse_path(text: str) -> list[Step]:
    if not text or text == "/":
        raise Untranslatable(f"path {text!r}")
    return [parse_step(s) for s in _split(text, "/")]


_NAME = re.compile(r"\*|[A-Za-z_][\w.-]*")


def parse_step(text: str) -> Step:
    m = _NAME.match(text)
    if not m:
        raise Untranslatable(f"step {text!r}")
    step, rest = Step(m.group(0)), text[m.end():]
    while rest:
        if rest[0] != "[":
            raise Untranslatable(f"trailing {rest!r} in step {text!r}")
        end = _closing(rest)
        step.quals.append([parse_alt(a) for a in _split(rest[1:end], "|")])
        rest = rest[end + 1:]
    return step


def _closing(text: str) -> int:
    """Index of the ']' that closes the '[' at ``text[0]``."""
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "["
        depth -= ch == "]"
        if depth == 0:
            return i
    raise Untranslatable(f"unbalanced {text!r}")


def parse_alt(a: str) -> tuple:
    """One qualifier alternative, exactly as the README's qualifier table lists them."""
    if a == "non-null":
        return ("non-null",)
    if a == "nullFlavor":
        return ("nullFlavor",)
    if a.startswith("vs="):
        oid, _, ver = a[3:].rpartition("@")
        if not oid or not ver:
            raise Untranslatable(f"value set {a!r}")
        return ("vs", oid, ver)
    if a.startswith("tpl="):
        return ("child", Step("templateId", [[("eq", "root", TPL + a[4:])]]))
    if re.fullmatch(r"@[\w:]+", a):
        return ("has", a[1:])
    m = re.fullmatch(r"([\w:]+) (with|without) '([^']*)'", a)
    if m:
        return (m.group(2), m.group(1), m.group(3))
    m = re.fullmatch(r"([A-Za-z_][\w]*(?::[\w]+)?)=([^@\[\]]*)", a)
    if m:
        return ("eq", m.group(1), m.group(2))
    m = re.fullmatch(r"([^@\[\]=|]+)@([0-9][0-9.]*)", a)
    if m:
        return ("code", m.group(1), m.group(2))
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", a):
        return ("type", a)
    return ("child", parse_step(a))


# --------------------------------------------------------------------------- XPath


def lit(s: str) -> str:
    if "'" not in s:
        return f"'{s}'"
    if '"' not in s:
        return f'"{s}"'
    return "concat(" + ", \"'\", ".join(f"'{p}'" for p in s.split("'")) + ")"


def attr(name: str) -> str:
    if ":" in name:
        prefix, local = name.split(":", 1)
        if prefix != "xsi":
            raise Untranslatable(f"attribute prefix {name!r}")
        return f"@xsi:{local}"
    return f"@{name}"


def alt_xpath(a: tuple) -> str:
    kind = a[0]
    if kind == "non-null":
        return "not(@nullFlavor)"
    if kind == "nullFlavor":
        return "@nullFlavor"
    if kind == "vs":
        VALUESETS.get(a[1], a[2])  # fail early (Untranslatable) if the file is missing
        return f"x:vs({lit(a[1] + '@' + a[2])})"
    if kind == "has":
        return attr(a[1])
    if kind == "with":
        return f"contains({attr(a[1])}, {lit(a[2])})"
    if kind == "without":
        return f"not(contains({attr(a[1])}, {lit(a[2])}))"
    if kind == "eq":
        return f"{attr(a[1])}={lit(a[2])}"
    if kind == "code":
        return f"(@code={lit(a[1])} and @codeSystem={lit(a[2])})"
    if kind == "type":
        return f"x:type({lit(a[1])})"
    if kind == "child":
        return step_xpath(a[1])
    raise Untranslatable(str(a))


def name_test(step: Step) -> str:
    return "*" if step.name == "*" else f"h:{step.name}"


def preds(step: Step) -> str:
    return "".join("[" + " or ".join(alt_xpath(a) for a in alts) + "]" for alts in step.quals)


def step_xpath(step: Step) -> str:
    return name_test(step) + preds(step)


def forward_xpath(steps: list[Step]) -> str:
    """Every element the context matches: first step anywhere, then child steps."""
    return "//" + "/".join(step_xpath(s) for s in steps)


def self_xpath(steps: list[Step]) -> str:
    """Does the context node match the context? (the path read backwards via parent::)"""
    inner = ""
    for s in steps[:-1]:  # outermost first; each later step is the child of the one before
        inner = "parent::" + step_xpath(s) + (f"[{inner}]" if inner else "")
    return "boolean(self::" + step_xpath(steps[-1]) + (f"[{inner}]" if inner else "") + ")"


class ValueSets:
    """``voc-OID-VERSION.xml``: first valueSet, direct children of its conceptList."""

    def __init__(self) -> None:
        self.sets: dict[tuple[str, str], tuple[frozenset, frozenset]] = {}

    def get(self, oid: str, ver: str) -> tuple[frozenset, frozenset]:
        key = (oid, ver)
        if key not in self.sets:
            path = VOC / f"voc-{oid}-{ver}.xml"
            if not path.exists():
                raise Untranslatable(f"value set file {path.name} missing")
            vs = etree.parse(str(path)).getroot().find("valueSet")
            concepts, exceptions = set(), set()
            cl = vs.find("conceptList") if vs is not None else None
            for c in cl if cl is not None else ():
                if c.tag == "concept":
                    concepts.add((c.get("code"), c.get("codeSystem")))
                elif c.tag == "exception":
                    exceptions.add(c.get("code"))
            self.sets[key] = (frozenset(concepts), frozenset(exceptions))
        return self.sets[key]

    def member(self, el, spec: str) -> bool:
        oid, _, ver = spec.rpartition("@")
        concepts, exceptions = self.get(oid, ver)
        nf = el.get("nullFlavor")
        return (el.get("code"), el.get("codeSystem")) in concepts or (nf is not None and nf in exceptions)


VALUESETS = ValueSets()


def _x_vs(context, spec):
    return VALUESETS.member(context.context_node, spec)


def _x_type(context, type_name):
    el = context.context_node
    value = el.get(f"{{{XSI}}}type")
    if value is None:
        return False
    prefix, _, local = value.strip().rpartition(":")
    return local == type_name and el.nsmap.get(prefix or None) == HL7


FUNCTIONS = {(EXT, "vs"): _x_vs, (EXT, "type"): _x_type}


def compile_xpath(expr: str) -> etree.XPath:
    try:
        return etree.XPath(expr, namespaces=NS, extensions=FUNCTIONS)
    except etree.XPathSyntaxError as exc:
        raise Untranslatable(f"XPath {expr!r}: {exc}") from exc


@dataclass
class Context:
    text: str
    steps: list[Step]
    forward: etree.XPath
    test: etree.XPath
    last: str  # local name of the last step, or "*"

    @classmethod
    def build(cls, text: str) -> Context:
        steps = parse_path(text)
        return cls(text, steps, compile_xpath(forward_xpath(steps)), compile_xpath(self_xpath(steps)), steps[-1].name)

    def holds(self, el) -> bool:
        return (self.last == "*" or etree.QName(el).localname == self.last) and bool(self.test(el))


# --------------------------------------------------------------------------- rows, patterns


@dataclass
class Row:
    id: str
    kind: str
    context: str
    target: str
    min: str
    max: str
    value: str
    severity: str
    source: str


class Patterns:
    """Contexts per ``source_file`` in file order; the first matching context claims an element."""

    def __init__(self, all_rows: list[dict]) -> None:
        self.order: dict[str, list[str]] = defaultdict(list)
        for r in all_rows:
            if r["context"] not in self.order[r["source_file"]]:
                self.order[r["source_file"]].append(r["context"])
        self.compiled: dict[str, Context | Untranslatable] = {}

    def context(self, text: str) -> Context:
        if text not in self.compiled:
            try:
                self.compiled[text] = Context.build(text)
            except Untranslatable as exc:
                self.compiled[text] = exc
        got = self.compiled[text]
        if isinstance(got, Untranslatable):
            raise got
        return got

    def earlier(self, source: str, text: str) -> list[Context]:
        order = self.order[source]
        return [self.context(t) for t in order[: order.index(text)]]

    def claimed(self, el, source: str, text: str) -> bool:
        """True when ``text`` is the first context of the pattern that matches ``el``."""
        return self.context(text).holds(el) and not any(c.holds(el) for c in self.earlier(source, text))


# --------------------------------------------------------------------------- mutations


def qname_attr(name: str) -> str:
    return f"{{{XSI}}}{name[4:]}" if name.startswith("xsi:") else name


def child_matcher(target: str) -> etree.XPath:
    return compile_xpath("./" + step_xpath(parse_step(target)))


def regex_for(row: Row) -> re.Pattern:
    # the INT rows: the reference engine reads ^+?\d*$ as ^\d*$ (logic column)
    return re.compile(row.value.replace("^+?", "^"))


@dataclass
class Test:
    """One row and one way of violating it (cardinality rows with both bounds have two)."""

    row: Row
    variant: str  # min | max | value

    @property
    def key(self) -> str:
        return f"{self.row.id}/{self.variant}" if self.row.kind == "cardinality" else self.row.id

    def prepare(self) -> None:
        """Validate the target notation once (raises Untranslatable)."""
        r = self.row
        if r.kind == "cardinality" and not r.target.startswith("@"):
            self.children = child_matcher(r.target)
        if r.kind == "pattern":
            self.regex = regex_for(r)
            self.bad = next(s for s in ("!!", "zz!!", "-") if not self.regex.search(s))

    def precondition(self, el) -> str | None:
        """None if ``el`` is fit (the base does not already violate the row); else why not."""
        r = self.row
        if r.kind == "cardinality":
            if r.target.startswith("@"):
                names = [t.strip() for t in r.target.split(" and ")]
                return None if all(el.get(qname_attr(n[1:])) is not None for n in names) else "attribute absent"
            n = len(self.children(el))
            if self.variant == "min":
                return None if n >= int(r.min) else "fewer children than min in base"
            if n == 0:
                return "no matching child to copy"
            return None if n <= int(r.max) else "more children than max in base"
        if r.kind in ("value-set", "unit") or (r.kind == "fixed-value" and coded(r)):
            if el.get("nullFlavor") is not None:
                return "element has nullFlavor"
            if r.kind == "unit":
                ok = el.get("unit") == r.value
            elif r.kind == "value-set":
                ok = any(VALUESETS.member(el, v.strip()) for v in r.value.split("|"))
            else:
                ok = any(all(el.get(k) == v for k, _, v in (t.partition("=") for t in alt.split()))
                         for alt in r.value.split("|"))
            return None if ok else "base value violates"
        if r.kind == "fixed-value":
            name = qname_attr(r.target[1:])
            cur = el.get(name)
            if cur is None:
                return "attribute absent (min=1)" if r.min == "1" else None
            if r.value.startswith("tokens:"):
                allowed = {t.strip() for t in r.value[7:].split("|")}
                return None if all(t in allowed for t in cur.split()) else "base value violates"
            return None if cur == r.value else "base value violates"
        if r.kind == "pattern":
            cur = el.get(qname_attr(r.target[1:]))
            if cur is None:
                return "attribute absent (min=1)" if r.min == "1" else None
            return None if self.regex.search(cur) else "base value violates"
        return "kind not swept"

    def mutate(self, el) -> str:
        """Apply the mutation to ``el`` (in the copy); return a description."""
        r = self.row
        if r.kind == "cardinality":
            if r.target.startswith("@"):
                names = [t.strip()[1:] for t in r.target.split(" and ")]
                name = names[-1]
                del el.attrib[qname_attr(name)]
                return f"removed @{name}"
            kids = self.children(el)
            if self.variant == "min":
                for k in kids:
                    el.remove(k)
                return f"removed {len(kids)} child(ren) {r.target}"
            last, added = kids[-1], 0
            for _ in range(int(r.max) + 1 - len(kids)):
                last.addnext(copy.deepcopy(last))
                added += 1
            return f"appended {added} copy(ies) of child {etree.QName(last).localname} (now {int(r.max) + 1})"
        if r.kind == "value-set" or (r.kind == "fixed-value" and coded(r)):
            if r.kind == "fixed-value" and "code=" not in r.value:
                old = el.get("codeSystem")
                el.set("codeSystem", "2.16.840.1.113883.2.4.99999")
                return f"@codeSystem {old!r} -> '2.16.840.1.113883.2.4.99999'"
            old = el.get("code")
            el.set("code", "ZZZ999")
            return f"@code {old!r} -> 'ZZZ999'"
        if r.kind == "unit":
            old = el.get("unit")
            el.set("unit", "zz")
            return f"@unit {old!r} -> 'zz'"
        name = qname_attr(r.target[1:])
        old = el.get(name)
        if r.kind == "fixed-value":
            new = "XX" if r.value.startswith("tokens:") else "XX" + r.value
        else:
            new = self.bad
        el.set(name, new)
        return f"{r.target} {old!r} -> {new!r}"


def coded(r: Row) -> bool:
    return r.value.startswith(("code=", "codeSystem="))


def tests_for(r: Row) -> tuple[list[Test], str | None]:
    """The tests of a row, or the reason it is out of the sweep's scope."""
    if r.kind == "cardinality":
        out = []
        if r.min not in ("", "0"):
            out.append(Test(r, "min"))
        if r.max not in ("", "*") and not r.target.startswith("@"):  # an attribute occurs at most once
            out.append(Test(r, "max"))
        return out, None if out else "cardinality without a testable bound"
    if r.kind == "value-set":
        return ([Test(r, "value")], None) if r.target == "@code/@codeSystem" else ([], f"value-set target {r.target}")
    if r.kind == "unit":
        return ([], "UCUM warning row") if r.value == "valid UCUM unit" else ([Test(r, "value")], None)
    if r.kind == "fixed-value" and coded(r) and r.target not in ("@code/@codeSystem", "@code", "@codeSystem"):
        return [], f"coded fixed value on {r.target}"
    return [Test(r, "value")], None


# --------------------------------------------------------------------------- messages


def hl7_path(el) -> str:
    """``/hl7:a/hl7:b[2]``: index only where siblings share the name (the validator's format)."""
    parts = []
    while el is not None:
        parent = el.getparent()
        q = etree.QName(el)
        name = ("hl7:" if q.namespace == HL7 else "") + q.localname
        if parent is not None:
            same = [s for s in parent if isinstance(s.tag, str) and s.tag == el.tag]
            if len(same) > 1:
                name += f"[{same.index(el) + 1}]"
        parts.append(name)
        el = parent
    return "/" + "/".join(reversed(parts))


def fkey(f) -> tuple:
    return (f.severity, f.rule, f.xpath, f.message)


@dataclass
class Base:
    path: Path
    root: etree._Element
    findings: Counter
    matches: dict = field(default_factory=dict)

    def match(self, ctx: Context) -> list:
        if ctx.text not in self.matches:
            self.matches[ctx.text] = ctx.forward(self.root)
        return self.matches[ctx.text]


def load_bases(extra: list[Path] = ()) -> list[Base]:
    """The reference NL03 messages, smallest first, then ``extra`` (``--base``) in the order given."""
    out = []
    files = sorted((p for d in BASES for p in d.glob("*.xml")), key=lambda p: (p.stat().st_size, p.name)) + list(extra)
    for p in files:
        root = parse_bytes(p.read_bytes()).getroot()
        if etree.QName(root).localname != INTERACTION:
            continue
        out.append(Base(p, root, Counter(fkey(f) for f in templates.check_templates(root, INTERACTION))))
    return out


def locate(root, index: int):
    for i, el in enumerate(root.iter()):
        if i == index:
            return el
    raise LookupError(index)


# --------------------------------------------------------------------------- the sweep


@dataclass
class Result:
    key: str
    row: Row
    status: str  # PASS | NOT-FIRED | SKIPPED
    reason: str = ""
    base: str = ""
    xpath: str = ""
    mutation: str = ""
    instead: list = field(default_factory=list)  # PASS: the row's new findings
    elsewhere: bool = False


def run_test(t: Test, bases: list[Base], patterns: Patterns) -> Result:
    r = t.row
    ctx = patterns.context(r.context)
    matched = claimed = tried = 0
    reasons: Counter = Counter()
    out: Result | None = None  # the first mutant whose element left the row's context
    for base in bases:
        for el in base.match(ctx):
            matched += 1
            if not patterns.claimed(el, r.source, r.context):
                continue
            claimed += 1
            why = t.precondition(el)
            if why:
                reasons[why] += 1
                continue
            tried += 1
            index = next(i for i, e in enumerate(base.root.iter()) if e is el)
            mroot = copy.deepcopy(base.root)
            mel = locate(mroot, index)
            mutation = t.mutate(mel)
            where = hl7_path(mel)
            if not patterns.claimed(mel, r.source, r.context):
                if out is None:
                    reason = ("mutation takes the element out of the row's context" if not ctx.holds(mel)
                              else "mutated element is claimed by an earlier context of the pattern")
                    out = Result(t.key, r, "SKIPPED", reason, base.path.name, where, mutation)
                    # the row must not fire on an element outside its context either
                    new = new_findings(mroot, base)
                    out.instead = [k for k in new if k[3].startswith(r.id + " ") and k[2] == where]
                if tried >= CANDIDATES:
                    return out
                continue
            new = new_findings(mroot, base)
            hits = [k for k in new if k[3].startswith(r.id + " ") and k[0] == r.severity]
            if hits:
                return Result(t.key, r, "PASS", "", base.path.name, where, mutation, hits,
                              elsewhere=not any(k[2] == where for k in hits))
            instead = sorted(new)
            if not instead:  # say so when the row already fired there in the base message
                instead = [("(in base)",) + k[1:] for k in base.findings if k[3].startswith(r.id + " ")]
            return Result(t.key, r, "NOT-FIRED", "", base.path.name, where, mutation, instead)
    if out:
        return out
    if not matched:
        return Result(t.key, r, "SKIPPED", "no base element matches the context")
    if not claimed:
        return Result(t.key, r, "SKIPPED", "every matching element is claimed by an earlier context of the pattern")
    return Result(t.key, r, "SKIPPED", "no fit element: " + ", ".join(f"{k} ({n})" for k, n in reasons.most_common()))


def new_findings(mroot, base: Base) -> list[tuple]:
    """Findings of the mutant that the base message does not have (as a multiset)."""
    found = Counter(fkey(f) for f in templates.check_templates(mroot, INTERACTION))
    return list((found - base.findings).elements())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, help="test at most N rows")
    ap.add_argument("--every", type=int, default=1, help="test every Nth selected row (a sample across all kinds)")
    ap.add_argument("--kind", choices=KINDS, action="append", help="only this kind (repeatable)")
    ap.add_argument("--rows", help="comma-separated row ids")
    ap.add_argument("--json", help="write all results to this file")
    ap.add_argument("--show-passed", action="store_true", help="also list passed tests")
    ap.add_argument("--base", type=Path, action="append", default=[],
                    help="another NL03 message to break (after the reference ones), e.g. one holding "
                         "structures no reference message has (repeatable)")
    ap.add_argument("--template", action="append", help="only rows of templates whose id ends in .N (repeatable)")
    args = ap.parse_args(argv)

    t0 = time.time()
    with open(RULES / "template-constraints.csv", encoding="utf-8", newline="") as fh:
        all_rows = list(csv.DictReader(fh))
    patterns = Patterns(all_rows)
    wanted = set(args.rows.split(",")) if args.rows else None
    rows = [Row(d["row_id"], d["kind"], d["context"], d["target"], d["min"], d["max"], d["value"], d["severity"],
                d["source_file"]) for d in all_rows
            if d["kind"] in (args.kind or KINDS) and not d["never_fires"] and (wanted is None or d["row_id"] in wanted)
            and (not args.template or d["template_id"].rsplit(".", 1)[1] in args.template)]
    rows = rows[:: args.every]
    if args.limit:
        rows = rows[: args.limit]

    bases = load_bases(args.base)
    results: list[Result] = []
    out_of_scope: Counter = Counter()
    untranslatable: dict[str, str] = {}
    for r in rows:
        tests, why = tests_for(r)
        if why:
            out_of_scope[why] += 1
            continue
        try:
            patterns.context(r.context)
            patterns.earlier(r.source, r.context)
            for t in tests:
                t.prepare()
        except Untranslatable as exc:
            untranslatable[r.id] = str(exc)
            continue
        for t in tests:
            results.append(run_test(t, bases, patterns))

    report(rows, results, out_of_scope, untranslatable, bases, args.show_passed, time.time() - t0)
    if args.json:
        Path(args.json).write_text(json.dumps([{
            "key": x.key, "row": x.row.id, "kind": x.row.kind, "context": x.row.context, "target": x.row.target,
            "min": x.row.min, "max": x.row.max, "value": x.row.value, "severity": x.row.severity,
            "status": x.status, "reason": x.reason, "base": x.base, "xpath": x.xpath, "mutation": x.mutation,
            "elsewhere": x.elsewhere, "instead": [list(k) for k in x.instead]} for x in results], indent=1))
    return 1 if any(x.status == "NOT-FIRED" for x in results) else 0


def report(rows, results, out_of_scope, untranslatable, bases, show_passed, seconds) -> None:
    status = Counter(x.status for x in results)
    tested_rows = {x.row.id for x in results if x.status != "SKIPPED"}
    print(f"rule sweep: {len(bases)} base messages, {len(rows)} rows selected, {seconds:.0f}s")
    print(f"  out of scope: {sum(out_of_scope.values())}  " + "; ".join(f"{k}: {n}" for k, n in out_of_scope.items()))
    print(f"  untranslatable rows: {len(untranslatable)}")
    for rid, why in sorted(untranslatable.items()):
        print(f"    {rid}: {why}")
    print(f"  tests: {len(results)} ({len(tested_rows)} rows tested)  passed {status['PASS']}  "
          f"not fired {status['NOT-FIRED']}  skipped {status['SKIPPED']}")
    elsewhere = [x for x in results if x.status == "PASS" and x.elsewhere]
    if elsewhere:
        print(f"  passed, but the finding is not at the mutated element: {len(elsewhere)}")
    by_kind = defaultdict(Counter)
    for x in results:
        by_kind[x.row.kind][x.status] += 1
    for k, c in by_kind.items():
        print(f"    {k:12} " + "  ".join(f"{s} {n}" for s, n in sorted(c.items())))
    anyway = [x for x in results if x.status == "SKIPPED" and x.instead]
    if anyway:
        print(f"  fired although the mutated element left the row's context: {len(anyway)}")
        for x in anyway:
            print(f"    {x.key} {x.base} {x.xpath} {x.mutation}: {x.instead[0][3][:120]}")
    skipped = Counter(x.reason.split(":")[0] for x in results if x.status == "SKIPPED")
    print("  skipped by reason:")
    for why, n in skipped.most_common():
        print(f"    {n:5}  {why}")
    nf = [x for x in results if x.status == "NOT-FIRED"]
    if nf:
        print(f"\nNOT FIRED ({len(nf)}):")
    for x in nf:
        print(f"- {x.key} [{x.row.kind}, {x.row.severity}] context {x.row.context}")
        print(f"    target {x.row.target} min={x.row.min} max={x.row.max} value={x.row.value[:80]}")
        print(f"    base {x.base}  at {x.xpath}")
        print(f"    mutation: {x.mutation}")
        if not x.instead:
            print("    instead: no new finding")
        for k in x.instead[:8]:
            print(f"    instead: {k[0]} {k[3][:150]}" + ("" if k[2] == x.xpath else f"  @ {k[2]}"))
        if len(x.instead) > 8:
            print(f"    ... {len(x.instead) - 8} more")
    if show_passed or elsewhere:
        for x in results:
            if x.status == "PASS" and (show_passed or x.elsewhere):
                print(f"  PASS {x.key} {x.base} {x.xpath} {x.mutation}" + ("  (finding elsewhere)" if x.elsewhere else ""))


if __name__ == "__main__":
    sys.exit(main())
