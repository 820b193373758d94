"""A dossier's DOB message read back into an ADA instance of the DOB v03.

The inverse of :mod:`.to_hl7`: each part of the message goes to the dataset concept it
came from; observations of a rubricCluster become the elements of a rubriek instance
linked to its activity (``gekoppeldeActiviteit``). Elements keep the dataset's order.
"""

from __future__ import annotations

from lxml import etree

from ..catalogue import ELEMENT_CS, NULL_FLAVOR_CS, RUBRIEK_CS, get_catalogue
from .. import careplans, heelprick, perinatal
from ..items import YES, Slot, typed
from ..model import datatype
from ..hl7v3.codec import read_node, write_node
from ..xmlsafe import HL7_NS, XSI_NS
from . import dates
from .dataset import Concept, dataset
from ..involved import ADDRESS, JGZ_ORGANISATIONS, NURSE_VACCINATION_IDS, PHONE
from .around import ToAda
from .to_hl7 import AdaError, Reader

H = "{" + HL7_NS + "}"
XSI_TYPE = "{" + XSI_NS + "}type"
BSN = "2.16.840.1.113883.2.4.6.3"
USE_CS = "2.16.840.1.113883.5.1119"  # AddressUse / TelecommunicationAddressUse
CODED = ("code", "codeSystem", "displayName", "codeSystemName", "codeSystemVersion")
FORM = {"app": "jgz-7.0.0", "shortName": "versturen_jgzdossieroverdrachtverzoek_v03",
        "formName": "versturen_jgzdossieroverdrachtverzoek_v03_bds_400", "prefix": "jgz-7.0.0-", "language": "nl-NL"}


def local(node) -> str:
    return etree.QName(node).localname


def kids(node, name: str | None = None):
    if node is None:
        return []
    return [c for c in node if isinstance(c.tag, str) and (name is None or c.tag == H + name)]


def first(node, path: str):
    return node.find("/".join(H + p for p in path.split("/"))) if node is not None else None


#: patientPerson children :meth:`Writer.patient` writes into R003.
_PERSON_WRITTEN = frozenset({"name", "administrativeGenderCode", "birthTime", "deceasedInd", "deceasedTime",
                             "asCitizen", "birthPlace"})


def unknown(concept: Concept) -> dict | None:
    if concept.nullable:
        return {"nullFlavor": "UNK"}
    if concept.datatype == "code":
        return {"code": "UNK", "codeSystem": NULL_FLAVOR_CS, "displayName": "onbekend"}
    return None


def split(group: "Item") -> list["Item"]:
    """A group whose message cluster repeats an element the dataset allows once (BDS 4.2
    puts several Erfelijk bepaalde ziekte in one G019) becomes one group per repetition."""
    out = [Item(group.concept, dict(group.attrs))]
    for child in group.children:
        current = out[-1]
        if child.concept.max == 1 and any(c.concept is child.concept for c in current.children):
            current = Item(group.concept, dict(group.attrs))
            out.append(current)
        current.children.append(child)
    return out


class Item:
    """An ADA element being built: its concept, attributes and children (any order)."""

    def __init__(self, concept: Concept, attrs: dict | None = None):
        self.concept = concept
        self.attrs = {k: v for k, v in (attrs or {}).items() if v is not None}
        self.children: list[Item] = []

    def add(self, name: str, attrs: dict | None = None) -> "Item":
        concept = self.concept.child(name)
        if concept is None:
            raise AdaError(f"{name} is not part of {self.concept.name}")
        item = Item(concept, attrs)
        self.children.append(item)
        return item

    def element(self, number: int, attrs: dict | None = None) -> "Item | None":
        concept = self.concept.element(number)
        if concept is None:
            return None
        item = Item(concept, attrs)
        self.children.append(item)
        return item

    def xml(self, parent: etree._Element | None = None) -> etree._Element:
        node = etree.Element(self.concept.name) if parent is None else etree.SubElement(parent, self.concept.name)
        for k, v in self.attrs.items():
            node.set(k, v)
        if self.concept.concept:
            node.set("conceptId", self.concept.concept)
        rank = {c.name: i for i, c in enumerate(self.concept.children)}
        present = {c.concept.name for c in self.children}
        # a required element the message does not carry is written as unknown, as the
        # instances do (extra_zorginterventie nullFlavor="UNK"; a code as NullFlavor UNK)
        missing = [Item(c, unknown(c)) for c in self.concept.children
                   if c.kind == "element" and c.min >= 1 and c.name not in present and unknown(c) is not None]
        for child in sorted(self.children + missing, key=lambda c: rank.get(c.concept.name, len(rank))):
            child.xml(node)
        return node


