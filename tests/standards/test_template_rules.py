"""Nictiz's DOB schematron rules, checked natively (jgz_gateway.standards.validation.templates).

(a) every reference message gives exactly the errors it really has, each listed with its
    reason; (b) single faults, made with lxml on real messages, give exactly the rule id and
    severity the published rule prescribes and nothing else; (c) the semantics of the rule
    language (first context per pattern, every operation) on synthetic rules; (d) odd trees
    never make the engine raise; (e) the committed rule file is what the importer builds.
"""

from __future__ import annotations

import copy
import gzip
import json
import random
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from jgz_gateway.standards.validation import datatypes, paths, templates
from jgz_gateway.standards.validation.paths import xsi_type
from jgz_gateway.standards.xmlsafe import parse_bytes

from ..conftest import REFERENCE, ref_id, reference_messages

H = "{urn:hl7-org:v3}"
XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
NS = {"hl7": "urn:hl7-org:v3"}
MESSAGES = reference_messages()
NL03 = REFERENCE / "hl7v3" / "examples" / "nl03-jgz7.0"
NL04 = REFERENCE / "hl7v3" / "examples" / "nl04-jgz8.0"
ADA = REFERENCE / "ada" / "hl7"
BASE = NL03 / "DOB-3.0.0_JGZ-base_hl7.xml"
TEST = ADA / "DOB-3.0.0-test-hl7.xml"
R041 = NL03 / "DOB-3.0.0-CR_test_JGZ-rubriek_R041_hl7.xml"
R047 = NL03 / "DOB-3.0.0-CR_test_JGZ-rubriek_R047_hl7.xml"
CAARLS = ADA / "DOB-3.0.0-qual-versturen-XXX_Caarls-hl7.xml"
CPE = "/hl7:REPC_IN902120NL03/hl7:ControlActProcess/hl7:subject/hl7:CareProvisionRequest/hl7:sequelTo/hl7:careProvisionEvent"

pytestmark = pytest.mark.skipif(not REFERENCE.exists(), reason="reference artefacts not found")


def load(path: Path):
    return parse_bytes(path.read_bytes()).getroot()


def interaction_of(root) -> str:
    return etree.QName(root).localname


def check(root, interaction: str | None = None):
    return templates.check_templates(root, interaction or interaction_of(root))


def key(f) -> tuple:
    return (f.severity, f.rule, f.message.split(" ", 1)[0])


# --------------------------------------------------------------------------- (a) reference messages

# Every error the engine reports on a published message, with the reason it is a real defect
# of that message. Paths start at the dossier (~ = careProvisionEvent).
EXPECTED_ERRORS = {
    # performer ids: UZI number and AGB code "1234567" (7 digits; UZI needs 9, AGB 8)
    "DOB-3.0.0-CR_test_JGZ-rubriek_R018_hl7.xml": [
        ("TC01195", "dtr1-2-II.NL.UZI", "~/hl7:component7/hl7:encounter/hl7:performer/hl7:assignedEntity/hl7:id[1]"),
        ("TC01201", "dtr1-2-II.NL.AGB", "~/hl7:component7/hl7:encounter/hl7:performer/hl7:assignedEntity/hl7:id[3]"),
    ],
    # element 184 (Bijzonderheden tonsillen) is <value xsi:type="ST"/>: empty and not null
    "DOB-3.0.0-CR_test_JGZ-rubriek_R023_hl7.xml": [
        ("TC05220", "dtr1-1-BIN",
         "~/hl7:component7/hl7:encounter/hl7:pertinentInformation[2]/hl7:rubricCluster/hl7:component[10]/hl7:observation/hl7:value"),
    ],
    # vaccination with negationInd=true and an authorization (objection) still has lotNumberText
    "DOB-3.0.0-CR_test_JGZ-rubriek_R041_hl7.xml": [
        ("TC03015", "A_Rijksvaccinatie-universal", "~/hl7:component7/hl7:encounter/hl7:component3[1]/hl7:substanceAdministration"),
    ],
    # referral with code 8 where the indication template admits only referral code 6;
    # the conclusion's annotation has <text> (schema error, see reference/README.md) and no value
    "DOB-3.0.0-CR_test_JGZ-rubriek_R047_hl7.xml": [
        ("TC01376", "activitiesSubjectOfConclusion",
         "~/hl7:component7/hl7:encounter/hl7:subjectOf1/hl7:conclusion/hl7:component/hl7:indication/hl7:reasonOf[4]"),
        ("TC01422", "activitiesSubjectOfConclusion",
         "~/hl7:component7/hl7:encounter/hl7:subjectOf1/hl7:conclusion/hl7:subjectOf/hl7:annotation"),
    ],
    # the responsible organisation's URA is the unfilled template placeholder "{$orgId}"
    "DOB-3.0.0-qual-ontvangen-XXX_Braaks-hl7.xml": [
        ("TC04027", "dtr1-2-II.NL.URA", "~/hl7:author/hl7:assignedEntity/hl7:id"),
    ],
    "DOB-3.0.0-qual-versturen-XXX_Caarls-hl7.xml": [
        ("TC04027", "dtr1-2-II.NL.URA", "~/hl7:author/hl7:assignedEntity/hl7:id"),
    ],
    "DOB-3.0.0-qual-versturen-XXX_Kallasingh-hl7.xml": [
        ("TC04027", "dtr1-2-II.NL.URA", "~/hl7:author/hl7:assignedEntity/hl7:id"),
    ],
    # BDS 3.2.7 data converted to 4.0 without mapping its codes: values keep the 3.2 code
    # systems (2.16.840.1.113883.2.4.3.11.60.100.12.114/.115/.116/.117/.118/.119/.653/.656),
    # element 1495 uses code system .40.372 (W0669 is .40.420), elements 1174-1181 have
    # code "1" without code system, and element 1006 (scan) sits in rubric R043 (BFMT)
    "DOB-3.0.0-test-hl7-bds327-bds400.xml": [
        *[(row, rule, f"~/hl7:component7[1]/hl7:encounter/hl7:pertinentInformation[2]/hl7:rubricCluster/hl7:component[{c}]"
                      "/hl7:groupCluster/hl7:component/hl7:observation")
          for c, rule, rows in ((2, "obsElement0080", ("TC04908", "TC04909")), (3, "obsElement0080", ("TC04908", "TC04909")),
                                (4, "obsElement0070", ("TC04862", "TC04863")), (5, "obsElement0070", ("TC04862", "TC04863")))
          for row in rows],
        *[(row, rule, f"~/hl7:component7[1]/hl7:encounter/hl7:pertinentInformation[3]/hl7:rubricCluster/hl7:component[{c}]/hl7:observation")
          for c, row, rule in ((1, "TC06517", "obsElement0481"), (2, "TC06517", "obsElement0481"), (3, "TC07667", "obsElement0827"),
                               (4, "TC07667", "obsElement0827"), (5, "TC07667", "obsElement0827"), (6, "TC06604", "obsElement0739"),
                               (7, "TC06604", "obsElement0739"), (8, "TC13231", "obsElement1414"))],
        ("TC02833", "rubricCluster43", "~/hl7:component7[1]/hl7:encounter/hl7:pertinentInformation[22]/hl7:rubricCluster"),
        ("TC13657", "obsElement1495",
         "~/hl7:component7[1]/hl7:encounter/hl7:pertinentInformation[23]/hl7:rubricCluster/hl7:component[3]/hl7:observation"),
        *[(f"TC{row}", f"obsElement{element}",
           f"~/hl7:component7[1]/hl7:encounter/hl7:pertinentInformation[25]/hl7:rubricCluster/hl7:component[{c}]/hl7:observation")
          for c, element, row in ((2, 1174, "11583"), (3, 1175, "11600"), (4, 1176, "11617"), (5, 1177, "11635"),
                                  (6, 1178, "11653"), (7, 1179, "11670"), (8, 1180, "11687"), (9, 1181, "11704"))],
    ],
}


