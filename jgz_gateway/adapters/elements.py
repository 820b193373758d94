"""Which BDS elements the gateway can place in a dossier, and how their values are typed.

Two kinds of element reach a DOB:

* *observation elements*: the catalogue knows their rubriek, observation template and
  HL7 type, so one generic rule places them (``rubricCluster`` → ``observation``,
  inside a ``groupCluster`` when the element belongs to a groep);
* *structural elements*: the message carries them in its own structures (the child's
  BSN is ``patient/id``, a vaccination is a ``substanceAdministration``...). They are
  listed here by level; :mod:`.to_dossier` and :mod:`.from_dossier` implement them.

Everything else is refused when a mapping file is loaded, so a mapping never promises
what the gateway cannot deliver.
"""

from __future__ import annotations

from functools import cache

from ..standards.catalogue import Catalogue, Code, Concept, Element, ValueSet, get_catalogue
from ..standards.careplans import ELEMENTS as CARE_GROUPS
from ..standards.heelprick import ELEMENTS as HEEL_PRICK
from ..standards.perinatal import ELEMENTS as PERINATAL
from ..standards.involved import (  # noqa: F401 - the people and organisations around the child, re-exported
    ADDRESS, CHILD_ROLES, CONTACTS, DAYPARTS, JGZ_ORGANISATIONS, NURSE_VACCINATION,
    NURSE_VACCINATION_DATE, NURSE_VACCINATION_IDS, NURSE_VACCINATION_NAME, CUSTODY, HOUSE_NUMBER_LOCATOR, HOUSEHOLD, LITERACY, PHONE, PROVIDERS, RELATIVES,
    ROLE_CODE, SCHOOL, SCHOOL_BRIN, SCHOOL_PERIOD, SPOKEN_LANGUAGE, STUDENT_NUMBER, VVE_ADMINISTRATIVE, VVE_IN_G006,
    Period, relative_groep)

#: Yes/no elements a DOB may carry for the whole dossier, as ``careProvisionEvent/pertinentInformation/
#: annotationObsEvent`` (Nictiz's messages do): R010 476 information about the JGZ's way of working
#: given, R009 1167 paper dossier present. In a contact they are ordinary observations.
DOSSIER_ANNOTATIONS: tuple[int, ...] = (476, 1167)
#: R050 492 Samenvatting 0-4: the dossier's ``careProvisionEvent/summary/observationEvent`` (template 10009).
SUMMARY = 492

#: Dossier-level elements carried by the message structure (patient, authors, consents...).
DOSSIER: frozenset[int] = frozenset({
    695, 696,  # dossier id and status
    1, 2, 3, 4, 5, 6, 7, 19, 20,  # names, BSN, gender, birth date
    21, 22, 23, 24, 26, 27, 28, 29,  # death, birth place and country, nationality, arrival and departure
    8, 10, 11, 12, 13, 14, 15, 16, 17, 630, 1453, 1454,  # G001 address (+ G096 period)
    609, 610, 698,  # G002 telephone, e-mail
    61, 62, 63, 64, 65, 66, 67, 69, 71, 655, 656, 657, 738,  # G014 parent/carer
    68, 1191, 1322, 1364, 1367, 72, 670,  # G014: spoken language, household, notes (personalRelationshipObservation)
    73, 74, 75, 76, 78, 671, 672, 1365,  # G018 brother or sister
    1368, 1369, 1370, 1371, 1372, 1374, 1375,  # G078 son or daughter
    1352, 607, 1190, 631, 707,  # G077 household, custody, literacy
    658, 659, 660, 661, 662, 663, 664, 665, 666, 667, 669,  # G016 the parent's address
    736, 737,  # G017 the parent's telephone
    603, 1529, 1506, 1457, 1458,  # G085 organisation (+ G098 period)
    1441, 1530, 1507, 1459, 1460,  # G091 the JGZ organisation responsible by the BRP (+ G099 period)
    1163, 1164, 1349,  # G011 consent transfer within JGZ
    1395, 1396, 1397,  # G010 objection transfer within JGZ
    1165, 1166, 1350, 1407,  # G012 consent information to third parties
    1398, 1399, 1400,  # G071 consent LSP
    1404, 1405, 1406,  # G089 objection scientific research
    1533, 1534, 1535, 1536, 1537, 1538, 1539, 1540, 1541, 1607,  # G115 consent data exchange RVP
    1197, 1330, 487, 488,  # G093 care status, G092 end of care
    1332, 1333, 1335,  # G083 non-BDS item without an activity
    1169, 1185, 1497, 1498, 1171, 1172,  # G072 attached file (appendage/document)
    1401, 1402, 1403,  # G088 copy of the dossier given (component6)
    *DOSSIER_ANNOTATIONS, SUMMARY,
    469, 1383, 1385, 1504, 1505, 1521,  # R050 a doctor's permission for a nurse to vaccinate
    714, 716, 1417, 1493,  # R008 administrative observations: VVE/childcare, why not
    *(n for spec in (*(p.elements() for p in PROVIDERS.values()), *(c.elements() for c in CONTACTS.values()))
      for n in spec),  # R006, R007, R008 (G006), G004 and their contact persons
    605, 1532, 58, 717, 1183, 1473, 1474, 606,  # R008 G008 school (asStudent), G106 its period
    *PERINATAL,  # R014 pregnancy, R015 delivery, R016 newborn (+ G109): structures of their own
    *(n for elements in CARE_GROUPS.values() for n in elements),  # G041 care received, G081 care plan (+ G103, G110)
})

