"""BDS 3.2.7 (REPC_IN902120NL) ↔ BDS 4.0 (REPC_IN902120NL03).

The rules follow what Nictiz's ``dob-327-to-400.xsl`` does to the published 3.2.7 test
message (``ada/hl7/DOB-3.0.0-test-hl7-bds327.xml`` → ``…-bds327-bds400.xml``), the
differences between the REPC_MT902000NL and NL03 schemas, the DOB v03 templates, and
the BDS 3.2.6/4.0.2 lists. Going down applies the inverse of each rule. Where the 4.0
templates require something the published converter leaves invalid, the rule makes the
output valid and says so in the report (rule ids ending in ``-VALID``).
"""

from __future__ import annotations

from lxml import etree

from ..catalogue import ELEMENT_CS, GROEP_CS
from ..xmlsafe import local
from . import versions
from .common import (
    ENCOUNTER_ORDER, H, XSI_TYPE, Step, activities, activity_codes, bds_flavour_to_hl7, cluster_code, clusters,
    code_el, dossier, element_number, kids, make, move_unsupported, observations, place, place_in_order, prune,
    q, remove, render, rename_interaction, replace_with_comment, update_display_names,
)

ROLE_CS = "2.16.840.1.113883.5.111"
ACT_CODE_CS = "2.16.840.1.113883.2.4.4.40.309"  # W0191 Toelichting niet verschenen
STATUS_CS = "2.16.840.1.113883.2.4.4.40.434"  # W0690 Status activiteit
DOCUMENT_CS = "2.16.840.1.113883.2.4.4.40.303"  # W0084 Soort toegevoegd bestand
PAYLOAD_TEMPLATE = "2.16.840.1.113883.2.4.6.10.100.10000"
PAYLOAD_TEMPLATE_400 = "2020-05-27T00:00:00"
ORG_TEMPLATE = "2.16.840.1.113883.2.4.6.10.100.122"

#: Toelichting niet verschenen (W0191) → Status activiteit (W0690), and back.
ABORTED_TO_STATUS = {"01": "03", "02": "02", "03": "07"}
STATUS_TO_ABORTED = {"02": "02", "03": "01", "04": "01", "05": "01", "06": "01", "07": "03"}

CPE_ORDER = (
    "realmCode", "typeId", "templateId", "id", "code", "statusCode", "effectiveTime", "subject", "responsibleParty",
    "author", "appendage", "authorization", "summary", "pertinentInformation", "component1", "component2",
    "component3", "component4", "component5", "component6", "component7", "subjectOf",
)
CONSENT_ORDER = ("realmCode", "typeId", "templateId", "id", "code", "effectiveTime", "author", "consultant", "subjectOf")
VACCINATION_NL04_ONLY = ("location", "limitation")


# ======================================================================= 3.2.7 → 4.0


def up(step: Step) -> None:
    update_display_names(step)
    rename_interaction(step, versions.INTERACTION["4.0"])
    _payload_template(step)
    _citizen_code_dropped(step)
    _care_status_authors_up(step)
    for consent in _consents(step):
        _consent_up(step, consent)
    _annotations_up(step)
    _information_act(step, "476", ELEMENT_CS, "G088", GROEP_CS)
    activity_codes(step)
    for act in activities(step.root):
        _non_encounter_up(step, act)
        _consultant_up(step, act)
        _status_up(step, act)
        _non_bds_up(step, act)
        _vaccinations_up(step, act)
    _non_bds_up(step, dossier(step.root))
    _bfmt_scan(step)
    move_unsupported(step, versions.carried("4.0"), "non-bds")
    bds_flavour_to_hl7(step)


def _payload_template(step: Step) -> None:
    """The payload template gets its 4.0 version (``extension="2020-05-27T00:00:00"``)."""
    for tpl in step.root.iterfind(f"{H}ControlActProcess/{H}subject/{H}CareProvisionRequest/{H}templateId"):
        if tpl.get("root") == PAYLOAD_TEMPLATE and tpl.get("extension") is None:
            step.log("changed", "CONV-PAYLOAD-TEMPLATE", tpl, "payload template 10000 in its BDS 4.0 version",
                     new=PAYLOAD_TEMPLATE_400)
            tpl.set("extension", PAYLOAD_TEMPLATE_400)


