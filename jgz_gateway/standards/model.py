"""The canonical dossier model: one typed, I/O-free language in the middle.

A :class:`Dossier` holds everything a dossieroverdrachtbericht (DOB) carries. The
BDS content is typed and keyed by BDS numbers: activities (contact moments) hold
rubriek clusters (``R027``) holding observations (element ``235``) and groups
(``G076``). Wrapper, patient, consents, care status, vaccinations and attachments
are typed where the gateway reasons about them.

Losslessness: whatever a message carries that has no typed field is kept verbatim
as :class:`Node` trees in ``extra`` (children) and ``other_attrs`` (attributes) of
the nearest typed object, so ``parse`` then ``build`` gives the same leaf content.
``after`` on an extra node records which sibling it followed, so the writer puts it
back in schema order.
"""

from __future__ import annotations

from collections import Counter

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

# Code systems (OIDs) the model refers to by name.
OID_BDS_ELEMENT = "2.16.840.1.113883.2.4.4.40.267"
OID_BDS_RUBRIEK = "2.16.840.1.113883.2.4.4.40.391"
OID_BDS_GROEP = "2.16.840.1.113883.2.4.4.40.393"
OID_BSN = "2.16.840.1.113883.2.4.6.3"
OID_URA = "2.16.528.1.1007.3.3"
OID_AGB = "2.16.840.1.113883.2.4.6.1"  # AGB-code (Vektis)
OID_UZI_SYSTEM = "2.16.528.1.1007.3.2"
OID_AORTA_APP = "2.16.840.1.113883.2.4.6.6"
TEMPLATE_PREFIX = "2.16.840.1.113883.2.4.6.10.100."


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


def datatype(xsi_type: str | None) -> str | None:
    """An ``xsi:type`` value's datatype, whatever prefix the message bound HL7 to (``hl7:PQ`` → ``PQ``)."""
    return xsi_type.rpartition(":")[2] if xsi_type else None


class Node(_Model):
    """A verbatim XML element: the lossless fallback for anything not typed.

    ``name`` is the local name for HL7 elements (namespace ``urn:hl7-org:v3``)
    and ``{namespace}local`` for any other. Attribute keys are local names, or
    ``xsi:type``-style for XML Schema instance attributes, or ``{ns}local``.
    """

    name: str
    attrs: dict[str, str] = Field(default_factory=dict)
    text: str | None = None
    tail: str | None = None
    children: list[Node] = Field(default_factory=list)
    after: str | None = None

    def child(self, name: str) -> Node | None:
        return next((c for c in self.children if c.name == name), None)

    @property
    def type(self) -> str | None:
        """The ``xsi:type`` without namespace prefix (``hl7:TS`` → ``TS``), as :attr:`Value.type`."""
        return datatype(self.attrs.get("xsi:type"))

    def find(self, path: str) -> Node | None:
        """First descendant along a ``/``-separated path of local names."""
        node: Node | None = self
        for step in path.split("/"):
            node = node.child(step) if node else None
        return node

    def element_codes(self) -> Counter[int]:
        """The BDS element numbers coded anywhere inside (``@code`` in …40.267), counted: what a
        reader that does not interpret this part reports as unread."""
        found: Counter[int] = Counter()
        stack = [self]
        while stack:
            n = stack.pop()
            if n.attrs.get("codeSystem") == OID_BDS_ELEMENT and n.attrs.get("code", "").isdecimal():
                found[int(n.attrs["code"])] += 1
            stack.extend(n.children)
        return found

    def findall(self, path: str) -> list[Node]:
        nodes = [self]
        for step in path.split("/"):
            nodes = [c for n in nodes for c in n.children if c.name == step]
        return nodes


class XmlBacked(_Model):
    """Base of every typed element: keeps the unmodelled rest of the element."""

    other_attrs: dict[str, str] = Field(default_factory=dict)
    extra: list[Node] = Field(default_factory=list)

    def extra_node(self, path: str) -> Node | None:
        first, _, rest = path.partition("/")
        for node in self.extra:
            if node.name == first:
                found = node.find(rest) if rest else node
                if found is not None:
                    return found
        return None


class Linked(XmlBacked):
    """A typed act or role that hangs under an ActRelationship/Participation element.

    The wrapper's own attributes (``typeCode``, ``contextConductionInd``...) and any
    extra wrapper children are kept here, so the link round-trips too.
    """

    link_attrs: dict[str, str] = Field(default_factory=dict)
    link_extra: list[Node] = Field(default_factory=list)


# --- HL7 datatypes -----------------------------------------------------------------


class II(XmlBacked):
    """Instance identifier (id): an OID root plus an optional extension."""

    root: str | None = None
    extension: str | None = None
    null_flavor: str | None = None


