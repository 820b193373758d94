"""The people and organisations around the child (R006 huisarts, R007 other care providers,
R008 childcare and school, G004 the child's contact person) through the facts path.

Before, the facts path read none of them and counted nothing: a migration or a FHIR export
of a dossier holding them lost them without a word. The HL7 below is written by hand from
the template rules (R_PatientNL_JGZ 131 and the care provision templates 104, 107, 108),
not by the gateway's builder, so reading is checked against the standard, not against
ourselves; the builder is checked by the template rules themselves.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from jgz_gateway.adapters.from_dossier import extract
from jgz_gateway.adapters.record import Group
from jgz_gateway.adapters.to_dossier import build, rewrap
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
KWAL = "hl7v3/examples/nl04-jgz8.0/DOB-4.0.0-KWAL_versturen_hl7.xml"

#: After birthTime, in the schema's order: asPatientOfOtherProvider, asCitizen, asStudent, contactParty.
AROUND = b"""
<asPatientOfOtherProvider classCode="PAT"><subjectOf typeCode="SBJ">
  <careProvision classCode="PCPR" moodCode="EVN">
    <templateId root="2.16.840.1.113883.2.4.6.10.100.104"/>
    <code code="GENRL" codeSystem="2.16.840.1.113883.5.4"/>
    <effectiveTime xsi:type="IVL_TS"><low value="20150301"/></effectiveTime>
    <performer typeCode="PRF"><assignedProvider classCode="ASSIGNED">
      <id extension="19012345678" root="2.16.528.1.1007.5.1"/>
      <representedOrganization classCode="ORG" determinerCode="INSTANCE">
        <id extension="01055555" root="2.16.840.1.113883.2.4.6.1"/>
      </representedOrganization>
    </assignedProvider></performer>
  </careProvision></subjectOf></asPatientOfOtherProvider>
<asPatientOfOtherProvider classCode="PAT"><subjectOf typeCode="SBJ">
  <careProvision classCode="PCPR" moodCode="EVN">
    <templateId root="2.16.840.1.113883.2.4.6.10.100.107"/>
    <code code="G082" codeSystem="2.16.840.1.113883.2.4.4.40.393"/>
    <performer typeCode="PRF"><assignedProvider classCode="ASSIGNED">
      <id nullFlavor="NI"/>
      <representedOrganization classCode="ORG" determinerCode="INSTANCE">
        <id extension="00001234" root="2.16.528.1.1007.3.3"/>
        <name>Jeugdteam Stitswerd</name>
        <contactParty classCode="CON">
          <code nullFlavor="OTH"><originalText>jeugdconsulent</originalText></code>
          <telecom value="tel:0595123456"/>
          <contactPerson classCode="PSN" determinerCode="INSTANCE"><name>R. Mulder</name></contactPerson>
        </contactParty>
        <contactParty classCode="CON">
          <telecom value="mailto:s.bakker@example.org"/>
          <effectiveTime xsi:type="IVL_TS"><high value="20190630"/></effectiveTime>
          <contactPerson classCode="PSN" determinerCode="INSTANCE"><name>S. Bakker</name></contactPerson>
        </contactParty>
      </representedOrganization>
    </assignedProvider></performer>
  </careProvision></subjectOf></asPatientOfOtherProvider>
<asPatientOfOtherProvider classCode="PAT"><subjectOf typeCode="SBJ">
  <careProvision classCode="PCPR" moodCode="EVN">
    <templateId root="2.16.840.1.113883.2.4.6.10.100.108"/>
    <code code="01" codeSystem="2.16.840.1.113883.2.4.4.40.2" displayName="Kinderdagopvang"/>
    <effectiveTime xsi:type="IVL_TS"><low value="19850601"/><high value="19890101"/></effectiveTime>
    <performer typeCode="PRF"><assignedProvider classCode="ASSIGNED">
      <id nullFlavor="NI"/>
      <representedOrganization classCode="ORG" determinerCode="INSTANCE">
        <id nullFlavor="NI"/><name>Kinderdagverblijf Het Knolletje</name>
      </representedOrganization>
    </assignedProvider></performer>
  </careProvision></subjectOf></asPatientOfOtherProvider>
<asStudent classCode="STD">
  <id nullFlavor="UNC"/>
  <effectiveTime><low value="19890820"/></effectiveTime>
  <schoolOrganization classCode="ORG" determinerCode="INSTANCE">
    <id extension="12AB" root="2.16.840.1.113883.2.4.6.15"/>
    <code code="01" codeSystem="2.16.840.1.113883.2.4.4.40.3" displayName="Basisonderwijs"/>
    <name>OBS De Knolle</name>
    <organizationContains classCode="PART"><partOrganization classCode="ORG" determinerCode="INSTANCE">
      <id nullFlavor="NI"/><code nullFlavor="OTH"><originalText>4</originalText></code><name>Groep 4a</name>
    </partOrganization></organizationContains>
  </schoolOrganization>
