"""A FHIR Bundle in the gateway's view (see :mod:`.view`) back into the canonical model.

The inverse of the view for everything it maps: the Bundle from the rebuilt dossier
equals the Bundle read. Message details the view does not carry (wrapper ids, template
ids, performers of activities...) are not invented; the dossier is as complete as the
Bundle is.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

from .. import model as m
from .. import careplans, heelprick, items, perinatal
from ..catalogue import UnknownVersion, normalise_version
from ..hl7v3.message import INTERACTIONS
from . import terms as t


class FhirError(ValueError):
    """The JSON is not a Bundle this gateway can read; ``where`` locates the problem."""

    def __init__(self, message: str, where: str = "Bundle"):
        super().__init__(f"{where}: {message}")
        self.message, self.where = message, where


def node(name: str, attrs: dict | None = None, *children: m.Node, text: str | None = None) -> m.Node:
    return m.Node(name=name, attrs={k: v for k, v in (attrs or {}).items() if v is not None},
                  children=list(children), text=text)


def read_bundle(bundle: dict) -> m.Dossier:
    return read_bundle_report(bundle)[0]


#: A RESTful fullUrl or reference: ``[base/]Type/id[/_history/version]``.
_RESTFUL = re.compile(r"^(?:(?P<base>.*)/)?(?P<key>[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def resolved_references(bundle: dict) -> dict:
    """The Bundle with every reference that names one of its entries written as that entry's
    fullUrl, as FHIR resolves references in a Bundle: an absolute URL or URN as it stands, a
    relative one (``Encounter/12``) against the base of the referring entry's RESTful fullUrl.
    Our view writes ``urn:uuid`` references; a FHIR server returns the same Bundle with
    ``https://…/Encounter/12`` fullUrls and relative references. Where no base applies (a
    ``urn:uuid`` fullUrl), a relative ``Type/id`` names the one entry of that type and id. A
    reference naming no entry, or several, is left as it is (and read as before). Only entries
    with a reference to resolve are copied; a Bundle that has none is returned as it is."""
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    urls: set[str] = set()
    by_key: dict[str, set[str]] = {}
    for e in entries:
        res = e["resource"]
        url = e.get("fullUrl") or f"{res.get('resourceType')}/{res.get('id')}"
        urls.add(url)
        if res.get("id"):
            by_key.setdefault(f"{res.get('resourceType')}/{res['id']}", set()).add(url)

    def resolve(ref: str, base: str | None) -> str:
        if ref in urls or ref.startswith("#"):
            return ref
        found = _RESTFUL.match(ref)
        if found is None or found["base"] is not None:  # not a relative reference
            return ref
        if base is not None and f"{base}/{found['key']}" in urls:
            return f"{base}/{found['key']}"
        targets = by_key.get(found["key"], ())
        return next(iter(targets)) if len(targets) == 1 else ref

    def rebuilt(item, base: str | None):
        if isinstance(item, dict):
            return {k: resolve(v, base) if k == "reference" and isinstance(v, str) else rebuilt(v, base)
                    for k, v in item.items()}
        if isinstance(item, list):
            return [rebuilt(x, base) for x in item]
        return item

    def unresolved(item) -> bool:
        """Holds a reference that is neither an entry's fullUrl nor local (``#id``)?"""
        if isinstance(item, dict):
            return any((v not in urls and not v.startswith("#")) if k == "reference" and isinstance(v, str)
                       else unresolved(v) for k, v in item.items())
        return isinstance(item, list) and any(unresolved(x) for x in item)

    entries, copied = [], False
    for e in bundle.get("entry") if isinstance(bundle.get("entry"), list) else ():
        if isinstance(e, dict) and unresolved(e):  # only these are copied: the view's own Bundles have none
            full = _RESTFUL.match(e.get("fullUrl") or "")
            e, copied = rebuilt(e, full["base"] if full else None), True
        entries.append(e)
    return {**bundle, "entry": entries} if copied else bundle


#: The resource types the reader takes the dossier from (the view writes no others).
READ_TYPES = frozenset({"Patient", "RelatedPerson", "Group", "Practitioner", "PractitionerRole", "Organization",
                        "EpisodeOfCare", "Encounter", "Observation", "Immunization", "Consent", "DocumentReference",
                        "Communication"})


def unread_resources(bundle: dict) -> Counter[str]:
    """Per resource type outside :data:`READ_TYPES`, how many the Bundle holds: nothing of
    them reaches the dossier (an AllergyIntolerance, a Composition), and a caller says so."""
    return Counter(e["resource"].get("resourceType") for e in bundle.get("entry") or []
                   if isinstance(e, dict) and isinstance(e.get("resource"), dict)
                   and e["resource"].get("resourceType") not in READ_TYPES)


