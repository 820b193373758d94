"""MCCI_IN000002: what the receiver answers; valid against the published XSD."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from jgz_gateway.standards.hl7v3.ack import Ack, AckError, Detail, build_ack, parse_ack

from .conftest import SCHEMAS

PACKAGED = Path(__file__).resolve().parents[2] / "jgz_gateway" / "standards" / "data" / "schemas" / "hl7v3_schemas"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    base = PACKAGED if (PACKAGED / "MCCI_IN000002.xsd").exists() else SCHEMAS
    return etree.XMLSchema(etree.parse(str(base / "MCCI_IN000002.xsd")))


def _ack(code="CA", details=()):
    return build_ack(code=code, message_id=("2.16.528.1.1007.3.3.12345678.2", "a-1"),
                     target_id=("2.16.528.1.1007.3.3.1111.1", "1243567"), creation_time="20261123101500",
                     sender_app="12345678", receiver_app="00001111", details=details)


@pytest.mark.parametrize("code", ["CA", "CE", "CR"])
def test_valid_against_xsd_and_round_trips(schema, code):
    details = () if code == "CA" else (Detail("JGZ-SIG-INVALID", "signature does not verify", "/hl7:REPC_IN902120NL04"),
                                       Detail("TC00235", "length outside range"))
    data = _ack(code, details)
    schema.assertValid(etree.fromstring(data))
    ack = parse_ack(data)
    assert ack == Ack(code, ("2.16.528.1.1007.3.3.12345678.2", "a-1"), ("2.16.528.1.1007.3.3.1111.1", "1243567"),
                      "20261123101500", "12345678", "00001111", tuple(details))
    assert ack.accepted is (code == "CA")
    root = etree.fromstring(data)
    ns = {"h": "urn:hl7-org:v3"}
    assert root.find("h:acceptAckCode", ns).get("code") == "NE"
    assert root.find("h:profileId", ns).get("extension") == "810"
    assert root.find("h:versionCode", ns).get("code") == "NICTIZEd2005-Okt"
    assert all(d.get("typeCode") == "E" for d in root.iterfind(".//h:acknowledgementDetail", ns))


def test_bad_code_refused():
    with pytest.raises(ValueError):
        _ack("AA")


@pytest.mark.parametrize("data, why", [
    (b"<html/>", "expected an MCCI_IN000002"),
    (b"not xml", "not acceptable XML"),
    (b'<!DOCTYPE x [<!ENTITY a "b">]><MCCI_IN000002 xmlns="urn:hl7-org:v3"/>', "not acceptable XML"),
    (b'<MCCI_IN000002 xmlns="urn:hl7-org:v3"><acknowledgement typeCode="OK"/></MCCI_IN000002>', "one of CA, CE, CR, AA"),
    (b'<MCCI_IN000002 xmlns="urn:hl7-org:v3"><acknowledgement typeCode="CA"/></MCCI_IN000002>', "lacks id/@root"),
])
def test_parse_rejects(data, why):
    with pytest.raises(AckError, match=why):
        parse_ack(data)


def test_a_coded_detail_names_its_rule():
    """Peers may code a detail (AcknowledgementDetailCode, e.g. SYN105) instead of our "[rule] text"."""
    data = _ack("CR").replace(b"<targetMessage>", b'<acknowledgementDetail typeCode="E"><code code="SYN105" '
                              b'codeSystem="2.16.840.1.113883.5.1100"/><text>Required element missing</text>'
                              b'</acknowledgementDetail><targetMessage>')
    assert parse_ack(data).details == (Detail("SYN105", "Required element missing", None),)
