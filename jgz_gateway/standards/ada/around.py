"""The people and organisations around the child between an ADA instance and the DOB.

R006 huisarts, R007 other care providers, R008 childcare and school, R011 the family
(parents, brothers and sisters, the child's own children, households) and R003's contact
person (G004), custody (631) and literacy (707). Where the DOB carries each BDS element is
:mod:`..involved`'s (derived from the templates of R_PatientNL_JGZ); this module only moves
values between that place and the ADA concept of the same number, so the ADA side follows
the dataset by element number, not by name.

:class:`ToAda` reads the message's ``patientPerson`` into ADA items (for
:mod:`.from_hl7`); :class:`FromAda` writes an instance's rubrieken into ``patientPerson``
(for :mod:`.to_hl7`), in the schema's order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from .. import involved as I
from ..catalogue import ELEMENT_CS, NULL_FLAVOR_CS, get_catalogue

if TYPE_CHECKING:  # pragma: no cover
    from .from_hl7 import Item, Writer
    from .to_hl7 import Reader

TELECOM = ("tel:", "mailto:")
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
TPL = "2.16.840.1.113883.2.4.6.10.100."


def _sub(item: Item, groep: str) -> Item:
    """A new occurrence of groep ``groep`` below ``item``."""
    concept = item.concept.by_code(groep)
    return item.add(concept.name)


def _text(node) -> str | None:
    return node.text if node is not None and node.text and node.text.strip() else None


# --------------------------------------------------------------------------- DOB -> ADA


class ToAda:
    """``patientPerson`` structures → ADA items of R003, R006, R007, R008 and R011."""

    def __init__(self, writer: Writer):
        from .from_hl7 import BSN, first, kids, local

        self.w, self.first, self.kids, self.local, self.bsn = writer, first, kids, local, BSN
        self.cat = get_catalogue("4.1.3")

    def put(self, item: Item, number: int | None, attrs: dict | None) -> None:
        if number is not None and attrs and any(v is not None for v in attrs.values()):
            if item.element(number, attrs) is None:  # a spec/dataset mismatch: reported, never raised
                self.w.skipped.append(("/", str(number), f"element {number} is not part of {item.concept.name}"))

    def text(self, item: Item, number: int, node) -> None:
        if _text(node):
            self.put(item, number, {"value": node.text})

    def period(self, item: Item, time, period: I.Period) -> None:
        bounds = [(n, self.first(time, tag)) for n, tag in ((period.start, "low"), (period.end, "high"))]
        bounds = [(n, b) for n, b in bounds if b is not None and b.get("value")]
        if bounds:
            sub = _sub(item, period.groep)
            for n, b in bounds:
                self.put(sub, n, self.w.date(b))

    def contact(self, item: Item, party, spec: I.Contact) -> None:
        group = _sub(item, spec.groep)
        name = self.first(party, "contactPerson/name")
        text = _text(name) or " ".join(t for t in (_text(x) for x in self.kids(name)) if t) if name is not None else None
        if text:
            self.put(group, spec.name, {"value": text})
        self.text(group, spec.role, self.first(party, "code/originalText"))
        for tel in self.kids(party, "telecom"):
            value = tel.get("value") or ""
            for scheme, number in zip(TELECOM, (spec.phone, spec.email)):
                if value.startswith(scheme):
                    self.put(group, number, {"value": value[len(scheme):]})
        self.period(group, self.first(party, "effectiveTime"), spec.period)

    def ids(self, item: Item, parent, roots: dict[str, int]) -> None:
        for ident in self.kids(parent, "id"):
            if ident.get("root") in roots and ident.get("extension"):
                self.put(item, roots[ident.get("root")], {"value": ident.get("extension"), "root": ident.get("root")})

    def care(self, care) -> None:
        template = self.first(care, "templateId")
        code = self.first(care, "code")
        root = template.get("root") if template is not None else ""
        spec = next((p for p in I.PROVIDERS.values() if root == TPL + p.template), None) or next(
            (p for p in I.PROVIDERS.values() if code is not None and p.code == (code.get("code"), code.get("codeSystem"))), None)
        if spec is None:
            self.w.skip(care, None, "a care provision of no template the DOB defines for the child")
            return
        rubriek = {"G086": "R006", "G082": "R007", "G006": "R008"}[spec.groep]
        group = _sub(self.w.rubriek(rubriek), spec.groep)
        if isinstance(spec.code, int):
            self.put(group, spec.code, self.w.coded(code, group.concept.element(spec.code)))
        provider = self.first(care, "performer/assignedProvider")
        org = self.first(provider, "representedOrganization")
        self.ids(group, provider, spec.person)
        self.ids(group, org, spec.organisation)
        self.text(group, spec.name, self.first(org, "name"))
        time = self.first(care, "effectiveTime")
        comps = self.kids(time, "comp")
        if comps:  # SXPR_TS (template 10267): the period, and the dagdelen as a PIVL_TS
            time = next((c for c in comps if (c.get(XSI_TYPE) or "").endswith("IVL_TS") and not
                         (c.get(XSI_TYPE) or "").endswith("PIVL_TS")), None)
            for pivl in (c for c in comps if (c.get(XSI_TYPE) or "").endswith("PIVL_TS")):
                self.w.skip(pivl, str(I.DAYPARTS), "how a count of dagdelen becomes a PIVL_TS is not published")
        self.period(group, time, spec.period)
        for party in self.kids(org, "contactParty") if spec.contact else ():
            self.contact(group, party, spec.contact)

    def school(self, student) -> None:
        r008 = self.w.rubriek("R008")
        ident = self.first(student, "id")
        if ident is not None and ident.get("extension"):
            self.put(r008, I.STUDENT_NUMBER, {"value": ident.get("extension")})
        org = self.first(student, "schoolOrganization")
        group = _sub(r008, "G008")
        s = I.SCHOOL
        self.ids(group, org, {I.SCHOOL_BRIN: s["brin"]})
        code = self.first(org, "code")
        if code is not None:
            self.put(group, s["kind"], self.w.coded(code, group.concept.element(s["kind"])))
        self.text(group, s["name"], self.first(org, "name"))
        part = self.first(org, "organizationContains/partOrganization")
        self.text(group, s["class"], self.first(part, "code/originalText"))
        self.text(group, s["class_name"], self.first(part, "name"))
        self.period(group, self.first(student, "effectiveTime"), I.SCHOOL_PERIOD)
        for party in self.kids(org, "contactParty"):
            self.contact(group, party, I.CONTACTS["G009"])

    def household(self, group_node) -> None:
        h = I.HOUSEHOLD
        group = _sub(self.w.rubriek("R011"), "G077")
        self.put(group, h["id"], self.w.ident(self.first(group_node, "id")))
        code = self.first(group_node, "code")
        if code is not None:
            self.put(group, h["kind"], self.w.coded(code, group.concept.element(h["kind"])))
        self.text(group, h["desc"], self.first(group_node, "desc"))

    def relative(self, rel) -> None:
        code = self.first(rel, "code")
        notes = {int(c.get("code")) for c in (self.first(s, "personalRelationshipObservation/code") for s in self.kids(rel, "subjectOf"))
                 if c is not None and (c.get("code") or "").isdecimal()}
        holder = self.first(rel, "relationshipHolder1")
        groep = I.relative_groep(code.get("code") if code is not None else None, code.get("codeSystem") if code is not None else None,
                                 notes, self.first(holder, "administrativeGenderCode") is not None, self.cat)
        spec = I.RELATIVES[groep]
        group = _sub(self.w.rubriek("R011"), groep)
        if spec.relation is not None and code is not None:
            self.put(group, spec.relation, self.w.coded(code, group.concept.element(spec.relation)))
        parent = groep == "G014"
        for part in self.kids(holder):
            name = self.local(part)
            if name == "id" and part.get("root") == self.bsn and parent:
                self.put(group, 655, self.w.ident(part))
            elif name == "name":
                for piece in self.kids(part):
                    target = {"given": spec.given, "prefix": spec.prefix, "family": spec.family}.get(self.local(piece))
                    if target:
                        self.text(group, target, piece)
            elif name == "administrativeGenderCode" and spec.gender is not None:
                self.put(group, spec.gender, self.w.coded(part, group.concept.element(spec.gender)))
            elif name == "birthTime":
                self.put(group, spec.birth, self.w.date(part))
            elif name == "asMember":
                self.put(group, spec.household, self.w.ident(self.first(part, "group/id")))
            elif parent:
                self.parent_part(group, part, name)
        if parent:
            for addr in self.kids(rel, "addr"):
                self.w.address(_sub(group, "G016"), addr, I.ADDRESS["G016"])
            for tel in self.kids(rel, "telecom"):
                value = tel.get("value") or ""
                if value.startswith("mailto:"):
                    self.put(group, 738, {"value": value[len("mailto:"):]})
                elif value.startswith("tel:"):
                    self.w.phone(_sub(group, "G017"), tel, I.PHONE["G017"])
        for obs in self.kids(rel, "subjectOf"):
            observation = self.first(obs, "personalRelationshipObservation")
            number = self.first(observation, "code")
            number = int(number.get("code")) if number is not None and (number.get("code") or "").isdecimal() else None
            if number in spec.notes:
                concept = group.concept.element(number)
                self.put(group, number, self.w.value(self.first(observation, "value"), concept))
            else:
                self.w.skip(obs, str(number) if number else None, f"not an element of {group.concept.name}")

    def names(self, number: int, code: str | None, code_system: str | None) -> set[str]:
        """The names of an element's (HL7) code in both flavours, lower case (see Concept.names)."""
        element = self.cat.element(number)
        vs = self.cat.valueset(element.valueset) if element is not None and element.valueset else None
        concept = vs.hl7_concept(code, code_system) if vs is not None and code else None
        return concept.names() if concept is not None else set()

    def parent_part(self, group: Item, part, name: str) -> None:
        """What only a parent's holder carries: death, education, belief, work, birth country, language."""
        if name == "deceasedInd":
            self.put(group, 64, {"value": part.get("value")})
        elif name == "deceasedTime":
            self.put(group, 65, self.w.date(part))
        elif name == "educationLevelCode":
            self.put(group, 66, self.w.coded(part, group.concept.element(66)))
        elif name == "religiousAffiliationCode":
            self.text(group, 69, self.first(part, "originalText"))
        elif name == "asEmployee":  # 67 Werk the code, 68 Inhoud beroep its text unless that only names the code
            occupation = self.first(part, "occupationCode")
            attrs = self.w.coded(occupation, group.concept.element(67))
            text = attrs.pop("originalText", None)
            if attrs.get("code") and attrs.get("codeSystem") != NULL_FLAVOR_CS:
                self.put(group, 67, attrs)
            if text and text.strip().lower() != (attrs.get("displayName") or "").strip().lower() \
                    and text.strip().lower() not in self.names(67, attrs.get("code"), attrs.get("codeSystem")):
                self.put(group, 68, {"value": text})
        elif name == "birthPlace":
            country = self.first(part, "addr/country")
            if country is not None:
                self.put(group, 71, self.w.country(country))
        elif name == "languageCommunication":
            code = self.first(part, "languageCode")
            self.put(group, I.SPOKEN_LANGUAGE, self.w.coded(code, group.concept.element(I.SPOKEN_LANGUAGE)))

    def person_part(self, part, r003: Item) -> bool:
        """Read one patientPerson child if it is one of these structures."""
        name = self.local(part)
        if name == "asPatientOfOtherProvider":
            for care in (self.first(s, "careProvision") for s in self.kids(part, "subjectOf")):
                if care is not None:
                    self.care(care)
        elif name == "asStudent" and self.first(part, "schoolOrganization") is not None:
            self.school(part)
        elif name == "asMember" and self.first(part, "group") is not None:
            self.household(self.first(part, "group"))
        elif name == "contactParty" and self.first(part, "contactPerson") is not None:
            self.contact(r003, part, I.CONTACTS["G004"])
        elif name == "guardian":
            self.put(r003, I.CUSTODY, self.w.coded(self.first(part, "code"), r003.concept.element(I.CUSTODY)))
        elif name == "languageCommunication" and self.first(part, "proficiencyLevelCode") is not None:
            code = self.first(part, "proficiencyLevelCode")
            self.put(r003, I.LITERACY, self.w.coded(code, r003.concept.element(I.LITERACY)))
        elif name == "personalRelationship":
            self.relative(part)
        else:
            return False
        return True

    def administrative(self, obs) -> bool:
        """R008's 714, 716, 1417 and 1493 ride as the child's administrative observations."""
        code = self.first(obs, "code")
        number = int(code.get("code")) if code is not None and code.get("codeSystem") == ELEMENT_CS \
            and (code.get("code") or "").isdecimal() else None
        if number not in I.VVE_ADMINISTRATIVE:
            return False
        r008 = self.w.rubriek("R008")
        if number in I.VVE_IN_G006:
            target = next((c for c in r008.children if c.concept.code == "G006"), None) or _sub(r008, "G006")
        else:
            target = r008
        self.w.element_from(target, obs)
        return True