def test_reference_corpus():
    assert len(MESSAGES) == 62
    assert set(EXPECTED_ERRORS) <= {p.name for p in MESSAGES}


@pytest.mark.parametrize("path", MESSAGES, ids=ref_id)
def test_reference_message_errors(path):
    findings = check(load(path))
    errors = sorted((f.message.split(" ", 1)[0], f.rule, f.xpath.replace(CPE, "~")) for f in findings if f.severity == "error")
    assert errors == sorted(EXPECTED_ERRORS.get(path.name, []))
    assert not [f for f in findings if f.rule.startswith("JGZ-RULE")]


@pytest.mark.parametrize("path", MESSAGES, ids=ref_id)
def test_generated_code_agrees_with_reference_closures(path, monkeypatch):
    root = load(path)
    compiled = [f.as_dict() for f in check(root)]
    monkeypatch.setattr(templates.Run, "compiled", False)
    assert [f.as_dict() for f in check(root)] == compiled


def test_nl04_reference_messages_only_warn_where_bds_420_differs():
    """No NL04 reference message has an error; what 4.1.3 would reject there are warnings."""
    notes = Counter()
    for path in sorted(NL04.glob("*.xml")):
        for f in check(load(path)):
            assert f.severity != "error", f
            if "[NL04:" in f.message:
                notes[f.message.split(" ", 1)[0]] += 1
    # element 80 repeated within one G019 (4.1.3 allows one) and 4.2.0 codes of W0114/W0250/W0209
    assert notes["TC02117"] == 4
    assert notes["TC04908"] and notes["TC06350"] and notes["TC13146"] and notes["TC06066"]


def test_finding_fields():
    root = load(BASE)
    obs = root.xpath("//hl7:observation", namespaces=NS)[0]
    obs.set("classCode", "OBSX")
    (f,) = [f for f in check(root) if f.severity == "error"]
    assert f.rule == "obsElement1577" and f.element == "1577"
    assert f.message == "TC13864 (obsElement1577): de waarde van classCode MOET 'OBS' zijn. Gevonden: \"OBSX\""
    assert f.xpath.endswith("/hl7:rubricCluster/hl7:component[1]/hl7:observation")
    assert root.xpath(f.xpath, namespaces=NS) == [obs]


# --------------------------------------------------------------------------- (b) single faults

_BEFORE: dict = {}


def baseline(path: Path, interaction: str | None) -> Counter:
    k = (path, interaction)
    if k not in _BEFORE:
        root = load(path)
        if interaction:
            rename(root, interaction)
        _BEFORE[k] = Counter(key(f) for f in check(root))
    return _BEFORE[k]


def rename(root, interaction: str) -> None:
    """The same message as another DOB interaction (root name and interaction id)."""
    root.tag = H + interaction
    root.find(H + "interactionId").set("extension", interaction)


def xp(root, path: str):
    return root.xpath(path, namespaces=NS)


def obs(root, element: int):
    return xp(root, f'//hl7:observation[hl7:templateId/@root="2.16.840.1.113883.2.4.6.10.100.4{element:04d}"]')[0]


def drop(el, *attrs):
    for a in attrs:
        el.attrib.pop(a, None)


def set_code(el, code):
    el.set("code", code)


E, W, I = "error", "warning", "info"  # noqa: E741 - read as the severities' initials
WRAPPER = "VersturenDossieroverdrachtverzoek"