class Writer:
    def __init__(self, dossier):
        from ..hl7v3 import build_tree

        self.root = build_tree(dossier)
        self.ds = dataset()
        self.tpl = get_catalogue("4.1.3")
        self.cat = get_catalogue("4.0.2")
        self.foreign = {(v["code"], v["codeSystem"]): k for k, v in self.ds.foreign.items()}
        self.top = Item(self.ds.root)
        self.count: dict[str, int] = {}
        #: what the ADA dataset (BDS 4.0) cannot hold: (XPath in the message, BDS code, why)
        self.skipped: list[tuple[str, str | None, str]] = []

    def skip(self, node, code: str | None, why: str) -> None:
        from ..xmlsafe import xpath_of

        self.skipped.append((xpath_of(node), code, why))

    # --- values ---------------------------------------------------------------------------------

    def coded(self, node, concept: Concept | None = None) -> dict:
        """An HL7 coded element as ADA code attributes (a null flavour is ADA's 'other' code)."""
        if node is None:
            return {}
        attrs = {k: node.get(k) for k in CODED}
        nf = node.get("nullFlavor")
        if nf and not attrs["code"]:
            attrs = {"code": nf, "codeSystem": NULL_FLAVOR_CS, "displayName": self.null_display(nf, concept)}
        text = first(node, "originalText")
        if text is not None and text.text:
            attrs["originalText"] = text.text
        return attrs

    def country(self, node) -> dict:
        """A ``country`` (its name is the text, not a displayName) as ADA code attributes."""
        return self.coded(node) if node.get("nullFlavor") else {
            "code": node.get("code"), "codeSystem": node.get("codeSystem"), "displayName": node.text}

    def null_display(self, nf: str, concept: Concept | None) -> str | None:
        element = self.tpl.element(concept.number) if concept is not None and concept.number else None
        vs = self.tpl.valueset(element.valueset) if element is not None and element.valueset else None
        entry = vs.hl7_concept(nf, NULL_FLAVOR_CS) if vs is not None else None
        if entry is None:
            return None
        side = entry.bds or entry.hl7  # ADA instances show the BDS name of an exception ("Anders", "Niet gelukt")
        return side.display if side is not None else None

    def bds_display(self, concept: Concept | None, code: str, code_system: str) -> str | None:
        """The BDS name of a code the message carries without one (address and telephone use):
        ADA instances show the BDS flavour's names."""
        info = (self.tpl.element(concept.number) or self.cat.element(concept.number)) if concept is not None else None
        vs = self.tpl.valueset(info.valueset) if info is not None and info.valueset else None
        entry = vs.hl7_concept(code, code_system) if vs is not None else None
        side = (entry.bds or entry.hl7) if entry is not None else None
        return side.display if side is not None else None

    def value(self, value, concept: Concept) -> dict | None:
        if value is None:
            return None
        kind = datatype(value.get(XSI_TYPE))
        nf = value.get("nullFlavor")
        if kind in ("CV", "CE", "CD", "CO", "CS") or value.get("code"):
            return self.coded(value, concept)
        if nf:
            return {"nullFlavor": nf}
        if kind == "PQ":
            return {"value": value.get("value"), "unit": value.get("unit")}
        if kind == "TS":
            return {"value": dates.iso(value.get("value") or "")}
        if kind in ("BL", "INT", "REAL"):
            return {"value": value.get("value")}
        text = "".join(value.itertext())
        return {"value": text}

    @staticmethod
    def ident(node) -> dict:
        if node is None:
            return {}
        if node.get("nullFlavor"):
            return {"nullFlavor": node.get("nullFlavor")}
        return {"value": node.get("extension"), "root": node.get("root")}

    def date(self, node) -> dict:
        return {"value": dates.iso(node.get("value"))} if node is not None and node.get("value") else {}

    # --- the instance ------------------------------------------------------------------------------

    def build(self, instance_id: str | None) -> etree._Element:
        event = first(self.root, "ControlActProcess/subject/CareProvisionRequest/sequelTo/careProvisionEvent")
        if event is None:
            raise AdaError("the dossier has no careProvisionEvent")
        self.dossier(event)
        self.patient(first(event, "subject/patient"))
        for author in kids(event, "author"):
            self.organisation(author)
        for party in kids(event, "responsibleParty"):
            self.organisation(party, "G091")
        for appendage in kids(event, "appendage"):
            self.document(first(appendage, "document"))
        for summary in kids(event, "summary"):  # 492 Samenvatting 0-4
            self.element_from(self.rubriek("R050"), first(summary, "observationEvent"))
        for info in kids(event, "pertinentInformation"):
            self.dossier_observation(first(info, "annotationObsEvent"))
        self.perinatal([read_node(n) for n in (*kids(event, "pertinentInformation"), *kids(event, "component5"))])
        for comp in (*kids(event, "component3"), *kids(event, "component4")):
            self.care_group(read_node(comp))
        for auth in kids(event, "authorization"):
            self.consent(first(auth, "consentEvent"))
        for comp in kids(event, "component6"):
            self.copy_given(first(comp, "informationControlActEvent"))
        for comp in kids(event, "component1"):
            self.non_bds(first(comp, "nonBDSData"), None)
        for comp in kids(event, "component7"):
            for act in kids(comp):
                self.activity(act)
        for subject in kids(event, "subjectOf"):
            self.care(first(subject, "careStatus"))
        root = etree.Element("adaxml", nsmap={"xsi": XSI_NS})
        root.set(f"{{{XSI_NS}}}noNamespaceSchemaLocation", "../ada_schemas/ada_versturen_jgzdossieroverdrachtverzoek_v03.xsd")
        creation = first(self.root, "creationTime")
        stamp = dates.iso(creation.get("value")) if creation is not None and creation.get("value") else None
        meta = etree.SubElement(root, "meta", {"status": "new", "created-by": "jgz-gateway", "last-update-by": "jgz-gateway"})
        if stamp and "T" in stamp:
            meta.set("creation-date", stamp)
            meta.set("last-update-date", stamp)
        data = etree.SubElement(root, "data")
        node = self.top.xml(data)
        attrs = dict(FORM, transactionRef=self.ds.transaction, transactionEffectiveDate=self.ds.effective,
                     title="Dossieroverdracht", id=instance_id or "dossier")
        for k, v in attrs.items():
            node.set(k, v)
        node.attrib.pop("conceptId", None)
        return root

    def rubriek(self, code: str, *, activity: bool = False) -> Item:
        """A rubriek instance: one per dossier for dossier rubrieken, a new one per activity otherwise."""
        concept = self.ds.rubriek(code)
        if not activity:
            for item in self.top.children:
                if item.concept is concept:
                    return item
        item = Item(concept)
        if activity:
            self.count[code] = self.count.get(code, 0) + 1
            item.attrs["id"] = f"{code}-{self.count[code]}"
        self.top.children.append(item)
        return item

    # --- dossier-level parts -------------------------------------------------------------------------

    def dossier(self, event) -> None:
        r002 = self.rubriek("R002")
        r002.add("dossiernummer", self.ident(first(event, "id")))
        status = first(event, "statusCode")
        if status is not None and status.get("code"):
            vs = self.tpl.valueset("W0002")
            concept = vs.hl7_concept(status.get("code"), "2.16.840.1.113883.5.14") if vs else None
            display = concept.bds.display if concept is not None and concept.bds is not None else None
            r002.add("dossier_status", {"code": status.get("code"), "codeSystem": "2.16.840.1.113883.5.14",
                                        "displayName": display})

    def patient(self, patient) -> None:
        if patient is None:
            return
        r003 = self.rubriek("R003")
        for ident in kids(patient, "id"):
            if ident.get("root") == BSN:
                r003.add("bsn", self.ident(ident))
        person = first(patient, "patientPerson")
        for name in kids(person, "name"):
            used = name.get("use") == "L"
            for part in kids(name):
                tag, qualifier = local(part), part.get("qualifier") or ""
                if tag == "given":
                    r003.add("roepnaam" if "CL" in qualifier else "voornaam", {"value": part.text})
                elif tag == "prefix":
                    r003.add("voorvoegsel_achternaam" if used else "voorvoegsel_geslachtsnaam", {"value": part.text})
                elif tag == "family":
                    r003.add("achternaam" if used else "geslachtsnaam", {"value": part.text})
        gender = first(person, "administrativeGenderCode")
        if gender is not None:
            r003.add("geslacht", self.coded(gender))
        birth = first(person, "birthTime")
        if birth is not None:
            r003.add("geboortedatum", self.date(birth) or {"nullFlavor": birth.get("nullFlavor")})
        death = first(person, "deceasedTime")
        if death is not None:
            r003.add("datum_overlijden", self.date(death) or {"nullFlavor": death.get("nullFlavor")})
        nation = first(person, "asCitizen/politicalNation/code")
        if nation is not None:
            r003.add("nationaliteit", self.coded(nation))
        place = first(person, "birthPlace/addr")
        if place is not None:
            county, country = first(place, "county"), first(place, "country")
            if county is not None and county.text:
                r003.add("geboorteplaats", {"value": county.text})
            if country is not None:
                r003.add("geboorteland", self.country(country))
        for addr in kids(patient, "addr"):
            self.address(r003.add("groep_g001_adres_client"), addr)
        for tel in kids(patient, "telecom"):
            value = tel.get("value") or ""
            if value.startswith("mailto:"):
                r003.add("email_client", {"value": value[7:]})
            else:
                self.phone(r003.add("groep_g002_telefoonnummer_client"), tel, PHONE["G002"])
        around = ToAda(self)
        for part in kids(person):  # relatives, care providers, school, contact persons (R006-R008, R011)
            if local(part) not in _PERSON_WRITTEN and not around.person_part(part, r003):
                self.skip(part, None, "a structure of patientPerson the DOB templates do not define")
        for subject in kids(patient, "subjectOf1"):  # after the voorzieningen: 1417 and 1493 join the first G006
            obs = first(subject, "administrativeObservation")
            if obs is not None and not around.administrative(obs):
                self.element_from(r003, obs)

    def address(self, group: Item, addr, parts: dict | None = None) -> None:
        """An ``addr`` into its groep: the child's (G001, with its period G096) or a parent's
        (G016); ``parts`` the address part → element map (:data:`..involved.ADDRESS`)."""
        parts = parts or ADDRESS["G001"]

        def text(name):
            node = first(addr, name)
            return node.text if node is not None and node.text else None

        def put(part: str, attrs: dict) -> None:
            group.element(parts[part], attrs)

        if addr.get("use"):
            concept = group.concept.element(parts["use"])
            put("use", {"code": addr.get("use"), "codeSystem": USE_CS,
                        "displayName": self.bds_display(concept, addr.get("use"), USE_CS)})
        for tag in ("streetName", "houseNumber", "city", "desc"):
            if text(tag):
                put(tag, {"value": text(tag)})
        suffix = text("buildingNumberSuffix")
        if suffix:
            letter, _, addition = suffix.partition(" ")
            if len(letter) == 1 and letter.isalpha():
                put("letter", {"value": letter})
                if addition:
                    put("addition", {"value": addition})
            else:
                put("addition", {"value": suffix})
        if text("additionalLocator"):
            code = {"by": "1", "to": "2"}.get(text("additionalLocator"), text("additionalLocator"))
            put("additionalLocator", {"code": code, "codeSystem": "2.16.840.1.113883.2.4.3.11.60.100.12.11"})
        if text("postalCode"):
            put("postalCode", {"value": text("postalCode")})
        county = first(addr, "county")
        if county is not None and (county.get("code") or county.text):
            put("county", {"code": county.get("code"), "codeSystem": county.get("codeSystem"), "displayName": county.text})
        country = first(addr, "country")
        if country is not None:
            put("country", self.country(country))
        period = first(addr, "useablePeriod")
        if period is not None and parts is ADDRESS["G001"]:
            sub = group.add("groep_g096_periode_geldigheid_adres_client")
            for tag, name in (("low", "startdatum_geldigheid_adres_client"), ("high", "einddatum_geldigheid_adres_client")):
                if first(period, tag) is not None:
                    sub.add(name, self.date(first(period, tag)))

    def phone(self, group: Item, tel, numbers: tuple[int, int]) -> None:
        """A ``tel:`` telecom into its groep: the child's (G002) or a parent's (G017)."""
        number, use = numbers
        group.element(number, {"value": (tel.get("value") or "").removeprefix("tel:")})
        if tel.get("use"):
            group.element(use, {"code": tel.get("use"), "codeSystem": USE_CS,
                                "displayName": self.bds_display(group.concept.element(use), tel.get("use"), USE_CS)})

    def organisation(self, link, groep: str = "G085") -> None:
        """A JGZ organisation (R005): one that carried out the care (G085, ``author``) or the one
        responsible by the BRP (G091, ``responsibleParty``), by element number."""
        spec = JGZ_ORGANISATIONS[groep]
        entity = first(link, "assignedEntity")
        if entity is None:
            return
        r005 = self.rubriek("R005")
        group = r005.add(r005.concept.by_code(groep).name)
        for ident in kids(entity, "id"):
            if ident.get("root") in spec.ids and ident.get("extension"):
                group.element(spec.ids[ident.get("root")], self.ident(ident))
        name = first(entity, "assignedOrganization/name")
        if name is not None and name.text:
            group.element(spec.name, {"value": name.text})
        time = first(link, "time")
        if time is not None and (first(time, "low") is not None or first(time, "high") is not None):
            period = group.add(group.concept.by_code(spec.period.groep).name)
            for tag, number in (("low", spec.period.start), ("high", spec.period.end)):
                if first(time, tag) is not None:
                    period.element(number, self.date(first(time, tag)))

    def document(self, doc) -> None:
        if doc is None:
            return
        group = self.rubriek("R009").add("groep_g072_toegevoegd_bestand")
        text = first(doc, "text")
        if text is not None:
            if text.text and text.text.strip():
                group.add("bestand", {"value": text.text})
            if text.get("mediaType"):
                group.add("bestand_mimetype", {"value": text.get("mediaType")})
            ref = first(text, "reference")
            if ref is not None and ref.get("value"):
                group.add("bestandsnaam", {"value": ref.get("value").removeprefix("file:///")})
        if first(doc, "code") is not None:
            group.add("soort_toegevoegd_bestand", self.coded(first(doc, "code")))
        if first(doc, "effectiveTime") is not None:
            group.add("datum_bestand", self.date(first(doc, "effectiveTime")))
        sender = first(doc, "author/assignedEntity/assignedPerson/name")
        if sender is not None and sender.text:
            group.add("afzender_bestand", {"value": sender.text})

    def perinatal(self, nodes) -> None:
        """R014-R016 from the dossier's pregnancyCondition and neonateData (:mod:`..perinatal`)."""
        found, unread = perinatal.items([n for n in nodes if perinatal.holds(n)])
        for number, value in found:
            self.put(self.rubriek(perinatal.rubriek_of(number)), perinatal.VALUES[number], value)
        for number, count in unread.items():
            self.skipped += [(f"careProvisionEvent ({perinatal.rubriek_of(number) or 'R014-R016'})", str(number),
                              "not a part of the pregnancy or newborn the DOB templates define")] * count

    def heel_prick(self, comp) -> Item:
        """R037 from an encounter's heelPrick (:mod:`..heelprick`)."""
        found, unread = heelprick.items(comp)
        r037 = self.rubriek("R037", activity=True)
        for number, value in found:
            self.put(r037, heelprick.SLOTS[number], value)
        for number, count in unread.items():
            self.skipped += [("encounter/component4/heelPrick/inFulfillmentOf", str(number),
                              "the request a heel prick fulfils: its template and the schema disagree")] * count
        return r037

    def care_group(self, comp) -> None:
        """G041 (R035) or G081 (R048) from the dossier's patientCareProvision or carePlan (:mod:`..careplans`)."""
        if not careplans.holds(comp):
            return
        groep, found, unread = careplans.items(comp)
        rubriek = self.rubriek(careplans.RUBRIEK[groep])
        group = rubriek.add(next(c.name for c in rubriek.concept.children if c.code == groep))
        for number, value in found:
            self.put(group, careplans.SLOTS[groep][number], value)
        for number, count in unread.items():
            self.skipped += [(f"careProvisionEvent ({careplans.RUBRIEK[groep]})", str(number),
                              "not a part of the care or care plan the DOB templates define")] * count

    def put(self, holder: Item, slot: Slot, value) -> None:
        """One item of a structure (:mod:`..items`) into an ADA rubriek or groep, an element of
        a groep inside (G109, G103, G110) into that groep: a yes/no as the list position ADA
        gives it, any other value as a message value is (:meth:`value`)."""
        number = slot.element
        if holder.concept.element(number) is None:
            sub = next(c for c in holder.concept.children if c.kind == "groep" and c.element(number) is not None)
            holder = next((g for g in holder.children if g.concept is sub), None) or holder.add(sub.name)
        if not slot.yes_no:
            holder.element(number, self.value(write_node(None, value), holder.concept.element(number)))
            return
        said = typed(slot, value, None)
        if said is None:
            self.skipped.append((f"value of element {number}", str(number), "neither a yes nor a no"))
        else:
            holder.element(number, {"value": said, "displayName": "Ja" if said == YES else "Nee"})

    def dossier_observation(self, obs) -> None:
        if obs is None:
            return
        code = first(obs, "code")
        number = int(code.get("code")) if code is not None and (code.get("code") or "").isdecimal() else None
        rubriek = {476: "R010", 1167: "R009"}.get(number)
        if rubriek:
            self.element_from(self.rubriek(rubriek), obs)

    CONSENTS = {number: group for group, (_, number) in Reader.CONSENTS.items()}

    def consent(self, consent) -> None:
        if consent is None:
            return
        code = first(consent, "code")
        number = int(code.get("code")) if code is not None and (code.get("code") or "").isdecimal() else None
        if number == 469:  # a doctor's permission for a nurse to vaccinate: R050 elements, no groep
            self.nurse_vaccination(consent)
            return
        if number not in self.CONSENTS:
            self.skip(consent, str(number), "consent not in the ADA dataset")
            return
        group = self.rubriek("R010").add(self.CONSENTS[number])
        children = {c.name: c for c in group.concept.children}

        def named(prefix: str) -> str | None:
            return next((n for n in children if n.startswith(prefix)), None)

        answer = group.concept.element(number)
        negated = consent.get("negationInd") == "true"
        objection = answer.name.startswith("bezwaar")
        group.add(answer.name, {"value": "true" if negated == objection else "false"})
        time = first(consent, "author/time")
        if time is not None and named("datum"):
            group.add(named("datum"), self.date(time))
        high = first(consent, "effectiveTime/high")
        if high is not None and named("einddatum"):
            group.add(named("einddatum"), self.date(high))
        source = first(consent, "author/responsibleParty/code")
        if source is not None and named("bron"):
            group.add(named("bron"), self.coded(source, children[named("bron")]))
        person = first(consent, "author/responsibleParty/agentPerson/name")
        if person is not None and person.text and named("naam_bron"):
            group.add(named("naam_bron"), {"value": person.text})
        entity = first(consent, "consultant/assignedEntity1")
        if entity is not None:
            staff = first(entity, "assignedPerson/name")
            if staff is not None and staff.text and named("naam_jgzmedewerker"):
                group.add(named("naam_jgzmedewerker"), {"value": staff.text})
            org = first(entity, "representedOrganization")
            for ident in kids(org, "id"):
                prefix = {"2.16.528.1.1007.3.3": "jgzorganisatie_ura", "2.16.840.1.113883.2.4.6.1": "jgzorganisatie_agb"}.get(ident.get("root"))
                if prefix and named(prefix):
                    group.add(named(prefix), self.ident(ident))
            name = first(org, "name")
            if name is not None and name.text and named("jgzorganisatie_naam"):
                group.add(named("jgzorganisatie_naam"), {"value": name.text})
        for annotation in consent.iter(H + "annotation"):
            acode = first(annotation, "code")
            value = first(annotation, "value")
            if acode is None or value is None:
                continue
            if acode.get("code") == "1541" and named("toestemmingswijze"):
                group.add(named("toestemmingswijze"), self.coded(value, children[named("toestemmingswijze")]))
            elif (acode.get("code") or "").isdecimal():
                concept = group.concept.element(int(acode.get("code")))
                if concept is not None and concept is not answer and "".join(value.itertext()):
                    group.add(concept.name, {"value": "".join(value.itertext())})

    def nurse_vaccination(self, consent) -> None:
        """469 (given unless negated), its date (1383, the author's time), the doctor's ids (UZI 1385,
        BIG 1504, AGB 1521) and name (1505): R050 elements."""
        r050 = self.rubriek("R050")
        r050.element(469, {"value": "false" if consent.get("negationInd") == "true" else "true"})
        time = first(consent, "author/time")
        if time is not None and time.get("value"):
            r050.element(1383, self.date(time))
        for ident in kids(first(consent, "author/responsibleParty"), "id"):
            number = NURSE_VACCINATION_IDS.get(ident.get("root"))
            if number and ident.get("extension"):
                r050.element(number, {"value": ident.get("extension"), "root": ident.get("root")})
        name = first(consent, "author/responsibleParty/agentPerson/name")
        if name is not None and name.text and name.text.strip():
            r050.element(1505, {"value": name.text})

    def copy_given(self, act) -> None:
        if act is None:
            return
        group = self.rubriek("R010").add("groep_g088_afschrift_jgzdossier_verstrekt")
        recipient = first(act, "informationRecipient")
        if first(recipient, "patient") is not None:
            group.add("afschrift_jgzdossier_verstrekt_aan", {"code": "ONESELF", "codeSystem": "2.16.840.1.113883.5.111",
                                                             "displayName": "Self"})
        elif first(recipient, "personalRelationship/code") is not None:
            group.add("afschrift_jgzdossier_verstrekt_aan", self.coded(first(recipient, "personalRelationship/code")))
        if first(act, "effectiveTime") is not None:
            group.add("datum_verstrekking_afschrift_jgzdossier", self.date(first(act, "effectiveTime")))
        text = first(act, "text")
        if text is not None and text.text:
            group.add("toelichting_verstrekking_afschrift_jgzdossier", {"value": text.text})

    def non_bds(self, item, activity_id: dict | None) -> None:
        if item is None:
            return
        group = self.rubriek("R051").add("groep_g083_niet_gespecificeerde_gegevens")
        code = first(item, "code")
        question = first(code, "originalText")
        label = question.text if question is not None and question.text else (code.get("displayName") or code.get("code")
                                                                               if code is not None else None)
        group.add("element", {"value": label})
        text = first(item, "text")
        answer = text.text if text is not None and text.text else None
        if answer is None and first(item, "value") is not None:
            from ..convert.common import render

            answer = render(first(item, "value"))
        group.add("waarde", {"value": answer})
        if activity_id:
            group.add("activiteit_id", activity_id)
        rubriek = first(item, "pertainsTo/categoryInBDS/code")
        if rubriek is not None:
            group.add("rubriek_id", {"code": rubriek.get("code"), "codeSystem": RUBRIEK_CS,
                                     "displayName": rubriek.get("displayName")})

    def care(self, status) -> None:
        if status is None:
            return
        code = first(status, "code")
        number = code.get("code") if code is not None else None
        spec = {"1197": ("groep_g093_status_in_zorg", "status_in_zorg", "datum_start_zorg"),
                "487": ("groep_g092_zorgbeeindiging", "zorgbeeindiging", "datum_zorgbeeindiging")}.get(number)
        if spec is None:
            self.skip(status, number, "care status not in the ADA dataset")
            return
        group = self.rubriek("R050").add(spec[0])
        if first(status, "reasonCode") is not None:
            group.add(spec[1], self.coded(first(status, "reasonCode")))
        if first(status, "effectiveTime") is not None:
            group.add(spec[2], self.date(first(status, "effectiveTime")))

    # --- activities ---------------------------------------------------------------------------------

    def activity(self, enc) -> None:
        r018 = Item(self.ds.rubriek("R018"))
        self.top.children.append(r018)
        own_id = first(enc, "id")
        if own_id is not None and not own_id.get("nullFlavor"):
            r018.add("activiteit_id", self.ident(own_id))
        if first(enc, "code") is not None:
            r018.add("soort_activiteit", self.coded(first(enc, "code")))
        if first(enc, "effectiveTime") is not None:
            r018.add("datum_activiteit", self.date(first(enc, "effectiveTime")))
        for reason in kids(enc, "reasonCode"):
            r018.add("indicatie_activiteit", self.coded(reason))
        entity = first(enc, "performer/assignedEntity")
        if entity is not None:
            for ident in kids(entity, "id"):
                name = {"2.16.528.1.1007.3.1": "uitvoerende_activiteit_uzi", "2.16.528.1.1007.5.1": "uitvoerende_activiteit_big",
                        "2.16.840.1.113883.2.4.6.1": "uitvoerende_activiteit_agb"}.get(ident.get("root"))
                if name:
                    r018.add(name, self.ident(ident))
            if first(entity, "code") is not None:
                r018.add("uitvoerende_activiteit_discipline", self.coded(first(entity, "code")))
            name = first(entity, "assignedPerson/name")
            if name is not None and name.text:
                r018.add("uitvoerende_activiteit_naam", {"value": name.text})
        # the requester authors the planned encounter a held activity fulfils, or an activity not held
        for requester in (first(enc, "inFulfillmentOf/encounter/author"), first(enc, "author")):
            if requester is None:
                continue
            if first(requester, "patient") is not None:
                r018.add("verzoeker_activiteit", {"code": "03", "codeSystem": "2.16.840.1.113883.2.4.4.40.411",
                                                  "displayName": self.display("W0659", "03")})
            else:
                code = first(requester, "personalRelationship/code")
                code = code if code is not None else first(requester, "assignedEntity1/code")
                if code is not None:
                    r018.add("verzoeker_activiteit", self.coded(code))
        for escort in kids(enc, "escort"):
            code = first(escort, "responsibleParty/code")
            if code is not None:
                r018.add("begeleider", self.coded(code, r018.concept.child("begeleider")))
        linked: list[Item] = []
        consultant = first(enc, "consultant/assignedEntity")
        for info in kids(enc, "pertinentInformation"):
            cluster = first(info, "rubricCluster")
            code = first(cluster, "code")
            rubriek = code.get("code") if code is not None else None
            if rubriek == "R018":
                for obs in self.observations(cluster):
                    self.element_from(r018, obs)
                continue
            if rubriek is None or self.ds.rubriek(rubriek) is None:
                self.skip(cluster, rubriek, "rubriek not in the ADA dataset of the DOB v03")
                continue
            item = self.rubriek(rubriek, activity=True)
            self.fill(item, cluster)
            linked.append(item)
        if consultant is not None:
            r013 = next((i for i in linked if i.concept.code == "R013"), None)
            if r013 is None:
                r013 = self.rubriek("R013", activity=True)
                linked.append(r013)
            if first(consultant, "code") is not None:
                r013.add("contact_ivm_meldcode_met_functie", self.coded(first(consultant, "code")))
            name = first(consultant, "assignedPerson/name")
            if name is not None and name.text:
                r013.add("contact_ivm_meldcode_met_naam", {"value": name.text})
        for comp in kids(enc, "component4"):  # R037, the heel prick
            prick = read_node(comp)
            if heelprick.holds(prick):
                linked.append(self.heel_prick(prick))
        vaccinations = [first(c, "substanceAdministration") for c in kids(enc, "component3")]
        if any(v is not None for v in vaccinations):
            r041 = next((i for i in linked if i.concept.code == "R041"), None)
            if r041 is None:
                r041 = self.rubriek("R041", activity=True)
                linked.append(r041)
            for sa in vaccinations:
                if sa is not None:
                    self.vaccination(r041.add("groep_g076_vaccinatie"), sa)
        conclusion = first(enc, "subjectOf1/conclusion")
        note = self.note(enc, conclusion)
        if conclusion is not None or note is not None:
            r047 = self.rubriek("R047", activity=True)
            linked.append(r047)
            self.conclusion(r047, conclusion, note)
        activity_id = self.ident(own_id) if own_id is not None and not own_id.get("nullFlavor") else None
        for comp in kids(enc, "component1"):
            self.non_bds(first(comp, "nonBDSData"), activity_id)
        for item in linked:
            r018.add("gekoppeldeActiviteit", {"value": item.attrs["id"]})

    def display(self, w: str, code: str) -> str | None:
        vs = self.tpl.valueset(w)
        entry = vs.bds_to_hl7(code) if vs is not None else None
        return entry.display if entry is not None else None

    @staticmethod
    def observations(cluster):
        return [first(c, "observation") for c in kids(cluster, "component") if first(c, "observation") is not None]

    def fill(self, item: Item, cluster) -> None:
        """The observations and groups of a cluster as the elements and groups of an ADA concept."""
        plan_seen: set[tuple] = set()
        for comp in kids(cluster, "component"):
            group = first(comp, "groupCluster")
            if group is not None:
                code = first(group, "code")
                concept = item.concept.by_code(code.get("code")) if code is not None else None
                if concept is not None:
                    sub = Item(concept)
                    self.fill(sub, group)
                    item.children.extend(split(sub))
                continue
            obs = first(comp, "observation")
            if obs is not None:
                self.element_from(item, obs, plan_seen)

    def element_from(self, item: Item, obs, seen: set | None = None) -> None:
        """One observation: its own element (unless its value is an unknown placeholder) and the
        sibling elements its template carries (methodCode, targetSiteCode, subject, ...)."""
        if obs is None:
            return
        code = first(obs, "code")
        if code is None:
            return
        if code.get("codeSystem") == ELEMENT_CS and (code.get("code") or "").isdecimal():
            number = int(code.get("code"))
        else:
            number = self.foreign.get((code.get("code"), code.get("codeSystem")))
        concept = item.concept.element(number) if number is not None else None
        if concept is None:
            self.skip(obs, str(number) if number is not None else code.get("code"),
                      f"element not in {item.concept.name} of the ADA dataset (BDS 4.0)")
            return
        value = first(obs, "value")
        placeholder = value is not None and value.get("nullFlavor") == "NI" and not value.get("code") and any(
            first(obs, p) is not None for p in ("methodCode", "targetSiteCode", "subject", "performer", "location", "effectiveTime"))
        if not placeholder:
            attrs = self.value(value, concept)
            if attrs is not None:
                item.children.append(Item(concept, attrs))
        element = self.tpl.element(number)
        if element is None:
            return
        paths = dict(element.bindings)
        if first(obs, "effectiveTime") is not None:
            paths["effectiveTime"] = None
        for path, w in paths.items():
            if path == "value":
                continue
            node = first(obs, "subject/personalRelationship/code" if path.startswith("subject") else path)
            if node is None:
                continue
            target = self.carried_concept(item.concept, concept, w, path)
            if target is None:
                continue
            attrs = self.date(node) if path == "effectiveTime" else self.coded(node, target)
            key = (target.name, tuple(sorted(attrs.items())))
            if seen is not None and key in seen:
                continue  # shared by several carriers (G044 Methode meting)
            if seen is not None:
                seen.add(key)
            item.children.append(Item(target, attrs))

    def carried_concept(self, parent: Concept, carrier: Concept, w: str | None, path: str) -> Concept | None:
        """The template-less sibling the carrier's binding holds: the nearest following one."""
        siblings = [c for c in parent.children if c.kind == "element"]
        index = next((i for i, c in enumerate(siblings) if c is carrier), 0)
        for other in siblings[index + 1:] + siblings[:index]:
            info = self.tpl.element(other.number)
            if info is None or info.template_id:
                continue
            if path == "effectiveTime" and other.datatype == "datetime":
                return other
            if w is not None and info.valueset == w:
                return other
        return None

    def vaccination(self, group: Item, sa) -> None:
        code = first(sa, "consumable/medication/administrableMedicine/code")
        if code is not None:
            group.add("soort_vaccinatie", self.coded(code))
        if first(sa, "effectiveTime") is not None:
            group.add("datum_vaccinatie", self.date(first(sa, "effectiveTime")))
        lot = first(sa, "consumable/medication/administrableMedicine/lotNumberText")
        if lot is not None and lot.text:
            group.add("partijnummer", {"value": lot.text})
        entity = first(sa, "performer/assignedEntity")
        for path, name in (("assignedPerson/name", "naam_uitvoerende_persoon"),
                           ("representedOrganization/name", "uitvoerende_instantie_vaccinatie"),
                           ("representedOrganization/organizationContains/partOrganization/name", "locatie_uitvoerende_organisatie")):
            node = first(entity, path)
            if node is not None and node.text:
                group.add(name, {"value": node.text})
        reason = first(sa, "reason/vaccinationReason/value")
        if reason is not None:
            group.add("reden_van_enting", self.coded(reason))
        refusal = first(sa, "authorization/consentEvent/reasonOf/observationEvent/value")
        if refusal is not None:
            group.add("bezwaar", self.coded(refusal))
        for comp in kids(sa, "component"):
            obs = first(comp, "vaccinationObservation")
            code = first(obs, "code")
            if code is not None and (code.get("code") or "").isdecimal():
                concept = group.concept.element(int(code.get("code")))
                if concept is not None:
                    attrs = self.value(first(obs, "value"), concept)
                    if attrs:
                        group.children.append(Item(concept, attrs))
        reaction = first(sa, "causeOf2/adverseReaction")
        if reaction is not None:
            period = first(reaction, "effectiveTime")
            if period is not None and (first(period, "low") is not None or first(period, "high") is not None):
                sub = group.add("groep_g111_periode_reactie")
                for tag, name in (("low", "startdatum_reactie"), ("high", "einddatum_reactie")):
                    if first(period, tag) is not None:
                        sub.add(name, self.date(first(period, tag)))
            value = first(reaction, "value")
            if value is not None and "".join(value.itertext()):
                group.add("verschijnselen", {"value": "".join(value.itertext())})
            info = first(reaction, "subjectOf/informationControlActEvent")
            if info is not None:
                if first(info, "effectiveTime") is not None:
                    group.add("reactie_gemeld_aan_bevoegde_instantie_datum", self.date(first(info, "effectiveTime")))
                for ident in kids(first(info, "performer/assignedPerson"), "id"):
                    name = {"2.16.528.1.1007.3.1": "reactie_gemeld_aan_bevoegde_instantie_door_uzi",
                            "2.16.528.1.1007.5.1": "reactie_gemeld_aan_bevoegde_instantie_door_big",
                            "2.16.840.1.113883.2.4.6.1": "reactie_gemeld_aan_bevoegde_instantie_door_agb"}.get(ident.get("root"))
                    if name:
                        group.add(name, self.ident(ident))

    def conclusion(self, r047: Item, conclusion, note) -> None:
        if conclusion is not None:
            text = first(conclusion, "text")
            if text is not None and text.text:
                r047.add("conclusie", {"value": text.text})
            for comp in kids(conclusion, "component"):
                indication = first(comp, "indication")
                if indication is None:
                    continue
                acts = [act for reason in kids(indication, "reasonOf") for act in kids(reason)] or [None]
                for act in acts:  # G058 holds one interventie: one group per intervention
                    group = r047.add("groep_g058_indicatie_en_interventie")
                    if first(indication, "value") is not None:
                        group.add("indicatie", self.coded(first(indication, "value")))
                    if act is None:
                        continue
                    if first(act, "code") is not None:
                        group.add("interventie", self.coded(first(act, "code")))
                    target = first(act, "performer/assignedEntity/code")
                    if target is not None:
                        group.add("verwijzing_naar", self.coded(target))
        if note is not None:
            r047.add("notitieblad", {"value": "".join(note.itertext())})

    def note(self, enc, conclusion):
        """The value of R047's one Notitieblad (493): the conclusion's note (template 10037's
        ``subjectOf/annotation``) or the activity's (``subjectOf2/annotation``), the first
        found; every other annotation is reported, as is one coded with another element."""
        found = None
        for holder in kids(conclusion, "subjectOf") + kids(enc, "subjectOf2"):
            annotation = first(holder, "annotation")
            if annotation is None:
                continue
            code = first(annotation, "code")
            number = code.get("code") if code is not None else None
            value = first(annotation, "value")
            if value is None:
                value = first(annotation, "text")  # not the schema's, but said in the text
            if number != "493" and not (number is None and code is not None and code.get("nullFlavor")):
                self.skip(annotation, number, "an annotation of an element other than 493 Notitieblad: "
                          "the ADA dataset has no place for it")
            elif value is None or not "".join(value.itertext()).strip():
                continue
            elif found is not None:
                self.skip(annotation, "493", "R047 holds one Notitieblad (493); the first is carried")
            else:
                found = value
        return found


def write_tree(dossier, *, instance_id: str | None = None) -> tuple[etree._Element, list]:
    writer = Writer(dossier)
    return writer.build(instance_id), writer.skipped


__all__ = ["write_tree"]