def read_bundle_report(bundle: dict) -> tuple[m.Dossier, Counter[int]]:
    """The dossier, and per BDS element the values of the Bundle it has no place for: what
    the DOB structures of the pregnancy and newborn, the heel prick and the care groepen
    cannot hold (a second value of a once-only element, an element they lack, an element
    Observation without a value)."""
    unplaced: Counter[int] = Counter()
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirError("expected a FHIR Bundle (resourceType 'Bundle')", "$")
    bundle = resolved_references(bundle)
    entries = bundle.get("entry") or []
    by_url: dict[str, dict] = {}
    kinds: dict[str, list[tuple[str, dict]]] = {}
    for i, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict) or "resourceType" not in res:
            raise FhirError("entry without a resource", f"Bundle.entry[{i}]")
        url = entry.get("fullUrl") or f"{res['resourceType']}/{res.get('id')}"
        by_url[url] = res
        kinds.setdefault(res["resourceType"], []).append((url, res))
    tag = next((c for c in (bundle.get("meta") or {}).get("tag", []) if c.get("system") == t.DOB_TRANSACTION), {})
    interaction = tag.get("code") or "REPC_IN902120NL04"
    version = (tag.get("display") or "BDS 4.2.0").removeprefix("BDS ").strip()
    if interaction not in INTERACTIONS:
        raise FhirError(f"{interaction!r} is not a DOB interaction ({', '.join(INTERACTIONS)})", "Bundle.meta.tag.code")
    try:
        normalise_version(version)
    except UnknownVersion as exc:
        raise FhirError(str(exc), "Bundle.meta.tag.display") from None
    d = m.Dossier(bds_version=version, interaction=interaction, transmission=m.Transmission(interaction=interaction))
    ident = bundle.get("identifier")
    if ident:
        d.ids = [m.II(root=t.oid(ident.get("system")), extension=ident.get("value"))]
    patients = kinds.get("Patient", [])
    if len(patients) != 1:
        raise FhirError(f"expected exactly one Patient, found {len(patients)}")
    # a parent's, a consent's or a school's BDS elements that FHIR has no place for: Observations with that focus
    targets = {url for kind in ("RelatedPerson", "Consent", "Organization") for url, _ in kinds.get(kind, [])}
    about: dict[str, list[dict]] = {}
    focused: set[str] = set()
    for url, res in kinds.get("Observation", []):
        target = next((f.get("reference") for f in res.get("focus", []) if f.get("reference") in targets), None)
        if target is not None:
            about.setdefault(target, []).append(res)
            focused.add(url)
    patient_url = patients[0][0]
    homes = _households(kinds.get("Group", []), patient_url)
    d.patient = _patient(patients[0][1], [(r, about.get(url, []), homes.get(url, [])) for url, r in kinds.get("RelatedPerson", [])])
    d.patient.person.extra += homes.get(patient_url, [])  # the child's own household (asMember, G077)
    around = _around(d.patient, patients[0][1], kinds, by_url, about)  # huisarts, care providers, childcare, school
    responsible = [(res, by_url.get((res.get("managingOrganization") or {}).get("reference"))) for _, res in
                   kinds.get("EpisodeOfCare", []) if _typed(res, "G091")]
    d.extra += [_responsible(res, org) for res, org in responsible if org is not None]
    around |= {(res.get("managingOrganization") or {}).get("reference") for res, _ in responsible}
    orgs = {url: _organisation(r) for url, r in kinds.get("Organization", []) if url not in around}
    d.organisations = list(orgs.values())
    for _, res in kinds.get("EpisodeOfCare", []):  # an organisation's period of care (G098)
        if _typed(res, "G091"):
            continue
        org = orgs.get((res.get("managingOrganization") or {}).get("reference"))
        period = res.get("period") or {}
        if org is not None and (period.get("start") or period.get("end")):
            org.link_extra.append(node("time", {"xsi:type": "IVL_TS"}, *_bounds(period)))
    members = {ref["reference"] for _, r in kinds.get("Observation", []) for ref in r.get("hasMember", [])}
    encounters: dict[str, m.Activity] = {}
    for url, res in kinds.get("Encounter", []):
        encounters[url] = _activity(res)
        d.activities.append(encounters[url])
    observations = kinds.get("Observation", [])
    parts: dict[str, list[dict]] = {}
    for _url, res in observations:
        for ref in res.get("partOf", []):
            parts.setdefault(ref.get("reference"), []).append(res)
    born: list[items.Item] = []
    pricks: dict[str, list[items.Item]] = {}
    for url, res in observations:
        if url in members or res.get("partOf") or url in focused:
            continue
        rubrieken = _categories(res, t.BDS_RUBRIEK)
        encounter = (res.get("encounter") or {}).get("reference")
        if "R051" in rubrieken:
            item = _non_bds(res, [r for r in rubrieken if r != "R051"])
            (encounters[encounter].non_bds if encounter in encounters else d.non_bds).append(item)
        elif encounter in encounters and "R037" in rubrieken:  # the heel prick: assembled below
            pricks.setdefault(encounter, []).extend(_item_of(res, unplaced))
        elif encounter in encounters:
            _place(encounters[encounter], res, rubrieken[0] if rubrieken else None, by_url)
        elif "R050" in rubrieken and _element(res)[0] == 492:  # Samenvatting 0-4: the dossier's summary
            d.extra.append(node("summary", None, _administrative(res, "observationEvent")))
        elif "R050" in rubrieken:
            d.care_statuses.append(_care_status(res))
        elif "R003" in rubrieken and _element(res)[0] in _ON_PERSON:  # custody (631), literacy (707)
            d.patient.person.extra.append(_on_person(res))
        elif "R003" in rubrieken:
            d.patient.extra.append(node("subjectOf1", {"typeCode": "SBJ"}, _administrative(res, "administrativeObservation")))
        elif {"R035", "R048"} & set(rubrieken) and _categories({"category": [res.get("code") or {}]}, t.BDS_GROEP):
            d.extra.append(_care_group(res, by_url, unplaced))
        elif {"R014", "R015", "R016"} & set(rubrieken):  # the pregnancy and the newborn: assembled below
            born.extend(_item_of(res, unplaced))
        elif rubrieken:
            d.extra.append(node("pertinentInformation", None, _administrative(res, "annotationObsEvent")))
        else:
            raise FhirError("an Observation without encounter needs a rubriek (category)", f"Observation/{res.get('id')}")
    nodes, dropped = perinatal.assemble(born)
    d.extra += nodes
    unplaced += dropped
    for encounter, found in pricks.items():
        prick, dropped = heelprick.assemble(found)
        unplaced += dropped
        if prick is not None:
            encounters[encounter].extra.append(prick)
    for url, res in kinds.get("Immunization", []):
        encounter = (res.get("encounter") or {}).get("reference")
        if encounter not in encounters:
            raise FhirError("Immunization without the Encounter of its activity", f"Immunization/{res.get('id')}")
        encounters[encounter].vaccinations.append(_vaccination(res, parts.get(url, [])))
    for _, res in [x for x in kinds.get("EpisodeOfCare", []) if "managingOrganization" not in x[1]][:1]:
        status = t.EPISODE_STATUS_BACK.get(res.get("status"))
        if status:
            d.status_code = m.Coded(code=status, code_system=t.ACT_STATUS)
    for url, res in kinds.get("Consent", []):
        d.consents.append(_consent(res, about.get(url, [])))
    for _, res in kinds.get("DocumentReference", []):
        d.attachments.append(_attachment(res))
    for _, res in kinds.get("Communication", []):  # G088, a copy of the dossier given
        d.extra.append(_copy_given(res))
    return d, unplaced


def _item_of(res: dict, unplaced: Counter[int]) -> list[items.Item]:
    """An Observation of a structure's element as its item (:mod:`..items`); none without
    element or value (an element without a value counted in ``unplaced``)."""
    number, value = _element(res)[0], _administrative(res, "observation").child("value")
    if number is not None and value is None:
        unplaced[number] += 1
    return [(number, value)] if number is not None and value is not None else []