# (id, message, interaction or None, mutation, expected new findings (severity, rule, row))
FAULTS = [
    # cardinality
    ("card-min", BASE, None, lambda r: r.remove(r.find(H + "creationTime")), [(E, WRAPPER, "TC00003")]),
    ("card-max", BASE, None, lambda r: r.find(H + "versionCode").addnext(copy.deepcopy(r.find(H + "versionCode"))),
     [(E, WRAPPER, "TC00004")]),
    ("card-root-and-extension", BASE, None, lambda r: drop(r.find(H + "id"), "extension"), [(E, "MCCI_MT000100", "TC00024")]),
    ("card-attribute", BASE, None, lambda r: drop(r.find(H + "attentionLine").find(H + "value"), XSI + "type"),
     [(E, "TransmissionWrapperAttentionLine", "TC00058")]),
    ("card-high-required", BASE, None, lambda r: xp(r, "//hl7:careProvisionEvent/hl7:effectiveTime/hl7:high")[0].getparent().clear(),
     [(E, "careProvisionDossier", "TC00655"), (E, "Periode-M-Start-O-Eind-M", "TC00652")]),
    # choice (and the irregular TC00372: no author entity at all)
    ("choice", BASE, None, lambda r: xp(r, "//hl7:participant")[0].remove(xp(r, "//hl7:AssignedDevice")[0]),
     [(E, "ControlActAuthorOrPerformer", "TC00377"), (E, WRAPPER, "TC00372")]),
    # fixed values
    ("fixed", BASE, None, lambda r: xp(r, "//hl7:observation")[0].set("classCode", "OBSX"), [(E, "obsElement1577", "TC13864")]),
    ("fixed-tokens", TEST, None, lambda r: xp(r, '//hl7:patientPerson/hl7:name[@use="L"]/hl7:prefix')[0].set("qualifier", "VV  XX"),
     [(E, "NaamKindZoalsBekendBijInstelling", "TC04186")]),
    ("fixed-tokens-whitespace", TEST, None,
     lambda r: xp(r, '//hl7:patientPerson/hl7:name[@use="L"]/hl7:prefix')[0].set("qualifier", "BR \t VV"), []),
    # value sets
    ("value-set", TEST, None, lambda r: set_code(xp(r, "//hl7:administrableMedicine/hl7:code")[0], "999"),
     [(E, "A_Rijksvaccinatie-universal", "TC03047")]),
    ("vs-context-code", BASE, None, lambda r: set_code(obs(r, 1577).find(H + "value"), "99"), [(E, "obsElement1577", "TC13868")]),
    ("vs-context-exception", BASE, None,
     lambda r: (drop(obs(r, 1577).find(H + "value"), "code", "codeSystem", "displayName"),
                obs(r, 1577).find(H + "value").set("nullFlavor", "OTH")), []),
    ("vs-context-not-exception", BASE, None,
     lambda r: (drop(obs(r, 1577).find(H + "value"), "code", "codeSystem", "displayName"),
                obs(r, 1577).find(H + "value").set("nullFlavor", "NI")), [(E, "obsElement1577", "TC13868")]),
    ("vs-exception-list", BASE, None, lambda r: obs(r, 1577).find(H + "value").set("nullFlavor", "NI"),
     [(E, "obsElement1577", "TC13878"), (E, "dtr1-1-ANY", "TC13876"), (E, "dtr1-6-CD", "TC13876"), (E, "dtr1-7-CD", "TC13876")]),
    ("vs-deprecated", TEST, None,
     lambda r: set_code(xp(r, "//hl7:consentEvent/hl7:author/hl7:responsibleParty/hl7:code")[0], "CHILD"),
     [(W, "authorizationG011", "TC00796")]),
    ("both-versions-of-41584", CAARLS, None, lambda r: set_code(obs(r, 1584).find(H + "value"), "99"),
     [(E, "obsElement1584", "TC13929"), (E, "obsElement1584", "TC13942")]),
    # datatypes (DTr1) and attribute datatypes
    ("bsn-length", BASE, None, lambda r: xp(r, "//hl7:patient/hl7:id")[0].set("extension", "12345678"),
     [(E, "dtr1-2-II.NL.BSN", "TC04086"), (I, "careProvisionDossier", "TC00664")]),
    ("bsn-eleven-test", BASE, None, lambda r: xp(r, "//hl7:patient/hl7:id")[0].set("extension", "123456781"),
     [(E, "dtr1-3-II.NL.BSN", "TC04086"), (I, "careProvisionDossier", "TC00664")]),
    ("ii-oid", BASE, None, lambda r: xp(r, "//hl7:CareProvisionRequest/hl7:id")[0].set("root", "2.16.01"),
     [(E, "dtr1-10-II", "TC00611")]),
    ("ii-uuid-lower-case", BASE, None,
     lambda r: xp(r, "//hl7:CareProvisionRequest/hl7:id")[0].set("root", "a1b2c3d4-0000-1111-2222-333344445555"),
     [(I, "dtr1-13-II", "TC00611")]),
    ("ts-month", BASE, None, lambda r: xp(r, "//hl7:birthTime")[0].set("value", "19001301"), [(E, "dtr1-2-TS", "TC04198")]),
    ("ts-not-leap", BASE, None, lambda r: xp(r, "//hl7:birthTime")[0].set("value", "19000229"), [(E, "dtr1-2-TS", "TC04198")]),
    ("ts-century-only", BASE, None, lambda r: xp(r, "//hl7:birthTime")[0].set("value", "19"), []),
    ("cs", BASE, None, lambda r: r.find(H + "processingCode").set("displayName", "x"), [(E, "dtr1-5-CS", "TC00043")]),
    ("bl-attribute", TEST, None, lambda r: xp(r, "//hl7:consentEvent")[0].set("negationInd", "yes"),
     [(E, "authorizationG011", "TC00776")]),
    ("xsi-type-prefix-bound", TEST, None, lambda r: obs(r, 235).find(H + "value").set(XSI + "type", "hl7:PQ"), []),
    ("xsi-type-other-namespace", TEST, None, lambda r: obs(r, 235).find(H + "value").set(XSI + "type", "xs:PQ"),
     [(E, "obsElement0235", "TC05644")]),
    ("xsi-type-unbound-prefix", TEST, None, lambda r: obs(r, 235).find(H + "value").set(XSI + "type", "zz:PQ"),
     [(E, "obsElement0235", "TC05644")]),
    ("ivl-low-after-high", R041, None, lambda r: xp(r, "//hl7:adverseReaction/hl7:effectiveTime/hl7:low")[0].set("value", "19991230"),
     [(E, "dtr1-7-IVL_TS", "TC03077")]),
    ("ivl-low-equals-high", R041, None, lambda r: xp(r, "//hl7:adverseReaction/hl7:effectiveTime/hl7:low")[0].set("value", "19991227"),
     [(E, "dtr1-6-IVL_TS", "TC03077")]),
    # PQ and INT values, units
    ("pq-pattern", TEST, None, lambda r: obs(r, 235).find(H + "value").set("value", "1,5"), [(E, "obsElement0235", "TC05654")]),
    ("int-pattern-plus", TEST, None, lambda r: obs(r, 822).find(H + "value").set("value", "+5"), [(E, "obsElement0822", "TC07604")]),
    ("int-pattern-empty", TEST, None, lambda r: obs(r, 822).find(H + "value").set("value", ""), []),
    ("unit", TEST, None, lambda r: obs(r, 235).find(H + "value").set("unit", "cm"), [(E, "obsElement0235", "TC05653")]),
    ("ucum", TEST, None, lambda r: obs(r, 235).find(H + "value").set("unit", "iU"),
     [(E, "obsElement0235", "TC05653"), (W, "obsElement0235", "TC05655")]),
    # PN.NL as implemented
    ("pn-nl-prefix-vv", TEST, None, lambda r: xp(r, '//hl7:patientPerson/hl7:name[@use="L"]/hl7:prefix')[0].set("qualifier", "VV"),
     [(W, "Datatype PN: als er een spatie tussen een voorvoegsel", "TC04171")]),
    ("pn-nl-prefix-vv-space", TEST, None,
     lambda r: (xp(r, '//hl7:patientPerson/hl7:name[@use="L"]/hl7:prefix')[0].set("qualifier", "VV"),
                setattr(xp(r, '//hl7:patientPerson/hl7:name[@use="L"]/hl7:prefix')[0], "text", "van ")), []),
    ("pn-nl-initials", TEST, None,
     lambda r: (xp(r, '//hl7:patientPerson/hl7:name[@use="L"]/hl7:given')[0].set("qualifier", "IN"),
                setattr(xp(r, '//hl7:patientPerson/hl7:name[@use="L"]/hl7:given')[0], "text", "J")),
     [(E, "Datatype PN: als given/@qualifier 'IN' bevat", "TC04171"), (E, "NaamKindZoalsBekendBijInstelling", "TC04182")]),
    ("pn-nl-family-prefix", TEST, None, lambda r: setattr(xp(r, '//hl7:patientPerson/hl7:name[@use="L"]/hl7:family')[0], "text", "van Liere"),
     [(W, "Datatype PN: voorvoegsels moeten in het prefix element", "TC04171")]),
    ("pn-ls-twice", TEST, None, lambda r: xp(r, '//hl7:patientPerson/hl7:name[@use="L"]/hl7:family')[0].set("qualifier", "BR LS"),
     [(E, "dtr1-1-PN", "TC04171"), (E, "dtr1-1-PN", "TC04171"), (E, "NaamKindZoalsBekendBijInstelling", "TC04189")]),
    # kind=other
    ("no-child-elements", BASE, None, lambda r: etree.SubElement(xp(r, "//hl7:birthTime")[0], H + "low"),
     [(E, "R_PatientNL-JGZ-universal", "TC04200")]),
    ("range-int", TEST, None, lambda r: obs(r, 1112).find(H + "value").set("value", "11"), [(W, "obsElement1112", "TC11452")]),
    ("range-pq", TEST, None, lambda r: obs(r, 238).find(H + "value").set("value", "12000"), [(W, "obsElement0238", "TC05677")]),
    ("string-length", TEST, None, lambda r: setattr(xp(r, "//hl7:patient/hl7:addr/hl7:postalCode")[0], "text", "9999XA"),
     [(E, "AdresJeugdige", "TC04113")]),
    ("other-text-81", R047, None, lambda r: setattr(xp(r, "//*[@nullFlavor='OTH']/hl7:originalText")[0], "text", "x" * 81),
     [(W, "VersturenDossieroverdrachtverzoek-payload", "TC00601")]),
    ("other-text-80", R047, None, lambda r: setattr(xp(r, "//*[@nullFlavor='OTH']/hl7:originalText")[0], "text", "x" * 80), []),
    ("status-warning", BASE, None, lambda r: xp(r, "//hl7:careProvisionEvent/hl7:statusCode")[0].set("code", "active"),
     [(W, "careProvisionDossier", "TC00650")]),
    # wrapper
    ("interaction-id", BASE, None, lambda r: r.find(H + "interactionId").set("extension", "REPC_IN902120NL04"),
     [(E, "MCCI_MT000100", "TC00037")]),
    ("no-hl7-interaction-id", BASE, None, lambda r: r.find(H + "interactionId").set("root", "1.2.3"), [(W, WRAPPER, "TC14587")]),
    ("reported-twice", BASE, None, lambda r: r.find(H + "attentionLine").addnext(copy.deepcopy(r.find(H + "attentionLine"))),
     [(E, WRAPPER, "TC00019"), (E, WRAPPER, "TC00019")]),
    ("trigger-event", BASE, None, lambda r: r.find(H + "ControlActProcess").insert(0, etree.Element(H + "code", code="REPC_TE902100NL04")),
     [(E, WRAPPER, "TC00350")]),
    ("trigger-event-ok", BASE, None, lambda r: r.find(H + "ControlActProcess").insert(0, etree.Element(H + "code", code="REPC_TE902100NL03")),
     []),
    ("author-device-app-id", BASE, None,
     lambda r: (xp(r, "//hl7:AssignedDevice/hl7:id")[0].set("root", "2.16.840.1.113883.2.4.6.6"),
                xp(r, "//hl7:AssignedDevice/hl7:id")[0].set("extension", "999")),
     [(E, WRAPPER, "TC00353"), (E, WRAPPER, "TC00354")]),
    ("author-device-organisation", BASE, None, lambda r: drop(xp(r, "//hl7:AssignedDevice/hl7:Organization/hl7:id")[0], "extension"),
     [(E, WRAPPER, "TC00355"), (E, "dtr1-2-II.NL.URA", "TC00397"), (E, "dtURAorganization", "TC00400")]),
    ("author-person-without-role", BASE, None,
     lambda r: (setattr(xp(r, "//hl7:AssignedDevice")[0], "tag", H + "AssignedPerson"),
                xp(r, "//hl7:AssignedPerson/hl7:id")[0].set("root", "2.16.528.1.1007.3.1"),
                xp(r, "//hl7:AssignedPerson/hl7:id")[0].set("extension", "123456789")),
     [(I, WRAPPER, "TC00359")]),
    # NL04: the derived rules
    ("nl04-code-outside-413-set", BASE, "REPC_IN902120NL04", lambda r: set_code(obs(r, 1577).find(H + "value"), "99"),
     [(W, "obsElement1577", "TC13868")]),
    ("nl04-structure-stays-error", BASE, "REPC_IN902120NL04", lambda r: r.remove(r.find(H + "creationTime")),
     [(E, WRAPPER, "TC00003")]),
    ("nl04-interaction-id", BASE, "REPC_IN902120NL04", lambda r: r.find(H + "interactionId").set("extension", "REPC_IN902120NL03"),
     [(E, "MCCI_MT000100", "TC00037")]),
    ("nl04-trigger-event", BASE, "REPC_IN902120NL04",
     lambda r: r.find(H + "ControlActProcess").insert(0, etree.Element(H + "code", code="REPC_TE902100NL03")), [(E, WRAPPER, "TC00350")]),
    ("nl04-trigger-event-ok", BASE, "REPC_IN902120NL04",
     lambda r: r.find(H + "ControlActProcess").insert(0, etree.Element(H + "code", code="REPC_TE902100NL04")), []),
    ("nl04-bsn-length", BASE, "REPC_IN902120NL04", lambda r: xp(r, "//hl7:patient/hl7:id")[0].set("extension", "12345678"),
     [(E, "dtr1-2-II.NL.BSN", "TC04086"), (I, "careProvisionDossier", "TC00664")]),
    # NL (BDS 3.2): template errors warn, datatype errors stay errors
    ("nl-template-rule-warns", BASE, "REPC_IN902120NL", lambda r: xp(r, "//hl7:observation")[0].set("classCode", "OBSX"),
     [(W, "obsElement1577", "TC13864")]),
    ("nl-datatype-rule-errs", BASE, "REPC_IN902120NL", lambda r: xp(r, "//hl7:patient/hl7:id")[0].set("extension", "12345678"),
     [(E, "dtr1-2-II.NL.BSN", "TC04086"), (I, "careProvisionDossier", "TC00664")]),
]


