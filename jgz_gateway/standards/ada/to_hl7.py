"""An ADA instance of the DOB v03 as a REPC_IN902120NL03 message tree.

The message follows the shape Nictiz's own ADA-to-HL7 conversion gives the qualification
instances (``reference/ada/hl7/``): rubrieken of an activity become rubricClusters of its
encounter, each element an observation with its template, BDS code and typed value, and
the rubrieken with a structure of their own (dossier, child, organisations, consents,
documents, care status, activity, vaccinations, conclusions) their templates' elements.
An element the gateway cannot place is reported (``skipped``), never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from datetime import date

from lxml import etree

from ..catalogue import ELEMENT_CS, GROEP_CS, RUBRIEK_CS, get_catalogue
from ..convert.nl_nl03 import CPE_ORDER
from .. import careplans, heelprick, items, perinatal
from ..hl7v3.codec import read_node, write_node
from ..validation.templates import display_names_wanted, template_attributes
from ..xmlsafe import HL7_NS, XSI_NS
from . import dates
from ..involved import (ADDRESS, JGZ_ORGANISATIONS, NURSE_VACCINATION, NURSE_VACCINATION_DATE, NURSE_VACCINATION_IDS,
                        NURSE_VACCINATION_NAME, PHONE)
from .around import FromAda
from .dataset import Concept, dataset, rubriek_code

H = "{" + HL7_NS + "}"
XSI_TYPE = "{" + XSI_NS + "}type"
NULL_FLAVOR_CS = "2.16.840.1.113883.5.1008"
#: 469 and the elements that go with it (date, doctor's name and ids).
NURSE_VACCINATION_ELEMENTS = (NURSE_VACCINATION, NURSE_VACCINATION_DATE, NURSE_VACCINATION_NAME, *NURSE_VACCINATION_IDS.values())
ROLE_CS = "2.16.840.1.113883.5.111"
REQUESTER_CS = "2.16.840.1.113883.2.4.4.40.411"  # W0659 Verzoeker activiteit
INTERACTION = "REPC_IN902120NL03"
URA = "2.16.528.1.1007.3.3"
TPL = "2.16.840.1.113883.2.4.6.10.100."
#: W0620 Interventie → the act that carries it (conclusion/indication/reasonOf). The published rules
#: allow only these two (TC01376: actIntent with a W0620 code, or referral with code 6); other
#: intents (informIntent...) would leave the indication without its required reasonOf.
INTERVENTION_ACT = {"6": "referral"}
#: ADA datatype → HL7 value type, for elements without an observation template of their own.
ADA_TYPES = {"code": "CV", "string": "ST", "text": "ST", "boolean": "BL", "datetime": "TS", "quantity": "PQ",
             "count": "INT", "ordinal": "CO"}
ACT_CLASS = {"referral": ("PCPR", "RQO"), "actIntent": ("ACT", "INT")}


#: The rubrieken a DOB carries in structures of the dossier (:mod:`..perinatal`).
PERINATAL_RUBRIEKEN = frozenset({"r014_zwangerschap", "r015_bevalling", "r016_pasgeborene_en_eerste_levensweken"})
#: ... and those whose groepen it carries so (:mod:`..careplans`).
CARE_RUBRIEKEN = frozenset({"r035_ontvangen_zorg", "r048_zorgplan"})

#: Child order of an encounter and of an observation (REPC_MT902000NL03), for parts added late.
ENCOUNTER_ORDER = ("templateId", "id", "code", "statusCode", "effectiveTime", "reasonCode", "performer", "author",
                   "consultant", "escort", "inFulfillmentOf", "pertinentInformation", "component1", "component2",
                   "component3", "component4", "component5", "subjectOf", "subjectOf1", "subjectOf2")
VACCINATION_ORDER = ("templateId", "id", "code", "effectiveTime", "consumable", "performer", "location", "reason",
                     "causeOf1", "causeOf2", "authorization", "limitation", "component", "subjectOf")
OBSERVATION_ORDER = ("templateId", "id", "code", "text", "statusCode", "effectiveTime", "value", "interpretationCode",
                     "methodCode", "targetSiteCode", "subject", "performer", "author", "location", "referenceRange",
                     "component")


def in_order(parent: etree._Element, order: tuple[str, ...]) -> None:
    """Sort children into schema order (stable: repeated elements keep their order)."""
    rank = {name: i for i, name in enumerate(order)}
    kids = list(parent)
    kids.sort(key=lambda c: rank.get(etree.QName(c).localname, len(order)) if isinstance(c.tag, str) else len(order))
    parent[:] = kids


class AdaError(ValueError):
    """The XML is not an ADA instance of the DOB v03; ``xpath`` says where."""

    def __init__(self, message: str, xpath: str = "/", element: str | None = None):
        super().__init__(f"{xpath}: {message}" + (f" (BDS {element})" if element else ""))
        self.message, self.xpath, self.element = message, xpath, element


@dataclass
class Envelope:
    """What a DOB carries that an ADA instance does not: the message around the dossier.

    All of it is generated (message id, creation time, application ids, the sending
    system and organisation); the defaults are placeholders a sender replaces.
    """

    message_id: tuple[str, str] | None = None  # (root, extension); default from the sender's URA and the time
    creation_time: str | None = None  # HL7 TS; default: the reference date, midnight
    sender_application: str = "{$applicationId}"
    receiver_application: str = "{$receiverId}"
    device_uzi: str = "{$deviceId}"
    organisation_ura: str = "{$orgId}"
    organisation_name: str | None = None


@dataclass
class Reading:
    """The message tree, plus every ADA element the gateway could not place."""

    root: etree._Element
    skipped: list[tuple[str, str, str | None]] = field(default_factory=list)  # (xpath, name, BDS code)


def el(parent: etree._Element | None, name: str, attrs: dict | None = None, text: str | None = None) -> etree._Element:
    tag = H + name
    node = etree.Element(tag) if parent is None else etree.SubElement(parent, tag)
    for k, v in (attrs or {}).items():
        if v is not None:
            node.set("{" + XSI_NS + "}" + k[4:] if k.startswith("xsi:") else k, v)
    if text is not None:
        node.text = text
    return node


def known_display(code: str | None, cs: str | None) -> str | None:
    """A code's display name in the BDS value sets (4.1.3 has the sets 4.0 lacks: W0014, W0422)."""
    return next((d for v in ("4.0.2", "4.1.3") if (d := get_catalogue(v).code_display(code, cs))), None)


def display(ada: etree._Element) -> str | None:
    """An ADA code's display name, from the value sets when the instance leaves it out (ADA
    makes ``displayName`` optional): for an address's country and gemeente it is the text."""
    return ada.get("displayName") or known_display(ada.get("code"), ada.get("codeSystem"))