#: Activity-level elements carried by the encounter itself.
ACTIVITY: frozenset[int] = frozenset({1377, 494, 724, 1424, 1599, 1501, 1423, 731,
                                      1600, 1606,  # R013 contact about the reporting code: function, name
                                      *HEEL_PRICK})  # R037, the encounter's heelPrick

#: G076 vaccination elements carried by ``substanceAdministration``.
VACCINATION: frozenset[int] = frozenset({461, 1409, 472, 608, 683, 686, 872, 874, 875, 1336, 1410, 1589,
                                         1452, 1483, 1484, 876, 1517, 1526})
#: Who reported a vaccination reaction (876 UZI, 1517 BIG, 1526 AGB): the id roots of ``assignedPerson``.
REACTION_REPORTER = {876: "2.16.528.1.1007.3.1", 1517: "2.16.528.1.1007.5.1", 1526: "2.16.840.1.113883.2.4.6.1"}

#: G083 non-BDS items, at dossier level or inside an activity (whose id, 1334, is implied).
NON_BDS: frozenset[int] = frozenset({1332, 1333, 1335})

#: R047 conclusion and follow-up, carried by ``encounter/subjectOf1/conclusion``: 482 the conclusion
#: (text) and 493 its note; per G058 an indication (485) with its intervention (483), which when it is
#: a referral ("6 Verwijzing") names whom to (1159) and whether a letter went along (1494).
CONCLUSION: frozenset[int] = frozenset({482, 493, 483, 485, 1159, 1494})
INTERVENTION_REFERRAL = "6"

#: Consent groups: groep → (yes/no element, source element, date element). The yes/no value
#: is what the element says (consent given, objection made); ``model.Consent.negation_for``
#: turns it into the consentEvent's ``negationInd`` (an objection that holds is negated).
CONSENTS: dict[str, tuple[int, int, int]] = {
    "G011": (1163, 1164, 1349),
    "G010": (1395, 1396, 1397),
    "G012": (1165, 1166, 1350),
    "G071": (1398, 1399, 1400),
    "G089": (1404, 1405, 1406),
    "G115": (1533, 1535, 1536),
}

#: G115 (consent to exchange vaccination data with the RVP) carries more than the others:
#: the source's name (agentPerson), the JGZ employee and organisation who recorded it
#: (consultant), how it was given (annotation 1541) and its end date (effectiveTime/high).
RVP_SOURCE_NAME, RVP_EMPLOYEE, RVP_ORG_URA, RVP_ORG_AGB, RVP_ORG_NAME, RVP_MANNER, RVP_END = (
    1534, 1537, 1538, 1539, 1540, 1541, 1607)

#: HL7 NullFlavor: a BDS value set's exceptions ("98 Anders", "00 Onbekend") are written as null flavours.
NULL_FLAVOR_OID = "2.16.840.1.113883.5.1008"

#: Country elements: codes of GBA tabel 34 (value set W0014), which the catalogue leaves unbound.
COUNTRY: frozenset[int] = frozenset({630, 71, 669, 23, 26})
#: A parent's (G014) yes/no and text elements on relationshipHolder1: 64 Overleden, 65 Datum
#: overlijden, 69 Levensovertuiging (religiousAffiliationCode, nullFlavor OTH with its text).
#: 24 Nationaliteit: codes of GBA tabel 32 (value set W0029), which the catalogue leaves unbound.
NATIONALITY = 24
#: The child's administrative observations (patient/subjectOf1): land vanwaar ingeschreven,
#: datum vestiging in / vertrek uit Nederland, asielzoekerkind.
ADMINISTRATIVE: tuple[int, ...] = (26, 27, 28, 29)

#: BDS datatype → value kind of the record.
_KINDS = {"code": "code", "ordinal": "code", "string": "string", "text": "string", "identifier": "string",
          "boolean": "bool", "datetime": "date", "quantity": "quantity", "count": "count"}
