"""The dossier as a FHIR R4 Bundle (plain JSON dicts; :func:`~.validate` checks them).

One resource per thing a FHIR client looks for: the child (nl-core-Patient), parents,
brothers and sisters, the child's own children and its contact person
(nl-core-ContactPerson; the contact person with role class CON), households (Group of the
people living there), organisations (nl-core-HealthcareProvider-Organization), the huisarts,
other care providers and childcare (a PractitionerRole coded as the care provision, at its
Organization; their contact persons PractitionerRoles of a Practitioner), the school
(Organization, the child's Patient.contact with role class STD, the class an Organization
partOf it), an Encounter per activity (type: W0188), growth measurements with their zib
profiles (LOINC, UCUM; BDS mm become cm), an Immunization per vaccination (RIVM vaccine type
plus ATC where mapped; refusals ``not-done``), a Consent per consent or objection (who gave
it as a contained RelatedPerson performer; for the RVP consent the organisation that
recorded it as a contained Organization), the dossier's status as an EpisodeOfCare and each
organisation's period of care as another (managingOrganization), a BDS element about a
parent, a consent or the school that FHIR has no place for (a parent's education, the RVP
consent's recorder, the student number) as an Observation with that ``focus``, and every
other BDS observation as an Observation coded with the BDS element
(urn:oid:2.16.840.1.113883.2.4.4.40.267) in its rubriek (category) and groep (a group
Observation with ``hasMember``). Resource ids derive from the dossier id and the resource's
place, so the same dossier always gives the same Bundle.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from decimal import Decimal

from .. import model as m
from .. import careplans, heelprick, perinatal
from ..catalogue import get_catalogue, normalise_version
from ..involved import (
    CONTACTS,
    CUSTODY,
    HOUSEHOLD,
    JGZ_ORGANISATIONS,
    LITERACY,
    PROVIDERS,
    RELATIVES,
    SPOKEN_LANGUAGE,
)
from . import terms as t

_NS = uuid.UUID("5b3f0d6e-7a4c-4d7e-9a43-2c1f0b9e6d10")  # the gateway's namespace for resource ids


class Coverage:
    """Which BDS elements (and unmodelled message parts) the view carries, and how."""

    def __init__(self) -> None:
        self.present: Counter = Counter()
        self.mapped: dict[str, set[str]] = {}
        self.mapped_count: Counter = Counter()
        self.parts: Counter = Counter()  # unmapped message parts (not BDS-coded)

    def map(self, element: int | str | None, how: str) -> None:
        if element is None:
            return
        key = str(element)
        self.present[key] += 1
        self.mapped_count[key] += 1
        self.mapped.setdefault(key, set()).add(how)

    def seen(self, element: int | str | None, count: int = 1) -> None:
        if element is not None:
            self.present[str(element)] += count

    def part(self, name: str) -> None:
        self.parts[name] += 1

    def report(self, version: str) -> dict:
        cat = get_catalogue(version)
        rows = []
        for key in sorted(self.present, key=lambda k: (not k.isdecimal(), int(k) if k.isdecimal() else 0, k)):
            done, total = self.mapped_count[key], self.present[key]
            rows.append({
                "element": key,
                "name": cat.display_name(key),
                "occurrences": total,
                "mapped": done,
                "status": "mapped" if done == total else ("partly mapped" if done else "unmapped"),
                "fhir": sorted(self.mapped.get(key, ())),
            })
        unmapped = [r["element"] for r in rows if r["status"] != "mapped"]
        return {
            "bds_version": version,
            "elements": rows,
            "unmapped_elements": unmapped,
            "unmapped_parts": [{"part": k, "occurrences": v} for k, v in sorted(self.parts.items())],
            "summary": {"elements": len(rows), "mapped": len(rows) - len(unmapped), "unmapped": len(unmapped)},
        }


class View:
    """Builds the Bundle for one dossier."""

    def __init__(self, dossier: m.Dossier):
        self.d = dossier
        self.cat = get_catalogue(normalise_version(dossier.bds_version))
        ids = dossier.ids[0] if dossier.ids else None
        self.key = f"{ids.root}|{ids.extension}" if ids else (dossier.bsn or "dossier")
        self.entries: list[dict] = []
        self.cov = Coverage()
        self.patient_ref: dict | None = None
        self.homes: dict[tuple, dict] = {}  # household id -> its group node (the child's) and members

    # --- helpers --------------------------------------------------------------------

    def add(self, resource: dict, local: str) -> dict:
        rid = str(uuid.uuid5(_NS, f"{self.key}/{local}"))
        resource = {"resourceType": resource.pop("resourceType"), "id": rid, **resource}
        self.entries.append({"fullUrl": f"urn:uuid:{rid}", "resource": resource})
        return {"reference": f"urn:uuid:{rid}"}

    def element_coding(self, number: int | str) -> dict:
        coding = {"system": t.BDS_ELEMENT, "code": str(number)}
        name = self.cat.display_name(number, m.OID_BDS_ELEMENT)
        return coding | ({"display": name} if name else {})

    def cluster_coding(self, code: str | None, cs: str) -> dict:
        coding = {"system": "urn:oid:" + cs, "code": code}
        name = self.cat.display_name(code, cs) if code else None
        return coding | ({"display": name} if name else {})

    # --- the bundle -----------------------------------------------------------------

    def build(self) -> dict:
        d = self.d
        self.patient()
        self.episode()
        for org in self.organisations():
            self.organisation(org)
        for i, act in enumerate(d.activities):
            self.activity(i, act)
        for i, consent in enumerate(d.consents):
            self.consent(i, consent)
        for i, status in enumerate(d.care_statuses):
            self.care_status(i, status)
        for i, item in enumerate(d.non_bds):
            self.non_bds(f"NonBds/{i}", item, None)
        for i, doc in enumerate(d.attachments):
            self.attachment(i, doc)
        for i, node in enumerate(n for n in d.extra if n.name == "pertinentInformation"):
            obs = node.child("annotationObsEvent")
            if obs is not None:
                self.node_observation(f"Dossier/obs/{i}", obs)
        copies = [n.child("informationControlActEvent") for n in d.extra if n.name == "component6"]
        for i, act in enumerate(a for a in copies if a is not None and a.child("code") is not None
                                and a.child("code").attrs.get("code") == "G088"):
            self.copy_given(i, act)
        for node in (n for n in d.extra if n.name == "summary"):  # 492 Samenvatting 0-4
            obs = node.child("observationEvent")
            if obs is not None:
                self.node_observation("Dossier/summary", obs, "R050")
        for i, node in enumerate(n for n in d.extra if n.name == "responsibleParty" and n.child("assignedEntity") is not None):
            self.responsible(i, node)
        self.perinatal([n for n in d.extra if perinatal.holds(n)])
        for i, node in enumerate(n for n in d.extra if careplans.holds(n)):
            self.care_group(i, node)
        for node in d.extra:
            if (node.name not in ("pertinentInformation", "component6", "summary", "responsibleParty")
                    and not perinatal.holds(node) and not careplans.holds(node)):
                self.cov.part(f"careProvisionEvent/{node.name}")
                self.scan(node)
        bundle = {"resourceType": "Bundle", "meta": {"tag": [{"system": t.DOB_TRANSACTION, "code": d.interaction,
                                                              "display": f"BDS {d.bds_version}"}]}}
        if d.ids:
            bundle["identifier"] = {"system": t.system(d.ids[0].root), "value": d.ids[0].extension}
        bundle |= {"type": "collection", "entry": self.entries}
        return without_empty(bundle)

    def perinatal(self, nodes: list[m.Node]) -> None:
        """R014-R016 (pregnancyCondition, neonateData): an Observation per element, each in its
        rubriek, as :mod:`~jgz_gateway.standards.perinatal` lists them."""
        found, unread = perinatal.items(nodes)
        for i, (number, value) in enumerate(found):
            obs = m.Observation(element=number, value=value_from_node(value))
            rubriek = perinatal.rubriek_of(number)
            self.observation(f"Dossier/{rubriek}/{i}", obs, self.cluster_coding(rubriek, m.OID_BDS_RUBRIEK), None, None)
        for number, count in unread.items():
            self.cov.seen(number, count)

    def care_group(self, i: int, node: m.Node) -> None:
        """G041 (care received) or G081 (care plan): a groep Observation with a member per element,
        as an activity's groepen are."""
        groep, found, unread = careplans.items(node)
        group = m.Group(groep=groep, items=[m.Observation(element=number, value=value_from_node(v)) for number, v in found])
        self.item(f"Dossier/{groep}/{i}", 0, group, self.cluster_coding(careplans.RUBRIEK[groep], m.OID_BDS_RUBRIEK), None, None)
        for number, count in unread.items():
            self.cov.seen(number, count)

    def scan(self, node: m.Node) -> None:
        """BDS-coded content inside a part the view does not map: counted as unmapped."""
        for number, count in bds_codes(node).items():
            self.cov.seen(number, count)

    # --- patient and people -----------------------------------------------------------

    def patient(self) -> None:
        p = self.d.patient
        res: dict = {"resourceType": "Patient", "meta": {"profile": [t.PROFILE + "nl-core-Patient"]}}
        if p is None:
            self.patient_ref = self.add(res, "Patient")
            return
        ids = [identifier(i) for i in p.ids if i.extension]
        if ids:
            res["identifier"] = ids
            self.cov.map(7, "Patient.identifier")
        person = p.person
        if person is not None:
            names = [human_name(n) for n in person.names]
            if any(names):
                res["name"] = [n for n in names if n]
                for node in person.names:
                    for number in name_elements(node):
                        self.cov.map(number, "Patient.name")
            if person.gender is not None:
                code = person.gender.code or person.gender.null_flavor
                if code in t.GENDER:
                    res["gender"] = t.GENDER[code]
                    self.cov.map(19, "Patient.gender")
            if person.birth_time is not None and t.fhir_date(person.birth_time.value):
                res["birthDate"] = t.fhir_date(person.birth_time.value)[:10]
                self.cov.map(20, "Patient.birthDate")
            died = next((n.attrs["value"] for n in person.extra if n.name == "deceasedTime" and n.attrs.get("value")), None)
            for node in person.extra:
                if node.name == "deceasedInd" and node.attrs.get("value") in ("true", "false") and not died:
                    res["deceasedBoolean"] = node.attrs["value"] == "true"
                elif node.name == "deceasedTime" and died and t.fhir_date(died):  # 21 Datum overlijden
                    res["deceasedDateTime"] = t.fhir_date(died)
                    self.cov.map(21, "Patient.deceasedDateTime")
                elif node.name == "asCitizen":
                    code = node.find("politicalNation/code")
                    if code is not None and code.attrs.get("code"):
                        res.setdefault("extension", []).append({"url": t.NATIONALITY, "extension": [
                            {"url": "code", "valueCodeableConcept": {"coding": [coding(code.attrs)]}}]})
                        self.cov.map(24, "Patient.extension:nationality")
                elif node.name == "birthPlace" and node.child("addr") is not None:  # 22 place (county), 23 country
                    addr = node.child("addr")
                    place = address(addr) or {}
                    county = addr.child("county")
                    if county is not None and county.text:
                        place["city"] = county.text
                        self.cov.map(22, "Patient.extension:birthPlace (city)")
                    if addr.child("country") is not None:
                        self.cov.map(23, "Patient.extension:birthPlace (country)")
                    if place:
                        res.setdefault("extension", []).append({"url": t.BIRTH_PLACE, "valueAddress": place})
                elif node.name == "asMember" and node.find("group/id") is not None:  # G077 the household
                    self.member_of(node.child("group"), None)
                elif node.name in ("guardian", "languageCommunication"):  # 631 custody, 707 literacy
                    pass  # as Observations of the child, once the Patient is there
                elif node.name == "asStudent" and node.child("schoolOrganization") is not None:
                    res.setdefault("contact", []).append(self.school(len(res.get("contact", [])), node))
                elif node.name not in ("personalRelationship", "guardian", "contactParty", "deceasedInd", "deceasedTime",
                                       "asPatientOfOtherProvider"):
                    self.cov.part(f"patientPerson/{node.name}")
        addresses = [address(a) for a in p.addresses]
        if any(addresses):
            res["address"] = [a for a in addresses if a]
        telecoms = [telecom(n) for n in p.telecoms]
        if any(telecoms):
            res["telecom"] = [x for x in telecoms if x]
        self.patient_ref = self.add(res, "Patient")
        if person is not None:
            relations = [n for n in person.extra if n.name in ("personalRelationship", "contactParty")]
            for i, rel in enumerate(relations):
                self.related_person(i, rel)
            cares = [c for n in person.extra if n.name == "asPatientOfOtherProvider" for c in n.findall("subjectOf/careProvision")]
            for i, care in enumerate(cares):
                self.provider(i, care)
            for k, (number, coded) in enumerate(((CUSTODY, _find(person.extra, "guardian/code")),
                                                 (LITERACY, _find(person.extra, "languageCommunication/proficiencyLevelCode")))):
                if coded is not None:  # no place on Patient: an Observation of the child (R003), read back to its place
                    value = m.Node(name="value", attrs={**coded.attrs, "xsi:type": "CV"}, children=coded.children)
                    self.node_observation(f"Patient/person/{k}", m.Node(name="observation", children=[
                        m.Node(name="code", attrs={"code": str(number), "codeSystem": m.OID_BDS_ELEMENT}), value]), "R003")
            self.households()
        for i, node in enumerate(n for n in p.extra if n.name == "subjectOf1"):
            obs = node.find("administrativeObservation")
            if obs is not None:
                self.node_observation(f"Patient/obs/{i}", obs, "R003")
        for node in p.extra:
            if node.name != "subjectOf1":
                self.cov.part(f"patient/{node.name}")
                self.scan(node)

    def episode(self) -> None:
        """The dossier itself (careProvisionEvent) as an EpisodeOfCare: its id and status (696)."""
        d = self.d
        status = d.status_code.code if d.status_code is not None else None
        if status not in t.EPISODE_STATUS:
            return
        res: dict = {"resourceType": "EpisodeOfCare", "status": t.EPISODE_STATUS[status], "patient": self.patient_ref}
        if d.ids and d.ids[0].extension:
            res["identifier"] = [identifier(d.ids[0])]
        self.add(res, "EpisodeOfCare/0")
        self.cov.map(696, "EpisodeOfCare.status")

    def about(self, local: str, focus: dict, number: int, rubriek: str, value: dict) -> None:
        """A BDS element about another resource than the child (a parent, a consent) that the
        resource itself has no place for: an Observation of the child with that ``focus``."""
        self.add({"resourceType": "Observation", "status": "final",
                  "category": [{"coding": [self.cluster_coding(rubriek, m.OID_BDS_RUBRIEK)]}],
                  "code": {"coding": [self.element_coding(number)]}, "subject": self.patient_ref,
                  "focus": [focus], **value}, local)
        self.cov.map(number, "Observation (focus)")

    def related_person(self, i: int, rel: m.Node) -> None:
        res: dict = {"resourceType": "RelatedPerson", "meta": {"profile": [t.PROFILE + "nl-core-ContactPerson"]},
                     "patient": self.patient_ref}
        code = rel.child("code")
        if code is not None and (code.attrs.get("code") or code.child("originalText")):
            res["relationship"] = [concept(code)]
            self.cov.map(62, "RelatedPerson.relationship")
        holder = next((c for c in rel.children if c.name in ("relationshipHolder1", "relationshipHolder",
                                                             "guardianPerson", "contactPerson")), None)
        ids = [identifier_node(n) for n in [*rel.children, *(holder.children if holder else [])]
               if n.name == "id" and n.attrs.get("extension")]
        if ids:  # the parent's BSN sits on relationshipHolder1 (R_PatientNL-JGZ)
            res["identifier"] = ids
            self.cov.map(655, "RelatedPerson.identifier")
        if holder is not None:
            names = [human_name(n) for n in holder.children if n.name == "name"]
            if any(names):
                res["name"] = [n for n in names if n]
            gender = holder.child("administrativeGenderCode")
            if gender is not None and gender.attrs.get("code") in t.GENDER:
                res["gender"] = t.GENDER[gender.attrs["code"]]
            birth = holder.child("birthTime")
            if birth is not None and t.fhir_date(birth.attrs.get("value")):
                res["birthDate"] = t.fhir_date(birth.attrs["value"])[:10]
                self.cov.map(63, "RelatedPerson.birthDate")
        addresses = [address(n) for n in rel.children if n.name == "addr"]
        if any(addresses):
            res["address"] = [a for a in addresses if a]
        telecoms = [telecom(n) for n in rel.children if n.name == "telecom"]
        if any(telecoms):
            res["telecom"] = [x for x in telecoms if x]
        language = holder.find("languageCommunication/languageCode") if holder is not None else None
        if language is not None and (language.attrs.get("code") or language.attrs.get("nullFlavor")):
            res["communication"] = [{"language": concept(language)}]  # 1191 spreektaal
            self.cov.map(SPOKEN_LANGUAGE, "RelatedPerson.communication.language")
        if rel.name == "contactParty":  # the child's contact person (G004), told apart by its role class
            res["relationship"] = [*res.get("relationship", []), {"coding": [t.CONTACT_ROLE]}]
            self.contact_coverage(rel, CONTACTS["G004"].elements())
            if fhir_period(rel.child("effectiveTime")):
                res["period"] = fhir_period(rel.child("effectiveTime"))
        ref = self.add(res, f"RelatedPerson/{i}")
        for k, obs in enumerate(rel.findall("subjectOf/personalRelationshipObservation")):  # remarks and dates
            code, value = obs.child("code"), obs.child("value")
            number = code.attrs.get("code", "") if code is not None else ""
            if number.isdecimal() and value is not None and (value.attrs.get("value") or value.text):
                when = t.fhir_date(value.attrs.get("value")) if value.type == "TS" else None
                self.about(f"RelatedPerson/{i}/note/{k}", ref, int(number), "R011",
                           {"valueDateTime": when} if when else {"valueString": value.text or value.attrs.get("value")})
        for group in (holder.findall("asMember/group") if holder is not None else []):
            self.member_of(group, ref)
        if holder is not None:  # the parent's education (66), work (67) and birth country (71)
            country = holder.find("birthPlace/addr/country")
            for k, (number, code) in enumerate(((66, holder.child("educationLevelCode")),
                                                (67, holder.find("asEmployee/occupationCode")),
                                                (71, country if country is not None and country.attrs.get("code") else None))):
                if code is not None and (code.attrs.get("code") or code.attrs.get("nullFlavor")):
                    self.about(f"RelatedPerson/{i}/{k}", ref, number, "R011", {"valueCodeableConcept": concept(code)})
            died, when = holder.child("deceasedInd"), holder.child("deceasedTime")  # 64, 65: RelatedPerson has no deceased[x]
            if died is not None and died.attrs.get("value") in ("true", "false"):
                self.about(f"RelatedPerson/{i}/died", ref, 64, "R011", {"valueBoolean": died.attrs["value"] == "true"})
            if when is not None and t.fhir_date(when.attrs.get("value")):
                self.about(f"RelatedPerson/{i}/died-on", ref, 65, "R011", {"valueDateTime": t.fhir_date(when.attrs["value"])})

    # --- households (R011 G077, Woonverband) ------------------------------------------------

    def member_of(self, group: m.Node, member: dict | None) -> None:
        """Note that ``member`` (a RelatedPerson; None: the child, whose household G077 this is)
        lives in the household ``group`` (its id: the Woonverband ID)."""
        gid = group.child("id")
        if gid is None or not gid.attrs.get("extension"):
            return
        key = (gid.attrs.get("root"), gid.attrs["extension"])
        entry = self.homes.setdefault(key, {"id": gid, "members": [], "group": None})
        if member is None:
            entry["group"] = group
        else:
            entry["members"].append(member)

    def households(self) -> None:
        """Each household as a FHIR Group of the people who live in it: its id (Woonverband ID),
        and for the child's own (G077) the kind (607) as its code and the remarks (1190) as its
        name, with the child among the members."""
        for n, entry in enumerate(self.homes.values()):
            res: dict = {"resourceType": "Group", "identifier": [identifier_node(entry["id"])], "type": "person",
                         "actual": True}
            members = list(entry["members"])
            group = entry["group"]
            if group is not None:
                members.insert(0, self.patient_ref)
                self.cov.map(HOUSEHOLD["id"], "Group.identifier")
                code, desc = group.child("code"), group.child("desc")
                if code is not None and (code.attrs.get("code") or code.attrs.get("nullFlavor")):
                    res["code"] = concept(code)
                    self.cov.map(HOUSEHOLD["kind"], "Group.code")
                if desc is not None and desc.text:
                    res["name"] = desc.text
                    self.cov.map(HOUSEHOLD["desc"], "Group.name")
            for _ in entry["members"]:
                self.cov.map(RELATIVES["G014"].household, "Group.member (Woonverband ID)")
            res["member"] = [{"entity": ref} for ref in members]
            self.add(res, f"Household/{n}")

    # --- care providers, childcare and school around the child (R006-R008) ----------------

    def contact_coverage(self, party: m.Node, numbers: tuple[int, ...]) -> None:
        """Count a contactParty's BDS elements (name, role, phone, e-mail, period) as mapped."""
        name, role, phone, email, start, end = numbers
        filled = {name: party.find("contactPerson/name") is not None, role: party.find("code/originalText") is not None,
                  phone: any(x.attrs.get("value", "").startswith("tel:") for x in party.children if x.name == "telecom"),
                  email: any(x.attrs.get("value", "").startswith("mailto:") for x in party.children if x.name == "telecom"),
                  start: party.find("effectiveTime/low") is not None, end: party.find("effectiveTime/high") is not None}
        for number, present in filled.items():
            if present:
                self.cov.map(number, "PractitionerRole / RelatedPerson (contact person)")

    def contacts(self, local: str, org: m.Node, org_ref: dict, groep: str) -> None:
        """An organisation's contact persons: each a Practitioner in a PractitionerRole there
        (function as the role's text, telephone and e-mail, validity period)."""
        for k, party in enumerate(n for n in org.children if n.name == "contactParty"):
            names = [human_name(n) for n in party.findall("contactPerson/name")]
            who = self.add({"resourceType": "Practitioner", "meta": {"profile": [t.PROFILE + "nl-core-HealthProfessional-Practitioner"]},
                            **({"name": [n for n in names if n]} if any(names) else {})}, f"{local}/contact/{k}")
            role: dict = {"resourceType": "PractitionerRole",
                          "meta": {"profile": [t.PROFILE + "nl-core-HealthProfessional-PractitionerRole"]},
                          "practitioner": who, "organization": org_ref}
            function = party.find("code/originalText")
            if function is not None and function.text:
                role["code"] = [{"text": function.text}]
            period = fhir_period(party.child("effectiveTime"))
            if period:
                role["period"] = period
            telecoms = [telecom(n) for n in party.children if n.name == "telecom"]
            if any(telecoms):
                role["telecom"] = [x for x in telecoms if x]
            self.add(role, f"{local}/contact/{k}/role")
            self.contact_coverage(party, CONTACTS[groep].elements())

    def provider(self, i: int, care: m.Node) -> None:
        """A care provision of another provider (huisarts, other care provider, childcare): the
        organisation, and a PractitionerRole there coded as the care provision (GENRL, G082 or
        the kind of childcare), with the provider's ids and the period."""
        code = care.child("code")
        spec = next((p for p in PROVIDERS.values() if not isinstance(p.code, int) and code is not None
                     and p.code == (code.attrs.get("code"), code.attrs.get("codeSystem"))), PROVIDERS["G006"])
        performer = care.find("performer/assignedProvider")
        org_node = performer.child("representedOrganization") if performer is not None else None
        org: dict = healthcare_organisation()
        if org_node is not None:
            ids = identifiers(org_node)
            if ids:
                org["identifier"] = ids
            name = org_node.child("name")
            if name is not None and name.text:
                org["name"] = name.text
        org_ref = self.add(org, f"Provider/{i}/Organization")
        role: dict = {"resourceType": "PractitionerRole",
                      "meta": {"profile": [t.PROFILE + "nl-core-HealthProfessional-PractitionerRole"]},
                      "organization": org_ref}
        ids = identifiers(performer)
        if ids:
            role["identifier"] = ids
        if code is not None:
            role["code"] = [concept(code)]
        time = care.child("effectiveTime")
        if time is not None and time.child("comp") is not None:  # SXPR_TS: the period is its IVL_TS part
            time = next((c for c in time.children if c.name == "comp" and c.type == "IVL_TS"), None)
        period = fhir_period(time)
        if period:
            role["period"] = period
        self.add(role, f"Provider/{i}")
        roots = {t.oid(x.get("system")) for x in [*org.get("identifier", []), *ids]}
        present = {n for root, n in (*spec.person.items(), *spec.organisation.items()) if root in roots}
        present |= {spec.name} if "name" in org else set()
        present |= {n for n, side in ((spec.period.start, "start"), (spec.period.end, "end")) if side in period}
        present |= {spec.code} if isinstance(spec.code, int) and code is not None else set()
        for number in present:
            self.cov.map(number, "PractitionerRole / Organization (care provider)")
        if org_node is not None and spec.contact is not None:
            self.contacts(f"Provider/{i}", org_node, org_ref, spec.contact.groep)

    def school(self, i: int, student: m.Node) -> dict:
        """The school (asStudent) as an Organization with the kind of education as its type, the
        class as an Organization part of it (number as alias, name), and the child's contact
        with it (Patient.contact: the school, the period); the student number (606), which a
        contact has no place for, as an Observation with the school as its focus."""
        org_node = student.child("schoolOrganization")
        org: dict = healthcare_organisation()
        ids = identifiers(org_node)
        if ids:
            org["identifier"] = ids
            self.cov.map(605, "Organization.identifier (school)")
        code = org_node.child("code")
        if code is not None:
            org["type"] = [concept(code)]
            self.cov.map(58, "Organization.type (school)")
        name = org_node.child("name")
        if name is not None and name.text:
            org["name"] = name.text
            self.cov.map(1532, "Organization.name (school)")
        ref = self.add(org, f"School/{i}")
        part = org_node.find("organizationContains/partOrganization")
        if part is not None:
            cls: dict = {"resourceType": "Organization", "partOf": ref}
            number, label = part.find("code/originalText"), part.child("name")
            if number is not None and number.text:
                cls["alias"] = [number.text]
                self.cov.map(717, "Organization.alias (class)")
            if label is not None and label.text:
                cls["name"] = label.text
                self.cov.map(1183, "Organization.name (class)")
            self.add(cls, f"School/{i}/class")
        self.contacts(f"School/{i}", org_node, ref, "G009")
        number = student.child("id")
        if number is not None and number.attrs.get("extension"):  # 606: the child's number at this school
            self.about(f"School/{i}/student", ref, 606, "R008", {"valueString": number.attrs["extension"]})
        contact: dict = {"relationship": [{"coding": [t.STUDENT_ROLE]}], "organization": ref}
        period = fhir_period(student.child("effectiveTime"))
        if period:
            contact["period"] = period
            for side, number in (("start", 1473), ("end", 1474)):
                if side in period:
                    self.cov.map(number, "Patient.contact.period (school)")
        return contact

    # --- organisations --------------------------------------------------------------

    def organisations(self) -> list[m.Organization]:
        """The dossier's organisations, then the message's authors not among them (by any id)."""
        seen, out = set(), []
        for org in [*self.d.organisations, *self.d.request.authors]:
            keys = {(i.root, i.extension) for i in org.ids if i.extension}
            if keys and not keys & seen:
                seen |= keys
                out.append(org)
        return out

    def organisation(self, org: m.Organization) -> None:
        res: dict = healthcare_organisation() | {"identifier": [identifier(i) for i in org.ids if i.extension]}
        if org.name:
            res["name"] = org.name
        key = "|".join(f"{i.root}:{i.extension}" for i in org.ids if i.extension)
        ref = self.add(res, f"Organization/{key}")
        period = fhir_period(next((n for n in org.link_extra if n.name == "time"), None))
        if period:  # G098: when this organisation cared for the child (1457, 1458)
            self.add({"resourceType": "EpisodeOfCare", "status": "finished" if "end" in period else "active",
                      "patient": self.patient_ref, "managingOrganization": ref, "period": period},
                     f"EpisodeOfCare/{key}")
            for side, number in (("start", 1457), ("end", 1458)):
                if side in period:
                    self.cov.map(number, "EpisodeOfCare.period (managingOrganization)")

    def responsible(self, i: int, link: m.Node) -> None:
        """G091, the JGZ organisation responsible by the BRP: its Organization, and an EpisodeOfCare
        typed G091 with the period (an executing organisation's has no type)."""
        spec = JGZ_ORGANISATIONS["G091"]
        entity = link.child("assignedEntity")
        ids = identifiers(entity)
        res: dict = healthcare_organisation() | {"identifier": ids}
        name = entity.find("assignedOrganization/name")
        if name is not None and name.text:
            res["name"] = name.text
            self.cov.map(spec.name, "Organization.name (responsible)")
        for n in entity.children:
            if n.name == "id" and n.attrs.get("root") in spec.ids and n.attrs.get("extension"):
                self.cov.map(spec.ids[n.attrs["root"]], "Organization.identifier (responsible)")
        ref = self.add(res, f"Responsible/{i}")
        episode: dict = {"resourceType": "EpisodeOfCare", "status": "active", "type": [
            {"coding": [self.cluster_coding(spec.groep, m.OID_BDS_GROEP)]}], "patient": self.patient_ref,
            "managingOrganization": ref}
        period = fhir_period(link.child("time"))
        if period:
            episode["period"] = period
            for side, number in (("start", spec.period.start), ("end", spec.period.end)):
                if side in period:
                    self.cov.map(number, "EpisodeOfCare.period (responsible)")
        self.add(episode, f"Responsible/{i}/episode")

    # --- activities -----------------------------------------------------------------------

    def activity(self, i: int, act: m.Activity) -> None:
        date = t.fhir_date(act.effective_time.value) if act.effective_time else None
        res: dict = {"resourceType": "Encounter"}
        ids = [identifier(x) for x in act.ids if x.extension]
        if ids:
            res["identifier"] = ids
            self.cov.map(1377, "Encounter.identifier")
        res["status"] = encounter_status(act)
        form = next((o for o in act.observations() if o.element == 1577 and o.value is not None), None)
        cls = t.ENCOUNTER_CLASS.get(form.value.code, t.AMBULATORY) if form else t.AMBULATORY
        res["class"] = {"system": t.ACT_CODE, "code": cls[0], "display": cls[1]}
        if act.code is not None:
            res["type"] = [coded(act.code)]
            self.cov.map(494, "Encounter.type")
        res["subject"] = self.patient_ref
        if date:
            res["period"] = {"start": date}
            self.cov.map(724, "Encounter.period.start")
        if act.reason_codes:
            res["reasonCode"] = [coded(r) for r in act.reason_codes]
            self.cov.map(1424, "Encounter.reasonCode")
        performer = _find(act.extra, "performer/assignedEntity")
        if performer is not None:  # the professional's discipline (1599) and name (1501)
            participant: dict = {}
            code, name = performer.child("code"), performer.find("assignedPerson/name")
            if code is not None and code.attrs.get("code"):
                participant["type"] = [concept(code)]
                self.cov.map(1599, "Encounter.participant.type")
            if name is not None and name.text:
                participant["individual"] = {"type": "Practitioner", "display": name.text}
                self.cov.map(1501, "Encounter.participant.individual")
            if participant:
                res["participant"] = [participant]
        res.setdefault("participant", []).extend(self.requester_and_escorts(act))
        if not res["participant"]:
            del res["participant"]
        ref = self.add(res, f"Encounter/{i}")
        seq = 0
        for rubriek in act.rubrieken:
            category = self.cluster_coding(rubriek.rubriek, m.OID_BDS_RUBRIEK)
            for item in rubriek.items:
                seq = self.item(f"Encounter/{i}", seq, item, category, ref, date)
        shown = [(n, conclusion_items(n)) for n in act.extra]  # the R047 parts of each encounter part
        conclusion = [x for _, items in shown for x in items]
        if conclusion:  # R047 as Observations like any rubriek: 482, its note 493, G058 groups
            category = self.cluster_coding("R047", m.OID_BDS_RUBRIEK)
            for item in conclusion:
                seq = self.item(f"Encounter/{i}", seq, item, category, ref, date)
        for prick in (n for n in act.extra if heelprick.holds(n)):  # R037: an Observation per element
            found, unread = heelprick.items(prick)
            category = self.cluster_coding("R037", m.OID_BDS_RUBRIEK)
            for number, value in found:
                seq = self.item(f"Encounter/{i}", seq, m.Observation(element=number, value=value_from_node(value)),
                                category, ref, date)
            for number, count in unread.items():
                self.cov.seen(number, count)
        for k, item in enumerate(act.non_bds):
            self.non_bds(f"Encounter/{i}/nonbds/{k}", item, ref)
        for k, vac in enumerate(act.vaccinations):
            self.vaccination(f"Encounter/{i}/vaccination/{k}", vac, ref)
        for node, items in shown:
            if items:  # BDS-coded parts of the conclusion it could not show (a note without value)
                rendered = Counter(str(x.element) for i in items for x in (i.items if isinstance(i, m.Group) else [i]))
                for number, count in (bds_codes(node) - rendered).items():
                    self.cov.seen(number, count)
            elif node.name not in ("performer", "author", "escort", "inFulfillmentOf", "consultant") and not heelprick.holds(node):
                self.cov.part(f"activity/{node.name}")
                self.scan(node)

    def requester_and_escorts(self, act: m.Activity) -> list[dict]:
        """1423 (who asked for the activity: the author of the planned encounter it fulfils, or of
        an activity not held) as a referrer, and 731 (escorts) as escorts, each with its code;
        escorts first, whatever the message's order (it differs between held and not held)."""
        out, escorts = [], []
        for n in act.extra:
            author = n.find("encounter/author") if n.name == "inFulfillmentOf" else n if n.name == "author" else None
            if author is not None:
                if author.child("patient") is not None:
                    out.append({"type": [{"coding": [t.REFERRER]}], "individual": self.patient_ref})
                else:
                    code = author.find("personalRelationship/code")
                    code = code if code is not None else author.find("assignedEntity1/code")
                    if code is not None:
                        out.append({"type": [{"coding": [t.REFERRER]}, concept(code)]})
                self.cov.map(1423, "Encounter.participant (referrer)")
            elif n.name == "escort" and n.find("responsibleParty/code") is not None:
                escorts.append({"type": [{"coding": [t.ESCORT]}, concept(n.find("responsibleParty/code"))]})
                self.cov.map(731, "Encounter.participant (escort)")
            elif n.name == "consultant" and n.child("assignedEntity") is not None:
                # R013: who was consulted about the reporting code (Meldcode): function 1600, name 1606
                entity, consulted = n.child("assignedEntity"), {"type": [{"coding": [t.CONSULTANT]}]}
                if entity.child("code") is not None:
                    consulted["type"].append(concept(entity.child("code")))
                    self.cov.map(1600, "Encounter.participant (consultant) type")
                name = entity.find("assignedPerson/name")
                if name is not None and name.text:
                    consulted["individual"] = {"type": "Practitioner", "display": name.text}
                    self.cov.map(1606, "Encounter.participant (consultant) individual")
                escorts.append(consulted)
        return escorts + out

    def item(self, base: str, seq: int, item, category: dict, encounter: dict, date: str | None) -> int:
        if isinstance(item, m.Observation):
            self.observation(f"{base}/{seq}", item, category, encounter, date)
            return seq + 1
        members = []
        group_key = f"{base}/{seq}"
        seq += 1
        # the group resource is added first so members follow it in the Bundle
        group: dict = {"resourceType": "Observation", "status": "final",
                       "category": [{"coding": [category]}],
                       "code": {"coding": [self.cluster_coding(item.groep, m.OID_BDS_GROEP)]},
                       "subject": self.patient_ref, "encounter": encounter}
        if date:
            group["effectiveDateTime"] = date
        group_ref = self.add(group, group_key)
        entry = self.entries[-1]["resource"]
        for member in item.items:
            start = len(self.entries)
            seq = self.item(base, seq, member, category, encounter, date)
            if start < len(self.entries):
                members.append({"reference": self.entries[start]["fullUrl"]})
        if members:
            entry["hasMember"] = members
        del group_ref
        return seq

    def observation(self, local: str, obs: m.Observation, category: dict, encounter: dict | None, date: str | None) -> None:
        res: dict = {"resourceType": "Observation"}
        growth = t.GROWTH.get(obs.element) if obs.value is not None and obs.value.type == "PQ" else None
        if growth:
            res["meta"] = {"profile": [t.PROFILE + growth[0]]}
        res["status"] = "final"
        categories = [{"coding": [category]}]
        if growth:
            categories.insert(0, {"coding": [{"system": t.OBSERVATION_CATEGORY, "code": "vital-signs",
                                              "display": "Vital Signs"}]})
        res["category"] = categories
        if obs.element is not None:
            res["code"] = {"coding": [self.element_coding(obs.element)]}
            if growth:
                res["code"]["coding"].insert(0, {"system": t.LOINC, "code": growth[1], "display": growth[2]})
        else:  # an observation coded outside the BDS (e.g. SNOMED blood pressure in R039)
            res["code"] = coded(obs.code) if obs.code is not None else {"text": "onbekend"}
        res["subject"] = self.patient_ref
        if encounter is not None:
            res["encounter"] = encounter
        own = t.fhir_date(obs.effective_time.value) if obs.effective_time is not None else None
        if own or date:
            res["effectiveDateTime"] = own or date
        self.value(res, obs.value, growth)
        if obs.method is not None:
            res["method"] = coded(obs.method)
        if obs.target_site is not None:
            res["bodySite"] = coded(obs.target_site)
        for node in obs.extra:
            # the relative an observation is about, and who filled in a screening and where (R054:
            # performer/assignedEntity/code, location/serviceDeliveryLocation/code): components
            role = {"subject": ("personalRelationship/code", t.RELATIVE), "performer": ("assignedEntity/code", t.PERFORMER),
                    "location": ("serviceDeliveryLocation/code", t.LOCATION)}.get(node.name)
            shown = concept(code) if role and (code := node.find(role[0])) is not None else None
            if shown:
                res.setdefault("component", []).append({"code": {"coding": [dict(role[1])]},
                                                        "valueCodeableConcept": shown})
            else:
                self.cov.part(f"observation/{node.name}")
        self.add(res, local)
        self.cov.map(obs.element, f"Observation ({growth[0]})" if growth else "Observation")

    def value(self, res: dict, value: m.Value | None, growth=None) -> None:
        if value is None:
            return
        if value.null_flavor and not value.original_text and not value.code:
            res["dataAbsentReason"] = absent(value.null_flavor)
            return
        kind = value.type
        if kind == "PQ" and _REAL.fullmatch(value.value or ""):
            number = Decimal(value.value) * (growth[4] if growth else 1)
            unit = growth[3] if growth else (value.unit or "1")
            res["valueQuantity"] = {"value": tidy(number), "unit": unit, "system": t.UCUM, "code": unit}
        elif kind == "BL" and value.value in ("true", "false"):
            res["valueBoolean"] = value.value == "true"
        elif kind == "INT" and _INT.fullmatch(value.value or ""):
            res["valueInteger"] = int(value.value)
        elif kind in ("TS",) and t.fhir_date(value.value):
            res["valueDateTime"] = t.fhir_date(value.value)
        elif value.code is not None or value.original_text is not None or kind in ("CV", "CE", "CD", "CO", "CS"):
            res["valueCodeableConcept"] = coded(value)  # empty when it holds nothing: see without_empty
        elif value.text is not None:
            res["valueString"] = value.text
        elif value.value is not None:
            res["valueString"] = value.value
        elif value.null_flavor:
            res["dataAbsentReason"] = absent(value.null_flavor)

    def node_observation(self, local: str, node: m.Node, rubriek: str | None = None) -> None:
        """An observation kept verbatim (code .267 + value) outside the activities: the child's
        administrative data (R003) and the dossier's own (R009, R010: annotationObsEvent)."""
        code = node.child("code")
        number = code.attrs.get("code") if code is not None else None
        if not number or not number.isdecimal() or code.attrs.get("codeSystem") != m.OID_BDS_ELEMENT:
            self.cov.part(node.name)
            self.scan(node)
            return
        element = self.cat.element(number)
        rubriek = rubriek or (element.rubriek if element is not None else None) or "R010"
        value = node.child("value")
        obs = m.Observation(element=int(number), value=value_from_node(value) if value is not None else None)
        self.observation(local, obs, self.cluster_coding(rubriek, m.OID_BDS_RUBRIEK), None, None)

    # --- vaccinations ------------------------------------------------------------------------

    def vaccination(self, local: str, vac: m.Vaccination, encounter: dict) -> None:
        res: dict = {"resourceType": "Immunization", "meta": {"profile": [t.PROFILE + "nl-core-Vaccination-event"]}}
        refused = vac.negation_ind == "true"
        res["status"] = "not-done" if refused else "completed"
        # a refusal carries the objection as a negated consent to the immunization, with its
        # reason (683 Bezwaar) as the consent's reasonOf observation
        consent = _find(vac.extra, "authorization/consentEvent")
        objection = consent is not None and consent.attrs.get("negationInd") == "true"
        if refused and objection:
            reason = consent.find("reasonOf/observationEvent/value")
            status_reason = {"coding": [dict(t.PATIENT_OBJECTION)]}
            if reason is not None:
                detail = concept(reason)
                status_reason["coding"] += detail.get("coding", [])
                if "text" in detail:
                    status_reason["text"] = detail["text"]
                self.cov.map(683, "Immunization.statusReason")
            res["statusReason"] = status_reason
        elif consent is not None:
            self.cov.part("vaccination/authorization")
            self.scan(consent)
        vaccine = vac.vaccine
        res["vaccineCode"] = vaccine_code(vaccine)
        if vaccine is not None:
            self.cov.map(461, "Immunization.vaccineCode")
        res["patient"] = self.patient_ref
        res["encounter"] = encounter
        date = t.fhir_date(vac.effective_time.value) if vac.effective_time else None
        if date:
            res["occurrenceDateTime"] = date
            self.cov.map(1409, "Immunization.occurrenceDateTime")
        else:
            res["occurrenceString"] = "onbekend"
        if vac.lot_number:
            res["lotNumber"] = vac.lot_number
            self.cov.map(472, "Immunization.lotNumber")
        performer = _find(vac.extra, "performer/assignedEntity")
        if performer is not None:  # who vaccinated (1410) and for which organisation (1336), by name
            for path, kind, number in (("assignedPerson/name", "Practitioner", 1410),
                                       ("representedOrganization/name", "Organization", 1336)):
                name = performer.find(path)
                if name is not None and name.text:
                    res.setdefault("performer", []).append({"actor": {"type": kind, "display": name.text}})
                    self.cov.map(number, "Immunization.performer")
            place = performer.find("representedOrganization/organizationContains/partOrganization/name")
            if place is not None and place.text:  # 1452: the organisation's location where it was given
                res["location"] = {"display": place.text}
                self.cov.map(1452, "Immunization.location")
        reason = _find(vac.extra, "reason/vaccinationReason/value")
        if reason is not None:
            res["reasonCode"] = [concept(reason)]
            self.cov.map(686, "Immunization.reasonCode")
        ref = self.add(res, local)
        entry = self.entries[-1]["resource"]
        for k, node in enumerate(n for n in vac.extra if n.name == "component"):
            obs = node.child("vaccinationObservation")
            if obs is not None:
                self.part_of(f"{local}/obs/{k}", obs, ref, encounter)
        for k, node in enumerate(n for n in vac.extra if n.name == "causeOf2"):
            reaction = node.child("adverseReaction")
            if reaction is None:
                continue
            rref = self.part_of(f"{local}/reaction/{k}", reaction, ref, encounter)
            observed = self.entries[-1]["resource"] if rref is not None else None  # the reaction just added
            if rref is not None:
                item = {"detail": rref}
                period = fhir_period(reaction.child("effectiveTime"))
                if "start" in period:
                    item["date"] = period["start"]
                if period:  # G111: when the reaction began (1483) and ended (1484)
                    observed["effectivePeriod"] = period
                    for side, number in (("start", 1483), ("end", 1484)):
                        if side in period:
                            self.cov.map(number, "Observation.effectivePeriod (reaction)")
                entry.setdefault("reaction", []).append(item)
            for event in (n.child("informationControlActEvent") for n in reaction.children if n.name == "subjectOf"):
                code = event.child("code") if event is not None else None
                when = event.child("effectiveTime") if event is not None else None
                if code is None:
                    continue
                if observed is not None and when is not None and t.fhir_date(when.attrs.get("value")):
                    # 875: the day the reaction was reported to the authority, a component of the reaction
                    observed.setdefault("component", []).append({
                        "code": {"coding": [self.element_coding(code.attrs.get("code"))]},
                        "valueDateTime": t.fhir_date(when.attrs["value"])})
                    self.cov.map(code.attrs.get("code"), "Observation.component (reaction reported)")
                else:
                    self.cov.seen(code.attrs.get("code"))
        for node in vac.extra:
            if node.name not in ("consumable", "performer", "reason", "component", "causeOf2", "reasonOf", "authorization"):
                self.cov.part(f"vaccination/{node.name}")
                self.scan(node)

    def part_of(self, local: str, node: m.Node, immunization: dict, encounter: dict) -> dict | None:
        code = node.child("code")
        if code is None or code.attrs.get("codeSystem") != m.OID_BDS_ELEMENT:
            return None
        value = node.child("value")
        number = code.attrs.get("code")
        res: dict = {"resourceType": "Observation", "status": "final",
                     "category": [{"coding": [self.cluster_coding("R041", m.OID_BDS_RUBRIEK)]}],
                     "code": {"coding": [self.element_coding(number)]}, "subject": self.patient_ref,
                     "encounter": encounter, "partOf": [immunization]}
        self.value(res, value_from_node(value) if value is not None else None)
        self.cov.map(number, "Observation (partOf Immunization)")
        return self.add(res, local)

    # --- consents, care, free data, documents ------------------------------------------------

    def consent(self, i: int, consent: m.Consent) -> None:
        number = consent.element
        # the consentEvent is the permission; an objection that holds negates it
        # (negationInd="true"), as Nictiz's ADA conversion writes G010/G089: deny
        permit = consent.permits
        res: dict = {"resourceType": "Consent", "status": "active",
                     "scope": {"coding": [{"system": t.CONSENT_SCOPE, "code": "patient-privacy", "display": "Privacy Consent"}]},
                     "category": [{"coding": [self.element_coding(number)]} if number else
                                  {"coding": [coding(consent.code.model_dump(by_alias=False))]} if consent.code else
                                  {"text": "toestemming of bezwaar zonder code"}],  # a consentEvent without its code
                     "patient": self.patient_ref}
        when = _find(consent.extra, "author/time")
        stamp = when.attrs.get("value") if when is not None else None
        if stamp is None and when is not None:
            low = when.child("low")
            stamp = low.attrs.get("value") if low is not None else None
        if t.fhir_date(stamp):
            res["dateTime"] = t.fhir_date(stamp)
        provision: dict = {"type": "permit" if permit else "deny"}
        high = consent.effective_time.high.value if consent.effective_time and consent.effective_time.high else None
        if t.fhir_date(high):
            provision["period"] = {"end": t.fhir_date(high)}
        res["provision"] = provision
        source = _find(consent.extra, "author/responsibleParty")
        if source is not None:
            res.setdefault("contained", []).append(consent_source(source, self.patient_ref))
            res["performer"] = [{"reference": "#source"}]
        recorder = _find(consent.extra, "consultant/assignedEntity1/representedOrganization")
        if recorder is not None:  # the organisation that recorded the RVP consent (1538-1540)
            org: dict = {"resourceType": "Organization", "id": "recorder",
                         "identifier": identifiers(recorder)}
            name = recorder.child("name")
            if name is not None and name.text:
                org["name"] = name.text
            res.setdefault("contained", []).append(org)
            res["organization"] = [{"reference": "#recorder"}]
        ref = self.add(res, f"Consent/{i}")
        self.cov.map(number, "Consent")
        employee = _find(consent.extra, "consultant/assignedEntity1/assignedPerson/name")
        if employee is not None and employee.text:  # who recorded the RVP consent (1537)
            self.about(f"Consent/{i}/employee", ref, 1537, "R010", {"valueString": employee.text})
        for k, node in enumerate(consent.extra):
            annotation = node.child("annotation") if node.name == "subjectOf" else None
            code = annotation.child("code") if annotation is not None else None
            value = annotation.child("value") if annotation is not None else None
            if (code is not None and code.attrs.get("codeSystem") == m.OID_BDS_ELEMENT and value is not None
                    and code.attrs.get("code", "").isdecimal()):
                # the consent's own notes: the G012 note (1407), how the RVP consent was given (1541)
                shown: dict = {}
                self.value(shown, value_from_node(value))
                self.about(f"Consent/{i}/note/{k}", ref, int(code.attrs["code"]), "R010", shown)
            elif node.name not in ("author", "consultant"):
                self.cov.part(f"consentEvent/{node.name}")
                self.scan(node)

    def copy_given(self, i: int, act: m.Node) -> None:
        """G088, a copy of the dossier given, as a Communication: when it was sent (1402), its note
        (1403) and to whom (1401: the child, or a contained RelatedPerson with that relationship)."""
        res: dict = {"resourceType": "Communication", "status": "completed",
                     "category": [{"coding": [self.cluster_coding("G088", m.OID_BDS_GROEP)]}], "subject": self.patient_ref}
        when, text, recipient = act.child("effectiveTime"), act.child("text"), act.child("informationRecipient")
        if when is not None and t.fhir_date(when.attrs.get("value")):
            res["sent"] = t.fhir_date(when.attrs["value"])
            self.cov.map(1402, "Communication.sent")
        if text is not None and text.text:
            res["payload"] = [{"contentString": text.text}]
            self.cov.map(1403, "Communication.payload")
        code = recipient.find("personalRelationship/code") if recipient is not None else None
        if recipient is not None and recipient.child("patient") is not None:
            res["recipient"] = [self.patient_ref]
            self.cov.map(1401, "Communication.recipient")
        elif code is not None:
            res["contained"] = [{"resourceType": "RelatedPerson", "id": "recipient", "patient": self.patient_ref,
                                 "relationship": [concept(code)]}]
            res["recipient"] = [{"reference": "#recipient"}]
            self.cov.map(1401, "Communication.recipient")
        self.add(res, f"CopyGiven/{i}")

    def care_status(self, i: int, status: m.CareStatus) -> None:
        res: dict = {"resourceType": "Observation", "status": "final",
                     "category": [{"coding": [self.cluster_coding("R050", m.OID_BDS_RUBRIEK)]}],
                     "code": {"coding": [self.element_coding(status.element)]} if status.element else {"text": "careStatus"},
                     "subject": self.patient_ref}
        date = t.fhir_date(status.effective_time.value) if status.effective_time else None
        if date:
            res["effectiveDateTime"] = date
        if status.reason_code is not None:
            res["valueCodeableConcept"] = coded(status.reason_code)
        self.add(res, f"CareStatus/{i}")
        self.cov.map(status.element, "Observation (care status)")
        for node in status.extra:
            self.cov.part(f"careStatus/{node.name}")

    def non_bds(self, local: str, item: m.NonBdsItem, encounter: dict | None) -> None:
        categories = [{"coding": [self.cluster_coding("R051", m.OID_BDS_RUBRIEK)]}]
        if item.rubriek:
            categories.append({"coding": [self.cluster_coding(item.rubriek, m.OID_BDS_RUBRIEK)]})
        code = item.code
        concept_ = coded(code) if code is not None else {"text": "?"}
        res: dict = {"resourceType": "Observation", "status": "final", "category": categories, "code": concept_,
                     "subject": self.patient_ref}
        if encounter is not None:
            res["encounter"] = encounter
        if item.text is not None:
            res["valueString"] = item.text
        else:
            self.value(res, item.value)
        self.add(res, local)
        self.cov.map("R051", "Observation (non-BDS data)")
        if code is not None and code.code_system == m.OID_BDS_ELEMENT:  # e.g. an element a conversion retired
            self.cov.map(code.code, "Observation (non-BDS data)")

    def attachment(self, i: int, doc: m.Attachment) -> None:
        content: dict = {}
        if doc.media_type:
            content["contentType"] = doc.media_type
        data = (doc.data or "").strip()
        if data and _base64(data):
            content["data"] = "".join(data.split())
        else:
            self.cov.part("appendage/document/text (not base64)")
        ref = doc.text.extra_node("reference") if doc.text is not None else None
        if ref is not None and ref.attrs.get("value"):
            content["url"] = ref.attrs["value"]
        res: dict = {"resourceType": "DocumentReference", "status": "current"}
        if doc.code is not None:
            res["type"] = coded(doc.code)
        res["subject"] = self.patient_ref
        when = doc.effective_time.value if doc.effective_time is not None else None
        instant, creation = t.fhir_instant(when), t.fhir_date(when)
        if instant:  # a date alone is midnight; creation keeps the TS's own precision
            res["date"] = instant
        if creation:
            content["creation"] = creation
        sender = next((n.find("assignedEntity/assignedPerson/name") for n in doc.extra if n.name == "author"), None)
        if sender is not None and sender.text:  # 1171: who sent the file
            res["author"] = [{"type": "Practitioner", "display": sender.text}]
        res["content"] = [{"attachment": content}]
        self.add(res, f"DocumentReference/{i}")
        self.cov.map("G072", "DocumentReference")


