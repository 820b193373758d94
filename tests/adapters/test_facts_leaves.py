"""Nothing a Nictiz message says is lost unseen on the way through the BDS facts (the path of
every vendor format and of FHIR Bundles read back): a dossier read into facts and built again
in its own BDS version breaks no rule the original kept, and keeps every value, code and text of
its payload unless the facts path reports an element it could not read or place.

Compared: the leaf content below careProvisionEvent without what a rebuilt message writes anew
or in its own spelling (ids, templateIds, display names, class/mood/type codes, the dossier's
end date from the envelope).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from lxml import etree

from jgz_gateway.adapters.from_dossier import extract
from jgz_gateway.adapters.to_dossier import BuildError, Envelope, build
from jgz_gateway.standards.convert import convert_bytes
from jgz_gateway.standards.hl7v3 import read_message, write_message
from jgz_gateway.standards.validation import validate_bytes

from ..conftest import ref_id, reference_messages

H = "{urn:hl7-org:v3}"
ENVELOPE = Envelope(created=dt.datetime(2025, 6, 1, 12), ura="00001111")
STRUCTURAL = {"displayName", "codeSystemName", "codeSystemVersion", "classCode", "moodCode", "typeCode",
              "determinerCode", "contextConductionInd", "negationInd", "inversionInd", "contextControlCode",
              "root", "extension", "codeSystem"}
#: What the facts do not hold and need not: an organisation without name or id is not written
#: (its nullFlavor NI id).
NOTHING_SAID = {("representedOrganization/id", "nullFlavor", "NI")}
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
#: Reported elements and the leaves they account for: the gemeente (9) of the address, a date of
#: death (21) that is masked.
EXPLAINED = {9: ("addr/county",), 21: ("patientPerson/deceasedInd", "patientPerson/deceasedTime")}


def says_nothing(obs) -> bool:
    """An element observation with an empty value and nothing else (184 in the R023 test message,
    itself a dtr1-1-BIN error)."""
    value = obs.find(H + "value")
    others = [c for c in obs if c.tag not in (H + "templateId", H + "code", H + "value")]
    return (value is not None and not others and set(value.attrib) <= {XSI_TYPE} and len(value) == 0
            and not (value.text or "").strip())


def payload(data: bytes) -> Counter:
    root = etree.fromstring(data)
    event = next(root.iter(H + "careProvisionEvent"))
    end = event.find(H + "effectiveTime")  # the dossier's end date: the envelope's
    out: Counter = Counter()
    silent = {x for obs in event.iter(H + "observation") if says_nothing(obs) for x in obs.iter()}
    for el in event.iter(etree.Element):
        if el.tag == H + "templateId" or (end is not None and el in end.iter()) or el in silent:
            continue
        path = "/".join([etree.QName(el.getparent()).localname, etree.QName(el).localname])
        for name, value in el.attrib.items():
            if etree.QName(name).localname not in STRUCTURAL:
                out[(path, etree.QName(name).localname, value)] += 1
        if el.text and el.text.strip():  # base64 content: its line breaks carry nothing
            out[(path, "#", "".join(el.text.split()) if el.get("representation") == "B64" else el.text.strip())] += 1
    return out


@pytest.mark.parametrize("path", reference_messages(), ids=ref_id)
def test_a_dossier_through_the_facts_keeps_what_it_says_or_reports_it(path):
    data = path.read_bytes()
    dossier = read_message(data)
    if dossier.interaction == "REPC_IN902120NL":  # read as BDS 4.1.3 (the version converter)
        data = convert_bytes(data, "4.1.3")[0]
        dossier = read_message(data)
    record, unread = extract(dossier, "K")
    try:
        again, dropped = build(record, dossier.bds_version, ENVELOPE)
    except BuildError as exc:  # a defect of the message itself (R047: a G058 without 483)
        assert exc.element is not None and validate_bytes(data).errors
        return
    rebuilt = write_message(again)
    new_errors = {f.rule for f in validate_bytes(rebuilt).errors} - {f.rule for f in validate_bytes(data).errors}
    assert not new_errors
    reported = set(unread) | set(dropped)
    if reported - set(EXPLAINED):
        return  # reported: the migration summary names these elements
    explained = {path for n in reported for path in EXPLAINED[n]}
    lost = {k: n for k, n in (payload(data) - payload(rebuilt)).items()
            if (k[0], k[1], k[2]) not in NOTHING_SAID and k[0] not in explained}
    assert not lost
