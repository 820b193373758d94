"""R014 pregnancy, R015 delivery and R016 the newborn as BDS facts → DOB → facts.

Every element the gateway places is filled at once: the message must pass the published
rules (XSD, templates 118 and 121) in both DOB versions and read back unchanged; what the
templates cannot hold is counted as dropped, never written invalid or lost silently.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest

from jgz_gateway.adapters import fhir
from jgz_gateway.adapters.from_dossier import extract
from jgz_gateway.adapters.record import Group, Repeated
from jgz_gateway.adapters.synth import generate
from jgz_gateway.adapters.to_dossier import build
from jgz_gateway.standards import perinatal as P
from jgz_gateway.standards.fhir import to_fhir
from jgz_gateway.standards.hl7v3 import read_message, write_message
from jgz_gateway.standards.summary import summarise
from jgz_gateway.standards.validation import validate_bytes

from .conftest import TODAY
from .test_dossier_facts import ENVELOPE, same_facts

EVERY = {
    82: Decimal(266), 88: Repeated(["01", "98"]), 91: "1", 92: "2", 93: "1", 745: Repeated(["01", "04"]), 619: "eerder sectio",
    740: 3, 741: 2, 1579: False, 1581: True,
    97: Decimal(420), 98: Decimal(35), 100: "07", 103: "02", 105: True, 1323: True, 106: "stuitbevalling",
    107: "kraamzorg thuis", 1324: "keizersnede",
    108: "nee", 110: Decimal(2890), 111: Decimal(2705), 112: Decimal(480), 113: Decimal(331), 115: True, 129: "6", 130: "9",
    626: "snel herstel", 131: "geen", 133: "goed", 134: "even ondersteund", 135: "moeizaam", 145: "geen",
    747: "01", 1340: "02", 140: "01", 142: "01", 137: "1", 138: "2", 629: "1", 144: "1",
}


@pytest.fixture
def record():
    (r,) = generate(1, 11, TODAY, start=3)
    r.facts.values = {n: v for n, v in r.facts.values.items() if n not in P.KNOWN} | copy.deepcopy(EVERY)
    r.facts.groups = [g for g in r.facts.groups if g.groep != "G109"]
    r.facts.groups.append(Group(groep="G109", values={1479: dt.date(2024, 1, 2), 1480: dt.date(2024, 1, 20)}))
    return r


@pytest.mark.parametrize("version", ["4.1.3", "4.2.0"])
def test_every_element_passes_the_published_rules_and_reads_back(record, version):
    assert set(EVERY) | {1479, 1480} == P.ELEMENTS
    dossier, dropped = build(record, version, ENVELOPE)
    assert not dropped
    message = write_message(dossier)
    report = validate_bytes(message)
    assert report.valid, [(f.rule, f.message) for f in report.errors][:5]
    assert not [f for f in report.findings if "Neonate" in f.rule or "Zwangerschap" in f.rule]
    again, unread = extract(read_message(message), record.key)
    assert not unread
    assert same_facts(again, record)
    assert {"R014", "R015", "R016"} <= set(summarise(read_message(message))["rubrieken"])


def test_what_the_templates_cannot_hold_is_counted_as_dropped(record):
    v = record.facts.values
    v.update({91: "3", 109: 1, 142: Repeated(["01", "02"]), 144: "3"})
    del v[93]  # 745 is a detail of 93
    dossier, dropped = build(record, "4.2.0", ENVELOPE)
    assert dropped == {91: 1, 745: 2, 109: 1, 142: 1, 144: 1}
    assert validate_bytes(write_message(dossier)).valid


@pytest.mark.parametrize("version", ["4.1.3", "4.2.0"])
def test_the_heel_prick_is_the_activity_heel_prick_and_reads_back(record, version):
    """R037 in the first contact: the encounter's heelPrick (template 133), valid, read back; a
    prick not taken carries its reason; a performer without the date cannot be written."""
    first, second = record.activities[0], record.activities[1]
    for a in (first, second):
        for n in (368, 370, 373, 374, 380, 381, 1411):
            a.values.pop(n, None)
    first.values.update({368: True, 373: "01", 374: dt.date(2024, 1, 5), 381: "3", 1411: "A. Kramer", 370: "RIVM-DVP"})
    second.values.update({368: False, 373: "02", 380: "03"})
    dossier, dropped = build(record, version, ENVELOPE)
    assert not dropped
    message = write_message(dossier)
    report = validate_bytes(message)
    assert report.valid and not [f for f in report.findings if "HeelPrick" in f.rule]
    again, unread = extract(read_message(message), record.key)
    assert not unread and same_facts(again, record)
    assert "R037" in summarise(read_message(message))["rubrieken"]
    second.values.pop(380)
    second.values[1411] = "zonder datum"
    dossier, dropped = build(record, version, ENVELOPE)
    assert dropped == {1411: 1}
    assert [f.rule for f in validate_bytes(write_message(dossier)).findings if "HeelPrick" in f.rule] == [
        "A_HeelPrick-universal"]  # TC04713, a warning: not taken, no reason given


def test_a_bundle_with_what_the_templates_cannot_hold_reports_it_when_loaded(record, tmp_path):
    """A Bundle from elsewhere may hold a second birth weight, a 109 (never sent: TC03294
    against the XML Schema) or an element Observation without a value: the FHIR adapter
    counts them as dropped instead of losing them silently."""
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    bundle, _ = to_fhir(dossier)
    weight = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
                  and _element_code(e["resource"]) == "110")
    again = copy.deepcopy(weight)
    again["fullUrl"] = "urn:uuid:00000000-0000-4000-8000-000000000110"
    again["resource"]["id"] = "00000000-0000-4000-8000-000000000110"
    multiple = copy.deepcopy(weight)
    multiple["fullUrl"] = "urn:uuid:00000000-0000-4000-8000-000000000109"
    multiple["resource"]["id"] = "00000000-0000-4000-8000-000000000109"
    multiple["resource"]["code"]["coding"][0].update(code="109", display="Volgnummer bij meerling")
    del multiple["resource"]["valueQuantity"]
    multiple["resource"]["valueInteger"] = 2
    empty = copy.deepcopy(multiple)
    empty["fullUrl"] = "urn:uuid:00000000-0000-4000-8000-000000000111"
    empty["resource"]["id"] = "00000000-0000-4000-8000-000000000111"
    empty["resource"]["code"]["coding"][0].update(code="111", display="Laagste gewicht")
    del empty["resource"]["valueInteger"]
    empty["resource"]["dataAbsentReason"] = {"text": "niet gemeten"}
    bundle["entry"] += [again, multiple, empty]
    path = tmp_path / "K.json"
    path.write_text(json.dumps(bundle))
    loaded = fhir.load(next(fhir.units(path)))
    lost = {k: v for k, v in loaded.dropped.items() if k in ("element 109", "element 110", "element 111")}
    assert lost == {"element 109": 1, "element 110": 1, "element 111": 1}
    assert extract(loaded.dossier, "K")[0].facts.values[110] == EVERY[110]


def _element_code(res: dict) -> str | None:
    return next((c.get("code") for c in (res.get("code") or {}).get("coding", [])
                 if c.get("system") == "urn:oid:2.16.840.1.113883.2.4.4.40.267"), None)


def test_a_second_stay_on_the_childrens_ward_is_counted_per_element(record):
    """The BDS has one G109: a second one's elements are dropped, one count each (they were
    added to the counts as their dates)."""
    record.facts.groups.append(Group(groep="G109", values={1479: dt.date(2024, 2, 2), 1480: dt.date(2024, 2, 9)}))
    _, dropped = build(record, "4.2.0", ENVELOPE)
    assert dropped == {1479: 1, 1480: 1}
