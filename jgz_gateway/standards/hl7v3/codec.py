"""Declarative, lossless mapping between HL7v3 XML elements and the typed model.

Each typed class has a :class:`Spec`: which XML attributes fill which fields, and
which child elements (optionally through a wrapper such as ``component`` or
``pertinentInformation``) fill which fields, in schema order. One generic reader
and one generic writer follow the specs. Whatever a spec does not cover is kept
verbatim (``other_attrs`` / ``extra`` / ``link_extra``), so nothing is lost.

A child only goes into a typed field when that field can hold it exactly;
otherwise (a second occurrence of a single field, a ``templateId`` with an
extension, a text element with attributes) it is kept as an extra node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from .. import model as m
from ..xmlsafe import HL7_NS, XSI_NS

_HL7 = "{" + HL7_NS + "}"
_XSI = "{" + XSI_NS + "}"

# Field kinds besides model classes.
TEMPLATE = "template"  # templateId with only @root -> str
TEXT = "text"  # element with only text -> str


@dataclass(frozen=True)
class Child:
    xml: str
    field: str
    kind: Any
    many: bool = False
    inner: str | None = None


@dataclass(frozen=True)
class Spec:
    attrs: tuple[tuple[str, str], ...] = ()
    children: tuple[Child, ...] = ()
    text: str | None = None


_CODED_ATTRS = (
    ("code", "code"),
    ("codeSystem", "code_system"),
    ("displayName", "display_name"),
    ("codeSystemName", "code_system_name"),
    ("codeSystemVersion", "code_system_version"),
    ("nullFlavor", "null_flavor"),
    ("xsi:type", "xsi_type"),
)

SPECS: dict[type, Spec] = {}


def _specs() -> None:
    S = SPECS
    S[m.II] = Spec(attrs=(("root", "root"), ("extension", "extension"), ("nullFlavor", "null_flavor")))
    S[m.Coded] = Spec(attrs=_CODED_ATTRS, children=(Child("originalText", "original_text", TEXT),))
    S[m.Time] = Spec(
        attrs=(("value", "value"), ("nullFlavor", "null_flavor"), ("xsi:type", "xsi_type")),
        children=(Child("low", "low", m.Time), Child("high", "high", m.Time)),
    )
    S[m.Value] = Spec(
        attrs=(("xsi:type", "xsi_type"), ("value", "value"), ("unit", "unit")) + _CODED_ATTRS[:-1],
        children=(Child("originalText", "original_text", TEXT),),
        text="text",
    )
    S[m.Device] = Spec(children=(Child("id", "ids", m.II, many=True),))
    S[m.AttentionLine] = Spec(children=(Child("keyWordText", "key_word_text", m.Value), Child("value", "value", m.II)))
    S[m.Organization] = Spec(
        children=(Child("templateId", "template_ids", TEMPLATE, many=True), Child("id", "ids", m.II, many=True))
    )
    S[m.Person] = Spec(
        children=(
            Child("name", "names", m.Node, many=True),
            Child("administrativeGenderCode", "gender", m.Coded),
            Child("birthTime", "birth_time", m.Time),
        )
    )
    S[m.Patient] = Spec(
        children=(
            Child("templateId", "template_ids", TEMPLATE, many=True),
            Child("id", "ids", m.II, many=True),
            Child("addr", "addresses", m.Node, many=True),
            Child("telecom", "telecoms", m.Node, many=True),
            Child("statusCode", "status_code", m.Coded),
            Child("patientPerson", "person", m.Person),
        )
    )
    S[m.Observation] = Spec(
        attrs=(("negationInd", "negation_ind"),),
        children=(
            Child("templateId", "template_ids", TEMPLATE, many=True),
            Child("id", "ids", m.II, many=True),
            Child("code", "code", m.Coded),
            Child("effectiveTime", "effective_time", m.Time),
            Child("value", "value", m.Value),
            Child("methodCode", "method", m.Coded),
            Child("targetSiteCode", "target_site", m.Coded),
        ),
    )
    cluster = (
        Child("templateId", "template_ids", TEMPLATE, many=True),
        Child("code", "code", m.Coded),
        Child("component", "items", m.Observation, many=True, inner="observation"),
        Child("component", "items", m.Group, many=True, inner="groupCluster"),
    )
    S[m.Group] = Spec(children=cluster)
    S[m.Rubriek] = Spec(children=cluster)
    S[m.Vaccination] = Spec(
        attrs=(("negationInd", "negation_ind"),),
        children=(
            Child("templateId", "template_ids", TEMPLATE, many=True),
            Child("id", "ids", m.II, many=True),
            Child("code", "code", m.Coded),
            Child("effectiveTime", "effective_time", m.Time),
        ),
    )
    S[m.NonBdsItem] = Spec(
        children=(
            Child("templateId", "template_ids", TEMPLATE, many=True),
            Child("code", "code", m.Coded),
            Child("text", "text", TEXT),
            Child("value", "value", m.Value),
        )
    )
    S[m.Activity] = Spec(
        children=(
            Child("templateId", "template_ids", TEMPLATE, many=True),
            Child("id", "ids", m.II, many=True),
            Child("code", "code", m.Coded),
            Child("statusCode", "status_code", m.Coded),
            Child("effectiveTime", "effective_time", m.Time),
            Child("reasonCode", "reason_codes", m.Coded, many=True),
            Child("pertinentInformation", "rubrieken", m.Rubriek, many=True, inner="rubricCluster"),
            Child("component1", "non_bds", m.NonBdsItem, many=True, inner="nonBDSData"),
            Child("component3", "vaccinations", m.Vaccination, many=True, inner="substanceAdministration"),
        )
    )
    S[m.Consent] = Spec(
        attrs=(("negationInd", "negation_ind"),),
        children=(Child("code", "code", m.Coded), Child("effectiveTime", "effective_time", m.Time)),
    )
    S[m.CareStatus] = Spec(
        children=(
            Child("code", "code", m.Coded),
            Child("effectiveTime", "effective_time", m.Time),
            Child("reasonCode", "reason_code", m.Coded),
        )
    )
    S[m.Attachment] = Spec(
        children=(
            Child("code", "code", m.Coded),
            Child("text", "text", m.Value),
            Child("effectiveTime", "effective_time", m.Time),
        )
    )
    S[m.CareProvisionRequest] = Spec(
        children=(
            Child("templateId", "template_ids", TEMPLATE, many=True),
            Child("id", "ids", m.II, many=True),
            Child("code", "code", m.Coded),
            Child("statusCode", "status_code", m.Coded),
            Child("author", "authors", m.Organization, many=True, inner="assignedEntity"),
        )
    )
    S[m.Dossier] = Spec(
        children=(
            Child("id", "ids", m.II, many=True),
            Child("code", "code", m.Coded),
            Child("statusCode", "status_code", m.Coded),
            Child("effectiveTime", "effective_time", m.Time),
            Child("subject", "patient", m.Patient, inner="patient"),
            Child("author", "organisations", m.Organization, many=True, inner="assignedEntity"),
            Child("appendage", "attachments", m.Attachment, many=True, inner="document"),
            Child("authorization", "consents", m.Consent, many=True, inner="consentEvent"),
            Child("component1", "non_bds", m.NonBdsItem, many=True, inner="nonBDSData"),
            Child("component7", "activities", m.Activity, many=True, inner="encounter"),
            Child("component7", "activities", m.Activity, many=True, inner="registrationEvent"),
            Child("subjectOf", "care_statuses", m.CareStatus, many=True, inner="careStatus"),
        )
    )
    S[m.Transmission] = Spec(
        children=(
            Child("id", "id", m.II),
            Child("creationTime", "creation_time", m.Time),
            Child("versionCode", "version_code", m.Coded),
            Child("interactionId", "interaction_id", m.II),
            Child("profileId", "profile_ids", m.II, many=True),
            Child("processingCode", "processing_code", m.Coded),
            Child("processingModeCode", "processing_mode_code", m.Coded),
            Child("acceptAckCode", "accept_ack_code", m.Coded),
            Child("attentionLine", "attention_lines", m.AttentionLine, many=True),
            Child("receiver", "receivers", m.Device, many=True, inner="device"),
            Child("sender", "senders", m.Device, many=True, inner="device"),
        )
    )


_specs()

# Index: (class, xml child name) -> the Child entries for that name.
_BY_NAME: dict[type, dict[str, list[Child]]] = {}
for _cls, _spec in SPECS.items():
    idx: dict[str, list[Child]] = {}
    for _c in _spec.children:
        idx.setdefault(_c.xml, []).append(_c)
    _BY_NAME[_cls] = idx
_ATTRS: dict[type, dict[str, str]] = {cls: dict(spec.attrs) for cls, spec in SPECS.items()}


# --- fast construction ------------------------------------------------------------
# pydantic's model_construct inspects each default_factory's signature on every call,
# which dominates reading a large message. The reader's values are already of the
# right types, so it builds instances the same way without that overhead.

_DEFAULTS: dict[type, list[tuple[str, Any, bool]]] = {}


def construct(cls: type, values: dict) -> Any:
    defaults = _DEFAULTS.get(cls)
    if defaults is None:
        defaults = _DEFAULTS[cls] = [
            (name, f.default_factory if f.default_factory is not None else f.default, f.default_factory is not None)
            for name, f in cls.model_fields.items()
        ]
    data = {}
    for name, default, is_factory in defaults:
        if name in values:
            data[name] = values[name]
        else:
            data[name] = default() if is_factory else default
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", data)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


# --- names ------------------------------------------------------------------------


def attr_key(name: str) -> str:
    """lxml attribute name -> model key (``type`` in xsi -> ``xsi:type``)."""
    if name[0] != "{":
        return name
    if name.startswith(_XSI):
        return "xsi:" + name[len(_XSI) :]
    return name


def attr_name(key: str) -> str:
    if key.startswith("xsi:"):
        return _XSI + key[4:]
    return key


def local_or_clark(tag: str) -> str:
    if tag.startswith(_HL7):
        return tag[len(_HL7) :]
    return tag


def qualified(name: str) -> str:
    return name if name[0] == "{" else _HL7 + name


def _text(el: etree._Element) -> str | None:
    text = el.text
    return text if text is not None and text.strip() else None


# --- reading ------------------------------------------------------------------------


def read_node(el: etree._Element, after: str | None = None) -> m.Node:
    children = []
    for child in el:
        if not isinstance(child.tag, str):
            continue
        node = read_node(child)
        tail = child.tail
        if tail is not None and tail.strip():
            node.tail = tail
        children.append(node)
    return construct(
        m.Node,
        {
            "name": local_or_clark(el.tag),
            "attrs": {attr_key(k): v for k, v in el.attrib.items()},
            "text": _text(el),
            "children": children,
            "after": after,
        },
    )


def _plain_text(el: etree._Element) -> str | None:
    """The element's text if it is nothing but text (no attributes, no children)."""
    if el.attrib or len(el):
        return None
    return el.text


