"""Read BDS facts out of a canonical Dossier: the inverse of :mod:`.to_dossier`.

Works on any dossier, whether built here or read from another system's DOB. What it
does not recognise is never guessed at: BDS element codes found in structures it does
not read (a conclusion, a pregnancy, an unknown extension...) are counted in
``unread`` so a migration can report them as dropped; so are element values that an
independent census of the whole model (:mod:`..standards.census`) finds beyond those.
"""

from __future__ import annotations

from collections import Counter
from decimal import InvalidOperation
from typing import Any
from urllib.parse import unquote

from ..standards import model as m
from ..standards import careplans, heelprick, perinatal
from ..standards.catalogue import Catalogue
from ..standards.census import valued_elements
from ..standards.items import quantity
from ..standards.timestamps import parse_ts
from . import elements as E
from . import relations
from .record import Facts, Group, Other, Record, Repeated

_CONSENT_BY_ELEMENT = {yes_no: (groep, source, date) for groep, (yes_no, source, date) in E.CONSENTS.items()}


#: Address parts (HL7 AD) the BDS has no element of its own for, by the element they would
#: belong to. A street line (or a numeric house number) stands in for a missing street name
#: (house number); every other one is reported unread there, never dropped without a word.
_ADDRESS_ELSEWHERE = {
    "streetAddressLine": "streetName", "streetNameBase": "streetName", "streetNameType": "streetName",
    "direction": "streetName", "houseNumberNumeric": "houseNumber", "unitID": "addition", "unitType": "addition",
    "state": "county", "precinct": "county", "censusTract": "county", "deliveryAddressLine": "desc", "careOf": "desc",
    "postBox": "desc", "deliveryInstallationType": "desc", "deliveryInstallationArea": "desc",
    "deliveryInstallationQualifier": "desc", "deliveryMode": "desc", "deliveryModeIdentifier": "desc",
}


