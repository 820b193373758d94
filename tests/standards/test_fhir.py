"""The FHIR R4 view of every reference message: valid R4B, nl-core profiles, the mapped
resources agree with the dossier, the coverage report lists every BDS element, and
FHIR → model → FHIR is stable."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from jgz_gateway.cli import app
from jgz_gateway.standards.validation import validate_file
from jgz_gateway.standards.convert import convert_bytes
from jgz_gateway.standards.fhir import FhirError, from_fhir, to_fhir, validate
from jgz_gateway.standards.fhir import _checked, terms
from jgz_gateway.standards.hl7v3 import read_message
from jgz_gateway.standards.model import OID_BDS_ELEMENT

from ..conftest import REFERENCE, misplace_observation, ref_id, reference_messages

MESSAGES = reference_messages()


@pytest.fixture(scope="module")
def profiles(reference) -> set[str]:
    """Every profile URL published in reference/fhir-nl (zib2020 and vaccination-immunization)."""
    urls = set()
    for path in (reference / "fhir-nl").rglob("*.xml"):
        root = etree.parse(str(path)).getroot()
        if etree.QName(root).localname == "StructureDefinition":
            urls.add(root.find("{http://hl7.org/fhir}url").get("value"))
    return urls


def resources(bundle, kind):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def is_non_bds(obs):
    """Items of an activity's nonBDSData carry rubriek R051 as their category."""
    return any(c.get("code") == "R051" for cat in obs.get("category", []) for c in cat.get("coding", []))


def conclusion_elements(data: bytes) -> Counter:
    """R047 elements of the activities, counted in the message: the conclusion's text (482),
    indications (485), interventions (483), referral targets (1159) and letters (1494), notes (493)."""
    root = etree.fromstring(data)
    ns = {"h": "urn:hl7-org:v3"}
    enc = "//h:component7/h:encounter"
    ind = f"{enc}/h:subjectOf1/h:conclusion/h:component/h:indication"
    paths = {"482": f"{enc}/h:subjectOf1/h:conclusion/h:text[normalize-space()]",
             "485": f"{ind}/h:value",
             "483": f"{ind}/h:reasonOf/*[self::h:actIntent or self::h:referral]/h:code",
             "1159": f"{ind}/h:reasonOf/h:referral/h:performer/h:assignedEntity/h:code",
             "1494": f"{ind}/h:reasonOf/h:referral/h:component/h:additionalObservation/h:value[@value='true' or @value='false']",
             "493": f"({enc}/h:subjectOf1/h:conclusion/h:subjectOf | {enc}/h:subjectOf2)"
                    "/h:annotation[h:code/@code='493']/h:value[normalize-space()]"}
    return Counter({k: len(root.xpath(x, namespaces=ns)) for k, x in paths.items() if root.xpath(x, namespaces=ns)})


@pytest.mark.parametrize("path", MESSAGES, ids=ref_id)
def test_view_agrees_with_the_dossier(path, profiles):
    data = path.read_bytes()
    dossier = read_message(data)
    if dossier.bds_version.startswith("3."):  # shown as BDS 4.1.3 (through the converter)
        data, _ = convert_bytes(data, "4.1.3")
        dossier = read_message(data)
    bundle, coverage = to_fhir(dossier)  # validated with the R4B models
    for entry in bundle["entry"]:
        for url in entry["resource"].get("meta", {}).get("profile", []):
            assert url in profiles
    patient, = resources(bundle, "Patient")
    if dossier.bsn:
        assert {"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": dossier.bsn} in patient["identifier"]
    assert len(resources(bundle, "Encounter")) == len(dossier.activities)
    vaccinations = [v for a in dossier.activities for v in a.vaccinations]
    immunizations = resources(bundle, "Immunization")
    assert len(immunizations) == len(vaccinations)
    assert sorted(i["status"] for i in immunizations) == sorted(
        "not-done" if v.negation_ind == "true" else "completed" for v in vaccinations)
    assert len(resources(bundle, "Consent")) == len(dossier.consents)
    # every BDS observation of the activities is an Observation coded with its element
    coded = Counter(c["code"] for o in resources(bundle, "Observation")
                    if "encounter" in o and "partOf" not in o and not is_non_bds(o)
                    for c in o["code"].get("coding", []) if c["system"] == terms.BDS_ELEMENT)
    expected = Counter(str(o.element) for o in dossier.observations() if o.element is not None)
    assert coded == expected + conclusion_elements(data)
    # growth in UCUM with the BDS value converted (mm → cm)
    by_element = {}
    for o in dossier.observations():
        if o.element in terms.GROWTH and o.value is not None and o.value.type == "PQ":
            by_element.setdefault(o.element, []).append(float(o.value.value))
    for obs in resources(bundle, "Observation"):
        loinc = [c["code"] for c in obs["code"].get("coding", []) if c["system"] == terms.LOINC]
        if loinc:
            element = next(n for n, g in terms.GROWTH.items() if g[1] == loinc[0])
            q = obs["valueQuantity"]
            assert q["system"] == terms.UCUM and q["code"] == terms.GROWTH[element][3]
            assert any(abs(q["value"] - v * float(terms.GROWTH[element][4])) < 1e-9 for v in by_element[element])
            assert terms.PROFILE + terms.GROWTH[element][0] in obs["meta"]["profile"]