def _citizen_code_dropped(step: Step) -> None:
    """``asCitizen/code`` (RoleCode CN "national") has no place in the 4.0 patient template."""
    for code in step.root.iterfind(f".//{H}patientPerson/{H}asCitizen/{H}code"):
        step.log("dropped", "CONV-CITIZEN-CODE", code, "asCitizen/code is not part of the BDS 4.0 patient template",
                 old=code.get("code"))
        remove(code)


def _care_status_authors_up(step: Step) -> None:
    """careStatus/author (required in NL, absent in NL03) moves to the dossier's authors."""
    event = dossier(step.root)
    if event is None:
        return
    moved = []
    for status in event.iterfind(f"{H}subjectOf/{H}careStatus"):
        for author in status.findall(q("author")):
            step.log("moved", "CONV-CARESTATUS-AUTHOR", author,
                     "careStatus has no author in BDS 4.0: the author becomes one of the dossier's authors")
            remove(author)
            moved.append(author)
    first = event.find(q("author"))
    for author in moved:
        author.tail = None
        if first is not None:
            place(event, event.index(first), author)
        else:
            place_in_order(event, author, CPE_ORDER)


def _consents(step: Step) -> list[etree._Element]:
    event = dossier(step.root)
    return event.findall(f"{H}authorization/{H}consentEvent") if event is not None else []


def _consent_up(step: Step, consent: etree._Element) -> None:
    author = consent.find(q("author"))
    if author is not None:
        time = author.find(q("time"))
        if time is not None and (time.find(q("low")) is not None or time.find(q("high")) is not None):
            low, high = time.find(q("low")), time.find(q("high"))
            step.log("changed", "CONV-CONSENT-PERIOD", consent,
                     "the consent's period: start stays the author's time, end becomes the consent's effectiveTime/high")
            new_time = make("time", {"value": low.get("value")} if low is not None and low.get("value") else {"nullFlavor": "UNK"})
            new_time.tail = time.tail
            author.replace(time, new_time)
            if high is not None:
                place_in_order(consent, make("effectiveTime", None, make("high", dict(high.attrib))), CONSENT_ORDER)
        _consent_author_up(step, author)
    for annotation in consent.findall(f"{H}subjectOf/{H}annotation"):
        code = annotation.find(q("code"))
        if code is not None and code.get("code") == "1537-1541":
            _rvp_consent_up(step, consent, annotation, code, annotation.find(q("text")))


def _annotations_up(step: Step) -> None:
    """An annotation has ``text`` (ST) in 3.2.7 and ``value`` (ANY) in 4.0 (REPC_MT902000
    Annotation). Nictiz's converter leaves the text, which the NL03 schema rejects; the
    gateway moves it to an ST value."""
    event = dossier(step.root)
    for annotation in event.iter(q("annotation")) if event is not None else ():
        text = annotation.find(q("text"))
        if text is None or annotation.find(q("value")) is not None:
            continue
        code = annotation.find(q("code"))
        value = make("value", {"xsi:type": "ST"}, text=text.text) if text.text else make(
            "value", {"xsi:type": "ST", "nullFlavor": "NI"})
        value.tail = text.tail
        annotation.replace(text, value)
        step.log("changed", "CONV-ANNOTATION-VALUE-VALID", annotation,
                 "annotation text becomes value (BDS 4.0 annotation has a value, not a text)",
                 element=code.get("code") if code is not None else None)


def _consent_author_up(step: Step, author: etree._Element) -> None:
    """The consent's source is a responsibleParty in 4.0 (code = who, agentPerson = name)."""
    for role in kids(author):
        name = local(role)
        if name == "personalRelationship":
            party = make("responsibleParty", {"classCode": "CON"})
            code = role.find(q("code"))
            if code is not None:
                party.append(_detached(code))
            holder = role.find(q("relationshipHolder"))
            names = holder.findall(q("name")) if holder is not None else []
            person = make("agentPerson")
            for n in names or [make("name", {"nullFlavor": "NI"})]:
                person.append(_detached(n))
            party.append(person)
        elif name == "patient1":
            party = make("responsibleParty", {"classCode": "CON"},
                         code_el("code", "ONESELF", ROLE_CS, "Self"),
                         make("agentPerson", None, make("name", text=_patient_name(step)) if _patient_name(step)
                              else make("name", {"nullFlavor": "NI"})))
        elif name == "responsibleParty":
            person = role.find(q("agentPerson"))
            if person is None or not person.attrib:
                continue
            step.log("changed", "CONV-CONSENT-SOURCE", role, "agentPerson in the BDS 4.0 form")
            new_person = make("agentPerson")
            for n in person.findall(q("name")):  # as the 327→400 converter writes it: text only
                new_person.append(make("name", text="".join(n.itertext()) or None))
            new_person.tail = person.tail
            role.replace(person, new_person)
            continue
        else:
            continue
        step.log("changed", "CONV-CONSENT-SOURCE", author, f"consent source {name} becomes a responsibleParty in BDS 4.0",
                 old=name, new="responsibleParty")
        party.tail = role.tail
        author.replace(role, party)
        etree.indent(party, space="   ", level=max(0, len(list(party.iterancestors()))))