class _Reader:
    def __init__(self, catalogue: Catalogue):
        self.cat = catalogue
        self.unread: Counter[int] = Counter()

    def code(self, element: int, code: str | None, code_system: str | None, w: str | None = None) -> str | None:
        if code is None:
            return None
        w = w or E.valueset(element, self.cat)
        vs = self.cat.valueset(w) if w else None
        found = E.to_bds(vs, code, code_system) if vs else None
        return found if found is not None else code

    def exception(self, element: int, null_flavor: str | None, w: str | None = None) -> str | None:
        """The BDS code an HL7 null flavour stands for in the element's value set ("98 Anders" is
        written as ``nullFlavor="OTH"``), or None when the set has no such exception."""
        if not null_flavor:
            return None
        w = w or E.valueset(element, self.cat)
        vs = self.cat.valueset(w) if w else None
        return E.to_bds(vs, null_flavor, E.NULL_FLAVOR_OID) if vs else None

    def coded_value(self, element: int, code: str | None, code_system: str | None, null_flavor: str | None,
                    w: str | None = None, text: str | None = None) -> str | None:
        """The BDS code of a coded value: its code, or the exception its null flavour stands for
        (with ``text``, the original text of an "other", as an :class:`Other`)."""
        found = self.code(element, code, code_system, w) if code else self.exception(element, null_flavor, w)
        if found is None or not text or (code and self.is_display(element, found, text, w)):
            return found
        return Other(found, text)  # a code with the text it was given ("other", what it was, a qualifier)

    def is_display(self, element: int, bds_code: str, text: str, w: str | None = None) -> bool:
        """``text`` only names the code (its display in either flavour): no text of its own."""
        w = w or E.valueset(element, self.cat)
        vs = self.cat.valueset(w) if w else None
        c = vs.bds_concept(str(bds_code)) if vs else None
        return c is not None and text.strip().lower() in c.names()

    def code_of(self, element: int, node: m.Node | None, w: str | None = None) -> str | None:
        """The BDS code of a coded node, or None when it carries none."""
        if node is None:
            return None
        a = node.attrs
        text = node.child("originalText")
        return self.coded_value(element, a.get("code"), a.get("codeSystem"), a.get("nullFlavor"), w,
                                text.text if text is not None else None)

    def coded_of(self, element: int, coded: m.Coded | None, w: str | None = None) -> str | None:
        """The BDS code of a typed coded value, or None when it carries none."""
        if coded is None:
            return None
        return self.coded_value(element, coded.code, coded.code_system, coded.null_flavor, w, coded.original_text)

    def put_code(self, into: dict, element: int, node: m.Node | None, w: str | None = None) -> None:
        """``into[element]`` = the BDS code of a coded node, when it carries one."""
        _put(into, element, self.code_of(element, node, w))

    def put_coded(self, into: dict, element: int, coded: m.Coded | None, w: str | None = None) -> None:
        """``into[element]`` = the BDS code of a typed coded value, when it carries one."""
        _put(into, element, self.coded_of(element, coded, w))

    def count_unread(self, nodes: list[m.Node]) -> None:
        """Count the BDS element codes inside nodes this reader does not interpret."""
        for n in nodes:
            self.unread.update(n.element_codes())

    # --- dossier ------------------------------------------------------------------------

    def record(self, dossier: m.Dossier, key: str) -> Record:
        f = Facts()
        if dossier.ids and dossier.ids[0].extension:
            f.values[695] = dossier.ids[0].extension
        if dossier.status_code and dossier.status_code.code:
            f.values[696] = self.code(696, dossier.status_code.code, "2.16.840.1.113883.5.14")
        if dossier.patient:
            self.patient(dossier.patient, f)
        f.groups += [self.organisation(o) for o in dossier.organisations]
        for consent in dossier.consents:
            if consent.element == E.NURSE_VACCINATION:
                self.nurse_vaccination(consent, f.values)
                continue
            group = self.consent(consent)
            if group is not None:
                f.groups.append(group)
        f.groups += [self.non_bds(n) for n in dossier.non_bds]
        f.groups += [self.attachment(a) for a in dossier.attachments]
        for status in dossier.care_statuses:
            group = self.care_status(status)
            if group is not None:
                f.groups.append(group)
        born, unread = perinatal.read([n for n in dossier.extra if perinatal.holds(n)], self)
        self.unread.update(unread)
        stay = {n: born.pop(n) for n in perinatal.STAY if n in born}
        for number, value in stay.items():  # G109: one period on the children's ward
            if isinstance(value, list):
                stay[number] = value[0]
                self.unread[number] += len(value) - 1
        if stay:
            f.groups.append(Group(groep="G109", values=stay))
        for number, value in born.items():
            f.values[number] = Repeated(value) if isinstance(value, list) else value
        for n in dossier.extra:
            if perinatal.holds(n):
                continue
            if careplans.holds(n):
                f.groups.append(self.care_group(n))
                continue
            if n.name == "component6" and _coded_as(n.child("informationControlActEvent"), "G088"):
                f.groups.append(self.copy_given(n.child("informationControlActEvent")))
            elif n.name == "responsibleParty" and n.child("assignedEntity") is not None:
                f.groups.append(self.responsible(n))
            elif n.name == "summary" and _coded_as(n.child("observationEvent"), str(E.SUMMARY)):
                value = n.find("observationEvent/value")
                if value is not None and value.text and value.text.strip():
                    f.values[E.SUMMARY] = value.text
                else:
                    self.unread[E.SUMMARY] += 1
            elif not self.dossier_annotation(n, f.values):
                self.count_unread([n])
        return Record(key=key, facts=f, activities=[self.activity(a) for a in dossier.activities])

    def care_group(self, n: m.Node) -> Group:
        """G041 or G081 (:mod:`~jgz_gateway.standards.careplans`), its period as G103 or G110."""
        groep, values, unread = careplans.read(n, self)
        self.unread.update(unread)
        start, end = careplans.PERIOD[groep]
        period = {k: values.pop(k) for k in (start, end) if k in values}
        g = Group(groep=groep, values=values)
        if period:
            g.groups.append(Group(groep=careplans.PERIOD_GROEP[groep], values=period))
        return g

    def attachment(self, a: m.Attachment) -> Group:
        """G072 (R009), an attached file as Nictiz's ADA conversion writes it: its kind (1169), the
        base64 content (1185), media type (1498), file name (1497), date (1172) and sender (1171)."""
        g = Group(groep="G072")
        v = g.values
        self.put_coded(v, 1169, a.code)
        if a.text is not None:
            if a.text.text and a.text.text.strip():  # base64: its line breaks and spaces carry nothing
                b64 = a.text.other_attrs.get("representation") == "B64"
                v[1185] = "".join(a.text.text.split()) if b64 else a.text.text
            if a.text.other_attrs.get("mediaType"):
                v[1498] = a.text.other_attrs["mediaType"]
            for x in a.text.extra:
                if x.name == "reference" and x.attrs.get("value"):
                    v[1497] = x.attrs["value"].removeprefix("file:///")
        if a.effective_time and a.effective_time.value:
            v[1172] = parse_ts(a.effective_time.value)
        for x in a.extra:
            name = x.find("assignedEntity/assignedPerson/name") if x.name == "author" else None
            if name is not None and name.text:
                v[1171] = name.text
            else:
                self.unread[1171 if x.name == "author" else 1185] += 1
        return g

    def copy_given(self, act: m.Node) -> Group:
        """G088 (R010), a copy of the dossier given: to whom (1401: the child is the patient, else a
        relation's role), when (1402) and a note (1403), as Nictiz's ADA conversion writes it."""
        g = Group(groep="G088")
        text, when = act.child("text"), act.child("effectiveTime")
        if text is not None and text.text:
            g.values[1403] = text.text
        if when is not None and when.attrs.get("value"):
            g.values[1402] = parse_ts(when.attrs["value"])
        recipient = act.child("informationRecipient")
        if recipient is not None and recipient.child("patient") is not None:
            _put(g.values, 1401, self.coded_value(1401, "ONESELF", "2.16.840.1.113883.5.111", None))  # the child
        elif recipient is not None:
            self.put_code(g.values, 1401, recipient.find("personalRelationship/code"))
        return g

    def dossier_annotation(self, n: m.Node, into: dict) -> bool:
        """Read a dossier-level yes/no (E.DOSSIER_ANNOTATIONS); True when ``n`` was one."""
        obs = n.child("annotationObsEvent") if n.name == "pertinentInformation" else None
        code = obs.child("code") if obs is not None else None
        value = obs.child("value") if obs is not None else None
        number = code.attrs.get("code", "") if code is not None else ""
        if (not number.isdecimal() or int(number) not in E.DOSSIER_ANNOTATIONS or value is None
                or value.attrs.get("value") not in ("true", "false")):
            return False
        into[int(number)] = value.attrs["value"] == "true"
        return True

    def patient(self, p: m.Patient, f: Facts) -> None:
        v = f.values
        if p.bsn:
            v[7] = p.bsn
        for addr in p.addresses:
            f.groups.append(self.address(addr))
        for tel in p.telecoms:
            value = tel.attrs.get("value", "")
            if value.startswith("mailto:"):
                f.add(698, unquote(value[len("mailto:"):]))
            elif value.startswith("tel:"):
                f.groups.append(self.phone(tel, "G002"))
        person = p.person
        if person is None:
            return
        for name in person.names:  # OR: voornaam, geslachtsnaam; L: roepnaam, achternaam (the name in use)
            parts = _NAME_PARTS.get(name.attrs.get("use"), {})
            for part in name.children:
                if part.text is not None and part.name in parts:
                    v[parts[part.name]] = part.text
                elif part.text and part.text.strip() and parts:  # a suffix ("jr."): no BDS element holds it
                    self.unread[parts["family"]] += 1
        self.put_coded(v, 19, person.gender)
        if person.birth_time and person.birth_time.value:
            v[20] = parse_ts(person.birth_time.value)
        around = relations.Reader(self)
        for extra in person.extra:
            if around.person_part(extra, f):
                continue
            if extra.name == "personalRelationship":
                f.groups.append(self.relative(extra))
            elif extra.name == "deceasedTime":  # 21 Datum overlijden (deceasedInd goes with it)
                if extra.attrs.get("value"):
                    v[21] = parse_ts(extra.attrs["value"])
                else:
                    self.unread[21] += 1  # died on a date not given (masked): no value holds that
            elif extra.name == "deceasedInd":
                if extra.attrs.get("value") == "true" and not any(x.name == "deceasedTime" for x in person.extra):
                    self.unread[21] += 1
            elif extra.name == "asCitizen":
                nation = self.code_of(24, extra.find("politicalNation/code"))
                if nation is not None:
                    f.add(24, nation)
            elif extra.name == "asMember" and extra.child("group") is not None:  # G077 the household
                f.groups.append(self.household(extra.child("group")))
            elif extra.name == "guardian":  # 631 who has custody
                self.put_code(v, E.CUSTODY, extra.child("code"))
            elif extra.name == "languageCommunication" and extra.child("proficiencyLevelCode") is not None:
                self.put_code(v, E.LITERACY, extra.child("proficiencyLevelCode"))  # 707 low literacy
            elif extra.name == "birthPlace":
                county, country = extra.find("addr/county"), extra.find("addr/country")
                if county is not None and county.text:
                    v[22] = county.text
                self.put_code(v, 23, country)
            else:
                self.count_unread([extra])
        for extra in p.extra:  # the child's administrative observations (26-29)
            obs = extra.child("administrativeObservation") if extra.name == "subjectOf1" else None
            code = obs.child("code") if obs is not None else None
            number = int(code.attrs["code"]) if code is not None and code.attrs.get("code", "").isdecimal() else None
            if number in E.ADMINISTRATIVE or number in E.VVE_ADMINISTRATIVE:
                value = obs.child("value")
                kind = value.type if value is not None else None
                if value is not None and value.attrs.get("value") and kind in ("TS", "BL"):
                    f.add(number, parse_ts(value.attrs["value"]) if kind == "TS" else value.attrs["value"] == "true")
                elif value is not None:
                    code = self.code_of(number, value)
                    if code is not None:
                        f.add(number, code)
                    else:
                        self.unread[number] += 1
            else:
                self.count_unread([extra])
        around.vve_into_g006(f)

    def phone(self, tel: m.Node, groep: str) -> Group:
        """A ``tel:`` telecom as the child's (G002) or a parent's (G017) telephone: number and kind."""
        number, use = E.PHONE[groep]
        g = Group(groep=groep, values={number: unquote(tel.attrs["value"][len("tel:"):])})
        if "use" in tel.attrs:
            g.values[use] = self.code(use, tel.attrs["use"], "2.16.840.1.113883.5.1119")
        return g

    def address(self, addr: m.Node, groep: str = "G001") -> Group:
        """The child's address (G001) or a parent's (G016), by the parts' elements (E.ADDRESS)."""
        n = E.ADDRESS[groep]
        g = Group(groep=groep)
        if "use" in addr.attrs:
            g.values[n["use"]] = self.code(n["use"], addr.attrs["use"].split()[0], "2.16.840.1.113883.5.1119")
        for part in addr.children:
            target = n.get(part.name) if part.name in ("streetName", "houseNumber", "postalCode", "city", "desc") else None
            text = part.text.strip() if part.text and part.text.strip() else None
            if target and part.text is not None:
                g.values[target] = int(text) if part.name == "houseNumber" and text and text.isdecimal() else part.text
            elif part.name == "buildingNumberSuffix" and text:  # huisletter and toevoeging, as Nictiz joins them
                letter, _, addition = text.partition(" ")
                if len(letter) == 1 and letter.isalpha():
                    g.values[n["letter"]] = letter
                    if addition.strip():
                        g.values[n["addition"]] = addition.strip()
                else:
                    g.values[n["addition"]] = text
            elif part.name == "additionalLocator" and text:
                code = next((c for c, t in E.HOUSE_NUMBER_LOCATOR.items() if t == text), None)
                if code is not None:
                    g.values[n["additionalLocator"]] = code
                else:
                    self.unread[n["additionalLocator"]] += 1
            elif part.name == "country":
                self.put_code(g.values, n["country"], part)
            elif part.name == "useablePeriod" and groep == "G001":  # G096
                g.groups += _period(part, "G096", 1453, 1454)
            elif part.name == "county" and (text or part.attrs.get("code")):
                self.unread[n["county"]] += 1  # Gemeente: its code and name have no place among the facts
            elif part.name in _ADDRESS_ELSEWHERE and text:
                kind = _ADDRESS_ELSEWHERE[part.name]
                if part.name in ("streetAddressLine", "houseNumberNumeric") and n[kind] not in g.values \
                        and not any(c.name == kind for c in addr.children):
                    g.values[n[kind]] = int(text) if text.isdecimal() and kind == "houseNumber" else text
                else:  # a part the BDS splits otherwise: reported against the element it would belong to
                    self.unread[n[kind]] += 1
        return g

    def relative_groep(self, rel: m.Node) -> str:
        """Parent, sibling or child: see :func:`~jgz_gateway.standards.involved.relative_groep`."""
        code = rel.child("code")
        a = code.attrs if code is not None else {}
        notes = {int(c.attrs["code"]) for c in rel.findall("subjectOf/personalRelationshipObservation/code")
                 if c.attrs.get("code", "").isdecimal()}
        gender = rel.find("relationshipHolder1/administrativeGenderCode") is not None
        return E.relative_groep(a.get("code"), a.get("codeSystem"), notes, gender, self.cat)

    def relative(self, rel: m.Node) -> Group:
        """A parent or carer (G014), brother or sister (G018) or son or daughter (G078)."""
        spec = E.RELATIVES[self.relative_groep(rel)]
        g = Group(groep=spec.groep)
        v = g.values
        if spec.relation is not None:
            self.put_code(v, spec.relation, rel.child("code"))
        parent = spec.groep == "G014"
        for part in rel.children:  # the parent's address (G016), telephones (G017) and e-mail (738)
            if part.name == "addr" and parent:
                g.groups.append(self.address(part, "G016"))
            elif part.name == "telecom" and parent and part.attrs.get("value", "").startswith("mailto:"):
                v[738] = unquote(part.attrs["value"][len("mailto:"):])
            elif part.name == "telecom" and parent and part.attrs.get("value", "").startswith("tel:"):
                g.groups.append(self.phone(part, "G017"))
            elif part.name == "subjectOf":  # remarks and dates (1322, 1367, 72, 670; 78; 1374)
                self.relative_note(part.child("personalRelationshipObservation"), spec, g)
        holder = rel.child("relationshipHolder1")
        for part in holder.children if holder else []:
            a = part.attrs
            if part.name == "id" and a.get("root") == m.OID_BSN and a.get("extension") and parent:
                v[655] = a["extension"]
            elif part.name == "name":
                for piece in part.children:
                    target = {"given": spec.given, "prefix": spec.prefix, "family": spec.family}.get(piece.name)
                    if target and piece.text is not None:
                        v[target] = piece.text
                    elif piece.text and piece.text.strip() and spec.family:  # a suffix: no BDS element holds it
                        self.unread[spec.family] += 1
            elif part.name == "administrativeGenderCode" and spec.gender is not None:
                self.put_code(v, spec.gender, part)
            elif part.name == "birthTime" and a.get("value"):
                v[spec.birth] = parse_ts(a["value"])
            elif part.name == "asMember":  # the household (Woonverband) the person lives in
                gid = part.find("group/id")
                if gid is not None and gid.attrs.get("extension"):
                    g.add(spec.household, gid.attrs["extension"])
            elif parent:
                self.parent_part(part, v)
        return g

    def household(self, group: m.Node) -> Group:
        h = E.HOUSEHOLD
        g = Group(groep="G077")
        gid, desc = group.child("id"), group.child("desc")
        if gid is not None and gid.attrs.get("extension"):
            g.values[h["id"]] = gid.attrs["extension"]
        self.put_code(g.values, h["kind"], group.child("code"))
        if desc is not None and desc.text and desc.text.strip():
            g.values[h["desc"]] = desc.text
        return g

    def relative_note(self, obs: m.Node | None, spec, g: Group) -> None:
        code, value = (obs.child("code"), obs.child("value")) if obs is not None else (None, None)
        number = int(code.attrs["code"]) if code is not None and code.attrs.get("code", "").isdecimal() else None
        if number not in spec.notes or value is None:
            if number is not None:
                self.unread[number] += 1
            return
        if value.attrs.get("value") and value.type == "TS":
            g.values[number] = parse_ts(value.attrs["value"])
        elif value.text and value.text.strip():
            g.values[number] = value.text
        else:
            self.unread[number] += 1

    def parent_part(self, part: m.Node, v: dict) -> None:
        """What only a parent's (G014) holder carries: death, belief, education, work, birth
        country, spoken language."""
        a = part.attrs
        if part.name == "deceasedInd" and a.get("value") in ("true", "false"):
            v[64] = a["value"] == "true"
        elif part.name == "deceasedTime" and a.get("value"):
            v[65] = parse_ts(a["value"])
        elif part.name == "religiousAffiliationCode":  # 69, a text: nullFlavor OTH with originalText
            text = part.child("originalText")
            if text is not None and text.text:
                v[69] = text.text
        elif part.name == "educationLevelCode":
            self.put_code(v, 66, part)
        elif part.name == "asEmployee":  # 67 Werk (the code) and 68 Inhoud beroep (the required text)
            occupation = part.child("occupationCode")
            a = occupation.attrs if occupation is not None else {}
            if a.get("code"):
                v[67] = self.code(67, a["code"], a.get("codeSystem"))
            text = occupation.child("originalText") if occupation is not None else None
            if text is not None and text.text and text.text.strip() and not (67 in v and self.is_display(67, v[67], text.text)):
                v[68] = text.text
        elif part.name == "birthPlace":
            self.put_code(v, 71, part.find("addr/country"))
        elif part.name == "languageCommunication":
            self.put_code(v, E.SPOKEN_LANGUAGE, part.child("languageCode"))

    def organisation(self, o: m.Organization) -> Group:
        g = Group(groep="G085")
        for i in o.ids:
            if i.root == m.OID_URA and i.extension:
                g.values[603] = i.extension
            elif i.root == m.OID_AGB and i.extension:
                g.values[1529] = i.extension
        if o.name:
            g.values[1506] = o.name
        g.groups += _period(next((n for n in o.link_extra if n.name == "time"), None), "G098", 1457, 1458)
        return g

    def responsible(self, link: m.Node) -> Group:
        """G091 from ``responsibleParty``: ids (URA, AGB), name and period, as an organisation's."""
        spec = E.JGZ_ORGANISATIONS["G091"]
        g = Group(groep=spec.groep)
        entity = link.child("assignedEntity")
        for i in entity.children:
            if i.name == "id" and i.attrs.get("root") in spec.ids and i.attrs.get("extension"):
                g.values[spec.ids[i.attrs["root"]]] = i.attrs["extension"]
        name = entity.find("assignedOrganization/name")
        if name is not None and name.text and name.text.strip():
            g.values[spec.name] = name.text
        g.groups += _period(link.child("time"), spec.period.groep, spec.period.start, spec.period.end)
        return g

    def consent(self, c: m.Consent) -> Group | None:
        if c.element not in _CONSENT_BY_ELEMENT:
            if c.element is not None:
                self.unread[c.element] += 1
            return None
        groep, source, date = _CONSENT_BY_ELEMENT[c.element]
        g = Group(groep=groep, values={c.element: c.affirmed})
        author = c.extra_node("author")
        if author is not None:
            time = author.child("time")
            if time is not None and time.attrs.get("value"):
                g.values[date] = parse_ts(time.attrs["value"])
            self.put_code(g.values, source, author.find("responsibleParty/code"))
        note = c.extra_node("subjectOf/annotation")
        if groep == "G012" and note is not None:
            value = note.child("value")
            if value is not None and value.text:
                g.values[1407] = value.text
        if groep == "G115":
            self.rvp(c, g.values)
        return g

    def nurse_vaccination(self, c: m.Consent, v: dict) -> None:
        """469: a doctor's permission for a nurse to vaccinate, when (1383), by whom (ids, name)."""
        v[E.NURSE_VACCINATION] = c.affirmed
        time = c.extra_node("author/time")
        if time is not None and time.attrs.get("value"):
            v[E.NURSE_VACCINATION_DATE] = parse_ts(time.attrs["value"])
        party = c.extra_node("author/responsibleParty")
        for n in party.children if party is not None else ():
            if n.name == "id" and n.attrs.get("root") in E.NURSE_VACCINATION_IDS and n.attrs.get("extension"):
                v[E.NURSE_VACCINATION_IDS[n.attrs["root"]]] = n.attrs["extension"]
        name = c.extra_node("author/responsibleParty/agentPerson/name")
        if name is not None and name.text and name.text.strip():
            v[E.NURSE_VACCINATION_NAME] = name.text

    def rvp(self, c: m.Consent, v: dict) -> None:
        """The G115 elements beyond yes/no, source and date (see ``to_dossier.rvp_recorder``)."""
        def text(path: str) -> str | None:
            n = c.extra_node(path)
            return n.text if n is not None and n.text else None

        _put(v, E.RVP_SOURCE_NAME, text("author/responsibleParty/agentPerson/name"))
        _put(v, E.RVP_EMPLOYEE, text("consultant/assignedEntity1/assignedPerson/name"))
        _put(v, E.RVP_ORG_NAME, text("consultant/assignedEntity1/representedOrganization/name"))
        org = c.extra_node("consultant/assignedEntity1/representedOrganization")
        for i in org.children if org is not None else ():
            if i.name == "id" and i.attrs.get("extension"):
                if i.attrs.get("root") == m.OID_URA:
                    v[E.RVP_ORG_URA] = i.attrs["extension"]
                elif i.attrs.get("root") == m.OID_AGB:
                    v[E.RVP_ORG_AGB] = i.attrs["extension"]
        high = c.effective_time.high if c.effective_time is not None else None
        if high is not None and high.value:
            v[E.RVP_END] = parse_ts(high.value)
        for subject in c.extra:
            if subject.name == "subjectOf" and _annotates(subject, E.RVP_MANNER):
                self.put_code(v, E.RVP_MANNER, subject.find("annotation/value"))

    def care_status(self, s: m.CareStatus) -> Group | None:
        if s.element not in (1197, 487):
            if s.element is not None:
                self.unread[s.element] += 1
            return None
        groep, date = ("G093", 1330) if s.element == 1197 else ("G092", 488)
        g = Group(groep=groep)
        if s.reason_code and s.reason_code.code:
            g.values[s.element] = self.code(s.element, s.reason_code.code, s.reason_code.code_system)
        if s.effective_time and s.effective_time.value:
            g.values[date] = parse_ts(s.effective_time.value)
        return g

    def non_bds(self, n: m.NonBdsItem) -> Group:
        g = Group(groep="G083")
        if n.code is not None and n.code.original_text:
            g.values[1332] = n.code.original_text
        elif n.code is not None and n.code.code_system == m.OID_BDS_ELEMENT and n.code.code:
            g.values[1332] = n.code.display_name or n.code.code
        text = n.text if n.text is not None else (n.value.text or n.value.value if n.value else None)
        if text is not None:
            g.values[1333] = text
        if n.rubriek:
            g.values[1335] = n.rubriek
        return g

    # --- activities ---------------------------------------------------------------------

    def activity(self, a: m.Activity) -> Facts:
        f = Facts()
        v = f.values
        if a.ids and a.ids[0].extension:
            v[1377] = a.ids[0].extension
        self.put_coded(v, 494, a.code)
        if a.effective_time and a.effective_time.value:
            v[724] = parse_ts(a.effective_time.value)
        for reason in a.reason_codes:  # 1424 Indicatie activiteit, 0..*
            indication = self.coded_of(1424, reason)
            if indication is not None:
                f.add(1424, indication)
        conclusions, notes = [], []  # read last: the encounter's last children
        for extra in a.extra:
            if extra.name == "performer":
                entity = extra.child("assignedEntity")
                self.put_code(v, 1599, entity.child("code") if entity else None)
                name = entity.find("assignedPerson/name") if entity else None
                if name is not None and name.text:
                    v[1501] = name.text
            elif extra.name == "author":  # the requester of an activity not held
                self.requester(extra, v)
            elif extra.name == "inFulfillmentOf":
                self.requester(extra.find("encounter/author"), v)
            elif extra.name == "escort":
                self.escort(extra.find("responsibleParty/code"), f)
            elif extra.name == "consultant" and extra.child("assignedEntity") is not None:
                # R013: who was consulted about the reporting code (Meldcode): function 1600, name 1606
                entity = extra.child("assignedEntity")
                self.put_code(v, 1600, entity.child("code"))
                name = entity.find("assignedPerson/name")
                if name is not None and name.text:
                    v[1606] = name.text
            elif extra.name == "subjectOf1" and extra.child("conclusion") is not None:
                conclusions.append(extra.child("conclusion"))
            elif extra.name == "subjectOf2" and _annotates(extra, 493):
                notes.append(extra)
            elif heelprick.holds(extra):  # R037
                values, unread = heelprick.read(extra, self)
                v.update(values)
                self.unread.update(unread)
            else:
                self.count_unread([extra])
        for rubriek in a.rubrieken:
            for item in rubriek.items:
                self.item(item, f)
            self.count_unread(rubriek.extra)
        f.groups += [self.vaccination(x) for x in a.vaccinations]
        f.groups += [self.non_bds(n) for n in a.non_bds]
        for c in conclusions:
            self.conclusion(c, f)
        for note in notes:  # the encounter's own note (493), after the conclusion's
            value = note.find("annotation/value")
            if value is not None and value.text:
                f.add(493, value.text)
            else:
                self.count_unread([note])
        return f

    def conclusion(self, c: m.Node, into: Facts) -> None:
        """R047 (see ``to_dossier.conclusion``); anything else inside counts as unread."""
        for part in c.children:
            if part.name == "text" and part.text:
                into.values[482] = part.text
            elif part.name == "subjectOf" and _annotates(part, 493):
                value = part.find("annotation/value")
                if value is not None and value.text:
                    into.add(493, value.text)
                else:  # a note without its value (R047's CR test has it as text, against the schema)
                    self.count_unread([part])
            elif part.name == "component" and part.child("indication") is not None:
                into.groups.append(self.indication(part.child("indication")))
            elif part.name != "code":
                self.count_unread([part])

    def indication(self, ind: m.Node) -> Group:
        g = Group(groep="G058")
        v = g.values
        self.put_code(v, 485, ind.child("value"))
        intent = ind.find("reasonOf/actIntent")
        referral = ind.find("reasonOf/referral")
        if intent is not None:
            self.put_code(v, 483, intent.child("code"))
        elif referral is not None:
            self.put_code(v, 483, referral.child("code"))
            self.put_code(v, 1159, referral.find("performer/assignedEntity/code"))
            letter = referral.find("component/additionalObservation/value")
            if letter is not None and letter.attrs.get("value") in ("true", "false"):
                v[1494] = letter.attrs["value"] == "true"
        return g

    def requester(self, author: m.Node | None, v: dict) -> None:
        """1423 Verzoeker activiteit: the author of the planned encounter a held activity fulfils,
        or of an activity not held: the child (03, ``patient``), a parent (``personalRelationship``)
        or another party (its code; "other" with its text)."""
        if author is None:
            return
        if author.child("patient") is not None:
            v[1423] = "03"
            return
        code = author.find("personalRelationship/code")
        self.put_code(v, 1423, code if code is not None else author.find("assignedEntity1/code"))

    def escort(self, node: m.Node | None, f: Facts) -> None:
        """731 Begeleider (W0193, 0..*: the mother and the father). The HL7-only role codes of
        W0193 (MTH, FTH...) have no BDS code: those are counted as dropped."""
        if node is None:
            return
        escort = self.code_of(731, node)
        w = E.valueset(731, self.cat)
        vs = self.cat.valueset(w) if w else None
        code = str(escort or "")
        if vs is None or not (vs.contains_bds(code) or E.unpublished(vs, code)):
            self.unread[731] += 1
        else:
            f.add(731, escort)

    def item(self, item: m.Observation | m.Group, into: Facts) -> None:
        if isinstance(item, m.Group):
            groep = item.groep or (item.code.code if item.code else "") or ""
            g = Group(groep=groep)
            into.groups.append(g)
            for sub in item.items:
                # BDS 4.2 repeats an element within one groep (several diseases in one G019): each
                # repetition starts another occurrence of the groep, as a groep holds one value each
                if isinstance(sub, m.Observation) and sub.element is not None and sub.element in g.values:
                    g = Group(groep=groep)
                    into.groups.append(g)
                self.item(sub, g)
            return
        n = item.element
        if n is None and item.code is not None:  # R039 blood pressure: coded in SNOMED
            n = E.foreign_element(item.code.code, item.code.code_system)
        if n is None:
            return
        value = self.value(n, item.value)
        if value is not None:
            into.add(n, value)
        elif _says_something(item.value):  # an "other" or a null flavour no known value set places
            self.unread[n] += 1
        rest = item.extra
        for path, number in E.carriers(self.cat).get(n, {}).items():
            w = self.cat.element(n).bindings.get(path)  # a host is a catalogue element with that binding
            if path == "methodCode":
                self.put_coded(into.values, number, item.method, w)
            elif path == "targetSiteCode":
                self.put_coded(into.values, number, item.target_site, w)
            elif path == "effectiveTime":
                if item.effective_time is not None and item.effective_time.value:
                    into.values[number] = parse_ts(item.effective_time.value)
            else:  # subject/personalRelationship/code, performer/assignedEntity/code, location/...
                top, _, inner = path.partition("/")
                holder = next((x for x in rest if x.name == top), None)
                if holder is not None:
                    self.put_code(into.values, number, holder.find(inner), w)
                    rest = [x for x in rest if x is not holder]
        self.count_unread(rest)

    def value(self, n: int, val: m.Value | None) -> Any:
        if val is None:
            return None
        if val.null_flavor:  # a coded value's exception ("98 Anders"), else no value
            e = self.cat.element(n)
            return self.coded_value(n, None, None, val.null_flavor, e.bindings.get("value") if e else None,
                                    val.original_text)
        t = val.type
        if t == "PQ":
            try:
                return quantity(val.value) if val.value is not None else None
            except InvalidOperation:
                return val.value
        if t == "BL":
            return val.value == "true" if val.value in ("true", "false") else None
        if t == "INT":
            return int(val.value) if val.value and val.value.lstrip("-").isdecimal() else val.value
        if t == "TS":
            return parse_ts(val.value)
        if t in ("ST", "ED") or (t is None and val.text is not None):
            return val.text
        if val.code is not None:
            e = self.cat.element(n)
            return self.coded_value(n, val.code, val.code_system, None, e.bindings.get("value") if e else None,
                                    val.original_text)
        return val.text

    def vaccination(self, x: m.Vaccination) -> Group:
        g = Group(groep="G076")
        v = g.values
        if x.effective_time and x.effective_time.value:
            v[1409] = parse_ts(x.effective_time.value)
        for extra in x.extra:
            if extra.name == "consumable":
                medicine = extra.find("medication/administrableMedicine")
                for part in medicine.children if medicine else []:
                    if part.name == "code":
                        self.put_code(v, 461, part)
                    elif part.name == "lotNumberText" and part.text:
                        v[472] = part.text
            elif extra.name == "performer":
                entity = extra.child("assignedEntity")
                for path, n in (("assignedPerson/name", 1410), ("representedOrganization/name", 1336),
                                ("representedOrganization/organizationContains/partOrganization/name", 1452)):
                    name = entity.find(path) if entity else None
                    if name is not None and name.text:
                        v[n] = name.text
            elif extra.name == "reason":
                self.put_code(v, 686, extra.find("vaccinationReason/value"))
            elif extra.name == "causeOf2":
                reaction = extra.child("adverseReaction")
                value = reaction.child("value") if reaction else None
                if value is not None and value.text:
                    v[874] = value.text
                g.groups += _period(reaction.child("effectiveTime") if reaction else None, "G111", 1483, 1484)
                info = reaction.find("subjectOf/informationControlActEvent") if reaction else None
                reported = info.child("effectiveTime") if info else None
                if reported is not None and reported.attrs.get("value"):
                    v[875] = parse_ts(reported.attrs["value"])
                reporter = info.find("performer/assignedPerson") if info else None
                for ident in reporter.children if reporter else []:
                    n = next((k for k, root in E.REACTION_REPORTER.items() if root == ident.attrs.get("root")), None)
                    if ident.name == "id" and n is not None and ident.attrs.get("extension"):
                        v[n] = ident.attrs["extension"]
                    elif ident.name == "id" or ident.name == "assignedPerson":
                        self.unread[876] += 1  # another id, or a name: no element holds it
            elif extra.name == "authorization":
                self.put_code(v, 683, extra.find("consentEvent/reasonOf/observationEvent/value"))
            elif extra.name == "component":
                obs = extra.child("vaccinationObservation")
                code = obs.child("code") if obs else None
                value = obs.child("value") if obs else None
                element = int(code.attrs["code"]) if code is not None and code.attrs.get("code", "").isdecimal() else None
                if element == 608:
                    self.put_code(v, 608, value)
                elif element == 872 and value is not None and value.text:
                    v[872] = value.text
                elif element == 1589 and value is not None and value.attrs.get("value") in ("true", "false"):
                    v[1589] = value.attrs["value"] == "true"
                elif obs is not None:
                    self.count_unread([obs])
            else:
                self.count_unread([extra])
        return g


