"""Malformed but well-formed messages on the paths past validation (found by tools/fuzz.py).

A message can be wrong and still be read, converted or shown; each path then answers with
its result or its documented error, never another exception. Each case here is a
reference message with one described fault.
"""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from jgz_gateway.standards.convert import convert_bytes
from jgz_gateway.standards.fhir import FhirError, from_fhir, to_fhir, validate
from jgz_gateway.standards.hl7v3 import read_message
from jgz_gateway.standards.model import OID_BDS_ELEMENT
from jgz_gateway.standards.xmlsafe import HL7_NS, parse_bytes

from ..conftest import reference_messages

NS = {"hl7": HL7_NS}
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def message(name: str) -> etree._Element:
    path = next(p for p in reference_messages() if p.name == name)
    return parse_bytes(path.read_bytes()).getroot()


def xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def changes_of(report, element: str) -> int:
    return sum(1 for c in report.of("dropped", "moved") if c.element == element and c.step == report.steps[0])


@pytest.mark.parametrize("name, target", [
    ("DOB-3.0.0-CR_test_JGZ-rubriek_R019_hl7.xml", "4.2.0"),  # 4.1.3→4.2.0 drops the observation
    ("DOB-4.0.0-R021-CR_test_JGZ-335_hl7.xml", "4.0"),  # 4.2.0→4.1.3 moves it to non-BDS data
])
def test_two_observations_in_one_component_are_both_reported(reference, name, target):
    """A component carries one observation; one with two, of an element the conversion takes
    out, used to crash the converter on the second (its component already gone)."""
    root = message(name)
    _, before = convert_bytes(xml(root), target)
    change = next(c for c in before.of("dropped", "moved")
                  if c.step == before.steps[0] and c.xpath.endswith("hl7:observation"))
    obs = root.xpath(change.xpath, namespaces=NS)[0]
    obs.addnext(copy.deepcopy(obs))

    converted, after = convert_bytes(xml(root), target)

    assert changes_of(after, change.element) == changes_of(before, change.element) + 1
    out = parse_bytes(converted).getroot()
    assert not out.xpath(f"//hl7:observation[hl7:code/@code='{change.element}' and "
                         f"hl7:code/@codeSystem='{OID_BDS_ELEMENT}']", namespaces=NS)


def _first_value(root: etree._Element, xsi_type: str) -> tuple[etree._Element, str]:
    """The first BDS observation value of this type, and its element number."""
    for value in root.iter(f"{{{HL7_NS}}}value"):
        code = value.getparent().find(f"{{{HL7_NS}}}code")
        if (value.get(XSI_TYPE) == xsi_type and code is not None and code.get("codeSystem") == OID_BDS_ELEMENT
                and value.getparent().tag == f"{{{HL7_NS}}}observation"):
            return value, code.get("code")
    raise AssertionError(f"no {xsi_type} value")


def _observations_of(bundle: dict, element: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
            and any(c.get("code") == element for c in e["resource"]["code"].get("coding", []))]


def test_a_coded_value_holding_nothing_shows_no_value_in_fhir(reference):
    """A CV with neither code nor null flavour (schema-valid, rule-invalid) gave an empty
    valueCodeableConcept, which FHIR forbids and which could not be read back."""
    root = message("DOB-3.0.0-qual-versturen-XXX_Caarls-hl7.xml")
    value, element = _first_value(root, "CV")
    for attr in ("code", "codeSystem", "displayName", "nullFlavor"):
        value.attrib.pop(attr, None)

    bundle, _ = to_fhir(read_message(xml(root)))

    shown = _observations_of(bundle, element)
    assert shown and all("valueCodeableConcept" not in o for o in shown[:1])


def test_an_int_value_that_is_no_number_is_shown_as_text(reference):
    root = message("DOB-4.0.0-KWAL_versturen_hl7.xml")
    value, element = _first_value(root, "INT")
    value.set("value", "true")

    bundle, _ = to_fhir(read_message(xml(root)))

    assert any(o.get("valueString") == "true" for o in _observations_of(bundle, element))


@pytest.mark.parametrize("number", ["1e400", "NaN", "12,5", "١٢"])
def test_a_quantity_that_is_no_number_is_shown_as_text(reference, number):
    root = message("DOB-3.0.0-qual-versturen-XXX_Caarls-hl7.xml")
    value, element = _first_value(root, "PQ")
    value.set("value", number)

    bundle, _ = to_fhir(read_message(xml(root)))

    assert any(o.get("valueString") == number for o in _observations_of(bundle, element))


