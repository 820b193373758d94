"""Nictiz's DOB schematron rules, checked natively in one pass over the message.

The rules are the 14,587 rows of ``reference/bds/rules/template-constraints.csv``
(compiled by ``tools/import_rules.py`` into ``data/rules/rules.json.gz``), the DTr1
datatype rules (``datatypes.py``) and the irregular rows (``logic.py``). The engine
reproduces the schematron's verdicts:

* each ``source_file`` is one schematron pattern; within a pattern an element is checked
  only by the first context, in file order, that matches it; patterns are independent;
* contexts are paths whose first step opens a template wherever it occurs; the trie of
  all contexts is walked top-down once, starting states found through an index on
  (element name, templateId root), so no XPath is evaluated per element; each context's
  rows run as one generated function (``compiled.py``), the closures here being the
  reference semantics;
* a finding carries the rule label the reference tooling reports (the text in
  parentheses at the start of the message, or the DTr1 id), the row's own severity, and
  the row id at the start of its message ("TC05653 (obsElement0235): ..."); ``element``
  is the BDS element of the context (element template 4NNNN), else its rubriek or groep.

Interactions (see ``data/rules/PROVENANCE``):

* ``REPC_IN902120NL03``: the published rules as they are.
* ``REPC_IN902120NL04`` (BDS 4.2.0, no public schematron): the wrapper rules apply to the
  NL04 root (interaction and trigger event REPC_TE902100NL04 substituted); payload and
  template rules apply unchanged, with two exceptions for what BDS 4.2.0 changed but did
  not publish. A code outside a 4.1.3 BDS W-domain value set is never an error: a second
  pass, in which those value-set tests accept any code, decides which errors hold only
  because of such a code, and those are reported as warnings (same rule id). And a
  rubriek or groep holding a BDS element more often than its 4.1.3 maximum is a warning
  (the 4.2.0 change requests repeat element 80 within one G019). A message that a 4.2.0
  schematron with larger value sets accepts is thus never rejected.
* ``REPC_IN902120NL`` (BDS 3.2): the same rules (wrapper name substituted), but only the
  DTr1 datatype rules keep their severity; template-row errors are warnings, because
  those templates define BDS 4.x, not 3.2.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Callable

from lxml import etree

from ..findings import Finding
from ..xmlsafe import xpath_of
from . import datatypes, logic
from .compiled import ContextCompiler
from .paths import H, HL7, NF, TEMPLATE_ID, XML_WS, XSI_TYPE, StepCompiler, ValueSets, local, paused_gc, sibling_index, xsi_type

WRAPPER = "REPC_IN902120NL03"
TPL_PREFIX = "2.16.840.1.113883.2.4.6.10.100."
SEVERITY = {"e": "error", "w": "warning", "i": "info"}


@dataclass(frozen=True)
class Facts:
    """The interaction-list entry the wrapper rules read (README: interaction list)."""

    name: str
    trigger: str
    active: bool = True
    bsn_attention: bool = False
    context_attention: bool = False
    trust: str | None = "Laag"

    def switch(self, kind: str) -> bool:
        return self.bsn_attention if kind == "bsn" else self.context_attention

    def placeholders(self) -> dict:
        """Message variables the wrapper rules take from the interaction list."""
        return {"$interactionId": self.name, "$interactionName": "Versturen JGZ-dossieroverdrachtverzoek",
                "$interactionVocabFile": "vocab/2.16.840.1.113883.1.6.xml",
                "$interactionTriggerEventCode": self.trigger}


@dataclass(frozen=True)
class Profile:
    facts: Facts
    demote_w_domain: bool = False  # NL04: out-of-4.1.3-value-set errors become warnings
    repeatable_elements: bool = False  # NL04: an element above its 4.1.3 maximum in a rubriek/groep warns
    templates_as_warnings: bool = False  # NL: only DTr1 errors stay errors


PROFILES = {
    "REPC_IN902120NL03": Profile(Facts("REPC_IN902120NL03", "REPC_TE902100NL03")),
    "REPC_IN902120NL04": Profile(Facts("REPC_IN902120NL04", "REPC_TE902100NL04"),
                                 demote_w_domain=True, repeatable_elements=True),
    "REPC_IN902120NL": Profile(Facts("REPC_IN902120NL", "REPC_TE902100NL"), templates_as_warnings=True),
}


def check_templates(root: etree._Element, interaction: str, part: tuple[float, float] | None = None) -> list[Finding]:
    """Findings of the DOB template and datatype rules for a parsed message.

    ``interaction`` is the root's local name: REPC_IN902120NL03, REPC_IN902120NL04 or
    REPC_IN902120NL. Never raises on odd trees; an unknown interaction is a caller error.
    ``part`` (from, to), fractions of the message's elements in document order: only the
    findings on those elements, so that parts (0, f) and (f, 1) give the whole in order.
    """
    profile = PROFILES.get(interaction)
    if profile is None:
        raise ValueError(f"no DOB rules for interaction {interaction!r}")
    if not isinstance(root.tag, str):
        return []
    try:
        with paused_gc():
            return _check(root, profile, part)
    except Exception as exc:  # noqa: BLE001 - a defect of this engine must not take the validator down
        return [Finding("warning", "JGZ-RULE-ENGINE", xpath_of(root),
                        f"the template rules could not be checked completely: {exc!r}")]


def display_names_wanted(root: etree._Element, interaction: str) -> list:
    """The coded elements that lack a ``displayName`` a template rule requires, for writers
    that can supply one."""
    rows = _display_name_rows()
    nameless = {el for el in root.iter(etree.Element) if el.get("code") is not None and el.get("displayName") is None}
    if not nameless:
        return []
    with paused_gc():  # the walk follows only the paths to the coded elements without a name
        return [h.el for h in _ruleset(False).run(root, PROFILES[interaction].facts, nameless) if h.row.id in rows]


@lru_cache(maxsize=1)
def _display_name_rows() -> frozenset[str]:
    """The rows that require a displayName: ``attrs`` rows naming it, and the handlers that test it."""
    return frozenset(row[0] for ctx in _data()["contexts"] for row in ctx[2]
                     if (row[5][0] == "attrs" and "displayName" in row[5][1])
                     or (row[5][0] == "o" and row[5][1] in ("needs_display_name", "medicine_code")))


def _check(root, profile: Profile, part: tuple[float, float] | None = None) -> list[Finding]:
    hits = _ruleset(False).run(root, profile.facts, part=part)
    if profile.demote_w_domain and any(h.severity == "e" for h in hits):
        suspects = {h.el for h in hits if h.severity == "e"}
        again = Counter(h.key for h in _ruleset(True).run(root, profile.facts, suspects) if h.severity == "e")
        for h in hits:
            if h.severity == "e":
                if again[h.key] > 0:
                    again[h.key] -= 1
                else:
                    h.severity = "w"
                    h.note = ("NL04: holds only because a code is outside the BDS 4.1.3 value set; "
                              "BDS 4.2.0 value sets are not published")
    if profile.repeatable_elements:
        for h in hits:
            if h.severity == "e" and h.row.element_slot and h.fills is _ABOVE:
                h.severity = "w"
                h.note = ("NL04: BDS 4.2.0 may repeat this element here; its rubriek and groep "
                          "cardinalities are not published")
    if profile.templates_as_warnings:
        for h in hits:
            if h.severity == "e" and h.label is None:
                h.severity = "w"
                h.note = "REPC_IN902120NL (BDS 3.2): BDS 4.x template rule, reported as a warning"
    return [h.finding(profile.facts) for h in hits]


# --------------------------------------------------------------------------- data


@lru_cache(maxsize=1)
def _data() -> dict:
    raw = resources.files("jgz_gateway.standards").joinpath("data/rules/rules.json.gz").read_bytes()
    return json.loads(gzip.decompress(raw))


def template_attributes(root: str) -> frozenset[str] | None:
    """The attributes the published rules fix on the element a template opens (``classCode``,
    ``moodCode``, ``negationInd``...), or None when no rules describe that template. A
    message built from the dataset writes what its templates define, as Nictiz's ADA
    conversion does (element template 41584 defines no classCode or moodCode)."""
    return _template_attributes().get(root)


@lru_cache(maxsize=1)
def _template_attributes() -> dict[str, frozenset[str]]:
    data = _data()
    found: dict[str, set[str]] = {}
    for _pattern, path, rows in data["contexts"]:
        if len(path) != 1:
            continue
        roots = [alt[1] for group in data["steps"][path[0]][1] for alt in group if alt[0] == "tpl"]
        for root in roots:
            fixed = found.setdefault(root, set())
            fixed.update(row[5][1] for row in rows if row[5][0] == "fixed")
    return {root: frozenset(attrs) for root, attrs in found.items()}


def ruleset() -> "RuleSet":
    """The published rules, loaded and indexed once per process (contexts compile on first use)."""
    return _ruleset(False)


@lru_cache(maxsize=2)
def _ruleset(lenient: bool) -> "RuleSet":
    return RuleSet(_data(), True, _ruleset(False)) if lenient else RuleSet(_data())


_LABEL = re.compile(r"^\(([^)]*)\)")


@dataclass(slots=True)
class Row:
    id: str
    severity: str
    message: str | list | None
    times: int
    op: str
    label: str
    element_slot: bool = False  # a count of one BDS element in a rubriek or groep (NL04 profile)
    #: A count of children with a qualifier (``value[vs=…]``): their tag, so that a finding of
    #: too few can show the same-named children that do not qualify (a code outside the set).
    qualified: str | None = None

    @classmethod
    def of(cls, raw: list) -> "Row":
        rid, sev, msg, _never, times, op = raw
        first = next((m for m in msg if m), "") if isinstance(msg, list) else msg
        m = _LABEL.match(first or "")
        return cls(rid, sev, msg, times, op[0], m.group(1) if m else "")


class Hit:
    """One finding before it becomes a :class:`Finding` (profiles may still demote it)."""

    __slots__ = ("row", "el", "label", "fills", "severity", "note", "key", "text")

    def __init__(self, row: Row, el, fills, label: str | None = None, severity: str | None = None,
                 text: str | None = None):
        self.row, self.el, self.fills, self.label = row, el, fills, label
        self.severity = severity or row.severity
        self.note = None
        self.text = text
        self.key = (row.id, label, id(el))

    def finding(self, facts: Facts) -> Finding:
        row = self.row
        if self.label is not None:  # a DTr1 datatype rule: its text states the rule, not the value
            message = f"{row.id} ({self.label}): {self.text} Found: {shown(self.el)}"
            rule = self.label
        else:
            template = row.message
            if isinstance(template, list):
                template = template[self.fills.get("#", 0)] if isinstance(self.fills, dict) else template[0]
            message = f"{row.id} {_fill(template or '', self.el, self.fills, facts)}"
            if row.op in _TESTS_ITS_ELEMENT and "{" not in (template or ""):  # the text quotes no value
                message += f" Found: {shown(self.el)}"
            elif self.fills is _BELOW and row.qualified is not None:  # present, but not as required
                near = [_shown(c, 2) for c in self.el if c.tag == row.qualified]
                if near and len(near) <= 3 and all(len(n) <= SHOWN_LIMIT for n in near):  # each shown whole
                    message += f" Found: {' '.join(near)}"
            rule = row.label or row.id
        if self.note:
            message += f" [{self.note}]"
        return Finding(SEVERITY[self.severity], rule, xpath_of(self.el), message, _element_of(self.el))


# --------------------------------------------------------------------------- messages

_PLACEHOLDER = re.compile(r"\{\{…\}\}:\{…\}|\{@[\w:]+\}|\{local-name\(\)\}|\{name\}|\{\$\w+\}|\{…\}")


def _fill(template: str, el, fills, facts: Facts) -> str:
    fills = {**facts.placeholders(), **(fills if isinstance(fills, dict) else {})}
    template = template.replace(WRAPPER, facts.name)
    anonymous = iter(fills.get("…", ()))
    names = iter([local(el)] if template.count("{name}") < 2 else
                 [local(el.getparent()) if el.getparent() is not None else "", local(el)])

    def sub(m: re.Match) -> str:
        t = m.group(0)
        if t == "{{…}}:{…}":
            ns, name = fills.get("xsitype") or (None, "")
            return f"{{{ns or ''}}}:{name}"
        if t.startswith("{@"):
            attr = t[2:-1]
            value = el.get(XSI_TYPE if attr == "xsi:type" else attr)
            return value if value is not None else ""
        if t == "{local-name()}":
            return fills.get("local-name()") or local(el)
        if t == "{name}":
            return next(names, local(el))
        if t.startswith("{$"):
            return str(fills.get(t[1:-1], ""))
        return next(anonymous, "")

    return _PLACEHOLDER.sub(sub, template)


#: Row kinds that test the element a finding points at (its code, value set, unit or required
#: attributes), rather than counting its children.
_TESTS_ITS_ELEMENT = frozenset({"coded", "vs", "vstok", "vsdep", "unit", "attrs"})


#: How many characters of an element a finding shows.
SHOWN_LIMIT = 240


def shown(el) -> str:
    """The element as it stands, compactly (its attributes, text and child elements, no
    namespaces), so that a finding says which value broke its rule; cut at SHOWN_LIMIT."""
    text = _shown(el, 2)
    return text if len(text) <= SHOWN_LIMIT else text[: SHOWN_LIMIT - 1] + "…"


def _shown(el, depth: int) -> str:
    name = local(el)
    attrs = "".join(f' {"xsi:type" if k == XSI_TYPE else etree.QName(k).localname}="{v}"' for k, v in el.attrib.items())
    inner = (el.text or "").strip()
    kids = [c for c in el if isinstance(c.tag, str)]
    if kids:
        inner += "".join(_shown(c, depth - 1) for c in kids) if depth > 0 else "…"
    return f"<{name}{attrs}>{inner}</{name}>" if inner else f"<{name}{attrs}/>"


def _element_of(el) -> str | None:
    """The BDS element of the context: the element number when ``el`` is (inside) an element
    observation template 4NNNN, else the code of the nearest rubriek or groep cluster, else None."""
    node = el
    while node is not None and isinstance(node.tag, str):
        for t in node.iterchildren(TEMPLATE_ID):
            root = t.get("root") or ""
            tail = root[len(TPL_PREFIX):]
            if root.startswith(TPL_PREFIX) and len(tail) == 5 and tail[0] == "4" and tail.isdecimal():
                return str(int(tail[1:]))
        if node.tag in (H + "rubricCluster", H + "groupCluster"):
            code = node.find(H + "code")
            if code is not None and code.get("code"):
                return code.get("code")
        node = node.getparent()
    return None


# --------------------------------------------------------------------------- row checks


def _tokens(value: str) -> list[str]:
    return [t for t in re.split(r"[ \t\r\n]+", value) if t]


LEXICAL: dict[str, Callable[[str], bool]] = {
    "cs": lambda v: v != "" and not any(c in XML_WS for c in v),
    "st": lambda v: v != "",
    "bl": lambda v: v in ("true", "false"),
    "set_cs": lambda v: v != "",
    "ts": lambda v: re.match(r"^[0-9]{4,14}", v) is not None,
}


@lru_cache(maxsize=None)
def _regex(pattern: str) -> re.Pattern:
    return re.compile(pattern)


class RuleSet:
    """The compiled rules for one value-set mode; immutable, shared by all runs."""

    def __init__(self, data: dict, lenient: bool = False, strict: "RuleSet | None" = None):
        """``strict``: the strict rules, whose contexts a lenient set reuses where no row
        depends on a BDS W-domain value set (then both modes check them alike)."""
        self.vs = ValueSets(data["valuesets"])
        self.lenient = lenient
        self.ucum = data["ucum"]
        self.dtr1 = {key: (sev, text) for key, (sev, _family, text) in data["dtr1"].items()}
        self.sc = StepCompiler(data["steps"], self.vs, lenient)
        self.families: dict[str, tuple] = {}
        self.root_contexts: list = []  # context "/" (the document)
        self.by_name: dict[str, list] = {}
        self.by_tpl: dict[tuple, list] = {}
        self.by_child_tpl: dict[tuple, list] = {}
        self.compiler = ContextCompiler(self, {"Hit": Hit, "BELOW": _BELOW, "ABOVE": _ABOVE, "NO_SLOTS": _NO_SLOTS,
                                                "NO_TPL": frozenset()},
                                        LEXICAL, _regex)
        nodes: dict[tuple, _Node] = {}
        orders: Counter = Counter()
        self.contexts: list[Context] = []
        for i, (pattern, path, rows) in enumerate(data["contexts"]):
            if strict is not None and not self._uses_w_domain(rows):
                ctx = strict.contexts[i]
            else:
                ctx = Context(self, pattern, orders[pattern], tuple(path), rows)
            self.contexts.append(ctx)
            orders[pattern] += 1
            if not path:
                self.root_contexts.append(ctx)
                continue
            node = self._node(nodes, tuple(path))
            node.ends.append(ctx)
        for node in nodes.values():
            node.grows = bool(node.children or node.wild or node.slots)

    def _uses_w_domain(self, rows: list) -> bool:
        """Some row names a BDS W-domain value set, in its value or in a counted step."""
        for row in rows:
            op = row[5]
            if op[0] in ("vs", "vsdep") and any(self.vs.is_w_domain(k) for k in op[1]):
                return True
            if op[0] in ("card", "choice") and any(self._step_uses_w_domain(s) for s in
                                                   (op[1] if op[0] == "choice" else [op[1]])):
                return True
        return False

    def _step_uses_w_domain(self, step: int) -> bool:
        for group in self.sc.steps[step][1]:
            for alt in group:
                if alt[0] == "vs" and self.vs.is_w_domain(alt[1]):
                    return True
                if alt[0] == "ch" and self._step_uses_w_domain(alt[1]):
                    return True
        return False

    # -- trie

    def _node(self, nodes: dict, path: tuple) -> "_Node":
        if path in nodes:
            return nodes[path]
        node = nodes[path] = _Node()
        if len(path) == 1:
            self._index_first(path[0], node)
        else:
            parent = self._node(nodes, path[:-1])
            tag, pred = self.sc.step(path[-1])
            slot = self._slot(path[-1])
            if slot is not None:  # X[Y[tpl=N]]: found through the children's templateIds, not tested
                parent.slots.setdefault(slot[0], {}).setdefault(slot[1:], []).append(node)
            elif tag is None:
                parent.wild.append((pred, node))
            else:
                parent.children.setdefault(tag, []).append((pred, node))
        return node

    def _index_first(self, step: int, node: "_Node") -> None:
        """First steps are found by (name, templateId root), (child name, its root) or name."""
        name, groups = self.sc.steps[step]
        tag = None if name == "*" else H + name
        for i, group in enumerate(groups):
            if len(group) == 1 and group[0][0] == "tpl":
                _, pred = self.sc.step(step, skip_group=i)
                self.by_tpl.setdefault((tag, group[0][1]), []).append((pred, node))
                return
        if tag is None:
            for group in groups:
                if len(group) == 1 and group[0][0] == "ch":
                    child_name, child_groups = self.sc.steps[group[0][1]]
                    roots = [g[0][1] for g in child_groups if len(g) == 1 and g[0][0] == "tpl"]
                    if roots and child_name != "*":
                        only = len(child_groups) == 1 and len(groups) == 1
                        pred = None if only else self.sc.step(step)[1]
                        self.by_child_tpl.setdefault((H + child_name, roots[0]), []).append((pred, node))
                        return
        _, pred = self.sc.step(step)
        self.by_name.setdefault(tag, []).append((pred, node))

    # -- rows

    def _family(self, name: str) -> Callable:
        if name not in self.families:
            self.families[name] = datatypes.family_check(name)
        return self.families[name]

    def _compile(self, op: list) -> Callable:
        kind = op[0]
        return getattr(self, "_op_" + kind)(*op[1:])

    def _slot(self, step: int) -> tuple | None:
        """``X[Y[tpl=N]]`` (a template slot such as component[observation[tpl=40235]]) as (X, Y, root)."""
        name, groups = self.sc.steps[step]
        if name == "*" or len(groups) != 1 or len(groups[0]) != 1 or groups[0][0][0] != "ch":
            return None
        inner, inner_groups = self.sc.steps[groups[0][0][1]]
        if inner == "*" or len(inner_groups) != 1 or len(inner_groups[0]) != 1 or inner_groups[0][0][0] != "tpl":
            return None
        return H + name, H + inner, inner_groups[0][0][1]

    def _count(self, op: list) -> tuple:
        """Cardinality and choice rows: (kind, what, min, max), counted in :meth:`Run.apply`.

        kind 0: children matching one step (what = tag, predicate); kind 1: a template slot
        (what = outer tag, inner tag, root); kind 2: children matching any of several steps.
        """
        lo, hi = op[-2], op[-1]
        if op[0] == "choice":
            return 2, tuple(self.sc.step(s) for s in op[1]), lo, hi, tuple(op[1])
        slot = self._slot(op[1])
        if slot is not None:
            return 1, slot, lo, hi, (op[1],)
        return 0, self.sc.step(op[1]), lo, hi, (op[1],)

    def _op_attrs(self, names):
        return lambda el, run: any(el.get(n) is None for n in names)

    def _op_fixed(self, attr, value, required):
        def check(el, run):
            v = el.get(attr)
            return required if v is None else v != value

        return check

    def _op_coded(self, alts):
        def check(el, run):
            if el.get(NF) is not None:
                return False
            return not any(all(el.get(a) == v for a, v in alt) for alt in alts)

        return check

    def _op_tokens(self, attr, allowed):
        allowed = frozenset(allowed)

        def check(el, run):
            v = el.get(attr)
            return v is not None and any(t not in allowed for t in _tokens(v))

        return check

    # value-set data of the value-set rows (shared with the generated code)

    def concepts(self, keys) -> frozenset:
        return frozenset().union(*(self.vs.pairs.get(k, frozenset()) for k in keys))

    def any_code_accepted(self, keys) -> bool:
        """NL04 second pass: a W-domain set whose BDS 4.2.0 content is unknown accepts any code."""
        return self.lenient and any(self.vs.is_w_domain(k) for k in keys)

    def null_flavors(self, key, extra) -> frozenset:
        return self.vs.exceptions.get(key, frozenset()) | frozenset(extra)

    def deprecated(self, keys) -> frozenset:
        return frozenset().union(*(self.vs.deprecated.get(k, frozenset()) for k in keys))

    def _op_vs(self, keys, no_code_passes):
        pairs = self.concepts(keys)
        lenient = self.any_code_accepted(keys)

        def check(el, run):
            if el.get(NF) is not None:
                return False
            code = el.get("code")
            if code is None and no_code_passes:
                return False
            if lenient and code is not None:
                return False
            return (code, el.get("codeSystem")) not in pairs

        return check

    def _op_vsnull(self, key, extra):
        allowed = self.null_flavors(key, extra)

        def check(el, run):
            nf = el.get(NF)
            return nf is not None and nf not in allowed

        return check

    def _op_vsdep(self, keys):
        deprecated = self.deprecated(keys)
        return lambda el, run: (el.get("code"), el.get("codeSystem")) in deprecated

    def _op_vstok(self, attr, key):
        codes = self.vs.codes.get(key, frozenset())

        def check(el, run):
            v = el.get(attr)
            return v is not None and any(t not in codes for t in _tokens(v))

        return check

    def _op_dt(self, family):
        family_check = self._family(family)

        def check(el, run):
            out: list[str] = []
            family_check(el, out)
            return out

        return check

    def _op_xsitype(self, type_name, required_unless_null):
        expected = (HL7, type_name)

        def check(el, run):
            if el.get(XSI_TYPE) is None:
                return required_unless_null and el.get(NF) is None
            found = xsi_type(el)
            return None if found == expected else {"xsitype": found}

        return check

    def _op_lex(self, attr, kind):
        ok = LEXICAL[kind]

        def check(el, run):
            v = el.get(attr)
            return v is not None and not ok(v)

        return check

    def _op_unit(self, unit):
        return lambda el, run: el.get(NF) is None and el.get("unit") != unit

    def _op_ucum(self):
        ucum = self.ucum

        def check(el, run):
            unit = el.get("unit")
            return {"$UCUMtest": ucum[unit]} if unit in ucum else None

        return check

    def _op_pattern(self, attr, regex, required):
        rx = _regex(regex)

        def check(el, run):
            v = el.get(attr)
            return required if v is None else rx.search(v) is None

        return check

    def _op_o(self, handler, *params):
        fn = logic.HANDLERS[handler]
        return lambda el, run: fn(el, run, *params)

    # -- the pass

    def run(self, root, facts: Facts, only: set | None = None, part: tuple[float, float] | None = None) -> list[Hit]:
        """Check the message; with ``only``, check just those elements (the walk then
        follows only the paths from the root to them); with ``part``, just that fraction
        of the elements in document order (:func:`check_templates`)."""
        with sibling_index():
            return self._run(root, facts, only, part)

    def _run(self, root, facts: Facts, only: set | None, part: tuple[float, float] | None = None) -> list[Hit]:
        run = Run(self, root, facts)
        # One pass in C over the document for every element the engine finds by name.
        wanted: dict = {}
        for tag, found in self.by_name.items():
            if tag is not None:
                wanted.setdefault(H + facts.name if tag == H + WRAPPER else tag, []).extend(found)
        named: dict = run.named
        for tag in (TEMPLATE_ID, logic.ORIGINAL_TEXT, *wanted):
            named[tag] = []
        for x in root.iter(*named):
            named[x.tag].append(x)
        # One pass over the templateIds: where contexts start (every first step is found
        # through an index, before the walk), and the template slots the counts read.
        starts: dict = {}
        tpl_of: dict = run.tpl_of
        child_tpl: dict = {}  # element -> {(child tag, the child's templateId root)}
        slots = run.slots
        by_tpl, by_child_tpl = self.by_tpl, self.by_child_tpl
        for t in named[TEMPLATE_ID]:
            r, p = t.get("root"), t.getparent()
            if r is None or p is None:
                continue
            roots = tpl_of.get(p)
            if roots is None:
                tpl_of[p] = {r}
            elif r in roots:
                continue  # the same root twice on one element counts once
            else:
                roots.add(r)
            ptag = p.tag
            found = by_tpl.get((ptag, r))
            if found:
                starts.setdefault(p, []).extend(found)
            found = by_tpl.get((None, r))
            if found:
                starts.setdefault(p, []).extend(found)
            gp = p.getparent()
            if gp is None:
                continue
            pair = (ptag, r)
            pairs = child_tpl.get(gp)
            if pairs is None:
                child_tpl[gp] = {pair}
            elif pair in pairs:
                continue
            else:
                pairs.add(pair)
            found = by_child_tpl.get(pair)
            if found:
                starts.setdefault(gp, []).extend(found)
            ggp = gp.getparent()
            if ggp is not None:
                counted = slots.get(ggp)
                key = (gp.tag, ptag, r)
                if counted is None:
                    slots[ggp] = {key: 1}
                else:
                    counted[key] = counted.get(key, 0) + 1
        for tag, found in wanted.items():  # the wrapper rules open on this interaction's root
            for el in named[tag]:
                starts.setdefault(el, []).extend(found)
        run.indexed = True
        elements = root.iter(etree.Element)
        document = only is None or root in only  # the contexts on the document node run in this pass
        if only is not None:
            needed = {a for el in only for a in (el, *el.iterancestors())}
            elements = [el for el in elements if el in needed]
        elif part is not None:
            # The part's elements, after the ancestors of its first: the walk needs their
            # states, and they are the only elements outside the part above one inside it.
            ordered = list(elements)
            start, stop = (int(len(ordered) * f) for f in part)
            inside = ordered[start:stop]
            document = start == 0 < stop  # with the part that holds the root
            if inside and start > 0:
                only = set(inside)
                ancestors = list(inside[0].iterancestors())
                ancestors.reverse()
                inside = ancestors + inside
            elements = inside
        if document:
            for ctx in self.root_contexts:
                run.apply(ctx, root)
        any_name = self.by_name.get(None, ())
        states_of: dict = {}
        parent_states = states_of.get
        visit, apply = run.visit, run.apply
        hits, compiled = run.hits, run.compiled
        for el in elements:
            tag = el.tag
            states = []
            ps = parent_states(el.getparent())
            if ps:
                for node in ps:
                    lst = node.children.get(tag)
                    if lst:
                        for pred, nxt in lst:
                            if pred is None or pred(el):
                                states.append(nxt)
                    if node.slots:
                        by_pair = node.slots.get(tag)
                        if by_pair:
                            for pair in child_tpl.get(el, ()):
                                found = by_pair.get(pair)
                                if found:
                                    states.extend(found)
                    if node.wild:
                        for pred, nxt in node.wild:
                            if pred is None or pred(el):
                                states.append(nxt)
            lst = starts.get(el)
            if lst:
                for pred, nxt in lst:
                    if pred is None or pred(el):
                        states.append(nxt)
            if any_name:
                for pred, nxt in any_name:
                    if pred is None or pred(el):
                        states.append(nxt)
            if states:
                for node in states:
                    if node.grows:  # only states that can lead further are kept for the children
                        states_of[el] = states
                        break
                if only is not None and el not in only:
                    continue
                if len(states) == 1 and len(states[0].ends) == 1:
                    ctx = states[0].ends[0]
                    fn = ctx.fn if compiled else False
                    if fn:  # the common case, inline: one context, already compiled
                        mark = len(hits)
                        try:
                            fn(el, run, hits)
                        except Exception:  # noqa: BLE001 - odd tree: redo with the reference closures
                            del hits[mark:]
                            run.interpret(ctx, el)
                    else:
                        apply(ctx, el)
                elif states[0].ends or len(states) > 1:
                    visit(el, states)
        return run.hits


class Context:
    """One rule context: its place in its pattern and its rows, prepared on first use.

    ``counts`` are the cardinality and choice rows (see :meth:`RuleSet._count`),
    ``checks`` the other rows as (row, closure), ``fn`` the generated function.
    """

    __slots__ = ("rules", "pattern", "order", "path", "raw", "counts", "checks", "ops", "fn")

    def __init__(self, rules: "RuleSet", pattern: int, order: int, path: tuple, raw: list):
        self.rules, self.pattern, self.order, self.path, self.raw = rules, pattern, order, path, raw
        self.counts = self.checks = self.ops = self.fn = None

    def prepare(self) -> None:
        counts, checks, ops = [], [], []
        for raw in self.raw:
            row = Row.of(raw)
            op = raw[5]
            if op[0] in ("card", "choice"):
                count = self.rules._count(op)
                if count[0] == 1:
                    root = count[1][2]
                    row.element_slot = root.startswith(TPL_PREFIX + "4") and len(root) == len(TPL_PREFIX) + 5
                elif count[0] == 0 and None not in count[1]:
                    row.qualified = count[1][0]
                counts.append((row, *count))
            else:
                checks.append((row, self.rules._compile(op)))
                ops.append(op)
        self.counts, self.checks, self.ops = counts, checks, ops

    def compile(self):
        """The generated function, or False when it cannot be generated (the closures then run)."""
        if self.counts is None:
            self.prepare()
        try:
            self.fn = self.rules.compiler.compile(self.counts, self.checks, self.ops)
        except Exception:  # noqa: BLE001 - a defect of the generator must not cost the findings
            self.fn = False
        return self.fn


class _Node:
    """A trie node: one context path prefix; ``children`` by tag, ``wild`` for ``*`` steps."""

    __slots__ = ("children", "wild", "slots", "ends", "grows")

    def __init__(self):
        self.grows = True  # has children, wild or slots (set when the trie is complete)
        self.children: dict = {}
        self.wild: list = []
        self.slots: dict = {}  # tag -> {(child tag, templateId root): [nodes]}
        self.ends: list = []


class Run:
    """One message being checked: document-wide facts for the handlers, and the findings."""

    compiled = True  # False: run the reference closures only (tests compare both)

    def __init__(self, rules: RuleSet, root, facts: Facts):
        self.rules = rules
        self.root = root
        self.facts = facts
        self.hits: list[Hit] = []
        self.named: dict = {}  # tag -> elements of that name in the document (the run's index pass)
        self.tpl_of: dict = {}  # element -> the roots of its templateIds
        self.indexed = False  # tpl_of, slots and named are complete (set by RuleSet.run)
        self.slots: dict = {}  # element -> {(child tag, grandchild tag, root): children holding such a grandchild}
        self.memo: dict = {}  # what several rows of the run look up alike (logic._once)

    def visit(self, el, states: list) -> None:
        ends = [e for node in states for e in node.ends]
        if not ends:
            return
        if len(ends) > 1:
            first: dict = {}
            for ctx in ends:
                best = first.get(ctx.pattern)
                if best is None or ctx.order < best.order:
                    first[ctx.pattern] = ctx
            ends = sorted(first.values(), key=lambda c: c.pattern)
        for ctx in ends:
            self.apply(ctx, el)

    def apply(self, ctx: Context, el) -> None:
        fn = ctx.fn if self.compiled else False
        if fn is None:
            fn = ctx.compile()
        if fn:
            mark = len(self.hits)
            try:
                fn(el, self, self.hits)
                return
            except Exception:  # noqa: BLE001 - odd tree: redo this context with the reference closures
                del self.hits[mark:]
        self.interpret(ctx, el)

    def interpret(self, ctx: Context, el) -> None:
        """The reference semantics: every row as its own closure, each failure contained."""
        if ctx.counts is None:
            ctx.prepare()
        hits = self.hits
        if ctx.counts:
            self._count(ctx.counts, el, hits)
        for row, check in ctx.checks:
            try:
                result = check(el, self)
            except (ValueError, TypeError, AttributeError, IndexError, KeyError, OverflowError) as exc:
                # A rule that cannot be evaluated on this tree is reported, never raised.
                hits.append(Hit(row, el, None, label="JGZ-RULE-EVAL", severity="w",
                                text=f"rule could not be evaluated: {exc!r}"))
                continue
            if not result:
                continue
            if row.op == "dt":
                self.datatype_hits(row, el, result)
                continue
            for _ in range(row.times):
                hits.append(Hit(row, el, result))

    def datatype_hits(self, row: Row, el, labels: list) -> None:
        dtr1 = self.rules.dtr1
        for key in labels:
            sev, text = dtr1[key]
            label = key.split(":", 1)[1] if key.startswith("PN.NL:") else key
            for _ in range(row.times):
                self.hits.append(Hit(row, el, None, label=label, severity=sev, text=text))

    def _count(self, counts: list, el, hits: list) -> None:
        """Cardinality and choice rows of one context, over one index of the children."""
        kids: dict = {}
        for c in el:
            t = c.tag
            if t.__class__ is str:
                same = kids.get(t)
                if same is None:
                    kids[t] = [c]
                else:
                    same.append(c)
        slots = None
        for row, kind, what, lo, hi, _steps in counts:
            n = 0
            if kind == 0:
                tag, pred = what
                found = kids.get(tag, ()) if tag is not None else [c for v in kids.values() for c in v]
                if pred is None:
                    n = len(found)
                else:
                    for c in found:
                        if pred(c):
                            n += 1
            elif kind == 1:
                if slots is None:
                    slots = self.slots.get(el, _NO_SLOTS)
                n = slots.get(what, 0)
            else:
                for v in kids.values():
                    for c in v:
                        for tag, pred in what:
                            if (tag is None or c.tag == tag) and (pred is None or pred(c)):
                                n += 1
                                break
            if n < lo:
                hits.append(Hit(row, el, _BELOW))
            elif hi != -1 and n > hi:
                hits.append(Hit(row, el, _ABOVE))


_NO_SLOTS: dict = {}
_BELOW = {"#": 0}
_ABOVE = {"#": 1}