#: The patient's names as Nictiz writes them: HL7 name use → part → BDS element.
_NAME_PARTS = {"OR": {"given": 6, "prefix": 3, "family": 4}, "L": {"given": 5, "prefix": 1, "family": 2}}


def _period(time: m.Node | None, groep: str, start: int, end: int) -> list[Group]:
    """An IVL_TS (``low``/``high``) as a period groep of two dates (G096, G098, G111), if it has one."""
    g = Group(groep=groep)
    for bound, n in (("low", start), ("high", end)):
        b = time.child(bound) if time is not None else None
        if b is not None and b.attrs.get("value"):
            g.values[n] = parse_ts(b.attrs["value"])
    return [g] if g.values else []


def _coded_as(n: m.Node | None, code: str) -> bool:
    c = n.child("code") if n is not None else None
    return c is not None and c.attrs.get("code") == code


def _says_something(v: m.Value | None) -> bool:
    """A value that holds more than nothing: a code, a number, a text, or a null flavour other
    than NI (a host observation's "no value of its own", see placeholder_hosts)."""
    if v is None:
        return False
    return bool(v.code or v.original_text or v.value or (v.text and v.text.strip())
                or (v.null_flavor and v.null_flavor != "NI"))


def _put(into: dict, element: int, value) -> None:
    if value is not None:
        into[element] = value


