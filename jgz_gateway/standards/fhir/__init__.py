"""A FHIR R4 view of a dossier, and back (see :mod:`.view` for what maps to what).

    bundle, coverage = to_fhir(dossier)      # plain JSON-ready dicts
    validate(bundle)                         # fhir.resources (R4B models); raises FhirError
    dossier = from_fhir(bundle)
    dossier, unplaced = from_fhir_report(bundle)   # and per BDS element, what had no place
    bundle = bundle_of_bytes(data)           # a Bundle file in FHIR JSON or FHIR XML

fhir.resources is imported only by :func:`validate`, so the CLI starts fast.
"""

from __future__ import annotations

from collections import Counter

from ..census import valued_elements
from .read import FhirError, read_bundle_report
from .view import View

__all__ = ["FhirError", "bundle_of_bytes", "from_fhir", "from_fhir_report", "to_fhir", "validate"]

FHIR_NS = "http://hl7.org/fhir"


def bundle_of_bytes(data: bytes) -> dict:
    """A Bundle file as JSON-ready dicts, whether FHIR JSON or FHIR XML (Nictiz publishes
    nl-core in XML). Both are untrusted input: JSON through :mod:`..jsonsafe`, XML through the
    hardened parser before the FHIR models read it (with that parser). Raises
    :class:`FhirError` naming the problem, for XML also where."""
    from lxml import etree

    from .. import jsonsafe, xmlsafe

    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] != b"<":
        try:
            return jsonsafe.loads(data)
        except jsonsafe.JsonRejected as exc:
            raise FhirError(exc.message, "$") from None
    try:
        tree = xmlsafe.parse_bytes(data)
    except xmlsafe.XmlRejected as exc:
        raise FhirError(exc.message, f"line {exc.line}" if exc.line else "/") from None
    root = tree.getroot()
    if root.tag != f"{{{FHIR_NS}}}Bundle":
        raise FhirError(f"expected a FHIR Bundle (element Bundle in {FHIR_NS}), found {root.tag!r}", "/")
    return _from_xml(etree.tostring(tree))


def _from_xml(data: bytes) -> dict:
    import json

    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    from .. import xmlsafe

    try:
        return json.loads(Bundle.model_validate_xml(data, xmlparser=xmlsafe.hardened_parser(huge=True)).model_dump_json())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "Bundle" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        raise FhirError(f"{first['msg']} ({exc.error_count()} problem(s))", where) from None
    except (ValueError, TypeError, KeyError) as exc:  # what the FHIR XML reader raises on odd content
        raise FhirError(f"not a readable FHIR XML Bundle: {exc}", "/Bundle") from None


def to_fhir(dossier, *, check: bool = True) -> tuple[dict, dict]:
    """The dossier as a Bundle (dict) and the coverage report; validated unless ``check=False``.

    A BDS 3.2 dossier is shown as BDS 4.1.3, through the version converter: the view speaks
    the BDS 4 message structures (consents, care status, activity status)."""
    converted = None
    if str(dossier.bds_version).startswith("3."):
        from ..convert import convert

        dossier, converted = convert(dossier, "4.1.3")
    view = View(dossier)
    bundle = view.build()
    for change in converted.of("dropped", "moved") if converted else ():
        if change.element and change.element.isdecimal():  # in the message, not a BDS 4 element of the view
            view.cov.seen(change.element)
    # Values the view did not even see (kept where no schema allows them): unmapped, not lost.
    for number, count in (valued_elements(dossier) - _seen(view.cov)).items():
        view.cov.seen(number, count)
    if check:
        validate(bundle)
    return bundle, view.cov.report(view.cat.version)


def _seen(coverage) -> Counter:
    return Counter({int(k): n for k, n in coverage.present.items() if k.isdecimal()})


def from_fhir(bundle: dict):
    """A Bundle made by :func:`to_fhir` (or shaped like one) as a canonical Dossier.

    The reader sees the Bundle as the FHIR models understood it (``null`` gone, a number
    where a date belongs made a date), so what passes validation cannot trip it."""
    return from_fhir_report(bundle)[0]


def from_fhir_report(bundle: dict):
    """:func:`from_fhir`, and per BDS element the count of the Bundle's values the dossier
    has no place for (see :func:`.read.read_bundle_report`)."""
    return read_bundle_report(_checked(bundle, read=True))


def validate(bundle: dict) -> None:
    """Check the Bundle against the FHIR R4B models; a problem is a :class:`FhirError`."""
    _checked(bundle, read=False)


def _checked(bundle: dict, read: bool) -> dict | None:
    """Check the Bundle; with ``read``, return it as the FHIR R4B models read it (that
    costs as much again as the check, so the view's own Bundles are only checked).

    The Bundle shell and each resource are validated with their own model class: the same
    checks as validating the whole Bundle, without its per-entry class look-up (a fifth
    of the time on a large dossier). The models accept empty elements, which FHIR forbids
    (ele-1) and ``null``, which FHIR JSON never has; those are checked first.
    """
    import json

    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    def check(model, data, where: str) -> dict | None:
        try:
            valid = model.model_validate(data)
            return json.loads(valid.model_dump_json()) if read else None
        except ValidationError as exc:
            first = exc.errors()[0]
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
            raise FhirError(f"{first['msg']} ({exc.error_count()} problem(s))", f"{where}{path}") from None

    if not isinstance(bundle, dict) or not isinstance(bundle.get("entry", []), list):
        check(Bundle, bundle, "Bundle")
    empty = _first_empty(bundle, "Bundle")
    if empty:
        raise FhirError("null, or an empty object, array or string (FHIR ele-1: every element has a value "
                        "or children)", empty)
    entries = bundle.get("entry") or []
    shell = {**bundle, "entry": [{k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e
                                 for e in entries]} if entries else bundle
    seen = check(Bundle, shell, "Bundle")
    models: dict = {}
    for i, entry in enumerate(entries):
        res = entry.get("resource")
        if res is None:
            continue
        kind = res.get("resourceType") if isinstance(res, dict) else None
        try:
            model = models.get(kind) or models.setdefault(kind, get_fhir_model_class(kind))
        except (KeyError, TypeError, ValueError):
            raise FhirError(f"unknown resourceType {kind!r}", f"Bundle.entry[{i}].resource") from None
        resource = check(model, res, f"Bundle.entry[{i}].resource")
        if read:
            seen["entry"][i]["resource"] = resource
    return seen


def _first_empty(value, where: str) -> str | None:
    """The path of the first null, empty object, array or string in ``value`` (the models accept them)."""
    if isinstance(value, dict):
        items = ((f"{where}.{k}", v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for path, v in items:
        if v is None or v in ({}, [], ""):
            return path
        found = _first_empty(v, path)
        if found:
            return found
    return None
