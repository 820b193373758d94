"""R014-R016 in the DOB: the table of :mod:`jgz_gateway.standards.perinatal` against the
published template rows, and the ADA instance ↔ DOB conversion of the pregnancy and newborn."""

from __future__ import annotations

import csv
import re
from datetime import date

import pytest
from lxml import etree

from jgz_gateway.standards import model as m
from jgz_gateway.standards import perinatal as P
from jgz_gateway.standards.ada import Envelope, read_ada_message, write_ada
from jgz_gateway.standards.catalogue import get_catalogue
from jgz_gateway.standards.hl7v3 import read_message
from jgz_gateway.standards.hl7v3.codec import read_node
from jgz_gateway.standards.validation import validate_bytes

from ..conftest import REFERENCE, load_tool

H = "{urn:hl7-org:v3}"
ROWS = REFERENCE / "bds" / "rules" / "template-constraints.csv"
PLACE = {"pregnancyObservations": P.PREGNANCY, "deliveryObservation": P.DELIVERY, "neonateObservations": P.NEONATE}
ENVELOPE = Envelope(message_id=("2.16.528.1.1007.3.3.1111.1", "1"), sender_application="900000001",
                    receiver_application="900000002", device_uzi="091287345", organisation_ura="00001111",
                    organisation_name="GGD")


@pytest.fixture(scope="module")
def rows():
    with ROWS.open(encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["template_id"].rsplit(".", 1)[1] in ("118", "121")]


def test_every_slot_is_an_observation_the_templates_define(rows):
    """Each slot's observation (tag and code) is one the templates list, with the value type
    and unit their rows give it; and every observation they list is a slot."""
    listed: dict[tuple[str, str, str], dict] = {}
    for r in rows:
        found = re.fullmatch(r".*/(\w+Observations?)\[code\[([\w-]+)@([\d.]+)\]\](?:\[non-null\])?/value\[[^/]*", r["context"])
        if (found and found.group(1) != "detailPregnancyObservation" and r["kind"] in ("datatype", "unit")
                and r["target"] in (".", "@unit") and r["value"] != "valid UCUM unit"):
            listed.setdefault(found.groups(), {})[r["kind"]] = r["value"]
        found = re.search(r"(\w+Observations?)\[code\[([\w-]+)@([\d.]+)\]\]", r["target"])
        if found and r["kind"] in ("cardinality", "choice") and found.group(1) != "detailPregnancyObservation":
            for tag, code, system in re.findall(r"(\w+Observations?)\[code\[([\w-]+)@([\d.]+)\]\]", r["target"]):
                listed.setdefault((tag, code, system), {})
    ours = {(tag, *s.code): s for tag, slots in PLACE.items() for s in slots}
    assert set(ours) == set(listed) - {("neonateObservations", "139", m.OID_BDS_ELEMENT),  # deprecated (3.2.6)
                                       ("neonateObservations", "1609", m.OID_BDS_ELEMENT)}  # no value set in the lists
    for key, slot in ours.items():
        if "datatype" in listed[key]:  # 108 and 139 give it only as value[non-null][ST]
            assert listed[key]["datatype"] == slot.kind, key
        assert listed[key].get("unit") == slot.unit, key


def test_the_other_parts_are_coded_as_the_templates_say(rows):
    targets = " ".join(r["target"] + " " + r["context"] + " " + r["value"] for r in rows)
    for number in P.MATERIALS:  # administrableMaterialKind code[137|138|629]
        assert re.search(rf"administrableMaterialKind\[code\[[^\]]*\b{number}@{m.OID_BDS_ELEMENT}", targets)
    assert "incubatorAccommodation[code[144@2.16.840.1.113883.2.4.4.40.267]]" in targets
    assert "detailPregnancyObservation[code[745@" in targets and "administrableMedicine[code[vs=2.16.840.1.113883.2.4.3.11.60.100.11.2.134" in targets
    assert any(r["template_name"] == "PeriodeOpnameKinderafdeling" and r["context"].endswith("/effectiveTime")
               and r["target"] == "low | high" for r in (*rows, *_rows_of("10264")))


def _rows_of(template: str) -> list[dict]:
    with ROWS.open(encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["template_id"].endswith("." + template)]


def test_the_three_rubrieken_are_covered_but_for_what_has_no_place():
    cat = get_catalogue("4.1.3")
    members = {e.number for e in cat.elements() if e.rubriek in ("R014", "R015", "R016") and e.status == "active"}
    assert members - P.KNOWN == {1477, 1478}  # G108 Periode geel zien: no template has a place for it
    assert P.KNOWN - P.ELEMENTS == {P.MULTIPLE_NUMBER}  # read, never written (TC03294 against the schema)
    for number in P.KNOWN:
        assert P.rubriek_of(number) == cat.element(number).rubriek, number


# --- ADA instances ------------------------------------------------------------------------------