@pytest.mark.parametrize("case", FAULTS, ids=[c[0] for c in FAULTS])
def test_single_fault(case):
    _id, path, interaction, mutate, expected = case
    root = load(path)
    if interaction:
        rename(root, interaction)
    mutate(root)
    after = Counter(key(f) for f in check(root))
    before = baseline(path, interaction)
    assert after - before == Counter(expected)
    assert before - after == Counter()


def test_family_applied_twice_reports_twice():
    """TC00285: the wrapper applies PN.NL to this name twice, so each finding comes twice."""
    def notification_contact(prefix_text):
        root = load(BASE)
        device = root.find(H + "sender").find(H + "device")
        org = etree.SubElement(etree.SubElement(device, H + "agencyFor"), H + "representedOrganization")
        etree.SubElement(org, H + "id", root="1.2.3")
        contact = etree.SubElement(etree.SubElement(etree.SubElement(org, H + "NotificationParty"), H + "contactParty"),
                                   H + "Organization")
        etree.SubElement(contact, H + "id", root="1.2.4")
        person = etree.SubElement(etree.SubElement(contact, H + "contact"), H + "contactPerson")
        etree.SubElement(person, H + "id", root="1.2.5")
        name = etree.SubElement(person, H + "name")
        etree.SubElement(name, H + "prefix", qualifier="VV").text = prefix_text
        etree.SubElement(name, H + "family").text = "Dijk"
        return Counter(key(f) for f in check(root)) - baseline(BASE, None)

    assert notification_contact("van ") == Counter()
    assert notification_contact("van") == Counter({(W, "Datatype PN: als er een spatie tussen een voorvoegsel", "TC00285"): 2})