def _care_group(res: dict, by_url: dict, unplaced: Counter[int]) -> m.Node:
    """G041 or G081: the dossier's patientCareProvision or carePlan, from a groep and its members."""
    groep = _categories({"category": [res.get("code") or {}]}, t.BDS_GROEP)[0]
    found = []
    for ref in res.get("hasMember", []):
        member = by_url.get(ref.get("reference"))
        if member is None:
            raise FhirError(f"hasMember {ref.get('reference')} is not in the Bundle", f"Observation/{res.get('id')}")
        found.extend(_item_of(member, unplaced))
    built, dropped = careplans.assemble(groep, found) if groep in careplans.SLOTS else (None, None)
    if built is None:
        raise FhirError(f"{groep} lacks what the DOB needs of it (its period, its kind or problem)", f"Observation/{res.get('id')}")
    unplaced += dropped
    return built


def _copy_given(res: dict) -> m.Node:
    """The inverse of the view's ``copy_given``: component6/informationControlActEvent."""
    act = [node("code", {"code": "G088", "codeSystem": m.OID_BDS_GROEP})]
    text = next((p.get("contentString") for p in res.get("payload", []) if p.get("contentString")), None)
    if text:
        act.append(node("text", {"xsi:type": "ST"}, text=text))
    if res.get("sent"):
        act.append(node("effectiveTime", {"value": t.hl7_date(res["sent"])}))
    to = next(iter(res.get("recipient") or []), None)
    person = _contained(res, [to]) if to else None
    if person is not None:
        coded = _coded(next(iter(person.get("relationship") or []), None))
        if coded is not None:
            act.append(node("informationRecipient", None, node("personalRelationship", None, node(
                "code", {k: v for k, v in {"code": coded.code, "codeSystem": coded.code_system}.items() if v}))))
    elif to is not None:  # the view's other recipient is the child (the Patient)
        act.append(node("informationRecipient", None, node("patient")))
    return node("component6", None, node("informationControlActEvent", None, *act))


# --- people and organisations --------------------------------------------------------------


def _name(name: dict) -> m.Node:
    use = t.NAME_USE_BACK.get(name.get("use", ""))
    children = [node("given", text=g) for g in name.get("given", [])]
    ext = {e["url"]: e.get("valueString") for e in (name.get("_family") or {}).get("extension", [])}
    if t.OWN_PREFIX in ext:
        children.append(node("prefix", text=ext[t.OWN_PREFIX]))
    if t.OWN_NAME in ext or name.get("family"):
        children.append(node("family", text=ext.get(t.OWN_NAME) or name.get("family")))
    return node("name", {"use": use}, *children, text=None if children else name.get("text"))


def _address(address: dict) -> m.Node:
    """The inverse of the view's ``address``: street parts and the coded country where the
    nl-core extensions carry them, else the line and the country as text."""
    children = []
    for i, line in enumerate(address.get("line", [])):
        lines = address.get("_line") or []
        ext = (lines[i] or {}).get("extension", []) if i < len(lines) else []
        parts = {e.get("url", "").removeprefix(t.ADXP): e.get("valueString") for e in ext
                 if e.get("url", "").startswith(t.ADXP)}
        if parts:
            children += [node(name, text=parts[name]) for name in t.ADDRESS_PARTS if parts.get(name)]
        else:
            children.append(node("streetAddressLine", text=line))
    for key in ("postalCode", "city"):
        if address.get(key):
            children.append(node(key, text=address[key]))
    spec = next((e.get("valueCodeableConcept") for e in (address.get("_country") or {}).get("extension", [])
                 if e.get("url") == t.CODE_SPECIFICATION), None)
    coding = next(iter((spec or {}).get("coding") or []), {})
    if coding.get("system") == t.NULL_FLAVOR:
        children.append(node("country", {"nullFlavor": coding.get("code")}))
    elif coding.get("code") or address.get("country"):
        attrs = {"code": coding["code"], "codeSystem": t.oid(coding.get("system"))} if coding.get("code") else None
        children.append(node("country", attrs, text=address.get("country") or coding.get("display")))
    bounds = _bounds(address.get("period") or {})
    if bounds:
        children.append(node("useablePeriod", None, *bounds))
    use = next((c.get("code") for e in address.get("extension", []) if e.get("url") == t.ADDRESS_TYPE
                for c in (e.get("valueCodeableConcept") or {}).get("coding", []) if c.get("system") == t.ADDRESS_USE), None)
    if use is None and address.get("use") == "home":
        use = "H"
    return node("addr", {"use": use}, *children)


def _telecom(tel: dict) -> m.Node:
    scheme = {"phone": "tel", "email": "mailto", "fax": "fax"}.get(tel.get("system"), "other")
    return node("telecom", {"use": t.TELECOM_USE_BACK.get(tel.get("use")), "value": f"{scheme}:{tel.get('value')}"})


def _ii(ident: dict) -> m.II:
    return m.II(root=t.oid(ident.get("system")), extension=ident.get("value"))


def _id(ident: dict) -> m.Node:
    """A FHIR Identifier as an HL7 ``id``."""
    return node("id", {"extension": ident.get("value"), "root": t.oid(ident.get("system"))})


def _ids(res: dict) -> list[m.Node]:
    return [_id(i) for i in res.get("identifier", [])]


def _coded(concept: dict | None) -> m.Coded | None:
    if not concept:
        return None
    coding = next(iter(concept.get("coding") or []), None)
    if coding and coding.get("system") == t.NULL_FLAVOR:
        return m.Coded(null_flavor=coding.get("code"), original_text=concept.get("text"))
    if coding:
        return m.Coded(code=coding.get("code"), code_system=t.oid(coding.get("system")),
                       display_name=coding.get("display"), original_text=concept.get("text"))
    return m.Coded(null_flavor="OTH", original_text=concept.get("text"))


def _code_node(name: str, concept: dict | None, extra: dict | None = None) -> m.Node:
    c = _coded(concept) or m.Coded(null_flavor="UNK")
    children = [node("originalText", text=c.original_text)] if c.original_text else []
    return node(name, {**(extra or {}), "code": c.code, "codeSystem": c.code_system, "displayName": c.display_name,
                       "nullFlavor": c.null_flavor}, *children)


def _bounds(period: dict) -> list[m.Node]:
    """A FHIR Period as the ``low`` and ``high`` of an HL7 IVL_TS (the inverse of ``view.fhir_period``)."""
    return [node(tag, {"value": t.hl7_date(period[side])}) for side, tag in (("start", "low"), ("end", "high"))
            if period.get(side)]