def read(el: etree._Element, cls: type, hold: dict | None = None) -> Any:
    """Read ``el`` into a typed object of ``cls`` following its spec.

    Children named in ``hold`` (the first of each) are not read but handed back in
    ``hold``, for the caller to read with its own rules (``ControlActProcess``...).
    """
    spec = SPECS[cls]
    known_attrs = _ATTRS[cls]
    values: dict[str, Any] = {}
    other: dict[str, str] = {}
    for k, v in el.attrib.items():
        key = attr_key(k)
        field = known_attrs.get(key)
        if field is None:
            other[key] = v
        else:
            values[field] = v
    if spec.text:
        values[spec.text] = _text(el)
    extra: list[m.Node] = []
    by_name = _BY_NAME[cls]
    prev: str | None = None
    for child in el:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = local_or_clark(tag)
        if hold is not None and name in hold and hold[name] is None:
            hold[name] = child
            prev = name
            continue
        obj, field, many = _read_child(child, name, by_name.get(name), values)
        if field is None:
            extra.append(read_node(child, after=prev))
        elif many:
            values.setdefault(field, []).append(obj)
        else:
            values[field] = obj
        prev = name
    values["other_attrs"] = other
    values["extra"] = extra
    obj = construct(cls, values)
    _derive(obj)
    return obj