def test_nl04_value_set_warning_is_an_error_in_nl03():
    for interaction, severity in (("REPC_IN902120NL03", "error"), ("REPC_IN902120NL04", "warning")):
        root = load(BASE)
        rename(root, interaction)
        set_code(obs(root, 1577).find(H + "value"), "99")
        (f,) = [f for f in check(root) if f.message.startswith("TC13868")]
        assert (f.severity, f.rule) == (severity, "obsElement1577")
        assert ("NL04:" in f.message) == (interaction == "REPC_IN902120NL04")


def test_nl04_repeated_element_in_group():
    """Element 80 twice in one G019: 4.1.3 allows one (error in NL03); NL04 warns."""
    for interaction, severity in (("REPC_IN902120NL03", "error"), ("REPC_IN902120NL04", "warning")):
        root = load(TEST)
        rename(root, interaction)
        group = obs(root, 80).getparent().getparent()
        group.append(copy.deepcopy(obs(root, 80).getparent()))
        found = [f for f in check(root) if f.message.startswith("TC02117")]
        assert [(f.severity, f.rule, f.element) for f in found] == [(severity, "rubricCluster12", "G019")]


def test_nl04_second_pass_accepts_any_code_only_in_bds_value_sets():
    """BDS W-domain sets (unpublished in 4.2.0) accept any code; HL7 and other sets stay strict."""
    lenient, strict = templates._ruleset(True), templates._ruleset(False)
    w0114 = "2.16.840.1.113883.2.4.3.11.60.100.11.2.114@2012-05-21T012654"
    role_codes = "2.16.840.1.113883.2.4.3.11.60.1.11.2@2020-04-01T000000"
    assert lenient.any_code_accepted([w0114]) and not strict.any_code_accepted([w0114])
    assert not lenient.any_code_accepted([role_codes])
    code = etree.fromstring('<value code="99" codeSystem="2.16.840.1.113883.2.4.4.40.8"/>')
    assert lenient.sc.vs_pred(w0114)(code) and not strict.sc.vs_pred(w0114)(code)
    assert not lenient.sc.vs_pred(role_codes)(code)


