"""A message means the same however it is serialised: other namespace prefixes, encodings,
comments, whitespace, CDATA or character references change no finding and nothing read.

Vendors' messages differ from Nictiz's examples in exactly these ways (XML 1.0 and
Namespaces in XML make them equivalent), so a check that depends on one of them would
reject or misplace real messages that Nictiz's tooling accepts.
"""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from jgz_gateway.adapters.from_dossier import extract
from jgz_gateway.standards.hl7v3 import read_message
from jgz_gateway.standards.validation import validate_bytes
from jgz_gateway.standards.xmlsafe import parse_bytes

from ..conftest import ref_id, reference_messages


HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI}}}type"

#: An NL03 and two NL04 messages; the first two fail the XML Schema (their findings
#: carry an XPath and a BDS element resolved from libxml2's error path).
MESSAGES = [
    "hl7v3/examples/nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R047_hl7.xml",
    "hl7v3/examples/nl04-jgz8.0-qual-templates/DOB-4.0.0-KWAL_versturen_hl7.xml",
    "hl7v3/examples/nl04-jgz8.0/DOB-4.0.0-R012-CR_test_JGZ-106_hl7.xml",
]


def _serialise(root, **options) -> bytes:
    return etree.tostring(root, xml_declaration=True, **{"encoding": "UTF-8", **options})


def prefixed(data: bytes) -> bytes:
    """The HL7 namespace bound to the prefix ``hl7:`` instead of being the default
    (``xsi:type`` values, which are QNames, follow)."""
    def rebuilt(el, parent):
        if not isinstance(el.tag, str):
            new = copy.copy(el)
            parent.append(new)
            return
        new = etree.Element(el.tag, nsmap={"hl7": HL7, "xsi": XSI}) if parent is None else etree.SubElement(parent, el.tag)
        for name, value in el.attrib.items():
            new.set(name, f"hl7:{value}" if name == XSI_TYPE and ":" not in value else value)
        new.text, new.tail = el.text, el.tail
        for child in el:
            rebuilt(child, new)
        return new

    return _serialise(rebuilt(etree.fromstring(data), None))


def commented(data: bytes) -> bytes:
    """A comment first and a processing instruction last in every element."""
    root = etree.fromstring(data)
    for el in list(root.iter(etree.Element)):
        el.insert(0, etree.Comment(" vendor note "))
        el.append(etree.ProcessingInstruction("vendor", "x"))
    return _serialise(root)


def split_by_comments(data: bytes) -> bytes:
    """Every text value of two characters or more split by a comment (``Ja<!-- -->nsen``)."""
    root = etree.fromstring(data)
    for el in list(root.iter(etree.Element)):
        text = el.text
        if text and len(text.strip()) > 1 and len(el) == 0:
            half = len(text) // 2
            el.text = text[:half]
            comment = etree.Comment(" split ")
            comment.tail = text[half:]
            el.append(comment)
    return _serialise(root)


def cdata(data: bytes) -> bytes:
    root = etree.fromstring(data)
    for el in root.iter(etree.Element):
        if el.text and el.text.strip() and len(el) == 0:
            el.text = etree.CDATA(el.text)
    return _serialise(root)


def _compact(data: bytes):
    return etree.fromstring(data, etree.XMLParser(remove_blank_text=True))


VARIANTS = {
    "hl7-prefix": prefixed,
    "utf-16": lambda d: _serialise(etree.fromstring(d), encoding="UTF-16"),
    "iso-8859-1": lambda d: _serialise(etree.fromstring(d), encoding="ISO-8859-1"),
    "ascii-character-references": lambda d: _serialise(etree.fromstring(d), encoding="US-ASCII"),
    "comments-and-pis": commented,
    "text-split-by-comments": split_by_comments,
    "cdata": cdata,
    "no-whitespace": lambda d: _serialise(_compact(d)),
    "re-indented": lambda d: _serialise(_compact(d), pretty_print=True),
    "byte-order-mark-crlf": lambda d: b"\xef\xbb\xbf" + d.replace(b"\n", b"\r\n"),
}


def _findings(data: bytes):
    return sorted((f.severity, f.rule, f.xpath, f.element) for f in validate_bytes(data).findings)


def _dossier(data: bytes):
    return read_message(parse_bytes(data))


@pytest.fixture(scope="module")
def originals(reference):
    return {name: (reference / name).read_bytes() for name in MESSAGES}


@pytest.fixture(scope="module")
def expected(originals):
    return {name: (_findings(data), _dossier(data)) for name, data in originals.items()}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", MESSAGES, ids=lambda n: n.rsplit("/", 1)[1])
def test_a_reserialised_message_gives_the_same_findings_and_facts(originals, expected, name, variant):
    data = VARIANTS[variant](originals[name])
    assert data != originals[name]
    findings, dossier = expected[name]
    assert _findings(data) == findings
    read = _dossier(data)
    if variant == "hl7-prefix":  # the dossier keeps each xsi:type as written ("hl7:CV"): compare the facts
        assert extract(read, "k") == extract(dossier, "k")
    else:
        assert read == dossier


def test_schema_findings_of_a_prefixed_message_name_xpath_and_element(originals):
    """libxml2 writes the error path with the document's own prefixes (``/hl7:REPC…``); it
    must still resolve to the element, its canonical XPath and its BDS element."""
    data = prefixed(originals[MESSAGES[1]])
    assert b"<hl7:REPC_IN902120NL04" in data
    schema = [f for f in validate_bytes(data).findings if f.rule.startswith("xsd:")]
    assert schema and all(f.element for f in schema if "/observation/" in f.xpath)
    assert {f.element for f in schema} >= {"1533", "1345"}


@pytest.mark.parametrize("variant", ["hl7-prefix", "text-split-by-comments"])
@pytest.mark.parametrize("path", reference_messages(), ids=ref_id)
def test_every_reference_message_reads_the_same_reserialised(path, variant):
    """The two variants that reach furthest (QName values, text nodes) over every published message."""
    data = path.read_bytes()
    again = VARIANTS[variant](data)
    assert _findings(again) == _findings(data)
    assert extract(_dossier(again), "k") == extract(_dossier(data), "k")