class Coded(XmlBacked):
    """A coded value (CD/CE/CV/CS/CO): code in a code system, or a null flavour."""

    code: str | None = None
    code_system: str | None = None
    display_name: str | None = None
    code_system_name: str | None = None
    code_system_version: str | None = None
    null_flavor: str | None = None
    original_text: str | None = None
    xsi_type: str | None = None


class Time(XmlBacked):
    """A point in time (TS) or an interval (IVL_TS with low/high)."""

    value: str | None = None
    null_flavor: str | None = None
    xsi_type: str | None = None
    low: Time | None = None
    high: Time | None = None


class Value(Coded):
    """The ``value`` of an observation, whatever its HL7 datatype.

    ``xsi_type`` is the type as written (``PQ``, ``CV``, ``ST``, ``BL``, ``INT``,
    ``TS``, possibly prefixed). Quantities, integers, booleans and timestamps use
    ``value`` (and ``unit``); codes use the fields of :class:`Coded`; strings ``text``.
    """

    value: str | None = None
    unit: str | None = None
    text: str | None = None

    @property
    def type(self) -> str | None:
        """The datatype without namespace prefix (``hl7:PQ`` → ``PQ``)."""
        return datatype(self.xsi_type)


# --- Transmission and ControlAct wrapper ---------------------------------------------


class Device(Linked):
    """Sender or receiver application (``receiver/device``; AORTA application id)."""

    ids: list[II] = Field(default_factory=list)

    @property
    def application_id(self) -> str | None:
        return next((i.extension for i in self.ids if i.root == OID_AORTA_APP), None)


class AttentionLine(XmlBacked):
    """``attentionLine``: the PATID keyword with the child's BSN as an II value."""

    key_word_text: Value | None = None
    value: II | None = None


class Transmission(XmlBacked):
    """The transmission wrapper (root element) and the ControlAct, without the payload.

    The ControlAct author (``authorOrPerformer``: UZI system number and URA of the
    sending organisation) is kept verbatim in ``control_act_extra``; the properties
    read it.
    """

    interaction: str
    namespaces: dict[str, str] = Field(default_factory=dict)
    id: II | None = None
    creation_time: Time | None = None
    version_code: Coded | None = None
    interaction_id: II | None = None
    profile_ids: list[II] = Field(default_factory=list)
    processing_code: Coded | None = None
    processing_mode_code: Coded | None = None
    accept_ack_code: Coded | None = None
    attention_lines: list[AttentionLine] = Field(default_factory=list)
    receivers: list[Device] = Field(default_factory=list)
    senders: list[Device] = Field(default_factory=list)
    control_act_attrs: dict[str, str] = Field(default_factory=dict)
    control_act_extra: list[Node] = Field(default_factory=list)
    subject_attrs: dict[str, str] = Field(default_factory=dict)
    subject_extra: list[Node] = Field(default_factory=list)

    @property
    def sender_application(self) -> str | None:
        return self.senders[0].application_id if self.senders else None

    @property
    def receiver_application(self) -> str | None:
        return self.receivers[0].application_id if self.receivers else None

    @property
    def attention_bsn(self) -> str | None:
        for line in self.attention_lines:
            if line.value is not None and line.value.root == OID_BSN:
                return line.value.extension
        return None

    def _author_entity(self) -> Node | None:
        for node in self.control_act_extra:
            if node.name == "authorOrPerformer":
                participant = node.child("participant")
                for entity in participant.children if participant else []:
                    if entity.name.lower() in ("assigneddevice", "assignedperson"):
                        return entity
        return None

    @property
    def author_organization_ids(self) -> list[tuple[str | None, str | None]]:
        """(root, extension) of the ControlAct author's organisation ids (URA)."""
        entity = self._author_entity()
        org = next((c for c in entity.children if c.name in ("Organization", "representedOrganization")), None) if entity else None
        return [(n.attrs.get("root"), n.attrs.get("extension")) for n in org.children if n.name == "id"] if org else []

    @property
    def author_ura(self) -> str | None:
        return next((ext for root, ext in self.author_organization_ids if root == OID_URA), None)


# --- Payload ---------------------------------------------------------------------------


class Organization(Linked):
    """An ``author/assignedEntity`` organisation (template 122): URA/AGB ids and a name.

    ``link_extra`` keeps the author's ``time``; ``extra`` keeps ``assignedOrganization``.
    """

    template_ids: list[str] = Field(default_factory=list)
    ids: list[II] = Field(default_factory=list)

    @property
    def ura(self) -> str | None:
        return next((i.extension for i in self.ids if i.root == OID_URA), None)

    @property
    def name(self) -> str | None:
        node = self.extra_node("assignedOrganization/name")
        return node.text if node else None