def test_fhir_refuses_empty_elements():
    """FHIR ele-1: every element has a value or children; the R4B models let {} through."""
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueCodeableConcept": {}}}]}
    with pytest.raises(FhirError) as caught:
        validate(bundle)
    assert "Bundle.entry[0].resource.valueCodeableConcept" in str(caught.value.args) + str(caught.value)


def test_an_ada_note_in_another_consent_group_is_skipped_and_reported(reference):
    """G012's note (1407) moved into G071, which has no note: reported as skipped (it has
    no place there), where the reader used to fail on the missing concept."""
    from jgz_gateway.standards.ada import read_ada_message

    root = parse_bytes((reference / "ada" / "instances" / "DOB-3.0.0-toestemmingen.xml").read_bytes()).getroot()
    note = root.find(".//groep_g012_toestemming_info_aan_derden/toelichting_verstrekking_informatie_aan_derden")
    root.find(".//groep_g071_toestemming_aanmelding_lsp").append(note)

    reading = read_ada_message(xml(root))

    assert any(name == "toelichting_verstrekking_informatie_aan_derden" and "groep_g071" in where
               for where, name, _ in reading.skipped)


def _bundle(reference) -> dict:
    path = next(p for p in reference_messages() if p.name == "DOB-4.0.0-KWAL_versturen_hl7.xml")
    return to_fhir(read_message(path.read_bytes()))[0]


def test_a_bundle_with_null_is_refused_with_its_path(reference):
    bundle = _bundle(reference)
    i, obs = next((i, e["resource"]) for i, e in enumerate(bundle["entry"])
                  if e["resource"]["resourceType"] == "Observation" and e["resource"].get("category"))
    obs["category"][0]["coding"] = None  # the R4B models take this as absent

    with pytest.raises(FhirError) as caught:
        from_fhir(bundle)
    assert caught.value.where == f"Bundle.entry[{i}].resource.category[0].coding"


def test_a_bundle_is_read_as_the_fhir_models_understand_it(reference):
    """A number where a dateTime belongs passes the models (as a time stamp); the reader sees
    that date, not the number, and does not trip over it."""
    bundle = _bundle(reference)
    obs = next(e["resource"] for e in bundle["entry"]
               if e["resource"]["resourceType"] == "Observation" and e["resource"].get("effectiveDateTime"))
    obs["effectiveDateTime"] = 0

    dossier = from_fhir(bundle)

    times = [o.effective_time.value for a in dossier.activities for r in a.rubrieken for o in r.observations()
             if o.effective_time is not None]
    assert any(when.startswith("19700101") for when in times)


@pytest.mark.parametrize("field, value, where", [
    ("display", "BDS -1", "Bundle.meta.tag.display"),
    ("code", "REPC_IN000000", "Bundle.meta.tag.code"),
])
def test_a_bundle_of_an_unknown_bds_version_or_interaction_is_refused(reference, field, value, where):
    bundle = _bundle(reference)
    bundle["meta"]["tag"][0][field] = value

    with pytest.raises(FhirError) as caught:
        from_fhir(bundle)
    assert caught.value.where == where


def test_a_consent_without_its_code_is_still_a_consent_in_fhir(reference):
    """A consentEvent without a code (schema-valid, rule-invalid) crashed the FHIR view; its
    Consent now has a category that says so."""
    root = message("DOB-4.0.0-KWAL_versturen_hl7.xml")
    consent = next(root.iter(f"{{{HL7_NS}}}consentEvent"))
    consent.remove(consent.find(f"{{{HL7_NS}}}code"))

    bundle, _ = to_fhir(read_message(xml(root)))

    consents = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Consent"]
    assert {"text": "toestemming of bezwaar zonder code"} in [c["category"][0] for c in consents]


def test_a_quantity_without_its_number_reads_as_no_value(reference):
    """FHIR lets a Quantity have a unit and no value; the reader took the number regardless."""
    bundle = _bundle(reference)
    obs = next(e["resource"] for e in bundle["entry"] if "valueQuantity" in e["resource"])
    del obs["valueQuantity"]["value"]
    element = next(c["code"] for c in obs["code"]["coding"] if c["system"].endswith(".267"))

    dossier = from_fhir(bundle)

    assert any(o.element == int(element) and o.value is None for o in dossier.observations())


def test_an_element_code_that_is_no_ascii_number_is_no_element(reference):
    bundle = _bundle(reference)
    obs = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
               and any(c["system"].endswith(".267") for c in e["resource"]["code"]["coding"]))
    next(c for c in obs["code"]["coding"] if c["system"].endswith(".267"))["code"] = "²"

    dossier = from_fhir(bundle)  # int("²") raised ValueError

    assert [(o.element, o.code.code) for o in dossier.observations() if o.code and o.code.code == "²"] == [(None, "²")]
