"""Build a canonical Dossier (a DOB ready to write) from BDS facts.

The shapes follow the published Nictiz examples and templates: the child is
``patient`` (template 131) with parents as ``personalRelationship``; organisations are
``author/assignedEntity`` (template 122); consents are ``authorization/consentEvent``
whose ``negationInd`` withholds the permission (see ``model.Consent``); activities are ``encounter`` with one ``rubricCluster``
per rubriek (templates …110NN) holding element observations (…4NNNN); vaccinations are
``substanceAdministration`` (template 116). :mod:`.from_dossier` reads the same shapes
back, so facts → Dossier → facts is the identity for everything placed here.

Elements the target BDS version cannot carry (unknown there, or without an observation
template) are left out and counted in ``dropped``, never silently lost.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from ..standards import model as m
from ..standards import careplans, heelprick, perinatal
from ..standards.catalogue import Catalogue
from ..standards.timestamps import format_ts as ts
from ..standards.hl7v3.codec import construct
from ..standards.items import quantity_text
from . import elements as E
from . import relations
from .record import Facts, Group, Other, Record, each

INTERACTION = {"4.1.3": "REPC_IN902120NL03", "4.2.0": "REPC_IN902120NL04"}
VERSIONS = tuple(INTERACTION)


def requested(version: str) -> str:
    """A BDS version as asked for (``bds``, ``--bds``), as the catalogue names it; an unknown
    one is a :class:`~.errors.SourceError` naming ``--bds``."""
    from ..standards.catalogue import UnknownVersion, normalise_version
    from .errors import SourceError

    try:
        return normalise_version(version)
    except UnknownVersion as exc:
        raise SourceError("--bds", None, str(exc)) from None


def buildable(version: str) -> str:
    """The version to build a dossier in for ``version``: itself, or for an older one (3.2.x,
    4.0.x) 4.1.3, from which a writer converts down (the hl7v3 adapter does)."""
    v = requested(version)
    return v if v in INTERACTION else VERSIONS[0]

CS_ACT_CODE = "2.16.840.1.113883.5.4"
TPL = m.TEMPLATE_PREFIX


class BuildError(ValueError):
    """The facts cannot make a valid dossier (a code outside its value set...)."""

    def __init__(self, element: int | str | None, message: str):
        super().__init__(message)
        self.element = element
        self.message = message


@dataclass(frozen=True)
class Envelope:
    """What the message needs beyond the dossier: who sends it, to whom, and when.

    ``ura`` is the sending organisation (default: the dossier's newest organisation).
    Identifier roots are built under it (…3.3.<URA>.1 messages, .2 dossiers, .3 activities).
    """

    created: dt.datetime
    sender_application: str = "JGZGW"
    receiver_application: str = "JGZGW"
    uzi_system: str = "000000000"
    ura: str | None = None
    organisation_name: str | None = None


# --- small builders -------------------------------------------------------------------


def node(name: str, attrs: dict[str, str] | None = None, children: list[m.Node] | None = None,
         text: str | None = None) -> m.Node:
    return construct(m.Node, {"name": name, "attrs": attrs or {}, "children": children or [], "text": text})


def st(text: Any) -> m.Node:
    """A string ``value``."""
    return node("value", {"xsi:type": "ST"}, text=str(text))


#: HL7 value types whose null flavour NI every element template accepts (coded ones bind a value set).
_UNCODED = frozenset({"ST", "PQ", "INT", "TS", "BL"})


def mailto(address: Any) -> m.Node:
    return node("telecom", {"value": "mailto:" + quote(str(address), safe="@.+-_~!$&'*=")})


def tel(number: Any, attrs: dict | None = None) -> m.Node:
    return node("telecom", (attrs or {}) | {"value": "tel:" + quote(str(number), safe="+-.()")})


def _bounds(values: dict, start: int, end: int) -> list[m.Node]:
    """A period groep's two dates as the ``low`` and ``high`` of an IVL_TS (G096, G098, G111)."""
    return [node(tag, {"value": ts(values[n])}) for n, tag in ((start, "low"), (end, "high")) if values.get(n) is not None]


def _with_period(g: Group, period: E.Period) -> dict:
    """A JGZ organisation's values with those of its period groep (G098, G099)."""
    v = dict(g.values)
    for p in g.groups_of(period.groep):
        v |= p.values
    return v


def _link_time(values: dict, period: E.Period) -> m.Node:
    """A JGZ organisation's period as its link's ``time``; unknown without one (template 122)."""
    bounds = _bounds(values, period.start, period.end)
    return node("time", {"xsi:type": "IVL_TS"}, bounds) if bounds else node("time", {"nullFlavor": "UNK"})


def _assigned_organisation(name: Any) -> m.Node:
    return node("assignedOrganization", {"classCode": "ORG", "determinerCode": "INSTANCE"}, [node("name", text=str(name))])


def chain(nodes: list[m.Node], first_after: str | None) -> list[m.Node]:
    """Mark verbatim nodes to follow each other, the first after ``first_after``."""
    after = first_after
    for n in nodes:
        n.after = after
        after = n.name
    return nodes


@lru_cache(maxsize=65536)
def _hl7_code(version: str, element: int, bds_code: str, w: str | None) -> tuple[str, str, str | None]:
    """(code, codeSystem, displayName) of a BDS-flavour code in the element's value set."""
    cat = E.catalogue(version)
    w = w or E.valueset(element, cat)
    vs = cat.valueset(w) if w else None
    if vs is None:
        raise BuildError(element, f"element {element}: value set {w or '?'} is unknown in BDS {version}")
    code = E.to_hl7(vs, bds_code) or E.unpublished(vs, bds_code)
    if code is None:
        raise BuildError(element, f"element {element}: code {bds_code!r} is not in {w} ({vs.name}) in BDS {version}")
    return code.code, code.code_system, code.display


_FIELD_NAMES = {"code": "code", "codeSystem": "code_system", "displayName": "display_name",
                "nullFlavor": "null_flavor", "xsi:type": "xsi_type"}


@lru_cache(maxsize=65536)
def _coded(version: str, element: int, bds_code: str, w: str | None, xsi: str | None) -> tuple[dict, dict]:
    """(XML attributes, model fields) of a coded value; exception values become a null flavour."""
    code, cs, display = _hl7_code(version, element, bds_code, w)
    attrs = {"xsi:type": xsi} if xsi else {}
    if cs == E.NULL_FLAVOR_OID:
        attrs["nullFlavor"] = code
    else:
        attrs |= {"code": code, "codeSystem": cs}
        if display:
            attrs["displayName"] = display
    return attrs, {_FIELD_NAMES[k]: v for k, v in attrs.items()}


def _with_other_text(fields: dict, value: Any) -> dict:
    """Model fields of a coded value; a code with its text (:class:`Other`) keeps it as ``original_text``."""
    if isinstance(value, Other):
        fields["original_text"] = value.text
    return fields


@lru_cache(maxsize=8192)
def _element(version: str, number: int):
    return E.catalogue(version).element(number)


class _Builder:
    def __init__(self, version: str, envelope: Envelope):
        self.version = version
        self.cat: Catalogue = E.catalogue(version)
        self.env = envelope
        self.dropped: Counter[int] = Counter()
        self.household_root = f"{m.OID_URA}.0.7"  # set per sender in dossier()

    def element(self, number: int):
        return _element(self.version, number)

    # codes
    def code(self, element: int, bds_code: str, w: str | None = None) -> tuple[str, str, str | None]:
        """(code, codeSystem, displayName) of a BDS-flavour code in the element's value set."""
        try:
            return _hl7_code(self.version, element, bds_code, w)
        except TypeError:  # an unhashable value: report it as the wrong kind of value
            raise BuildError(element, f"element {element}: {bds_code!r} is not a code") from None

    def coded_attrs(self, element: int, bds_code: str, w: str | None = None, xsi: str | None = None) -> dict[str, str]:
        """XML attributes of a coded value (a fresh dict)."""
        try:
            return dict(_coded(self.version, element, bds_code, w, xsi)[0])
        except TypeError:
            raise BuildError(element, f"element {element}: {bds_code!r} is not a code") from None

    def coded(self, element: int, bds_code: str, w: str | None = None, xsi: str | None = None) -> m.Coded:
        try:
            fields = dict(_coded(self.version, element, bds_code, w, xsi)[1])
        except TypeError:
            raise BuildError(element, f"element {element}: {bds_code!r} is not a code") from None
        return construct(m.Coded, _with_other_text(fields, bds_code))

    def coded_node(self, name: str, element: int, bds_code: str, w: str | None = None, xsi: str | None = None) -> m.Node:
        """A coded element; an "other" (:class:`Other`) keeps its text as ``originalText``."""
        attrs = self.coded_attrs(element, bds_code, w, xsi)
        if isinstance(bds_code, Other):
            return node(name, attrs, [node("originalText", text=bds_code.text)])
        return node(name, attrs)

    def element_code(self, element: int) -> m.Coded:
        e = self.element(element)
        return construct(m.Coded, {"code": str(element), "code_system": m.OID_BDS_ELEMENT, "display_name": e.name if e else None})

    def element_code_node(self, element: int, name: str = "code") -> m.Node:
        e = self.element(element)
        attrs = {"code": str(element), "codeSystem": m.OID_BDS_ELEMENT}
        if e and e.name:
            attrs["displayName"] = e.name
        return node(name, attrs)

    # --- the whole message ------------------------------------------------------------

    def dossier(self, record: Record) -> m.Dossier:
        f = record.facts
        ura = self.env.ura or _newest(f, 603) or "00000000"
        self.org_name = self.env.organisation_name or _newest(f, 1506) or "onbekend"
        interaction = INTERACTION[self.version]
        created = self.env.created
        dossier_ext = str(f.values.get(695) or record.key)
        dossier_id = m.II(root=f"{_arc(ura)}.2", extension=dossier_ext)
        self.activity_root = f"{_arc(ura)}.3"
        self.household_root = f"{_arc(ura)}.7"  # the sender's ids of households (Woonverband ID)
        status = f.values.get(696, "02")
        status_code = self.code(696, status)[0]
        end = next((g.values.get(488) for g in f.groups_of("G092") if g.values.get(488)), None)
        effective = m.Time(high=m.Time(value=ts(end or created.date())))
        activities = [self.activity(a) for a in record.activities]
        consents = [self.consent(g) for g in f.groups if g.groep in E.CONSENTS] + self.nurse_vaccination(f.values)
        annotations = [self.dossier_annotation(n, f.values[n]) for n in E.DOSSIER_ANNOTATIONS if n in f.values]
        copies = [self.copy_given(g) for g in f.groups_of("G088")]  # component6: after component1 (non-BDS)
        summary = [self.summary(f.values[E.SUMMARY])] if f.values.get(E.SUMMARY) else []
        pregnancy, neonate = self.perinatal(f)  # pertinentInformation after the annotations; component5
        care = [x for x in (self.care_group(g) for g in f.groups if g.groep in careplans.ELEMENTS) if x is not None]
        # verbatim parts go after the last typed part the schema puts before them
        # (author, appendage, authorization; then summary, pertinentInformation, component1)
        before = "authorization" if consents else "appendage" if f.groups_of("G072") else "author"
        responsible = [self.responsible(g) for g in f.groups_of("G091")]
        return m.Dossier(
            bds_version=self.version,
            interaction=interaction,
            transmission=self.transmission(interaction, f.values.get(7), ura, record.key),
            request=self.request(dossier_id, ura),
            other_attrs={"moodCode": "EVN"},
            ids=[dossier_id],
            code=m.Coded(code="CPHC", code_system=CS_ACT_CODE,
                         display_name="certified public health and general preventive medicine care"),
            status_code=m.Coded(code=status_code),
            effective_time=effective if status_code == "completed" else None,
            patient=self.patient(f),
            organisations=[self.organisation(g) for g in f.groups_of("G085")],
            consents=consents,
            non_bds=[self.non_bds(g) for g in f.groups_of("G083")],
            attachments=[self.attachment(g) for g in f.groups_of("G072")],
            activities=activities,
            care_statuses=[self.care_status(g) for g in f.groups if g.groep in ("G093", "G092")],
            extra=chain(responsible, "subject") + chain(summary + annotations + pregnancy, before)
            + chain(sorted(care, key=lambda n: n.name) + neonate + copies, "component1" if f.groups_of("G083") else
                    "pertinentInformation" if annotations or pregnancy else "summary" if summary else before),
        )

    def care_group(self, g: Group) -> m.Node | None:
        """G041 care received elsewhere, G081 the care plan (:mod:`~jgz_gateway.standards.careplans`),
        with the dates of their period groep (G103, G110)."""
        values = dict(g.values)
        for period in g.groups:
            values |= period.values
        built, dropped = careplans.build(g.groep, values, self)
        self.dropped.update(dropped)
        return built

    def perinatal(self, f: Facts) -> tuple[list[m.Node], list[m.Node]]:
        """R014-R016 (:mod:`~jgz_gateway.standards.perinatal`): the pregnancy and the newborn."""
        values = {n: v for n, v in f.values.items() if n in perinatal.KNOWN}
        stays = f.groups_of("G109")
        if stays:
            values |= {n: v for n, v in stays[0].values.items() if n in perinatal.STAY}
            for extra in stays[1:]:  # the BDS has one period on the children's ward
                self.dropped.update(extra.elements())
        nodes, dropped = perinatal.build(values, self)
        self.dropped.update(dropped)
        return ([n for n in nodes if n.name == "pertinentInformation"], [n for n in nodes if n.name == "component5"])

    def attachment(self, g: Group) -> m.Attachment:
        """G072: an attached file (appendage/document), as Nictiz's ADA conversion writes it."""
        v = g.values
        attrs = {"mediaType": str(v[1498])} if v.get(1498) else {}
        text = construct(m.Value, {"other_attrs": attrs | {"representation": "B64"}, "text": v.get(1185),
                                   "extra": [node("reference", {"value": "file:///" + str(v[1497])})] if v.get(1497) else []})
        author = [node("author", {"typeCode": "AUT"}, [node("assignedEntity", {"classCode": "ASSIGNED"}, [
            node("assignedPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"}, [node("name", text=v[1171])])])])
        ] if v.get(1171) else []
        return m.Attachment(
            other_attrs={"classCode": "DOC", "moodCode": "EVN"}, link_attrs={"typeCode": "APND"},
            code=self.coded(1169, v[1169]) if 1169 in v else None, text=text,
            effective_time=m.Time(value=ts(v[1172])) if 1172 in v else None,
            extra=chain(author, "effectiveTime" if 1172 in v else "text"))

    def copy_given(self, g: Group) -> m.Node:
        """G088: a copy of the dossier given (component6), as Nictiz's ADA conversion writes it."""
        v = g.values
        act = [node("code", {"code": "G088", "codeSystem": m.OID_BDS_GROEP, "displayName": "Afschrift JGZ-dossier verstrekt"})]
        if v.get(1403):
            act.append(node("text", {"xsi:type": "ST"}, text=str(v[1403])))
        if 1402 in v:
            act.append(node("effectiveTime", {"value": ts(v[1402])}))
        if 1401 in v:
            code = self.coded_attrs(1401, v[1401])
            who = (node("patient", {"classCode": "PAT"}) if code.get("code") == "ONESELF" else
                   node("personalRelationship", {"classCode": "PRS"}, [self.coded_node("code", 1401, v[1401]), node(
                       "relationshipHolder", {"classCode": "PSN", "determinerCode": "INSTANCE", "nullFlavor": "NI"})]))
            act.append(node("informationRecipient", {"typeCode": "IRCP"}, [who]))
        return node("component6", {"typeCode": "COMP"}, [
            node("informationControlActEvent", {"classCode": "INFO", "moodCode": "EVN", "negationInd": "false"}, act)])

    def summary(self, text: Any) -> m.Node:
        """492 Samenvatting 0-4: the dossier's ``summary`` (template 10009)."""
        return node("summary", None, [node("observationEvent", {"classCode": "OBS", "moodCode": "EVN"}, [
            self.element_code_node(E.SUMMARY), st(text)])])

    def dossier_annotation(self, element: int, value: Any) -> m.Node:
        """A dossier-level yes/no (E.DOSSIER_ANNOTATIONS) as Nictiz writes it."""
        return node("pertinentInformation", {"typeCode": "PERT"}, [
            node("annotationObsEvent", {"classCode": "OBS", "moodCode": "EVN"}, [
                node("templateId", {"root": f"{TPL}4{element:04d}"}), self.element_code_node(element),
                node("value", {"xsi:type": "BL", "value": "true" if value else "false"})])])

    def transmission(self, interaction: str, bsn: str | None, ura: str, key: str) -> m.Transmission:
        env = self.env
        author = node("authorOrPerformer", {"typeCode": "AUT"}, [node("participant", None, [
            node("AssignedDevice", None, [
                node("id", {"root": m.OID_UZI_SYSTEM, "extension": env.uzi_system}),
                node("Organization", None, [node("id", {"extension": ura, "root": m.OID_URA}),
                                            node("name", text=self.org_name)]),
            ])])])
        return m.Transmission(
            interaction=interaction,
            id=m.II(root=f"{_arc(ura)}.1", extension=f"{key}-{env.created:%Y%m%d%H%M%S}"),
            creation_time=m.Time(value=env.created.strftime("%Y%m%d%H%M%S")),
            version_code=m.Coded(code="NICTIZEd2005-Okt"),
            interaction_id=m.II(root="2.16.840.1.113883.1.6", extension=interaction),
            profile_ids=[m.II(root="2.16.840.1.113883.2.4.3.11.1", extension="810")],
            processing_code=m.Coded(code="P"),
            processing_mode_code=m.Coded(code="T"),
            accept_ack_code=m.Coded(code="AL"),
            attention_lines=[m.AttentionLine(
                key_word_text=m.Value(code="PATID", code_system="2.16.840.1.113883.2.4.15.1", text="Patient.id"),
                value=m.II(root=m.OID_BSN, extension=bsn, other_attrs={"xsi:type": "II"}))],
            receivers=[m.Device(ids=[m.II(root=m.OID_AORTA_APP, extension=env.receiver_application)])],
            senders=[m.Device(ids=[m.II(root=m.OID_AORTA_APP, extension=env.sender_application)])],
            control_act_attrs={"classCode": "CACT", "moodCode": "EVN"},
            control_act_extra=[author],
        )

    def request(self, dossier_id: m.II, ura: str) -> m.CareProvisionRequest:
        return m.CareProvisionRequest(
            template_ids=[TPL + "10000"],
            ids=[dossier_id],
            code=m.Coded(code="CPHC", code_system=CS_ACT_CODE,
                         display_name="certified public health and general preventive medicine care"),
            status_code=m.Coded(code="active"),
            authors=[m.Organization(
                template_ids=[TPL + "122"], ids=[m.II(root=m.OID_URA, extension=ura)],
                other_attrs={"classCode": "ASSIGNED"},
                link_extra=[node("time", {"value": self.env.created.strftime("%Y%m%d")})])],
        )

    # --- the child ----------------------------------------------------------------------

    def patient(self, f: Facts) -> m.Patient:
        v = f.values
        names = []
        # OR: voornaam and geslachtsnaam; L: roepnaam and achternaam (the name in use), as Nictiz writes them
        for use, parts in (("OR", ((6, "given", None), (3, "prefix", "VV BR"), (4, "family", "BR"))),
                           ("L", ((5, "given", "CL"), (1, "prefix", "VV BR"), (2, "family", "BR")))):
            present = [node(tag, {"qualifier": q} if q else None, text=v[n]) for n, tag, q in parts if v.get(n)]
            if present:
                names.append(node("name", {"use": use}, present))
        # after birthTime, in schema order: death, nationalities, parents, birth place (as Nictiz writes them)
        extra = [node("deceasedInd", {"value": "true"}), node("deceasedTime", {"value": ts(v[21])})] if v.get(21) else []
        around = relations.Writer(self)
        extra += around.providers(f)  # huisarts, other care providers, voorzieningen (R006-R008)
        extra += [node("asCitizen", {"classCode": "CIT"}, [node("politicalNation", {"classCode": "NAT", "determinerCode": "INSTANCE"}, [
            self.coded_node("code", 24, x, xsi="CV")])]) for x in each(v.get(24)) if x is not None]
        extra += around.schools(f)
        extra += [x for x in (self.household(g) for g in f.groups_of("G077")) if x is not None]
        extra += around.contacts(f, "G004", xsi_period=False)
        if E.CUSTODY in v:
            extra.append(node("guardian", {"classCode": "GUARD"}, [
                self.coded_node("code", E.CUSTODY, v[E.CUSTODY]),
                node("guardianPerson", {"classCode": "PSN", "determinerCode": "INSTANCE", "nullFlavor": "NI", "xsi:nil": "true"})]))
        extra += [self.relative(g) for g in f.groups if g.groep in E.RELATIVES]
        if v.get(22) or 23 in v:
            place = ([node("county", None, text=str(v[22]))] if v.get(22) else []) + ([self.country(23, v[23])] if 23 in v else [])
            extra.append(node("birthPlace", None, [node("addr", None, place)]))
        if E.LITERACY in v:
            extra.append(node("languageCommunication", None, [self.coded_node("proficiencyLevelCode", E.LITERACY, v[E.LITERACY])]))
        person = m.Person(
            names=names,
            gender=self.coded(19, v[19], xsi="CV") if 19 in v else None,
            birth_time=m.Time(value=ts(v[20])) if 20 in v else None,
            extra=chain(extra, "birthTime"),
        )
        administrative = []  # 26-29: land vanwaar ingeschreven, vestiging, asielzoekerkind, vertrek; R008 VVE
        answers = {n: each(v[n]) for n in E.ADMINISTRATIVE if n in v} | around.vve_answers(f)
        for n, values in answers.items():
            kind = E.kind(n, self.cat)
            for x in values:
                value = (self.coded_node("value", n, x, xsi="CV") if kind == "code" else
                         node("value", {"xsi:type": "BL", "value": "true" if x else "false"}) if kind == "bool" else
                         node("value", {"xsi:type": "TS", "value": ts(x)}))
                administrative.append(node("subjectOf1", {"typeCode": "SBJ"}, [
                    node("administrativeObservation", {"classCode": "OBS", "moodCode": "EVN"}, [self.element_code_node(n), value])]))
        return m.Patient(
            template_ids=[TPL + "131"],
            other_attrs={"classCode": "PAT"},
            link_attrs={"typeCode": "SBJ"},
            ids=[m.II(root=m.OID_BSN, extension=v.get(7))],
            addresses=[self.address(g) for g in f.groups_of("G001")],
            telecoms=[self.phone(g) for g in f.groups_of("G002")]
            + [mailto(x) for x in each(v.get(698)) if x],
            status_code=m.Coded(code="active"),
            person=person,
            extra=chain(administrative, "patientPerson"),
        )

    def address(self, g: Group) -> m.Node:
        """The child's address (G001) or a parent's (G016), in the order Nictiz's ADA conversion
        writes it; huisletter and toevoeging share buildingNumberSuffix."""
        v, n = g.values, E.ADDRESS[g.groep]
        attrs = {"use": self.code(n["use"], v[n["use"]])[0]} if n["use"] in v else {}
        text = {part: str(v[e]) for part, e in n.items() if v.get(e) not in (None, "")}
        parts = [node(tag, None, text=text[tag]) for tag in ("streetName", "houseNumber") if tag in text]
        suffix = " ".join(text[k] for k in ("letter", "addition") if k in text)
        if suffix:
            parts.append(node("buildingNumberSuffix", None, text=suffix))
        if "additionalLocator" in text:
            if text["additionalLocator"] not in E.HOUSE_NUMBER_LOCATOR:
                raise BuildError(n["additionalLocator"], f"element {n['additionalLocator']}: "
                                                         f"{text['additionalLocator']!r} is not 1 (by) or 2 (to)")
            parts.append(node("additionalLocator", None, text=E.HOUSE_NUMBER_LOCATOR[text["additionalLocator"]]))
        parts += [node(tag, None, text=text[tag]) for tag in ("postalCode", "city") if tag in text]
        if n["country"] in v:
            parts.append(self.country(n["country"], v[n["country"]]))
        if "desc" in text:
            parts.append(node("desc", None, text=text["desc"]))
        for period in g.groups_of("G096"):
            bounds = _bounds(period.values, 1453, 1454)
            if bounds:
                parts.append(node("useablePeriod", None, bounds))
        return node("addr", attrs, parts)

    def country(self, element: int, code: str) -> m.Node:
        """``country`` with the code and, as the schematron wants, its name as text; "unknown"
        (W0014's exception UNK) is a null flavour, not a code of BRP table 34 (TC04121)."""
        code, cs, display = self.code(element, code)
        if cs == E.NULL_FLAVOR_OID:
            return node("country", {"nullFlavor": code})
        return node("country", {"code": code, "codeSystem": cs}, text=display or code)

    def phone(self, g: Group) -> m.Node:
        """The child's (G002) or a parent's (G017) telephone."""
        v, (number, use) = g.values, E.PHONE[g.groep]
        attrs = {"use": self.code(use, v[use])[0]} if use in v else {}
        return tel(v.get(number, ""), attrs)

    def relative(self, g: Group) -> m.Node:
        """A parent or carer (G014), brother or sister (G018) or son or daughter (G078): one
        personalRelationship template for all three (E.RELATIVES)."""
        spec, v = E.RELATIVES[g.groep], g.values
        holder = []
        if v.get(655) and g.groep == "G014":
            holder.append(node("id", {"extension": v[655], "root": m.OID_BSN}))
        parts = [node(tag, attrs, text=v[n]) for n, tag, attrs in
                 ((spec.given, "given", None), (spec.prefix, "prefix", {"qualifier": "VV"}), (spec.family, "family", None))
                 if v.get(n)]
        holder.append(node("name", {"use": "OR"}, parts or [node("family", {"nullFlavor": "UNK"})]))
        if spec.gender is not None and spec.gender in v:
            holder.append(self.coded_node("administrativeGenderCode", spec.gender, v[spec.gender]))
        holder.append(node("birthTime", {"value": ts(v[spec.birth])} if spec.birth in v else {"nullFlavor": "UNK"}))
        if g.groep == "G014":
            holder += self.parent_parts(v)
        # schema order: asMember before birthPlace and languageCommunication
        households = [node("asMember", {"classCode": "MBR"}, [node("group", {"classCode": "ORG", "determinerCode": "INSTANCE"}, [
            node("id", {"extension": str(x), "root": self.household_root})])]) for x in each(v.get(spec.household)) if x]
        at = next((i for i, n in enumerate(holder) if n.name in ("birthPlace", "languageCommunication")), len(holder))
        holder[at:at] = households
        if spec.relation is not None:
            code = self.coded_node("code", spec.relation, v[spec.relation]) if spec.relation in v else node("code", {"nullFlavor": "UNK"})
        else:  # a son or daughter: the BDS has no element for the role; the template wants one of HL7's child roles
            code = node("code", {"code": "CHILD", "codeSystem": E.ROLE_CODE, "displayName": "Child"})
        contact = [self.address(a) for a in g.groups_of("G016")] + [self.phone(p) for p in g.groups_of("G017")]
        if v.get(738):
            contact.append(mailto(v[738]))
        notes = [node("subjectOf", {"typeCode": "SBJ"}, [node("personalRelationshipObservation", {"classCode": "OBS", "moodCode": "EVN"}, [
            self.element_code_node(n), node("value", {"xsi:type": "TS", "value": ts(v[n])}) if E.kind(n, self.cat) == "date"
            else st(v[n])])]) for n in spec.notes if v.get(n) not in (None, "")]
        return node("personalRelationship", {"classCode": "PRS"}, [
            code, *contact, node("relationshipHolder1", {"classCode": "PSN", "determinerCode": "INSTANCE"}, holder), *notes])

    def parent_parts(self, v: dict) -> list[m.Node]:
        """What only a parent's holder carries, in schema order: death, education, belief, work,
        birth country, spoken language."""
        holder = []
        if 64 in v or 65 in v:  # Overleden, Datum overlijden
            holder.append(node("deceasedInd", {"value": "true" if v.get(64, True) else "false"}))
        if 65 in v:
            holder.append(node("deceasedTime", {"value": ts(v[65])}))
        if 66 in v:
            holder.append(self.coded_node("educationLevelCode", 66, v[66]))
        if v.get(69):  # Levensovertuiging: a text, as nullFlavor OTH with originalText
            holder.append(node("religiousAffiliationCode", {"nullFlavor": "OTH"}, [node("originalText", text=str(v[69]))]))
        if 67 in v or v.get(68):  # 67 Werk as the code, 68 Inhoud beroep as its text (which the template requires)
            attrs = self.coded_attrs(67, v[67]) if 67 in v else {"nullFlavor": "OTH"}
            holder.append(node("asEmployee", {"classCode": "EMP"}, [
                node("occupationCode", attrs, [node("originalText", text=str(v.get(68) or self.code(67, v[67])[2]))]),
                node("employerOrganization", {"classCode": "ORG", "determinerCode": "INSTANCE", "nullFlavor": "NI",
                                              "xsi:nil": "true"})]))
        if 71 in v:
            country = self.country(71, v[71])
            if "nullFlavor" in country.attrs:  # a parent's birthPlace/addr needs a coded country (TC04493)
                self.dropped[71] += 1
            else:
                holder.append(node("birthPlace", None, [node("addr", None, [country])]))
        if E.SPOKEN_LANGUAGE in v:
            holder.append(node("languageCommunication", None, [
                self.coded_node("languageCode", E.SPOKEN_LANGUAGE, v[E.SPOKEN_LANGUAGE])]))
        return holder

    def household(self, g: Group) -> m.Node | None:
        """G077, the child's household (asMember/group): None (counted as dropped) without the id
        and kind the template requires."""
        h, v = E.HOUSEHOLD, g.values
        if not v.get(h["id"]) or h["kind"] not in v:
            self.dropped.update(n for n, _ in g.items())
            return None
        group = [node("id", {"extension": str(v[h["id"]]), "root": self.household_root}),
                 self.coded_node("code", h["kind"], v[h["kind"]])]
        if v.get(h["desc"]):
            group.append(node("desc", text=str(v[h["desc"]])))
        return node("asMember", {"classCode": "MBR"}, [node("group", {"classCode": "ORG", "determinerCode": "INSTANCE"}, group)])

    # --- organisations, consents, care status, non-BDS ---------------------------------

    def organisation(self, g: Group) -> m.Organization:
        """G085, an organisation that carried out the care: the ``author`` (E.JGZ_ORGANISATIONS)."""
        spec, v = E.JGZ_ORGANISATIONS["G085"], _with_period(g, E.JGZ_ORGANISATIONS["G085"].period)
        ids = [m.II(root=root, extension=v[n]) for root, n in spec.ids.items() if v.get(n)] or [m.II(null_flavor="NI")]
        extra = [_assigned_organisation(v[spec.name])] if v.get(spec.name) else []
        return m.Organization(template_ids=[TPL + "122"], ids=ids, other_attrs={"classCode": "ASSIGNED"},
                              link_attrs={"typeCode": spec.type_code}, link_extra=[_link_time(v, spec.period)],
                              extra=chain(extra, "id"))

    def responsible(self, g: Group) -> m.Node:
        """G091, the JGZ organisation responsible for the child by the BRP: ``responsibleParty``
        with the same assignedEntity (template 122) as an executing organisation's author."""
        spec = E.JGZ_ORGANISATIONS["G091"]
        v = _with_period(g, spec.period)
        ids = [node("id", {"extension": str(v[n]), "root": root}) for root, n in spec.ids.items() if v.get(n)]
        entity = [node("templateId", {"root": TPL + "122"}), *(ids or [node("id", {"nullFlavor": "NI"})])]
        if v.get(spec.name):
            entity.append(_assigned_organisation(v[spec.name]))
        return node(spec.link, {"typeCode": spec.type_code}, [
            _link_time(v, spec.period), node("assignedEntity", {"classCode": "ASSIGNED"}, entity)])

    def consent(self, g: Group) -> m.Consent:
        yes_no, source, date = E.CONSENTS[g.groep]
        v = g.values
        if yes_no not in v:
            raise BuildError(yes_no, f"{g.groep} without element {yes_no} (yes/no)")
        rvp = g.groep == "G115"
        extra = []
        author = []
        if date in v:
            author.append(node("time", {"value": ts(v[date])}))
        party = [self.coded_node("code", source, v[source], xsi="CV")] if source in v else [
            node("code", {"xsi:type": "CV", "nullFlavor": "UNK"})]
        name = node("name", text=v[E.RVP_SOURCE_NAME]) if rvp and v.get(E.RVP_SOURCE_NAME) else node(
            "name", {"nullFlavor": "NI"})
        party.append(node("agentPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"}, [name]))
        author.append(node("responsibleParty", {"classCode": "CON"}, party))
        extra.append(node("author", {"typeCode": "AUT"}, author))
        if rvp:
            extra += self.rvp_recorder(v)
        if g.groep == "G012" and v.get(1407):
            extra.append(self.annotation("subjectOf", None, 1407, st(v[1407])))
        if rvp and E.RVP_MANNER in v:
            extra.append(self.annotation("subjectOf", {"typeCode": "SUBJ"}, E.RVP_MANNER,
                                         self.coded_node("value", E.RVP_MANNER, v[E.RVP_MANNER], xsi="CV")))
        return m.Consent(
            element=yes_no, code=self.element_code(yes_no), negation_ind=m.Consent.negation_for(yes_no, bool(v[yes_no])),
            effective_time=m.Time(high=m.Time(value=ts(v[E.RVP_END]))) if rvp and E.RVP_END in v else None,
            other_attrs={"classCode": "CONS", "moodCode": "EVN"},
            link_attrs={"typeCode": "AUTH", "contextConductionInd": "false"},
            extra=chain(extra, "effectiveTime" if rvp and E.RVP_END in v else "code"))

    def nurse_vaccination(self, v: dict) -> list[m.Consent]:
        """469 as its consentEvent (template authorization469): the doctor who gave the permission
        is the author's responsibleParty (ids, name), its date the author's time."""
        n = E.NURSE_VACCINATION
        if n not in v:
            self.dropped.update(x for x in (E.NURSE_VACCINATION_DATE, E.NURSE_VACCINATION_NAME, *E.NURSE_VACCINATION_IDS.values())
                                if v.get(x) is not None)
            return []
        # the schema wants the author: the date, else an unknown time; the doctor, else a nameless one
        ids = [node("id", {"extension": str(v[x]), "root": root}) for root, x in E.NURSE_VACCINATION_IDS.items() if v.get(x)]
        name = node("name", text=str(v[E.NURSE_VACCINATION_NAME])) if v.get(E.NURSE_VACCINATION_NAME) else \
            node("name", {"nullFlavor": "NI"})
        when = v.get(E.NURSE_VACCINATION_DATE)
        extra = [node("author", {"typeCode": "AUT"}, [
            node("time", {"value": ts(when)} if when is not None else {"nullFlavor": "UNK"}),
            node("responsibleParty", {"classCode": "ASSIGNED"}, [
                *ids, node("agentPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"}, [name])])])]
        return [m.Consent(element=n, code=self.element_code(n), negation_ind=m.Consent.negation_for(n, bool(v[n])),
                          other_attrs={"classCode": "CONS", "moodCode": "EVN"},
                          link_attrs={"typeCode": "AUTH", "contextConductionInd": "false"}, extra=chain(extra, "code"))]

    def annotation(self, link: str, link_attrs: dict | None, element: int, value: m.Node) -> m.Node:
        """``link/annotation`` with BDS element ``element`` and its ``value`` (consent remarks, notes).
        No classCode: the XSD fixes OBS where the rules want ACT."""
        return node(link, link_attrs, [node("annotation", None, [self.element_code_node(element), value])])

    def rvp_recorder(self, v: dict) -> list[m.Node]:
        """G115: the JGZ employee (1537) and organisation (1538-1540) who recorded the consent."""
        ids = [node("id", {"extension": v[n], "root": root}) for n, root in
               ((E.RVP_ORG_URA, m.OID_URA), (E.RVP_ORG_AGB, m.OID_AGB)) if v.get(n)]
        if not (v.get(E.RVP_EMPLOYEE) or ids or v.get(E.RVP_ORG_NAME)):
            return []
        person = node("assignedPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"}, [
            node("name", text=v[E.RVP_EMPLOYEE]) if v.get(E.RVP_EMPLOYEE) else node("name", {"nullFlavor": "NI"})])
        entity = [person]
        if ids or v.get(E.RVP_ORG_NAME):  # the template wants both: a URA or AGB, and a name
            if not ids:
                raise BuildError(E.RVP_ORG_URA, "G115: the recording organisation needs a URA (1538) or AGB (1539)")
            if not v.get(E.RVP_ORG_NAME):
                raise BuildError(E.RVP_ORG_NAME, "G115: the recording organisation needs its name (1540)")
            entity.append(node("representedOrganization", {"classCode": "ORG", "determinerCode": "INSTANCE"},
                               [*ids, node("name", text=v[E.RVP_ORG_NAME])]))
        return [node("consultant", {"typeCode": "CON"}, [node("assignedEntity1", {"classCode": "ASSIGNED"}, entity)])]

    def care_status(self, g: Group) -> m.CareStatus:
        element, date = (1197, 1330) if g.groep == "G093" else (487, 488)
        v = g.values
        reason = None
        if element in v:
            code, cs, display = self.code(element, v[element])
            reason = m.Coded(code=code, code_system=cs, display_name=display)
        return m.CareStatus(
            element=element, code=self.element_code(element),
            effective_time=m.Time(value=ts(v[date])) if date in v else None,
            reason_code=reason, other_attrs={"classCode": "STC", "moodCode": "EVN"},
            link_attrs={"typeCode": "SUBJ", "contextConductionInd": "false"})

    def non_bds(self, g: Group) -> m.NonBdsItem:
        v = g.values
        extra = []
        if v.get(1335):
            rubriek = self.cat.rubriek(v[1335])
            attrs = {"code": v[1335], "codeSystem": m.OID_BDS_RUBRIEK}
            if rubriek and rubriek.name:
                attrs["displayName"] = rubriek.name
            extra.append(node("pertainsTo", {"typeCode": "PERT"}, [
                node("categoryInBDS", {"classCode": "CLUSTER", "moodCode": "DEF"}, [node("code", attrs)])]))
        return m.NonBdsItem(
            template_ids=[TPL + "10028"],
            code=m.Coded(null_flavor="OTH", original_text=v.get(1332)),
            text=v.get(1333),
            other_attrs={"classCode": "OBS", "moodCode": "EVN"},
            link_attrs={"typeCode": "COMP"},
            extra=chain(extra, "text"))

    # --- activities ---------------------------------------------------------------------

    def activity(self, a: Facts) -> m.Activity:
        v = a.values
        if 724 not in v:
            raise BuildError(724, "activity without a date (724)")
        ident = v.get(1377)
        # W0690 Status activiteit as Nictiz's messages write it: held (01) an event, started and
        # broken off (02) an aborted event, not held (03-08) a cancelled intent
        mood, status = {"01": ("EVN", "completed"), "02": ("EVN", "aborted")}.get(str(v.get(1605, "01")), ("INT", "cancelled"))
        code = self.coded(494, v[494]) if 494 in v else m.Coded(null_flavor="OTH")
        extra = []
        if 1599 in v or v.get(1501):
            entity = [node("id", {"nullFlavor": "NI"})]
            if 1599 in v:
                entity.append(self.coded_node("code", 1599, v[1599]))
            if v.get(1501):
                entity.append(node("assignedPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"},
                                   [node("name", text=v[1501])]))
            extra.append(node("performer", {"typeCode": "PRF"}, [node("assignedEntity", {"classCode": "ASSIGNED"}, entity)]))
        extra += self.requester_and_escort(v, mood)
        reasons = []
        if 1424 in v:
            reasons += [self.coded(1424, x) for x in each(v[1424])]
        rubrieken = self.rubrieken(a)
        non_bds = [self.non_bds(g) for g in a.groups_of("G083")]
        vaccinations = [self.vaccination(g) for g in a.groups_of("G076")]
        # the conclusion follows every other child the encounter has (schema order)
        last = ("component3" if vaccinations else "component1" if non_bds else "pertinentInformation" if rubrieken
                else "performer" if extra else "reasonCode" if reasons else "effectiveTime")
        prick, dropped = heelprick.build(v, self)  # R037: component4, after the vaccinations
        self.dropped.update(dropped)
        prick = chain([prick] if prick is not None else [], last)
        conclusion = chain(self.conclusion(a), "component4" if prick else last)
        return m.Activity(
            other_attrs={"classCode": "ENC", "moodCode": mood},
            link_attrs={"typeCode": "COMP"},
            ids=[m.II(root=self.activity_root, extension=str(ident) if ident is not None else None,
                      null_flavor=None if ident is not None else "NI")],
            code=code,
            status_code=m.Coded(code=status),
            effective_time=m.Time(value=ts(v[724])),
            reason_codes=reasons,
            rubrieken=rubrieken,
            non_bds=non_bds,
            vaccinations=vaccinations,
            extra=chain(extra, "reasonCode" if reasons else "effectiveTime") + prick + conclusion,
        )

    def requester_and_escort(self, v: dict, mood: str) -> list[m.Node]:
        """1423 Verzoeker activiteit and 731 Begeleider, in the encounter's schema order (author,
        escort, inFulfillmentOf), as Nictiz's messages write them. A held activity (EVN) may have
        no author (TC01134): its requester authors the planned encounter it fulfils. An activity
        not held (INT) fulfils none (TC01446): the requester is its own author."""
        who = self.requester(v[1423]) if 1423 in v else None
        out = []
        if who is not None and mood == "INT":
            out.append(node("author", {"typeCode": "AUT"}, [who]))
        if 1600 in v or v.get(1606):  # R013: who was consulted about the reporting code (Meldcode)
            entity = [self.coded_node("code", 1600, v[1600])] if 1600 in v else []
            if v.get(1606):
                entity.append(node("assignedPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"},
                                   [node("name", text=v[1606])]))
            out.append(node("consultant", {"typeCode": "CON"}, [node("assignedEntity", {"classCode": "ASSIGNED"}, entity)]))
        for escort in each(v[731]) if 731 in v else []:
            out.append(node("escort", {"typeCode": "ESC"}, [node("responsibleParty", {"classCode": "ASSIGNED"}, [
                self.coded_node("code", 731, escort), node("agentPerson", {"nullFlavor": "NI"})])]))
        if who is not None and mood == "EVN":
            kind_attrs = self.coded_attrs(494, v[494]) if 494 in v else {"nullFlavor": "OTH"}  # the activity's type
            out.append(node("inFulfillmentOf", {"typeCode": "FLFS"}, [node("encounter", {"classCode": "ENC", "moodCode": "INT"}, [
                node("id", {"nullFlavor": "NI"}), node("code", kind_attrs), node("statusCode", {"code": "completed"}),
                node("author", {"typeCode": "AUT"}, [who])])]))
        return out

    def requester(self, code: str) -> m.Node:
        """Who asked for an activity (W0659): the child (03), a parent (02), another party."""
        if code == "03":
            return node("patient", {"classCode": "PAT"})
        if code == "02":
            return node("personalRelationship", {"classCode": "PRS"}, [self.coded_node("code", 1423, code), node(
                "relationshipHolder", {"classCode": "PSN", "determinerCode": "INSTANCE", "nullFlavor": "NI"})])
        return node("assignedEntity1", {"classCode": "ASSIGNED"}, [self.coded_node("code", 1423, code)])

    def conclusion(self, a: Facts) -> list[m.Node]:
        """R047: the conclusion (482), its indications and follow-ups (G058) and its note (493);
        a note without a conclusion is the encounter's own annotation (subjectOf2)."""
        v = a.values
        indications = a.groups_of("G058")
        notes = [x for x in each(v.get(493)) if x]
        # the conclusion's note first, then the encounter's own (subjectOf2); each has one place
        room = 2 if 482 in v else 1
        own = notes[room - 1:room]
        if len(notes) > room:
            self.dropped[493] += len(notes) - room
        own_note = [self.annotation("subjectOf2", {"typeCode": "SUBJ"}, 493, st(x)) for x in own]
        if 482 not in v:
            if indications:
                raise BuildError(482, "R047: indications need the conclusion (482)")
            return own_note
        parts = [self.element_code_node(482), node("text", text=str(v[482]))]
        parts += [self.indication(g) for g in indications]
        if notes:
            parts.append(self.annotation("subjectOf", {"typeCode": "SUBJ"}, 493, st(notes[0])))
        return [node("subjectOf1", {"typeCode": "SUBJ"}, [node("conclusion", {"classCode": "OBS", "moodCode": "EVN"}, parts)])] + own_note

    def indication(self, g: Group) -> m.Node:
        """G058: the indication (485) and, as its reason-of, the intervention (483): an intent, or a
        referral (483 = 6) to 1159 with the letter flag 1494."""
        v = g.values
        for n in (485, 483):
            if n not in v:
                raise BuildError(n, f"G058 without element {n}")
        if v[483] == E.INTERVENTION_REFERRAL:
            parts = [self.coded_node("code", 483, v[483])]
            if 1159 in v:
                parts.append(node("performer", {"typeCode": "PRF"}, [node("assignedEntity", {"classCode": "ASSIGNED"}, [
                    self.coded_node("code", 1159, v[1159])])]))
            if 1494 in v:
                parts.append(node("component", {"typeCode": "COMP"}, [node("additionalObservation", {"classCode": "OBS"}, [  # moodCode: the XSD and the rules disagree
                    self.element_code_node(1494), node("value", {"xsi:type": "BL", "value": "true" if v[1494] else "false"})])]))
            follow = node("referral", {"classCode": "PCPR", "moodCode": "RQO"}, parts)
        else:
            for n in (1159, 1494):
                if n in v:
                    raise BuildError(n, f"G058: element {n} belongs to a referral (intervention 483 = 6)")
            follow = node("actIntent", {"classCode": "ACT", "moodCode": "INT"}, [self.coded_node("code", 483, v[483])])
        return node("component", {"typeCode": "COMP"}, [node("indication", {"classCode": "OBS", "moodCode": "EVN"}, [
            self.element_code_node(485), self.coded_node("value", 485, v[485], xsi="CV"),
            node("reasonOf", {"typeCode": "RSON"}, [follow])])])

    def rubrieken(self, a: Facts) -> list[m.Rubriek]:
        """One rubricCluster per rubriek: R018 first, then in code order; elements in number order."""
        by_rubriek: dict[str, list[tuple[int, m.Observation | m.Group]]] = {}
        carried = E.carried(self.cat)
        for host in self.placeholder_hosts(a.values):
            obs = self.observation(host, None, a.values)
            by_rubriek.setdefault(self.element(host).rubriek, []).append((host, obs))
        for n in sorted(a.values):
            if n in E.ACTIVITY or n in carried or n in E.CONCLUSION:
                continue
            e = self.element(n)
            if n in E.foreign() and e and e.rubriek:
                for value in each(a.values[n]):
                    by_rubriek.setdefault(e.rubriek, []).append((n, self.foreign_observation(n, value)))
                continue
            if not E.observation(e):
                self.dropped[n] += 1
                continue
            for i, value in enumerate(each(a.values[n])):  # what it carries goes with the first
                by_rubriek.setdefault(e.rubriek, []).append((n, self.observation(n, value, a.values if i == 0 else None)))
        for g in a.groups:
            if g.groep in ("G076", "G083", "G058"):
                continue
            built = self.group(g)
            if built is not None:
                rubriek, group = built
                by_rubriek.setdefault(rubriek, []).append((min(g.values or [0]), group))
        out = []
        for code in sorted(by_rubriek, key=lambda r: (r != "R018", r)):
            r = self.cat.rubriek(code)
            items = [item for _, item in by_rubriek[code]]
            out.append(m.Rubriek(
                rubriek=code, template_ids=[r.template_id] if r and r.template_id else [],
                code=m.Coded(code=code, code_system=m.OID_BDS_RUBRIEK, display_name=r.name if r else None),
                other_attrs={"classCode": "CLUSTER", "moodCode": "EVN"}, items=items))
        return out

    def group(self, g: Group) -> tuple[str, m.Group] | None:
        items: list[Any] = []
        rubriek = None
        carried = E.carried(self.cat)
        for host in self.placeholder_hosts(g.values):
            rubriek = rubriek or self.element(host).rubriek
            items.append(self.observation(host, None, g.values))
        for n in sorted(g.values):
            if n in carried:
                continue
            e = self.element(n)
            if not E.observation(e):
                self.dropped[n] += 1
                continue
            rubriek = rubriek or e.rubriek
            for i, value in enumerate(each(g.values[n])):
                items.append(self.observation(n, value, g.values if i == 0 else None))
        for sub in g.groups:
            built = self.group(sub)
            if built:
                rubriek = rubriek or built[0]
                items.append(built[1])
        if not items or rubriek is None:
            return None
        gg = self.cat.groep(g.groep)
        return rubriek, m.Group(groep=g.groep, code=m.Coded(code=g.groep, code_system=m.OID_BDS_GROEP,
                                                            display_name=gg.name if gg else None), items=items)

    def foreign_observation(self, n: int, value: Any) -> m.Observation:
        """An element the templates code outside the BDS (R039 blood pressure in SNOMED, mm[Hg]):
        no templateId and no element code, as Nictiz writes it."""
        f = E.foreign()[n]
        if f.get("type", "PQ") != "PQ":
            raise BuildError(n, f"element {n}: a {f.get('type')} value coded outside the BDS cannot be written")
        try:
            fields = {"xsi_type": "PQ", "value": quantity_text(value), "unit": f.get("unit") or self.element(n).unit}
        except (TypeError, ValueError, ArithmeticError, AttributeError):
            raise BuildError(n, f"element {n}: {value!r} is not a quantity") from None
        return construct(m.Observation, {
            "element": None, "template_ids": [], "negation_ind": "false",
            "code": m.Coded(code=f["code"], code_system=f["codeSystem"], display_name=f.get("displayName")),
            "value": construct(m.Value, fields),
            "other_attrs": {"classCode": "OBS", "moodCode": "EVN"}})

    def placeholder_hosts(self, values: dict) -> list[int]:
        """Hosts to write without a value of their own (nullFlavor NI, as Nictiz writes them) for the
        carried elements (E.carriers) none of whose hosts is at this level: the first host with an
        uncoded value (1345 for 1341-1344). A carried element without such a host is counted dropped."""
        placeholders: list[int] = []
        for n, hosts in E.carried(self.cat).items():
            if n not in values or any(host in values for host, _ in hosts):
                continue
            host = next((h for h, _ in hosts if self.element(h).hl7_type in _UNCODED), None)
            if host is None:
                self.dropped[n] += 1
            elif host not in placeholders:
                placeholders.append(host)
        return placeholders

    def observation(self, n: int, value: Any, level: dict | None = None) -> m.Observation:
        """Element ``n``'s observation; ``level`` (the values beside it) gives what its template
        carries for other elements: a method, a target site, the relative it is about."""
        e = self.element(n)
        t = e.hl7_type
        try:
            if value is None:  # a host that only carries others (see placeholder_hosts)
                fields = {"xsi_type": t, "null_flavor": "NI"}
            elif t == "PQ":
                fields = {"xsi_type": "PQ", "value": quantity_text(value), "unit": e.unit}
            elif t == "BL":
                fields = {"xsi_type": "BL", "value": "true" if value else "false"}
            elif t == "ST":
                fields = {"xsi_type": "ST", "text": str(value)}
            elif t == "INT":
                fields = {"xsi_type": "INT", "value": str(int(value))}
            elif t == "TS":
                fields = {"xsi_type": "TS", "value": ts(value)}
            else:
                fields = _with_other_text(dict(_coded(self.version, n, value, e.bindings.get("value"), "CV")[1]), value)
        except BuildError:
            raise
        except (TypeError, ValueError, ArithmeticError, AttributeError):
            raise BuildError(n, f"element {n}: {value!r} is not a {t} value") from None
        parts: dict[str, Any] = {}
        extra: list[m.Node] = []  # in schema order: subject, performer, location
        for path, carrier in E.carriers(self.cat).get(n, {}).items():
            if level is None or carrier not in level:
                continue
            w = e.bindings.get(path)
            if path == "methodCode":
                parts["method"] = self.coded(carrier, level[carrier], w)
            elif path == "targetSiteCode":
                parts["target_site"] = self.coded(carrier, level[carrier], w)
            elif path == "effectiveTime":  # 1342 Datum afname SPP on 1345
                parts["effective_time"] = m.Time(value=ts(level[carrier]))
            elif path == "performer/assignedEntity/code":  # 1343 SPP ingevuld door
                extra.append(node("performer", {"typeCode": "PRF"}, [node("assignedEntity", {"classCode": "ASSIGNED"}, [
                    self.coded_node("code", carrier, level[carrier], w)])]))
            elif path == "location/serviceDeliveryLocation/code":  # 1344 Plaats van afname SPP
                extra.append(node("location", {"typeCode": "LOC"}, [node("serviceDeliveryLocation", {"classCode": "SDLOC"}, [
                    self.coded_node("code", carrier, level[carrier], w)])]))
            else:  # subject/personalRelationship/code: the relative, as the templates write it
                extra.insert(0, node("subject", {"typeCode": "SBJ"}, [node("personalRelationship", {"classCode": "PRS"}, [
                    self.coded_node("code", carrier, level[carrier], w),
                    node("relationshipHolder", {"classCode": "PSN", "determinerCode": "INSTANCE", "nullFlavor": "NI"})])]))
        if extra:
            parts["extra"] = chain(extra, "targetSiteCode" if "target_site" in parts else "methodCode" if "method" in parts else "value")
        return construct(m.Observation, {
            "element": n, "template_ids": [e.template_id], "code": self.element_code(n), "negation_ind": "false",
            "value": construct(m.Value, fields), **parts,
            "other_attrs": {"classCode": "OBS", "moodCode": "EVN"}})

    def vaccination(self, g: Group) -> m.Vaccination:
        v = g.values
        if 1409 not in v:
            raise BuildError(1409, "vaccination (G076) without a date (1409)")
        # a code, or a null flavour with a text (TC03048): an unnamed "other" vaccine says "anders"
        vaccine = v.get(461)
        if vaccine is not None and not isinstance(vaccine, Other) and E.is_other(self.cat.valueset("W0422"), vaccine):
            vaccine = Other(vaccine, "anders")
        medicine = [self.coded_node("code", 461, vaccine) if vaccine is not None else node("code", {"nullFlavor": "UNK"}, [
            node("originalText", text="onbekend")])]
        if v.get(472):
            medicine.append(node("lotNumberText", text=v[472]))
        extra = [node("consumable", {"typeCode": "CSM"}, [node("medication", {"classCode": "ADMM"}, [
            node("administrableMedicine", {"classCode": "MMAT", "determinerCode": "KIND"}, medicine)])])]
        if v.get(1336) or v.get(1410) or v.get(1452):
            entity = [node("templateId", {"root": TPL + "124"})]
            if v.get(1410):
                entity.append(node("assignedPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"},
                                   [node("name", text=v[1410])]))
            org = [node("id", {"nullFlavor": "NI"})] + ([node("name", text=v[1336])] if v.get(1336) else [])
            if v.get(1452):  # the organisation's location where it was given
                org.append(node("organizationContains", {"classCode": "PART"}, [
                    node("partOrganization", {"classCode": "ORG", "determinerCode": "INSTANCE"},
                         [node("id", {"nullFlavor": "NA"}), node("name", text=v[1452])])]))
            entity.append(node("representedOrganization", {"classCode": "ORG", "determinerCode": "INSTANCE"}, org))
            extra.append(node("performer", {"typeCode": "PRF"}, [node("assignedEntity", {"classCode": "ASSIGNED"}, entity)]))
        if 686 in v:
            extra.append(node("reason", {"typeCode": "RSON"}, [node("vaccinationReason", {"classCode": "OBS", "moodCode": "EVN"}, [
                self.element_code_node(686), self.coded_node("value", 686, v[686], xsi="CV")])]))
        period = next((_bounds(p.values, 1483, 1484) for p in g.groups_of("G111")), [])
        reporters = [node("id", {"root": root, "extension": str(v[n])}) for n, root in E.REACTION_REPORTER.items() if v.get(n)]
        if v.get(874) or period or 875 in v or reporters:  # as Nictiz's ADA conversion writes the reaction
            reaction = [self.element_code_node(874)]
            if period:
                reaction.append(node("effectiveTime", {"xsi:type": "IVL_TS"}, period))
            if v.get(874):
                reaction.append(node("value", {"xsi:type": "ST"}, text=v[874]))
            if 875 in v or reporters:
                info = [self.element_code_node(875)] + ([node("effectiveTime", {"value": ts(v[875])})] if 875 in v else [])
                if reporters:
                    info.append(node("performer", {"typeCode": "PRF"}, [node("assignedPerson", {"classCode": "ASSIGNED"}, reporters)]))
                reaction.append(node("subjectOf", {"typeCode": "SUBJ"}, [
                    node("informationControlActEvent", {"classCode": "INFO", "moodCode": "EVN"}, info)]))
            extra.append(node("causeOf2", {"typeCode": "CAUS"}, [node("adverseReaction", {"classCode": "OBS", "moodCode": "EVN"}, reaction)]))
        if 683 in v:
            extra.append(node("authorization", {"typeCode": "AUTH"}, [
                node("consentEvent", {"classCode": "CONS", "moodCode": "EVN", "negationInd": "true"}, [
                    node("code", {"code": "IMMUNIZ", "codeSystem": CS_ACT_CODE, "displayName": "Immunization"}),
                    node("reasonOf", {"typeCode": "RSON"}, [node("observationEvent", {"classCode": "OBS", "moodCode": "EVN"}, [
                        self.element_code_node(683), self.coded_node("value", 683, v[683], xsi="CV")])])])]))
        for n in (608, 872, 1589):
            if n not in v:
                continue
            if n == 608:
                value = self.coded_node("value", 608, v[608], xsi="CV")
            elif n == 872:
                value = node("value", {"xsi:type": "ST"}, text=v[872])
            else:
                value = node("value", {"xsi:type": "BL", "value": "true" if v[1589] else "false"})
            extra.append(node("component", {"typeCode": "COMP"}, [
                node("vaccinationObservation", {"classCode": "OBS", "moodCode": "EVN"}, [self.element_code_node(n), value])]))
        return m.Vaccination(
            template_ids=[TPL + "116"], negation_ind="true" if 683 in v else "false",
            code=m.Coded(code="IMMUNIZ", code_system=CS_ACT_CODE, display_name="Immunization"),
            effective_time=m.Time(value=ts(v[1409])),
            other_attrs={"classCode": "SBADM", "moodCode": "EVN"},
            extra=chain(extra, "effectiveTime"))


