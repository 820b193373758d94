"""Every finding the full validator reports on a published Nictiz message, with its reason.

Template-rule *errors* are listed, with reasons, in ``test_template_rules.py``. This test
covers everything else: schema errors and all warnings. Each one is a real defect of the
message or a check the standard cannot settle (named as such below).
"""

from __future__ import annotations

from collections import Counter

import pytest

from jgz_gateway.standards.validation import validate_file

from ..conftest import ref_id, reference_messages

MESSAGES = reference_messages()

# Reasons, by rule:
#  careProvisionDossier (TC00629, Nictiz's own warning): no "Integraal dossier JGZ" (W0084 01) attached.
#  JGZ-BDS-DATE: the published test messages carry creationTime 2000-01-01 (a fixed test value),
#     earlier than the dossier's close date 2020-06-07 and other dates in them.
#  JGZ-BDS-ELEMENT-DEPRECATED: elements 481, 827, 1384 (R013) are type D in the BDS 4.0.2 list the
#     NL03 (4.1.x) catalogue rests on; 5063 is type D in 3.2.6.
#  [NL04] obsElement…/rubricCluster12 warnings: codes or repetitions BDS 4.2.0 introduced (W0114 16–23,
#     W0250, W0209 new codes; element 80 repeatable in G019 by JGZ-518) that the unpublished 4.2.0
#     value sets/templates would settle: not verifiable, so warnings (never errors).
#  R041 TC03016: Nictiz's warning "lotNumberText bevat geen waarde" on a vaccination without a lot number.
#  R047: the known schema defect (annotation with <text>, reference/README.md) plus informIntent with
#     classCode OBS / moodCode EVN and annotation classCode ACT, which the NL03 schema fixes otherwise;
#     TC01385 deprecated interventie code.
#  bds327(-bds400): 3.2.7 data (and Nictiz's unmapped 327→400 conversion of it): BDS-native code systems
#     in HL7 values, codes without code system, deprecated activity/status codes (TC01172, TC14147),
#     an annotation coded "1537-1541" (not an element number), and, under the BDS 4.x templates that
#     REPC_IN902120NL does not define, missing R018 clusters and statusCodes (warnings for NL).