def test_unknown_interaction_is_a_caller_error():
    with pytest.raises(ValueError):
        templates.check_templates(load(BASE), "MCCI_IN000002")


# --------------------------------------------------------------------------- (c) rule semantics


def synthetic(contexts: list, steps: list, valuesets: dict | None = None) -> templates.RuleSet:
    """A RuleSet over hand-written rules (rows: [id, severity, message, never, times, op])."""
    data = {"valuesets": valuesets or {}, "ucum": {"iU": "UCUM-error: iU"},
            "dtr1": templates._data()["dtr1"], "steps": steps, "contexts": contexts}
    return templates.RuleSet(data)


def run_rows(rules, xml: str, compiled: bool = True) -> list[str]:
    root = etree.fromstring(xml)
    previous = templates.Run.compiled
    templates.Run.compiled = compiled
    try:
        hits = rules.run(root, templates.PROFILES["REPC_IN902120NL03"].facts)
    finally:
        templates.Run.compiled = previous
    return [h.row.id + (f":{h.label}" if h.label else "") for h in hits]


def row(rid: str, op: list, message: str = "(t): m", severity: str = "e", times: int = 1) -> list:
    return [rid, severity, message, 0, times, op]


@pytest.mark.parametrize("compiled", [True, False], ids=["generated", "closures"])
def test_first_context_per_pattern(compiled):
    steps = [["a", []], ["b", [[["eq", "x", "1"]]]], ["b", []], ["c", []]]
    fire = ["attrs", ["missing"]]
    contexts = [
        [0, [0, 1], [row("P0-b1", fire)]],  # pattern 0: a/b[@x=1] first ...
        [0, [0, 2], [row("P0-b", fire)]],  # ... then a/b: claims only the other b
        [1, [0, 2], [row("P1-b", fire)]],  # pattern 1 is independent
        [1, [3], [row("P1-c", ["attrs", ["y"]])]],  # c anywhere; has @y, no finding: still claims c
        [1, [0, 3], [row("P1-a-c", fire)]],  # never reached: c is claimed by the context above
    ]
    rules = synthetic(contexts, steps)
    hits = run_rows(rules, '<a xmlns="urn:hl7-org:v3"><b x="1"/><b/><c y="1"/></a>', compiled)
    assert sorted(hits) == sorted(["P0-b1", "P1-b", "P0-b", "P1-b"])


OPS = [
    # (op, xml of the context element <x>, fires?)
    (["fixed", "a", "1", False], '<x/>', False),
    (["fixed", "a", "1", True], '<x/>', True),
    (["fixed", "a", "1", False], '<x a="2"/>', True),
    (["coded", [[["code", "A"], ["codeSystem", "S"]], [["code", "B"], ["codeSystem", "S"]]]], '<x code="B" codeSystem="S"/>', False),
    (["coded", [[["code", "A"], ["codeSystem", "S"]]]], '<x code="A" codeSystem="T"/>', True),
    (["coded", [[["code", "A"], ["codeSystem", "S"]]]], '<x nullFlavor="NI"/>', False),
    (["tokens", "q", ["VV", "BR"]], '<x q=""/>', False),
    (["tokens", "q", ["VV", "BR"]], '<x q="VV BR"/>', False),
    (["tokens", "q", ["VV", "BR"]], '<x q="VV IN"/>', True),
    (["vs", ["V@1"], False], '<x code="1" codeSystem="S"/>', False),
    (["vs", ["V@1"], False], '<x code="1" codeSystem="T"/>', True),
    (["vs", ["V@1"], False], '<x/>', True),
    (["vs", ["V@1"], True], '<x/>', False),
    (["vs", ["V@1"], False], '<x nullFlavor="XX"/>', False),
    (["vsnull", "V@1", []], '<x nullFlavor="UNK"/>', False),
    (["vsnull", "V@1", []], '<x nullFlavor="OTH"/>', True),
    (["vsnull", "V@1", ["OTH"]], '<x nullFlavor="OTH"/>', False),
    (["vsdep", ["V@1"]], '<x code="2" codeSystem="S"/>', True),
    (["vsdep", ["V@1"]], '<x code="1" codeSystem="S"/>', False),
    (["vstok", "typeCode", "V@1"], '<x typeCode="1 2"/>', False),
    (["vstok", "typeCode", "V@1"], '<x typeCode="1 3"/>', True),
    (["xsitype", "PQ", False], '<x/>', False),
    (["xsitype", "PQ", True], '<x/>', True),
    (["xsitype", "PQ", True], '<x nullFlavor="NI"/>', False),
    (["xsitype", "PQ", False], '<x xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="PQ"/>', False),
    (["xsitype", "PQ", False], '<x xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="INT"/>', True),
    (["lex", "v", "cs"], '<x v="a b"/>', True),
    (["lex", "v", "cs"], '<x v=""/>', True),
    (["lex", "v", "st"], '<x v=" "/>', False),
    (["lex", "v", "bl"], '<x v="True"/>', True),
    (["lex", "v", "ts"], '<x v="2020+01"/>', False),
    (["lex", "v", "ts"], '<x v="202"/>', True),
    (["unit", "mm"], '<x/>', True),
    (["unit", "mm"], '<x nullFlavor="NI"/>', False),
    (["ucum"], '<x unit="iU"/>', True),
    (["ucum"], '<x unit="no such unit"/>', False),
    (["pattern", "v", r"^[0-9]{8}", True], '<x/>', True),
    (["pattern", "v", r"^-?[1-9]\d*\Z|^\d*\Z", False], '<x v="+1"/>', True),
    (["pattern", "v", r"^-?[1-9]\d*\Z|^\d*\Z", False], '<x v="\u0661\u0662"/>', False),  # \d is any Unicode digit
    (["pattern", "v", r"^-?[1-9]\d*\Z|^\d*\Z", False], '<x v="12&#10;"/>', True),  # $ is the end of the string
    (["attrs", ["root", "extension"]], '<x root="1"/>', True),
    (["o", "range", 0.0, 10.0, None], '<x value=" 1e1 "/>', False),
    (["o", "range", 0.0, 10.0, None], '<x value="ten"/>', True),
    (["o", "range", 0.0, 10.0, None], '<x nullFlavor="NI"/>', False),
    (["o", "text_length", "=", 7, False], '<x>1234 AB</x>', False),
    (["o", "text_length", "=", 7, False], '<x>1234<!-- c -->AB</x>', True),
    (["o", "no_child_elements"], '<x><!-- c --><?pi x?></x>', False),
    (["o", "no_child_elements"], '<x><y/></x>', True),
]