class Reader:
    def __init__(self, data_el: etree._Element, today: date, envelope: Envelope):
        self.ada = data_el
        self.ds = dataset()
        self.cat = get_catalogue("4.0.2")  # names: the DOB v03 messages carry the 4.0 names
        self.tpl = get_catalogue("4.1.3")  # templates and value types of the DOB v03
        self.today = today
        self.env = envelope
        self.skipped: list[tuple[str, str, str | None]] = []
        self.birth = self._birth()
        # rubriek instances by id; references are matched without regard to case, as the
        # published instances write them (r026_04723_1 → R026_04723_1)
        self.ids = {r.get("id").casefold(): r for r in data_el if isinstance(r.tag, str) and r.get("id")}

    # --- small helpers --------------------------------------------------------------------

    def where(self, node: etree._Element) -> str:
        return node.getroottree().getpath(node)

    def skip(self, node: etree._Element, concept: Concept | None = None) -> None:
        self.skipped.append((self.where(node), etree.QName(node).localname, concept.code if concept else None))

    def date(self, node: etree._Element | None, attr: str = "value") -> str | None:
        if node is None or not node.get(attr):
            return None
        try:
            return dates.resolve(node.get(attr), self.today, self.birth)
        except dates.DateError as exc:
            raise AdaError(str(exc), self.where(node)) from None

    def _birth(self) -> date | None:
        node = next((n for n in self.ada.iter() if isinstance(n.tag, str) and n.get("id") == "DOB"), None)
        if node is None:
            node = self.ada.find("r003_persoonsgegevens/geboortedatum")
        if node is None or not node.get("value"):
            return None
        try:
            return dates.as_date(dates.resolve(node.get("value"), self.today, None))
        except (dates.DateError, ValueError) as exc:
            raise AdaError(f"birth date: {exc}", node.getroottree().getpath(node)) from None

    def name(self, code: str, cs: str = ELEMENT_CS) -> str | None:
        return self.cat.display_name(code, cs) or self.tpl.display_name(code, cs)

    def bds_code(self, parent, tag: str, code: str, cs: str, extra: dict | None = None):
        return el(parent, tag, {"code": code, "codeSystem": cs, "displayName": self.name(code, cs), **(extra or {})})

    @staticmethod
    def first(node, name):
        return node.find(name) if node is not None else None

    @staticmethod
    def val(node, attr="value"):
        return node.get(attr) if node is not None else None

    @staticmethod
    def country(addr, ada: etree._Element) -> etree._Element:
        """An address's ``country``, its name as text; "unknown" (the null-flavour code system,
        W0014's exception UNK) is a null flavour: the code system must be BRP table 34 (TC04121)."""
        if ada.get("nullFlavor") or ada.get("codeSystem") == NULL_FLAVOR_CS:
            return el(addr, "country", {"nullFlavor": ada.get("nullFlavor") or ada.get("code")})
        return el(addr, "country", {"code": ada.get("code"), "codeSystem": ada.get("codeSystem")}, display(ada))

    def coded(self, parent, tag: str, ada: etree._Element, xsi: str | None = "CV") -> etree._Element:
        """ADA code attributes as an HL7 coded element; other/unknown become nullFlavor."""
        attrs = {"xsi:type": xsi} if xsi else {}
        cs, code = ada.get("codeSystem"), ada.get("code")
        if ada.get("nullFlavor"):
            node = el(parent, tag, attrs | {"nullFlavor": ada.get("nullFlavor")})
        elif cs == NULL_FLAVOR_CS:
            node = el(parent, tag, attrs | {"nullFlavor": code})
        else:
            node = el(parent, tag, attrs | {"code": code, "codeSystem": cs, "displayName": ada.get("displayName"),
                                            "codeSystemName": ada.get("codeSystemName"),
                                            "codeSystemVersion": ada.get("codeSystemVersion")})
        if ada.get("originalText"):
            el(node, "originalText", text=ada.get("originalText"))
        return node

    def ident(self, parent, tag: str, ada: etree._Element) -> etree._Element:
        if ada.get("nullFlavor"):
            return el(parent, tag, {"nullFlavor": ada.get("nullFlavor")})
        return el(parent, tag, {"extension": ada.get("value"), "root": ada.get("root")})

    # --- the message ---------------------------------------------------------------------------

    def build(self) -> etree._Element:
        env = self.env
        stamp = env.creation_time or self.today.strftime("%Y%m%d") + "000000"
        root = etree.Element(H + INTERACTION, nsmap={None: HL7_NS, "xsi": XSI_NS})
        arc = str(int(env.organisation_ura)) if env.organisation_ura.isdecimal() else env.organisation_ura
        mid = env.message_id or (f"{URA}.{arc}.1", stamp)  # an OID arc has no leading zeros
        el(root, "id", {"extension": mid[1], "root": mid[0]})
        el(root, "creationTime", {"value": stamp})
        el(root, "versionCode", {"code": "NICTIZEd2005-Okt"})
        el(root, "interactionId", {"extension": INTERACTION, "root": "2.16.840.1.113883.1.6"})
        el(root, "profileId", {"extension": "810", "root": "2.16.840.1.113883.2.4.3.11.1"})
        for name, code in (("processingCode", "P"), ("processingModeCode", "T"), ("acceptAckCode", "AL")):
            el(root, name, {"code": code})
        bsn = self.ada.find("r003_persoonsgegevens/bsn")
        line = el(root, "attentionLine")
        el(line, "keyWordText", {"code": "PATID", "codeSystem": "2.16.840.1.113883.2.4.15.1"}, "Patient.id")
        el(line, "value", {"xsi:type": "II", "extension": self.val(bsn), "root": self.val(bsn, "root") or "2.16.840.1.113883.2.4.6.3"})
        for name, app in (("receiver", env.receiver_application), ("sender", env.sender_application)):
            el(el(el(root, name), "device"), "id", {"extension": app, "root": "2.16.840.1.113883.2.4.6.6"})
        cap = el(root, "ControlActProcess", {"classCode": "CACT", "moodCode": "EVN"})
        device = el(el(el(cap, "authorOrPerformer", {"typeCode": "AUT"}), "participant"), "AssignedDevice")
        el(device, "id", {"root": "2.16.528.1.1007.3.2", "extension": env.device_uzi})
        org = el(device, "Organization")
        el(org, "id", {"extension": env.organisation_ura, "root": URA})
        if env.organisation_name:
            el(org, "name", text=env.organisation_name)
        request = el(el(cap, "subject"), "CareProvisionRequest")
        el(request, "templateId", {"root": TPL + "10000"})
        dossier_id = self.ada.find("r002_dossierinformatie/dossiernummer")
        if dossier_id is None:
            raise AdaError("r002_dossierinformatie/dossiernummer is required", self.where(self.ada), "695")
        self.ident(request, "id", dossier_id)
        el(request, "code", {"code": "CPHC", "codeSystem": "2.16.840.1.113883.5.4",
                             "displayName": "certified public health and general preventive medicine care"})
        el(request, "statusCode", {"code": "active"})
        author = el(request, "author")
        el(author, "time", {"value": stamp[:8]})
        entity = el(author, "assignedEntity", {"classCode": "ASSIGNED"})
        el(entity, "templateId", {"root": TPL + "122"})
        el(entity, "id", {"root": URA, "extension": env.organisation_ura})
        event = el(el(request, "sequelTo"), "careProvisionEvent", {"moodCode": "EVN"})
        self.dossier(event, dossier_id, stamp)
        return root

    def dossier(self, event, dossier_id, stamp) -> None:
        self.ident(event, "id", dossier_id)
        el(event, "code", {"codeSystem": "2.16.840.1.113883.5.4", "code": "CPHC",
                           "displayName": "certified public health and general preventive medicine care"})
        status = self.ada.find("r002_dossierinformatie/dossier_status")
        el(event, "statusCode", {"code": self.val(status, "code") or "completed"})
        el(el(event, "effectiveTime"), "high", {"value": stamp})
        handled = {"r002_dossierinformatie"}
        self.patient(el(event, "subject", {"typeCode": "SBJ"}))
        handled |= {"r003_persoonsgegevens", "r006_huisarts", "r007_andere_betrokken_organisatieshulpverleners",
                    "r008_voor_of_buitenschoolse_voorzieningenschool", "r011_gezinssamenstelling"}
        for r005 in self.ada.findall("r005_betrokken_jgzorganisaties"):
            self.organisations(event, r005)
        handled.add("r005_betrokken_jgzorganisaties")
        for r009 in self.ada.findall("r009_externe_documenten"):
            for group in r009.findall("groep_g072_toegevoegd_bestand"):
                self.document(event, group)
        for r010 in self.ada.findall("r010_informatie_over_werkwijze_jgz"):
            self.consents(event, r010)
        for number, rubriek in ((476, "r010_informatie_over_werkwijze_jgz"), (1167, "r009_externe_documenten")):
            for r in self.ada.findall(rubriek):
                concept = self.ds.rubriek(rubriek_code(rubriek)).element(number)
                for item in r.findall(concept.name):
                    info = el(event, "pertinentInformation", {"typeCode": "PERT"} if number == 476 else None)
                    self.observation(info, item, concept, tag="annotationObsEvent", negation=False)
        for r010 in self.ada.findall("r010_informatie_over_werkwijze_jgz"):
            for group in r010.findall("groep_g088_afschrift_jgzdossier_verstrekt"):
                self.copy_given(event, group)
        handled |= {"r009_externe_documenten", "r010_informatie_over_werkwijze_jgz"}
        activities = self.ada.findall("r018_activiteit")
        of_activity = {self.activity_key(a.find("activiteit_id")): a for a in activities if a.find("activiteit_id") is not None}
        non_bds: dict = {}  # activity → its G083 items (1334 names the activity); the rest belong to the dossier
        for r051 in self.ada.findall("r051_nietgespecificeerde_gegevens"):
            for group in r051:
                owner = of_activity.get(self.activity_key(group.find("activiteit_id")))
                if owner is None:
                    self.non_bds(event, group)
                else:
                    non_bds.setdefault(id(owner), []).append(group)
        handled.add("r051_nietgespecificeerde_gegevens")
        links = self.links()
        linked = {id(r) for rubrieken in links.values() for r in rubrieken}
        for activity in activities:
            self.activity(event, activity, links[activity], non_bds.get(id(activity), []))
        handled.add("r018_activiteit")
        for r050 in self.ada.findall("r050_zorggegevens"):
            self.care(event, r050)
        handled.add("r050_zorggegevens")
        self.perinatal(event, [n for n in self.ada if n.tag in PERINATAL_RUBRIEKEN])
        handled |= PERINATAL_RUBRIEKEN
        for rubriek in (n for n in self.ada if n.tag in CARE_RUBRIEKEN):
            self.care_groups(event, rubriek)
        handled |= CARE_RUBRIEKEN
        for node in self.ada:
            if not isinstance(node.tag, str) or node.tag in handled or id(node) in linked:
                continue
            self.skip(node, self.ds.rubriek(rubriek_code(node.tag) or ""))
        in_order(event, CPE_ORDER)

    @staticmethod
    def activity_key(ident) -> tuple | None:
        return (ident.get("root"), ident.get("value")) if ident is not None and ident.get("value") else None

    # --- the child ------------------------------------------------------------------------------

    def patient(self, subject) -> None:
        r003 = self.ada.find("r003_persoonsgegevens")
        patient = el(subject, "patient", {"classCode": "PAT"})
        el(patient, "templateId", {"root": TPL + "131"})
        if r003 is None:
            return
        find = r003.find
        if find("bsn") is not None:
            self.ident(patient, "id", find("bsn"))
        for g001 in r003.findall("groep_g001_adres_client"):
            self.address(patient, g001)
        for g002 in r003.findall("groep_g002_telefoonnummer_client"):
            number = self.val(g002.find("telefoonnummer"))
            if number:
                use = self.val(g002.find("soort_telefoonnummer"), "code")
                el(patient, "telecom", {"use": use, "value": number if ":" in number else f"tel:{number}"})
        for mail in r003.findall("email_client"):
            address = self.val(mail)
            if address:
                el(patient, "telecom", {"value": address if address.startswith("mailto:") else f"mailto:{address}"})
        el(patient, "statusCode", {"code": "active"})
        person = el(patient, "patientPerson")
        official = [("given", find("voornaam"), None), ("prefix", find("voorvoegsel_geslachtsnaam"), "VV BR"),
                    ("family", find("geslachtsnaam"), "BR")]
        used = [("given", find("roepnaam"), "CL"), ("prefix", find("voorvoegsel_achternaam"), "VV BR"),
                ("family", find("achternaam"), "BR")]
        for use, parts in (("OR", official), ("L", used)):
            present = [(tag, node, q) for tag, node, q in parts if self.val(node)]
            if present:
                name = el(person, "name", {"use": use})
                for tag, node, qualifier in present:
                    el(name, tag, {"qualifier": qualifier}, node.get("value"))
        if find("geslacht") is not None:
            self.coded(person, "administrativeGenderCode", find("geslacht"))
        if self.date(find("geboortedatum")):
            el(person, "birthTime", {"value": self.date(find("geboortedatum"))})
        death = find("datum_overlijden")
        if death is not None:
            el(person, "deceasedInd", {"value": "true"})
            el(person, "deceasedTime", {"value": self.date(death)} if death.get("value") else {"nullFlavor": death.get("nullFlavor")})
        around = FromAda(self)
        around.providers(person)  # huisarts, other care providers, voorzieningen (R006-R008)
        if find("nationaliteit") is not None:
            nation = el(el(person, "asCitizen", {"classCode": "CIT"}), "politicalNation",
                        {"classCode": "NAT", "determinerCode": "INSTANCE"})
            self.coded(nation, "code", find("nationaliteit"))
        around.middle(person, r003)  # school, household, contact persons, custody, the family (R008, R011, G004)
        place, country = find("geboorteplaats"), find("geboorteland")
        if place is not None or country is not None:
            addr = el(el(person, "birthPlace"), "addr")
            if self.val(place):
                el(addr, "county", text=place.get("value"))
            if country is not None:
                self.country(addr, country)
        around.literacy(person, r003)
        for name in ("land_vanwaar_ingeschreven", "datum_vestiging_in_nederland", "datum_vertrek_uit_nederland"):
            concept = self.ds.rubriek("R003").child(name)
            for node in r003.findall(name):
                wrapper = el(patient, "subjectOf1", {"typeCode": "SBJ"})
                self.observation(wrapper, node, concept, tag="administrativeObservation", template=False, negation=False)
        around.administrative(patient)
        known = {"groep_g004_contactpersoon_client", "indicatie_gezag_minderjarige", "laag_of_niet_geletterde",
                 "bsn", "groep_g001_adres_client", "groep_g002_telefoonnummer_client", "email_client", "voornaam",
                 "voorvoegsel_geslachtsnaam", "geslachtsnaam", "roepnaam", "voorvoegsel_achternaam", "achternaam",
                 "geslacht", "geboortedatum", "datum_overlijden", "nationaliteit", "geboorteplaats", "geboorteland",
                 "land_vanwaar_ingeschreven", "datum_vestiging_in_nederland", "datum_vertrek_uit_nederland"}
        r003_concept = self.ds.rubriek("R003")
        for node in r003:
            if isinstance(node.tag, str) and node.tag not in known:
                self.skip(node, r003_concept.child(node.tag))

    def address(self, patient, group, parts: dict | None = None) -> None:
        """An address groep as ``addr``: the child's (G001, with its period G096) or a parent's
        (G016); ``parts`` the address part → element map (:data:`..involved.ADDRESS`)."""
        parts = parts or ADDRESS["G001"]
        concept = self.ds.by_code["G001" if parts is ADDRESS["G001"] else "G016"][0]

        def f(part: str):
            return group.find(concept.element(parts[part]).name)

        addr = el(patient, "addr", {"use": self.val(f("use"), "code")})
        if self.val(f("streetName")):
            el(addr, "streetName", text=f("streetName").get("value"))
        if self.val(f("houseNumber")):
            el(addr, "houseNumber", text=f("houseNumber").get("value"))
        suffix = " ".join(v for v in (self.val(f("letter")), self.val(f("addition"))) if v)
        if suffix:
            el(addr, "buildingNumberSuffix", text=suffix)
        locator = f("additionalLocator")
        if locator is not None and locator.get("code"):
            el(addr, "additionalLocator", text={"1": "by", "2": "to"}.get(locator.get("code"), locator.get("code")))
        postcode = self.val(f("postalCode"))
        if postcode:
            compact = postcode.replace(" ", "")
            el(addr, "postalCode", text=f"{compact[:4]} {compact[4:]}" if len(compact) == 6 else postcode)
        county = f("county")
        if county is not None and (county.get("code") or county.get("displayName")):
            el(addr, "county", {"code": county.get("code"), "codeSystem": county.get("codeSystem")}, display(county))
        if self.val(f("city")):
            el(addr, "city", text=f("city").get("value"))
        country = f("country")
        if country is not None:
            self.country(addr, country)
        if self.val(f("desc")):
            el(addr, "desc", text=f("desc").get("value"))
        period = group.find("groep_g096_periode_geldigheid_adres_client")
        if period is not None:
            usable = el(addr, "useablePeriod")
            for tag, name in (("low", "startdatum_geldigheid_adres_client"), ("high", "einddatum_geldigheid_adres_client")):
                if self.date(period.find(name)):
                    el(usable, tag, {"value": self.date(period.find(name))})

    # --- organisations, documents, consents, care ----------------------------------------------

    def organisations(self, event, r005) -> None:
        """R005: the organisations that carried out the care (G085, ``author``) and the one
        responsible by the BRP (G091, ``responsibleParty``), by element number."""
        concept = self.ds.rubriek("R005")
        for spec in JGZ_ORGANISATIONS.values():
            groep = concept.by_code(spec.groep)
            for group in r005.findall(groep.name):
                link = el(event, spec.link, {"typeCode": spec.type_code})
                period = group.find(groep.by_code(spec.period.groep).name)
                bounds = [(tag, self.date(period.find(groep.by_code(spec.period.groep).element(n).name)))
                          for tag, n in (("low", spec.period.start), ("high", spec.period.end))] if period is not None else []
                bounds = [(tag, v) for tag, v in bounds if v]
                if bounds:
                    time = el(link, "time", {"xsi:type": "IVL_TS"})
                    for tag, v in bounds:
                        el(time, tag, {"value": v})
                else:
                    el(link, "time", {"nullFlavor": "UNK"})
                entity = el(link, "assignedEntity", {"classCode": "ASSIGNED"})
                el(entity, "templateId", {"root": TPL + "122"})
                ids = [n for number in spec.ids.values() for n in group.findall(groep.element(number).name)]
                for node in ids:
                    self.ident(entity, "id", node)
                if not ids:  # the template's choice: a URA, an AGB or an unknown id (TC04019)
                    el(entity, "id", {"nullFlavor": "NI"})
                name = group.find(groep.element(spec.name).name)
                if self.val(name):
                    org = el(entity, "assignedOrganization", {"classCode": "ORG", "determinerCode": "INSTANCE"})
                    el(org, "name", text=name.get("value"))
        known = {concept.by_code(g).name for g in JGZ_ORGANISATIONS}
        for node in r005:
            if isinstance(node.tag, str) and node.tag not in known:
                self.skip(node, concept.child(node.tag))

    def document(self, event, g072) -> None:
        f = g072.find
        doc = el(el(event, "appendage", {"typeCode": "APND"}), "document", {"classCode": "DOC", "moodCode": "EVN"})
        kind = f("soort_toegevoegd_bestand")
        if kind is not None:
            self.coded(doc, "code", kind, xsi=None)
        text = el(doc, "text", {"mediaType": self.val(f("bestand_mimetype")), "representation": "B64"},
                  self.val(f("bestand")))
        if self.val(f("bestandsnaam")):
            el(text, "reference", {"value": "file:///" + f("bestandsnaam").get("value")})
        if self.date(f("datum_bestand")):
            el(doc, "effectiveTime", {"value": self.date(f("datum_bestand"))})
        if self.val(f("afzender_bestand")):
            person = el(el(el(doc, "author", {"typeCode": "AUT"}), "assignedEntity", {"classCode": "ASSIGNED"}),
                        "assignedPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"})
            el(person, "name", text=f("afzender_bestand").get("value"))

    CONSENTS = {  # groep: (consent element, bron, datum, naam bron, annotation element)
        "groep_g011_toestemming_overdracht_dossier_binnen_jgz": ("toestemming_overdracht_dossier_binnen_jgz", 1163),
        "groep_g010_bezwaar_overdracht_dossier_binnen_jgz": ("bezwaar_overdracht_dossier_binnen_jgz", 1395),
        "groep_g071_toestemming_aanmelding_lsp": ("toestemming_aanmelding_lsp", 1398),
        "groep_g012_toestemming_info_aan_derden": ("toestemming_verstrekking_informatie_aan_derden", 1165),
        "groep_g089_bezwaar_wetenschappelijk_onderzoek": ("bezwaar_wetenschappelijk_onderzoek", 1404),
        "groep_g115_toestemming_gegevensuitwisseling_rvp": ("toestemming_gegevensuitwisseling_rvp", 1533),
    }

    def consents(self, event, r010) -> None:
        """Consents and objections: the element's truth is the consent's negationInd
        (an objection that holds negates the consent, as Nictiz's conversion writes it)."""
        for group in r010:
            if not isinstance(group.tag, str) or group.tag not in self.CONSENTS:
                if isinstance(group.tag, str) and group.tag not in ("informatie_verstrekt_over_werkwijze_jgz",
                                                                     "groep_g088_afschrift_jgzdossier_verstrekt"):
                    self.skip(group, self.ds.rubriek("R010").child(group.tag))
                continue
            name, number = self.CONSENTS[group.tag]
            answer = group.find(name)
            objection = name.startswith("bezwaar")
            holds = self.val(answer) == "true"
            negated = holds if objection else not holds
            consent = el(el(event, "authorization", {"typeCode": "AUTH", "contextConductionInd": "false"}),
                         "consentEvent", {"classCode": "CONS", "moodCode": "EVN", "negationInd": "true" if negated else "false"})
            self.bds_code(consent, "code", str(number), ELEMENT_CS)
            children = {etree.QName(c).localname: c for c in group if isinstance(c.tag, str)}
            end = next((c for n, c in children.items() if n.startswith("einddatum")), None)
            if self.date(end):
                el(el(consent, "effectiveTime"), "high", {"value": self.date(end)})
            author = el(consent, "author", {"typeCode": "AUT"})
            when = next((c for n, c in children.items() if n.startswith("datum")), None)
            if self.date(when):
                el(author, "time", {"value": self.date(when)})
            party = el(author, "responsibleParty", {"classCode": "CON"})
            source = next((c for n, c in children.items() if n.startswith("bron")), None)
            if source is not None:
                self.coded(party, "code", source)
            person = el(party, "agentPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"})
            naam = next((c for n, c in children.items() if n.startswith("naam_bron")), None)
            el(person, "name", text=naam.get("value")) if self.val(naam) else el(person, "name", {"nullFlavor": "NI"})
            staff = next((c for n, c in children.items() if n.startswith("naam_jgzmedewerker")), None)
            org_ids = [c for n, c in children.items() if n.startswith("jgzorganisatie_ura") or n.startswith("jgzorganisatie_agb")]
            org_name = next((c for n, c in children.items() if n.startswith("jgzorganisatie_naam")), None)
            if staff is not None or org_ids or org_name is not None:
                entity = el(el(consent, "consultant", {"typeCode": "CON"}), "assignedEntity1", {"classCode": "ASSIGNED"})
                # the template requires the employee (TC00986): unnamed, the name is NI
                person = el(entity, "assignedPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"})
                el(person, "name", text=staff.get("value")) if self.val(staff) else el(person, "name", {"nullFlavor": "NI"})
                if org_ids or self.val(org_name):
                    org = el(entity, "representedOrganization", {"classCode": "ORG", "determinerCode": "INSTANCE"})
                    for node in org_ids:
                        self.ident(org, "id", node)
                    if not org_ids:
                        el(org, "id", {"nullFlavor": "NI"})
                    if self.val(org_name):
                        el(org, "name", text=org_name.get("value"))
            way = next((c for n, c in children.items() if n.startswith("toestemmingswijze")), None)
            note = next((c for n, c in children.items() if n.startswith("toelichting")), None)
            if way is not None:
                annotation = el(el(consent, "subjectOf", {"typeCode": "SUBJ"}), "annotation")
                self.bds_code(annotation, "code", "1541", ELEMENT_CS)
                self.coded(annotation, "value", way)
            concept = self.ds.rubriek("R010").child(group.tag).child(note.tag) if note is not None else None
            if concept is None and note is not None:  # another group's note: no place here
                self.skip(note)
            elif self.val(note):
                annotation = el(el(consent, "subjectOf"), "annotation")
                self.bds_code(annotation, "code", concept.code, ELEMENT_CS)
                el(annotation, "value", {"xsi:type": "ST"}, note.get("value"))

    def copy_given(self, event, g088) -> None:
        """G088 Afschrift JGZ-dossier verstrekt: an informationControlActEvent (component6)."""
        act = el(el(event, "component6", {"typeCode": "COMP"}), "informationControlActEvent",
                 {"classCode": "INFO", "moodCode": "EVN", "negationInd": "false"})
        self.bds_code(act, "code", "G088", GROEP_CS)
        note = g088.find("toelichting_verstrekking_afschrift_jgzdossier")
        if self.val(note):
            el(act, "text", {"xsi:type": "ST"}, note.get("value"))
        if self.date(g088.find("datum_verstrekking_afschrift_jgzdossier")):
            el(act, "effectiveTime", {"value": self.date(g088.find("datum_verstrekking_afschrift_jgzdossier"))})
        to = g088.find("afschrift_jgzdossier_verstrekt_aan")
        if to is not None:
            recipient = el(act, "informationRecipient", {"typeCode": "IRCP"})
            if to.get("code") == "ONESELF":
                el(recipient, "patient", {"classCode": "PAT"})
            else:
                rel = el(recipient, "personalRelationship", {"classCode": "PRS"})
                self.coded(rel, "code", to)
                el(rel, "relationshipHolder", {"classCode": "PSN", "determinerCode": "INSTANCE", "nullFlavor": "NI"})

    def care(self, event, r050) -> None:
        for group, number, code_name, date_name in (
            ("groep_g093_status_in_zorg", "1197", "status_in_zorg", "datum_start_zorg"),
            ("groep_g092_zorgbeeindiging", "487", "zorgbeeindiging", "datum_zorgbeeindiging"),
        ):
            for g in r050.findall(group):
                status = el(el(event, "subjectOf", {"typeCode": "SUBJ", "contextConductionInd": "false"}), "careStatus",
                            {"classCode": "STC", "moodCode": "EVN"})
                self.bds_code(status, "code", number, ELEMENT_CS)
                if self.date(g.find(date_name)):
                    el(status, "effectiveTime", {"value": self.date(g.find(date_name))})
                if g.find(code_name) is not None:
                    self.coded(status, "reasonCode", g.find(code_name), xsi=None)
        self.nurse_vaccination(event, r050)
        summary = self.ds.rubriek("R050").element(492)  # Samenvatting 0-4: the dossier's summary
        for node in r050.findall(summary.name):
            self.observation(el(event, "summary"), node, summary, tag="observationEvent", template=False, negation=False)
        for node in r050:
            if isinstance(node.tag, str) and node.tag not in ("groep_g093_status_in_zorg", "groep_g092_zorgbeeindiging",
                                                               summary.name, *(self.ds.rubriek("R050").element(n).name
                                                                               for n in NURSE_VACCINATION_ELEMENTS)):
                self.skip(node, self.ds.rubriek("R050").child(node.tag))

    def nurse_vaccination(self, event, r050) -> None:
        """469 as its consentEvent (template authorization469): the doctor as the author's responsibleParty."""
        concept = self.ds.rubriek("R050")

        def find(number: int):
            return r050.find(concept.element(number).name)

        answer = find(NURSE_VACCINATION)
        if answer is None:
            for number in NURSE_VACCINATION_ELEMENTS:
                for node in r050.findall(concept.element(number).name):
                    self.skip(node, concept.element(number))
            return
        consent = el(el(event, "authorization", {"typeCode": "AUTH", "contextConductionInd": "false"}), "consentEvent",
                     {"classCode": "CONS", "moodCode": "EVN", "negationInd": "false" if self.val(answer) == "true" else "true"})
        self.bds_code(consent, "code", str(NURSE_VACCINATION), ELEMENT_CS)
        author = el(consent, "author", {"typeCode": "AUT"})
        when = self.date(find(NURSE_VACCINATION_DATE))
        el(author, "time", {"value": when} if when else {"nullFlavor": "UNK"})
        party = el(author, "responsibleParty", {"classCode": "ASSIGNED"})
        for root, number in NURSE_VACCINATION_IDS.items():
            if self.val(find(number)):
                el(party, "id", {"extension": find(number).get("value"), "root": root})
        name = self.val(find(NURSE_VACCINATION_NAME))
        el(el(party, "agentPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"}), "name",
           None if name else {"nullFlavor": "NI"}, name)

    def non_bds(self, holder, g083) -> None:
        """R051/G083: a free question (1332) and answer (1333) for the rubriek (1335)."""
        item = el(el(holder, "component1", {"typeCode": "COMP"}), "nonBDSData", {"classCode": "OBS", "moodCode": "EVN"})
        el(item, "templateId", {"root": TPL + "10028"})
        code = el(item, "code", {"nullFlavor": "OTH"})
        el(code, "originalText", text=self.val(g083.find("element")))
        el(item, "text", text=self.val(g083.find("waarde")))
        rubriek = g083.find("rubriek_id")
        if rubriek is not None and rubriek.get("code"):
            el(el(el(item, "pertainsTo"), "categoryInBDS"), "code",
               {"code": rubriek.get("code"), "codeSystem": RUBRIEK_CS, "displayName": self.name(rubriek.get("code"), RUBRIEK_CS)})

    # --- activities ----------------------------------------------------------------------------

    def links(self) -> dict:
        """The rubriek instances of each activity: its gekoppeldeActiviteit references
        (matched without regard to case); a rubriek no activity references belongs to the
        activity its ADA comment names ("activiteit-<activiteit_id>")."""
        activities = self.ada.findall("r018_activiteit")
        links = {a: [self.ids[r.get("value").casefold()] for r in a.findall("gekoppeldeActiviteit")
                     if (r.get("value") or "").casefold() in self.ids] for a in activities}
        referenced = {id(r) for rs in links.values() for r in rs}
        by_comment = {f"activiteit-{self.val(a.find('activiteit_id'))}": a for a in activities}
        for rubrieken in links.values():  # the pregnancy and the newborn belong to the dossier
            rubrieken[:] = [r for r in rubrieken if r.tag not in PERINATAL_RUBRIEKEN | CARE_RUBRIEKEN]
        for node in self.ada:
            if (not isinstance(node.tag, str) or id(node) in referenced or node.tag in self.DOSSIER_RUBRIEKEN
                    or node.tag in PERINATAL_RUBRIEKEN | CARE_RUBRIEKEN):
                continue
            owner = by_comment.get(node.get("comment") or "")
            if owner is not None:
                links[owner].append(node)
        return links

    DOSSIER_RUBRIEKEN = {"r002_dossierinformatie", "r003_persoonsgegevens", "r005_betrokken_jgzorganisaties",
                         "r006_huisarts", "r007_andere_betrokken_organisatieshulpverleners", "r008_voor_of_buitenschoolse_voorzieningenschool",
                         "r009_externe_documenten", "r010_informatie_over_werkwijze_jgz", "r011_gezinssamenstelling",
                         "r050_zorggegevens", "r051_nietgespecificeerde_gegevens", "r018_activiteit"}

    def activity(self, event, act, linked, non_bds=()) -> None:
        f = act.find
        status = self.val(f("status_activiteit"), "code")
        mood, state = ("EVN", "completed") if status in (None, "01") else ("EVN", "aborted") if status == "02" else ("INT", "cancelled")
        enc = el(el(event, "component7", {"typeCode": "COMP"}), "encounter", {"classCode": "ENC", "moodCode": mood})
        self.ident(enc, "id", f("activiteit_id")) if f("activiteit_id") is not None else el(enc, "id", {"nullFlavor": "NI"})
        kind = f("soort_activiteit")
        if kind is not None:
            self.coded(enc, "code", kind, xsi=None)
        el(enc, "statusCode", {"code": state})
        if self.date(f("datum_activiteit")):
            el(enc, "effectiveTime", {"value": self.date(f("datum_activiteit"))})
        for indication in act.findall("indicatie_activiteit"):
            self.coded(enc, "reasonCode", indication, xsi=None)
        ids = [f(n) for n in ("uitvoerende_activiteit_uzi", "uitvoerende_activiteit_big", "uitvoerende_activiteit_agb") if f(n) is not None]
        discipline, name = f("uitvoerende_activiteit_discipline"), f("uitvoerende_activiteit_naam")
        if ids or discipline is not None or name is not None:
            entity = el(el(enc, "performer", {"typeCode": "PRF"}), "assignedEntity", {"classCode": "ASSIGNED"})
            for node in ids:
                self.ident(entity, "id", node)
            if not ids:
                el(entity, "id", {"nullFlavor": "NI"})
            if discipline is not None:
                self.coded(entity, "code", discipline, xsi=None)
            if self.val(name):
                el(el(entity, "assignedPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"}), "name", text=name.get("value"))
        requester = f("verzoeker_activiteit")
        if requester is not None and mood == "INT":
            # an activity not held fulfils no planned one (TC01446): the requester is its own author
            self.requester(el(enc, "author", {"typeCode": "AUT"}), requester)
            requester = None
        for r013 in (r for r in linked if r.tag == "r013_bedreigingen_uit_de_directe_omgeving"):
            function, naam = r013.find("contact_ivm_meldcode_met_functie"), r013.find("contact_ivm_meldcode_met_naam")
            if function is not None or naam is not None:
                entity = el(el(enc, "consultant", {"typeCode": "CON"}), "assignedEntity", {"classCode": "ASSIGNED"})
                if function is not None:
                    self.coded(entity, "code", function, xsi=None)
                if self.val(naam):
                    el(el(entity, "assignedPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"}), "name",
                       text=naam.get("value"))
        for escort in act.findall("begeleider"):
            party = el(el(enc, "escort", {"typeCode": "ESC"}), "responsibleParty", {"classCode": "ASSIGNED"})
            self.coded(party, "code", escort, xsi=None)
            el(party, "agentPerson", {"nullFlavor": "NI"})
        if requester is not None:
            planned = el(el(enc, "inFulfillmentOf", {"typeCode": "FLFS"}), "encounter", {"classCode": "ENC", "moodCode": "INT"})
            el(planned, "id", {"nullFlavor": "NI"})
            if kind is not None:
                self.coded(planned, "code", kind, xsi=None)
            el(planned, "statusCode", {"code": "completed"})
            self.requester(el(planned, "author", {"typeCode": "AUT"}), requester)
        r018 = self.ds.rubriek("R018")
        info = el(enc, "pertinentInformation", {"typeCode": "PERT"})
        cluster = self.cluster_head(info, "R018")
        for name in ("vorm_activiteit", "status_activiteit"):
            for node in act.findall(name):
                self.observation(el(cluster, "component"), node, r018.child(name))
        for rubriek in linked:
            self.rubriek(enc, rubriek)
        for group in non_bds:
            self.non_bds(enc, group)
        in_order(enc, ENCOUNTER_ORDER)

    def requester(self, author, ada) -> None:
        """1423 Verzoeker activiteit (W0659, code system …40.411): the child, a parent, or an
        organisation; outside W0659, "other" with its text (nullFlavor OTH)."""
        if ada.get("nullFlavor") or ada.get("codeSystem") == NULL_FLAVOR_CS:
            self.coded(el(author, "assignedEntity1", {"classCode": "ASSIGNED"}), "code", ada, xsi=None)
            return
        code = ada.get("code")
        ada = etree.Element("verzoeker", {k: v for k, v in ada.attrib.items() if k != "codeSystem"},
                            codeSystem=REQUESTER_CS)
        if code == "03":
            el(author, "patient", {"classCode": "PAT"})
        elif code == "02":
            rel = el(author, "personalRelationship", {"classCode": "PRS"})
            self.coded(rel, "code", ada, xsi=None)
            el(rel, "relationshipHolder", {"classCode": "PSN", "determinerCode": "INSTANCE", "nullFlavor": "NI"})
        else:
            self.coded(el(author, "assignedEntity1", {"classCode": "ASSIGNED"}), "code", ada, xsi=None)

    def rubriek(self, enc, node) -> None:
        code = rubriek_code(node.tag)
        concept = self.ds.rubriek(code)
        if concept is None:
            self.skip(node)
            return
        if code == "R047":
            self.conclusion(enc, node, concept)
            return
        if code == "R037":
            self.heel_prick(enc, node, concept)
            return
        items = []
        for child in node:
            if not isinstance(child.tag, str):
                continue
            sub = concept.child(child.tag)
            if sub is None:
                raise AdaError(f"{child.tag} is not part of {node.tag}", self.where(child))
            if code == "R041" and child.tag == "groep_g076_vaccinatie":
                self.vaccination(enc, child, sub)
            elif code == "R013" and child.tag in ("contact_ivm_meldcode_met_functie", "contact_ivm_meldcode_met_naam"):
                continue  # the activity's consultant
            else:
                items.append((child, sub))
        if not items:
            return
        info = el(enc, "pertinentInformation")
        cluster = self.cluster_head(info, code)
        self.fill(cluster, items)
        if cluster.find(H + "component") is None:  # every item skipped: no empty cluster
            enc.remove(info)

    def cluster_head(self, info, code: str):
        cluster = el(info, "rubricCluster", {"classCode": "CLUSTER", "moodCode": "EVN"})
        rubriek = self.tpl.rubriek(code)
        el(cluster, "templateId", {"root": rubriek.template_id if rubriek and rubriek.template_id else TPL + "110" + code[2:]})
        self.bds_code(cluster, "code", code, RUBRIEK_CS)
        return cluster

    def fill(self, cluster, items) -> None:
        """Observations and groups of a cluster. An element that the template of a sibling
        carries (its methodCode, targetSiteCode, family member, performer, location: the
        template binds the element's W-domain there) goes into that sibling's observation,
        and a date without a template of its own becomes its effectiveTime. When only the
        carried elements are there, the carrier is written with an unknown (NI) value."""
        present = {sub.number: child for child, sub in items if sub.kind == "element"}
        plan = self.plan(items[0][1].parent, present) if items else {}
        carried = {n for paths in plan.values() for n in paths.values()}
        written = set()
        for child, sub in items:
            if sub.kind == "groep":
                group = el(el(cluster, "component"), "groupCluster")
                self.bds_code(group, "code", sub.code, GROEP_CS)
                self.fill(group, [(c, sub.child(c.tag)) for c in child if isinstance(c.tag, str) and sub.child(c.tag)])
                if group.find(H + "component") is None:  # every item skipped, as an observation is
                    cluster.remove(group.getparent())
                continue
            if sub.number in carried:
                carrier = next(c for c, paths in plan.items() if sub.number in paths.values())
                if carrier in present or carrier in written:
                    continue
                written.add(carrier)  # the carrier itself is absent: an observation with an unknown value
                concept = sub.parent.element(carrier)
                obs = self.observation(el(cluster, "component"), None, concept)
            else:
                obs = self.observation(el(cluster, "component"), child, sub)
                carrier = sub.number
            if obs is not None:
                for path, number in plan.get(carrier, {}).items():
                    self.attach(obs, path, present[number])
                in_order(obs, OBSERVATION_ORDER)

    def plan(self, parent: Concept, present: dict) -> dict[int, dict[str, int]]:
        """carrier element → {HL7 path: carried element} for the carried elements present."""
        plan: dict[int, dict[str, int]] = {}
        siblings = [c for c in parent.children if c.kind == "element"]
        claimed: set[int] = set()
        for i, sibling in enumerate(siblings):
            element = self.tpl.element(sibling.number)
            if element is None or not element.template_id:
                continue
            paths = {}
            for path, w in element.bindings.items():
                if path == "value":
                    continue
                # the nearest following sibling with that W-domain (two templates may share one:
                # Lengte biologische moeder/vader both bind W0256 as methodCode); when every
                # candidate is taken, the carriers share it (G044: Methode meting goes with both
                # Geruis intensiteit and Geruis timing, as Nictiz's conversion writes it)
                order = siblings[i + 1:] + siblings[:i]
                candidates = [o for o in order if o.number in present and (info := self.tpl.element(o.number)) is not None
                              and not info.template_id and info.valueset == w]
                free = [o for o in candidates if o.number not in claimed]
                chosen = (free or candidates)[:1]
                for other in chosen:
                    paths[path] = other.number
                    claimed.add(other.number)
            if paths:
                plan[sibling.number] = paths
        if len(plan) == 1:
            (carrier, paths), = plan.items()
            for other in siblings:
                info = self.tpl.element(other.number)
                if (other.number in present and other.datatype == "datetime" and info is not None
                        and not info.template_id and other.number not in paths.values()):
                    paths["effectiveTime"] = other.number
        return plan

    def attach(self, obs, path: str, source) -> None:
        steps = path.split("/")
        if path == "effectiveTime":
            el(obs, "effectiveTime", {"value": self.date(source)})
        elif steps[0] == "performer":
            entity = el(el(obs, "performer", {"typeCode": "PRF"}), "assignedEntity", {"classCode": "ASSIGNED"})
            self.coded(entity, "code", source, xsi=None)
        elif steps[0] == "location":
            place = el(el(obs, "location", {"typeCode": "LOC"}), "serviceDeliveryLocation")
            self.coded(place, "code", source, xsi=None)
        elif steps[0] == "subject":
            rel = el(el(obs, "subject", {"typeCode": "SBJ"}), "personalRelationship", {"classCode": "PRS"})
            self.coded(rel, "code", source, xsi=None)
            el(rel, "relationshipHolder", {"classCode": "PSN", "determinerCode": "INSTANCE", "nullFlavor": "NI"})
        else:
            self.coded(obs, steps[-1], source, xsi=None)

    def observation(self, parent, node, concept: Concept, *, tag: str = "observation", template: bool = True,
                    negation: bool = True):
        element = self.tpl.element(concept.number)
        foreign = self.ds.foreign.get(concept.number)
        if foreign is not None:  # coded outside the BDS (SNOMED blood pressure): no templateId, no BDS code
            obs = el(parent, tag, {"classCode": "OBS", "moodCode": "EVN", "negationInd": "false"})
            el(obs, "code", {k: foreign[k] for k in ("code", "codeSystem", "displayName") if k in foreign})
            if node is None:
                el(obs, "value", {"xsi:type": foreign.get("type", "PQ"), "nullFlavor": "NI"})
            else:
                self.value(obs, node, foreign.get("type", "PQ"))
            return obs
        kind = (element.hl7_type if element is not None else None) or (None if template else ADA_TYPES.get(concept.datatype))
        if kind is None or (node is not None and not self.writable(element, node, kind)):
            if node is not None:
                self.skip(node, concept)
            if len(parent) == 0 and parent.getparent() is not None:
                parent.getparent().remove(parent)
            return None
        attrs = {"classCode": "OBS", "moodCode": "EVN"}
        if template and element is not None and element.template_id:
            defined = template_attributes(element.template_id)
            if defined is not None:  # as the template defines them (41584 has neither); negationInd
                attrs = {k: v for k, v in attrs.items() if k in defined}  # the schema requires
        if negation:
            attrs["negationInd"] = "false"
        obs = el(parent, tag, attrs)
        if template and element is not None and element.template_id:
            el(obs, "templateId", {"root": element.template_id})
        self.bds_code(obs, "code", str(concept.number), ELEMENT_CS)
        if node is None:
            el(obs, "value", {"xsi:type": kind, "nullFlavor": "NI"})
        else:
            self.value(obs, node, kind)
        return obs

    def writable(self, element, node, kind: str) -> bool:
        """Can the element template hold this ADA value? Not so, and reported as skipped rather
        than written invalid: an unanswered yes/no question (the templates require a BL value,
        value[non-null][BL] 1..1), and "unknown" where the value set has no such exception (a
        required code the message lacked, written as NullFlavor UNK in ADA)."""
        if kind == "BL":
            return not (node.get("nullFlavor") and not node.get("value"))
        return kind not in ("CV", "CE", "CD", "CO") or self.null_flavour_allowed(element, node)

    def null_flavour_allowed(self, element, node) -> bool:
        """Does a coded ADA value that stands for a null flavour fit the element's value set?"""
        flavour = node.get("nullFlavor") or (node.get("code") if node.get("codeSystem") == NULL_FLAVOR_CS else None)
        if flavour is None or element is None or not element.valueset:
            return True
        vs = self.tpl.valueset(element.valueset)
        return vs is None or flavour in vs.null_flavors

    def value(self, obs, node, kind: str) -> None:
        if node.get("nullFlavor") and kind not in ("CV", "CE", "CD", "CO"):
            el(obs, "value", {"xsi:type": kind, "nullFlavor": node.get("nullFlavor")})
        elif kind in ("CV", "CE", "CD", "CO"):
            self.coded(obs, "value", node, xsi=kind)
        elif kind == "PQ":
            el(obs, "value", {"xsi:type": "PQ", "value": node.get("value"), "unit": node.get("unit")})
        elif kind == "TS":
            el(obs, "value", {"xsi:type": "TS", "value": self.date(node)})
        elif kind in ("BL", "INT", "REAL"):
            el(obs, "value", {"xsi:type": kind, "value": node.get("value")})
        else:
            el(obs, "value", {"xsi:type": kind}, node.get("value"))

    # --- the pregnancy and the newborn ---------------------------------------------------------------

    def perinatal(self, event, rubrieken) -> None:
        """R014-R016: the dossier's pregnancyCondition and neonateData (:mod:`..perinatal`), not
        rubricClusters."""
        pairs = [p for r in rubrieken for p in self.leaves(r, self.ds.rubriek(rubriek_code(r.tag)))]
        self.place(event, pairs, perinatal.VALUES, perinatal.assemble)

    def heel_prick(self, enc, r037, concept: Concept) -> None:
        """R037: the encounter's heelPrick (:mod:`..heelprick`), not a rubricCluster (the request's
        379, 1431 and 1432 are reported)."""
        self.place(enc, self.leaves(r037, concept), heelprick.SLOTS, heelprick.assemble)

    def care_groups(self, event, rubriek) -> None:
        """R035 G041 (care received) and R048 G081 (care plan): the dossier's patientCareProvision
        and carePlan (:mod:`..careplans`), one per groep."""
        concept = self.ds.rubriek(rubriek_code(rubriek.tag))
        for group in (c for c in rubriek if isinstance(c.tag, str)):
            sub = concept.child(group.tag)
            if sub is None:
                raise AdaError(f"{group.tag} is not part of {rubriek.tag}", self.where(group))
            if sub.code not in careplans.SLOTS:  # 360 Zorg ontvangen in gezin: no place in the DOB
                self.skip(group, sub)
                continue
            self.place(event, self.leaves(group, sub), careplans.SLOTS[sub.code], partial(careplans.assemble, sub.code))

    def leaves(self, holder, concept: Concept) -> list[tuple]:
        """(ADA element, its concept) of a rubriek or groep, its groepen's elements included."""
        out = []
        for child in (c for c in holder if isinstance(c.tag, str)):
            sub = concept.child(child.tag)
            if sub is None:
                raise AdaError(f"{child.tag} is not part of {holder.tag}", self.where(child))
            out += [(c, sub.child(c.tag)) for c in child if isinstance(c.tag, str)] if sub.kind == "groep" else [(child, sub)]
        return out

    def place(self, parent, pairs, slots, assemble) -> None:
        """A structure of its own (:mod:`..perinatal`, :mod:`..careplans`, :mod:`..heelprick`) from
        ADA elements: their items assembled and written under ``parent``. What ``slots`` lacks,
        what holds no value and what the structure has no room for is reported as skipped."""
        found: list[items.Item] = []
        source: dict[int, list[tuple]] = {}
        for node, concept in pairs:
            slot = slots.get(concept.number) if concept is not None else None
            value = self.item_value(node, slot) if slot is not None else None
            if value is None:
                self.skip(node, concept)
            else:
                found.append((concept.number, value))
                source.setdefault(concept.number, []).append((node, concept))
        built, dropped = assemble(found)
        for number, count in dropped.items():
            for node, concept in source[number][len(source[number]) - count:]:
                self.skip(node, concept)
        for n in built if isinstance(built, list) else [built] if built is not None else []:
            write_node(parent, n)

    def item_value(self, node, slot: items.Slot):
        """An ADA value as the HL7 value node of its item, or None when it holds none: codes as
        the instance gives them, dates resolved, "1 Ja / 2 Nee" codes as the slot writes a yes
        or no (3 Onbekend has no place), quantities in their template's unit."""
        if slot.yes_no:
            said = node.get("value") or {"Ja": items.YES, "Nee": items.NO}.get(node.get("displayName") or "")
            return items.value_node(slot, said, None) if said in (items.YES, items.NO) else None
        if slot.kind == "CV":
            return read_node(self.coded(None, "value", node))
        if slot.kind == "TS":
            when = self.date(node)
            return items.node("value", {"xsi:type": "TS", "value": when}) if when else None
        v = node.get("value")
        if node.get("nullFlavor") or not v:
            return None
        if slot.kind == "BL":
            return items.bl(v == "true") if v in ("true", "false") else None
        if slot.kind == "PQ":
            unit = node.get("unit")
            return items.node("value", {"xsi:type": "PQ", "value": v, "unit": slot.unit}) if unit in (None, slot.unit) else None
        if slot.kind == "INT":
            return items.node("value", {"xsi:type": "INT", "value": v}) if v.lstrip("-").isdecimal() else None
        return items.node("value", {"xsi:type": "ST"}, text=v)

    # --- vaccinations and conclusions --------------------------------------------------------------

    def vaccination(self, enc, g076, concept) -> None:
        f = g076.find
        refusal = f("bezwaar")
        sa = el(el(enc, "component3"), "substanceAdministration",
                {"classCode": "SBADM", "moodCode": "EVN", "negationInd": "true" if refusal is not None else "false"})
        el(sa, "templateId", {"root": TPL + "116"})
        el(sa, "code", {"code": "IMMUNIZ", "codeSystem": "2.16.840.1.113883.5.4", "displayName": "Immunization"})
        if self.date(f("datum_vaccinatie")):
            el(sa, "effectiveTime", {"value": self.date(f("datum_vaccinatie"))})
        medicine = el(el(el(sa, "consumable", {"typeCode": "CSM"}), "medication", {"classCode": "ADMM"}),
                      "administrableMedicine", {"classCode": "MMAT", "determinerCode": "KIND"})
        if f("soort_vaccinatie") is not None:
            self.coded(medicine, "code", f("soort_vaccinatie"), xsi=None)
        if self.val(f("partijnummer")):
            el(medicine, "lotNumberText", text=f("partijnummer").get("value"))
        # the performer (template 124) is always there; its organisation may be unknown
        person, org, place = f("naam_uitvoerende_persoon"), f("uitvoerende_instantie_vaccinatie"), f("locatie_uitvoerende_organisatie")
        entity = el(el(sa, "performer", {"typeCode": "PRF"}), "assignedEntity", {"classCode": "ASSIGNED"})
        el(entity, "templateId", {"root": TPL + "124"})
        if self.val(person):
            el(el(entity, "assignedPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"}), "name", text=person.get("value"))
        organisation = el(entity, "representedOrganization", {"classCode": "ORG", "determinerCode": "INSTANCE"})
        el(organisation, "id", {"nullFlavor": "NI"})
        if self.val(org):
            el(organisation, "name", text=org.get("value"))
        if self.val(place):
            part = el(el(organisation, "organizationContains", {"classCode": "PART"}), "partOrganization",
                      {"classCode": "ORG", "determinerCode": "INSTANCE"})
            el(part, "id", {"nullFlavor": "NA"})
            el(part, "name", text=place.get("value"))
        if f("reden_van_enting") is not None:
            reason = el(el(sa, "reason", {"typeCode": "RSON"}), "vaccinationReason", {"classCode": "OBS", "moodCode": "EVN"})
            self.bds_code(reason, "code", "686", ELEMENT_CS)
            self.coded(reason, "value", f("reden_van_enting"))
        period, symptoms = f("groep_g111_periode_reactie"), f("verschijnselen")
        reported = [f(n) for n in ("reactie_gemeld_aan_bevoegde_instantie_datum", "reactie_gemeld_aan_bevoegde_instantie_door_uzi",
                                   "reactie_gemeld_aan_bevoegde_instantie_door_big", "reactie_gemeld_aan_bevoegde_instantie_door_agb")]
        if period is not None or symptoms is not None or any(r is not None for r in reported):
            reaction = el(el(sa, "causeOf2", {"typeCode": "CAUS"}), "adverseReaction", {"classCode": "OBS", "moodCode": "EVN"})
            self.bds_code(reaction, "code", "874", ELEMENT_CS)
            if period is not None:
                time = el(reaction, "effectiveTime", {"xsi:type": "IVL_TS"})
                for tag, name in (("low", "startdatum_reactie"), ("high", "einddatum_reactie")):
                    if self.date(period.find(name)):
                        el(time, tag, {"value": self.date(period.find(name))})
            if self.val(symptoms):
                el(reaction, "value", {"xsi:type": "ST"}, symptoms.get("value"))
            if any(r is not None for r in reported):
                info = el(el(reaction, "subjectOf", {"typeCode": "SUBJ"}), "informationControlActEvent",
                          {"classCode": "INFO", "moodCode": "EVN"})
                self.bds_code(info, "code", "875", ELEMENT_CS)
                if self.date(reported[0]):
                    el(info, "effectiveTime", {"value": self.date(reported[0])})
                ids = [r for r in reported[1:] if r is not None]
                if ids:
                    who = el(el(info, "performer", {"typeCode": "PRF"}), "assignedPerson", {"classCode": "ASSIGNED"})
                    for node in ids:
                        self.ident(who, "id", node)
        for name in ("type_oproepkaart", "toelichting_afwijkende_plaats_vaccinatie", "vaccinatie_door_rivm_afgekeurd"):
            node = f(name)
            if node is not None:
                wrapper = el(sa, "component", {"typeCode": "COMP"})
                self.observation(wrapper, node, concept.child(name), tag="vaccinationObservation", template=False, negation=False)
        if refusal is not None:  # a refusal: the consent to vaccinate is negated, for the reason 683
            consent = el(el(sa, "authorization", {"typeCode": "AUTH"}), "consentEvent",
                         {"classCode": "CONS", "moodCode": "EVN", "negationInd": "true"})
            el(consent, "code", {"code": "IMMUNIZ", "codeSystem": "2.16.840.1.113883.5.4", "displayName": "Immunization"})
            reason = el(el(consent, "reasonOf", {"typeCode": "RSON"}), "observationEvent", {"classCode": "OBS", "moodCode": "EVN"})
            self.bds_code(reason, "code", "683", ELEMENT_CS)
            self.coded(reason, "value", refusal)
        in_order(sa, VACCINATION_ORDER)

    def conclusion(self, enc, r047, concept) -> None:
        f = r047.find
        conclusie = f("conclusie")
        groups = r047.findall("groep_g058_indicatie_en_interventie")
        if self.val(conclusie) or groups:
            act = el(el(enc, "subjectOf1"), "conclusion", {"classCode": "OBS", "moodCode": "EVN"})
            self.bds_code(act, "code", "482", ELEMENT_CS)
            if self.val(conclusie):
                el(act, "text", text=conclusie.get("value"))
            for g in groups:
                indication = el(el(act, "component", {"typeCode": "COMP"}), "indication", {"classCode": "OBS", "moodCode": "EVN"})
                self.bds_code(indication, "code", "485", ELEMENT_CS)
                if g.find("indicatie") is not None:
                    self.coded(indication, "value", g.find("indicatie"))
                for intervention in g.findall("interventie"):
                    kind = INTERVENTION_ACT.get(intervention.get("code"), "actIntent")
                    cls, mood = ACT_CLASS[kind]
                    intent = el(el(indication, "reasonOf", {"typeCode": "RSON"}), kind, {"classCode": cls, "moodCode": mood})
                    self.coded(intent, "code", intervention, xsi=None)
                    if kind == "referral" and g.find("verwijzing_naar") is not None:
                        entity = el(el(intent, "performer"), "assignedEntity", {"classCode": "ASSIGNED"})
                        self.coded(entity, "code", g.find("verwijzing_naar"), xsi=None)
        note = f("notitieblad")
        if self.val(note):  # the conclusion's note (template 10037), or without one the activity's
            if self.val(conclusie) or groups:
                annotation = el(el(act, "subjectOf", {"typeCode": "SUBJ"}), "annotation")
            else:
                annotation = el(el(enc, "subjectOf2"), "annotation")
            self.bds_code(annotation, "code", "493", ELEMENT_CS)
            el(annotation, "value", {"xsi:type": "ST"}, note.get("value"))
        for node in r047:
            if isinstance(node.tag, str) and node.tag not in ("conclusie", "groep_g058_indicatie_en_interventie", "notitieblad"):
                self.skip(node, concept.child(node.tag))


