"""The XML Schema layer: NL04 under its derived schema, and the check on a worker thread."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from lxml import etree

from jgz_gateway.standards.validation import validate_bytes
from jgz_gateway.standards.validation.structure import check_schema, schema
from jgz_gateway.standards.xmlsafe import HL7_NS, parse_bytes

H = "{" + HL7_NS + "}"


def _nl04(reference):
    return (reference / "hl7v3/examples/nl04-jgz8.0/DOB-4.0.0-KWAL_versturen_hl7.xml").read_bytes()


def test_nl04_has_a_root_of_its_own_with_the_nl03_message_model(reference):
    root = parse_bytes(_nl04(reference)).getroot()
    assert check_schema(root, "REPC_IN902120NL04") == []
    # the NL03 schema itself knows no NL04 root: the derived schema adds exactly that
    assert not schema("REPC_IN902120NL03").validate(root)
    as_nl03 = parse_bytes(_nl04(reference).replace(b"REPC_IN902120NL04", b"REPC_IN902120NL03")).getroot()
    assert schema("REPC_IN902120NL03").validate(as_nl03)


def test_nl04_schema_fault_is_an_error_named_for_nl04_and_leaves_the_tree_alone(reference):
    root = parse_bytes(_nl04(reference)).getroot()
    root.find(H + "creationTime").addnext(etree.Element(H + "unexpected"))
    findings = check_schema(root, "REPC_IN902120NL04")
    assert [f.severity for f in findings] == ["error"]
    assert findings[0].rule == "xsd:SCHEMAV_ELEMENT_CONTENT"
    assert "'{urn:hl7-org:v3}unexpected': This element is not expected" in findings[0].message
    assert findings[0].xpath == "/hl7:REPC_IN902120NL04/hl7:unexpected"
    assert etree.QName(root).localname == "REPC_IN902120NL04"


def test_concurrent_validations_give_the_sequential_verdicts(reference):
    """Each thread has its own schema objects (an XMLSchema keeps its last error log)."""
    good = _nl04(reference)
    bad = (reference / "hl7v3/examples/nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R047_hl7.xml").read_bytes()
    inputs = [good, bad] * 6

    def verdict(data):
        report = validate_bytes(data)
        return [(f.rule, f.xpath, f.message) for f in report.findings]

    expected = [verdict(d) for d in inputs]
    assert any(rule.startswith("xsd:") for rule, _, _ in expected[1])
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(verdict, inputs)) == expected