# --- datatype helpers ------------------------------------------------------------------------


# the lexical forms of HL7 REAL and INT; a value that is not one is shown as the text it is
_REAL = re.compile(r"[+-]?(\d{1,30}(\.\d*)?|\.\d+)([eE][+-]?\d{1,2})?", re.ASCII)
_INT = re.compile(r"[+-]?\d{1,18}", re.ASCII)


def tidy(number: Decimal) -> int | float:
    """620 mm → 62 (int), 7.5 stays 7.5, 1E-7 stays 1e-07: a JSON number with the digits
    the value has (a float's shortest form gives back up to 15 significant digits exactly)."""
    return int(number) if number == number.to_integral_value() else float(number)


def identifier(ii: m.II) -> dict:
    return {"system": t.system(ii.root), "value": ii.extension}


def identifier_node(node: m.Node) -> dict:
    return {"system": t.system(node.attrs.get("root")), "value": node.attrs.get("extension")}


def identifiers(node: m.Node | None) -> list[dict]:
    """The ``id`` children of ``node`` that carry an extension, as FHIR identifiers."""
    return [identifier_node(n) for n in (node.children if node is not None else ()) if n.name == "id" and n.attrs.get("extension")]


def healthcare_organisation() -> dict:
    """A new nl-core-HealthcareProvider-Organization resource, to be filled in."""
    return {"resourceType": "Organization", "meta": {"profile": [t.PROFILE + "nl-core-HealthcareProvider-Organization"]}}


