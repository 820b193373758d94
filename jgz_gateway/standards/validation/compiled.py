"""One Python function per rule context, generated from its rows on first use.

Most of a DOB message is element observations, each checked by a handful of contexts
with a dozen rows; running those rows as separate closures costs more than the checks
themselves. This module writes each context's rows out as straight-line code (one pass
over the children for all cardinality and choice rows, attribute tests inline) and
compiles it once per process. The closures in ``templates.py`` remain the reference
semantics: a generated function that raises falls back to them, and the tests compare
both on every reference message.
"""

from __future__ import annotations

from types import CodeType, FunctionType
from typing import TYPE_CHECKING, Callable

from .paths import NF, XSI_TYPE, H, xsi_type

if TYPE_CHECKING:  # pragma: no cover
    from .templates import RuleSet, Row


class _Source:
    """Source lines plus the constants they refer to (the closure's cells).

    Values (codes, roots, rows, sets) are never written into the source, only their names
    k0, k1, ...: the 568 element templates then share a few dozen distinct sources, each
    compiled once per process.
    """

    def __init__(self):
        self.lines: list[str] = []
        self.names: dict = {}
        self.count = 0
        self.uses_tpl = False  # reads the run's templateId index

    def const(self, value) -> str:
        name = f"k{self.count}"
        self.count += 1
        self.names[name] = value
        return name

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)


_CODE: dict[str, object] = {}  # generated source -> code object, shared by all contexts of that shape