ADA_INSTANCE = REFERENCE / "ada" / "instances" / "DOB-3.0.0-qual-versturen-XXX_Caarls.xml"
#: R014-R016 as an ADA instance gives them (codes in the HL7 flavour, yes/no as the position in the list)
ADA_BIRTH = {
    "r014_zwangerschap": [
        ("graviditeit", {"value": "2"}), ("pariteit", {"value": "2"}), ("zwangerschapsduur", {"value": "275", "unit": "d"}),
        ("medicijnen_soort", {"code": "01", "codeSystem": "2.16.840.1.113883.2.4.4.40.162", "displayName": "Antibiotica"}),
        ("roken_tijdens_de_zwangerschap", {"value": "2"}), ("drugsgebruik_tijdens_de_zwangerschap", {"value": "1"}),
        ("type_drugsgebruik_tijdens_de_zwangerschap", {"code": "01", "codeSystem": "2.16.840.1.113883.2.4.4.40.306",
                                                        "displayName": "Cannabis/marihuana"}),
        ("moeder_heeft_kinkhoest_doorgemaakt_na_zwangerschapsduur_12w6d", {"value": "false"})],
    "r015_bevalling": [
        ("duur_bevalling", {"value": "300", "unit": "min"}), ("stuitligging_laatste_trimester", {"value": "false"}),
        ("ligging_bij_geboorte", {"code": "01", "codeSystem": "2.16.840.1.113883.2.4.4.40.167", "displayName": "Achterhoofd voor"}),
        ("wijze_van_geboorte", {"value": "spontaan"}),
        ("kleur_vruchtwater", {"code": "1", "codeSystem": "2.16.840.1.113883.2.4.4.13.18", "displayName": "Kleurloos"})],
    "r016_pasgeborene_en_eerste_levensweken": [
        ("meerling", {"value": "nee"}), ("geboortegewicht", {"value": "3400", "unit": "g"}),
        ("geboortelengte", {"value": "505", "unit": "mm"}), ("apgar_score_na_1_min", {"value": "9"}),
        ("apgar_score_na_5_min", {"value": "10"}), ("vitamine_k_toegediendvoorgeschreven", {"value": "1"}),
        ("groep_g109_periode_opname_kinderafdeling", [("startdatum_opname_kinderafdeling", {"value": "DOB"}),
                                                      ("einddatum_opname_kinderafdeling", {"value": "DOB+5D"})]),
        ("couveuse", {"value": "2"})],
}


def with_birth(data: bytes, extra: dict) -> bytes:
    root = etree.fromstring(data)
    activity = root.find(".//r018_activiteit")
    for name, parts in extra.items():
        rubriek = etree.Element(name)
        for tag, attrs in parts:
            child = etree.SubElement(rubriek, tag, attrs if isinstance(attrs, dict) else {})
            for sub, sub_attrs in attrs if isinstance(attrs, list) else []:
                etree.SubElement(child, sub, sub_attrs)
        activity.addprevious(rubriek)
    return etree.tostring(root)


def test_ada_pregnancy_and_newborn_become_the_dob_structures_and_come_back():
    data = ADA_INSTANCE.read_bytes()
    before = read_ada_message(data, reference_date=date(2023, 2, 6), envelope=ENVELOPE)
    after = read_ada_message(with_birth(data, ADA_BIRTH), reference_date=date(2023, 2, 6), envelope=ENVELOPE)
    assert set(after.skipped) == set(before.skipped)  # every item has its place
    message = etree.tostring(after.root)
    errors = {(f.rule, f.xpath) for f in validate_bytes(message).errors}
    assert errors == {(f.rule, f.xpath) for f in validate_bytes(etree.tostring(before.root)).errors}
    event = after.root.find(f".//{H}careProvisionEvent")
    found, unread = P.items(read_node(n) for n in event)
    assert not unread
    given = sum(1 if isinstance(a, dict) else len(a) for parts in ADA_BIRTH.values() for _, a in parts)
    assert len(found) == given
    assert event.find(f"{H}pertinentInformation/{H}pregnancyCondition/{H}templateId").get("root") == P.PREGNANCY_TEMPLATE
    assert event.find(f"{H}component5/{H}neonateData/{H}component1/{H}inPatientEncounter/{H}effectiveTime/{H}high").get("value") \
        == "20091211"  # DOB+5D of Caarls, born 6 December 2009
    weight = next(v for n, v in found if n == 110)
    assert (weight.attrs["value"], weight.attrs["unit"]) == ("3400", "g")
    # and back: the DOB read into ADA holds the same items, the yes/no codes as the list's positions
    again = etree.fromstring(write_ada(read_message(message)))
    for name, parts in ADA_BIRTH.items():
        rubriek = again.find(".//" + name)
        for tag, attrs in parts:
            node = rubriek.find(tag)
            assert node is not None, tag
            for key, value in (attrs.items() if isinstance(attrs, dict) else []):
                if not value.startswith("DOB"):
                    assert node.get(key) == value, (tag, key)