def _read_child(child, name, candidates, values):
    if not candidates:
        return None, None, False
    for c in candidates:
        if not c.many and c.field in values:
            continue
        if c.inner is None:
            obj = _read_kind(child, c.kind)
            if obj is not None:
                return obj, c.field, c.many
            continue
        inner, link_extra = _unwrap(child, c.inner)
        if inner is None:
            continue
        obj = read(inner, c.kind)
        obj.link_attrs = {attr_key(k): v for k, v in child.attrib.items()}
        obj.link_extra = link_extra
        if c.kind is m.Activity:
            obj.act = c.inner
        return obj, c.field, c.many
    return None, None, False


def _read_kind(el, kind):
    if kind is TEMPLATE:
        attrs = el.attrib
        if len(el) or len(attrs) != 1 or "root" not in attrs:
            return None
        return attrs["root"]
    if kind is TEXT:
        return _plain_text(el)
    if kind is m.Node:
        return read_node(el)
    return read(el, kind)


def _unwrap(wrapper: etree._Element, inner_name: str):
    """The single ``inner_name`` child of a wrapper, plus the wrapper's other children."""
    inner = None
    extra: list[m.Node] = []
    prev = None
    target = _HL7 + inner_name
    for child in wrapper:
        if not isinstance(child.tag, str):
            continue
        if inner is None and child.tag == target:
            inner = child
        else:
            extra.append(read_node(child, after=prev))
        prev = local_or_clark(child.tag)
    return inner, extra