def _patient(res: dict, related: list[tuple[dict, list[dict], list[m.Node]]]) -> m.Patient:
    person = m.Person(names=[_name(n) for n in res.get("name", [])])
    if res.get("gender") in t.GENDER_BACK:
        code = t.GENDER_BACK[res["gender"]]
        person.gender = m.Coded(null_flavor=code) if code == "UNK" else m.Coded(code=code, code_system="2.16.840.1.113883.5.1")
    if res.get("birthDate"):
        person.birth_time = m.Time(value=t.hl7_date(res["birthDate"]))
    if "deceasedBoolean" in res:
        person.extra.append(node("deceasedInd", {"value": "true" if res["deceasedBoolean"] else "false"}))
    if res.get("deceasedDateTime"):  # 21
        person.extra += [node("deceasedInd", {"value": "true"}), node("deceasedTime", {"value": t.hl7_date(res["deceasedDateTime"])})]
    born = None
    for ext in res.get("extension", []):
        if ext.get("url") == t.NATIONALITY:
            code = next((e.get("valueCodeableConcept") for e in ext.get("extension", []) if e.get("url") == "code"), None)
            person.extra.append(node("asCitizen", None, node("politicalNation", None, _code_node("code", code))))
        elif ext.get("url") == t.BIRTH_PLACE and ext.get("valueAddress"):  # 22 (city: the county part), 23
            place = ext["valueAddress"]
            parts = [node("county", text=place["city"])] if place.get("city") else []
            parts += [c for c in _address({k: v for k, v in place.items() if k != "city"}).children if c.name == "country"]
            born = node("birthPlace", None, node("addr", None, *parts))
    contacts = [rel for rel, _, _ in related if _is_contact(rel)]  # the child's contact persons (G004) first
    person.extra += [_contact_party(rel, None, xsi_period=False) for rel in contacts]
    for rel, facts, homes in related:
        if not _is_contact(rel):
            person.extra.append(_relation(rel, facts, homes))
    if born is not None:  # schema order: after the relations
        person.extra.append(born)
    return m.Patient(ids=[_ii(i) for i in res.get("identifier", [])], person=person,
                     addresses=[_address(a) for a in res.get("address", [])],
                     telecoms=[_telecom(x) for x in res.get("telecom", [])])


def _contact_party(role: dict, practitioner: dict | None, xsi_period: bool = True) -> m.Node:
    """A contact person (PractitionerRole of a Practitioner, or the child's RelatedPerson) as contactParty."""
    children = [node("code", {"nullFlavor": "OTH"}, node("originalText", text=c["text"]))
                for c in role.get("code", role.get("relationship", [])) if c.get("text") and not c.get("coding")][:1]
    children += [_telecom(x) for x in role.get("telecom", [])]
    if role.get("period"):
        children.append(node("effectiveTime", {"xsi:type": "IVL_TS"} if xsi_period else None, *_bounds(role["period"])))
    names = (practitioner or role).get("name", [])
    children.append(node("contactPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"}, *[_name(n) for n in names[:1]]))
    return node("contactParty", {"classCode": "CON"}, *children)


def _around(patient: m.Patient, res: dict, kinds: dict, by_url: dict, about: dict[str, list[dict]]) -> set[str]:
    """The care provisions of other providers (PractitionerRoles without a practitioner) and the
    school (Patient.contact with the student role) back on patientPerson, with their organisations'
    contact persons (PractitionerRoles of a Practitioner); the urls of the organisations they use,
    which are no JGZ organisation of the dossier."""
    roles = kinds.get("PractitionerRole", [])
    used: set[str] = set()
    contacts: dict[str, list[m.Node]] = {}
    for _, role in roles:
        org = (role.get("organization") or {}).get("reference")
        who = (role.get("practitioner") or {}).get("reference")
        if org and who:
            contacts.setdefault(org, []).append(_contact_party(role, by_url.get(who)))
    cares = []
    for _, role in roles:
        org_url = (role.get("organization") or {}).get("reference")
        if role.get("practitioner") or org_url not in by_url:
            continue
        used.add(org_url)
        cares.append(_care_provision(role, by_url[org_url], contacts.get(org_url, [])))
    schools = []
    for contact in res.get("contact", []):
        org_url = (contact.get("organization") or {}).get("reference")
        if org_url in by_url and any(c.get("code") == t.STUDENT_ROLE["code"] for r in contact.get("relationship", [])
                                     for c in r.get("coding", [])):
            used.add(org_url)
            parts = [r for _, r in kinds.get("Organization", []) if (r.get("partOf") or {}).get("reference") == org_url]
            used |= {u for u, r in kinds.get("Organization", []) if (r.get("partOf") or {}).get("reference") == org_url}
            number = _about(about.get(org_url, [])).get(606, {}).get("valueString")
            schools.append(_student(contact, by_url[org_url], parts[:1], contacts.get(org_url, []), number))
    person = patient.person
    first_citizen = next((i for i, n in enumerate(person.extra) if n.name not in ("deceasedInd", "deceasedTime")),
                         len(person.extra))
    person.extra[first_citizen:first_citizen] = cares
    after = max((i + 1 for i, n in enumerate(person.extra) if n.name in ("asCitizen", "asPatientOfOtherProvider",
                                                                         "deceasedInd", "deceasedTime")), default=0)
    person.extra[after:after] = schools
    return used


def _care_provision(role: dict, org: dict, contacts: list[m.Node]) -> m.Node:
    coding = next(iter(next(iter(role.get("code", [])), {}).get("coding", [])), {})
    template = {"GENRL": "104", "G082": "107"}.get(coding.get("code"), "108")
    ids = _ids(role)
    org_ids = _ids(org)
    org_parts = (org_ids or [node("id", {"nullFlavor": "NI"})]) + ([node("name", text=org["name"])] if org.get("name") else [])
    care = [node("templateId", {"root": m.TEMPLATE_PREFIX + template}), _code_node("code", next(iter(role.get("code", [])), None))]
    if role.get("period"):
        care.append(node("effectiveTime", {"xsi:type": "IVL_TS"}, *_bounds(role["period"])))
    care.append(node("performer", {"typeCode": "PRF"}, node("assignedProvider", {"classCode": "ASSIGNED"}, *(
        ids or [node("id", {"nullFlavor": "NI"})]), node("representedOrganization", {"classCode": "ORG", "determinerCode": "INSTANCE"},
                                                            *org_parts, *contacts))))
    return node("asPatientOfOtherProvider", {"classCode": "PAT"}, node("subjectOf", {"typeCode": "SBJ"}, node(
        "careProvision", {"classCode": "PCPR", "moodCode": "EVN"}, *care)))