def _patient_name(step: Step) -> str | None:
    person = step.root.find(f".//{H}subject/{H}patient/{H}patientPerson")
    name = person.find(q("name")) if person is not None else None
    if name is None:
        return None
    parts = [t.strip() for t in name.itertext() if t.strip()]
    return " ".join(parts) or None


def _rvp_consent_up(step, consent, annotation, code, text) -> None:
    """3.2.7 packs 1541 (toestemmingswijze) and 1537 (naam JGZ-medewerker) into one
    annotation "1537-1541" as ``wijze||naam``; 4.0 has annotation 1541 and a consultant."""
    raw = text.text if text is not None and text.text else ""
    wijze, _, naam = raw.partition("||")
    step.log("changed", "CONV-RVP-CONSENT", annotation,
             "annotation 1537-1541 splits into annotation 1541 (toestemmingswijze) and consultant 1537 (naam JGZ-medewerker)",
             element="1541", old=raw)
    code.set("code", "1541")
    code.set("displayName", step.dst.display_name(1541, ELEMENT_CS) or "Toestemmingswijze gegevensuitwisseling RVP")
    if wijze in ("", "OTH", "NI", "UNK"):
        value = make("value", {"xsi:type": "CV", "nullFlavor": wijze or "NI"}, make("originalText"))
    else:
        vs = step.dst.valueset(step.dst.element(1541).valueset) if step.dst.element(1541) and step.dst.element(1541).valueset else None
        hl7 = vs.bds_to_hl7(wijze) if vs else None
        value = make("value", {"xsi:type": "CV", "code": hl7.code if hl7 else wijze,
                               **({"codeSystem": hl7.code_system} if hl7 else {}),
                               **({"displayName": hl7.display} if hl7 and hl7.display else {})})
    if text is not None:
        value.tail = text.tail
        annotation.replace(text, value)
    else:
        place(annotation, len(annotation), value)
    if naam:
        consultant = make("consultant", {"typeCode": "CON"}, make(
            "assignedEntity1", {"classCode": "ASSIGNED"},
            make("assignedPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"}, make("name", text=naam))))
        place_in_order(consent, consultant, CONSENT_ORDER)


def _information_act(step: Step, old: str, old_cs: str, new: str, new_cs: str) -> None:
    """component6/informationControlActEvent: coded 476 in 3.2.7, G088 (Afschrift JGZ-dossier
    verstrekt) in 4.0 (327→400 example)."""
    event = dossier(step.root)
    if event is None:
        return
    for code in event.iterfind(f"{H}component6/{H}informationControlActEvent/{H}code"):
        if code.get("code") == old and code.get("codeSystem") == old_cs:
            display = step.dst.display_name(new, new_cs)
            step.log("changed", "CONV-INFORMATION-ACT", code, f"information act coded {new} in BDS {step.target}",
                     element=new, old=old, new=new)
            code.set("code", new)
            code.set("codeSystem", new_cs)
            if display:
                code.set("displayName", display)
            elif "displayName" in code.attrib:
                del code.attrib["displayName"]