def coding(attrs: dict) -> dict:
    out = {"system": t.system(attrs.get("codeSystem") or attrs.get("code_system")), "code": attrs.get("code")}
    display = attrs.get("displayName") or attrs.get("display_name")
    if display:
        out["display"] = display
    return {k: v for k, v in out.items() if v is not None}


def without_empty(value):
    """``value`` without empty objects, arrays and strings, which FHIR forbids (ele-1): a
    code that held nothing (a CV with neither code nor null flavour) leaves no trace, and
    the coverage report, which reads the Bundle back, counts what it cost."""
    if isinstance(value, dict):
        kept = {k: without_empty(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in ({}, [], "", None)}
    if isinstance(value, list):
        kept = [without_empty(v) for v in value]
        return [v for v in kept if v not in ({}, [], "", None)]
    return value


def coded(code: m.Coded | m.Value) -> dict:
    """A typed code as a CodeableConcept; nullFlavor OTH with original text keeps only the text."""
    out: dict = {}
    if code.code is not None:
        c = {"system": t.system(code.code_system), "code": code.code}
        if code.display_name:
            c["display"] = code.display_name
        out["coding"] = [{k: v for k, v in c.items() if v is not None}]
    if code.original_text:
        out["text"] = code.original_text
    if not out and code.null_flavor:
        out["coding"] = [{"system": t.NULL_FLAVOR, "code": code.null_flavor}]
    return out


def concept(node: m.Node) -> dict:
    out: dict = {}
    if node.attrs.get("code"):
        out["coding"] = [coding(node.attrs)]
    text = node.child("originalText")
    if text is not None and text.text:
        out["text"] = text.text
    if not out and node.attrs.get("nullFlavor"):
        out["coding"] = [{"system": t.NULL_FLAVOR, "code": node.attrs["nullFlavor"]}]
    return out


def absent(null_flavor: str) -> dict:
    return {"coding": [{"system": t.DATA_ABSENT, "code": t.ABSENT.get(null_flavor, "unknown")},
                       {"system": t.NULL_FLAVOR, "code": null_flavor}]}


def value_from_node(node: m.Node) -> m.Value:
    a = node.attrs
    original = node.child("originalText")
    return m.Value(xsi_type=a.get("xsi:type"), value=a.get("value"), unit=a.get("unit"), code=a.get("code"),
                   code_system=a.get("codeSystem"), display_name=a.get("displayName"), null_flavor=a.get("nullFlavor"),
                   original_text=original.text if original is not None else None, text=node.text)


def vaccine_code(node: m.Node | None) -> dict:
    if node is None:
        return {"coding": [{"system": t.NULL_FLAVOR, "code": "UNK"}]}
    out = concept(node)
    code, cs = node.attrs.get("code"), node.attrs.get("codeSystem")
    if cs == t.RIVM_VACCINE_OID and code in t.RIVM_TO_ATC:
        atc, display = t.RIVM_TO_ATC[code]
        out.setdefault("coding", []).append({"system": t.ATC, "code": atc, "display": display})
    return out


def bds_codes(node: m.Node) -> Counter:
    """The BDS element codes (``code`` in …40.267) inside a message part, counted."""
    found: Counter = Counter()
    stack = [node]
    while stack:
        n = stack.pop()
        if n.name == "code" and n.attrs.get("codeSystem") == m.OID_BDS_ELEMENT:
            found[n.attrs.get("code")] += 1
        stack.extend(n.children)
    return found


def conclusion_items(n: m.Node) -> list[m.Observation | m.Group]:
    """The R047 elements an encounter part holds, as observations and G058 groups: the
    conclusion (``subjectOf1/conclusion``: 482 its text, 493 its note, per indication 485 with
    the intervention 483, and for a referral 1159 and 1494) or the encounter's own note
    (``subjectOf2``, 493)."""
    def coded_obs(number: int, code: m.Node | None) -> list[m.Observation]:
        return [m.Observation(element=number, value=value_from_node(code).model_copy(update={"xsi_type": "CV"}))] \
            if code is not None else []

    def text_obs(number: int, text: str | None) -> list[m.Observation]:
        return [m.Observation(element=number, value=m.Value(xsi_type="ST", text=text))] if text else []

    def note(holder: m.Node) -> list[m.Observation]:
        annotation = holder.child("annotation")
        code = annotation.child("code") if annotation is not None else None
        if code is None or code.attrs.get("code") != "493" or code.attrs.get("codeSystem") != m.OID_BDS_ELEMENT:
            return []
        value = annotation.child("value")
        return text_obs(493, value.text if value is not None else None)

    if n.name == "subjectOf2":
        return note(n)
    c = n.child("conclusion") if n.name == "subjectOf1" else None
    if c is None:
        return []
    text = c.child("text")
    items: list[m.Observation | m.Group] = text_obs(482, text.text if text is not None else None)
    for part in c.children:
        if part.name == "subjectOf":
            items += note(part)
        ind = part.child("indication") if part.name == "component" else None
        if ind is None:
            continue
        members = coded_obs(485, ind.child("value"))
        for reason in ind.children:
            acts = [reason.child(k) for k in ("actIntent", "referral")] if reason.name == "reasonOf" else []
            act = next((a for a in acts if a is not None), None)
            if act is None:
                continue
            members += coded_obs(483, act.child("code"))
            members += coded_obs(1159, act.find("performer/assignedEntity/code"))
            letter = act.find("component/additionalObservation/value")
            if letter is not None and letter.attrs.get("value") in ("true", "false"):
                members.append(m.Observation(element=1494, value=m.Value(xsi_type="BL", value=letter.attrs["value"])))
        items.append(m.Group(groep="G058", items=members))
    return items


def consent_source(party: m.Node, patient_ref: dict) -> dict:
    """Who gave or refused a consent (the BDS source: the client, a parent, other; for the RVP
    consent also by name), as the Consent's contained performer with that relationship; a
    professional with ids (the doctor who let a nurse vaccinate, 469) as a contained Practitioner."""
    ids = identifiers(party)
    res: dict = {"resourceType": "Practitioner", "id": "source", "identifier": ids} if ids else {
        "resourceType": "RelatedPerson", "id": "source", "patient": patient_ref}
    code = party.child("code")
    if code is not None and (code.attrs.get("code") or code.attrs.get("nullFlavor")):
        res["relationship"] = [concept(code)]
    person = party.child("agentPerson")
    name = human_name(person.child("name")) if person is not None and person.child("name") is not None else None
    if name:
        res["name"] = [name]
    return res


def human_name(node: m.Node) -> dict | None:
    given = [c.text for c in node.children if c.name == "given" and c.text]
    prefix = " ".join(c.text for c in node.children if c.name == "prefix" and c.text)
    family = " ".join(c.text for c in node.children if c.name == "family" and c.text)
    out: dict = {}
    use = t.NAME_USE.get(node.attrs.get("use", ""))
    if use:
        out["use"] = use
    if family:
        out["family"] = f"{prefix} {family}" if prefix else family
        ext = [{"url": t.OWN_NAME, "valueString": family}]
        if prefix:
            ext.insert(0, {"url": t.OWN_PREFIX, "valueString": prefix})
        out["_family"] = {"extension": ext}
    if given:
        out["given"] = given
    if not family and not given and node.text:
        out["text"] = node.text
    return out if (family or given or node.text) else None


def name_elements(node: m.Node) -> list[int]:
    """The BDS elements a patient name carries: official name (OR) 6 voornaam, 5 roepnaam
    (given qualifier CL), 3/4 voorvoegsel/geslachtsnaam; the used name (L) 1/2."""
    used = node.attrs.get("use") == "L"
    out = []
    for c in node.children:
        if c.name == "given":
            out.append(5 if "CL" in c.attrs.get("qualifier", "") else 6)
        elif c.name == "prefix":
            out.append(1 if used else 3)
        elif c.name == "family":
            out.append(2 if used else 4)
    return out


def address(node: m.Node) -> dict | None:
    """An HL7 ``addr`` as an nl-core-AddressInformation Address: the HL7 use in the AddressType
    extension, street parts as ADXP extensions of ``line``, the coded country in CodeSpecification."""
    def part(name):
        c = node.child(name)
        return c.text if c is not None and c.text else None

    out: dict = {}
    use = (node.attrs.get("use") or "").split()[:1]
    if use:
        out["extension"] = [{"url": t.ADDRESS_TYPE, "valueCodeableConcept": {
            "coding": [{"system": t.ADDRESS_USE, "code": use[0]}]}}]
        fhir_use, fhir_type = t.ADDRESS_USE_FHIR.get(use[0], (None, None))
        out |= {k: v for k, v in (("use", fhir_use), ("type", fhir_type)) if v}
    parts = [(name, part(name)) for name in t.ADDRESS_PARTS if part(name)]
    if parts:
        out["line"] = [" ".join(value for _, value in parts)]
        out["_line"] = [{"extension": [{"url": t.ADXP + name, "valueString": value} for name, value in parts]}]
    elif part("streetAddressLine"):
        out["line"] = [part("streetAddressLine")]
    for name in ("city", "postalCode"):
        if part(name):
            out[name] = part(name)
    country = node.child("country")
    if country is not None:
        a = country.attrs
        coding = ({"system": t.system(a.get("codeSystem")), "code": a["code"]} if a.get("code") else
                  {"system": t.NULL_FLAVOR, "code": a["nullFlavor"]} if a.get("nullFlavor") else None)
        if country.text:
            out["country"] = country.text
            if coding:
                coding["display"] = country.text
        if coding:
            out["_country"] = {"extension": [{"url": t.CODE_SPECIFICATION,
                                              "valueCodeableConcept": {"coding": [coding]}}]}
    period = fhir_period(node.child("useablePeriod"))  # G096: since and until when the address holds (1453, 1454)
    if period:
        out["period"] = period
    return out if set(out) - {"extension", "use", "type"} else None


def fhir_period(time: m.Node | None) -> dict:
    """An HL7 IVL_TS (``low``, ``high``) as a FHIR Period; empty when it has neither."""
    bounds = ((side, time.child(tag) if time is not None else None) for side, tag in (("start", "low"), ("end", "high")))
    return {side: t.fhir_date(b.attrs["value"]) for side, b in bounds
            if b is not None and t.fhir_date(b.attrs.get("value"))}


def telecom(node: m.Node) -> dict | None:
    value = node.attrs.get("value") or ""
    scheme, _, rest = value.partition(":")
    if not rest:
        return None
    kind = {"tel": "phone", "mailto": "email", "fax": "fax"}.get(scheme.lower(), "other")
    out = {"system": kind, "value": rest}
    use = t.TELECOM_USE.get((node.attrs.get("use") or "").split(" ")[0])
    return out | {"use": use} if use else out


def encounter_status(act: m.Activity) -> str:
    code = act.status_code.code if act.status_code is not None else None
    mood = act.link_attrs.get("moodCode") or act.other_attrs.get("moodCode")
    if code == "completed":
        return "finished"
    if code in ("cancelled", "aborted", "nullified"):
        return "cancelled"
    if code == "active":
        return "in-progress"
    if mood == "INT" or code in ("new", "held"):
        return "planned"
    return "unknown"


def _find(nodes: list[m.Node], path: str) -> m.Node | None:
    first, _, rest = path.partition("/")
    for node in nodes:
        if node.name == first:
            found = node.find(rest) if rest else node
            if found is not None:
                return found
    return None


def _base64(text: str) -> bool:
    import base64
    import binascii

    try:
        base64.b64decode("".join(text.split()), validate=True)
        return True
    except (binascii.Error, ValueError):
        return False