@pytest.mark.parametrize("path", MESSAGES, ids=ref_id)
def test_coverage_lists_every_bds_element_of_the_message(path):
    data = path.read_bytes()
    dossier = read_message(data)
    bundle, coverage = to_fhir(dossier, check=False)
    present = {el.get("code") for el in etree.fromstring(data).iter()
               if isinstance(el.tag, str) and el.get("codeSystem") == OID_BDS_ELEMENT and (el.get("code") or "").isdigit()}
    listed = {row["element"]: row for row in coverage["elements"]}
    assert present <= set(listed)
    assert set(coverage["unmapped_elements"]) == {k for k, r in listed.items() if r["status"] != "mapped"}
    for row in listed.values():
        assert (row["status"] == "mapped") == (row["mapped"] == row["occurrences"])
        assert bool(row["fhir"]) == (row["mapped"] > 0)


@pytest.mark.parametrize("path", MESSAGES, ids=ref_id)
def test_fhir_to_model_to_fhir_is_stable(path):
    bundle, _ = to_fhir(read_message(path.read_bytes()), check=False)
    again, _ = to_fhir(from_fhir(bundle))
    assert again == bundle
    # the FHIR models read the view's Bundles as they are (the migration's loss count relies on it)
    assert _checked(bundle, read=True) == bundle


def test_refusals_keep_the_objection_and_its_reason():
    """A refused vaccination with a negated consent is not-done for patient objection;
    the 683 reason survives FHIR → model."""
    def objections(dossier):
        out = []
        for vac in (v for a in dossier.activities for v in a.vaccinations):
            consent = next((n.child("consentEvent") for n in vac.extra if n.name == "authorization"), None)
            if vac.negation_ind == "true" and consent is not None and consent.attrs.get("negationInd") == "true":
                value = consent.find("reasonOf/observationEvent/value")
                out.append(None if value is None else (value.attrs.get("code"), value.attrs.get("nullFlavor")))
        return out

    seen = 0
    for path in MESSAGES:
        dossier = read_message(path.read_bytes())
        expected = objections(dossier)
        if not expected:
            continue
        bundle, _ = to_fhir(dossier, check=False)
        refused = [i for i in resources(bundle, "Immunization") if i["status"] == "not-done"]
        assert sum(1 for i in refused for c in i.get("statusReason", {}).get("coding", [])
                   if c["code"] == terms.PATIENT_OBJECTION["code"]) == len(expected)
        assert objections(from_fhir(bundle)) == expected
        seen += 1
    assert seen


def test_vaccines_carry_atc_where_mapped(reference):
    msg = REFERENCE / "hl7v3" / "examples" / "nl04-jgz8.0" / "DOB-4.0.0-R041-CR_test_JGZ-xxx_vaccinatie-test_hl7.xml"
    bundle, _ = to_fhir(read_message(msg.read_bytes()))
    checked = 0
    for imm in resources(bundle, "Immunization"):
        rivm = [c["code"] for c in imm["vaccineCode"].get("coding", []) if c["system"] == "urn:oid:" + terms.RIVM_VACCINE_OID]
        atc = [c["code"] for c in imm["vaccineCode"].get("coding", []) if c["system"] == terms.ATC]
        for code in rivm:
            assert atc == ([terms.RIVM_TO_ATC[code][0]] if code in terms.RIVM_TO_ATC else [])
            checked += 1
    assert checked


def test_dates_keep_dutch_time():
    assert terms.fhir_date("20230203") == "2023-02-03"
    assert terms.fhir_date("20230703151814") == "2023-07-03T15:18:14+02:00"
    assert terms.fhir_date("20230103151814") == "2023-01-03T15:18:14+01:00"
    for ts in ("20230203", "20230703151814", "2023"):
        assert terms.hl7_date(terms.fhir_date(ts)) == ts