def _student(contact: dict, org: dict, parts: list[dict], contacts: list[m.Node], number: str | None) -> m.Node:
    ids = _ids(org)
    school = ids or [node("id", {"root": "2.16.840.1.113883.2.4.6.15", "nullFlavor": "NI"})]
    school.append(_code_node("code", next(iter(org.get("type", [])), None)))
    if org.get("name"):
        school.append(node("name", text=org["name"]))
    school += contacts
    for part in parts:
        inner = [node("id", {"nullFlavor": "NI"})]
        inner += [node("code", {"nullFlavor": "OTH"}, node("originalText", text=a)) for a in part.get("alias", [])[:1]]
        inner += [node("name", text=part["name"])] if part.get("name") else []
        school.append(node("organizationContains", {"classCode": "PART"}, node(
            "partOrganization", {"classCode": "ORG", "determinerCode": "INSTANCE"}, *inner)))
    student = [node("id", {"nullFlavor": "UNC", "extension": number})]  # 606, "not encoded" (no root)
    if contact.get("period"):
        student.append(node("effectiveTime", None, *_bounds(contact["period"])))
    student.append(node("schoolOrganization", {"classCode": "ORG", "determinerCode": "INSTANCE"}, *school))
    return node("asStudent", {"classCode": "STD"}, *student)


def _is_contact(rel: dict) -> bool:
    return any(c.get("code") == t.CONTACT_ROLE["code"] and c.get("system") == t.CONTACT_ROLE["system"]
               for r in rel.get("relationship", []) for c in r.get("coding", []))


def _about(observations: list[dict]) -> dict[int, dict]:
    """BDS element → the Observation of it, among Observations about one resource (focus)."""
    out = {}
    for obs in observations:
        number, _ = _element(obs)
        if number is not None:
            out[number] = obs
    return out


def _households(groups: list[tuple[str, dict]], patient_url: str) -> dict[str, list[m.Node]]:
    """Member url → asMember nodes of the households (FHIR Groups) it lives in: for the child the
    household itself (id, kind 607 as code, remarks 1190 as name), for a relative its id."""
    out: dict[str, list[m.Node]] = {}
    for _, res in groups:
        ident = next(iter(res.get("identifier", [])), None)
        if ident is None:
            continue
        gid = _id(ident)
        for member in res.get("member", []):
            url = (member.get("entity") or {}).get("reference")
            parts = [gid]
            if url == patient_url:
                parts.append(_code_node("code", res.get("code")))
                if res.get("name"):
                    parts.append(node("desc", text=res["name"]))
            out.setdefault(url, []).append(node("asMember", {"classCode": "MBR"}, node(
                "group", {"classCode": "ORG", "determinerCode": "INSTANCE"}, *parts)))
    return out


#: BDS elements of the child that FHIR carries as Observations (R003) and the DOB on patientPerson.
_ON_PERSON = {631: ("guardian", "code"), 707: ("languageCommunication", "proficiencyLevelCode")}


def _on_person(res: dict) -> m.Node:
    element, _ = _element(res)
    outer, inner = _ON_PERSON[element]
    coded = _code_node(inner, res.get("valueCodeableConcept"))
    if outer == "guardian":
        return node("guardian", {"classCode": "GUARD"}, coded, node("guardianPerson", {"nullFlavor": "NI", "xsi:nil": "true"}))
    return node(outer, None, coded)


def _relation(res: dict, observations: list[dict] | None = None, homes: list[m.Node] | None = None) -> m.Node:
    children = []
    for rel in res.get("relationship", [])[:1]:
        children.append(_code_node("code", rel))
    children += [_address(a) for a in res.get("address", [])] + [_telecom(x) for x in res.get("telecom", [])]
    holder = _ids(res)
    holder += [_name(n) for n in res.get("name", [])]
    if res.get("gender") in t.GENDER_BACK:
        holder.append(node("administrativeGenderCode", {"code": t.GENDER_BACK[res["gender"]]}))
    if res.get("birthDate"):
        holder.append(node("birthTime", {"value": t.hl7_date(res["birthDate"])}))
    facts = _about(observations or [])  # the parent's education (66), work (67), birth country (71)
    if 64 in facts and "valueBoolean" in facts[64]:
        holder.append(node("deceasedInd", {"value": "true" if facts[64]["valueBoolean"] else "false"}))
    if 65 in facts and facts[65].get("valueDateTime"):
        holder.append(node("deceasedTime", {"value": t.hl7_date(facts[65]["valueDateTime"])}))
    if 66 in facts:
        holder.append(_code_node("educationLevelCode", facts[66].get("valueCodeableConcept")))
    if 67 in facts:
        holder.append(node("asEmployee", None, _code_node("occupationCode", facts[67].get("valueCodeableConcept"))))
    if 71 in facts:
        holder.append(node("birthPlace", None, node("addr", None, _code_node("country", facts[71].get("valueCodeableConcept")))))
    holder += homes or []  # the households (Woonverband IDs) the relative lives in
    for language in res.get("communication", [])[:1]:  # 1191 spreektaal
        holder.append(node("languageCommunication", None, _code_node("languageCode", language.get("language"))))
    children.append(node("relationshipHolder1", None, *holder))
    for number, obs in facts.items():  # remarks and dates of the relationship (1322, 1367, 72, 670, 78, 1374)
        if number not in (64, 65, 66, 67, 71):
            value = node("value", {"xsi:type": "TS", "value": t.hl7_date(obs["valueDateTime"])}) if obs.get("valueDateTime") \
                else node("value", {"xsi:type": "ST"}, text=obs.get("valueString"))
            children.append(node("subjectOf", {"typeCode": "SBJ"}, node("personalRelationshipObservation", None, node(
                "code", {"code": str(number), "codeSystem": m.OID_BDS_ELEMENT}), value)))
    return node("personalRelationship", None, *children)


def _typed(res: dict, groep: str) -> bool:
    return any(c.get("code") == groep for t_ in res.get("type", []) for c in t_.get("coding", []))


def _responsible(episode: dict, org: dict) -> m.Node:
    """The inverse of the view's ``responsible``: G091 as ``responsibleParty``."""
    entity = [node("templateId", {"root": m.TEMPLATE_PREFIX + "122"})]
    entity += _ids(org)
    if org.get("name"):
        entity.append(node("assignedOrganization", None, node("name", text=org["name"])))
    period = episode.get("period") or {}
    time = node("time", {"xsi:type": "IVL_TS"}, *_bounds(period)) if period else node("time", {"nullFlavor": "UNK"})
    return node("responsibleParty", {"typeCode": "RESP"}, time, node("assignedEntity", None, *entity))


