"""Oracle sweep: does every DTr1 datatype rule fire when a real message breaks it?

``bds/rules/datatype-rules.md`` lists the 164 DTr1 rules per family (ids, severities,
inheritance, "as implemented" notes); a ``template-constraints.csv`` row of kind
``datatype`` with target ``.`` declares that the elements its context matches are of a
family. For each DTr1 rule and for up to three families that have it (its own family
first, then the families inheriting it, in the order of the md's family table), the sweep
takes the first element of a reference NL03 message (smallest message first) that such a
row declares to be of that family, applies ONE minimal mutation written here from the
rule's plain-English text (a BSN failing the eleven test, a TS with month 13, an II
without root, a nullFlavor next to a code, two identical sibling ids ...), runs
``templates.check_templates`` on the mutant and checks that a NEW finding (not in the base
message's findings, compared as a multiset) with the rule's label and the md's severity
appears at that element. Label: the DTr1 id (``dtr1-9-IVL_TS`` for the three
``dtr1-9-IVL_TS (low|center|high)`` lines); for the PN.NL rules without an id, the quoted
start of their message. A PN.NL name that breaks dtr1-1-PN must get it twice (the PN and
the PN.NL copy).

Besides that basic mutation, 42 edge cases taken from the md's wording and its "as
implemented" notes (30 February, a fraction before full seconds, a qualifier that contains
IN only as a substring, nested translations, duplicates with other part names, ...) each
run on the first family where they apply.

No reference message has an element of INT.POS, PIVL_TS or SXPR_TS; for those the sweep
adds two grafted bases (see ``GRAFTS``): the smallest message with a small fragment built
from the template rows that declare these families. Base names ending in ``+graft:...``
mark such results; ``--no-grafts`` leaves them out.

Results per (rule, family, mutation): PASS, NOT-FIRED (with what was reported instead), or
SKIPPED with a reason: no element of the family in the reference messages, no element fit
for the mutation, the mutation takes the element out of the family's context (for example
a changed ``root`` where every context pins ``id[root=...]``), or the base message already
reports the rule at that element. A family that is skipped does not count towards the
three.

Why it is independent of the engine: the family declarations are found with
``tools/rule_sweep.py``'s own translation of the CSV's context notation to lxml XPath and
its ``Patterns`` (the README's "first context per pattern claims the element" rule); the
rules, labels, severities and inheritance are parsed here from ``datatype-rules.md``; the
mutations and their preconditions are written here from the md's text. Nothing under
``jgz_gateway/standards/validation`` except the public ``templates.check_templates`` entry
point is used. After each mutation the sweep re-checks, with the same XPath, that the
rows that declared the element still do; if not, it tries the next element.

    .venv/bin/python tools/datatype_sweep.py [--rules dtr1-2-II.NL.BSN,...] [--family II.NL.BSN,...]
                                             [--max-families 3] [--basic-only] [--no-grafts]
                                             [--json /tmp/dt.json] [--show-passed]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lxml import etree

import rule_sweep as rs
from rule_sweep import HL7, INTERACTION, RULES, XSI, Base, Patterns, Untranslatable, hl7_path, load_bases, locate

templates = rs.templates  # the entry point under test (looked up at call time, so tests can patch it)

MD = RULES / "datatype-rules.md"
H = f"{{{HL7}}}"

# --------------------------------------------------------------------------- datatype-rules.md


@dataclass
class Rule:
    family: str  # the family whose table lists the rule
    key: str  # the id cell as written (dtr1-9-IVL_TS (low)); for rules without id: the label
    label: str  # what the finding's ``rule`` must be
    severity: str
    text: str


def _cells(line: str) -> list[str]:
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def parse_md(path: Path = MD) -> tuple[dict[str, list[str]], list[Rule]]:
    """(family -> inherited families nearest first, in table order; rules in md order)."""
    inherits: dict[str, list[str]] = {}
    rules: list[Rule] = []
    family = None
    in_families = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("| family | inherits"):
            in_families = True
            continue
        if in_families:
            if not line.startswith("|"):
                in_families = False
            elif not line.startswith("|---"):
                cells = _cells(line)
                inherits[cells[0]] = [] if cells[1] in ("—", "-", "") else [f.strip() for f in cells[1].split(">")]
            continue
        m = re.match(r"### ([\w.]+)", line)
        if m:
            family = m.group(1) if m.group(1) in inherits else None
            continue
        if family and line.startswith("| ") and not line.startswith("| rule id"):
            cell, text, severity = _cells(line)
            quoted = re.fullmatch(r'\(no id\) "(.*?)…?"', cell)
            label = quoted.group(1) if quoted else re.sub(r" \(.*\)$", "", cell)
            rules.append(Rule(family, label if quoted else cell, label, severity, text))
    return inherits, rules


# --------------------------------------------------------------------------- declarations


class Declarations:
    """Which elements the CSV's datatype rows (target ``.``) declare of which family."""

    def __init__(self, all_rows: list[dict], patterns: Patterns) -> None:
        self.patterns = patterns
        self.rows = [r for r in all_rows if r["kind"] == "datatype" and r["target"] == "."]
        self.by_family: dict[str, list[dict]] = defaultdict(list)
        self.by_id = {r["row_id"]: r for r in self.rows}
        for r in self.rows:
            patterns.context(r["context"])  # raises Untranslatable early
            self.by_family[r["value"]].append(r)
        self.cache: dict[tuple[str, str], dict] = {}
        self.order: dict[str, dict] = {}

    def claims(self, el, r: dict) -> bool:
        return self.patterns.claimed(el, r["source_file"], r["context"])

    def still(self, el, row_ids) -> list[str]:
        """Those of ``row_ids`` whose context still claims ``el`` (after a mutation)."""
        return [i for i in row_ids if self.claims(el, self.by_id[i])]

    def index(self, base: Base, el) -> int:
        """Position of ``el`` in ``base.root.iter()`` (to find it again in a copy)."""
        if str(base.path) not in self.order:
            self.order[str(base.path)] = {e: i for i, e in enumerate(base.root.iter())}
        return self.order[str(base.path)][el]

    def elements(self, base: Base, family: str) -> dict:
        """element -> ids of the rows declaring it of ``family``, for ``base``, in document order."""
        key = (str(base.path), family)
        if key not in self.cache:
            found: dict = defaultdict(list)
            for r in self.by_family.get(family, []):
                for el in base.match(self.patterns.context(r["context"])):
                    if self.claims(el, r):
                        found[el].append(r["row_id"])
            self.cache[key] = {el: found[el] for el in sorted(found, key=lambda e: self.index(base, e))}
        return self.cache[key]


# --------------------------------------------------------------------------- mutation helpers
#
# A rule's mutation is a function ``plan(el)`` that looks at the base element and returns
# None (the element is not fit: it would not violate the rule, or already does) or an
# edit: a function applied to the same element in a copy of the message, returning a
# description of what it changed. A plan may return a list of alternative edits, most
# minimal first; the next one is tried when an edit takes the element out of the family's
# context (for example a null that must keep the ``root`` its context pins). Plans never
# modify the base element.


def kids(el, name: str | None = None) -> list:
    return [k for k in el if isinstance(k.tag, str) and (name is None or k.tag == H + name)]


def null(el) -> bool:
    return el.get("nullFlavor") is not None


def own_text(el) -> str:
    return "".join(el.xpath("text()"))


def has_text(el) -> bool:
    return bool(own_text(el).strip())


def show(el) -> str:
    attrs = " ".join(f'{"xsi:type" if k == f"{{{XSI}}}type" else k}="{v}"' for k, v in el.attrib.items())
    inner = "".join(show(k) for k in kids(el)) + (el.text or "").strip()
    name = etree.QName(el).localname
    return f"<{name}{' ' + attrs if attrs else ''}" + (f">{inner}</{name}>" if inner else "/>")


def make(name: str, text: str | None = None, *children, **attrs):
    el = etree.Element(H + name, {k.replace("_", ""): v for k, v in attrs.items()}, nsmap={None: HL7})
    el.text = text
    for c in children:
        el.append(c)
    return el


def chain(*edits):
    def edit(el):
        return "; ".join(d for d in (e(el) for e in edits) if d)
    return edit


