"""Where the DOB carries the people and organisations around the child, by BDS element.

R006 the huisarts (G086), R007 other organisations and care providers (G082) and R008's
voor- and buitenschoolse voorzieningen (G006) are care provisions of another provider
(``patientPerson/asPatientOfOtherProvider/subjectOf/careProvision``, templates 104, 107 and
108 of R_PatientNL_JGZ); R008's school (G008) is ``patientPerson/asStudent``; the child's
contact person (G004) and each organisation's contact persons (G005, G007, G009) are
``contactParty``. Derived from the template rules (which path each template allows, which
identifier roots) and the BDS dataset (which element each part is). Data only: the facts path
(:mod:`jgz_gateway.adapters.relations`) and the FHIR view read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Period:
    """A period groep of two dates (``low``/``high`` of an IVL_TS): G096, G100, G106..."""

    groep: str
    start: int
    end: int


@dataclass(frozen=True)
class Contact:
    """A contact person (``contactParty``): of the child (G004), or of an organisation around the
    child (G005, G007, G009). Name on ``contactPerson``, role or function as ``code`` nullFlavor
    OTH with its text, telephone and e-mail as ``telecom``, validity period as ``effectiveTime``."""

    groep: str
    name: int
    role: int
    phone: int
    email: int
    period: Period

    def elements(self) -> tuple[int, ...]:
        return self.name, self.role, self.phone, self.email, self.period.start, self.period.end


#: Identifier roots of care providers (persons) and organisations.
UZI_PERSON, BIG, URA = "2.16.528.1.1007.3.1", "2.16.528.1.1007.5.1", "2.16.528.1.1007.3.3"
AGB = "2.16.840.1.113883.2.4.6.1"


@dataclass(frozen=True)
class Provider:
    """A care provision of another provider to the child (``patientPerson/asPatientOfOtherProvider/
    subjectOf/careProvision``): R006 the huisarts (G086, template 104), R007 another organisation or
    care provider (G082, template 107), R008 a voor- or buitenschoolse voorziening (G006, template 108).

    ``code``: the careProvision's fixed code (code, code system), or the element whose value it is;
    ``person``/``organisation``: identifier root → element, on ``assignedProvider`` and its
    ``representedOrganization`` (template 108 has none: both ids are nullFlavor NI); ``name`` on
    the organisation; ``period`` the careProvision's ``effectiveTime``; ``contact`` its contact
    persons (``representedOrganization/contactParty``)."""

    groep: str
    template: str
    code: tuple[str, str] | int
    person: dict[str, int]
    organisation: dict[str, int]
    name: int
    period: Period
    contact: Contact | None = None

    def elements(self) -> tuple[int, ...]:
        own = (self.code,) if isinstance(self.code, int) else ()
        return (*own, *self.person.values(), *self.organisation.values(), self.name, self.period.start,
                self.period.end)


CONTACTS: dict[str, Contact] = {c.groep: c for c in (
    Contact("G004", 704, 1318, 705, 706, Period("G097", 1455, 1456)),  # the child's contact person
    Contact("G005", 710, 711, 712, 713, Period("G102", 1465, 1466)),  # of another care provider
    Contact("G007", 1186, 1187, 1188, 1189, Period("G105", 1471, 1472)),  # of a voorziening
    Contact("G009", 719, 720, 721, 722, Period("G107", 1475, 1476)),  # of the school
)}

PROVIDERS: dict[str, Provider] = {p.groep: p for p in (
    Provider("G086", "104", ("GENRL", "2.16.840.1.113883.5.4"), {UZI_PERSON: 604, BIG: 1527, AGB: 1509},
             {URA: 709, AGB: 1510}, 31, Period("G100", 1461, 1462)),
    Provider("G082", "107", ("G082", "2.16.840.1.113883.2.4.4.40.393"), {UZI_PERSON: 688, BIG: 1528, AGB: 1511},
             {URA: 723, AGB: 1512}, 42, Period("G101", 1463, 1464), CONTACTS["G005"]),
    Provider("G006", "108", 56, {}, {}, 715, Period("G104", 1469, 1470), CONTACTS["G007"]),
)}

#: R008 G008 the school (``patientPerson/asStudent``): BRIN on ``schoolOrganization/id``, kind of
#: education its code, name its name, the class (717 number as the text of the part organisation's
#: code, 1183 its name), G106 the ``asStudent/effectiveTime``, G009 its contact persons.
SCHOOL_BRIN = "2.16.840.1.113883.2.4.6.15"
SCHOOL = {"brin": 605, "name": 1532, "kind": 58, "class": 717, "class_name": 1183}
SCHOOL_PERIOD = Period("G106", 1473, 1474)
#: 606 Leerling/onderwijsnummer: the ``asStudent/id`` (nullFlavor UNC, "not encoded").
STUDENT_NUMBER = 606
#: R008 elements the templates carry as the child's administrative observations; 1417 and 1493
#: belong to G006 in the BDS but occur once per child in the message.
VVE_ADMINISTRATIVE: tuple[int, ...] = (714, 716, 1417, 1493)
VVE_IN_G006: tuple[int, ...] = (1417, 1493)
#: 55 Aantal dagdelen: template 10267 puts a voorziening's period and a weekly PIVL_TS in an SXPR_TS
#: effectiveTime; how the count becomes the PIVL_TS (phase width in hours) is not published.
DAYPARTS = 55


@dataclass(frozen=True)
class Relative:
    """A person related to the child (``patientPerson/personalRelationship``, R011): a parent or
    carer (G014), a brother or sister (G018), a son or daughter (G078). One template serves all
    three; the relationship code says which (W0096, W0108, or a child role of HL7 value set
    2.16.840.1.113883.11.16360, for which the BDS has no element).

    ``relation`` the element of the relationship code; ``given``/``prefix``/``family`` the
    holder's name parts, ``gender`` its administrativeGenderCode, ``birth`` its birthTime;
    ``household`` the id of the holder's ``asMember/group`` (the Woonverband ID, 0..*);
    ``notes`` the elements of ``subjectOf/personalRelationshipObservation`` (ST or TS)."""

    groep: str
    relation: int | None
    given: int
    prefix: int
    family: int
    gender: int | None
    birth: int
    household: int
    notes: tuple[int, ...]


RELATIVES: dict[str, Relative] = {r.groep: r for r in (
    Relative("G014", 62, 61, 656, 657, None, 63, 1364, (1322, 1367, 72, 670)),
    Relative("G018", 74, 73, 671, 672, 75, 76, 1365, (78,)),
    Relative("G078", None, 1368, 1369, 1370, 1371, 1372, 1375, (1374,)),
)}

#: HL7 value set 2.16.840.1.113883.11.16360 (Child, RoleCode): a son or daughter of the child (G078).
CHILD_ROLES = frozenset({"CHILD", "CHLDADOPT", "CHLDFOST", "CHLDINLAW", "DAU", "DAUADOPT", "DAUC", "DAUFOST",
                         "DAUINLAW", "NCHILD", "SON", "SONADOPT", "SONC", "SONFOST", "SONINLAW", "STPCHLD", "STPDAU",
                         "STPSON"})
ROLE_CODE = "2.16.840.1.113883.5.111"
#: 1191 Spreektaal ouder/verzorger: the parent's ``languageCommunication/languageCode`` (W0050).
SPOKEN_LANGUAGE = 1191
#: R011 G077 Woonverband, the child's household (``patientPerson/asMember/group``): its id, kind
#: (W0094, the group's code) and remarks (its desc).
HOUSEHOLD = {"id": 1352, "kind": 607, "desc": 1190}
#: 631 Indicatie gezag minderjarige: ``patientPerson/guardian/code`` (W0031; guardianPerson nil).
CUSTODY = 631
#: 707 Laag- of niet geletterd: ``patientPerson/languageCommunication/proficiencyLevelCode`` (W0644).
LITERACY = 707


#: An address's parts as BDS elements: the child's (G001, with its period G096) and a parent's (G016).
ADDRESS = {
    "G001": {"use": 8, "county": 9, "city": 10, "streetName": 11, "houseNumber": 12, "letter": 13, "addition": 14,
             "additionalLocator": 15, "postalCode": 16, "desc": 17, "country": 630},
    "G016": {"use": 658, "county": 659, "city": 660, "streetName": 661, "houseNumber": 662, "letter": 663,
             "addition": 664, "additionalLocator": 665, "postalCode": 666, "desc": 667, "country": 669},
}

#: A telephone's number and kind: the child's (G002) and a parent's (G017).
PHONE = {"G002": (609, 610), "G017": (736, 737)}

#: 15 Aanduiding bij huisnummer (no W-domain): BDS code ↔ the address part's text in the DOB.
HOUSE_NUMBER_LOCATOR = {"1": "by", "2": "to"}


def relative_groep(code: str | None, code_system: str | None, notes: set[int], has_gender: bool, catalogue) -> str:
    """Parent (G014), brother or sister (G018) or son or daughter (G078) by the relationship code
    (HL7 flavour, ``catalogue`` the BDS 4.x catalogue with W0096 and W0108); an "other" (OTH is
    in both W-sets) by the remarks it carries (``notes``: their element numbers), else by a
    gender (which the BDS gives a sibling, 75, but not a parent), else a parent."""
    if code in CHILD_ROLES and code_system in (ROLE_CODE, None):
        return "G078"
    if code and code != "OTH":
        for groep, w in (("G014", "W0096"), ("G018", "W0108")):
            vs = catalogue.valueset(w)
            if vs is not None and vs.hl7_concept(code, code_system) is not None:
                return groep
    found = next((g for g, r in RELATIVES.items() if notes & set(r.notes)), None)
    if found is None and has_gender:
        found = "G018"
    return found or "G014"


@dataclass(frozen=True)
class JgzOrganisation:
    """A JGZ organisation of the dossier (R005), as ``careProvisionEvent/<link>/assignedEntity``
    (template 122) with its period as the link's ``time``: the organisations that carried out the
    care (G085, ``author``) and the one responsible for the child by the BRP (G091,
    ``responsibleParty``). ``ids``: identifier root → element; ``name`` on assignedOrganization."""

    groep: str
    link: str
    type_code: str
    ids: dict[str, int]
    name: int
    period: Period


JGZ_ORGANISATIONS: dict[str, JgzOrganisation] = {o.groep: o for o in (
    JgzOrganisation("G085", "author", "AUT", {URA: 603, AGB: 1529}, 1506, Period("G098", 1457, 1458)),
    JgzOrganisation("G091", "responsibleParty", "RESP", {URA: 1441, AGB: 1530}, 1507, Period("G099", 1459, 1460)),
)}


#: R050 469 Toestemming aan verpleegkundige om te vaccineren: a consentEvent coded 469 (template
#: authorization469), given by a doctor: the author's time (1383), the responsibleParty's ids
#: (UZI 1385, BIG 1504, AGB 1521) and the agentPerson's name (1505).
NURSE_VACCINATION = 469
NURSE_VACCINATION_DATE, NURSE_VACCINATION_NAME = 1383, 1505
NURSE_VACCINATION_IDS = {UZI_PERSON: 1385, BIG: 1504, AGB: 1521}