def read_tree(data_el: etree._Element, today: date, envelope: Envelope) -> Reading:
    extensions = _outside_the_dataset(data_el)
    _as_typed(data_el, dataset().root)
    _fill_placeholders(data_el, envelope)
    reader = Reader(data_el, today, envelope)
    root = reader.build()
    _name_required_codes(root)
    return Reading(root, extensions + reader.skipped)


def _outside_the_dataset(data_el: etree._Element) -> list[tuple[str, str, None]]:
    """What the ADA schema allows beside the dataset's concepts, removed before reading: an
    empty ``<concept>-start`` marker (``hidden="true"``, ADA's forms) before any concept, and
    an ``adaextension`` (any content) in any concept. An extension with content is reported
    skipped: the DOB has no place for it."""
    skipped, tree = [], data_el.getroottree()
    for el in [e for e in data_el.iter(etree.Element) if e.tag == "adaextension" or e.tag.endswith("-start")]:
        if el.tag == "adaextension":
            if len(el) or (el.text or "").strip() or el.attrib:
                skipped.append((tree.getpath(el), "adaextension", None))
        elif len(el) or (el.text or "").strip() or not set(el.attrib) <= {"conceptId", "hidden"}:
            continue  # not a marker: the reader names it
        el.getparent().remove(el)
    return skipped