def put(**attrs):
    """Set attributes (value None: remove); ``xsi_type`` for xsi:type."""
    def edit(el):
        out = []
        for k, v in attrs.items():
            name = f"{{{XSI}}}type" if k == "xsi_type" else k
            old = el.get(name)
            if v is None:
                if old is not None:
                    del el.attrib[name]
                    out.append(f"removed @{k}")
            else:
                el.set(name, v)
                out.append(f"@{k} {old!r} -> {v!r}" if old is not None else f"added @{k}={v!r}")
        return ", ".join(out)
    return edit


def add(factory, first: bool = False):
    """Append (or insert first) a new child element built by ``factory()``."""
    def edit(el):
        child = factory()
        if first:
            el.insert(0, child)
            child.tail, el.text = el.text, None
        else:
            el.append(child)
        return f"added child {show(child)}"
    return edit


def text(value: str | None):
    def edit(el):
        old = own_text(el)
        el.text = value
        for k in el:
            k.tail = None
        return f"text {old.strip()!r} -> {value!r}"
    return edit


def clear():
    """Remove the element's children and text."""
    def edit(el):
        gone = [etree.QName(k).localname for k in kids(el)]
        for k in list(el):
            el.remove(k)
        el.text = None
        return "removed content" + (f" ({', '.join(gone)})" if gone else "")
    return edit


def nullify(flavor: str = "NI"):
    """Make the element null: only xsi:type and the structural attributes stay, content goes."""
    keep = {f"{{{XSI}}}type", "classCode", "typeCode", "determinerCode", "moodCode"}

    def edit(el):
        for k in [k for k in el.attrib if k not in keep]:
            del el.attrib[k]
        clear()(el)
        el.set("nullFlavor", flavor)
        return f"made null (nullFlavor={flavor}, attributes and content removed)"
    return edit


def child(index: int, edit):
    """Apply ``edit`` to the ``index``-th element child."""
    def wrapped(el):
        c = kids(el)[index]
        return f"{etree.QName(c).localname}: " + edit(c)
    return wrapped


def wrap_text(part: str):
    """Move a plain-text name's text into a new child part."""
    def edit(el):
        old = own_text(el).strip()
        el.text = None
        el.append(make(part, old))
        return f"text {old!r} moved into <{part}>"
    return edit


def sibling_copy(then=None):
    """Insert an identical copy of the element right after it; then edit the original."""
    def edit(el):
        el.addnext(copy.deepcopy(el))
        return "added an identical sibling copy" + (f"; original: {then(el)}" if then else "")
    return edit


def index_of(el, c) -> int:
    return kids(el).index(c)


# ------------------------------------------------------------ value helpers


TS_RE = re.compile(r"\d{4,14}")
BSN_ROOT, AGB_ROOT, URA_ROOT, BIG_ROOT = ("2.16.840.1.113883.2.4.6.3", "2.16.840.1.113883.2.4.6.1",
                                          "2.16.528.1.1007.3.3", "2.16.528.1.1007.5.1")
UZI_PERSON, UZI_SYSTEM = "2.16.528.1.1007.3.1", "2.16.528.1.1007.3.2"
OID_RE = re.compile(r"[0-2](\.(0|[1-9]\d*))+")
UUID_RE = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def plain_ts(v: str | None) -> bool:
    """A plain date(time) value the mutations below can rework (digits only, even length)."""
    return bool(v) and bool(TS_RE.fullmatch(v)) and len(v) % 2 == 0


def bad_ts(v: str) -> str:
    """Same length, month 13 (or one digit more for a year-only value: an odd length)."""
    return v[:4] + "13" + v[6:] if len(v) >= 6 else v + "1"


def earlier_ts(v: str) -> str:
    return f"{int(v[:4]) - 1:04d}" + v[4:]


def later_ts(v: str) -> str:
    return f"{int(v[:4]) + 1:04d}" + v[4:]


def coded(el) -> bool:
    return el.get("code") is not None and el.get("codeSystem") is not None and not null(el)


NULL_EXEMPT = ("OTH", "NA", "UNC")


# --------------------------------------------------------------------------- the mutations, per rule

PLANS: dict[str, object] = {}  # rule key -> the basic mutation, tested on up to --max-families families
EXTRA: dict[str, list[tuple[str, object]]] = defaultdict(list)  # rule key -> (name, plan): edge cases of the
# md's wording and "as implemented" notes, each tested on the first family where it applies
SUBTREE = {"dtr1-1-ANY/null descendant"}  # variants whose finding may sit on a descendant of the element


def also(key: str, name: str, fn) -> None:
    EXTRA[key].append((name, fn))


def plan(*keys, variant: str | None = None):
    def register(fn):
        for k in keys:
            if variant:
                also(k, variant, fn)
            else:
                PLANS[k] = fn
        return fn
    return register


# ANY
@plan("dtr1-1-ANY")
def _any(el):
    if null(el):
        if el.get("nullFlavor") in NULL_EXEMPT or has_text(el) or kids(el):
            return None
        return text("x")
    if not (kids(el) or has_text(el) or set(el.attrib) - {f"{{{XSI}}}type"}):
        return None
    return put(nullFlavor="NI")  # content and attributes kept


# BIN, ED, ST: text elements
def _text_el(el) -> bool:
    """A plain, non-null text element without ED extras."""
    return not null(el) and has_text(el) and not kids(el) and not (
        set(el.attrib) & {"integrityCheck", "integrityCheckAlgorithm", "compression", "mediaType", "charset",
                          "language", "representation", "value", "code", "codeSystem", "codeSystemName",
                          "codeSystemVersion", "displayName"})


def _null_text(*extra):
    """Null text element (made null unless it is) with extra attributes / children."""
    def p(el):
        if null(el):
            if kids(el) or has_text(el):
                return None
            base = []
        elif _text_el(el):
            base = [nullify()]
        else:
            return None
        return chain(*base, *extra)
    return p


@plan("dtr1-1-BIN")
def _bin(el):
    return clear() if _text_el(el) else None


def _on_text(*edits):
    return lambda el: chain(*edits) if _text_el(el) else None


PLANS["dtr1-2-ED"] = _on_text(put(integrityCheck="AAAA"))
PLANS["dtr1-3-ED"] = _on_text(add(lambda: make("thumbnail", None, make("reference", value="x.png"), nullFlavor="NI")))
PLANS["dtr1-4-ED"] = _on_text(add(lambda: make("thumbnail", "x", make("thumbnail", "y"))))
PLANS["dtr1-5-ED"] = _on_text(put(compression="DF"))
PLANS["dtr1-6-ED"] = _on_text(put(value="x", mediaType="text/html"))
PLANS["dtr1-7-ED"] = _on_text(add(lambda: make("reference", value="x.png", validTimeLow="20200101")))
PLANS["dtr1-8-ED"] = _on_text(put(value="x", charset="UTF-8"))
PLANS["dtr1-9-ED"] = _on_text(add(lambda: make("translation", "x")))
PLANS["dtr1-10-ED"] = _null_text(put(mediaType="text/html"))
PLANS["dtr1-11-ED"] = _null_text(put(charset="UTF-8"))
PLANS["dtr1-12-ED"] = _null_text(put(language="nl-NL"))
PLANS["dtr1-13-ED"] = _null_text(put(compression="DF"))
PLANS["dtr1-14-ED"] = _null_text(put(integrityCheck="AAAA"))
PLANS["dtr1-15-ED"] = _null_text(put(integrityCheckAlgorithm="SHA-256"))
PLANS["dtr1-16-ED"] = _null_text(add(lambda: make("thumbnail", "x")))
PLANS["dtr1-17-ED"] = _null_text(add(lambda: make("translation", "x")))
PLANS["dtr1-18-ED"] = _on_text(put(language="nl_NL"))
PLANS["dtr1-3-ST"] = _on_text(add(lambda: make("reference", value="x.png")))
PLANS["dtr1-4-ST"] = _on_text(add(lambda: make("thumbnail", "x")))
PLANS["dtr1-5-ST"] = _on_text(put(representation="B64"))
PLANS["dtr1-6-ST"] = _on_text(put(mediaType="text/html"))
PLANS["dtr1-7-ST"] = _on_text(put(compression="DF"))
PLANS["dtr1-8-ST"] = _on_text(put(integrityCheck="AAAA", integrityCheckAlgorithm="SHA-1"))
PLANS["dtr1-9-ST"] = _on_text(put(integrityCheckAlgorithm="SHA-256"))