def _consultant_up(step: Step, act: etree._Element) -> None:
    """A consultant's name travels as ``code/originalText`` (nullFlavor OTH) in 3.2.7 and as
    ``assignedPerson/name`` in 4.0."""
    for entity in act.iterfind(f"{H}consultant/{H}assignedEntity"):
        code = entity.find(q("code"))
        if code is None or code.get("nullFlavor") != "OTH" or code.find(q("originalText")) is None:
            continue
        if entity.find(q("assignedPerson")) is not None:
            continue
        name = code.find(q("originalText")).text
        step.log("changed", "CONV-CONSULTANT-NAME", entity, "consultant name moves to assignedPerson/name", old=name)
        person = make("assignedPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"}, make("name", text=name))
        person.tail = code.tail
        entity.replace(code, person)


def _status_up(step: Step, act: etree._Element) -> None:
    """Status activiteit (1605, R018) is required in 4.0; 3.2.7 says it with statusCode and abortedEvent.

    W0191 01/02/03 (niet verschenen met/zonder bericht, afgezegd door JGZ) → W0690 03/02/07;
    completed → 01 Gerealiseerd; otherwise 08 niet nader gespecificeerd. A performed
    (EVN) encounter that did not happen is ``aborted`` in 4.0 (``cancelled`` in 3.2.7); a
    planned (INT) one keeps ``cancelled`` and loses its abortedEvent, which 4.0 allows on
    performed encounters only.
    """
    if act.tag != H + "encounter":
        return
    status = act.find(q("statusCode"))
    mood = act.get("moodCode")
    subject = act.find(q("subjectOf"))
    aborted = subject.find(q("abortedEvent")) if subject is not None else None
    reason = aborted.find(q("reasonCode")) if aborted is not None else None
    if reason is not None and reason.get("code") in ABORTED_TO_STATUS:
        value = ABORTED_TO_STATUS[reason.get("code")]
    elif status is not None and status.get("code") == "completed":
        value = "01"
    else:
        value = "08"
    if mood == "EVN" and status is not None and status.get("code") == "cancelled":
        step.log("changed", "CONV-ENCOUNTER-STATUS", status, "a performed activity that did not happen is 'aborted' in BDS 4.0",
                 old="cancelled", new="aborted")
        status.set("code", "aborted")
    if mood == "INT" and subject is not None and aborted is not None:
        step.log("moved", "CONV-ABORTED-EVENT", subject,
                 "Toelichting niet verschenen (495) of a planned activity becomes Status activiteit (1605)",
                 element="495", old=reason.get("code") if reason is not None else None, new=value)
        remove(subject)
    existing = [c for c in clusters(act) if cluster_code(c) == "R018"]
    if any(element_number(o) == 1605 for c in existing for o in observations(c)):
        return
    vs = step.dst.valueset("W0690")
    display = next((c.hl7.display for c in vs.concepts if c.hl7 and c.hl7.code == value), None) if vs else None
    observation = make("observation", {"negationInd": "false"},
                       make("templateId", {"root": versions.catalogue("4.1.3").element(1605).template_id}),
                       code_el("code", "1605", ELEMENT_CS, step.dst.display_name(1605, ELEMENT_CS)),
                       make("value", {"xsi:type": "CV", "code": value, "codeSystem": STATUS_CS,
                                      **({"displayName": display} if display else {})}))
    component = make("component", None, observation)
    if existing:
        place(existing[0], len(existing[0]), component)
        where = existing[0]
    else:
        rubriek = step.dst.rubriek("R018")
        cluster = make("rubricCluster", None, make("templateId", {"root": rubriek.template_id or "2.16.840.1.113883.2.4.6.10.100.11018"}),
                       make("code", {"code": "R018", "displayName": rubriek.name or "Activiteit",
                                     "codeSystem": "2.16.840.1.113883.2.4.4.40.391"}),
                       component)
        first = act.find(q("pertinentInformation"))
        wrapper = make("pertinentInformation", None, cluster)
        if first is not None:
            place(act, act.index(first), wrapper)
        else:
            place_in_order(act, wrapper, ENCOUNTER_ORDER)
        where = act
    step.log("added", "CONV-STATUS-ACTIVITEIT", where, f"Status activiteit (1605) = {value} {display or ''}".strip(),
             element="1605", new=value)


def _non_encounter_up(step: Step, act: etree._Element) -> None:
    """A nonEncounterCareActivity (3.2.7) is a registrationEvent in 4.0."""
    if act.tag != H + "nonEncounterCareActivity":
        return
    step.log("changed", "CONV-REGISTRATION", act, "nonEncounterCareActivity becomes registrationEvent",
             old="nonEncounterCareActivity", new="registrationEvent")
    act.tag = q("registrationEvent")
    if act.get("classCode") is not None:
        act.set("classCode", "REG")


