"""Structural layer: XML Schema validation of the DOB against the Nictiz XSDs.

REPC_IN902120NL (BDS 3.2) and REPC_IN902120NL03 (BDS 4.0–4.1) have public schemas.
REPC_IN902120NL04 (BDS 4.2.0) has none. NL04 kept the NL03 message model (the
same CMET REPC_MT902000NL03 structure: the 4.2.0 changes are new BDS element
codes, value sets and templates, which the XSD does not constrain), so the NL04
schema is derived from the NL03 one when it is loaded: the same document with one
more global element, ``REPC_IN902120NL04``, of the NL03 root's type
(``MCCI_MT000100.Message``). Every published NL04 message (the JGZ 8.0
qualification and change-request tests) validates that way. A violation is
reported as an error: it breaks the message model NL04 shares with NL03.

libxml2 validates without Python's lock and without touching the tree, so
:func:`start_schema_check` runs the check on a worker thread while the rule layers
(pure Python) read the same tree; :func:`check_schema` is the same check, waited for.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import resources

from lxml import etree

from ..findings import Finding
from ..xmlsafe import xpath_of
from .context import bds_element_of

XS = "http://www.w3.org/2001/XMLSchema"

#: Interaction → the shipped schema file its schema is loaded from.
SCHEMA_FOR = {
    "REPC_IN902120NL": "REPC_IN902120NL.xsd",
    "REPC_IN902120NL03": "REPC_IN902120NL03.xsd",
    "REPC_IN902120NL04": "REPC_IN902120NL03.xsd",
    "MCCI_IN000002": "MCCI_IN000002.xsd",
}
#: Interactions whose root element the shipped file lacks: declared with the type of its root.
DERIVED_ROOT = {"REPC_IN902120NL04": "REPC_IN902120NL03"}

_local = threading.local()  # XMLSchema objects keep their error log: one set per thread


def schema(interaction: str) -> etree.XMLSchema:
    """The schema for an interaction, loaded once per thread; includes resolve inside the package."""
    cache = getattr(_local, "schemas", None)
    if cache is None:
        cache = _local.schemas = {}
    xsd = cache.get(interaction)
    if xsd is None:
        xsd = cache[interaction] = _load(interaction)
    return xsd


def _load(interaction: str) -> etree.XMLSchema:
    folder = resources.files("jgz_gateway.standards") / "data" / "schemas" / "hl7v3_schemas"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    doc = etree.parse(str(folder / SCHEMA_FOR[interaction]), parser)
    like = DERIVED_ROOT.get(interaction)
    if like:
        top = doc.getroot()
        original = top.find(f"{{{XS}}}element[@name='{like}']")
        derived = etree.SubElement(top, f"{{{XS}}}element", name=interaction, type=original.get("type"))
        original.addnext(derived)
    return etree.XMLSchema(doc)


_pool: tuple[int, ThreadPoolExecutor] | None = None


def _executor() -> ThreadPoolExecutor:
    """One worker thread per process (a forked child starts its own)."""
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="jgz-xsd"))
    return _pool[1]


def start_schema_check(root: etree._Element, interaction: str) -> Future:
    """Begin :func:`check_schema` on the worker thread; the tree must not change until it is done."""
    return _executor().submit(check_schema, root, interaction)


def check_schema(root: etree._Element, interaction: str) -> list[Finding]:
    """XSD findings for ``root`` (errors), located by XPath and BDS element."""
    xsd = schema(interaction)
    if xsd.validate(root):
        return []
    findings = []
    prefixes = _prefixes(root)
    for err in xsd.error_log:
        el = _element_at(root, err.path, prefixes)
        findings.append(
            Finding(
                severity="error",
                rule=f"xsd:{err.type_name}",
                xpath=xpath_of(el) if el is not None else (err.path or "/"),
                message=f"line {err.line}: {err.message}",
                element=bds_element_of(el) if el is not None else None,
            )
        )
    return findings


def _prefixes(root: etree._Element) -> dict[str, str]:
    """The namespace prefixes the message declares: libxml2 writes an error's path with
    them (``/hl7:REPC_IN902120NL04/hl7:ControlActProcess``), so resolving it needs them."""
    found: dict[str, str] = {}
    for prefix, uri in root.xpath("descendant-or-self::*/namespace::*"):
        if prefix:
            found.setdefault(prefix, uri)
    return found


def _element_at(root: etree._Element, path: str | None, prefixes: dict[str, str]):
    if not path:
        return None
    try:
        found = root.getroottree().xpath(path, namespaces=prefixes)
    except etree.XPathError:
        return None
    return found[0] if found and isinstance(found[0], etree._Element) else None
