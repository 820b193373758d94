"""R011 beyond the parents through the facts path: brothers and sisters (G018), the child's own
children (G078), households (G077, Woonverband), custody (631), a parent's spoken language,
remarks and dates (1191, 1322, 1367, 72, 670) and low literacy (707).

One personalRelationship template (R_PatientNL_JGZ) serves parents, siblings and children;
the relationship code tells them apart (W0096, W0108, HL7's child roles). Before, every
personalRelationship was read as a parent: a brother was migrated as a parent with code
"SIB", which the builder then refused, so the whole dossier failed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest

from jgz_gateway.adapters.from_dossier import extract
from jgz_gateway.adapters.record import Group, Repeated
from jgz_gateway.adapters.to_dossier import build
from jgz_gateway.standards.fhir import to_fhir
from jgz_gateway.standards.fhir.read import read_bundle
from jgz_gateway.standards.hl7v3 import read_message, write_message
from jgz_gateway.standards.validation import validate_bytes

from .test_dossier_facts import (
    ENVELOPE,
    built_and_read_back,
    small_record,
    through_vendor_format,
)

D = dt.date
BASE = "hl7v3/examples/nl03-jgz7.0/DOB-3.0.0_JGZ-base_hl7.xml"

#: Written by hand from the template: a brother (HL7 RoleCode SIB, W0108 01) in the household
#: of the child, with a remark (78); the child's household (asMember/group, W0094) and custody.
SIBLING = b"""<personalRelationship classCode="PRS">
  <code code="SIB" codeSystem="2.16.840.1.113883.5.111" displayName="Broer of zus"/>
  <relationshipHolder1 classCode="PSN" determinerCode="INSTANCE">
    <name use="OR"><given>Piet</given><family>Jansen</family></name>
    <administrativeGenderCode code="M" codeSystem="2.16.840.1.113883.5.1"/>
    <birthTime value="20150101"/>
    <asMember classCode="MBR"><group classCode="ORG" determinerCode="INSTANCE">
      <id extension="H-17" root="2.16.840.1.113883.2.4.3.11.999.77"/></group></asMember>
  </relationshipHolder1>
  <subjectOf typeCode="SBJ"><personalRelationshipObservation classCode="OBS" moodCode="EVN">
    <code code="78" codeSystem="2.16.840.1.113883.2.4.4.40.267"/><value xsi:type="ST">astma</value>
  </personalRelationshipObservation></subjectOf>
</personalRelationship>"""
HOUSEHOLD = b"""<asMember classCode="MBR"><group classCode="ORG" determinerCode="INSTANCE">
  <id extension="H-17" root="2.16.840.1.113883.2.4.3.11.999.77"/>
  <code code="01" codeSystem="2.16.840.1.113883.2.4.4.40.262" displayName="Gezinsverband"/>
</group></asMember>
<guardian classCode="GUARD">
  <code code="06" codeSystem="2.16.840.1.113883.2.4.4.40.300"/>
  <guardianPerson classCode="PSN" determinerCode="INSTANCE" nullFlavor="NI" xsi:nil="true"/>