# --------------------------------------------------------------------------- ADA -> DOB


class FromAda:
    """ADA rubrieken R006, R007, R008, R011 and R003's G004, 631 and 707 → ``patientPerson``."""

    def __init__(self, reader: Reader):
        from .to_hl7 import el

        self.r, self.el = reader, el
        self.ada = reader.ada

    def get(self, node, number: int):
        """The ADA child of ``node`` that is BDS element ``number`` (None when absent)."""
        concept = self._concept(node)
        child = concept.element(number) if concept is not None else None
        return node.find(child.name) if child is not None and node is not None else None

    def all(self, node, code: str) -> list:
        """The ADA children of ``node`` that are groep (or element) ``code``."""
        concept = self._concept(node)
        child = concept.by_code(code) if concept is not None else None
        return node.findall(child.name) if child is not None and node is not None else []

    def _concept(self, node):
        return self.r.ds.by_name.get(etree.QName(node).localname) if node is not None else None

    def value(self, node, number: int) -> str | None:
        found = self.get(node, number)
        return found.get("value") if found is not None and found.get("value") else None

    def period(self, parent, node, period: I.Period, xsi: bool = True) -> None:
        found = next(iter(self.all(node, period.groep)), None)
        bounds = [(tag, self.r.date(self.get(found, n))) for n, tag in ((period.start, "low"), (period.end, "high"))]
        bounds = [(tag, v) for tag, v in bounds if v]
        if bounds:
            time = self.el(parent, "effectiveTime", {"xsi:type": "IVL_TS"} if xsi else None)
            for tag, v in bounds:
                self.el(time, tag, {"value": v})

    def contact(self, parent, node, spec: I.Contact, xsi_period: bool = True) -> None:
        name = self.value(node, spec.name)
        if not name:  # the template requires the contact person's name
            self.r.skip(node, self.r.ds.by_code[spec.groep][0])
            return
        party = self.el(parent, "contactParty", {"classCode": "CON"})
        role = self.value(node, spec.role)
        if role:
            self.el(self.el(party, "code", {"nullFlavor": "OTH"}), "originalText", text=role)
        for scheme, number in zip(TELECOM, (spec.phone, spec.email)):
            if self.value(node, number):
                self.el(party, "telecom", {"value": scheme + self.value(node, number)})
        self.period(party, node, spec.period, xsi_period)
        person = self.el(party, "contactPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"})
        self.el(person, "name", text=name)

    def ids(self, parent, node, roots: dict[str, int]) -> int:
        count = 0
        for root, number in roots.items():
            found = self.get(node, number)
            if found is not None and found.get("value"):
                self.el(parent, "id", {"extension": found.get("value"), "root": root})
                count += 1
        return count

    def care(self, person, node, spec: I.Provider) -> None:
        code = self.get(node, spec.code) if isinstance(spec.code, int) else None
        if isinstance(spec.code, int) and code is None:  # a voorziening's kind is the care provision's code
            self.r.skip(node, self.r.ds.by_code[spec.groep][0])
            return
        care = self.el(self.el(self.el(person, "asPatientOfOtherProvider", {"classCode": "PAT"}), "subjectOf",
                               {"typeCode": "SBJ"}), "careProvision", {"classCode": "PCPR", "moodCode": "EVN"})
        self.el(care, "templateId", {"root": TPL + spec.template})
        if code is not None:
            self.r.coded(care, "code", code, xsi=None)
        else:
            self.el(care, "code", {"code": spec.code[0], "codeSystem": spec.code[1]})
        self.period(care, node, spec.period)
        provider = self.el(self.el(care, "performer", {"typeCode": "PRF"}), "assignedProvider", {"classCode": "ASSIGNED"})
        if not self.ids(provider, node, spec.person):
            self.el(provider, "id", {"nullFlavor": "NI"})
        org = self.el(provider, "representedOrganization", {"classCode": "ORG", "determinerCode": "INSTANCE"})
        if not self.ids(org, node, spec.organisation):
            self.el(org, "id", {"nullFlavor": "NI"})
        if self.value(node, spec.name):
            self.el(org, "name", text=self.value(node, spec.name))
        for contact in self.all(node, spec.contact.groep) if spec.contact else ():
            self.contact(org, contact, spec.contact)

    def providers(self, person) -> None:
        for rubriek, groep in (("r006_huisarts", "G086"), ("r007_andere_betrokken_organisatieshulpverleners", "G082"),
                               ("r008_voor_of_buitenschoolse_voorzieningenschool", "G006")):
            for r in self.ada.findall(rubriek):
                for node in self.all(r, groep):
                    self.care(person, node, I.PROVIDERS[groep])

    def school(self, person, node, student_number: str | None) -> None:
        s = I.SCHOOL
        kind = self.get(node, s["kind"])
        if kind is None:  # the context of the school's template needs the kind of education
            self.r.skip(node, self.r.ds.by_code["G008"][0])
            return
        student = self.el(person, "asStudent", {"classCode": "STD"})
        self.el(student, "id", {"nullFlavor": "UNC", "extension": student_number})
        self.period(student, node, I.SCHOOL_PERIOD, xsi=False)
        org = self.el(student, "schoolOrganization", {"classCode": "ORG", "determinerCode": "INSTANCE"})
        if not self.ids(org, node, {I.SCHOOL_BRIN: s["brin"]}):
            self.el(org, "id", {"root": I.SCHOOL_BRIN, "nullFlavor": "NI"})
        self.r.coded(org, "code", kind, xsi=None)
        if self.value(node, s["name"]):
            self.el(org, "name", text=self.value(node, s["name"]))
        for contact in self.all(node, "G009"):
            self.contact(org, contact, I.CONTACTS["G009"])
        if self.value(node, s["class_name"]):
            part = self.el(self.el(org, "organizationContains", {"classCode": "PART"}), "partOrganization",
                           {"classCode": "ORG", "determinerCode": "INSTANCE"})
            self.el(part, "id", {"nullFlavor": "NI"})
            if self.value(node, s["class"]):
                self.el(self.el(part, "code", {"nullFlavor": "OTH"}), "originalText", text=self.value(node, s["class"]))
            self.el(part, "name", text=self.value(node, s["class_name"]))

    def household(self, person, node) -> None:
        h = I.HOUSEHOLD
        ident, kind = self.get(node, h["id"]), self.get(node, h["kind"])
        if ident is None or not ident.get("value") or kind is None:  # both required by the template
            self.r.skip(node, self.r.ds.by_code["G077"][0])
            return
        group = self.el(self.el(person, "asMember", {"classCode": "MBR"}), "group",
                        {"classCode": "ORG", "determinerCode": "INSTANCE"})
        self.r.ident(group, "id", ident)
        self.r.coded(group, "code", kind, xsi=None)
        if self.value(node, h["desc"]):
            self.el(group, "desc", text=self.value(node, h["desc"]))

    def relative(self, person, node, spec: I.Relative) -> None:
        rel = self.el(person, "personalRelationship", {"classCode": "PRS"})
        code = self.get(node, spec.relation) if spec.relation is not None else None
        if code is not None:
            self.r.coded(rel, "code", code, xsi=None)
        elif spec.relation is None:
            self.el(rel, "code", {"code": "CHILD", "codeSystem": I.ROLE_CODE, "displayName": "Child"})
        else:
            self.el(rel, "code", {"nullFlavor": "UNK"})
        parent = spec.groep == "G014"
        if parent:
            for addr in self.all(node, "G016"):
                self.r.address(rel, addr, I.ADDRESS["G016"])
            for tel in self.all(node, "G017"):
                number, use = I.PHONE["G017"]
                if self.value(tel, number):
                    use_node = self.get(tel, use)
                    self.el(rel, "telecom", {"use": use_node.get("code") if use_node is not None else None,
                                             "value": "tel:" + self.value(tel, number)})
            if self.value(node, 738):
                self.el(rel, "telecom", {"value": "mailto:" + self.value(node, 738)})
        holder = self.el(rel, "relationshipHolder1", {"classCode": "PSN", "determinerCode": "INSTANCE"})
        bsn = self.get(node, 655) if parent else None
        if bsn is not None and bsn.get("value"):
            self.r.ident(holder, "id", bsn)
        name = self.el(holder, "name", {"use": "OR"})
        for tag, number, qualifier in (("given", spec.given, None), ("prefix", spec.prefix, "VV"), ("family", spec.family, None)):
            if self.value(node, number):
                self.el(name, tag, {"qualifier": qualifier}, self.value(node, number))
        if not len(name):
            self.el(name, "family", {"nullFlavor": "UNK"})
        gender = self.get(node, spec.gender) if spec.gender is not None else None
        if gender is not None:
            self.r.coded(holder, "administrativeGenderCode", gender, xsi=None)
        born = self.r.date(self.get(node, spec.birth))
        self.el(holder, "birthTime", {"value": born} if born else {"nullFlavor": "UNK"})
        if parent:
            self.parent_parts(holder, node)
        for ident in self.all(node, str(spec.household)):
            if ident.get("value"):
                group = self.el(self.el(holder, "asMember", {"classCode": "MBR"}), "group",
                                {"classCode": "ORG", "determinerCode": "INSTANCE"})
                self.r.ident(group, "id", ident)
        country = self.get(node, 71) if parent else None
        if country is not None and country.get("code"):
            self.r.country(self.el(self.el(holder, "birthPlace"), "addr"), country)
        if parent and self.get(node, I.SPOKEN_LANGUAGE) is not None:
            self.r.coded(self.el(holder, "languageCommunication"), "languageCode", self.get(node, I.SPOKEN_LANGUAGE), xsi=None)
        for number in spec.notes:
            found = self.get(node, number)
            if found is None or not found.get("value"):
                continue
            obs = self.el(self.el(rel, "subjectOf", {"typeCode": "SBJ"}), "personalRelationshipObservation",
                          {"classCode": "OBS", "moodCode": "EVN"})
            self.r.bds_code(obs, "code", str(number), ELEMENT_CS)
            date = self.r.date(found) if number in (72, 670) else None
            self.el(obs, "value", {"xsi:type": "TS", "value": date} if date else {"xsi:type": "ST"},
                    None if date else found.get("value"))

    def parent_parts(self, holder, node) -> None:
        """Death, education, belief and work, in the schema's order."""
        died, when = self.get(node, 64), self.r.date(self.get(node, 65))
        if (died is not None and died.get("value")) or when:
            self.el(holder, "deceasedInd", {"value": died.get("value") if died is not None and died.get("value") else "true"})
        if when:
            self.el(holder, "deceasedTime", {"value": when})
        if self.get(node, 66) is not None:
            self.r.coded(holder, "educationLevelCode", self.get(node, 66), xsi=None)
        if self.value(node, 69):
            self.el(self.el(holder, "religiousAffiliationCode", {"nullFlavor": "OTH"}), "originalText", text=self.value(node, 69))
        work, occupation = self.get(node, 67), self.value(node, 68)
        if work is not None or occupation:  # the template requires the text: the occupation, else the code's name
            employee = self.el(holder, "asEmployee", {"classCode": "EMP"})
            coded = self.r.coded(employee, "occupationCode", work, xsi=None) if work is not None else \
                self.el(employee, "occupationCode", {"nullFlavor": "OTH"})
            if not len(coded):
                self.el(coded, "originalText", text=occupation or (work.get("displayName") if work is not None else None))
            self.el(employee, "employerOrganization", {"classCode": "ORG", "determinerCode": "INSTANCE", "nullFlavor": "NI",
                                                       "xsi:nil": "true"})

    def middle(self, person, r003) -> None:
        """asStudent, asMember, contactParty, guardian and personalRelationship, in that order."""
        number = None
        for r008 in self.ada.findall("r008_voor_of_buitenschoolse_voorzieningenschool"):
            number = self.value(r008, I.STUDENT_NUMBER) or number
            for school in self.all(r008, "G008"):
                self.school(person, school, number)
        for r011 in self.ada.findall("r011_gezinssamenstelling"):
            for home in self.all(r011, "G077"):
                self.household(person, home)
        for contact in self.all(r003, "G004") if r003 is not None else ():
            self.contact(person, contact, I.CONTACTS["G004"], xsi_period=False)
        custody = self.get(r003, I.CUSTODY) if r003 is not None else None
        if custody is not None:
            guardian = self.el(person, "guardian", {"classCode": "GUARD"})
            self.r.coded(guardian, "code", custody, xsi=None)
            self.el(guardian, "guardianPerson", {"classCode": "PSN", "determinerCode": "INSTANCE", "nullFlavor": "NI",
                                                 "xsi:nil": "true"})
        for r011 in self.ada.findall("r011_gezinssamenstelling"):
            for groep, spec in I.RELATIVES.items():
                for node in self.all(r011, groep):
                    self.relative(person, node, spec)

    def literacy(self, person, r003) -> None:
        found = self.get(r003, I.LITERACY) if r003 is not None else None
        if found is not None:
            self.r.coded(self.el(person, "languageCommunication"), "proficiencyLevelCode", found, xsi=None)

    def administrative(self, patient) -> None:
        """R008's 714 and 716 and G006's 1417 and 1493: the child's administrative observations."""
        for r008 in self.ada.findall("r008_voor_of_buitenschoolse_voorzieningenschool"):
            sources = [(r008, n) for n in I.VVE_ADMINISTRATIVE if n not in I.VVE_IN_G006]
            vve = self.all(r008, "G006")
            sources += [(vve[0] if vve else None, n) for n in I.VVE_IN_G006]
            for later in vve[1:]:  # the message holds one of each per child
                for number in I.VVE_IN_G006:
                    if self.get(later, number) is not None:
                        self.r.skip(self.get(later, number), self._concept(later).element(number))
            for holder, number in sources:
                concept = self._concept(holder).element(number) if holder is not None else None
                for node in holder.findall(concept.name) if concept is not None else ():
                    wrapper = self.el(patient, "subjectOf1", {"typeCode": "SBJ"})
                    self.r.observation(wrapper, node, concept, tag="administrativeObservation", template=False, negation=False)