</asStudent>
<contactParty classCode="CON">
  <code nullFlavor="OTH"><originalText>buurvrouw</originalText></code>
  <telecom value="tel:0612121212"/>
  <contactPerson classCode="PSN" determinerCode="INSTANCE"><name>Truus de Wit</name></contactPerson>
</contactParty>
"""

EXPECTED = {
    "G086": [({1527: "19012345678", 1510: "01055555"}, {"G100": {1461: D(2015, 3, 1)}})],
    "G082": [({723: "00001234", 42: "Jeugdteam Stitswerd"},
              {"G005": {710: "R. Mulder", 711: "jeugdconsulent", 712: "0595123456"}})],
    "G006": [({56: "01", 715: "Kinderdagverblijf Het Knolletje"}, {"G104": {1469: D(1985, 6, 1), 1470: D(1989, 1, 1)}})],
    "G008": [({605: "12AB", 58: "01", 1532: "OBS De Knolle", 717: 4, 1183: "Groep 4a"}, {"G106": {1473: D(1989, 8, 20)}})],
    "G004": [({704: "Truus de Wit", 1318: "buurvrouw", 705: "0612121212"}, {})],
}


def with_around(reference) -> bytes:
    data = (reference / KWAL).read_bytes()
    anchor = b'<birthTime value="19850101"/>'
    assert data.count(anchor) == 1
    return data.replace(anchor, anchor + AROUND)


def test_hand_written_structures_are_valid_and_read(reference):
    """The handwritten block adds no error to Nictiz's qualification message, and every part of
    it is read into its BDS groep; nothing in it is left unread."""
    original = validate_bytes((reference / KWAL).read_bytes())
    data = with_around(reference)
    report = validate_bytes(data)
    assert {f.rule for f in report.errors} == {f.rule for f in original.errors}, [f.message for f in report.errors]
    record, unread = extract(read_message(data), "K")
    _, unread_before = extract(read_message((reference / KWAL).read_bytes()), "K")
    assert unread == unread_before
    got = {g: [(x.values, {s.groep: s.values for s in x.groups}) for x in record.facts.groups_of(g)] for g in EXPECTED}
    # the second contact person of the jeugdteam: an e-mail and the end of the period only
    assert got["G082"][0][0] == EXPECTED["G082"][0][0]
    contacts = [s for s in record.facts.groups_of("G082")[0].groups if s.groep == "G005"]
    assert [c.values for c in contacts] == [EXPECTED["G082"][0][1]["G005"], {710: "S. Bakker", 713: "s.bakker@example.org"}]
    assert contacts[1].groups[0].values == {1466: D(2019, 6, 30)}
    del got["G082"]
    assert got == {g: e for g, e in EXPECTED.items() if g != "G082"}


def test_read_and_rebuilt_they_keep_every_value(reference):
    """Read into facts and built again as NL04, the message breaks no template rule and every
    value of these structures comes back (the qualification message's elements new in BDS 4.2.0
    are dropped and reported, as before; its 4.2.0 codes keep it out of NL03)."""
    record, _ = extract(read_message(with_around(reference)), "K")
    ours = {n for g in record.facts.groups if g.groep in EXPECTED for n, _ in g.items()}
    assert len(ours) == 23
    dossier, dropped = build(record, "4.2.0", ENVELOPE)
    message = write_message(dossier)
    report = validate_bytes(message)
    assert report.valid, [(f.rule, f.message) for f in report.errors]
    again, _ = extract(read_message(message), "K")
    assert not set(dropped) & ours
    assert not set(record.lost_in(again)) & ours and not again.lost_in(record)


def full_record():
    record = small_record()
    record.facts.values.update({714: True, 716: "03", 606: "123456789"})
    record.facts.groups += [
        Group(groep="G086", values={31: "Huisartsenpraktijk De Linde", 604: "123456789", 709: "12345678"},
              groups=[Group(groep="G100", values={1461: D(2020, 1, 3)})]),
        Group(groep="G082", values={42: "Logopedie Noord", 1511: "01234567"},
              groups=[Group(groep="G101", values={1463: D(2021, 1, 1), 1464: D(2022, 1, 1)}),
                      Group(groep="G005", values={710: "P. de Vries", 711: "logopedist", 713: "p@example.org"},
                            groups=[Group(groep="G102", values={1465: D(2021, 2, 1)})])]),
        Group(groep="G006", values={56: "05", 715: "De Boefjes", 1417: False, 1493: "02"},
              groups=[Group(groep="G007", values={1186: "Juf Anne", 1188: "0501111111"})]),
        Group(groep="G008", values={605: "01AB", 1532: "De Regenboog", 58: "01", 717: 3, 1183: "Groep 3b"},
              groups=[Group(groep="G009", values={719: "Meester Bas", 720: "IB'er"},
                            groups=[Group(groep="G107", values={1475: D(2024, 8, 20)})])]),
        Group(groep="G004", values={704: "Oma Jansen", 1318: "grootmoeder", 706: "oma@example.nl"},
              groups=[Group(groep="G097", values={1455: D(2023, 1, 1)})]),
    ]
    return record


def test_the_builder_writes_what_the_templates_require():
    """Built in NL03 and NL04 every structure passes the template rules (which open on them:
    a wrong fixed code is an error), and reads back to the same facts."""
    message = built_and_read_back(full_record())
    for wrong, rule in ((b'code="GENRL"', "R_PatientNL-Huisarts"), (b'code="G082"', "R_PatientNL-Andere-organisaties-hulpverleners"),
                        (b'<id nullFlavor="UNC" extension="123456789"/>', "R_PatientNL-JGZ-universal")):
        broken = validate_bytes(message.replace(wrong, b'code="X"' if b"code" in wrong else b""))
        assert rule in {f.rule for f in broken.errors}


@pytest.mark.parametrize("groep, values, dropped", [
    ("G004", {1318: "buurman", 705: "0612"}, {1318: 1, 705: 1}),  # a contact person without the name
    ("G006", {715: "De Boefjes"}, {715: 1}),  # a voorziening without its kind (the care provision's code)
    ("G008", {1532: "De Regenboog", 717: 3}, {1532: 1, 717: 1}),  # a school without the kind of education
])
def test_what_a_template_requires_is_missing_the_rest_is_reported_dropped(groep, values, dropped):
    record = small_record()
    record.facts.groups.append(Group(groep=groep, values=values))
    dossier, lost = build(record, "4.2.0", ENVELOPE)
    assert lost == Counter(dropped)
    assert validate_bytes(write_message(dossier)).valid


@pytest.mark.parametrize("name", ["csv-export", "json-export"])
def test_both_vendor_formats_carry_them(name):
    """A row (object) per organisation or person, with one contact person each."""
    through_vendor_format(full_record(), name)


def test_fhir_view_and_back_keeps_them():
    """PractitionerRoles (providers and contact persons) with their Organizations, the school as
    the child's Patient.contact and the child's contact person as a RelatedPerson with the role
    class CON come back as the same facts; the onderwijsnummer (606), an id without a root that
    a contact has no place for, as an Observation with the school as its focus."""
    record = full_record()
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    bundle, coverage = to_fhir(dossier)
    kinds = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    assert kinds["PractitionerRole"] == 6 and kinds["Practitioner"] == 3 and kinds["RelatedPerson"] == 1
    school = next(e["fullUrl"] for e in bundle["entry"] if e["resource"].get("identifier", [{}])[0].get("system")
                  == "urn:oid:2.16.840.1.113883.2.4.6.15")
    number, = [e["resource"] for e in bundle["entry"] if e["resource"].get("focus") == [{"reference": school}]]
    assert number["valueString"] == str(record.facts.values[606]) and number["code"]["coding"][0]["code"] == "606"
    assert "606" not in coverage["unmapped_elements"]
    back = read_bundle(bundle)
    again, unread = extract(back, "D1")
    assert not unread and not record.lost_in(again) and not again.lost_in(record)
    assert [o.ids[0].extension for o in rewrap(back, again, ENVELOPE).organisations] == ["90000011"]


def test_a_voorziening_with_dagdelen_keeps_its_period_and_counts_the_dagdelen(reference):
    """Template 10267 lets a voorziening's effectiveTime be an SXPR_TS: its period (G104) as an
    IVL_TS part and the dagdelen (55) as a weekly PIVL_TS. The period is read from its part; the
    count has no published conversion, so it is counted as unread (DOB → ADA: skipped), never lost
    unseen, and the period survives FHIR and ADA."""
    from jgz_gateway.standards.ada import write_ada_report

    ivl = b'<effectiveTime xsi:type="IVL_TS"><low value="19850601"/><high value="19890101"/></effectiveTime>'
    sxpr = (b'<effectiveTime xsi:type="SXPR_TS"><comp xsi:type="IVL_TS"><low value="19850601"/><high value="19890101"/>'
            b'</comp><comp xsi:type="PIVL_TS" operator="A"><phase><width value="8" unit="h"/></phase>'
            b'<period value="1" unit="wk"/></comp></effectiveTime>')
    data = with_around(reference)
    assert data.count(ivl) == 1
    data = data.replace(ivl, sxpr)
    assert validate_bytes(data).valid
    record, unread = extract(read_message(data), "K")
    assert unread == Counter({55: 1})
    [care] = record.facts.groups_of("G006")
    assert [g.values for g in care.groups] == [{1469: D(1985, 6, 1), 1470: D(1989, 1, 1)}]
    again, _ = extract(read_bundle(to_fhir(read_message(data))[0]), "K")
    assert [g.values for g in again.facts.groups_of("G006")[0].groups] == [{1469: D(1985, 6, 1), 1470: D(1989, 1, 1)}]
    ada, skipped = write_ada_report(read_message(data))
    assert b"startdatum_geldigheid_voor_of_buitenschoolse_voorzieningen" in ada and "55" in {s[1] for s in skipped}
