"""Code systems, naming systems and the few concept maps the FHIR view needs.

HL7v3 identifies systems by OID; FHIR by URI. The Dutch naming systems have their own
URIs (Nictiz zib2020 NamingSystem resources, docs/jgz-standards.md §3); every other OID
becomes ``urn:oid:<oid>``, which maps back without loss.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from ..model import OID_BDS_ELEMENT, OID_BDS_GROEP, OID_BDS_RUBRIEK, OID_BSN, OID_URA

PROFILE = "http://nictiz.nl/fhir/StructureDefinition/"
BDS_ELEMENT = "urn:oid:" + OID_BDS_ELEMENT
BDS_RUBRIEK = "urn:oid:" + OID_BDS_RUBRIEK
BDS_GROEP = "urn:oid:" + OID_BDS_GROEP
RIVM_VACCINE_OID = "2.16.840.1.113883.2.4.4.40.76"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ATC = "http://www.whocc.no/atc"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
# a refused vaccination whose consent is negated (authorization/consentEvent negationInd="true")
PATIENT_OBJECTION = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "PATOBJ",
                     "display": "patient objection"}
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
OWN_PREFIX = "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix"
OWN_NAME = "http://hl7.org/fhir/StructureDefinition/humanname-own-name"
NATIONALITY = "http://hl7.org/fhir/StructureDefinition/patient-nationality"
#: nl-core-AddressInformation: the HL7 address use as written (zib AddressType), street parts, coded country
ADDRESS_TYPE = PROFILE + "ext-AddressInformation.AddressType"
ADDRESS_USE = "http://terminology.hl7.org/CodeSystem/v3-AddressUse"
CODE_SPECIFICATION = PROFILE + "ext-CodeSpecification"
ADXP = "http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-"
ADDRESS_PARTS = ("streetName", "houseNumber", "buildingNumberSuffix", "additionalLocator")
#: HL7 address use → FHIR Address (use, type), as nl-core-AddressInformation maps the zib's AddressType
ADDRESS_USE_FHIR = {"H": ("home", None), "HP": ("home", "both"), "PHYS": ("home", "physical"),
                    "PST": (None, "postal"), "TMP": ("temp", None), "HV": ("temp", None), "WP": ("work", None)}
#: An observation about a relative (80 hereditary disease in the family: which relative, 81):
#: a component coded as the v3 personal relationship, valued with the relationship code
RELATIVE = {"system": "http://terminology.hl7.org/CodeSystem/v3-RoleClass", "code": "PRS",
            "display": "personal relationship"}
#: HL7 telecom use → FHIR ContactPoint.use (nl-core-ContactInformation-TelephoneNumbers), and back
TELECOM_USE = {"H": "home", "HP": "home", "WP": "work", "MC": "mobile", "TMP": "temp", "BAD": "old"}
TELECOM_USE_BACK = {"home": "HP", "work": "WP", "mobile": "MC", "temp": "TMP", "old": "BAD"}
#: Patient.contact / RelatedPerson.relationship: the child's contact person (G004, HL7 contactParty) and school (asStudent)
CONTACT_ROLE = {"system": "http://terminology.hl7.org/CodeSystem/v3-RoleClass", "code": "CON", "display": "contact"}
STUDENT_ROLE = {"system": "http://terminology.hl7.org/CodeSystem/v3-RoleClass", "code": "STD", "display": "student"}
#: The DOB v03 transaction (ART-DECOR); the Bundle's tag says which message and BDS version it came from.
DOB_TRANSACTION = "urn:oid:2.16.840.1.113883.2.4.3.11.60.100.4.34"

_NAMING = {
    OID_BSN: "http://fhir.nl/fhir/NamingSystem/bsn",
    OID_URA: "http://fhir.nl/fhir/NamingSystem/ura",
    "2.16.840.1.113883.2.4.6.1": "http://fhir.nl/fhir/NamingSystem/agb-z",
    "2.16.528.1.1007.3.1": "http://fhir.nl/fhir/NamingSystem/uzi-nr-pers",
    "2.16.528.1.1007.3.2": "http://fhir.nl/fhir/NamingSystem/uzi-nr-sys",
    "2.16.528.1.1007.5.1": "http://fhir.nl/fhir/NamingSystem/big",
    "2.16.840.1.113883.5.111": ROLE_CODE,
    "2.16.840.1.113883.5.1008": NULL_FLAVOR,
    "2.16.840.1.113883.6.96": "http://snomed.info/sct",
    "2.16.840.1.113883.6.1": LOINC,
    "2.16.840.1.113883.6.8": UCUM,
}
_OIDS = {v: k for k, v in _NAMING.items()}

#: BDS growth elements with a zib profile: (profile, LOINC code, LOINC display, FHIR unit, factor from BDS unit).
#: The factor is a Decimal: a measurement keeps every digit it was given, both ways.
GROWTH = {
    235: ("nl-core-BodyHeight", "8302-2", "Body height", "cm", Decimal("0.1")),  # BDS mm
    245: ("nl-core-BodyWeight", "29463-7", "Body weight", "g", Decimal(1)),  # BDS g
    252: ("nl-core-HeadCircumference", "9843-4", "Head Occipital-frontal circumference", "cm", Decimal("0.1")),  # BDS mm
}

#: RIVM Soort vaccinatie (W0422, cs 2.16.840.1.113883.2.4.4.40.76) → WHO ATC, the coding the
#: nl-core Vaccination-event profile uses. Authored for the gateway from the WHO ATC index
#: (group J07); only types with one unambiguous ATC code or group are mapped; the rest
#: (13 DKT, 18 DP, 26 DKTP-Hepatitis B) keep the RIVM coding alone. See PROVENANCE in data/.
RIVM_TO_ATC = {
    "01": ("J07CA02", "diphtheria-pertussis-poliomyelitis-tetanus"),
    "02": ("J07CA01", "diphtheria-poliomyelitis-tetanus"),
    "03": ("J07AG01", "haemophilus influenzae B, purified antigen conjugated"),
    "04": ("J07BD52", "measles, combinations with mumps and rubella, live attenuated"),
    "05": ("J07BC01", "hepatitis B, purified antigen"),
    "06": ("J07AH07", "meningococcus C, purified polysaccharides antigen conjugated"),
    "07": ("J07AN01", "tuberculosis, live attenuated"),
    "08": ("J07AL02", "pneumococcus, purified polysaccharides antigen conjugated"),
    "09": ("J07BM", "papillomavirus vaccines"),
    "10": ("J07CA06", "diphtheria-haemophilus influenzae B-pertussis-poliomyelitis-tetanus"),
    "11": ("J07CA09", "diphtheria-haemophilus influenzae B-pertussis-poliomyelitis-tetanus-hepatitis B"),
    "12": ("J07AF01", "diphtheria toxoid"),
    "14": ("J07AM51", "tetanus toxoid, combinations with diphtheria toxoid"),
    "15": ("J07AJ02", "pertussis, purified antigen"),
    "16": ("J07AJ52", "pertussis, purified antigen, combinations with toxoids"),
    "17": ("J07CA02", "diphtheria-pertussis-poliomyelitis-tetanus"),
    "19": ("J07AM01", "tetanus toxoid"),
    "20": ("J07BF03", "poliomyelitis, trivalent, inactivated, whole virus"),
    "21": ("J07BE01", "mumps, live attenuated"),
    "22": ("J07BD01", "measles, live attenuated"),
    "23": ("J07BJ01", "rubella, live attenuated"),
    "24": ("J07BD51", "measles, combinations with mumps, live attenuated"),
    "25": ("J07BD53", "measles, combinations with rubella, live attenuated"),
    "27": ("J07CA02", "diphtheria-pertussis-poliomyelitis-tetanus"),
    "28": ("J07AH08", "meningococcus A, C, Y, W-135, tetravalent purified polysaccharides antigen conjugated"),
    "29": ("J07BH", "rota virus diarrhea vaccines"),
    "30": ("J07BB", "influenza vaccines"),
}

#: HL7 AdministrativeGender → FHIR administrative-gender.
#: The dossier's status (HL7 ActStatus, BDS 696) as the EpisodeOfCare's, and back.
EPISODE_STATUS = {"completed": "finished", "active": "active", "new": "planned", "held": "onhold",
                  "suspended": "onhold", "cancelled": "cancelled", "aborted": "cancelled",
                  "nullified": "entered-in-error"}
EPISODE_STATUS_BACK = {"finished": "completed", "active": "active", "planned": "new", "onhold": "held",
                       "cancelled": "cancelled", "entered-in-error": "nullified"}
ACT_STATUS = "2.16.840.1.113883.5.14"
#: Encounter.participant types for who asked for an activity (1423) and who came along (731).
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
REFERRER = {"system": PARTICIPATION, "code": "REF", "display": "referrer"}
ESCORT = {"system": PARTICIPATION, "code": "ESC", "display": "escort"}
BIRTH_PLACE = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
PERFORMER = {"system": PARTICIPATION, "code": "PRF", "display": "performer"}
LOCATION = {"system": PARTICIPATION, "code": "LOC", "display": "location"}
CONSULTANT = {"system": PARTICIPATION, "code": "CON", "display": "consultant"}

GENDER = {"M": "male", "F": "female", "UN": "other", "UNK": "unknown"}
GENDER_BACK = {v: k for k, v in GENDER.items()}
#: HL7 EntityNameUse → FHIR name-use (OR: officially registered; L: the name the person uses).
NAME_USE = {"OR": "official", "L": "usual"}
NAME_USE_BACK = {v: k for k, v in NAME_USE.items()}
#: W0679 Vorm activiteit → Encounter.class (v3 ActCode): home visit, virtual, or ambulatory.
ENCOUNTER_CLASS = {"06": ("HH", "home health"), "01": ("VR", "virtual"), "02": ("VR", "virtual"),
                   "08": ("VR", "virtual"), "09": ("VR", "virtual")}
AMBULATORY = ("AMB", "ambulatory")
#: HL7 null flavours → FHIR data-absent-reason.
ABSENT = {"UNK": "unknown", "ASKU": "asked-unknown", "NAV": "temp-unknown", "NASK": "not-asked",
          "MSK": "masked", "NA": "not-applicable", "NI": "unknown", "OTH": "unsupported", "NINF": "negative-infinity",
          "PINF": "positive-infinity", "NP": "unknown", "QS": "unknown", "TRC": "unknown"}


def system(oid: str | None) -> str | None:
    """An OID as a FHIR system URI."""
    if not oid:
        return None
    return _NAMING.get(oid) or "urn:oid:" + oid


def oid(uri: str | None) -> str | None:
    """A FHIR system URI as an OID (the inverse of :func:`system`)."""
    if not uri:
        return None
    if uri in _OIDS:
        return _OIDS[uri]
    return uri[8:] if uri.startswith("urn:oid:") else uri


_AMS = ZoneInfo("Europe/Amsterdam")
_TS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$")


def fhir_date(ts: str | None) -> str | None:
    """HL7 TS → FHIR date/dateTime; a time without zone is Dutch local time."""
    m = _TS.match(ts or "")
    if not m:
        return None
    y, mo, d, hh, mi, ss, tz = m.groups()
    if hh is None:
        return "-".join(p for p in (y, mo, d) if p)
    moment = datetime(int(y), int(mo), int(d), int(hh), int(mi or 0), int(ss or 0))
    if tz:
        offset = f"{tz[:3]}:{tz[3:]}"
    else:
        local = moment.replace(tzinfo=_AMS)
        if local.utcoffset().seconds % 60:  # Amsterdam time before 1937 (+00:19:32): FHIR offsets are whole minutes
            return local.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + "+00:00"
        raw = local.strftime("%z")
        offset = f"{raw[:3]}:{raw[3:5]}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + offset


def fhir_instant(ts: str | None) -> str | None:
    """HL7 TS → FHIR instant, for a TS known at least to the day (a date alone is midnight, Dutch
    time, or in its own zone when it names one); None for a year or a month."""
    m = _TS.match(ts or "")
    if not m or m.group(3) is None:
        return None
    y, mo, d, hh, mi, ss, tz = m.groups()
    return fhir_date(f"{y}{mo}{d}{hh or '00'}{mi or '00'}{ss or '00'}{tz or ''}")


def hl7_date(value: str | None) -> str | None:
    """FHIR date/dateTime → HL7 TS (Dutch local time; the inverse of :func:`fhir_date`)."""
    if not value:
        return None
    if "T" not in value:
        return value.replace("-", "")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(_AMS)
    return moment.strftime("%Y%m%d%H%M%S")