def _non_bds_up(step: Step, holder: etree._Element | None) -> None:
    """3.2.7 nonBDSData has ``value`` (ST); 4.0 has ``text`` with an optional ``value``."""
    if holder is None:
        return
    for item in holder.iterfind(f"{H}component1/{H}nonBDSData"):
        value = item.find(q("value"))
        if value is None or item.find(q("text")) is not None:
            continue
        text = make("text", text=render(value))
        text.tail = value.tail
        step.log("changed", "CONV-NONBDS-TEXT", item, "non-BDS answer moves from value to text")
        item.replace(value, text)


def _vaccinations_up(step: Step, act: etree._Element) -> None:
    """component3/substanceAdministrationEvent (COCT_MT900916NL02) is substanceAdministration
    (COCT_MT900916NL04) in 4.0."""
    for comp in act.findall(q("component3")):
        for sa in comp.findall(q("substanceAdministrationEvent")):
            step.log("changed", "CONV-VACCINATION", sa, "substanceAdministrationEvent becomes substanceAdministration",
                     element="G076")
            sa.tag = q("substanceAdministration")
            if sa.get("moodCode") is None:
                sa.set("moodCode", "EVN")


def _bfmt_scan(step: Step) -> None:
    """Element 1006 (Scan van oefeningenblad) may not sit in R043 in 4.0 (rule TC02833): it
    is an attached document (R009, W0084 code 02). An empty scan has nothing to attach."""
    event = dossier(step.root)
    for act in activities(step.root):
        for cluster in clusters(act):
            if cluster_code(cluster) != "R043":
                continue
            for obs in list(observations(cluster)):
                if element_number(obs) != 1006:
                    continue
                value = obs.find(q("value"))
                holder = obs.getparent().getparent()
                if value is None or (not (value.text or "").strip() and not len(value)):
                    step.log("dropped", "CONV-BFMT-SCAN-VALID", obs,
                             "empty Scan van oefeningenblad: BDS 4.0 carries scans as attached documents (R009)",
                             element="1006")
                    replace_with_comment(obs.getparent(), "element 1006 Scan van oefeningenblad (leeg) is vervallen")
                else:
                    step.log("moved", "CONV-BFMT-SCAN-VALID", obs,
                             "Scan van oefeningenblad becomes an attached document (R009, W0084 02)", element="1006")
                    text = _detached(value)
                    text.tag = q("text")
                    text.attrib.pop(XSI_TYPE, None)
                    vs = step.dst.valueset("W0084")
                    display = vs.bds_to_hl7("02").display if vs and vs.bds_to_hl7("02") else None
                    document = make("appendage", {"typeCode": "APND"}, make(
                        "document", {"classCode": "DOC", "moodCode": "EVN"},
                        code_el("code", "02", DOCUMENT_CS, display), text))
                    effective = act.find(q("effectiveTime"))
                    if effective is not None and effective.get("value"):
                        document[0].append(make("effectiveTime", {"value": effective.get("value")}))
                    replace_with_comment(obs.getparent(), "element 1006 Scan van oefeningenblad is verplaatst naar Externe documenten")
                    place_in_order(event, document, CPE_ORDER)
                prune(step, holder)


def _detached(el: etree._Element) -> etree._Element:
    from copy import deepcopy

    new = deepcopy(el)
    new.tail = None
    return new


# ======================================================================= 4.0 → 3.2.7


def down(step: Step) -> None:
    update_display_names(step)
    rename_interaction(step, versions.INTERACTION["3.2.7"])
    _payload_template_down(step)
    _citizen_code_added(step)
    _care_status_authors_down(step)
    for consent in _consents(step):
        _consent_down(step, consent)
    _information_act(step, "G088", GROEP_CS, "476", ELEMENT_CS)
    activity_codes(step)
    for act in activities(step.root):
        _status_down(step, act)
        _single_participants(step, act)
        _consultant_down(step, act)
        _vaccinations_down(step, act)
        _non_bds_down(step, act)
        _registration_down(step, act)
        _annotations_down(step, act)
    _non_bds_down(step, dossier(step.root))
    move_unsupported(step, versions.carried("3.2.7"), "non-bds", nl_target=True)