def _derive(obj) -> None:
    """Fill the BDS keys (element number, R/G code) from the element's code."""
    cls = type(obj)
    if cls in (m.Observation, m.Consent, m.CareStatus):
        code = obj.code
        if code is not None and code.code_system == m.OID_BDS_ELEMENT and code.code and code.code.isdigit():
            obj.element = int(code.code)
    elif cls is m.Rubriek or cls is m.Group:
        code = obj.code
        if code is not None:
            if cls is m.Rubriek and code.code_system == m.OID_BDS_RUBRIEK:
                obj.rubriek = code.code
            elif cls is m.Group and code.code_system == m.OID_BDS_GROEP:
                obj.groep = code.code


# --- writing ------------------------------------------------------------------------


def write_node(parent: etree._Element | None, node: m.Node) -> etree._Element:
    el = etree.Element(qualified(node.name)) if parent is None else etree.SubElement(parent, qualified(node.name))
    for k, v in node.attrs.items():
        el.set(attr_name(k), v)
    if node.text is not None:
        el.text = node.text
    for child in node.children:
        c = write_node(el, child)
        if child.tail is not None:
            c.tail = child.tail
    return el


def write(parent: etree._Element, name: str, obj) -> etree._Element:
    """Append ``obj`` as element ``name`` under ``parent``."""
    el = etree.SubElement(parent, qualified(name))
    fill(el, obj)
    return el


def fill(el: etree._Element, obj, then=None) -> None:
    """Write ``obj``'s attributes and children into ``el``.

    ``then(el)`` appends children the caller writes itself (after the typed ones,
    before the verbatim extras are put back in place).
    """
    cls = type(obj)
    spec = SPECS[cls]
    for xml, field in spec.attrs:
        v = getattr(obj, field)
        if v is not None:
            el.set(attr_name(xml), v)
    for k, v in obj.other_attrs.items():
        el.set(attr_name(k), v)
    if spec.text:
        v = getattr(obj, spec.text)
        if v is not None:
            el.text = v
    written = set()
    for c in spec.children:
        if c.field in written:
            continue
        written.add(c.field)
        value = getattr(obj, c.field)
        if value is None and c.field == "code":
            value = _key_code(obj)
        if value is None:
            continue
        for item in value if c.many else (value,):
            _write_child(el, cls, c, item)
    if then is not None:
        then(el)
    place_extras(el, obj.extra)


def _write_child(el, cls, c: Child, item) -> None:
    if c.inner is not None:
        # several Child entries may share a field: pick the one for this item's type/act
        options = [a for a in SPECS[cls].children if a.field == c.field and a.kind is type(item)]
        act = getattr(item, "act", None)
        chosen = next((a for a in options if a.inner == act), options[0])
        wrapper = etree.SubElement(el, qualified(chosen.xml))
        for k, v in item.link_attrs.items():
            wrapper.set(attr_name(k), v)
        write(wrapper, chosen.inner, item)
        place_extras(wrapper, item.link_extra)
    elif c.kind is TEMPLATE:
        etree.SubElement(el, qualified(c.xml)).set("root", item)
    elif c.kind is TEXT:
        etree.SubElement(el, qualified(c.xml)).text = item
    elif c.kind is m.Node:
        write_node(el, item)
    else:
        write(el, c.xml, item)


def place_extras(el: etree._Element, extras: list[m.Node]) -> None:
    """Insert verbatim nodes back where they were: after their recorded sibling."""
    if not extras:
        return
    front = 0
    for node in extras:
        new = write_node(None, node)
        if node.tail is not None:
            new.tail = node.tail
        if node.after is None:
            el.insert(front, new)
            front += 1
            continue
        target = qualified(node.after)
        pos = None
        for i in range(len(el) - 1, -1, -1):
            if el[i].tag == target:
                pos = i
                break
        if pos is None:
            el.append(new)
        else:
            el.insert(pos + 1, new)


def _key_code(obj) -> m.Coded | None:
    """The code implied by the BDS key of a hand-built object that has no ``code``."""
    cls = type(obj)
    if cls in (m.Observation, m.Consent, m.CareStatus) and obj.element is not None:
        return m.Coded(code=str(obj.element), code_system=m.OID_BDS_ELEMENT)
    if cls is m.Rubriek and obj.rubriek:
        return m.Coded(code=obj.rubriek, code_system=m.OID_BDS_RUBRIEK)
    if cls is m.Group and obj.groep:
        return m.Coded(code=obj.groep, code_system=m.OID_BDS_GROEP)
    return None