_HL7_KINDS = {"CV": "code", "CE": "code", "CD": "code", "CO": "code", "ST": "string", "BL": "bool",
              "PQ": "quantity", "INT": "count", "TS": "date"}


def observation(e: Element | None) -> bool:
    """Placed by the generic rubricCluster rule (template, rubriek and HL7 type known)."""
    return bool(e and e.template_id and e.rubriek and e.hl7_type in _HL7_KINDS)


@cache
def foreign() -> dict[int, dict]:
    """Elements whose observation the DOB templates identify by a code outside the BDS element
    code system (R039 blood pressure, 1486/1487: SNOMED), with no templateId: element →
    {code, codeSystem, type, unit}, as derived from the template rules for the ADA dataset."""
    from ..standards.ada.dataset import dataset

    return dict(dataset().foreign)


@cache
def foreign_element(code: str | None, code_system: str | None) -> int | None:
    """The element a foreign-coded observation (see :func:`foreign`) stands for."""
    return next((n for n, f in foreign().items() if (f["code"], f["codeSystem"]) == (code, code_system)), None)


#: Where on its host's observation a carried element sits (binding paths of the catalogue).
CARRIER_PATHS = ("methodCode", "targetSiteCode", "subject/personalRelationship/code", "performer/assignedEntity/code",
                 "location/serviceDeliveryLocation/code")


def carriers(catalogue: Catalogue) -> dict[int, dict[str, int]]:
    """Host element → {binding path: carried element}, for BDS elements without a template of
    their own that the host's template carries: 81 Familielid on 80's subject/personalRelationship/
    code, 1202 Methode meting on the methodCode of 856 and 858, 793 on 170's targetSiteCode.
    The carried element is the one of the binding's value set in the host's groep and rubriek;
    a binding with more than one such element is left out (the host cannot say which it is)."""
    return _carriers(catalogue.version)


@cache
def _carriers(version: str) -> dict[int, dict[str, int]]:
    cat = catalogue(version)
    free = [e for e in cat.elements() if not observation(e) and e.valueset]
    out: dict[int, dict[str, int]] = {}
    for e in cat.elements():
        if not observation(e):
            continue
        for path in CARRIER_PATHS:
            w = e.bindings.get(path)
            found = [x.number for x in free if x.valueset == w and x.groep == e.groep and x.rubriek == e.rubriek]
            if w and len(found) > 1:  # 315 and 317 both carry a W0290 method: each its own
                found = [n for n in [_nearest_following(e, found)] if n is not None]
            if w and len(found) == 1:
                out.setdefault(e.number, {})[path] = found[0]
        # a template that carries coded elements may carry the one template-less date of its
        # rubriek and groep on its effectiveTime (1342 Datum afname SPP on 1345)
        dates = [x.number for x in cat.elements() if not observation(x) and x.datatype == "datetime"
                 and x.groep == e.groep and x.rubriek == e.rubriek and x.rubriek] if e.number in out else []
        if len(dates) == 1:
            out[e.number]["effectiveTime"] = dates[0]
    return out


def _nearest_following(host: Element, candidates: list[int]) -> int | None:
    """Of several template-less elements a host's binding could carry, the one the BDS dataset
    lists nearest after the host (wrapping round), as Nictiz's ADA conversion picks it."""
    from ..standards.ada.dataset import dataset

    parent = dataset().rubriek(host.rubriek) if host.rubriek else None
    if parent is not None and host.groep:
        parent = next((c for c in parent.children if c.code == host.groep), None)
    order = [c.number for c in parent.children if c.kind == "element"] if parent is not None else []
    if host.number not in order:
        return None
    i = order.index(host.number)
    return next((n for n in order[i + 1:] + order[:i] if n in candidates), None)


def carried(catalogue: Catalogue) -> dict[int, list[tuple[int, str]]]:
    """Carried element → [(host, path)] (the inverse of :func:`carriers`)."""
    return _carried(catalogue.version)


@cache
def _carried(version: str) -> dict[int, list[tuple[int, str]]]:
    out: dict[int, list[tuple[int, str]]] = {}
    for host, paths in _carriers(version).items():
        for path, number in paths.items():
            out.setdefault(number, []).append((host, path))
    return out


def repeatable(e: Element | None) -> bool:
    """May the element be given more than once at one level (0..*: 44 elements outside any groep,
    and the Woonverband IDs of a relative, 1364, 1365, 1375, within theirs)?"""
    return bool(e and e.cardinality and (e.cardinality[1] is None or e.cardinality[1] > 1))