def _payload_template_down(step: Step) -> None:
    for tpl in step.root.iterfind(f"{H}ControlActProcess/{H}subject/{H}CareProvisionRequest/{H}templateId"):
        if tpl.get("root") == PAYLOAD_TEMPLATE and tpl.get("extension") is not None:
            step.log("changed", "CONV-PAYLOAD-TEMPLATE", tpl, "payload template 10000 without the BDS 4.0 version",
                     old=tpl.get("extension"))
            del tpl.attrib["extension"]


def _citizen_code_added(step: Step) -> None:
    """The 3.2.7 patient's nationality carries RoleCode CN (national) as ``asCitizen/code``."""
    for citizen in step.root.iterfind(f".//{H}patientPerson/{H}asCitizen"):
        if citizen.find(q("code")) is None:
            step.log("added", "CONV-CITIZEN-CODE", citizen, "asCitizen/code CN (national), as in BDS 3.2.7 messages",
                     new="CN")
            place(citizen, 0, code_el("code", "CN", ROLE_CS, "national"))


def _placeholder(author: etree._Element) -> bool:
    """An author that says nothing: unknown time, an organisation without id (template 122)."""
    time = author.find(q("time"))
    entity = author.find(q("assignedEntity"))
    if time is None or time.get("nullFlavor") is None or entity is None:
        return False
    ids = entity.findall(q("id"))
    others = [c for c in kids(entity) if local(c) not in ("templateId", "id")]
    return not others and ids and all(i.get("nullFlavor") for i in ids)


def _care_status_authors_down(step: Step) -> None:
    """careStatus/author is required in 3.2.7: the dossier's authors that 327→400 moved
    up (those without any data) go back; otherwise an unknown author is added."""
    event = dossier(step.root)
    if event is None:
        return
    spare = [a for a in event.findall(q("author")) if _placeholder(a)]
    if len(spare) >= len(event.findall(q("author"))):
        spare = spare[1:]  # the dossier keeps at least one author
    for status in event.iterfind(f"{H}subjectOf/{H}careStatus"):
        if status.find(q("author")) is not None:
            continue
        if spare:
            author = spare.pop(0)
            step.log("moved", "CONV-CARESTATUS-AUTHOR", author, "author without data goes back to careStatus/author")
            remove(author)
            author.tail = None
        else:
            author = make("author", None, make("time", {"nullFlavor": "UNK"}), make(
                "assignedEntity", {"classCode": "ASSIGNED"}, make("templateId", {"root": ORG_TEMPLATE}),
                make("id", {"nullFlavor": "NI"})))
            step.log("added", "CONV-CARESTATUS-AUTHOR", status, "careStatus/author is required in BDS 3.2.7: unknown author")
        place(status, len(status), author)


