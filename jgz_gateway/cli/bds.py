"""``jgz bds ...``: look up the BDS catalogue (elements, rubrieken, groepen, value sets, version diffs)."""

from __future__ import annotations

import json
from enum import Enum
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from . import app

if TYPE_CHECKING:  # imported inside the commands to keep start-up fast
    from ..standards.catalogue import Catalogue, ValueSet

bds_app = typer.Typer(help="Look up the BDS JGZ catalogue per BDS version.", no_args_is_help=True)
app.add_typer(bds_app, name="bds")


class Format(str, Enum):
    text = "text"
    json = "json"


VersionOpt = typer.Option("4.2.0", "--bds", help="BDS version: 3.2.6 (3.2, 3.2.7), 4.0.2, 4.1.3, 4.2.0 (4.0, 4.1, 4.2).")
FormatOpt = typer.Option(Format.text, "--format", help="text (for people) or json (for programs).")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _catalogue(version: str) -> Catalogue:
    from ..standards.catalogue import UnknownVersion, get_catalogue

    try:
        return get_catalogue(version)
    except UnknownVersion as exc:
        _fail(str(exc))


def _emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _card(card: tuple[int, int | None] | None) -> str:
    return "unknown" if card is None else f"{card[0]}..{'*' if card[1] is None else card[1]}"


def _val(value: Any, fact: str, item: Any) -> str:
    """A fact for display: 'unknown' when no source gives it, and its source when it is a fallback."""
    from rich.markup import escape

    if fact not in item.sources:
        return "[dim]unknown[/dim]"
    shown = "—" if value in (None, "", {}) else escape(str(value))
    src = item.sources[fact]
    return shown if src == item.version else f"{shown} [yellow](from BDS {src})[/yellow]"


def _facts_table(title: str, rows: list[tuple[str, str]]) -> Any:
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for k, v in rows:
        table.add_row(k, v)
    return table


def _codes_table(vs: ValueSet) -> Any:
    from rich.table import Table

    title = f"{vs.w} {vs.name or ''}  (pairing: {vs.pairing})"
    if vs.fallback:
        title += f"  [yellow]content from BDS {vs.source_version}[/yellow]"
    table = Table(title=title, title_justify="left")
    for col in ("BDS code", "BDS display", "HL7 code", "HL7 code system", "HL7 display", ""):
        table.add_column(col)
    from rich.markup import escape

    for c in vs.concepts:
        flags = ", ".join(sorted({f for side in (c.bds, c.hl7) if side
                                  for f, on in (("deprecated", side.deprecated), ("exception", side.exception)) if on}))
        table.add_row(*(escape(x) for x in (
            c.bds.code if c.bds else "", (c.bds.display or "") if c.bds else "",
            c.hl7.code if c.hl7 else "", c.hl7.code_system if c.hl7 else "",
            (c.hl7.display or "") if c.hl7 else "", flags)))
    return table


def _print(*renderables: Any) -> None:
    from rich.console import Console

    console = Console()
    for r in renderables:
        console.print(r)


@bds_app.command()
def element(number: str = typer.Argument(..., help="BDS element number, e.g. 235."),
            bds: str = VersionOpt, fmt: Format = FormatOpt) -> None:
    """Show an element: name, rubriek, groep, datatype, unit, cardinality and value set with codes."""
    cat = _catalogue(bds)
    e = cat.element(number)
    if e is None:
        _fail(f"element {number!r} is not in BDS {cat.version}")
    vs = cat.valueset(e.valueset) if e.valueset else None
    if fmt is Format.json:
        _emit_json(e.as_dict() | {"fallbacks": list(e.fallbacks),
                                  "valueset_content": vs.as_dict() if vs else None})
        return
    rows = [("name", _val(e.name, "name", e)), ("status", _val(e.status, "status", e)),
            ("rubriek", _val(e.rubriek and f"{e.rubriek} {cat.display_name(e.rubriek) or ''}", "rubriek", e)),
            ("groep", _val(e.groep and f"{e.groep} {cat.display_name(e.groep) or ''}", "groep", e)),
            ("cardinality", _val(_card(e.cardinality), "cardinality", e)),
            ("datatype", _val(e.datatype, "datatype", e)), ("unit", _val(e.unit, "unit", e)),
            ("value set", _val(e.valueset, "valueset", e)), ("HL7 type", _val(e.hl7_type, "hl7_type", e)),
            ("HL7 template", _val(e.template_id, "template_id", e)),
            ("HL7 bindings", _val(", ".join(f"{k}={v}" for k, v in e.bindings.items()), "bindings", e))]
    out: list[Any] = [_facts_table(f"BDS {cat.version} element {e.number}", rows)]
    if e.valueset and vs is None:
        out.append(f"value set {e.valueset}: content unknown for BDS {cat.version}")
    elif vs is not None:
        out.append(_codes_table(vs))
    _print(*out)