def levels(number: int, catalogue: Catalogue) -> frozenset[str]:
    """Where the gateway can place element ``number``: "dossier", "activity", both, or nowhere."""
    out = set()
    if number in DOSSIER:
        out.add("dossier")
    if (number in ACTIVITY or number in VACCINATION or number in NON_BDS or number in CONCLUSION
            or observation(catalogue.element(number)) or number in carried(catalogue) or number in foreign()):
        out.add("activity")
    return frozenset(out)


def kind(number: int, catalogue: Catalogue) -> str | None:
    """The record's value kind of an element: code, string, bool, date, quantity or count."""
    e = catalogue.element(number)
    if e is None:
        return None
    if e.datatype in _KINDS:
        return _KINDS[e.datatype]
    return _HL7_KINDS.get(e.hl7_type or "")


def valueset(number: int, cat: Catalogue) -> str | None:
    """The W-domain of an element's value (countries: W0014)."""
    if number in COUNTRY:
        return "W0014"
    if number == NATIONALITY:
        return "W0029"
    if number == SPOKEN_LANGUAGE:  # the catalogue leaves it unbound; the template binds W0050
        return "W0050"
    e = cat.element(number)
    return e.valueset if e else None


def to_hl7(vs: ValueSet, bds_code: str) -> Code | None:
    """The HL7 entry for a BDS-flavour code; for HL7-only sets the code is the HL7 code. A
    null-flavour exception that only the BDS flavour lists (W0422's OTH) is itself."""
    if not (vs.bds and vs.bds.codes):
        return vs.hl7.get(bds_code) if vs.hl7 else None
    found = vs.bds_to_hl7(bds_code)
    if found is None:
        c = _bds_only_null_flavour(vs, bds_code)
        return c.bds if c is not None else None
    return found


def _bds_only_null_flavour(vs: ValueSet, code: str) -> Concept | None:
    """The concept of a null-flavour exception that only the BDS flavour lists (W0422's OTH)."""
    c = vs.bds_concept(code)
    return c if c is not None and c.hl7 is None and c.bds.exception and c.bds.code_system == NULL_FLAVOR_OID else None


def unpublished(vs: ValueSet, bds_code: str) -> Code | None:
    """A code the set's published content lacks, where that content is another BDS version's.

    BDS 4.2.0's value sets are not published (4.1.3's stand in), so a 4.2.0 code such as
    W0619 51 is unknown here, yet Nictiz's tooling accepts it. It is carried as it is where
    the set writes every code it pairs the same in both flavours, in one HL7 code system;
    the validator then warns that the code is outside the 4.1.3 set.
    """
    if not vs.fallback or not bds_code.isdecimal():
        return None
    pairs = [c for c in vs.concepts if c.bds and c.hl7 and not c.hl7.exception]
    systems = {c.hl7.code_system for c in pairs}  # HL7-only entries (W0193's role codes) aside
    if len(systems) != 1 or any(c.bds.code != c.hl7.code or len(c.bds.code) != len(bds_code) for c in pairs):
        return None
    return Code(bds_code, systems.pop(), None)


def is_other(vs: ValueSet | None, bds_code: str) -> bool:
    """Is ``bds_code`` the set's "other" ("98 Anders", HL7 nullFlavor OTH), which comes with a text?"""
    c = vs.bds_concept(str(bds_code)) if vs is not None else None
    return bool(c is not None and c.bds.exception and "OTH" in (c.bds.code, c.hl7.code if c.hl7 else None))


def to_bds(vs: ValueSet, code: str, code_system: str | None) -> str | None:
    """The BDS-flavour code of an HL7 (code, codeSystem); for HL7-only sets the HL7 code.

    A code written without its codeSystem (Nictiz's own 3.2.7 → 4.0 conversion leaves
    ``responsibleParty/code`` so) is read when the code means one thing in the set.
    """
    if not code_system:
        return _by_code_alone(vs, code)
    if code_system == NULL_FLAVOR_OID and _bds_only_null_flavour(vs, code) is not None:
        return code
    if not (vs.bds and vs.bds.codes):
        entry = vs.hl7.get(code, code_system) if vs.hl7 else None
        return entry.code if entry else None
    entry = vs.hl7_to_bds(code, code_system)
    return entry.code if entry else None


def _by_code_alone(vs: ValueSet, code: str) -> str | None:
    hl7_only = not (vs.bds and vs.bds.codes)
    matches = [c for c in vs.concepts if c.hl7 and c.hl7.code == code and not c.hl7.exception]
    found = {c.hl7.code if hl7_only else c.bds.code for c in matches if hl7_only or c.bds}
    return found.pop() if len(found) == 1 and len(matches) == 1 else None


@cache
def catalogue(version: str) -> Catalogue:
    return get_catalogue(version)