def _arc(ura: str) -> str:
    """The organisation's OID arc under the URA root (an OID node has no leading zeros)."""
    return f"{m.OID_URA}.{int(ura)}" if ura.isdecimal() else f"{m.OID_URA}.0"


def _newest(f: Facts, element: int) -> str | None:
    """An element of the organisation with the latest start (the one sending the dossier)."""
    orgs = [g for g in f.groups_of("G085") if g.values.get(element)]
    if not orgs:
        return None

    def start(g: Group):
        for p in g.groups_of("G098"):
            if 1457 in p.values:
                return p.values[1457]
        return dt.date.min

    return max(orgs, key=start).values[element]


def rewrap(dossier: m.Dossier, record: Record, envelope: Envelope) -> m.Dossier:
    """Give a dossier a new message wrapper, for formats that carry none (ADA, FHIR).

    The sending organisation is the envelope's, else the dossier's newest (from ``record``,
    the dossier's BDS facts). Of the dossier itself only a missing ``code`` is filled: it is
    CPHC in every DOB.
    """
    b = _Builder("4.2.0" if dossier.interaction == INTERACTION["4.2.0"] else "4.1.3", envelope)
    f = record.facts
    ura = envelope.ura or _newest(f, 603) or "00000000"
    b.org_name = envelope.organisation_name or _newest(f, 1506) or "onbekend"
    dossier_id = dossier.ids[0] if dossier.ids else m.II(root=f"{_arc(ura)}.2", extension=record.key)
    dossier.transmission = b.transmission(dossier.interaction, dossier.bsn, ura, record.key)
    dossier.request = b.request(dossier_id, ura)
    if dossier.code is None:  # the same in every DOB; a format without the message may lack it
        dossier.code = m.Coded(code="CPHC", code_system=CS_ACT_CODE,
                               display_name="certified public health and general preventive medicine care")
    return dossier


def build(record: Record, version: str, envelope: Envelope) -> tuple[m.Dossier, Counter[int]]:
    """The dossier for ``record`` in BDS ``version`` (4.1.3 → NL03, 4.2.0 → NL04) and what was dropped."""
    if version not in INTERACTION:
        raise BuildError(None, f"cannot write BDS {version}; choose one of {', '.join(VERSIONS)}")
    b = _Builder(version, envelope)
    dossier = b.dossier(record)
    return dossier, b.dropped