@pytest.mark.parametrize("compiled", [True, False], ids=["generated", "closures"])
@pytest.mark.parametrize("op,xml,fires", OPS, ids=[f"{o[0]}-{i}" for i, (o, _, _) in enumerate(OPS)])
def test_operation(op, xml, fires, compiled):
    steps = [["x", []]]
    valuesets = {"V@1": {"name": "V", "c": [["1", "S"], ["2", "S"]], "d": [["2", "S"]], "x": [["UNK", "2.16.840.1.113883.5.1008"]]}}
    rules = synthetic([[0, [0], [row("T1", op)]]], steps, valuesets)
    xml = xml.replace("<x", '<x xmlns="urn:hl7-org:v3"', 1)
    assert run_rows(rules, xml, compiled) == (["T1"] if fires else [])


@pytest.mark.parametrize("compiled", [True, False], ids=["generated", "closures"])
def test_counting_rows(compiled):
    steps = [["x", []], ["y", [[["eq", "a", "1"]]]], ["z", [[["nn"]], [["nf"], ["has", "b"]]]],
             ["c", [[["ch", 4]]]], ["o", [[["tpl", "2.16.840.1.113883.2.4.6.10.100.40001"]]]]]
    contexts = [[0, [0], [
        row("y1..1", ["card", 1, 1, 1], "(t): min | (t): max"),
        row("z0..0", ["card", 2, 0, 0], "(t): not allowed"),
        row("slot1..*", ["card", 3, 1, -1], "(t): min"),
        row("y|z 1..2", ["choice", [1, 2], 1, 2], "(t): few | (t): many"),
    ]]]
    rules = synthetic(contexts, steps)
    hl7 = 'xmlns="urn:hl7-org:v3"'
    assert run_rows(rules, f'<x {hl7}><y a="1"/><y a="2"/><z/></x>', compiled) == ["slot1..*"]
    assert sorted(run_rows(rules, f'<x {hl7}><y a="1"/><y a="1"/><z b="1"/><z/></x>', compiled)) == sorted(
        ["y1..1", "z0..0", "slot1..*", "y|z 1..2"])
    xml = f'<x {hl7}><y a="1"/><c><o><templateId root="2.16.840.1.113883.2.4.6.10.100.40001"/></o></c></x>'
    assert run_rows(rules, xml, compiled) == []


def test_datatype_rules_as_implemented():
    ts = datatypes.ts_parts
    assert ts("20") and ts("2024") and ts("20240229") and ts("20240229235959.123+0100")
    assert not ts("20230229") and not ts("2023011") and not ts("2024022925") and not ts("20240101120000.")
    out: list = []
    datatypes._bsn(etree.fromstring('<id root="2.16.840.1.113883.2.4.6.3" extension="999901795"/>'), out)
    assert out == []
    datatypes.check_ii(etree.fromstring('<id root="2.16.840.1.113883.2.4.6.3" extension="x"/>'), out)
    assert out == []
    datatypes.check_ii(etree.fromstring('<id root="urn-x"/>'), out)
    assert out == ["dtr1-10-II", "dtr1-10a-II"]


@pytest.mark.parametrize("copies", [1, 3, 40])
def test_same_named_sibling_rules(copies):
    """dtr1-12-II (an id repeated among its same-named siblings) and dtr1-18-CD (a code
    repeated) fire on both copies of an exact repeat, also when other siblings of that name
    stand between them; siblings that differ never fire."""
    root = load(BASE)
    patient = xp(root, "//hl7:patient")[0]
    bsn = patient.find(H + "id")
    code = xp(root, "//hl7:observation/hl7:code[@code]")[0]
    for el, attr in ((bsn, "root"), (code, "code")):
        last = el
        for i in range(copies):
            distinct = copy.deepcopy(el)  # a sibling of the same name that differs: no finding
            distinct.set(attr, f"{el.get(attr)}9{i}")
            last.addnext(distinct)
            last = distinct
        last.addnext(copy.deepcopy(el))  # one exact repeat, after the others: both copies fire
    with paths.sibling_index():
        assert sorted(map(etree.QName, paths.same_named_siblings(bsn))) == [etree.QName(bsn)] * (copies + 1)
    fired = Counter(f.rule for f in check(root))
    assert fired["dtr1-12-II"] == 2 and fired["dtr1-18-CD"] == 2


def test_xsi_type_resolution():
    doc = etree.fromstring(
        '<a xmlns="urn:hl7-org:v3" xmlns:h="urn:hl7-org:v3" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<b xsi:type="PQ"/><b xsi:type="h:PQ"/><b xsi:type="xs:PQ"/><b xsi:type="q:PQ"/><b xsi:type=" PQ"/>'
        '<c xmlns="urn:other" xsi:type="PQ"/></a>')
    hl7 = "urn:hl7-org:v3"
    assert [xsi_type(b) for b in doc] == [(hl7, "PQ"), (hl7, "PQ"), ("http://www.w3.org/2001/XMLSchema", "PQ"),
                                          (None, "PQ"), (None, " PQ"), ("urn:other", "PQ")]


# --------------------------------------------------------------------------- (d) odd trees