# SC
PLANS["dtr1-2-SC"] = _on_text(put(code="X1"))
PLANS["dtr1-3-SC"] = _on_text(put(codeSystemName="X"))
PLANS["dtr1-4-SC"] = _on_text(put(codeSystemVersion="1"))
PLANS["dtr1-5-SC"] = _on_text(put(displayName="X"))
PLANS["dtr1-6-SC"] = _null_text(put(code="X1", codeSystem="2.16.840.1.113883.2.4.99"))
PLANS["dtr1-7-SC"] = _null_text(put(displayName="X"))


# ADXP; sibling rules of other families use the same copy
@plan("dtr1-1-ADXP", "dtr1-6-EN", "dtr1-10-AD", "dtr1-5-URL", "dtr1-12-II", "dtr1-18-CD")
def _duplicate(el):
    return None if null(el) else sibling_copy()


@plan("dtr1-4-QTY")
def _duplicate_quantity(el):
    """Only quantities with a @value: an interval without one has no value to be "the same" (md is silent)."""
    return None if null(el) or el.get("value") is None else sibling_copy()


@plan("dtr1-5-EN", "dtr1-9-AD", "dtr1-4-URL", "dtr1-3-QTY")
def _null_beside_copy(el):
    return None if null(el) else [sibling_copy(nullify()), sibling_copy(chain(clear(), put(nullFlavor="NI")))]


# EN and its descendants
def _parts(el) -> list:
    return kids(el)


@plan("dtr1-1.1-EN")
def _en_null_content(el):
    if null(el):
        return None if kids(el) or has_text(el) else text("x")
    return put(nullFlavor="NI") if kids(el) or has_text(el) else None


@plan("dtr1-1.2-EN")
def _en_mixed(el):
    if _part_name(el):
        return text("x")
    return add(lambda: make("suffix", "x")) if _text_name(el) else None


@plan("dtr1-1.3-EN")
def _en_empty(el):
    return None if null(el) or not (_parts(el) or has_text(el)) else clear()


def _text_name(el) -> bool:
    return not null(el) and has_text(el) and not _parts(el)


def _part_name(el) -> bool:
    return not null(el) and bool(_parts(el)) and not has_text(el) and all(has_text(p) for p in _parts(el))


@plan("dtr1-3-EN")
def _en_empty_part(el):
    if _part_name(el):
        return add(lambda: make("suffix"))
    if _text_name(el):
        return chain(wrap_text("prefix"), add(lambda: make("suffix")))
    return None


@plan("dtr1-4-EN")
def _en_quote(el):
    if _text_name(el):
        return text('"' + own_text(el).strip())
    if _part_name(el):
        first = _parts(el)[0]
        return chain(text(None), child(0, text('"' + own_text(first))))
    return None


@plan("dtr1-7-EN")
def _en_repeated_token(el):
    if _text_name(el):
        return chain(wrap_text("suffix"), child(0, put(qualifier="AC AC")))
    if not _part_name(el):
        return None

    def edit(e):
        out = []
        for p in _parts(e):
            q = p.get("qualifier") or "SP"
            p.set("qualifier", f"{q} {q}")
            out.append(f"{etree.QName(p).localname}/@qualifier={q} {q}")
        return "every part's qualifier doubled: " + ", ".join(out)
    return edit


@plan("dtr1-1-PN")
def _pn_ls(el):
    if _part_name(el):
        return child(0, put(qualifier="LS"))
    if _text_name(el):
        return chain(wrap_text("family"), child(0, put(qualifier="LS")))
    return None


# PN.NL, rules without id
PN_IN = "Datatype PN: als given/@qualifier 'IN' bevat"
PN_INCL = "Datatype PN: given/@qualifier 'IN' en 'CL'"
PN_CL = "Datatype PN: als given/@qualifier 'CL' bevat"
PN_VV = "Datatype PN: als er een spatie tussen een voorvoegsel"
PN_VAN = "Datatype PN: voorvoegsels moeten in het prefix element"


def _pnnl(el) -> bool:
    """A part name without given qualifiers that contain IN or CL (the base breaks none of the four)."""
    return _part_name(el) and not any(re.search("IN|CL", g.get("qualifier") or "") for g in kids(el, "given"))


def _insert_given(q: str, t: str):
    def edit(e):
        g = make("given", t, qualifier=q)
        family = kids(e, "family")
        (family[0].addprevious if family else e.append)(g)
        return f"added {show(g)}"
    return edit


PLANS[PN_IN] = lambda el: _insert_given("IN", "J") if _pnnl(el) else None
PLANS[PN_INCL] = lambda el: chain(_insert_given("IN", "J.P."), _insert_given("IN CL", "Jan")) if _pnnl(el) else None
PLANS[PN_CL] = lambda el: _insert_given("CL", "Jan.") if _pnnl(el) else None


@plan(PN_VV)
def _pn_vv(el):
    if not _part_name(el) or any(p.get("qualifier") == "VV" for p in kids(el, "prefix")):
        return None
    return _insert_prefix()


def _insert_prefix():
    def edit(e):
        p = make("prefix", "van", qualifier="VV")
        family = kids(e, "family")
        (family[0].addprevious if family else e.append)(p)
        return f"added {show(p)} (no trailing space)"
    return edit


@plan(PN_VAN)
def _pn_van(el):
    fam = kids(el, "family")
    if not _part_name(el) or not fam or any(own_text(f).startswith(("van ", "de ", "in ")) for f in fam):
        return None
    return child(index_of(el, fam[0]), text("van " + own_text(fam[0])))


# ON, TN
PLANS["dtr1-1-ON"] = lambda el: wrap_text("given") if _text_name(el) else None
PLANS["dtr1-2-ON"] = lambda el: wrap_text("suffix") if _text_name(el) else None
PLANS["dtr1-1-TN"] = lambda el: wrap_text("suffix") if _text_name(el) else None


# AD
def _addr(el) -> bool:
    return not null(el) and bool(kids(el)) and not has_text(el) and not kids(el, "useablePeriod")


def _period(*children, **attrs):
    return add(lambda: make("useablePeriod", None, *[make(n, None, **a) for n, a in children], **attrs))


PLANS["dtr1-1-AD"] = lambda el: text("x") if _addr(el) else None
PLANS["dtr1-2-AD"] = lambda el: (
    chain(nullify(), add(lambda: make("thumbnail")), _period(("low", {"value": "20200101"})))
    if _addr(el) else None)
PLANS["dtr1-3-AD"] = lambda el: _period(("low", {"value": "20200101"}), updateMode="A") if _addr(el) else None
PLANS["dtr1-5-AD"] = lambda el: (
    _period(("low", {"value": "2020"}), ("high", {"value": "20210101"})) if _addr(el) else None)
PLANS["dtr1-6-AD"] = lambda el: (
    _period(("low", {"value": "20210101"}), ("high", {"value": "20200101"})) if _addr(el) else None)
PLANS["dtr1-7-AD"] = lambda el: _period(("width", {"value": "1", "unit": "yr"})) if _addr(el) else None
PLANS["dtr1-8-AD"] = lambda el: add(lambda: make("additionalLocator")) if _addr(el) else None


# URL, TEL
def _url(el) -> bool:
    return not null(el) and bool(el.get("value")) and not kids(el)


PLANS["dtr1-1-URL"] = lambda el: put(value=None) if _url(el) else None
PLANS["dtr1-2-URL"] = lambda el: put(value=el.get("value") + " x") if _url(el) else None
PLANS["dtr1-1-TEL"] = lambda el: chain(nullify(), add(lambda: make("useablePeriod", value="20200101"))) \
    if _url(el) else None


# II
def _ii(el) -> bool:
    return not null(el) and bool(el.get("root")) and not kids(el)


def _null_ii(**attrs):
    """Null id with ``attrs``; second choice keeps the ``root`` (also breaking dtr1-2-II) for contexts that pin it."""
    def p(el):
        if null(el):
            if el.get("nullFlavor") in NULL_EXEMPT or kids(el) or has_text(el) or \
                    any(el.get(a) is not None for a in attrs):
                return None
            return put(**attrs)
        return [chain(nullify(), put(**attrs)), put(nullFlavor="NI", extension=None, **attrs)] if _ii(el) else None
    return p


