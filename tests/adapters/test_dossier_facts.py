"""BDS facts ↔ Dossier: what the builder places validates, and reads back to the same facts."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from lxml import etree

from jgz_gateway.adapters.from_dossier import extract
from jgz_gateway.adapters.record import Facts, Group, Other, Record, Repeated
from jgz_gateway.adapters.synth import generate
from jgz_gateway.adapters.to_dossier import BuildError, Envelope, build
from jgz_gateway.standards.convert import convert_bytes
from jgz_gateway.standards.hl7v3 import read_message, write_message
from jgz_gateway.standards.validation import validate_bytes

from ..conftest import misplace_observation, ref_id, reference_messages, second_encounter
from .conftest import TODAY


ENVELOPE = Envelope(created=dt.datetime(2025, 6, 1, 12, 0, 0))


def canonical(facts: Facts):
    return (sorted(facts.values.items()), [(g.groep, canonical(g)) for g in facts.groups])


def same_facts(a: Record, b: Record) -> bool:
    def groups(f):
        return sorted((g.groep, repr(canonical(g))) for g in f.groups)

    if sorted(a.facts.values.items()) != sorted(b.facts.values.items()) or groups(a.facts) != groups(b.facts):
        return False
    return [canonical(x) for x in a.activities] == [canonical(x) for x in b.activities]


@pytest.mark.parametrize("version, interaction", [("4.2.0", "REPC_IN902120NL04"), ("4.1.3", "REPC_IN902120NL03")])
def test_synthetic_dossiers_validate_and_read_back(version, interaction):
    records = list(generate(12, 5, TODAY))
    for record in records:
        dossier, dropped = build(record, version, ENVELOPE)
        assert not dropped
        data = write_message(dossier)
        report = validate_bytes(data, record.key)
        assert report.valid, [(f.rule, f.xpath, f.message) for f in report.errors]
        back = read_message(data)
        assert back.interaction == interaction
        again, unread = extract(back, record.key)
        assert not unread
        assert same_facts(again, record), record.key


def built_and_read_back(record: Record, versions=("4.1.3", "4.2.0")) -> bytes:
    """Build ``record`` in each version: nothing dropped, a valid message, the same facts read
    back (value for value, nothing unread). Returns the last message."""
    for version in versions:
        dossier, dropped = build(record, version, ENVELOPE)
        message = write_message(dossier)
        report = validate_bytes(message)
        assert not dropped and report.valid, [(f.rule, f.message) for f in report.errors]
        again, unread = extract(read_message(message), record.key)
        assert not unread and not record.lost_in(again) and not again.lost_in(record), version
    return message


def through_vendor_format(record: Record, name: str) -> None:
    """``record`` written in a vendor format and read back: nothing dropped, unread or lost."""
    from jgz_gateway.adapters import declarative

    mapping = declarative.mapping_for(name, {})
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    bundle, dropped = declarative.to_bundle(mapping, record.key, dossier)
    assert not dropped
    back = declarative.to_dossier(mapping, record.key, bundle, "test", {"envelope": ENVELOPE}).dossier
    again, unread = extract(back, record.key)
    assert not unread and not record.lost_in(again) and not again.lost_in(record)


def small_record() -> Record:
    f = Facts(values={695: "D1", 696: "02", 7: "999000007", 4: "Jansen", 19: "2", 20: dt.date(2020, 1, 2)},
              groups=[Group(groep="G085", values={603: "90000011", 1506: "JGZ Noord (synthetisch)"}),
                      Group(groep="G093", values={1197: "01", 1330: dt.date(2020, 1, 5)}),
                      Group(groep="G092", values={487: "01", 488: dt.date(2025, 6, 1)})])
    activity = Facts(values={1377: "A1", 494: "37", 724: dt.date(2020, 2, 1), 1577: "03", 1605: "01",
                             235: Decimal("545"), 236: "1", 245: Decimal("4400")})
    return Record("D1", f, [activity])


def test_values_are_placed_in_hl7_units_and_codes():
    dossier, _ = build(small_record(), "4.2.0", ENVELOPE)
    obs = {o.element: o for o in dossier.observations()}
    assert (obs[235].value.type, obs[235].value.value, obs[235].value.unit) == ("PQ", "545", "mm")
    assert obs[235].method.code == "1" and obs[235].method.code_system == "2.16.840.1.113883.2.4.4.40.28"
    assert obs[245].value.unit == "g"
    assert obs[235].template_ids == ["2.16.840.1.113883.2.4.6.10.100.40235"]
    assert dossier.patient.person.gender.code == "F"  # BDS 2 → HL7 F
    assert dossier.activities[0].code.code == "37"
    assert dossier.activities[0].rubrieken[0].rubriek == "R018"  # the activity rubriek first


def test_a_code_outside_its_value_set_is_refused():
    record = small_record()
    record.activities[0].values[1577] = "77"
    with pytest.raises(BuildError, match="'77' is not in W0679") as info:
        build(record, "4.1.3", ENVELOPE)
    assert info.value.element == 1577
    record.activities[0].values[1577] = "7"  # W0679 codes are two digits
    with pytest.raises(BuildError, match="'7' is not in W0679"):
        build(record, "4.2.0", ENVELOPE)


def test_a_vaccination_without_a_date_is_refused():
    record = small_record()
    record.activities[0].groups.append(Group(groep="G076", values={461: "01"}))
    with pytest.raises(BuildError, match="1409"):
        build(record, "4.2.0", ENVELOPE)


def test_elements_the_target_version_cannot_carry_are_counted_as_dropped():
    record = small_record()
    record.activities[0].values[1665] = "01"  # new in 4.2.0, no observation template known
    dossier, dropped = build(record, "4.2.0", ENVELOPE)
    assert dropped == {1665: 1}
    assert 1665 not in {o.element for o in dossier.observations()}


def test_conclusions_are_read_and_other_structures_counted_as_unread(reference):
    # the qualification message's R047 conclusion is read, and the ADA test message's two notes
    # (493: the conclusion's, and the encounter's own, subjectOf2) go back to their places
    path = reference / "hl7v3/examples/nl04-jgz8.0/DOB-4.0.0-KWAL_versturen_hl7.xml"
    record, unread = extract(read_message(path.read_bytes()))
    assert not unread
    assert [a.values[482] for a in record.activities if 482 in a.values] == ["Kind functioneert goed"]
    assert record.facts.values[7] == "999901795"
    assert any(g.groep == "G076" for a in record.activities for g in a.groups)
    test = (reference / "ada/hl7/DOB-3.0.0-test-hl7.xml").read_bytes()
    record, unread = extract(read_message(test))
    (concluded,) = [a for a in record.activities if 482 in a.values]
    assert (concluded.values[482], concluded.values[493]) == (
        "Hier staat een zinnige conclusie", Repeated(["Notitieblad text", "Aanvullende Opmerking"]))
    assert [g.values for g in concluded.groups_of("G058")] == [{485: "05", 483: "4"}, {485: "05", 483: "6", 1159: "01"}]
    assert unread == {9: 1, 21: 1}  # the gemeente (county) has no place among the facts; the date of death is masked
    dossier, dropped = build(record, "4.1.3", ENVELOPE)
    assert not dropped
    (encounter,) = [a for a in dossier.activities if any(x.name == "subjectOf1" for x in a.extra)]
    notes = [(x.name, x.find("annotation/value").text) for x in encounter.extra if x.name == "subjectOf2"]
    conclusion = next(x for x in encounter.extra if x.name == "subjectOf1")
    assert conclusion.find("conclusion/subjectOf/annotation/value").text == "Notitieblad text"
    assert notes == [("subjectOf2", "Aanvullende Opmerking")]


@pytest.mark.parametrize("objection", [True, False])
def test_objection_is_written_as_nictiz_does_and_blocks_transfer(objection):
    """An objection that holds is a negated consentEvent (Nictiz's ADA→HL7 conversion), and the
    sender's consent gate refuses it."""
    from jgz_gateway.transfer.sender import consent_gate

    record = small_record()
    record.facts.groups.append(Group(groep="G010", values={1395: objection, 1396: "02", 1397: dt.date(2020, 1, 6)}))
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    back = read_message(write_message(dossier))
    [c] = back.consents_for(1395)
    assert c.negation_ind == ("true" if objection else "false")
    assert c.affirmed is objection
    assert consent_gate(back, require_consent=False).allowed is not objection


def test_rvp_consent_of_the_nictiz_qualification_message_reads_and_rebuilds(reference):
    """G115 (consent to exchange vaccination data with the RVP) as Nictiz's KWAL message carries it:
    negated consentEvent 1533, the source's name and code, how it was given (1541), the recorder."""
    data = (reference / "hl7v3/examples/nl04-jgz8.0/DOB-4.0.0-KWAL_versturen_hl7.xml").read_bytes()
    record, _ = extract(read_message(data), "KWAL")
    (rvp,) = [g for g in record.facts.groups if g.groep == "G115"]
    assert rvp.values == {1533: False, 1534: "Vader", 1535: "03", 1536: dt.date(1985, 6, 1), 1538: "11223344",
                          1540: "n.v.t.", 1541: "02"}
    rvp.values[1607] = dt.date(1990, 1, 1)  # and an end date, which the message lacks
    record = small_record()
    record.facts.groups.append(rvp)
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    rebuilt = write_message(dossier)
    report = validate_bytes(rebuilt)
    assert report.valid, [(f.rule, f.message) for f in report.errors]
    again, _ = extract(read_message(rebuilt), "KWAL")
    assert [g.values for g in again.facts.groups if g.groep == "G115"] == [rvp.values]


@pytest.mark.parametrize("recorder, element", [({1540: "JGZ X"}, 1538), ({1538: "90000011"}, 1540)])
def test_rvp_consent_with_half_an_organisation_is_a_build_error(recorder, element):
    """The published template wants the recording organisation's URA or AGB *and* its name."""
    record = small_record()
    record.facts.groups.append(Group(groep="G115", values={1533: True, 1535: "03", 1536: dt.date(2020, 3, 1),
                                                           1534: "Ouder", **recorder}))
    with pytest.raises(BuildError) as info:
        build(record, "4.2.0", ENVELOPE)
    assert info.value.element == element


def test_dossier_level_annotations_as_nictiz_writes_them(reference):
    """476 and 1167 sit under careProvisionEvent/pertinentInformation in Nictiz's test message; they
    read into the dossier's facts (not 'unread') and are written back there, valid."""
    data = (reference / "ada/hl7/DOB-3.0.0-test-hl7-bds327-bds400.xml").read_bytes()
    record, unread = extract(read_message(data), "T")
    assert (record.facts.values[476], record.facts.values[1167]) == (True, True)
    assert 476 not in unread and 1167 not in unread
    small = small_record()
    small.facts.values.update({476: True, 1167: False})
    rebuilt = write_message(build(small, "4.2.0", ENVELOPE)[0])
    assert validate_bytes(rebuilt).valid
    again, _ = extract(read_message(rebuilt), "T")
    assert (again.facts.values[476], again.facts.values[1167]) == (True, False)


def test_elements_carried_on_another_observation(reference):
    """81 Familielid and 1200 Vader/moeder are the subject/personalRelationship/code of 80's and 70's
    observations, 1202 Methode meting the methodCode of 856 and 858 (template rows TC04909, TC04863,
    TC07910, TC07931: required). Nictiz's test message carries them; they are read as facts of their
    groep and written back in place, so the rebuilt message is valid and holds the same facts."""
    data = (reference / "ada/hl7/DOB-3.0.0-test-hl7.xml").read_bytes()
    record, unread = extract(read_message(data), "T")
    groups = [g for a in record.activities for g in a.groups] + record.facts.groups
    assert {"G019", "G020", "G044"} <= {g.groep for g in groups}
    for groep, host, carried in (("G019", 80, 81), ("G020", 70, 1200), ("G044", 856, 1202)):
        for g in (g for g in groups if g.groep == groep and host in g.values):
            assert carried in g.values, (groep, g.values)
    dossier, dropped = build(record, "4.1.3", ENVELOPE)
    report = validate_bytes(write_message(dossier))
    assert not {f.rule for f in report.errors} & {"obsElement0080", "obsElement0070", "obsElement0856", "obsElement0858"}
    assert not record.lost_in(extract(read_message(write_message(dossier)), "T")[0])
    assert not {81, 1200, 1202} & set(dropped)


# 4.2.0 codes that BDS 4.1.3's published value sets lack, in Nictiz's NL04 messages
NL04_CODES = [
    ("DOB-4.0.0-R018-CR_test_JGZ-109_hl7.xml", 1424, "51"),
    ("DOB-4.0.0-R012-CR_test_JGZ-106_hl7.xml", 80, "16"),
    ("DOB-4.0.0-R021-CR_test_JGZ-127_hl7.xml", 324, "10"),
    ("DOB-4.0.0-R026-CR_test_JGZ-178_hl7.xml", 422, "05"),
    ("DOB-4.0.0-KWAL_ontvangen_hl7.xml", 1341, "14"),
]


def facts_of(record: Record) -> list[tuple[int, object]]:
    found = []
    for f in [record.facts, *record.activities]:
        stack = [f]
        while stack:
            x = stack.pop()
            found += x.values.items()
            stack += x.groups
    return found


@pytest.mark.parametrize("name, element, code", NL04_CODES)
def test_bds_420_codes_outside_the_413_sets_are_carried_in_nl04(reference, name, element, code):
    """BDS 4.2.0's value sets are not published; the 4.1.3 sets stand in. A 4.2.0 code (as in
    Nictiz's own NL04 messages, which its tooling accepts) is carried into NL04 as it was, in
    the set's code system, and the message validates; BDS 4.1.3 has no such code: refused there."""
    data = (reference / "hl7v3/examples/nl04-jgz8.0" / name).read_bytes()
    record, _ = extract(read_message(data), "T")
    assert (element, code) in facts_of(record)
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    out = write_message(dossier)
    report = validate_bytes(out)
    assert report.valid, [(f.rule, f.xpath, f.message) for f in report.errors]
    assert (element, code) in facts_of(extract(read_message(out), "T")[0])
    with pytest.raises(BuildError, match=f"'{code}' is not in") as info:
        build(record, "4.1.3", ENVELOPE)
    assert info.value.element == element


def test_a_code_unknown_to_a_published_set_stays_refused_in_nl04():
    """Only sets whose 4.2.0 content is unknown are lenient, and only for codes shaped like theirs."""
    record = small_record()
    record.activities[0].values[1424] = "ZZ"  # W0619 codes are two digits
    with pytest.raises(BuildError, match="'ZZ' is not in W0619"):
        build(record, "4.2.0", ENVELOPE)
    record.activities[0].values[1424] = "123"
    with pytest.raises(BuildError, match="'123' is not in W0619"):
        build(record, "4.2.0", ENVELOPE)


def test_bds_32_dossier_is_read_as_bds_4_facts(reference):
    """A BDS 3.2.7 message (REPC_IN902120NL) is read through the version converter: its dossier
    status becomes W0002 02 (not the raw HL7 'completed'), and the consent source that Nictiz's
    3.2.7 → 4.0 conversion writes without a codeSystem (ONESELF) is read as W0088 01."""
    data = (reference / "ada/hl7/DOB-3.0.0-test-hl7-bds327.xml").read_bytes()
    record, _ = extract(read_message(data), "T")
    assert record.facts.values[696] == "02"
    sources = {g.groep: g.values for g in record.facts.groups if g.groep in ("G010", "G011", "G071")}
    assert sources["G071"][1399] == "01" and sources["G010"][1396] == "01"


def other_texts(data: bytes) -> Counter:
    """(element, text) of every coded value given as "other" (nullFlavor OTH with originalText)."""
    from lxml import etree

    h = "{urn:hl7-org:v3}"
    found: Counter = Counter()
    for text in etree.fromstring(data).iter(h + "originalText"):
        if text.getparent().get("nullFlavor") == "OTH":
            found[text.text] += 1
    return found


def test_other_with_its_text_the_requester_and_the_escort_survive_the_facts(reference):
    """Nictiz's test message: the requester (1423) of one activity is the child (03), of another a
    parent (02), of a third "other: Buurman"; escorts (731) are W0193 codes and "other: Buurvrouw".
    Before, the facts path read neither element and dropped every "other" text silently."""
    data = (reference / "ada/hl7/DOB-3.0.0-test-hl7.xml").read_bytes()
    record, _ = extract(read_message(data), "T")
    assert [(a.values.get(1423), a.values.get(731)) for a in record.activities][:3] == [
        ("03", "01"), ("02", "09"), (Other("06", "Buurman"), Other("98", "Buurvrouw"))]
    assert repr(record.activities[2].values[1423]) == "Other('06', 'Buurman')"
    dossier, _ = build(record, "4.1.3", ENVELOPE)
    out = write_message(dossier)
    report = validate_bytes(out)
    assert report.valid, [(f.rule, f.xpath, f.message) for f in report.errors]
    assert not record.lost_in(extract(read_message(out), "T")[0])
    assert other_texts(out) >= Counter({"Buurman": 1, "Buurvrouw": 1})


@pytest.mark.parametrize("name, texts", [
    ("nl04-jgz8.0/DOB-4.0.0-R041-CR_test_JGZ-xxx_vaccinatie-test_hl7.xml", {"D": 1}),  # vaccine (461) "other"
    ("nl04-jgz8.0/DOB-4.0.0-R012-CR_test_JGZ-518_hl7.xml", {"nieuwe ziekte": 2}),  # 80 twice in one G019
])
def test_other_texts_and_repeated_elements_of_nictiz_messages_are_kept(reference, name, texts):
    data = (reference / "hl7v3/examples" / name).read_bytes()
    record, unread = extract(read_message(data), "T")
    dossier, dropped = build(record, "4.2.0", ENVELOPE)
    out = write_message(dossier)
    report = validate_bytes(out)
    assert report.valid, [(f.rule, f.xpath, f.message) for f in report.errors]
    assert other_texts(out) >= Counter(texts)
    before = Counter(n for n, _ in record.items())
    assert before == Counter(n for n, _ in extract(read_message(out), "T")[0].items())
    original = Counter(o.element for o in read_message(data).observations() if o.element)
    assert original[80] == before[80]  # every repetition of 80 read, none overwritten


@pytest.mark.parametrize("status, mood, code", [("01", "EVN", "completed"), ("02", "EVN", "aborted"),
                                                ("03", "INT", "cancelled"), ("07", "INT", "cancelled")])
def test_activity_status_is_written_as_nictiz_does(status, mood, code):
    """W0690: held is an event, broken off an aborted event, not held a cancelled intent. An event
    may have no author (TC01134), an intent fulfils nothing (TC01446): the requester goes where
    each allows it, and both are valid."""
    record = small_record()
    record.activities[0].values[1605] = status
    record.activities[0].values[1423] = Other("06", "Buurman")
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    act = dossier.activities[0]
    assert (act.other_attrs["moodCode"], act.status_code.code) == (mood, code)
    out = write_message(dossier)
    report = validate_bytes(out)
    assert report.valid, [(f.rule, f.xpath, f.message) for f in report.errors]
    assert other_texts(out) == Counter({"Buurman": 1})
    again = extract(read_message(out), "T")[0].activities[0].values
    assert repr(again[1423]) == "Other('06', 'Buurman')" and again[1605] == status


def test_a_vendor_field_holds_the_text_of_other_or_its_loss_is_reported(reference, tmp_path):
    """csv-export names a field for the text of an "other" requester and escort (``other``):
    Nictiz's "Buurman"/"Buurvrouw" go into it and come back. A mapping without it reports
    each lost text (``text of element N``)."""
    from jgz_gateway.adapters import declarative
    from jgz_gateway.adapters.mapping import shipped

    dossier = read_message((reference / "ada/hl7/DOB-3.0.0-test-hl7.xml").read_bytes())
    mapping = declarative.mapping_for("csv-export", {})
    bundle, dropped = declarative.to_bundle(mapping, "T", dossier)
    assert not {"text of element 1423", "text of element 731"} & set(dropped)  # (1541's has no field)
    rows = [r.data for r in bundle["contact_moments"] if r.data.get("requester_other")]
    assert [(r["requester"], r["requester_other"], r["escort"], r["escort_other"]) for r in rows] == [
        ("ANDERS", "Buurman", "ANDERS", "Buurvrouw")]
    back = declarative.to_dossier(mapping, "T", bundle, "test", {"envelope": ENVELOPE}).dossier
    values = [v for n, v in extract(back, "T")[0].items() if n in (1423, 731)]
    assert Other("06", "Buurman") in values and "Other('98', 'Buurvrouw')" in map(repr, values)
    plain = tmp_path / "plain.toml"
    plain.write_text(shipped("csv-export").read_text(encoding="utf-8")
                     .replace(', other = "requester_other"', "").replace(', other = "escort_other"', ""), encoding="utf-8")
    _, dropped = declarative.to_bundle(declarative.mapping_for("csv-export", {"mapping": plain}), "T", dossier)
    assert dropped["text of element 1423"] == 1 and dropped["text of element 731"] == 1


@pytest.mark.parametrize("name, other", [("csv-export", "ANDERS"), ("json-export", "other")])
def test_an_other_vaccine_keeps_its_name_in_the_vendor_formats(reference, name, other):
    """Nictiz's vaccination test message gives a vaccine outside W0422 (nullFlavor OTH, text "D"):
    both vendor formats hold it as their "other" code plus ``vaccine_other``, and it comes back
    as a valid message (TC03048: an "other" vaccine carries its text)."""
    from jgz_gateway.adapters import declarative

    data = (reference / "hl7v3/examples/nl04-jgz8.0/DOB-4.0.0-R041-CR_test_JGZ-xxx_vaccinatie-test_hl7.xml").read_bytes()
    mapping = declarative.mapping_for(name, {})
    bundle, dropped = declarative.to_bundle(mapping, "T", read_message(data))
    assert "text of element 461" not in dropped
    assert [r.data["vaccine_other"] for r in bundle["vaccinations"] if r.data.get("vaccine") == other] == ["D"]
    back = write_message(declarative.to_dossier(mapping, "T", bundle, "test", {"envelope": ENVELOPE}).dossier)
    assert validate_bytes(back).valid
    assert Other("OTH", "D") in [v for n, v in extract(read_message(back), "T")[0].items() if n == 461]


def test_an_unnamed_other_vaccine_is_written_as_other_with_a_text(reference):
    """A source that says "other vaccine" without naming it still gives a valid message:
    TC03048 wants a text beside nullFlavor OTH, and "anders" is all the source says."""
    record, _ = extract(read_message((reference / "ada/hl7/DOB-3.0.0-test-hl7.xml").read_bytes()), "T")
    vaccinations = [g for a in record.activities for g in a.groups_of("G076")]
    vaccinations[0].values[461] = "OTH"
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    out = write_message(dossier)
    assert validate_bytes(out).valid
    assert other_texts(out)["anders"] == 1


def test_every_part_of_the_address_but_the_gemeente_is_kept(reference):
    """G001 as Nictiz's ADA conversion writes it: huisletter and toevoeging (13, 14) in one
    buildingNumberSuffix, aanduiding (15) as additionalLocator by/to, locatiebeschrijving (17) as
    desc, the period (G096: 1453, 1454) as useablePeriod. Only the gemeente (9, county) has no
    place among the facts: it is counted, never dropped unseen."""
    from lxml import etree

    from jgz_gateway.standards.leaves import leaf_content

    data = (reference / "ada/hl7/DOB-3.0.0-test-hl7.xml").read_bytes()
    record, unread = extract(read_message(data))
    (address,) = record.facts.groups_of("G001")
    assert {n: address.values.get(n) for n in (13, 14, 15, 17)} == {13: "A", 14: "rood", 15: "1", 17: "test locatiebeschrijving"}
    assert address.groups_of("G096")[0].values == {1453: dt.date(2023, 2, 5), 1454: dt.date(2023, 2, 6)}
    assert unread[9] == 1
    dossier, _ = build(record, "4.1.3", ENVELOPE)
    h = "{urn:hl7-org:v3}"

    def addr(xml: bytes):
        found = next(etree.fromstring(xml).iter(h + "addr"))
        for county in found.findall(h + "county"):
            found.remove(county)
        return leaf_content(found)

    assert addr(write_message(dossier)) == addr(data)


def test_both_names_of_the_child_are_kept(reference):
    """The official name (OR: voornaam 6, geslachtsnaam 3/4) and the name in use (L: roepnaam 5,
    achternaam 1/2), written back as Nictiz writes them; the achternaam was dropped unseen."""
    from lxml import etree

    from jgz_gateway.standards.leaves import leaf_content

    data = (reference / "ada/hl7/DOB-3.0.0-test-hl7.xml").read_bytes()
    record, _ = extract(read_message(data))
    assert {n: record.facts.values.get(n) for n in range(1, 7)} == {
        1: "van", 2: "YYY_Liere", 3: "van", 4: "XXX_Liere", 5: "Loesje", 6: "Loes"}
    dossier, _ = build(record, "4.1.3", ENVELOPE)
    h = "{urn:hl7-org:v3}"

    def names(xml: bytes):
        person = next(etree.fromstring(xml).iter(h + "patientPerson"))
        return [leaf_content(n) for n in person.findall(h + "name")]

    assert names(write_message(dossier)) == names(data)


def test_the_childs_birth_place_nationality_and_migration_are_kept(reference):
    """22/23 (birthPlace), 24 (asCitizen, 0..*), 26-29 (the patient's administrative observations)
    were dropped unseen; a masked date of death (21, nullFlavor MSK) has no value and is counted."""
    from lxml import etree

    from jgz_gateway.standards.leaves import leaf_content

    data = (reference / "ada/hl7/DOB-3.0.0-test-hl7.xml").read_bytes()
    record, unread = extract(read_message(data))
    assert {n: record.facts.values.get(n) for n in (22, 23, 24, 26, 27, 29)} == {
        22: "Delft", 23: "6030", 24: "0001", 26: "6030", 27: dt.date(2023, 1, 27), 29: dt.date(2023, 2, 6)}
    assert unread[21] == 1
    dossier, _ = build(record, "4.1.3", ENVELOPE)
    h = "{urn:hl7-org:v3}"

    def parts(xml: bytes):
        patient = next(etree.fromstring(xml).iter(h + "patient"))
        person = patient.find(h + "patientPerson")
        return [leaf_content(x) for x in [*person.findall(h + "asCitizen"), *person.findall(h + "birthPlace"),
                                          *patient.findall(h + "subjectOf1")]]

    assert parts(write_message(dossier)) == parts(data)


def test_a_parents_address_phone_email_death_and_belief_are_kept():
    """The templates put a parent's address (G016) and telephones (G017, e-mail 738) on the
    personalRelationship, and death (64, 65) and belief (69) on the person: all were dropped
    unseen (and the mappings called G017 unplaceable)."""
    record = small_record()
    parent = Group(groep="G014", values={62: "02", 61: "Anna", 657: "Vos", 63: dt.date(1980, 3, 1), 64: True,
                                         65: dt.date(2021, 5, 1), 69: "Humanistisch", 738: "anna@example.org"},
                   groups=[Group(groep="G016", values={658: "02", 661: "Dorpsstraat", 662: 3, 663: "B", 666: "1234 AB",
                                                       660: "Ergens", 669: "6030"}),
                           Group(groep="G017", values={736: "0612345678", 737: "03"})])
    record.facts.groups.append(parent)
    built_and_read_back(record)


def test_summary_and_annotations_follow_the_attachments_when_there_is_no_consent():
    """492 Samenvatting 0-4 is the dossier's summary (template 10009: after authorization, before
    pertinentInformation). Without consents the builder put the verbatim parts right after the
    author, before the attachments (appendage): a schema error, so such a dossier could not be
    migrated. The summary reads back, and the template rules check it (a value is required)."""
    record = small_record()
    record.facts.values.update({476: True, 492: "Groei en ontwikkeling volgens verwachting."})
    record.facts.groups += [Group(groep="G072", values={1169: "01", 1497: "a.pdf", 1498: "application/pdf",
                                                        1185: "JVBERi0xLjQK", 1172: dt.date(2021, 1, 1)}),
                            Group(groep="G088", values={1401: "02", 1402: dt.date(2021, 2, 1)})]
    message = built_and_read_back(record)
    assert message.index(b"<appendage") < message.index(b"<summary") < message.index(b"<pertinentInformation")
    empty = message.replace(b'<value xsi:type="ST">Groei en ontwikkeling volgens verwachting.</value>', b"")
    assert "careProvisionEventSummary" in {f.rule for f in validate_bytes(empty).errors}


@pytest.mark.parametrize("values", [
    {469: True, 1383: dt.date(2020, 3, 1), 1385: "123456789", 1504: "12345678901", 1521: "01234567", 1505: "dr. A. Arts"},
    {469: False},  # refused, nothing else known: the schema still wants an author (time UNK, no name)
])
def test_a_doctors_permission_for_a_nurse_to_vaccinate(values):
    """469 is a consentEvent of its own (template authorization469): the doctor who gave it is the
    author's responsibleParty (UZI, BIG, AGB ids and name), its date the author's time. It was
    counted as unread, and no vendor format or FHIR could carry it."""
    record = small_record()
    record.facts.values.update(values)
    message = built_and_read_back(record)
    assert b'code="469"' in message
    wrong = message.replace(b'<responsibleParty classCode="ASSIGNED">', b'<responsibleParty classCode="CON">')
    assert "authorization469" in {f.rule for f in validate_bytes(wrong).errors}


def test_the_jgz_organisation_responsible_by_the_brp():
    """G091 (R005) is ``careProvisionEvent/responsibleParty`` with the same assignedEntity
    (template 122) as an executing organisation's author, its period (G099) the link's time. It
    was dropped without a count (no BDS code marks it). Now every path carries it, and FHIR keeps
    it apart from the executing organisations (an EpisodeOfCare typed G091)."""
    from jgz_gateway.standards.fhir import to_fhir
    from jgz_gateway.standards.fhir.read import read_bundle

    record = small_record()
    record.facts.groups += [Group(groep="G091", values={1441: "90000022", 1507: "JGZ Oost"},
                                  groups=[Group(groep="G099", values={1459: dt.date(2020, 1, 2), 1460: dt.date(2024, 1, 1)})]),
                            Group(groep="G091", values={1530: "01234567"})]
    message = built_and_read_back(record)
    assert message.count(b'<responsibleParty typeCode="RESP">') == 2
    for name in ("csv-export", "json-export"):
        through_vendor_format(record, name)
    bundle, _ = to_fhir(read_message(message))
    back = read_bundle(bundle)
    again, unread = extract(back, "D1")
    assert not unread and not record.lost_in(again) and not again.lost_in(record)
    assert [o.ids[0].extension for o in back.organisations] == ["90000011"]  # the executing one only


def _says_nothing(code) -> bool:
    """A BDS element code whose holder carries no value: non-BDS data (its own question code),
    a value (or an annotation's text) that is empty or NI (a host's placeholder, a consent note
    without text)."""
    holder = code.getparent()
    if etree.QName(holder).localname == "nonBDSData":
        return True
    value = holder.find("{urn:hl7-org:v3}value")
    if value is None:
        value = holder.find("{urn:hl7-org:v3}text")  # an annotation as Nictiz's 3.2 conversion writes it
    if value is None:
        return False
    return value.get("nullFlavor") == "NI" or not (set(value.attrib.keys()) - {XSI_TYPE}
                                                  or "".join(value.itertext()).strip())


XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def _valued_codes(data: bytes) -> Counter:
    """Per BDS element, the codes of a message whose holder carries a value."""
    return Counter(int(c.get("code")) for c in etree.fromstring(data).iter("{urn:hl7-org:v3}code")
                   if c.get("codeSystem") == "2.16.840.1.113883.2.4.4.40.267"
                   and (c.get("code") or "").isdecimal() and not _says_nothing(c))


@pytest.mark.parametrize("path", reference_messages(), ids=ref_id)
def test_the_facts_lose_no_element_of_a_message_silently(path):
    """Per BDS element, every code of a reference message (as BDS 4, which the facts speak) with
    a value is read into the facts or counted unread. Before: an "other" (nullFlavor OTH) of a
    BDS 4.2.0 element without a published value set (1649), and a conclusion's note without its
    value (R047's CR test), went without a word."""
    data = path.read_bytes()
    dossier = read_message(data)
    record, unread = extract(dossier, "k")
    if dossier.interaction == "REPC_IN902120NL":
        data = convert_bytes(data, "4.1.3")[0]
    in_message = _valued_codes(data)
    read = record.element_counts()
    assert {n: k for n, k in in_message.items() if k > read.get(n, 0) + unread.get(n, 0)} == {}


def _into(where: str):
    return lambda root: misplace_observation(root, where)


@pytest.mark.parametrize("mutate", [_into("value"), _into("code"), _into("templateId"), _into("text"), second_encounter],
                         ids=["in-a-value", "in-a-code", "in-a-templateId", "text-in-its-code", "second-encounter"])
def test_an_element_where_no_schema_allows_it_is_counted_dropped_not_lost(reference, mutate):
    """Observations in places no schema allows (the validator refuses such a message, but a
    migration from HL7v3 reads it): the reader has no place for them, and the census of the
    whole model (standards.census) counts their values as unread, so a migration reports
    them dropped. Before, the values went without a word."""
    root = etree.fromstring((reference / "ada" / "hl7" / "DOB-3.0.0-qual-versturen-XXX_Caarls-hl7.xml").read_bytes())
    mutate(root)
    data = etree.tostring(root)
    record, unread = extract(read_message(data), "k")
    accounted = record.element_counts() + unread
    assert {n: k for n, k in _valued_codes(data).items() if k > accounted.get(n, 0)} == {}


def _child_address(reference, change) -> tuple[dict, Counter]:
    """The child's address (G001) as facts, after ``change`` to its HL7 parts, and what went unread."""
    h = "{urn:hl7-org:v3}"
    root = etree.fromstring((reference / "hl7v3/examples/nl04-jgz8.0/DOB-4.0.0-KWAL_versturen_hl7.xml").read_bytes())
    addr = next(root.iter(h + "patient")).find(h + "addr")
    change(addr, h)
    record, unread = extract(read_message(etree.tostring(root)), "k")
    return next(g for g in record.facts.groups if g.groep == "G001").values, unread


def test_address_parts_the_bds_has_no_element_for_are_kept_or_reported(reference):
    """HL7 AD allows parts the BDS does not split out (a street line, a unit id...): a street line
    without a street name stands in for it; anything else is reported unread, never dropped silently."""
    def line_only(addr, h):
        for name in ("streetName", "houseNumber"):
            addr.remove(addr.find(h + name))
        etree.SubElement(addr, h + "streetAddressLine").text = "Knolweg 1003"

    values, unread = _child_address(reference, line_only)
    assert values[11] == "Knolweg 1003" and 12 not in values and not unread

    def line_beside_street(addr, h):
        etree.SubElement(addr, h + "streetAddressLine").text = "Knolweg 1003"
        etree.SubElement(addr, h + "unitID").text = "kamer 4"

    values, unread = _child_address(reference, line_beside_street)
    assert (values[11], values[12]) == ("Knolweg", 1003) and unread == Counter({11: 1, 14: 1})

    values, _ = _child_address(reference, lambda addr, h: setattr(addr.find(h + "houseNumber"), "text", " 1003 "))
    assert values[12] == 1003


def test_a_name_suffix_is_reported_unread(reference):
    """PN allows a suffix ("jr.") that the templates accept and the BDS has no element for: it
    is counted against the name's geslachtsnaam (4 for the child's official name, the parent's
    657), never dropped silently; the rest of the name is still read."""
    h = "{urn:hl7-org:v3}"
    root = etree.fromstring((reference / "hl7v3/examples/nl04-jgz8.0/DOB-4.0.0-KWAL_versturen_hl7.xml").read_bytes())
    name = next(n for n in root.iter(h + "name") if n.get("use") == "OR")
    etree.SubElement(name, h + "suffix").text = "jr."
    data = etree.tostring(root)
    assert not [f for f in validate_bytes(data).findings if "/name" in f.xpath and f.severity == "error"]
    record, unread = extract(read_message(data), "k")
    assert (record.facts.values[6], record.facts.values[4], unread[4]) == ("Michael", "XXX_Wely", 1)

    record = small_record()
    record.facts.groups.append(Group(groep="G014", values={62: "02", 61: "Anna", 657: "Vos"}))
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    root = etree.fromstring(write_message(dossier))
    name = next(root.iter(h + "relationshipHolder1")).find(h + "name")
    etree.SubElement(name, h + "suffix").text = "sr."
    record, unread = extract(read_message(etree.tostring(root)), "k")
    (parent,) = record.facts.groups_of("G014")
    assert (parent.values[657], unread[657]) == ("Vos", 1)