@bds_app.command()
def rubriek(code: str = typer.Argument(..., help="Rubriek, e.g. R041."),
            bds: str = VersionOpt, fmt: Format = FormatOpt) -> None:
    """Show a rubriek with its groepen and elements."""
    cat = _catalogue(bds)
    r = cat.rubriek(code)
    if r is None:
        _fail(f"rubriek {code!r} is not in BDS {cat.version}")
    if fmt is Format.json:
        _emit_json(r.as_dict() | {"fallbacks": list(r.fallbacks)})
        return
    rows = [("name", _val(r.name, "name", r)), ("cardinality", _val(_card(r.cardinality), "cardinality", r)),
            ("HL7 template", _val(r.template_id, "template_id", r))]
    _print(_facts_table(f"BDS {cat.version} rubriek {r.code}", rows), _members(cat, r.elements, r.groepen))


@bds_app.command()
def groep(code: str = typer.Argument(..., help="Groep, e.g. G076."),
          bds: str = VersionOpt, fmt: Format = FormatOpt) -> None:
    """Show a groep with its elements and nested groepen."""
    cat = _catalogue(bds)
    g = cat.groep(code)
    if g is None:
        _fail(f"groep {code!r} is not in BDS {cat.version}")
    if fmt is Format.json:
        _emit_json(g.as_dict() | {"fallbacks": list(g.fallbacks)})
        return
    rows = [("name", _val(g.name, "name", g)), ("status", _val(g.status, "status", g)),
            ("rubriek", _val(g.rubriek, "rubriek", g)), ("in groep", _val(g.parent, "parent", g)),
            ("cardinality", _val(_card(g.cardinality), "cardinality", g)),
            ("HL7 cardinality", _val(_card(g.hl7_cardinality), "hl7_cardinality", g))]
    _print(_facts_table(f"BDS {cat.version} groep {g.code}", rows), _members(cat, g.elements, g.groepen))


def _members(cat: Catalogue, elements: tuple[int, ...], groepen: tuple[str, ...]) -> Any:
    from rich.table import Table

    from rich.markup import escape

    table = Table(title="members", title_justify="left")
    for col in ("code", "name", "cardinality", "datatype", "unit", "value set"):
        table.add_column(col)
    for code in groepen:
        g = cat.groep(code)
        table.add_row(code, escape(g.name or "") if g else "", _card(g.cardinality) if g else "", "groep", "", "")
    for number in elements:
        e = cat.element(number)
        if e:
            table.add_row(str(number), escape(e.name or ""), _card(e.cardinality), e.datatype or "", e.unit or "",
                          e.valueset or "")
    return table


@bds_app.command()
def valueset(w: str = typer.Argument(..., help="W-domain, e.g. W0422."),
             bds: str = VersionOpt, fmt: Format = FormatOpt) -> None:
    """Show a value domain in both flavours (BDS and HL7 codes, code systems, display names)."""
    cat = _catalogue(bds)
    vs = cat.valueset(w)
    if vs is None:
        _fail(f"value set {w!r} is not known for BDS {cat.version}")
    if fmt is Format.json:
        _emit_json(vs.as_dict())
        return
    rows = [("BDS flavour", f"{vs.bds_oid} (code system {vs.bds_code_system})" if vs.bds else "—"),
            ("HL7 flavour", f"{vs.hl7_oid} (code systems {', '.join(vs.hl7_code_systems) or '—'})" if vs.hl7 else "—"),
            ("null flavors", ", ".join(sorted(vs.null_flavors)) or "—")]
    _print(_facts_table(f"BDS {cat.version} value set {vs.w} {vs.name or ''}", rows), _codes_table(vs))


@bds_app.command("diff")
def diff_cmd(old: str = typer.Argument(..., help="Older BDS version, e.g. 4.1.3."),
             new: str = typer.Argument(..., help="Newer BDS version, e.g. 4.2.0."),
             fmt: Format = FormatOpt) -> None:
    """Elements, groepen, rubrieken and value sets added, removed, deprecated or renamed."""
    from rich.markup import escape

    from ..standards.catalogue import diff

    d = diff(_catalogue(old), _catalogue(new))
    if fmt is Format.json:
        _emit_json(d.as_dict())
        return
    lines = [f"[bold]BDS {d.old} → {d.new}[/bold]"]
    for label, items in (("elements added", d.elements_added), ("elements removed", d.elements_removed),
                         ("elements deprecated", d.elements_deprecated),
                         ("elements no longer deprecated", d.elements_undeprecated),
                         ("groepen added", d.groepen_added), ("groepen removed", d.groepen_removed),
                         ("groepen deprecated", d.groepen_deprecated), ("rubrieken added", d.rubrieken_added),
                         ("rubrieken removed", d.rubrieken_removed), ("value sets changed", d.valuesets_changed),
                         ("value sets known in one version only", d.valuesets_unknown)):
        lines.append(f"{label} ({len(items)}): {', '.join(map(str, items)) or '—'}")
    for label, renames in (("elements renamed", d.elements_renamed), ("groepen renamed", d.groepen_renamed),
                           ("rubrieken renamed", d.rubrieken_renamed)):
        lines.append(f"{label} ({len(renames)}):")
        lines += [escape(f"  {code}: {a!r} → {b!r}") for code, a, b in renames]
    lines += [f"[yellow]note:[/yellow] {n}" for n in d.notes]
    _print(*lines)
