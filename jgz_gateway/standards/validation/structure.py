"""Structural layer: XML Schema validation of the DOB against the Nictiz XSDs.

REPC_IN902120NL (BDS 3.2) and REPC_IN902120NL03 (BDS 4.0–4.1) have public schemas.
REPC_IN902120NL04 (BDS 4.2.0) has none. NL04 kept the NL03 message model (the
same CMET REPC_MT902000NL03 structure: the 4.2.0 changes are new BDS element
codes, value sets and templates, which the XSD does not constrain), so an NL04
message is checked against the NL03 schema under the NL03 root name. Every
published NL04 message (the JGZ 8.0 qualification and change-request tests)
validates that way. A violation is reported as an error: it breaks the
message model NL04 shares with NL03.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from lxml import etree

from ..findings import Finding
from ..xmlsafe import HL7_NS, xpath_of
from .context import bds_element_of

#: Interaction → schema file it is checked against.
SCHEMA_FOR = {
    "REPC_IN902120NL": "REPC_IN902120NL.xsd",
    "REPC_IN902120NL03": "REPC_IN902120NL03.xsd",
    "REPC_IN902120NL04": "REPC_IN902120NL03.xsd",
    "MCCI_IN000002": "MCCI_IN000002.xsd",
}
#: Root renamed for the check (NL04 under the NL03 schema).
CHECK_AS = {"REPC_IN902120NL04": "REPC_IN902120NL03"}


@cache
def schema(filename: str) -> etree.XMLSchema:
    """Load (once) a shipped schema; its includes resolve inside the package only."""
    folder = resources.files("jgz_gateway.standards") / "data" / "schemas" / "hl7v3_schemas"
    path = folder / filename
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


def check_schema(root: etree._Element, interaction: str) -> list[Finding]:
    """XSD findings for ``root`` (errors), located by XPath and BDS element."""
    xsd = schema(SCHEMA_FOR[interaction])
    renamed = CHECK_AS.get(interaction)
    original_tag = root.tag
    if renamed:
        root.tag = f"{{{HL7_NS}}}{renamed}"
    try:
        if xsd.validate(root):
            return []
        errors = list(xsd.error_log)
    finally:
        root.tag = original_tag
    findings = []
    for err in errors:
        el = _element_at(root, err.path)
        message = err.message
        if renamed:
            message = message.replace(renamed, interaction)
        findings.append(
            Finding(
                severity="error",
                rule=f"xsd:{err.type_name}",
                xpath=xpath_of(el) if el is not None else (err.path or "/"),
                message=f"line {err.line}: {message}",
                element=bds_element_of(el) if el is not None else None,
            )
        )
    return findings


def _element_at(root: etree._Element, path: str | None):
    if not path:
        return None
    try:
        found = root.getroottree().xpath(path)
    except etree.XPathError:
        return None
    return found[0] if found and isinstance(found[0], etree._Element) else None