def _consent_down(step: Step, consent: etree._Element) -> None:
    author = consent.find(q("author"))
    effective = consent.find(q("effectiveTime"))
    if effective is not None:
        high = effective.find(q("high"))
        time = author.find(q("time")) if author is not None else None
        step.log("changed", "CONV-CONSENT-PERIOD", consent, "the consent's end date becomes the end of the author's time")
        if author is not None:
            period = make("time")
            if time is not None and time.get("value"):
                period.append(make("low", {"value": time.get("value")}))
            elif time is not None and len(time):
                period.extend(_detached(c) for c in kids(time) if local(c) == "low")
            if high is not None:
                period.append(make("high", dict(high.attrib)))
            if time is not None:
                period.tail = time.tail
                author.replace(time, period)
            else:
                place(author, 0, period)
            etree.indent(period, space="   ", level=len(list(period.iterancestors())))
        remove(effective)
    consultants = consent.findall(q("consultant"))
    naam = None
    for consultant in consultants:
        name = consultant.find(f"{H}assignedEntity1/{H}assignedPerson/{H}name")
        if naam is None and name is not None and name.text:
            naam = name.text
        rest = [c for c in consultant.iter() if isinstance(c.tag, str) and c is not consultant
                and local(c) not in ("assignedEntity1", "assignedPerson", "name")]
        if rest or naam is None:
            step.log("dropped", "CONV-RVP-CONSENT", consultant,
                     "BDS 3.2.7 has no consultant on a consent: only the JGZ-medewerker's name (1537) is kept",
                     element="1537")
        remove(consultant)
    for annotation in consent.findall(f"{H}subjectOf/{H}annotation"):
        code = annotation.find(q("code"))
        value = annotation.find(q("value"))
        if code is not None and code.get("code") == "1541":
            wijze = value.get("code") or value.get("nullFlavor") or "" if value is not None else ""
            text = make("text", text=f"{wijze}||{naam or ''}")
            step.log("changed", "CONV-RVP-CONSENT", annotation,
                     "annotation 1541 and consultant 1537 join as annotation 1537-1541 'wijze||naam'", element="1541")
            code.set("code", "1537-1541")
            code.set("displayName", "Toestemmingswijze + Naam JGZ-medewerker toestemming gegevensuitwisseling RVP")
            naam = None
        else:
            continue
        if value is not None:
            text.tail = value.tail
            annotation.replace(value, text)
        else:
            place(annotation, len(annotation), text)
    if naam:
        subject = make("subjectOf", None, make("annotation", None, code_el(
            "code", "1537-1541", ELEMENT_CS, "Toestemmingswijze + Naam JGZ-medewerker toestemming gegevensuitwisseling RVP"),
            make("text", text=f"||{naam}")))
        place_in_order(consent, subject, CONSENT_ORDER)
    _annotations_down(step, consent)
    extra = consent.findall(f"{H}subjectOf")
    for subject in extra[1:]:  # 3.2.7 allows one annotation per consent
        step.log("dropped", "CONV-CONSENT-ANNOTATION", subject, "BDS 3.2.7 allows one annotation per consent")
        remove(subject)


def _annotations_down(step: Step, holder: etree._Element) -> None:
    """Annotation ``value`` (4.0) becomes ``text`` (ST, 3.2.7)."""
    for annotation in holder.iter(q("annotation")):
        value = annotation.find(q("value"))
        if value is None or annotation.find(q("text")) is not None:
            continue
        code = annotation.find(q("code"))
        empty = value.get("nullFlavor") is not None and not value.get("code") and not "".join(value.itertext())
        text = make("text", text=None if empty else render(value))
        text.tail = value.tail
        annotation.replace(value, text)
        step.log("changed", "CONV-ANNOTATION-TEXT", annotation, "annotation value becomes text (BDS 3.2.7)",
                 element=code.get("code") if code is not None else None)


def _status_down(step: Step, act: etree._Element) -> None:
    """Status activiteit (1605) becomes statusCode and abortedEvent again (inverse of up)."""
    if act.tag != H + "encounter":
        return
    status = act.find(q("statusCode"))
    if status is not None and status.get("code") == "aborted":
        step.log("changed", "CONV-ENCOUNTER-STATUS", status, "'aborted' is 'cancelled' in BDS 3.2.7",
                 old="aborted", new="cancelled")
        status.set("code", "cancelled")
    for cluster in clusters(act):
        if cluster_code(cluster) != "R018":
            continue
        for obs in list(observations(cluster)):
            if element_number(obs) != 1605:
                continue
            value = obs.find(q("value"))
            code = value.get("code") if value is not None else None
            reason = STATUS_TO_ABORTED.get(code)
            holder = obs.getparent().getparent()
            if reason and act.find(f"{H}subjectOf/{H}abortedEvent") is None:
                step.log("moved", "CONV-STATUS-ACTIVITEIT", obs,
                         f"Status activiteit {code} becomes Toelichting niet verschenen (495) {reason}",
                         element="1605", old=code, new=reason)
                vs = versions.catalogue("4.1.3").valueset("W0191")
                display = next((c.hl7.display for c in vs.concepts if c.hl7 and c.hl7.code == reason), None) if vs else None
                aborted = make("subjectOf", {"typeCode": "SUBJ"}, make(
                    "abortedEvent", {"classCode": "STC", "moodCode": "EVN"},
                    code_el("code", "495", ELEMENT_CS, step.dst.display_name(495, ELEMENT_CS)),
                    make("reasonCode", {"code": reason, "codeSystem": ACT_CODE_CS, **({"displayName": display} if display else {})})))
                place_in_order(act, aborted, ENCOUNTER_ORDER)
            else:
                said = "the statusCode says it" if code == "01" or reason else "BDS 3.2.7 has no counterpart"
                step.log("dropped", "CONV-STATUS-ACTIVITEIT", obs, f"Status activiteit {code}: {said}",
                         element="1605", old=code)
            remove(obs.getparent())
            prune(step, holder)