class ContextCompiler:
    """Generates the check function of a context from its rows (see :meth:`compile`).

    ``names`` are the engine's objects the generated code uses (Hit, BELOW, ABOVE, NO_TPL,
    NO_SLOTS); ``lexical`` and ``regex`` its attribute-datatype tests and regex cache.
    """

    def __init__(self, rules: "RuleSet", names: dict, lexical: dict, regex: Callable):
        self.rules = rules
        self.lexical, self.regex = lexical, regex
        self.base = {**names, "xsi_type": xsi_type, "NF": NF, "XSI": XSI_TYPE, "__builtins__": __builtins__}

    def compile(self, counts: list, checks: list, ops: list) -> Callable:
        """``counts`` and ``checks`` as built by the RuleSet; ``ops`` the raw ops of ``checks``."""
        src = _Source()
        src.line(1, "g = el.get")
        if counts:
            self._counts(src, counts)
        for (row, check), op in zip(checks, ops):
            self._row(src, row, check, op)
        src.line(1, "return None")
        if src.uses_tpl:
            src.lines.insert(1, "    tpl = run.tpl_of.get")
        # The constants are cells of a closure, not globals: all contexts then share one globals
        # dict (the engine's names), so the interpreter's global-lookup caches in a code object
        # shared by many contexts keep hitting; and unlike parameter defaults (tried) a call
        # does not copy them into its frame.
        names = ", ".join(src.names)
        body = "\n".join("    " + line for line in src.lines)
        text = f"def make({names}):\n    def check(el, run, hits):\n{body}\n    return check\n"
        code = _CODE.get(text)
        if code is None:
            module = compile(text, "<dob-context>", "exec")
            code = _CODE[text] = next(c for c in module.co_consts if isinstance(c, CodeType))
        return FunctionType(code, self.base, "make")(*src.names.values())

    # -- rows other than counts

    def _hit(self, src: _Source, depth: int, row: "Row", result: str = "True") -> None:
        r = src.const(row)
        for _ in range(row.times):
            src.line(depth, f"hits.append(Hit({r}, el, {result}))")

    def _row(self, src: _Source, row: "Row", check: Callable, op: list) -> None:
        kind, args = op[0], op[1:]
        if kind == "fixed":
            attr, value, required = args
            a, v = repr(attr), src.const(value)
            src.line(1, f"v = g({a})")
            src.line(1, f"if v != {v}:" if required else f"if v is not None and v != {v}:")
            self._hit(src, 2, row)
        elif kind == "coded":
            alts = " or ".join("(" + " and ".join(f"g({a!r}) == {src.const(v)}" for a, v in alt) + ")"
                               for alt in args[0])
            src.line(1, f"if g(NF) is None and not ({alts}):")
            self._hit(src, 2, row)
        elif kind == "attrs":
            src.line(1, "if " + " or ".join(f"g({a!r}) is None" for a in args[0]) + ":")
            self._hit(src, 2, row)
        elif kind == "xsitype":
            type_name, required = args
            src.line(1, "if g(XSI) is None:")
            if required:
                src.line(2, "if g(NF) is None:")
                self._hit(src, 3, row)
            else:
                src.line(2, "pass")
            src.line(1, "else:")
            src.line(2, "t = xsi_type(el)")
            src.line(2, f"if t != {src.const((H[1:-1], type_name))}:")
            self._hit(src, 3, row, "{'xsitype': t}")
        elif kind == "unit":
            src.line(1, f"if g(NF) is None and g('unit') != {src.const(args[0])}:")
            self._hit(src, 2, row)
        elif kind == "dt":
            f = src.const(self.rules._family(args[0]))
            r = src.const(row)
            src.line(1, "out = []")
            src.line(1, f"{f}(el, out)")
            src.line(1, "if out:")
            src.line(2, f"run.datatype_hits({r}, el, out)")
        elif kind == "vs":
            keys, no_code_passes = args
            rules = self.rules
            src.line(1, "if g(NF) is None:")
            src.line(2, "code = g('code')")
            cond = [f"(code, g('codeSystem')) not in {src.const(rules.concepts(keys))}"]
            if no_code_passes:
                cond.insert(0, "code is not None")
            if rules.any_code_accepted(keys):
                cond.insert(0, "code is None")
            src.line(2, f"if {' and '.join(cond)}:")
            self._hit(src, 3, row)
        elif kind == "vsnull":
            src.line(1, "v = g(NF)")
            src.line(1, f"if v is not None and v not in {src.const(self.rules.null_flavors(*args))}:")
            self._hit(src, 2, row)
        elif kind == "vsdep":
            src.line(1, f"if (g('code'), g('codeSystem')) in {src.const(self.rules.deprecated(args[0]))}:")
            self._hit(src, 2, row)
        elif kind == "lex":
            attr, lexical = args
            src.line(1, f"v = g({attr!r})")
            src.line(1, f"if v is not None and not {src.const(self.lexical[lexical])}(v):")
            self._hit(src, 2, row)
        elif kind == "pattern":
            attr, regex, required = args
            src.line(1, f"v = g({attr!r})")
            if required:
                src.line(1, f"if v is None or {src.const(self.regex(regex).search)}(v) is None:")
            else:
                src.line(1, f"if v is not None and {src.const(self.regex(regex).search)}(v) is None:")
            self._hit(src, 2, row)
        elif kind == "ucum":
            src.line(1, "v = g('unit')")
            src.line(1, f"if v in {src.const(self.rules.ucum)}:")
            self._hit(src, 2, row, f"{{'$UCUMtest': {src.const(self.rules.ucum)}[v]}}")
        elif kind == "o" and args[0] == "needs_display_name":
            src.line(1, "if g('code') is not None and g('displayName') is None:")
            self._hit(src, 2, row)
        elif kind == "o" and args[0] == "no_child_elements":
            src.line(1, "for c in el:")
            src.line(2, "if c.tag.__class__ is str:")
            self._hit(src, 3, row)
            src.line(3, "break")
        else:
            # Everything else runs its reference closure: rare rows, no gain in inlining.
            c = src.const(check)
            src.line(1, f"res = {c}(el, run)")
            src.line(1, "if res:")
            self._hit(src, 2, row, "res")

    # -- cardinality and choice rows: one pass over the children

    def _test(self, src: _Source, step: int) -> str:
        """Source of the step's qualifiers on ``c``; simple attribute tests inline."""
        _name, groups = self.rules.sc.steps[step]
        if not groups:
            return "True"
        parts = []
        for group in groups:
            alts = [self._alt(src, a) for a in group]
            parts.append(alts[0] if len(alts) == 1 else "(" + " or ".join(alts) + ")")
        return " and ".join(parts)

    def _alt(self, src: _Source, a: list) -> str:
        kind = a[0]
        if kind == "nn":
            return "c.get(NF) is None"
        if kind == "nf":
            return "c.get(NF) is not None"
        if kind == "eq":
            return f"c.get({a[1]!r}) == {src.const(a[2])}"
        if kind == "has":
            return f"c.get({a[1]!r}) is not None"
        if kind == "cd":
            return f"(c.get('code') == {src.const(a[1])} and c.get('codeSystem') == {src.const(a[2])})"
        if kind == "tpl":  # the run's templateId index (RuleSet.run) instead of a scan of c's children
            src.uses_tpl = True
            return f"{src.const(a[1])} in tpl(c, NO_TPL)"
        return f"{src.const(self.rules.sc.alt(a))}(c)"

    def _counts(self, src: _Source, counts: list) -> None:
        by_tag: dict = {}  # tag -> [(counter index, test source)]
        wild: list = []
        slots: list = []
        for i, (_row, kind, what, _lo, _hi, steps) in enumerate(counts):
            if kind == 1:
                slots.append(i)
                continue
            alts = [what] if kind == 0 else list(what)
            per_tag: dict = {}
            for (tag, _pred), step in zip(alts, steps):
                per_tag.setdefault(tag, []).append(self._test(src, step))
            for tag, tests in per_tag.items():
                test = " or ".join(f"({t})" for t in tests) if len(tests) > 1 else tests[0]
                (wild if tag is None else by_tag.setdefault(tag, [])).append((i, test))
        for i in range(len(counts)):
            src.line(1, f"n{i} = 0")
        if by_tag or wild:
            src.line(1, "for c in el:")
            src.line(2, "t = c.tag")
            src.line(2, "if t.__class__ is not str:")
            src.line(3, "continue")
            first = True
            for tag, tests in by_tag.items():
                src.line(2, f"{'if' if first else 'elif'} t == {src.const(tag)}:")
                first = False
                for i, test in tests:
                    if test == "True":
                        src.line(3, f"n{i} += 1")
                    else:
                        src.line(3, f"if {test}:")
                        src.line(4, f"n{i} += 1")
            for i, test in wild:
                src.line(2, f"if {test}:")
                src.line(3, f"n{i} += 1")
        if slots:
            src.line(1, "s = run.slots.get(el, NO_SLOTS)")
            for i in slots:
                src.line(1, f"n{i} = s.get({src.const(counts[i][2])}, 0)")
        for i, (row, _kind, _what, lo, hi, _steps) in enumerate(counts):
            r = src.const(row)
            if lo > 0:
                src.line(1, f"if n{i} < {lo}:")
                src.line(2, f"hits.append(Hit({r}, el, BELOW))")
                if hi != -1:
                    src.line(1, f"elif n{i} > {hi}:")
                    src.line(2, f"hits.append(Hit({r}, el, ABOVE))")
            elif hi != -1:
                src.line(1, f"if n{i} > {hi}:")
                src.line(2, f"hits.append(Hit({r}, el, ABOVE))")