class Person(XmlBacked):
    """``patientPerson``: names, gender, birth and death; relations stay as nodes."""

    names: list[Node] = Field(default_factory=list)
    gender: Coded | None = None
    birth_time: Time | None = None


class Patient(Linked):
    """The child (template 131): ids (BSN), address, telecom and person."""

    template_ids: list[str] = Field(default_factory=list)
    ids: list[II] = Field(default_factory=list)
    addresses: list[Node] = Field(default_factory=list)
    telecoms: list[Node] = Field(default_factory=list)
    status_code: Coded | None = None
    person: Person | None = None

    @property
    def bsn(self) -> str | None:
        return next((i.extension for i in self.ids if i.root == OID_BSN), None)


class Observation(Linked):
    """One BDS element (``code`` in 2.16.840.1.113883.2.4.4.40.267) with its value."""

    kind: Literal["observation"] = "observation"
    element: int | None = None
    template_ids: list[str] = Field(default_factory=list)
    ids: list[II] = Field(default_factory=list)
    code: Coded | None = None
    negation_ind: str | None = None
    effective_time: Time | None = None
    value: Value | None = None
    method: Coded | None = None
    target_site: Coded | None = None


class Group(Linked):
    """A BDS groep cluster (``G076``...) holding observations and nested groups."""

    kind: Literal["group"] = "group"
    groep: str | None = None
    template_ids: list[str] = Field(default_factory=list)
    code: Coded | None = None
    items: list[Item] = Field(default_factory=list)


def _item_kind(value) -> str:
    """Observation or group, also for compact JSON that omits the default ``kind``."""
    if isinstance(value, dict):
        if "kind" in value:
            return value["kind"]
        code = value.get("code") or {}
        is_group = "items" in value or "groep" in value or code.get("code_system") == OID_BDS_GROEP
        return "group" if is_group else "observation"
    return getattr(value, "kind", "observation")


Item = Annotated[
    Union[Annotated[Observation, Tag("observation")], Annotated[Group, Tag("group")]],
    Discriminator(_item_kind),
]


class Rubriek(Linked):
    """A BDS rubriek cluster (``R027``...) within an activity."""

    rubriek: str | None = None
    template_ids: list[str] = Field(default_factory=list)
    code: Coded | None = None
    items: list[Item] = Field(default_factory=list)

    def observations(self) -> list[Observation]:
        """All observations in this rubriek, groups flattened."""
        out: list[Observation] = []
        stack = list(reversed(self.items))
        while stack:
            item = stack.pop()
            if isinstance(item, Observation):
                out.append(item)
            else:
                stack.extend(reversed(item.items))
        return out


class Vaccination(Linked):
    """A vaccination (``substanceAdministration``, template 116), refusals included.

    A refusal has ``negation_ind == "true"``. Performer, reason, reactions and the
    consent/refusal details stay as nodes in ``extra``.
    """

    template_ids: list[str] = Field(default_factory=list)
    negation_ind: str | None = None
    ids: list[II] = Field(default_factory=list)
    code: Coded | None = None
    effective_time: Time | None = None

    @property
    def vaccine(self) -> Node | None:
        return self.extra_node("consumable/medication/administrableMedicine/code")

    @property
    def lot_number(self) -> str | None:
        node = self.extra_node("consumable/medication/administrableMedicine/lotNumberText")
        return node.text if node else None


class Activity(Linked):
    """An activity / contact moment (``encounter``, R018): W0188 type, date, rubrieken.

    ``act`` is ``encounter`` (a contact moment) or ``registrationEvent`` (a registration).
    """

    act: Literal["encounter", "registrationEvent"] = "encounter"
    template_ids: list[str] = Field(default_factory=list)
    ids: list[II] = Field(default_factory=list)
    code: Coded | None = None
    status_code: Coded | None = None
    effective_time: Time | None = None
    reason_codes: list[Coded] = Field(default_factory=list)
    rubrieken: list[Rubriek] = Field(default_factory=list)
    non_bds: list[NonBdsItem] = Field(default_factory=list)
    vaccinations: list[Vaccination] = Field(default_factory=list)

    def observations(self) -> list[Observation]:
        return [o for r in self.rubrieken for o in r.observations()]


#: Consent elements that record an *objection* (G010 transfer within JGZ, G089 research).
OBJECTION_ELEMENTS = frozenset({1395, 1404})