def _organisation(res: dict) -> m.Organization:
    org = m.Organization(ids=[_ii(i) for i in res.get("identifier", [])])
    if res.get("name"):
        org.extra.append(node("assignedOrganization", None, node("name", text=res["name"])))
    return org


# --- activities and observations ----------------------------------------------------------

_STATUS_BACK = {"finished": ("EVN", "completed"), "cancelled": ("EVN", "cancelled"), "in-progress": ("EVN", "active"),
                "planned": ("INT", "new")}


def _activity(res: dict) -> m.Activity:
    mood, status = _STATUS_BACK.get(res.get("status"), ("EVN", None))
    act = m.Activity(ids=[_ii(i) for i in res.get("identifier", [])], other_attrs={"moodCode": mood})
    if status:
        act.status_code = m.Coded(code=status)
    if res.get("type"):
        act.code = _coded(res["type"][0])
    start = (res.get("period") or {}).get("start")
    if start:
        act.effective_time = m.Time(value=t.hl7_date(start))
    act.reason_codes = [_coded(r) for r in res.get("reasonCode", [])]
    roles = {"REF": [], "ESC": [], "CON": [], None: []}
    for participant in res.get("participant", []):
        kind = next((c.get("code") for c in (participant.get("type") or [{}])[0].get("coding", [])
                     if c.get("system") == t.PARTICIPATION), None)
        roles.get(kind, roles[None]).append(participant)
    for participant in roles[None][:1]:  # the performer: discipline (1599) and name (1501)
        entity = [_code_node("code", participant["type"][0])] if participant.get("type") else []
        name = (participant.get("individual") or {}).get("display")
        if name:
            entity.append(node("assignedPerson", None, node("name", text=name)))
        act.extra.append(node("performer", {"typeCode": "PRF"}, node("assignedEntity", None, *entity)))
    requester = None  # 1423: the author of an activity not held, else of the planned encounter it fulfils
    for participant in roles["REF"][:1]:
        concepts = participant.get("type", [])[1:]
        who = node("assignedEntity1", None, _code_node("code", concepts[0])) if concepts else node("patient")
        requester = node("author", None, who) if mood == "INT" else node(
            "inFulfillmentOf", None, node("encounter", None, node("author", None, who)))
    if requester is not None and mood == "INT":
        act.extra.append(requester)
    for participant in roles["CON"][:1]:  # R013: consulted about the reporting code (1600, 1606)
        concepts = participant.get("type", [])[1:]
        entity = [_code_node("code", concepts[0])] if concepts else []
        name = (participant.get("individual") or {}).get("display")
        if name:
            entity.append(node("assignedPerson", None, node("name", text=name)))
        act.extra.append(node("consultant", None, node("assignedEntity", None, *entity)))
    for participant in roles["ESC"]:  # escorts (731)
        concepts = participant.get("type", [])[1:]
        if concepts:
            act.extra.append(node("escort", None, node("responsibleParty", None, _code_node("code", concepts[0]))))
    if requester is not None and mood != "INT":
        act.extra.append(requester)
    return act


def _categories(res: dict, system: str) -> list[str]:
    return [c.get("code") for cat in res.get("category", []) for c in cat.get("coding", []) if c.get("system") == system]


def _number(code: str) -> int | None:
    """An element number: ASCII digits only."""
    return int(code) if code.isascii() and code.isdecimal() else None


def _element(res: dict) -> tuple[int | None, m.Coded | None]:
    for c in (res.get("code") or {}).get("coding", []):
        if c.get("system") == t.BDS_ELEMENT:
            code = c.get("code") or ""
            return (_number(code),
                    m.Coded(code=code, code_system=m.OID_BDS_ELEMENT, display_name=c.get("display")))
    return None, _coded(res.get("code"))


def _growth(res: dict):
    loinc = {c.get("code") for c in (res.get("code") or {}).get("coding", []) if c.get("system") == t.LOINC}
    return next((g for g in t.GROWTH.values() if g[1] in loinc), None)


def _value(res: dict, growth=None) -> m.Value | None:
    if "valueQuantity" in res:
        q = res["valueQuantity"]
        if q.get("value") is None:  # a unit without a number (FHIR allows it): no value
            return None
        number = Decimal(str(q.get("value"))) / (growth[4] if growth else 1)  # str: the JSON number's own digits
        unit = {"cm": "mm"}.get(q.get("code"), q.get("code")) if growth else q.get("code")
        return m.Value(xsi_type="PQ", value=format(number.normalize(), "f"), unit=unit)
    if "valueBoolean" in res:
        return m.Value(xsi_type="BL", value="true" if res["valueBoolean"] else "false")
    if "valueInteger" in res:
        return m.Value(xsi_type="INT", value=str(res["valueInteger"]))
    if "valueDateTime" in res:
        return m.Value(xsi_type="TS", value=t.hl7_date(res["valueDateTime"]))
    if "valueString" in res:
        return m.Value(xsi_type="ST", text=res["valueString"])
    if "valueCodeableConcept" in res:
        c = _coded(res["valueCodeableConcept"])
        if c is None:
            return None
        return m.Value(xsi_type="CV", code=c.code, code_system=c.code_system, display_name=c.display_name,
                       null_flavor=c.null_flavor, original_text=c.original_text)
    if "dataAbsentReason" in res:
        nf = next((c.get("code") for c in res["dataAbsentReason"].get("coding", []) if c.get("system") == t.NULL_FLAVOR), "UNK")
        return m.Value(null_flavor=nf)
    return None