def test_odd_trees_never_raise():
    rng = random.Random(20240425)
    for path in (TEST, R041, BASE):
        root = load(path)
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        for el in rng.sample(elements, min(300, len(elements))):
            action = rng.randrange(6)
            if action == 0 and el.attrib:
                del el.attrib[rng.choice(list(el.attrib))]
            elif action == 1:
                el.set(rng.choice(["value", "code", "root", "extension", "unit", XSI + "type", "nullFlavor", "qualifier"]),
                       rng.choice(["", "x y", "-", "NaN", "1e999", "hl7:", "zz:Q", "\u00e9", "99999999999999999999"]))
            elif action == 2:
                el.insert(rng.randrange(len(el) + 1), etree.Comment("c"))
            elif action == 3:
                el.insert(rng.randrange(len(el) + 1), etree.ProcessingInstruction("pi", "x"))
            elif action == 4:
                etree.SubElement(el, H + rng.choice(["low", "translation", "originalText", "thumbnail", "comp", "x"]))
            elif action == 5:
                el.text = rng.choice([None, "", " ", "a.b.", "van "])
        findings = check(root)
        assert not [f for f in findings if f.rule.startswith("JGZ-RULE")]
        for interaction in ("REPC_IN902120NL04", "REPC_IN902120NL"):
            assert not [f for f in check(root, interaction) if f.rule.startswith("JGZ-RULE")]


def test_non_element_root_and_empty_document():
    assert templates.check_templates(etree.Comment("x"), "REPC_IN902120NL03") == []
    (f,) = templates.check_templates(etree.fromstring("<REPC_IN902120NL03/>"), "REPC_IN902120NL03")
    assert (f.severity, f.rule) == ("warning", "VersturenDossieroverdrachtverzoek")  # TC14587: no HL7 wrapper


# --------------------------------------------------------------------------- (e) shipped rule file


def test_shipped_rules_are_what_the_importer_builds():
    import importlib.util

    spec = importlib.util.spec_from_file_location("import_rules", Path(__file__).resolve().parents[2] / "tools" / "import_rules.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    built = json.loads(json.dumps(tool.build(REFERENCE / "bds")))
    shipped = templates._data()
    assert built == shipped
    assert sum(len(c[2]) for c in shipped["contexts"]) == 14587
    provenance = (Path(templates.__file__).parents[1] / "data" / "rules" / "PROVENANCE").read_text()
    assert "0eb2a71244023180e9491520b80d6662efc89370" in provenance and "ada_2_hl7/jgz/7.1/hl7v3_schematron/" in provenance
    raw = (Path(templates.__file__).parents[1] / "data" / "rules" / "rules.json.gz").read_bytes()
    assert json.loads(gzip.decompress(raw)) == shipped


@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "nl04-second-pass"])
def test_every_context_compiles_and_agrees_with_closures(lenient):
    """All 4,241 contexts, most of which no reference message reaches, on bare elements."""
    rules = templates.RuleSet(templates._data(), lenient)
    facts = templates.PROFILES["REPC_IN902120NL03"].facts
    contexts = rules.root_contexts + [c for c in _contexts(rules)]
    assert len(contexts) == 4241
    for ctx in contexts:
        name = rules.sc.steps[ctx.path[-1]][0] if ctx.path else "REPC_IN902120NL03"
        for attrs in ({}, {"nullFlavor": "NI", "code": "x", "value": "x", "unit": "x", XSI + "type": "x"}):
            parent = etree.Element(H + "p")
            el = etree.SubElement(parent, H + (name if name != "*" else "x"), attrs)
            run = templates.Run(rules, parent, facts)
            ctx.compile()(el, run, run.hits)
            generated = [(h.row.id, h.label) for h in run.hits]
            run.hits.clear()
            run.interpret(ctx, el)
            assert generated == [(h.row.id, h.label) for h in run.hits]
            assert not [h for h in run.hits if h.label == "JGZ-RULE-EVAL"]


def _contexts(rules):
    seen, todo = set(), [n for index in (rules.by_name, rules.by_tpl, rules.by_child_tpl)
                         for entries in index.values() for _, n in entries]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield from node.ends
        todo.extend(n for entries in node.children.values() for _, n in entries)
        todo.extend(n for _, n in node.wild)
        todo.extend(n for by_pair in node.slots.values() for nodes in by_pair.values() for n in nodes)


def test_family_shortcut_equals_full_chain():
    """datatypes.family_check skips checks an ordinary element cannot fail; it must agree."""
    rng = random.Random(7)
    elements = [e for path in (TEST, R041, R047, CAARLS) for e in load(path).iter() if isinstance(e.tag, str)]
    odd = []
    for e in rng.sample(elements, 400):
        e = copy.deepcopy(e)
        e.set(rng.choice(["nullFlavor", "code", "qualifier", "value"]), rng.choice(["NI", "OTH", "x", ""]))
        if rng.random() < 0.3:
            etree.SubElement(e, H + rng.choice(["qualifier", "translation", "originalText", "low"]))
        odd.append(e)
    for family in datatypes.FAMILIES:
        chain, shortcut = datatypes.family_checks(family), datatypes.family_check(family)
        for el in elements[::7] + odd:
            full: list = []
            for c in chain:
                c(el, full)
            short: list = []
            shortcut(el, short)
            assert sorted(short) == sorted(full), (family, etree.tostring(el)[:200])


@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "nl04-second-pass"])
def test_checking_some_elements_equals_the_full_run_there(lenient):
    """The NL04 second pass checks only the elements with errors: same verdicts there."""
    rules, facts = templates._ruleset(lenient), templates.PROFILES["REPC_IN902120NL04"].facts
    rng = random.Random(3)
    for path in (NL04 / "DOB-4.0.0-KWAL_versturen_hl7.xml", ADA / "DOB-3.0.0-test-hl7-bds327-bds400.xml"):
        root = load(path)
        rename(root, "REPC_IN902120NL04")
        full = rules.run(root, facts)
        some = set(rng.sample([e for e in root.iter() if isinstance(e.tag, str)], 150)) | {h.el for h in full[::3]} | {root}
        expected = [h.key for h in full if h.el in some]
        assert sorted(h.key for h in rules.run(root, facts, some)) == sorted(expected)