def _annotates(link: m.Node, element: int) -> bool:
    """``link/annotation`` is coded as BDS element ``element``."""
    code = link.find("annotation/code")
    return code is not None and code.attrs.get("code") == str(element)


def extract(dossier: m.Dossier, key: str | None = None, version: str | None = None) -> tuple[Record, Counter[int]]:
    """The BDS facts of ``dossier`` and the count of element codes found but not read."""
    from ..standards.catalogue import normalise_version

    key = key or (dossier.ids[0].extension if dossier.ids and dossier.ids[0].extension else None) or dossier.bsn or "dossier"
    version = normalise_version(version or dossier.bds_version)
    converted: Counter[int] = Counter()
    if version.startswith("3."):
        dossier, converted = _as_bds4(dossier)
        version = dossier.bds_version
    reader = _Reader(E.catalogue(normalise_version(version)))
    record = reader.record(dossier, key)
    unread = reader.unread + converted
    # What the census finds beyond what was read or counted was passed over: count it too.
    unread.update(valued_elements(dossier) - (record.element_counts() + unread))
    return record, unread


def _as_bds4(dossier: m.Dossier) -> tuple[m.Dossier, Counter[int]]:
    """A BDS 3.2 dossier as BDS 4.1.3, and the elements the conversion dropped.

    BDS 3.2 codes and structures differ from 4.x (dossier status, consents, care status...),
    and every vendor mapping and builder speaks BDS 4: the version converter, which follows
    Nictiz's 3.2.7 → 4.0 conversion, is the one place that knows the differences.
    """
    from ..standards.convert import convert

    converted, report = convert(dossier, "4.1.3")
    dropped: Counter[int] = Counter(int(c.element) for c in report.dropped if c.element and c.element.isdecimal())
    return converted, dropped