def _observation(res: dict, encounter_date: str | None) -> m.Observation:
    element, code = _element(res)
    obs = m.Observation(element=element, code=code, value=_value(res, _growth(res)))
    when = res.get("effectiveDateTime")
    if when and when != encounter_date:
        obs.effective_time = m.Time(value=t.hl7_date(when))
    if res.get("method"):
        obs.method = _coded(res["method"])
    if res.get("bodySite"):
        obs.target_site = _coded(res["bodySite"])
    def role(part: dict, kind: dict) -> bool:
        return any(c.get("system") == kind["system"] and c.get("code") == kind["code"]
                   for c in (part.get("code") or {}).get("coding", []))

    parts = res.get("component", [])
    extra = []  # schema order: subject, performer, location
    for part in (p for p in parts if role(p, t.RELATIVE)):
        extra.append(node("subject", {"typeCode": "SBJ"}, node("personalRelationship", {"classCode": "PRS"},
                     _code_node("code", part.get("valueCodeableConcept")),
                     node("relationshipHolder", {"classCode": "PSN", "determinerCode": "INSTANCE", "nullFlavor": "NI"}))))
    for part in (p for p in parts if role(p, t.PERFORMER)):
        extra.append(node("performer", {"typeCode": "PRF"}, node("assignedEntity", {"classCode": "ASSIGNED"},
                                                                 _code_node("code", part.get("valueCodeableConcept")))))
    for part in (p for p in parts if role(p, t.LOCATION)):
        extra.append(node("location", {"typeCode": "LOC"}, node("serviceDeliveryLocation", {"classCode": "SDLOC"},
                                                                _code_node("code", part.get("valueCodeableConcept")))))
    if extra:
        after = "targetSiteCode" if obs.target_site is not None else "methodCode" if obs.method is not None else "value"
        for x in extra:
            x.after, after = after, x.name
        obs.extra += extra
    return obs


def _item(res: dict, by_url: dict, date: str | None):
    groep = _categories({"category": [res.get("code") or {}]}, t.BDS_GROEP)
    if groep:
        group = m.Group(groep=groep[0], code=m.Coded(code=groep[0], code_system=m.OID_BDS_GROEP))
        for ref in res.get("hasMember", []):
            member = by_url.get(ref.get("reference"))
            if member is None:
                raise FhirError(f"hasMember {ref.get('reference')} is not in the Bundle", f"Observation/{res.get('id')}")
            group.items.append(_item(member, by_url, date))
        return group
    return _observation(res, date)


def _place(act: m.Activity, res: dict, rubriek: str | None, by_url: dict) -> None:
    date = t.fhir_date(act.effective_time.value) if act.effective_time else None
    if not act.rubrieken or act.rubrieken[-1].rubriek != rubriek:
        act.rubrieken.append(m.Rubriek(rubriek=rubriek, code=m.Coded(code=rubriek, code_system=m.OID_BDS_RUBRIEK)))
    act.rubrieken[-1].items.append(_item(res, by_url, date))


def _care_status(res: dict) -> m.CareStatus:
    element, code = _element(res)
    status = m.CareStatus(element=element, code=code, reason_code=_coded(res.get("valueCodeableConcept")))
    if res.get("effectiveDateTime"):
        status.effective_time = m.Time(value=t.hl7_date(res["effectiveDateTime"]))
    return status


def _administrative(res: dict, name: str) -> m.Node:
    element, _ = _element(res)
    value = _value(res)
    children = [node("code", {"code": str(element), "codeSystem": m.OID_BDS_ELEMENT})]
    if value is not None:
        attrs = {"xsi:type": value.xsi_type, "value": value.value, "unit": value.unit, "code": value.code,
                 "codeSystem": value.code_system, "displayName": value.display_name, "nullFlavor": value.null_flavor}
        extra = [node("originalText", text=value.original_text)] if value.original_text else []
        children.append(node("value", attrs, *extra, text=value.text))
    return node(name, {"classCode": "OBS", "moodCode": "EVN"}, *children)


def _non_bds(res: dict, rubrieken: list[str]) -> m.NonBdsItem:
    item = m.NonBdsItem(code=_coded(res.get("code")))
    if "valueString" in res:
        item.text = res["valueString"]
    else:
        item.value = _value(res)
    if rubrieken:
        item.extra.append(node("pertainsTo", None, node("categoryInBDS", None, node(
            "code", {"code": rubrieken[0], "codeSystem": m.OID_BDS_RUBRIEK}))))
    return item


# --- vaccinations, consents, documents ---------------------------------------------------------


def _vaccination(res: dict, parts: list[dict]) -> m.Vaccination:
    vac = m.Vaccination(negation_ind="true" if res.get("status") == "not-done" else "false",
                        code=m.Coded(code="IMMUNIZ", code_system="2.16.840.1.113883.5.4"))
    if res.get("occurrenceDateTime"):
        vac.effective_time = m.Time(value=t.hl7_date(res["occurrenceDateTime"]))
    vaccine = dict(res.get("vaccineCode") or {})
    vaccine["coding"] = [c for c in vaccine.get("coding", []) if c.get("system") != t.ATC]
    medicine = [_code_node("code", vaccine)]
    if res.get("lotNumber"):
        medicine.append(node("lotNumberText", text=res["lotNumber"]))
    vac.extra.append(node("consumable", None, node("medication", None, node("administrableMedicine", None, *medicine))))
    names = {}
    for performer in res.get("performer", []):
        actor = performer.get("actor") or {}
        kind = "representedOrganization" if actor.get("type") == "Organization" else "assignedPerson"
        if actor.get("display"):
            names.setdefault(kind, actor["display"])
    place = (res.get("location") or {}).get("display")  # 1452: the organisation's location
    if names or place:
        entity = [node(kind, None, node("name", text=names[kind])) for kind in ("assignedPerson", "representedOrganization")
                  if kind in names]
        if place:
            org = next((p for p in entity if p.name == "representedOrganization"), None)
            if org is None:
                org = node("representedOrganization", None)
                entity.append(org)
            org.children.append(node("organizationContains", None, node("partOrganization", None, node("name", text=place))))
        vac.extra.append(node("performer", None, node("assignedEntity", None, *entity)))
    for reason in res.get("reasonCode", [])[:1]:
        vac.extra.append(node("reason", None, node("vaccinationReason", None,
                                                   node("code", {"code": "686", "codeSystem": m.OID_BDS_ELEMENT}),
                                                   _code_node("value", reason))))
    reactions = {(r.get("detail") or {}).get("reference"): r for r in res.get("reaction", [])}
    components = []
    for part in parts:
        element, code = _element(part)
        children = [node("code", {"code": code.code if code else None, "codeSystem": m.OID_BDS_ELEMENT})]
        value = _value(part)
        if value is not None:
            attrs = {"xsi:type": value.xsi_type, "value": value.value, "code": value.code, "codeSystem": value.code_system,
                     "displayName": value.display_name, "nullFlavor": value.null_flavor}
            children.append(node("value", attrs, text=value.text))
        url = next((u for u in reactions if u and u.endswith(part.get("id", "\0"))), None)
        if url is not None:
            bounds = _bounds(part.get("effectivePeriod") or {"start": reactions[url].get("date")})
            if bounds:
                children.insert(1, node("effectiveTime", {"xsi:type": "IVL_TS"}, *bounds))
            for component in part.get("component", []):  # when the reaction was reported (875)
                number, _ = _element(component)
                if number is not None and component.get("valueDateTime"):
                    children.append(node("subjectOf", None, node("informationControlActEvent", None,
                                                                 node("code", {"code": str(number), "codeSystem": m.OID_BDS_ELEMENT}),
                                                                 node("effectiveTime", {"value": t.hl7_date(component["valueDateTime"])}))))
            vac.extra.append(node("causeOf2", None, node("adverseReaction", None, *children)))
        else:
            components.append(node("component", None, node("vaccinationObservation", None, *children)))
    objection = _objection(res.get("statusReason"))
    if objection is not None:
        vac.extra.append(objection)
    vac.extra.extend(components)  # schema order: ... causeOf2, authorization, component
    return vac