def test_what_the_templates_cannot_hold_is_reported_skipped():
    """3 Onbekend (the yes/no values are [non-null]), a drug type without 93, 109 (TC03294)."""
    extra = {"r014_zwangerschap": [("type_drugsgebruik_tijdens_de_zwangerschap", {
                "code": "01", "codeSystem": "2.16.840.1.113883.2.4.4.40.306", "displayName": "Cannabis/marihuana"})],
             "r016_pasgeborene_en_eerste_levensweken": [("couveuse", {"value": "3"}), ("meerling", {"value": "ja"}),
                                                        ("volgnummer_bij_meerling", {"value": "2"}),
                                                        ("groep_g108_periode_geel_zien", [("startdatum_geel_zien", {"value": "DOB+2D"})])]}
    reading = read_ada_message(with_birth(ADA_INSTANCE.read_bytes(), extra), reference_date=date(2023, 2, 6), envelope=ENVELOPE)
    skipped = {code for _, _, code in reading.skipped}
    assert {"745", "144", "109", "1477"} <= skipped and "108" not in skipped
    assert validate_bytes(etree.tostring(reading.root)).errors == validate_bytes(etree.tostring(
        read_ada_message(ADA_INSTANCE.read_bytes(), reference_date=date(2023, 2, 6), envelope=ENVELOPE).root)).errors


def test_assemble_counts_what_it_cannot_place():
    """Items from another format (a FHIR Bundle) that no template holds are counted, not lost."""
    weight = P.node("value", {"xsi:type": "PQ", "value": "3400", "unit": "g"})
    jaundice = P.node("value", {"xsi:type": "TS", "value": "20240103"})
    nodes, dropped = P.assemble([(110, weight), (110, weight), (1477, jaundice), (109, P.node("value", {"value": "1"}))])
    assert dropped == {110: 1, 1477: 1, 109: 1}
    found, unread = P.items(nodes)
    assert [(n, v.attrs["value"]) for n, v in found] == [(110, "3400")] and not unread


# --- R037, the heel prick (an activity's heelPrick, template 133) ------------------------------

HEEL_PRICK = [("hielprik_afgenomen", {"value": "true"}),
              ("type_hielprik", {"code": "01", "codeSystem": "2.16.840.1.113883.2.4.4.40.66", "displayName": "Eerste hielprik"}),
              ("datum_hielprik", {"value": "DOB+4D"}),
              ("uitslag", {"code": "IND", "codeSystem": "2.16.840.1.113883.5.83", "displayName": "Negatief"}),
              ("naam_uitvoerende_persoon", {"value": "J. Jansen"}),
              ("uitvoerende_instantie_hielprik", {"value": "Screeningsorganisatie"}),
              ("setnummer_vorige_hielprik", {"value": "123"})]  # the request's: not placed


def with_heel_prick(data: bytes) -> bytes:
    root = etree.fromstring(data)
    activity = root.find(".//r018_activiteit")
    r037 = etree.Element("r037_hielprik_pasgeborene", id="r037_new_1")
    for tag, attrs in HEEL_PRICK:
        etree.SubElement(r037, tag, attrs)
    activity.addprevious(r037)
    etree.SubElement(activity, "gekoppeldeActiviteit", value="r037_new_1", datatype="reference")
    return etree.tostring(root)


def test_ada_heel_prick_becomes_the_activity_heel_prick_and_comes_back(tmp_path):
    from jgz_gateway.standards import heelprick

    data = ADA_INSTANCE.read_bytes()
    before = read_ada_message(data, reference_date=date(2023, 2, 6), envelope=ENVELOPE)
    after = read_ada_message(with_heel_prick(data), reference_date=date(2023, 2, 6), envelope=ENVELOPE)
    assert {code for _, _, code in set(after.skipped) - set(before.skipped)} == {"1432"}
    message = etree.tostring(after.root)
    assert {(f.rule, f.xpath) for f in validate_bytes(message).errors} == {
        (f.rule, f.xpath) for f in validate_bytes(etree.tostring(before.root)).errors}
    (prick,) = after.root.iter(H + "heelPrick")
    assert prick.get("negationInd") == "false" and prick.find(f"{H}performer/{H}time").get("value") == "20091210"
    found, _ = heelprick.items(read_node(prick.getparent()))
    assert sorted(n for n, _ in found) == sorted(heelprick.ELEMENTS - {380})
    again = etree.fromstring(write_ada(read_message(message))).find(".//r037_hielprik_pasgeborene")
    for tag, attrs in HEEL_PRICK[:-1]:
        for key, value in attrs.items():
            if not value.startswith("DOB"):
                assert again.find(tag).get(key) == value, (tag, key)
    # the rules of template 133 fire on this message when broken (no reference message has a heel prick)
    sweep = load_tool("rule_sweep")
    base = tmp_path / "heelprick.xml"
    base.write_bytes(message)
    out = tmp_path / "sweep.json"
    assert sweep.main(["--template", "133", "--base", str(base), "--json", str(out)]) == 0
    import json

    results = json.loads(out.read_text())
    assert len([r for r in results if r["status"] == "PASS"]) >= 20 and not [r for r in results if r["status"] == "NOT-FIRED"]