</guardian>"""


def with_family(reference) -> bytes:
    data = (reference / BASE).read_bytes()
    end = b"</patientPerson>"
    assert data.count(end) == 1 and b"<personalRelationship" not in data.split(end)[0].split(b"<patientPerson")[1]
    i = data.index(end)
    return data[:i] + HOUSEHOLD + SIBLING + data[i:]


def test_a_brother_is_read_as_a_brother_not_as_a_parent(reference):
    data = with_family(reference)
    original = validate_bytes((reference / BASE).read_bytes())
    report = validate_bytes(data)
    assert {f.rule for f in report.errors} == {f.rule for f in original.errors}, [f.message for f in report.errors]
    record, unread = extract(read_message(data), "K")
    assert not unread
    assert not record.facts.groups_of("G014")
    [brother] = record.facts.groups_of("G018")
    assert brother.values == {74: "01", 73: "Piet", 672: "Jansen", 75: "1", 76: D(2015, 1, 1), 1365: "H-17", 78: "astma"}
    [home] = record.facts.groups_of("G077")
    assert home.values == {1352: "H-17", 607: "01"} and record.facts.values[631] == "06"
    for version in ("4.1.3", "4.2.0"):  # and it migrates: built again, valid, the same facts
        dossier, dropped = build(record, version, ENVELOPE)
        message = write_message(dossier)
        assert not dropped and validate_bytes(message).valid
        again, _ = extract(read_message(message), "K")
        assert not record.lost_in(again) and not again.lost_in(record)


def family_record():
    record = small_record()
    record.facts.values.update({631: "01", 707: "2"})
    record.facts.groups += [
        Group(groep="G014", values={62: "02", 61: "Anna", 657: "Vos", 63: D(1980, 3, 1), 1191: "tur", 1364: "W1",
                                    67: "01", 68: "verpleegkundige",
                                    1367: "werkt in ploegendienst", 72: D(2001, 1, 1), 670: D(2002, 2, 2)}),
        Group(groep="G014", values={62: "01", 61: "Ali", 657: "Vos", 63: D(1978, 3, 1), 64: True, 65: D(2022, 1, 1),
                                    1322: "ongeval", 1364: "W2", 68: "timmerman"}),  # an occupation without 67
        Group(groep="G018", values={74: "02", 73: "Piet", 672: "Vos", 75: "1", 76: D(2015, 1, 1), 78: "astma",
                                    1365: Repeated(["W1", "W2"])}),
        Group(groep="G078", values={1368: "Kim", 1370: "Vos", 1371: "2", 1372: D(2024, 5, 5), 1374: "jonge ouder", 1375: "W1"}),
        Group(groep="G077", values={1352: "W1", 607: "01", 1190: "woont met grootouders"}),
    ]
    return record


def test_the_whole_family_is_written_as_the_templates_require_and_read_back():
    message = built_and_read_back(family_record())
    # the template rules open on these structures: a second remark on the household, a guardianPerson
    # that is not nil, a relationship remark coded as an element the template does not list
    for wrong, right, rule in ((b"<desc>woont met grootouders</desc>", b"<desc>a</desc><desc>b</desc>", "TC04324"),
                               (b'nullFlavor="NI" xsi:nil="true"/>', b'nullFlavor="NI"/>', "TC04370"),
                               (b'code="1367"', b'code="1368"', "TC04502")):
        assert wrong in message
        assert rule in {f.message.split()[0] for f in validate_bytes(message.replace(wrong, right)).errors}


@pytest.mark.parametrize("extra, groep", [
    ({}, "G014"),  # nothing tells an "other" sibling from an "other" parent: a parent, as before
    ({75: "2"}, "G018"),  # a gender: the BDS gives one to a brother or sister, not to a parent
    ({78: "tweeling"}, "G018"),  # a sibling's remark
])
def test_an_other_relationship_is_told_apart_by_what_it_carries(extra, groep):
    record = small_record()
    record.facts.groups.append(Group(groep="G018", values={74: "98", 73: "Sam", 672: "Vos", **extra}))
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    again, _ = extract(read_message(write_message(dossier)), "D1")
    assert [g.groep for g in again.facts.groups if g.groep in ("G014", "G018")] == [groep]


def test_a_household_without_its_id_or_kind_is_reported_dropped():
    record = small_record()
    record.facts.groups.append(Group(groep="G077", values={1352: "W1", 1190: "bij oma"}))
    dossier, dropped = build(record, "4.2.0", ENVELOPE)
    assert dropped == Counter({1352: 1, 1190: 1}) and validate_bytes(write_message(dossier)).valid


@pytest.mark.parametrize("name", ["csv-export", "json-export"])
def test_both_vendor_formats_carry_the_family(name):
    through_vendor_format(family_record(), name)


def test_fhir_view_carries_the_family_and_reads_it_back():
    """Households as Groups of the people living in them (the child's with its kind and
    remarks), a parent's spoken language as RelatedPerson.communication, remarks and dates as
    Observations with the RelatedPerson as focus, custody and literacy as Observations of the
    child; read back, nothing is lost."""
    record = family_record()
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    bundle, _ = to_fhir(dossier)
    groups = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Group"]
    assert sorted(g["identifier"][0]["value"] for g in groups) == ["W1", "W2"]
    assert sorted(len(g["member"]) for g in groups) == [2, 4]  # W2: father, brother; W1: child, mother, brother, daughter
    again, unread = extract(read_bundle(bundle), "D1")
    assert not unread and not record.lost_in(again) and not again.lost_in(record)



def test_work_is_the_occupation_code_and_its_content_the_required_text():
    """The template requires occupationCode's originalText: 68 Inhoud beroep goes there beside
    67 Werk (W0104), or alone with nullFlavor OTH; without 68 the text is the code's name, which
    reads back as no 68."""
    message = built_and_read_back(family_record())
    texts = {t.decode() for t in re.findall(rb"<occupationCode[^>]*>\s*<originalText>([^<]*)<", message)}
    assert texts == {"verpleegkundige", "timmerman"}
    assert b'<occupationCode nullFlavor="OTH">' in message
    record = small_record()
    record.facts.groups.append(Group(groep="G014", values={62: "02", 67: "02"}))
    again, _ = extract(read_message(built_and_read_back(record)), "D1")
    assert again.facts.groups_of("G014")[0].values == {62: "02", 67: "02"}
