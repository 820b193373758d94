"""The census of element values in a dossier model (jgz_gateway.standards.census).

Checked against the message itself: per BDS element, the codes in the XML whose holder
carries a value (a ``value``, or the ``text`` of a conclusion or annotation, with content
other than its type and not NI) — on every reference message, and on messages with
observations where no schema allows them (which the model keeps verbatim).
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from lxml import etree

from jgz_gateway.standards.census import valued_elements
from jgz_gateway.standards.hl7v3 import read_message

from ..conftest import REFERENCE, ref_id, reference_messages

H = "{urn:hl7-org:v3}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
ELEMENT = "2.16.840.1.113883.2.4.4.40.267"


def valued_in_xml(root) -> Counter:
    found: Counter = Counter()
    for code in root.iter(H + "code"):
        number = code.get("code") or ""
        holder = code.getparent()
        if code.get("codeSystem") != ELEMENT or not number.isdecimal() or etree.QName(holder).localname == "nonBDSData":
            continue
        content = holder.find(H + "value")
        content = content if content is not None else holder.find(H + "text")
        if content is None or content.get("nullFlavor") == "NI":
            continue
        if set(content.attrib) - {XSI_TYPE} or "".join(content.itertext()).strip() or len(content):
            found[int(number)] += 1
    return found


@pytest.mark.parametrize("path", reference_messages(), ids=ref_id)
def test_census_counts_what_the_message_holds(path):
    data = path.read_bytes()
    assert valued_elements(read_message(data)) == valued_in_xml(etree.fromstring(data))


def test_census_finds_observations_wherever_the_model_keeps_them():
    """Moved into another observation's value, code or id, or with text in its code: the
    model keeps them verbatim or untyped, and the census still counts each value."""
    root = etree.fromstring((REFERENCE / "ada" / "hl7" / "DOB-3.0.0-qual-versturen-XXX_Caarls-hl7.xml").read_bytes())
    observations = [o for o in root.iter(H + "observation") if o.find(H + "value") is not None
                    and (o.find(H + "code").get("codeSystem") == ELEMENT)]
    rng = random.Random(5)
    movers = rng.sample(observations, 12)
    hosts = [o for o in observations if o not in movers]
    for i, obs in enumerate(movers):
        if i % 4 == 3:
            obs.find(H + "code").text = "text where none belongs"
            continue
        obs.getparent().getparent().remove(obs.getparent())
        rng.choice(hosts).find(H + ("value", "code", "templateId")[i % 4]).append(obs)
    data = etree.tostring(root)
    before = valued_in_xml(etree.fromstring(data))
    assert valued_elements(read_message(data)) == before
    assert sum(before.values()) == sum(valued_in_xml(etree.fromstring(
        (REFERENCE / "ada" / "hl7" / "DOB-3.0.0-qual-versturen-XXX_Caarls-hl7.xml").read_bytes())).values())