def _objection(reason: dict | None) -> m.Node | None:
    """A refusal for patient objection is a negated consent, its other codes the 683 reason."""
    codings = list((reason or {}).get("coding") or [])
    if not any(c.get("system") == t.PATIENT_OBJECTION["system"] and c.get("code") == t.PATIENT_OBJECTION["code"]
               for c in codings):
        return None
    rest = {"coding": [c for c in codings if c.get("system") != t.PATIENT_OBJECTION["system"]]}
    if reason.get("text"):
        rest["text"] = reason["text"]
    children = [node("code", {"code": "IMMUNIZ", "codeSystem": "2.16.840.1.113883.5.4", "displayName": "Immunization"})]
    if rest["coding"] or "text" in rest:
        children.append(node("reasonOf", {"typeCode": "RSON"}, node(
            "observationEvent", {"classCode": "OBS", "moodCode": "EVN"},
            node("code", {"code": "683", "codeSystem": m.OID_BDS_ELEMENT, "displayName": "Bezwaar"}),
            _code_node("value", rest, {"xsi:type": "CV"}))))
    return node("authorization", {"typeCode": "AUTH"}, node(
        "consentEvent", {"classCode": "CONS", "moodCode": "EVN", "negationInd": "true"}, *children))


def _consent(res: dict, observations: list[dict] | None = None) -> m.Consent:
    category = next(iter(res.get("category", [])), {})
    coding = next(iter(category.get("coding", [])), {})
    code = coding.get("code") or ""
    consent = m.Consent(element=_number(code),
                        code=m.Coded(code=code, code_system=t.oid(coding.get("system")), display_name=coding.get("display")))
    permit = (res.get("provision") or {}).get("type") == "permit"
    consent.negation_ind = "false" if permit else "true"
    end = ((res.get("provision") or {}).get("period") or {}).get("end")
    if end:
        consent.effective_time = m.Time(high=m.Time(value=t.hl7_date(end)))
    author = [node("time", {"value": t.hl7_date(res["dateTime"])})] if res.get("dateTime") else []
    source = _consent_source(res)
    if source is not None:
        author.append(source)
    if author:
        consent.extra.append(node("author", None, *author))
    facts = _about(observations or [])
    entity = []  # who recorded the RVP consent: the employee (1537) and organisation (1538-1540)
    if 1537 in facts and facts[1537].get("valueString"):
        entity.append(node("assignedPerson", None, node("name", text=facts[1537]["valueString"])))
    recorder = _contained(res, res.get("organization", []))
    if recorder is not None:
        parts = _ids(recorder)
        if recorder.get("name"):
            parts.append(node("name", text=recorder["name"]))
        entity.append(node("representedOrganization", None, *parts))
    if entity:
        consent.extra.append(node("consultant", None, node("assignedEntity1", None, *entity)))
    for number, obs in facts.items():  # the consent's notes (1407, 1541)
        if number == 1537:
            continue
        if "valueCodeableConcept" in obs:
            value = _code_node("value", obs["valueCodeableConcept"], {"xsi:type": "CV"})
        elif "valueString" in obs:
            value = node("value", {"xsi:type": "ST"}, text=obs["valueString"])
        elif "dataAbsentReason" in obs:  # a null flavour ("98 Anders" without text)
            flavour = next((c.get("code") for c in obs["dataAbsentReason"].get("coding", [])
                            if c.get("system") == t.NULL_FLAVOR), "UNK")
            value = node("value", {"xsi:type": "CV", "nullFlavor": flavour})
        else:
            continue
        consent.extra.append(node("subjectOf", None, node("annotation", None, node(
            "code", {"code": str(number), "codeSystem": m.OID_BDS_ELEMENT}), value)))
    return consent


def _contained(res: dict, refs: list[dict]) -> dict | None:
    """The contained resource the first local reference (``#id``) of ``refs`` points to."""
    ref = next((r.get("reference") for r in refs if r.get("reference", "").startswith("#")), None)
    return next((c for c in res.get("contained", []) if ref and c.get("id") == ref[1:]), None)


def _consent_source(res: dict) -> m.Node | None:
    """The inverse of the view's ``consent_source``: the performer as a responsibleParty."""
    person = _contained(res, res.get("performer", []))
    if person is None:
        return None
    children = _ids(person)
    coded = _coded(next(iter(person.get("relationship") or []), None))
    if coded is not None:
        attrs = {"nullFlavor": coded.null_flavor} if coded.null_flavor else {
            "code": coded.code, "codeSystem": coded.code_system, "displayName": coded.display_name}
        children.append(node("code", {k: v for k, v in attrs.items() if v}))
    names = person.get("name") or []
    if names:
        children.append(node("agentPerson", None, _name(names[0])))
    return node("responsibleParty", {"classCode": "CON"}, *children)


def _attachment(res: dict) -> m.Attachment:
    doc = m.Attachment(code=_coded(res.get("type")))
    content = ((res.get("content") or [{}])[0]).get("attachment") or {}
    text = m.Value(text=content.get("data"))
    if content.get("contentType"):
        text.other_attrs["mediaType"] = content["contentType"]
    if content.get("url"):
        text.extra.append(node("reference", {"value": content["url"]}))
    doc.text = text
    when = content.get("creation") or res.get("date")  # creation keeps the date's own precision
    if when:
        doc.effective_time = m.Time(value=t.hl7_date(when))
    sender = next((a.get("display") for a in res.get("author", []) if a.get("display")), None)
    if sender:  # 1171
        doc.extra.append(node("author", None, node("assignedEntity", None, node("assignedPerson", None,
                                                                               node("name", text=sender)))))
    return doc