COMMON = Counter({("careProvisionDossier", "warning"): 1, ("JGZ-BDS-DATE", "warning"): 1})
EXPECTED: dict[str, Counter] = {
    "DOB-3.0.0-CR_test_JGZ-rubriek_R041_hl7.xml": COMMON + Counter({("A_Rijksvaccinatie-universal", "warning"): 1}),
    "DOB-3.0.0-CR_test_JGZ-rubriek_R047_hl7.xml": COMMON + Counter({
        ("xsd:SCHEMAV_CVC_ENUMERATION_VALID", "error"): 1, ("xsd:SCHEMAV_CVC_AU", "error"): 2,
        ("xsd:SCHEMAV_ELEMENT_CONTENT", "error"): 1, ("activitiesSubjectOfConclusion", "warning"): 1}),
    "DOB-4.0.0-KWAL_ontvangen_hl7.xml": Counter({("obsElement0080", "warning"): 1, ("JGZ-BDS-DATE", "warning"): 4}),
    "DOB-4.0.0-KWAL_versturen_hl7.xml": Counter({
        ("obsElement0422", "warning"): 1, ("obsElement1392", "warning"): 1, ("rubricCluster12", "warning"): 1,
        ("obsElement0080", "warning"): 2, ("JGZ-BDS-DATE", "warning"): 1}),
    "DOB-4.0.0-R012-CR_test_JGZ-106_hl7.xml": COMMON + Counter({("obsElement0080", "warning"): 8}),
    "DOB-4.0.0-R012-CR_test_JGZ-518_hl7.xml": COMMON + Counter({("rubricCluster12", "warning"): 3}),
    "DOB-4.0.0-R021-CR_test_JGZ-127_hl7.xml": COMMON + Counter({("obsElement0324", "warning"): 1}),
    "DOB-4.0.0-R026-CR_test_JGZ-178_hl7.xml": COMMON + Counter({("obsElement0422", "warning"): 1, ("obsElement1392", "warning"): 1}),
    "DOB-4.0.0-R041-CR_test_JGZ-xxx_vaccinatie-test_hl7.xml": COMMON + Counter({("JGZ-BDS-DATE", "warning"): 1}),
    "DOB-3.0.0-qual-ontvangen-XXX_Braaks-hl7.xml": Counter({("JGZ-BDS-ELEMENT-DEPRECATED", "warning"): 2}),
    "DOB-3.0.0-qual-versturen-XXX_Caarls-hl7.xml": Counter({("JGZ-BDS-ELEMENT-DEPRECATED", "warning"): 3}),
    "DOB-3.0.0-qual-versturen-XXX_Kallasingh-hl7.xml": Counter({("JGZ-BDS-ELEMENT-DEPRECATED", "warning"): 4}),
    "DOB-3.0.0-test-hl7-bds327-bds400.xml": COMMON + Counter({
        ("xsd:SCHEMAV_ELEMENT_CONTENT", "error"): 1, ("activityEncounterEVN", "warning"): 1, ("obsElement1605", "warning"): 1,
        ("JGZ-BDS-VALUESET", "warning"): 27, ("JGZ-BDS-ELEMENT-DEPRECATED", "warning"): 6}),
    "DOB-3.0.0-test-hl7-bds327.xml": COMMON + Counter({
        ("activityEncounterEVN", "warning"): 7, ("activitiesConsultant", "warning"): 1, ("obsElement0080", "warning"): 4,
        ("obsElement0070", "warning"): 4, ("obsElement0481", "warning"): 2, ("obsElement0827", "warning"): 3,
        ("obsElement0739", "warning"): 2, ("obsElement1414", "warning"): 1, ("rubricCluster43", "warning"): 1,
        ("obsElement1495", "warning"): 1, **{(f"obsElement{n}", "warning"): 1 for n in range(1174, 1182)},
        ("activityEncounterINT", "warning"): 7, ("JGZ-BDS-ELEMENT-UNKNOWN", "warning"): 1,
        ("JGZ-BDS-ELEMENT-DEPRECATED", "warning"): 1}),
    "DOB-3.0.0-test-hl7.xml": Counter({
        ("activityEncounterEVN", "warning"): 1, ("obsElement1605", "warning"): 1,
        ("JGZ-BDS-ELEMENT-DEPRECATED", "warning"): 5, ("JGZ-BDS-DATE", "warning"): 1}),
}


def _template_error(f) -> bool:
    return f.severity == "error" and not f.rule.startswith(("xsd:", "JGZ-"))


@pytest.mark.parametrize("path", MESSAGES, ids=ref_id)
def test_every_other_finding_is_expected(path):
    report = validate_file(path)
    got = Counter((f.rule, f.severity) for f in report.findings if not _template_error(f))
    assert got == EXPECTED.get(path.name, COMMON)


def test_r047_schema_error_is_reported_precisely(reference):
    path = reference / "hl7v3" / "examples" / "nl03-jgz7.0" / "DOB-3.0.0-CR_test_JGZ-rubriek_R047_hl7.xml"
    report = validate_file(path)
    text = [f for f in report.findings if f.rule == "xsd:SCHEMAV_ELEMENT_CONTENT"]
    assert len(text) == 1 and not report.valid
    assert text[0].xpath.endswith("/hl7:subjectOf1/hl7:conclusion/hl7:subjectOf/hl7:annotation/hl7:text")
    assert "line 227" in text[0].message and "text" in text[0].message


def test_all_nl04_messages_are_accepted():
    """Nictiz's own 4.2.0 qualification and change-request messages must get through."""
    nl04 = [p for p in MESSAGES if p.parent.name.startswith("nl04")]
    assert len(nl04) == 28
    assert all(validate_file(p).valid for p in nl04)