PLANS["dtr1-1-II"] = lambda el: put(root=None) if _ii(el) else None
PLANS["dtr1-2-II"] = lambda el: put(nullFlavor="NI", extension=None) if _ii(el) else None  # root kept
PLANS["dtr1-4-II"] = _null_ii(identifierName="X")
PLANS["dtr1-5-II"] = _null_ii(displayable="true")
PLANS["dtr1-6-II"] = _null_ii(reliability="ISS")
PLANS["dtr1-7-II"] = _null_ii(assigningAuthorityName="X")


@plan("dtr1-8-II")
def _ii_long_root(el):
    root = el.get("root") or ""
    if not _ii(el) or not OID_RE.fullmatch(root) or len(root) > 128:
        return None
    return put(root=root + ".1" * ((129 - len(root)) // 2 + 1))


@plan("dtr1-9-II")
def _ii_long_ext(el):
    ext = el.get("extension")
    return put(extension=(ext or "1") * 65) if _ii(el) and (ext is None or len(ext) <= 64) else None


def _valid_root(el) -> bool:
    return _ii(el) and bool(OID_RE.fullmatch(el.get("root")) or UUID_RE.fullmatch(el.get("root")))


PLANS["dtr1-10-II"] = lambda el: put(root="2.16.840.01") if _valid_root(el) else None
PLANS["dtr1-10a-II"] = lambda el: put(root="nictiz-jgz") if _valid_root(el) else None
PLANS["dtr1-13-II"] = lambda el: put(root="a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d") if _valid_root(el) else None


def _nl_root(root: str, new_root: str):
    return lambda el: put(root=new_root) if _ii(el) and el.get("root") == root else None


def _nl_ext(roots: tuple, digits: int):
    def p(el):
        ext = el.get("extension") or ""
        if not _ii(el) or el.get("root") not in roots or not re.fullmatch(rf"\d{{{digits}}}", ext):
            return None
        return put(extension=ext[:-1])
    return p


PLANS["dtr1-1-II.NL.AGB"] = _nl_root(AGB_ROOT, "2.16.840.1.113883.2.4.6.99")
PLANS["dtr1-2-II.NL.AGB"] = _nl_ext((AGB_ROOT,), 8)
PLANS["dtr1-1-II.NL.BIG"] = _nl_root(BIG_ROOT, "2.16.528.1.1007.5.99")
PLANS["dtr1-1-II.NL.BSN"] = _nl_root(BSN_ROOT, "2.16.840.1.113883.2.4.6.99")
PLANS["dtr1-1-II.NL.URA"] = _nl_root(URA_ROOT, "2.16.528.1.1007.3.99")
PLANS["dtr1-2-II.NL.URA"] = _nl_ext((URA_ROOT,), 8)
PLANS["dtr1-2-II.NL.UZI"] = _nl_ext((UZI_PERSON,), 9)
PLANS["dtr1-3-II.NL.UZI"] = _nl_ext((UZI_SYSTEM,), 9)


@plan("dtr1-1-II.NL.UZI")
def _uzi_root(el):
    return put(root="2.16.528.1.1007.3.99") if _ii(el) and el.get("root") in (UZI_PERSON, UZI_SYSTEM) else None


@plan("dtr1-2-II.NL.BSN")
def _bsn_length(el):
    ext = el.get("extension") or ""
    return put(extension=ext[:-1]) if _ii(el) and el.get("root") == BSN_ROOT and re.fullmatch(r"\d{9}", ext) else None


def _eleven(d: str) -> bool:
    return (sum((9 - i) * int(c) for i, c in enumerate(d[:8])) - int(d[8])) % 11 == 0


@plan("dtr1-3-II.NL.BSN")
def _bsn_eleven(el):
    ext = el.get("extension") or ""
    if not (_ii(el) and el.get("root") == BSN_ROOT and re.fullmatch(r"\d{9}", ext) and _eleven(ext)):
        return None
    bad = next(ext[:8] + d for d in "0123456789" if not _eleven(ext[:8] + d))
    return put(extension=bad)


# CD, CE, CV
def _cd(el) -> bool:
    return coded(el) and not kids(el, "translation") and not kids(el, "originalText")


def _original_text():
    return add(lambda: make("originalText", "x"), first=True)


PLANS["dtr1-1-CD"] = lambda el: put(code=None, displayName=None) if _cd(el) else None
PLANS["dtr1-2-CD"] = lambda el: put(codeSystem=None, codeSystemName=None, codeSystemVersion=None) if _cd(el) else None
PLANS["dtr1-3-CD"] = lambda el: chain(put(code=None, codeSystem=None, displayName=None, codeSystemVersion=None,
                                          codeSystemName="X"), _original_text()) if _cd(el) else None
PLANS["dtr1-4-CD"] = lambda el: chain(put(code=None, codeSystem=None, displayName=None, codeSystemName=None,
                                          codeSystemVersion="1"), _original_text()) if _cd(el) else None
PLANS["dtr1-5-CD"] = lambda el: chain(put(code=None, displayName="X"), _original_text()) if _cd(el) else None
PLANS["dtr1-6-CD"] = lambda el: put(nullFlavor="NI", displayName=None) if _cd(el) else None
PLANS["dtr1-7-CD"] = lambda el: [chain(nullify(), put(displayName="X")),
                                 put(nullFlavor="NI", displayName="X")] if _cd(el) else None  # 2nd: code kept
PLANS["dtr1-15-CD"] = lambda el: put(displayName=(el.get("displayName") or "X") + "\tY") if _cd(el) else None
PLANS["dtr1-1-CE"] = lambda el: add(lambda: make("qualifier")) if _cd(el) else None


def _translation(**attrs):
    return add(lambda: make("translation", **attrs))


PLANS["dtr1-10-CD"] = lambda el: _translation(nullFlavor="NI") if _cd(el) else None
PLANS["dtr1-11-CD"] = lambda el: _translation(codeSystem="2.16.840.1.113883.6.96") if _cd(el) else None
PLANS["dtr1-12-CD"] = lambda el: _translation(codeSystemName="X") if _cd(el) else None
PLANS["dtr1-13-CD"] = lambda el: _translation(codeSystemVersion="1") if _cd(el) else None
PLANS["dtr1-14-CD"] = lambda el: _translation(displayName="X") if _cd(el) else None
PLANS["dtr1-19-CD"] = lambda el: chain(_translation(code="X1", codeSystem="2.16.840.1.113883.6.96"),
                                       _translation(code="X1", codeSystem="2.16.840.1.113883.6.96")) \
    if _cd(el) else None
PLANS["dtr1-20-CD"] = lambda el: add(lambda: make("originalText", "x", language="nl_NL"), first=True) \
    if _cd(el) else None


# CS
def _cs(el) -> bool:
    return not null(el) and el.get("code") is not None and not kids(el) and not (
        set(el.attrib) & {"codeSystem", "codeSystemName", "codeSystemVersion", "displayName"})


PLANS["dtr1-1-CS"] = lambda el: put(nullFlavor="NI") if _cs(el) else None  # null next to a code
PLANS["dtr1-2-CS"] = lambda el: put(codeSystem="2.16.840.1.113883.5.100") if _cs(el) else None
PLANS["dtr1-3-CS"] = lambda el: put(codeSystemName="X") if _cs(el) else None
PLANS["dtr1-4-CS"] = lambda el: put(codeSystemVersion="1") if _cs(el) else None
PLANS["dtr1-5-CS"] = lambda el: put(displayName="X") if _cs(el) else None
PLANS["dtr1-6-CS"] = lambda el: add(lambda: make("originalText", "x")) if _cs(el) else None
PLANS["dtr1-7-CS"] = lambda el: add(lambda: make("qualifier")) if _cs(el) else None
PLANS["dtr1-8-CS"] = lambda el: _translation(code="X1", codeSystem="2.16.840.1.113883.5.4") if _cs(el) else None


# QTY, INT, PQ, TS
def _qty(el) -> bool:
    """Non-null with @value and no children."""
    return not null(el) and el.get("value") is not None and not kids(el)


PLANS["dtr1-1-QTY"] = lambda el: add(lambda: make("uncertainty", expression="1")) if _qty(el) else None
PLANS["dtr1-2-QTY"] = lambda el: add(lambda: make("originalText", "x", updateMode="A")) if _qty(el) else None
PLANS["dtr1-1-INT"] = lambda el: put(value=None) if _qty(el) else None
PLANS["dtr1-2-INT"] = lambda el: add(lambda: make("uncertainty", value="1")) if _qty(el) else None
PLANS["dtr1-2-INT.POS"] = lambda el: put(value="0") if _qty(el) and el.get("value") != "0" else None
PLANS["dtr1-1-PQ"] = lambda el: put(value=None) if _qty(el) else None
PLANS["dtr1-3-PQ"] = lambda el: chain(*[_translation(value="1", code="X1", codeSystem="2.16.840.1.113883.6.8")] * 2) \
    if _qty(el) else None


@plan("dtr1-1-TS")
def _ts_empty(el):
    if null(el) or not (el.get("value") is not None or kids(el)):
        return None
    return chain(put(value=None), clear()) if kids(el) else put(value=None)


@plan("dtr1-2-TS")
def _ts_format(el):
    if _qty(el) and plain_ts(el.get("value")):
        return put(value=bad_ts(el.get("value")))
    if _ivl(el):  # an interval given as a single @value instead of low/high
        return chain(clear(), put(value=bad_ts(_ivl(el))))
    return None



PLANS["dtr1-1-TS.DATETIME.MIN"] = lambda el: put(value=el.get("value")[:8]) \
    if _qty(el) and plain_ts(el.get("value")) and len(el.get("value")) >= 14 else None


@plan("dtr1-1-SXCM_TS")
def _sxcm(el):
    if null(el):
        return None if el.get("operator") is not None or kids(el) or el.get("value") else put(operator="A")
    return chain(nullify(), put(operator="A"))


# IVL_TS: intervals with a plain low/@value (and maybe high), no center/width
def _ivl(el) -> str | None:
    """The low/@value of a plain non-null interval, else None."""
    if null(el) or el.get("value") is not None or kids(el, "center") or kids(el, "width"):
        return None
    low, high = kids(el, "low"), kids(el, "high")
    if len(low) != 1 or null(low[0]) or not plain_ts(low[0].get("value")) or len(high) > 1:
        return None
    if high and (null(high[0]) or not plain_ts(high[0].get("value"))):
        return None
    return low[0].get("value")


def _on(name: str, edit, create: bool = True):
    """Apply ``edit`` to the interval's ``name`` child (created empty after low when missing)."""
    def wrapped(el):
        found = kids(el, name)
        if found:
            c = found[0]
            prefix = f"{name}: "
        else:
            c = make(name)
            kids(el, "low")[0].addnext(c)
            prefix = f"added <{name}>: "
        return prefix + edit(c)
    return wrapped


def _drop(name: str):
    def edit(el):
        for c in kids(el, name):
            el.remove(c)
        return f"removed <{name}>"
    return edit


def ivl(fn):
    """A plan that needs a plain interval; ``fn(low_value, el)`` returns the edit."""
    return lambda el: fn(_ivl(el), el) if _ivl(el) else None


PLANS["dtr1-2-IVL_TS"] = ivl(lambda v, el: _on("low", put(nullFlavor="NI")))
PLANS["dtr1-3-IVL_TS"] = PLANS["dtr1-4-2-IVL_TS"] = ivl(lambda v, el: put(value=v))
PLANS["dtr1-4-3-IVL_TS"] = ivl(lambda v, el: add(lambda: make("center", value=v)))
PLANS["dtr1-4-4-IVL_TS"] = ivl(lambda v, el: chain(_on("high", put(value=later_ts(v))) if not kids(el, "high")
                                                    else chain(), add(lambda: make("width", value="1", unit="d"))))
PLANS["dtr1-5-IVL_TS"] = ivl(lambda v, el: _on("low", put(updateMode="A")))
PLANS["dtr1-6-IVL_TS"] = ivl(lambda v, el: _on("high", put(value=v)))
PLANS["dtr1-1-PQR"] = ivl(lambda v, el: chain(_drop("high"), add(lambda: make("width", unit="d"))))
PLANS["dtr1-2-PQR"] = ivl(lambda v, el: chain(_drop("high"), add(lambda: make(
    "width", None, make("translation", value="1", code="d", codeSystem="2.16.840.1.113883.6.8"), value="1",
    unit="d"))))
PLANS["dtr1-7-1-IVL_TS"] = ivl(lambda v, el: _on("low", put(value=None, nullFlavor="PINF")))
PLANS["dtr1-7-2-IVL_TS"] = ivl(lambda v, el: _on("high", put(value=None, nullFlavor="NINF")))
PLANS["dtr1-8-IVL_TS"] = ivl(lambda v, el: chain(_drop("high"), add(lambda: make("width", value="1", unit="yr"))))
PLANS["dtr1-9-IVL_TS (low)"] = ivl(lambda v, el: _on("low", put(value=bad_ts(v))))
PLANS["dtr1-9-IVL_TS (center)"] = ivl(lambda v, el: chain(_drop("low"), _drop("high"),
                                                          add(lambda: make("center", value=bad_ts(v)))))
PLANS["dtr1-9-IVL_TS (high)"] = ivl(lambda v, el: _on("high", put(value=bad_ts(v))))
PLANS["dtr1-7-IVL_TS"] = ivl(lambda v, el: _on("high", put(value=earlier_ts(v))))


# PIVL_TS (comp[xsi:type=PIVL_TS] of the SXPR_TS effectiveTime: phase/width and period) and SXPR_TS
def typed(el, t: str):
    el.set(f"{{{XSI}}}type", t)
    return el


def _pivl(el) -> bool:
    return not null(el) and len(kids(el, "period")) == 1 and not null(kids(el, "period")[0]) and \
        kids(el, "period")[0].get("value") is not None


def _on_child(name: str, edit):
    def wrapped(el):
        c = kids(el, name)[0]
        return f"{name}: " + edit(c)
    return wrapped


def _width_with(*children, **attrs):
    return add(lambda: make("width", None, *[make(n, None, **a) for n, a in children], **attrs))


PLANS["dtr1-1-PIVL_TS"] = lambda el: _on_child("period", put(updateMode="A")) if _pivl(el) else None
PLANS["dtr1-2-PIVL_TS"] = lambda el: clear() if _pivl(el) else None


@plan("dtr1-3-PIVL_TS")
def _pivl_cooccurrence(el):
    """Every child breaks the co-occurrence rule (the check passes as soon as one child keeps it)."""
    if not _pivl(el) or not all(not null(k) for k in kids(el)):
        return None

    def edit(e):
        out = []
        for k in kids(e):
            if kids(k):  # e.g. phase with width: add low (width with low)
                k.append(make("low", value="20200101"))
                out.append(f"{etree.QName(k).localname}: added <low> next to its children")
            else:  # e.g. period with @value: give it a child element (@value with children)
                if k.get("value") is None:
                    k.set("value", "1")
                k.append(make("center", value="1"))
                k.append(make("width", value="1"))
                out.append(f"{etree.QName(k).localname}: added <center> and <width>")
        return "; ".join(out)
    return edit


PLANS["dtr1-5-PIVL_TS"] = lambda el: _on_child("period", put(value="1.12345")) if _pivl(el) else None
PLANS["dtr1-6-PIVL_TS"] = lambda el: _width_with(unit="h") if _pivl(el) and not kids(el, "width") else None
PLANS["dtr1-7-PIVL_TS"] = lambda el: _width_with(("translation", {"value": "1", "code": "h",
                                                                  "codeSystem": "2.16.840.1.113883.6.8"}),
                                                 value="1", unit="h") if _pivl(el) and not kids(el, "width") else None


def _phase_width(edit):
    def p(el):
        phase = kids(el, "phase")
        if not _pivl(el) or len(phase) != 1 or len(kids(phase[0], "width")) != 1:
            return None
        return _on_child("phase", _on_child("width", edit))
    return p


also("dtr1-6-PIVL_TS", "phase/width", _phase_width(put(value=None)))
also("dtr1-7-PIVL_TS", "phase/width", _phase_width(add(lambda: make("translation", value="1", code="h",
                                                                    codeSystem="2.16.840.1.113883.6.8"))))


def _comps(el, t: str) -> list:
    return [c for c in kids(el, "comp") if c.get(f"{{{XSI}}}type") == t]


def _sxpr(el) -> bool:
    """Non-null, with exactly one non-null IVL_TS comp (low and high) and one non-null PIVL_TS comp (period)."""
    ivl_c, pivl_c = _comps(el, "IVL_TS"), _comps(el, "PIVL_TS")
    return not null(el) and len(kids(el, "comp")) == 2 and len(ivl_c) == 1 and len(pivl_c) == 1 and \
        _ivl(ivl_c[0]) is not None and bool(kids(ivl_c[0], "high")) and _pivl(pivl_c[0])


def _comp(t: str, edit):
    """Apply ``edit`` to the (single) comp of xsi:type ``t``."""
    def wrapped(el):
        c = _comps(el, t)[0]
        return f"comp[{t}]: " + edit(c)
    return wrapped


def sxpr(edit_fn):
    return lambda el: edit_fn(el) if _sxpr(el) else None


def _replace_children(*children):
    def edit(el):
        for k in list(el):
            el.remove(k)
        el.text = None
        for c in children:
            el.append(c())
        return "children replaced by " + "".join(show(k) for k in kids(el))
    return edit


PLANS["dtr1-1-SXPR_TS"] = sxpr(lambda el: (lambda e: (e.remove(_comps(e, "PIVL_TS")[0]) or
                                                        "removed comp[PIVL_TS] (one comp left)")))
PLANS["dtr1-2-SXPR_TS"] = sxpr(lambda el: add(lambda: typed(make("comp", None, typed(make(
    "comp", None, make("low", value="20200101")), "IVL_TS")), "SXPR_TS")))
PLANS["dtr1-3-SXPR_TS"] = sxpr(lambda el: _comp("IVL_TS", _on_child("low", put(updateMode="A"))))
PLANS["dtr1-4-SXPR_TS"] = sxpr(lambda el: _comp("IVL_TS", put(nullFlavor="NI")))
PLANS["dtr1-5-SXPR_TS"] = sxpr(lambda el: _comp("IVL_TS", put(value=_ivl(_comps(el, "IVL_TS")[0]))))
PLANS["dtr1-6-SXPR_TS"] = sxpr(lambda el: _comp("IVL_TS", _on_child("high", put(
    value=kids(_comps(el, "IVL_TS")[0], "high")[0].get("value")[:6]))))
PLANS["dtr1-7-SXPR_TS"] = sxpr(lambda el: _comp("IVL_TS", _replace_children(lambda: make("width", unit="d"))))
PLANS["dtr1-8-SXPR_TS"] = sxpr(lambda el: _comp("IVL_TS", _replace_children(lambda: make(
    "width", None, make("translation", value="1", code="d", codeSystem="2.16.840.1.113883.6.8"), value="1",
    unit="d"))))
PLANS["dtr1-9-SXPR_TS"] = sxpr(lambda el: _comp("PIVL_TS", _on_child("period", put(value=None))))
PLANS["dtr1-10-SXPR_TS"] = sxpr(lambda el: _comp("PIVL_TS", _on_child("period", chain(nullify(), add(
    lambda: make("translation", value="1", code="wk", codeSystem="2.16.840.1.113883.6.8"))))))
PLANS["dtr1-11-SXPR_TS"] = sxpr(lambda el: _comp("PIVL_TS", put(nullFlavor="NI")))
PLANS["dtr1-12-SXPR_TS"] = sxpr(lambda el: _comp("PIVL_TS", put(value="20200101")))
PLANS["dtr1-13-SXPR_TS"] = sxpr(lambda el: _comp("PIVL_TS", chain(add(lambda: make("low", value="2020")),
                                                                  add(lambda: make("high", value="20210101")))))
PLANS["dtr1-14-SXPR_TS"] = sxpr(lambda el: _comp("PIVL_TS", _on_child("period", put(value="1.12345"))))
PLANS["dtr1-15-SXPR_TS"] = sxpr(lambda el: _comp("PIVL_TS", _width_with(unit="h")))
PLANS["dtr1-16-SXPR_TS"] = sxpr(lambda el: _comp("PIVL_TS", _width_with(
    ("translation", {"value": "1", "code": "h", "codeSystem": "2.16.840.1.113883.6.8"}), value="1", unit="h")))


def _children_center_low():
    """Each child gets ``center`` next to ``low`` (the co-occurrence clauses are about the component's children)."""
    def edit(el):
        for k in kids(el):
            k.append(make("center", value="20200601"))
            k.append(make("low", value="20200101"))
        return "every child: added <center> and <low> children"
    return edit


also("dtr1-5-SXPR_TS", "every child breaks the co-occurrence rules",
     sxpr(lambda el: _comp("IVL_TS", _children_center_low())))
also("dtr1-12-SXPR_TS", "every child breaks the co-occurrence rules",
     sxpr(lambda el: _comp("PIVL_TS", _pivl_cooccurrence(_comps(el, "PIVL_TS")[0]))))
also("dtr1-13-SXPR_TS", "phase/low and phase/high", sxpr(lambda el: _comp("PIVL_TS", _on_child("phase", chain(
    add(lambda: make("low", value="2020")), add(lambda: make("high", value="20210101")))))))
also("dtr1-15-SXPR_TS", "phase/width", sxpr(lambda el: _comp("PIVL_TS", _on_child("phase", _on_child(
    "width", put(value=None))))))
also("dtr1-16-SXPR_TS", "phase/width", sxpr(lambda el: _comp("PIVL_TS", _on_child("phase", _on_child(
    "width", add(lambda: make("translation", value="1", code="h", codeSystem="2.16.840.1.113883.6.8")))))))


# --------------------------------------------------------------------------- edge cases (EXTRA)


also("dtr1-1-ANY", "null descendant", lambda el: add(lambda: make("originalText", "x", nullFlavor="NI"), first=True)
     if _cd(el) else None)
also("dtr1-1-ANY", "OTH without codeSystem, extension, originalText or translation",
     lambda el: chain(put(code=None, codeSystem=None, displayName=None, codeSystemName=None, codeSystemVersion=None),
                      put(nullFlavor="OTH")) if _cd(el) else None)
also("dtr1-1-BIN", "whitespace-only text", lambda el: text("   ") if _text_el(el) else None)
also("dtr1-18-ED", "three-letter region", _on_text(put(language="nl-NLD")))
also("dtr1-20-CD", "three-letter region", lambda el: add(lambda: make("originalText", "x", language="nl-NLD"),
                                                         first=True) if _cd(el) else None)
also("dtr1-1.3-EN", "whitespace-only text", lambda el: text("  ") if _text_name(el) else None)


def _renamed_parts_copy(el):
    """A sibling copy with the same use and text, but its first part renamed (names are not in the key)."""
    if not _part_name(el):
        return None

    def edit(e):
        c = copy.deepcopy(e)
        part = kids(c)[0]
        names = ("given", "family") if etree.QName(e).localname == "name" else ("additionalLocator", "unitID")
        new = names[1] if part.tag == H + names[0] else names[0]
        part.tag = H + new
        part.attrib.pop("qualifier", None)
        e.addnext(c)
        return f"added a sibling copy with <{etree.QName(kids(e)[0]).localname}> renamed to <{new}>"
    return edit


also("dtr1-6-EN", "same use and text, other part names", _renamed_parts_copy)
also("dtr1-10-AD", "same use and text, other part names", _renamed_parts_copy)
also("dtr1-1-PN", "LS among other tokens", lambda el: child(0, put(qualifier="BR LS")) if _part_name(el) else None)
also(PN_IN, "IN as a plain substring (qualifier BRIN)",
     lambda el: _insert_given("BRIN", "J") if _pnnl(el) else None)
also(PN_IN, "own text not trimmed ('J.P. ')", lambda el: _insert_given("IN", "J.P. ") if _pnnl(el) else None)
also(PN_VV, "empty prefix", lambda el: (lambda e: (kids(e, "family")[0].addprevious(make("prefix", qualifier="VV"))
                                                   or "added <prefix qualifier=\"VV\"/>"))
     if _part_name(el) and kids(el, "family") and not kids(el, "prefix") else None)
also(PN_VAN, "'de ' (3 characters)", lambda el: child(index_of(el, kids(el, "family")[0]),
                                                      text("de " + own_text(kids(el, "family")[0])))
     if PLANS[PN_VAN](el) else None)
also("dtr1-6-AD", "low equal to high", lambda el: _period(("low", {"value": "20200101"}),
                                                          ("high", {"value": "20200101"})) if _addr(el) else None)
also("dtr1-6-AD", "different precision, zero-padded (2021 vs 20201231)",
     lambda el: _period(("low", {"value": "2021"}), ("high", {"value": "20201231"})) if _addr(el) else None)
also("dtr1-2-URL", "non-ASCII character", lambda el: put(value=el.get("value") + "é") if _url(el) else None)


@plan("dtr1-12-II", variant="same root, no extension on this id")
def _ii_same_root(el):
    if not _ii(el) or el.get("extension") is None:
        return None
    return sibling_copy(put(extension=None))


also("dtr1-10-II", "first arc 3", lambda el: put(root="3.16.840.1") if _valid_root(el) else None)
also("dtr1-10-II", "trailing dot", lambda el: put(root=el.get("root") + ".")
     if _valid_root(el) and OID_RE.fullmatch(el.get("root")) else None)
also("dtr1-2-II.NL.BSN", "ten digits", lambda el: put(extension=el.get("extension") + "0")
     if PLANS["dtr1-2-II.NL.BSN"](el) else None)
also("dtr1-2-II.NL.BSN", "a letter", lambda el: put(extension=el.get("extension")[:8] + "A")
     if PLANS["dtr1-2-II.NL.BSN"](el) else None)
also("dtr1-10-CD", "null translation one level down", lambda el: add(lambda: make(
    "translation", None, make("translation", nullFlavor="NI"), code="X1", codeSystem="2.16.840.1.113883.6.96"))
    if _cd(el) else None)
also("dtr1-19-CD", "duplicate one level down", lambda el: add(lambda: make(
    "translation", None, make("translation", code="X1", codeSystem="2.16.840.1.113883.6.96"), code="X1",
    codeSystem="2.16.840.1.113883.6.96")) if _cd(el) else None)
also("dtr1-15-CD", "line feed", lambda el: put(displayName=(el.get("displayName") or "X") + "\nY") if _cd(el) else None)
also("dtr1-15-CD", "carriage return", lambda el: put(displayName=(el.get("displayName") or "X") + "\rY")
     if _cd(el) else None)
also("dtr1-18-CD", "same code and codeSystem, other displayName",
     lambda el: sibling_copy(put(displayName="other")) if _cd(el) else None)
also("dtr1-1-CS", "no code, no nullFlavor", lambda el: put(code=None) if _cs(el) else None)


def _ts_variant(make_bad):
    return lambda el: put(value=make_bad(el.get("value"))) if _qty(el) and plain_ts(el.get("value")) and \
        len(el.get("value")) >= 8 else None


also("dtr1-2-TS", "30 February", _ts_variant(lambda v: v[:4] + "0230" + v[8:]))
also("dtr1-2-TS", "hour 25", _ts_variant(lambda v: v[:8] + "25" + v[10:] if len(v) >= 10 else v[:8] + "25"))
also("dtr1-2-TS", "fraction before full seconds", _ts_variant(lambda v: v[:8] + "1230.5"))
also("dtr1-2-TS", "five-digit time zone", _ts_variant(lambda v: v[:8] + "+01000"))
also("dtr1-1-TS.DATETIME.MIN", "minutes only, with time zone", lambda el: put(value=el.get("value")[:12] + "+0100")
     if PLANS["dtr1-1-TS.DATETIME.MIN"](el) else None)
also("dtr1-2-IVL_TS", "null interval with a low child", ivl(lambda v, el: put(nullFlavor="NI")))
also("dtr1-7-IVL_TS", "different precision (low YYYY after high YYYYMM)",
     ivl(lambda v, el: chain(_on("low", put(value=v[:4])), _on("high", put(value=earlier_ts(v)[:6])))))
also("dtr1-9-IVL_TS (low)", "30 February", ivl(lambda v, el: _on("low", put(value=v[:4] + "0230" + v[8:]))
                                                if len(v) >= 8 else None))


# --------------------------------------------------------------------------- grafts
#
# No reference message has an element of INT.POS, PIVL_TS or SXPR_TS. For those families
# the sweep also uses grafted bases: the smallest reference message that has a
# ``patientPerson`` (under ``patient``), with one fragment added there, built from the
# template rows that declare the families (TC04209; TC02006-TC02045 of template 108). The
# graft's own findings become part of the base findings, so only the mutation's findings
# count. Grafted bases come after the real ones: an element of a real message is always
# preferred.


def _care_provision():
    return make(
        "asPatientOfOtherProvider", None, make("subjectOf", None, make(
            "careProvision", None,
            make("templateId", root="2.16.840.1.113883.2.4.6.10.100.108"),
            make("code", code="01", codeSystem="2.16.840.1.113883.2.4.4.40.2", displayName="Kinderdagopvang"),
            typed(make("effectiveTime", None,
                       typed(make("comp", None, make("low", value="20200101"), make("high", value="20201231")),
                             "IVL_TS"),
                       typed(make("comp", None, make("phase", None, make("width", value="3", unit="h")),
                                  make("period", value="1", unit="wk"), operator="A"), "PIVL_TS")),
                  "SXPR_TS"),
            make("performer", None, make("assignedProvider", None, make("id", nullFlavor="NI"), classCode="ASSIGNED"),
                 typeCode="PRF"),
            classCode="PCPR", moodCode="EVN")), classCode="PAT")


GRAFTS = {  # name -> (where, in the HL7 namespace; fragment)
    "multipleBirthOrderNumber (INT.POS)": (".//h:patient/h:patientPerson",
                                           lambda: make("multipleBirthOrderNumber", value="2")),
    "careProvision tpl=108 (SXPR_TS, PIVL_TS)": (".//h:patient/h:patientPerson", _care_provision),
}


def graft_bases(bases: list[Base]) -> list[Base]:
    out = []
    for name, (where, fragment) in GRAFTS.items():
        for base in bases:
            found = base.root.xpath(where, namespaces={"h": HL7})
            if found:
                root = copy.deepcopy(base.root)
                root.xpath(where, namespaces={"h": HL7})[0].append(fragment())
                findings = Counter(rs.fkey(f) for f in templates.check_templates(root, INTERACTION))
                out.append(Base(Path(f"{base.path.name}+graft:{name}"), root, findings))
                break
    return out


# --------------------------------------------------------------------------- the sweep


@dataclass
class Result:
    rule: Rule
    family: str
    status: str  # PASS | NOT-FIRED | SKIPPED
    variant: str = "basic"
    reason: str = ""
    base: str = ""
    xpath: str = ""
    mutation: str = ""
    rows: list = field(default_factory=list)  # the datatype rows declaring the element of the family
    expected: int = 1
    instead: list = field(default_factory=list)  # PASS: the rule's new findings; NOT-FIRED: what came instead


class Sweep:
    def __init__(self, rules: list[Rule], inherits: dict[str, list[str]], decl: Declarations,
                 bases: list[Base]) -> None:
        self.rules, self.inherits, self.decl, self.bases = rules, inherits, decl, bases

    def reaching(self, family: str) -> list[str]:
        """``family`` and every family that inherits it, in the md's table order."""
        return [f for f in self.inherits if f == family or family in self.inherits[f]]

    def expected(self, rule: Rule, family: str) -> int:
        """How often the family applies a rule with this label (dtr1-1-PN twice for PN.NL)."""
        chain = [family, *self.inherits[family]]
        return len({r.family for r in self.rules if r.label == rule.label and r.family in chain})

    def run(self, rule: Rule, families: list[str] | None, limit: int, extra: bool = True) -> list[Result]:
        """The basic mutation on up to ``limit`` families (0: all), each edge case on one family."""
        out = []
        variants = [("basic", PLANS.get(rule.key))] + (EXTRA.get(rule.key, []) if extra else [])
        for variant, plan_fn in variants:
            tested = 0
            for fam in self.reaching(rule.family):
                if families and fam not in families:
                    continue
                res = self.test(rule, fam, variant, plan_fn)
                if variant != "basic" and res.status == "SKIPPED" and "no element of the family" in res.reason:
                    continue  # edge cases: only report the families that have elements
                out.append(res)
                tested += res.status != "SKIPPED"
                if tested >= ((limit or len(self.inherits)) if variant == "basic" else 1):
                    break
        return out

    def test(self, rule: Rule, fam: str, variant: str = "basic", plan_fn=None) -> Result:
        if not any(self.decl.elements(base, fam) for base in self.bases):
            return Result(rule, fam, "SKIPPED", variant, "no element of the family in the reference messages")
        if plan_fn is None:
            return Result(rule, fam, "SKIPPED", variant, "no mutation written for this rule")
        seen = fit = 0
        reasons: Counter = Counter()
        left: set[tuple] = set()  # declaring rows whose elements the mutation took out of the context
        first_out: Result | None = None
        for base in self.bases:
            for el, rows in self.decl.elements(base, fam).items():
                seen += 1
                edits = plan_fn(el)
                if edits is None:
                    continue
                fit += 1
                if any(k[1] == rule.label and k[2] == hl7_path(el) for k in base.findings):
                    reasons["base already reports the rule at the element"] += 1
                    continue
                rows = tuple(rows)
                if rows in left:  # same context, same mutation: it would leave again
                    continue
                index = self.decl.index(base, el)
                for edit in edits if isinstance(edits, list) else [edits]:
                    mroot = copy.deepcopy(base.root)
                    mel = locate(mroot, index)
                    mutation = edit(mel)
                    where = hl7_path(mel)
                    declared = self.decl.still(mel, rows)
                    if declared:
                        return self.judge(rule, fam, variant, base, mroot, where, mutation, declared)
                    if first_out is None:
                        first_out = Result(rule, fam, "SKIPPED", variant, "mutation takes the element out of the "
                                           "family's context", base.path.name, where, mutation, list(rows))
                left.add(rows)
        if first_out is not None:
            return first_out
        if not fit:
            return Result(rule, fam, "SKIPPED", variant, f"no element fit for the mutation ({seen} of the family)")
        return Result(rule, fam, "SKIPPED", variant, "; ".join(f"{k} ({n})" for k, n in reasons.items()))

    def judge(self, rule, fam, variant, base, mroot, where, mutation, rows) -> Result:
        found = Counter(rs.fkey(f) for f in templates.check_templates(mroot, INTERACTION))
        new = list((found - base.findings).elements())
        want = self.expected(rule, fam)
        subtree = f"{rule.key}/{variant}" in SUBTREE
        hits = [k for k in new if k[1] == rule.label and k[0] == rule.severity
                and (k[2] == where or subtree and k[2].startswith(where + "/"))]
        res = Result(rule, fam, "PASS", variant, "", base.path.name, where, mutation, rows, want, hits)
        if len(hits) >= want:
            return res
        res.status = "NOT-FIRED"
        if hits:
            res.reason = f"reported {len(hits)} time(s), expected {want}"
        other = [k for k in new if k[1] == rule.label and k not in hits]
        res.reason = res.reason or ("reported with another severity or elsewhere" if other else "no such finding")
        res.instead = other + sorted(k for k in new if k[1] != rule.label)
        return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rules", help="comma-separated rule ids/labels (dtr1-2-II.NL.BSN,...)")
    ap.add_argument("--family", help="only test on elements of these families (comma-separated)")
    ap.add_argument("--max-families", type=int, default=3, help="families tested per rule (default 3, 0: all)")
    ap.add_argument("--basic-only", action="store_true", help="skip the edge-case mutations")
    ap.add_argument("--no-grafts", action="store_true", help="only elements of the reference messages themselves")
    ap.add_argument("--json", help="write all results to this file")
    ap.add_argument("--show-passed", action="store_true", help="also list passed tests")
    args = ap.parse_args(argv)

    t0 = time.time()
    inherits, all_rules = parse_md()
    rules = all_rules
    if args.rules:
        wanted = set(args.rules.split(","))
        rules = [r for r in rules if r.key in wanted or r.label in wanted]
        unknown = wanted - {r.key for r in rules} - {r.label for r in rules}
        if unknown:
            print(f"unknown rule(s): {', '.join(sorted(unknown))}")
            return 2
    families = args.family.split(",") if args.family else None
    with open(RULES / "template-constraints.csv", encoding="utf-8", newline="") as fh:
        all_rows = list(csv.DictReader(fh))
    patterns = Patterns(all_rows)
    try:
        decl = Declarations(all_rows, patterns)
    except Untranslatable as exc:  # the datatype contexts all translate; say so loudly if that changes
        print(f"untranslatable datatype context: {exc}")
        return 2
    bases = load_bases()
    sweep = Sweep(all_rules, inherits, decl, bases + ([] if args.no_grafts else graft_bases(bases)))
    if families:
        rules = [r for r in rules if set(families) & set(sweep.reaching(r.family))]
    results = [res for r in rules for res in sweep.run(r, families, args.max_families, not args.basic_only)]
    report(rules, results, sweep, args.show_passed, time.time() - t0)
    if args.json:
        Path(args.json).write_text(json.dumps([{
            "rule": x.rule.key, "label": x.rule.label, "rule_family": x.rule.family, "family": x.family,
            "variant": x.variant,
            "severity": x.rule.severity, "status": x.status, "reason": x.reason, "base": x.base, "xpath": x.xpath,
            "mutation": x.mutation, "rows": x.rows, "expected": x.expected, "instead": [list(k) for k in x.instead]}
            for x in results], indent=1))
    return 1 if any(x.status == "NOT-FIRED" for x in results) else 0


def report(rules, results, sweep, show_passed, seconds) -> None:
    status = Counter(x.status for x in results)
    per_rule: dict[tuple, list[Result]] = defaultdict(list)
    for x in results:
        per_rule[(x.rule.family, x.rule.key)].append(x)
    rule_status = Counter(
        "NOT-FIRED" if any(x.status == "NOT-FIRED" for x in xs) else "PASS" if any(x.status == "PASS" for x in xs)
        else "SKIPPED" for xs in per_rule.values())
    fams = Counter(x.family for x in results if x.status == "PASS")
    edge = Counter(x.status for x in results if x.variant != "basic")
    print(f"datatype sweep: {len(sweep.bases)} base messages, {len(rules)} rules, {seconds:.0f}s")
    print(f"  rules: passed {rule_status['PASS']}  not fired {rule_status['NOT-FIRED']}  "
          f"skipped {rule_status['SKIPPED']}")
    print(f"  tests (rule x family x mutation): {len(results)}  passed {status['PASS']}  "
          f"not fired {status['NOT-FIRED']}  skipped {status['SKIPPED']}  "
          f"(edge cases: passed {edge['PASS']}, not fired {edge['NOT-FIRED']}, skipped {edge['SKIPPED']})")
    print(f"  passes per family ({len(fams)}): " + ", ".join(f"{f} {n}" for f, n in sorted(fams.items())))
    skipped_rules = Counter(xs[0].reason.split(" (")[0] for xs in per_rule.values()
                            if all(x.status == "SKIPPED" for x in xs))
    print("  rules skipped, by reason (of their first family):")
    for why, n in skipped_rules.most_common():
        print(f"    {n:4}  {why}")
    skipped = Counter(x.reason.split(" (")[0] for x in results if x.status == "SKIPPED")
    print("  tests skipped, by reason:")
    for why, n in skipped.most_common():
        print(f"    {n:4}  {why}")
    nf = [x for x in results if x.status == "NOT-FIRED"]
    if nf:
        print(f"\nNOT FIRED ({len(nf)}):")
    for x in nf:
        print(f"- {x.rule.key} [{x.rule.severity}] on {x.family}, mutation '{x.variant}' ({x.rule.family} rule; "
              f"rows {', '.join(x.rows)}): {x.reason}")
        print(f"    base {x.base}  at {x.xpath}")
        print(f"    mutation: {x.mutation}")
        if not x.instead:
            print("    instead: no new finding")
        for k in x.instead[:8]:
            print(f"    instead: {k[0]} {k[1]}: {k[3][:140]}" + ("" if k[2] == x.xpath else f"  @ {k[2]}"))
        if len(x.instead) > 8:
            print(f"    ... {len(x.instead) - 8} more")
    if show_passed:
        print()
        for x in results:
            if x.status == "PASS":
                print(f"  PASS {x.rule.key} on {x.family} ({x.variant}): {x.base} {x.xpath} :: {x.mutation}")
        for x in results:
            if x.status == "SKIPPED":
                print(f"  SKIPPED {x.rule.key} on {x.family} ({x.variant}): {x.reason}"
                      + (f" [{x.mutation}]" if x.mutation else ""))


if __name__ == "__main__":
    sys.exit(main())