class Consent(Linked):
    """A consent or objection (``authorization/consentEvent``; code = BDS element, e.g. 1163, 1395).

    The consentEvent is a permission; ``negationInd="true"`` withholds it. So a consent
    element (1163) is given when not negated, and an objection element (1395, 1404)
    *holds* when negated: Nictiz's ADA→HL7 conversion writes "bezwaar = true" as
    ``negationInd="true"`` (reference ADA instance DOB-3.0.0-test and its HL7 twin).
    """

    negation_ind: str | None = None
    element: int | None = None
    code: Coded | None = None
    effective_time: Time | None = None

    @property
    def is_objection(self) -> bool:
        return self.element in OBJECTION_ELEMENTS

    @property
    def permits(self) -> bool:
        """The permission this record expresses is granted (the consentEvent is not negated)."""
        return self.negation_ind != "true"

    @property
    def affirmed(self) -> bool:
        """What the BDS element says is true: consent given, or objection made."""
        return not self.permits if self.is_objection else self.permits

    @staticmethod
    def negation_for(element: int, affirmed: bool) -> str:
        """``negationInd`` that records BDS ``element`` as ``affirmed`` (the inverse of :attr:`affirmed`)."""
        permits = not affirmed if element in OBJECTION_ELEMENTS else affirmed
        return "false" if permits else "true"


class CareStatus(Linked):
    """``subjectOf/careStatus``: 1197 Status in zorg or 487 Zorgbeëindiging with its reason."""

    element: int | None = None
    code: Coded | None = None
    effective_time: Time | None = None
    reason_code: Coded | None = None


class Attachment(Linked):
    """An attached document (``appendage/document``; code W0084), e.g. a base64 PDF."""

    code: Coded | None = None
    effective_time: Time | None = None
    text: Value | None = None

    @property
    def media_type(self) -> str | None:
        return self.text.other_attrs.get("mediaType") if self.text else None

    @property
    def data(self) -> str | None:
        """The (usually base64) content as written in the message."""
        return self.text.text if self.text else None


class NonBdsItem(Linked):
    """Non-BDS data (R051/G083, ``nonBDSData``): a free-text question and answer."""

    template_ids: list[str] = Field(default_factory=list)
    code: Coded | None = None
    text: str | None = None
    value: Value | None = None

    @property
    def rubriek(self) -> str | None:
        """The rubriek (R-code) the item belongs to (``pertainsTo/categoryInBDS/code``)."""
        node = self.extra_node("pertainsTo/categoryInBDS/code")
        return node.attrs.get("code") if node else None


class CareProvisionRequest(XmlBacked):
    """The request wrapping the dossier: its id, status and the sending organisation."""

    template_ids: list[str] = Field(default_factory=list)
    ids: list[II] = Field(default_factory=list)
    code: Coded | None = None
    status_code: Coded | None = None
    authors: list[Organization] = Field(default_factory=list)
    sequel_attrs: dict[str, str] = Field(default_factory=dict)
    sequel_extra: list[Node] = Field(default_factory=list)


def to_json(dossier: "Dossier", indent: int | None = 1) -> str:
    """Compact JSON: defaults (empty lists, None) are left out and restored on load."""
    return dossier.model_dump_json(indent=indent, exclude_defaults=True)


def from_json(text: str | bytes) -> "Dossier":
    return Dossier.model_validate_json(text)


class Dossier(XmlBacked):
    """A child's JGZ dossier as one DOB carries it (``careProvisionEvent``) plus its message.

    ``extra`` and ``other_attrs`` belong to the ``careProvisionEvent`` element.
    """

    bds_version: str
    interaction: str
    transmission: Transmission
    request: CareProvisionRequest = Field(default_factory=CareProvisionRequest)
    ids: list[II] = Field(default_factory=list)
    code: Coded | None = None
    status_code: Coded | None = None
    effective_time: Time | None = None
    patient: Patient | None = None
    organisations: list[Organization] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)
    consents: list[Consent] = Field(default_factory=list)
    care_statuses: list[CareStatus] = Field(default_factory=list)
    non_bds: list[NonBdsItem] = Field(default_factory=list)
    activities: list[Activity] = Field(default_factory=list)

    @property
    def bsn(self) -> str | None:
        return self.patient.bsn if self.patient else None

    @property
    def dossier_id(self) -> II | None:
        return self.ids[0] if self.ids else None

    @property
    def message_id(self) -> II | None:
        return self.transmission.id

    def observations(self, element: int | None = None) -> list[Observation]:
        """Every observation in every activity, optionally only one BDS element."""
        obs = [o for a in self.activities for o in a.observations()]
        return obs if element is None else [o for o in obs if o.element == element]

    def consents_for(self, element: int) -> list[Consent]:
        return [c for c in self.consents if c.element == element]


Node.model_rebuild()
Activity.model_rebuild()
Group.model_rebuild()
Rubriek.model_rebuild()
Time.model_rebuild()