def test_invalid_bundles_are_refused(reference):
    bundle, _ = to_fhir(read_message(MESSAGES[0].read_bytes()))
    broken = json.loads(json.dumps(bundle))
    obs = next(e["resource"] for e in broken["entry"] if e["resource"]["resourceType"] == "Observation")
    del obs["status"]
    with pytest.raises(FhirError, match="status"):
        validate(broken)
    with pytest.raises(FhirError):
        from_fhir({"resourceType": "Patient"})
    two = json.loads(json.dumps(bundle))
    two["entry"].append(json.loads(json.dumps(next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"))))
    with pytest.raises(FhirError, match="one Patient"):
        from_fhir(two)


def test_cli_fhir_and_parse_from_fhir(tmp_path: Path, reference):
    runner = CliRunner()
    out, report = tmp_path / "bundle.json", tmp_path / "coverage.json"
    result = runner.invoke(app, ["fhir", str(MESSAGES[-1]), "-o", str(out), "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["resourceType"] == "Bundle"
    assert json.loads(report.read_text())["summary"]["elements"] > 0
    dossier, message = tmp_path / "dossier.json", tmp_path / "again.xml"
    result = runner.invoke(app, ["parse", "--from", "fhir", str(out), "-o", str(dossier)])
    assert result.exit_code == 0, result.output
    assert json.loads(dossier.read_text())["patient"]
    # a Bundle's facts are built into a DOB: parse then build gives a message that validates
    result = runner.invoke(app, ["build", str(dossier), "-o", str(message)])
    assert result.exit_code == 0, result.output
    assert validate_file(message).valid, [f.message for f in validate_file(message).errors]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = runner.invoke(app, ["parse", "--from", "fhir", str(bad)])
    assert result.exit_code == 2 and re.search("not valid JSON: .*line 1, column 2", result.output) and "Traceback" not in result.output
    # the same Bundle in FHIR XML parses to the same dossier
    from fhir.resources.R4B.bundle import Bundle

    xml, again = tmp_path / "bundle.xml", tmp_path / "dossier-from-xml.json"
    xml.write_bytes(Bundle.model_validate(json.loads(out.read_text())).model_dump_xml())
    result = runner.invoke(app, ["parse", "--from", "fhir", str(xml), "-o", str(again)])
    assert result.exit_code == 0, result.output
    assert json.loads(again.read_text()) == json.loads(dossier.read_text())


@pytest.mark.parametrize("path", reference_messages(), ids=ref_id)
def test_the_coverage_report_counts_every_element_code_of_the_message(path):
    """What the view maps and what it cannot are both in its coverage report: per BDS element,
    the report's occurrences are at least the message's codes (as BDS 4, which the view speaks;
    a non-BDS item's own question code aside)."""
    data = path.read_bytes()
    dossier = read_message(data)
    _, report = to_fhir(dossier, check=False)
    if dossier.interaction == "REPC_IN902120NL":
        data = convert_bytes(data, "4.1.3")[0]
    codes = Counter(c.get("code") for c in etree.fromstring(data).iter("{urn:hl7-org:v3}code")
                    if c.get("codeSystem") == OID_BDS_ELEMENT and (c.get("code") or "").isdecimal()
                    and etree.QName(c.getparent()).localname != "nonBDSData")
    counted = {row["element"]: row["occurrences"] for row in report["elements"]}
    assert {n: k for n, k in codes.items() if k > counted.get(n, 0)} == {}


@pytest.mark.parametrize("mode", ["value", "code", "text"])
def test_an_element_the_view_does_not_see_is_reported_unmapped(mode):
    """An observation inside another's value or code, or with text in its code (kept verbatim
    or untyped by the reader): the view has no place for it, and its coverage report counts it
    as an unmapped occurrence (the census of the dossier) instead of leaving it out."""
    root = etree.fromstring((REFERENCE / "ada" / "hl7" / "DOB-3.0.0-qual-versturen-XXX_Caarls-hl7.xml").read_bytes())
    number = misplace_observation(root, mode)
    _, report = to_fhir(read_message(etree.tostring(root)))
    (row,) = [r for r in report["elements"] if r["element"] == number]
    assert row["occurrences"] - row["mapped"] == 1 and number in report["unmapped_elements"]


@pytest.mark.parametrize("when, date, creation", [
    ("20200101", "2020-01-01T00:00:00+01:00", "2020-01-01"),  # a date alone: midnight, Dutch time
    ("20200101+0100", "2020-01-01T00:00:00+01:00", "2020-01-01"),  # a date with its zone
    ("20200715143000", "2020-07-15T14:30:00+02:00", "2020-07-15T14:30:00+02:00"),
    ("202001", None, "2020-01"),  # known to the month: no instant, the month kept in creation
    ("2020", None, "2020"),
])
def test_an_attachments_date_of_any_precision(reference, when, date, creation):
    """DocumentReference.date is an instant; TS allows any precision (and a zone on a date). A
    month crashed the view (day 0) and a zoned date gave an invalid instant."""
    root = etree.fromstring((reference / "hl7v3/examples/nl04-jgz8.0/DOB-4.0.0-KWAL_versturen_hl7.xml").read_bytes())
    next(root.iter("{urn:hl7-org:v3}document")).find("{urn:hl7-org:v3}effectiveTime").set("value", when)
    bundle, _ = to_fhir(read_message(etree.tostring(root)))
    doc = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference")
    assert doc.get("date") == date and doc["content"][0]["attachment"]["creation"] == creation


@pytest.mark.parametrize("ts, fhir", [
    ("190001011230", "1900-01-01T12:10:28+00:00"),  # Amsterdam mean time, +00:19:32: given in UTC
    ("19370701120000", "1937-07-01T12:00:00+01:20"),
    ("20200101120000", "2020-01-01T12:00:00+01:00"),
    ("20200701120000", "2020-07-01T12:00:00+02:00"),
])
def test_dutch_local_time_of_any_year_is_a_fhir_datetime(ts, fhir):
    """Nictiz's test messages date contacts 1900-01-01; with a time, Amsterdam's offset then had
    seconds, which FHIR cannot write: the moment is given in UTC instead, and reads back the same."""
    assert terms.fhir_date(ts) == fhir
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", fhir)
    assert terms.hl7_date(fhir) == ts.ljust(14, "0")


@pytest.mark.parametrize("mm, cm", [("133", 13.3), ("1234.56", 123.456), ("0.0000001", 1e-08),
                                    ("12.345678912", 1.2345678912), ("7000", 700)])
def test_a_measurement_keeps_every_digit(reference, mm, cm):
    """Lengte (235) in mm is shown in cm (nl-core-BodyHeight) and read back in mm: the value
    keeps all its digits both ways (floats rounded to 6 decimals gave 1E-7 as 0)."""
    root = etree.fromstring((reference / "hl7v3/examples/nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R027_hl7.xml").read_bytes())
    value = next(c for c in root.iter("{urn:hl7-org:v3}code") if c.get("code") == "235").getnext()
    value.set("value", mm)
    bundle, _ = to_fhir(read_message(etree.tostring(root)))
    (obs,) = [o for o in resources(bundle, "Observation")
              if any(c.get("code") == "8302-2" for c in o["code"]["coding"])]
    assert obs["valueQuantity"]["value"] == cm and obs["valueQuantity"]["code"] == "cm"
    back = next(o for o in from_fhir(bundle).observations() if o.element == 235)
    assert (back.value.value, back.value.unit) == (mm, "mm")


def _as_a_server_returns_it(bundle: dict) -> dict:
    """The Bundle as a FHIR server gives it back: RESTful fullUrls (``https://…/Type/id``) and
    relative references (``Encounter/id``) instead of ``urn:uuid``s."""
    names = {}
    for e in bundle["entry"]:
        res = e["resource"]
        names[e["fullUrl"]] = f'{res["resourceType"]}/{e["fullUrl"].rsplit(":", 1)[-1]}'
    text = json.dumps(bundle)
    for full, relative in names.items():
        text = text.replace(f'"{full}"', f'"{relative}"')
    served = json.loads(text)
    for e, relative in zip(served["entry"], names.values()):
        e["fullUrl"] = f"https://fhir.example.org/fhir/{relative}"
        e["resource"]["id"] = relative.split("/")[1]
    return served


@pytest.mark.parametrize("path", [p for p in MESSAGES if "KWAL" in p.name or "qual" in p.name], ids=ref_id)
def test_a_bundle_with_relative_references_reads_the_same(path):
    """FHIR resolves a relative reference against the referring entry's RESTful fullUrl; the
    reader only knew the view's own urn:uuid form, so a Bundle stored on and read back from a
    FHIR server was refused ("Immunization without the Encounter of its activity")."""
    bundle, _ = to_fhir(read_message(path.read_bytes()), check=False)
    served = _as_a_server_returns_it(bundle)
    assert "urn:uuid" not in json.dumps(served)
    assert from_fhir(served) == from_fhir(bundle)