#: Attributes whose values never hold meaningful space (codes, OIDs, units, null flavours).
_TOKENS = ("code", "codeSystem", "root", "unit", "nullFlavor")
#: String elements the DOB writes into a URL (tel:, mailto:), where no space may be.
_IN_URLS = frozenset({698, 738, *(number for number, _ in PHONE.values())})


def _as_typed(node: etree._Element, concept: Concept | None) -> None:
    """Leading and trailing space around a value whose ADA type is a number, boolean or date
    (the schema collapses it: ``" 1000 "`` is 1000) or a code, OID or unit, taken off. The
    DOB would carry it into ``code="  01 "`` or compare it as another value (a status code
    " 01 " read as an activity not held). So is space around a telephone number or e-mail
    address, which become URLs. The text of any other string concept stays as it is.

    Also as the schema has it: an empty value (its enumerations call it "Empty") is no value,
    and a yes/no answer "UNK" is the null flavour UNK (the DOB's BL cannot hold "UNK")."""
    for child in list(node):
        if not isinstance(child.tag, str):
            continue
        sub = concept.child(child.tag) if concept is not None else None
        if sub is not None:
            text = sub.datatype in ("string", "text") and not (sub.kind == "element" and sub.number in _IN_URLS)
            names = _TOKENS if text else (*_TOKENS, "value")
            for name in names:
                value = child.get(name)
                if value is not None and value != value.strip():
                    child.set(name, value.strip())
            if sub.datatype == "boolean" and child.get("value") == "UNK":  # the enumeration's "unknown"
                del child.attrib["value"]
                child.set("nullFlavor", "UNK")
            if child.get("value") == "" and len(child) == 0 and not {"code", "nullFlavor", "id"} & set(child.attrib):
                node.remove(child)  # "Empty" (the schema's own word): not filled in, as if absent
                continue
        _as_typed(child, sub)


def _name_required_codes(root: etree._Element) -> None:
    """Nictiz's conversion copies a code's ``displayName`` only when the instance has one, and
    so does this one, except where a template requires the name (the vaccine, TC03048; consent
    sources, TC00956…): there the value sets' name stands in, so the message keeps to the rules."""
    for node in display_names_wanted(root, INTERACTION):
        name = known_display(node.get("code"), node.get("codeSystem")) if node.get("displayName") is None else None
        if name:
            node.set("displayName", name)


def _fill_placeholders(data_el: etree._Element, envelope: Envelope) -> None:
    """Nictiz's test instances name the sending organisation by placeholder ({$orgId}) in
    their data too; where the envelope gives the real value, the data gets it as well."""
    defaults = Envelope()
    real = {getattr(defaults, f): getattr(envelope, f) for f in
            ("organisation_ura", "device_uzi", "sender_application", "receiver_application")
            if getattr(envelope, f) != getattr(defaults, f)}
    if not real:
        return
    for node in data_el.iter(etree.Element):
        for name, value in node.items():
            if value in real:
                node.set(name, real[value])