def _single_participants(step: Step, act: etree._Element) -> None:
    """3.2.7 allows one performer and one consultant per activity."""
    for name in ("performer", "consultant"):
        for extra in act.findall(q(name))[1:]:
            step.log("dropped", "CONV-PARTICIPANT", extra, f"BDS 3.2.7 allows one {name} per activity")
            remove(extra)


def _consultant_down(step: Step, act: etree._Element) -> None:
    for entity in act.iterfind(f"{H}consultant/{H}assignedEntity"):
        person = entity.find(q("assignedPerson"))
        if person is None or entity.find(q("code")) is not None:
            continue
        name = person.find(q("name"))
        text = "".join(name.itertext()).strip() if name is not None else ""
        step.log("changed", "CONV-CONSULTANT-NAME", entity, "consultant name moves to code/originalText (nullFlavor OTH)",
                 old=text)
        code = make("code", {"nullFlavor": "OTH"}, make("originalText", text=text))
        code.tail = person.tail
        entity.replace(person, code)


def _vaccinations_down(step: Step, act: etree._Element) -> None:
    for comp in act.findall(q("component3")):
        for sa in comp.findall(q("substanceAdministration")):
            if sa.get("moodCode") not in (None, "EVN"):
                step.log("dropped", "CONV-VACCINATION", sa, "BDS 3.2.7 carries only administered vaccinations",
                         element="G076", old=sa.get("moodCode"))
                remove(comp)
                break
            step.log("changed", "CONV-VACCINATION", sa, "substanceAdministration becomes substanceAdministrationEvent",
                     element="G076")
            sa.tag = q("substanceAdministrationEvent")
            for name in VACCINATION_NL04_ONLY:
                for extra in sa.findall(q(name)):
                    step.log("dropped", "CONV-VACCINATION", extra, f"BDS 3.2.7 vaccinations have no {name}", element="G076")
                    remove(extra)
            if sa.find(q("effectiveTime")) is None:
                step.log("added", "CONV-VACCINATION", sa, "vaccination date is required in BDS 3.2.7: unknown", element="1409")
                anchor = sa.find(q("code"))
                place(sa, sa.index(anchor) + 1 if anchor is not None else 0, make("effectiveTime", {"nullFlavor": "UNK"}))
            for person in sa.iterfind(f".//{H}adverseReaction//{H}performer/{H}assignedPerson"):
                for extra in kids(person)[1:]:
                    step.log("dropped", "CONV-VACCINATION", extra,
                             "the 3.2.7 reaction reporter is one id only", element="876")
                    remove(extra)


def _non_bds_down(step: Step, holder: etree._Element | None) -> None:
    """4.0 nonBDSData (text + value) and metaData become the 3.2.7 form (value)."""
    if holder is None:
        return
    for item in holder.iterfind(f"{H}component1/{H}nonBDSData"):
        text = item.find(q("text"))
        value = item.find(q("value"))
        if text is None:
            continue
        answer = "".join(text.itertext()) or render(value)
        step.log("changed", "CONV-NONBDS-TEXT", item, "non-BDS answer moves from text to value (ST)")
        new = make("value", {"xsi:type": "ST"}, text=answer)
        new.tail = text.tail
        item.replace(text, new)
        if value is not None:
            remove(value)
    for item in holder.iterfind(f"{H}component2/{H}metaData"):
        text = item.find(q("text"))
        if text is None:
            continue
        step.log("changed", "CONV-METADATA", item, "BDS 3.2.7 metaData has a value only")
        if item.find(q("value")) is None:
            new = make("value", {"xsi:type": "ST"}, text="".join(text.itertext()))
            new.tail = text.tail
            item.replace(text, new)
        else:
            remove(text)


def _registration_down(step: Step, act: etree._Element) -> None:
    if act.tag != H + "registrationEvent":
        return
    step.log("changed", "CONV-REGISTRATION", act, "registrationEvent becomes nonEncounterCareActivity",
             old="registrationEvent", new="nonEncounterCareActivity")
    act.tag = q("nonEncounterCareActivity")
    if act.get("classCode") is not None:
        act.set("classCode", "PCPR")
