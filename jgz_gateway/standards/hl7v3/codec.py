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
from pydantic import BaseModel

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


def _keys(el: etree._Element) -> dict[str, str]:
    """The element's attributes keyed as in the model."""
    return {(k if k[0] != "{" else attr_key(k)): v for k, v in el.items()}


def _names(attrs: dict[str, str]) -> dict[str, str]:
    """Model attribute keys -> lxml attribute names (the inverse of :func:`_keys`)."""
    return {attr_name(k): v for k, v in attrs.items()}


# --- plans ------------------------------------------------------------------------
# What the reader and writer look up per element, computed once per class from its
# spec: lxml attribute names, Clark tags of the children, the first Child per field.


class _Plan:
    __slots__ = ("attrs_in", "attrs_out", "by_tag", "derive", "steps", "text")

    def __init__(self, spec: Spec):
        #: lxml attribute name -> field
        self.attrs_in = {attr_name(xml): field for xml, field in spec.attrs}
        #: (field, lxml attribute name) in spec order
        self.attrs_out = tuple((field, attr_name(xml)) for xml, field in spec.attrs)
        self.text = spec.text
        #: Clark tag of a child -> the Child entries that may take it
        by_tag: dict[str, list[Child]] = {}
        for c in spec.children:
            by_tag.setdefault(_HL7 + c.xml, []).append(c)
            by_tag.setdefault(c.xml, []).append(c)  # no namespace: read as HL7, as before
        self.by_tag = {tag: tuple(cs) for tag, cs in by_tag.items()}
        #: writer steps, one per field in spec order: (field, many, kind, Clark tag, routes, is_code).
        #: ``routes`` (wrapped children only): item class -> ((inner, wrapper tag, inner tag), ...)
        steps = []
        for c in spec.children:
            if any(s[0] == c.field for s in steps):
                continue
            routes = None
            if c.inner is not None:
                routes = {}
                for a in spec.children:
                    if a.field == c.field:
                        routes.setdefault(a.kind, []).append((a.inner, _HL7 + a.xml, _HL7 + a.inner))
                routes = {kind: tuple(options) for kind, options in routes.items()}
            steps.append((c.field, c.many, c.kind, _HL7 + c.xml, routes, c.field == "code"))
        self.steps = tuple(steps)
        self.derive = None


_PLANS: dict[type, _Plan] = {cls: _Plan(spec) for cls, spec in SPECS.items()}


# --- fast construction ------------------------------------------------------------
# pydantic's model_construct inspects each default_factory's signature on every call,
# which dominates reading a large message. The reader's values are already of the
# right types, so it builds instances the same way without that overhead
# (``read`` fills an instance's field dict itself, in the same way).

#: class -> (every field with its default, None for a factory; the (field, factory) pairs)
_DEFAULTS: dict[type, tuple[dict[str, Any], tuple[tuple[str, Any], ...]]] = {}

# The four slots of a pydantic instance, set through their descriptors (what
# ``object.__setattr__`` ends up calling, without the attribute lookup).
_set_dict, _set_fields_set, _set_extra, _set_private = (
    BaseModel.__dict__[slot].__set__
    for slot in ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
)
_object_new = object.__new__


def _new(cls: type, data: dict, fields_set: set[str]) -> Any:
    obj = _object_new(cls)
    _set_dict(obj, data)
    _set_fields_set(obj, fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


def _defaults(cls: type) -> tuple[dict[str, Any], tuple[tuple[str, Any], ...]]:
    defaults = _DEFAULTS.get(cls)
    if defaults is None:
        fields = cls.model_fields
        defaults = _DEFAULTS[cls] = (
            {name: None if f.default_factory is not None else f.default for name, f in fields.items()},
            tuple((name, f.default_factory) for name, f in fields.items() if f.default_factory is not None),
        )
    return defaults


def construct(cls: type, values: dict) -> Any:
    template, factories = _defaults(cls)
    data = template.copy()  # fields in declaration order, as pydantic has them
    data.update(values)
    if len(data) != len(template):  # keys that are not fields are left out
        data = {name: data[name] for name in template}
    for name, factory in factories:
        if name not in values:
            data[name] = factory()
    return _new(cls, data, set(values))


# --- reading ------------------------------------------------------------------------


def read_node(el: etree._Element, after: str | None = None) -> m.Node:
    return _node(el, after, None)


def _node(el: etree._Element, after: str | None, tail: str | None) -> m.Node:
    children = []
    for child in el:
        if isinstance(child.tag, str):
            t = child.tail
            children.append(_node(child, None, t if t is not None and t.strip() else None))
    text = el.text
    data = {
        "name": local_or_clark(el.tag),
        "attrs": _keys(el),
        "text": text if text is not None and text.strip() else None,
        "tail": tail,
        "children": children,
        "after": after,
    }
    fields_set = {"name", "attrs", "text", "children", "after"}
    if tail is not None:
        fields_set.add("tail")
    return _new(m.Node, data, fields_set)


def _plain_text(el: etree._Element) -> str | None:
    """The element's text if it is nothing but text (no attributes, no children)."""
    if el.attrib or len(el):
        return None
    return el.text


def read(el: etree._Element, cls: type, hold: dict | None = None, link: dict | None = None) -> Any:
    """Read ``el`` into a typed object of ``cls`` following its spec.

    Children named in ``hold`` (the first of each) are not read but handed back in
    ``hold``, for the caller to read with its own rules (``ControlActProcess``...).
    ``link`` holds the values read from the wrapper (``link_attrs``...).

    Builds the instance as :func:`construct` does, filling its field dict directly;
    ``given`` is what ``construct`` would take from its ``values``: pydantic's fields_set.
    """
    plan = _PLANS[cls]
    template, factories = _defaults(cls)
    data = template.copy()  # every field, in declaration order
    given: set[str] = set()
    if link is not None:
        data.update(link)
        given.update(link)
    other: dict[str, str] = {}
    known = plan.attrs_in
    for k, v in el.items():
        field = known.get(k)
        if field is None:
            other[k if k[0] != "{" else attr_key(k)] = v
        else:
            data[field] = v
            given.add(field)
    if plan.text:
        data[plan.text] = _text(el)
        given.add(plan.text)
    extra: list[m.Node] = []
    by_tag = plan.by_tag
    prev: str | None = None  # Clark tag of the previous child element
    for child in el:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        if hold is not None:
            name = local_or_clark(tag)
            if name in hold and hold[name] is None:
                hold[name] = child
                prev = tag
                continue
        candidates = by_tag.get(tag)
        c = None
        if candidates is not None:
            obj, c = _read_child(child, candidates, given)
        if c is None:
            extra.append(_node(child, None if prev is None else local_or_clark(prev), None))
        elif not c.many:
            data[c.field] = obj
            given.add(c.field)
        elif c.field in given:
            data[c.field].append(obj)
        else:
            data[c.field] = [obj]
            given.add(c.field)
        prev = tag
    data["other_attrs"] = other
    data["extra"] = extra
    given.add("other_attrs")
    given.add("extra")
    if plan.derive is not None:
        plan.derive(data, given)
    for name, factory in factories:
        if name not in given:
            data[name] = factory()
    return _new(cls, data, given)


def _read_child(child: etree._Element, candidates: tuple[Child, ...], given: set[str]) -> tuple[Any, Child | None]:
    for c in candidates:
        if not c.many and c.field in given:
            continue
        if c.inner is None:
            obj = _read_kind(child, c.kind)
            if obj is not None:
                return obj, c
            continue
        inner, link_extra = _unwrap(child, c.inner)
        if inner is None or _text(child) is not None or _stray_text(inner, c.kind):
            continue
        link = {"link_attrs": _keys(child), "link_extra": link_extra}
        if c.kind is m.Activity:
            link["act"] = c.inner
        return read(inner, c.kind, link=link), c
    return None, None


def _read_kind(el, kind):
    if kind is TEMPLATE:
        attrs = el.items()
        if len(attrs) != 1 or attrs[0][0] != "root" or len(el) or _text(el) is not None:
            return None
        return attrs[0][1]
    if kind is TEXT:
        return _plain_text(el)
    if kind is m.Node:
        return _node(el, None, None)
    if _stray_text(el, kind):
        return None
    return read(el, kind)


def _stray_text(el: etree._Element, cls: type) -> bool:
    """Text in an element whose class has no field for it (the schema allows none there):
    the element is then kept as a node, text and all, instead of losing the text."""
    return _PLANS[cls].text is None and _text(el) is not None


def _unwrap(wrapper: etree._Element, inner_name: str):
    """The single ``inner_name`` child of a wrapper, plus the wrapper's other children."""
    inner = None
    extra: list[m.Node] = []
    prev = None
    target = _HL7 + inner_name
    for child in wrapper:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        if inner is None and tag == target:
            inner = child
        else:
            extra.append(_node(child, None if prev is None else local_or_clark(prev), None))
        prev = tag
    return inner, extra


# BDS keys (element number, R/G code) from the element's code, set before construction.


def _derive_element(data: dict, given: set[str]) -> None:
    code = data["code"]
    if code is not None and code.code_system == m.OID_BDS_ELEMENT and code.code and code.code.isdecimal():
        data["element"] = int(code.code)
        given.add("element")


def _derive_rubriek(data: dict, given: set[str]) -> None:
    code = data["code"]
    if code is not None and code.code_system == m.OID_BDS_RUBRIEK:
        data["rubriek"] = code.code
        given.add("rubriek")


def _derive_groep(data: dict, given: set[str]) -> None:
    code = data["code"]
    if code is not None and code.code_system == m.OID_BDS_GROEP:
        data["groep"] = code.code
        given.add("groep")


for _cls in (m.Observation, m.Consent, m.CareStatus):
    _PLANS[_cls].derive = _derive_element
_PLANS[m.Rubriek].derive = _derive_rubriek
_PLANS[m.Group].derive = _derive_groep


# --- writing ------------------------------------------------------------------------


def write_node(parent: etree._Element | None, node: m.Node) -> etree._Element:
    tag = qualified(node.name)
    attrs = node.attrs
    attrib = _names(attrs) if attrs else None
    el = etree.Element(tag, attrib) if parent is None else etree.SubElement(parent, tag, attrib)
    if node.text is not None:
        el.text = node.text
    for child in node.children:
        c = write_node(el, child)
        if child.tail is not None:
            c.tail = child.tail
    return el


def write(parent: etree._Element, name: str, obj) -> etree._Element:
    """Append ``obj`` as element ``name`` under ``parent``."""
    return _write(parent, qualified(name), obj)


def _write(parent: etree._Element, tag: str, obj) -> etree._Element:
    plan = _PLANS[type(obj)]
    el = etree.SubElement(parent, tag, _attrib(obj, plan))
    _content(el, obj, plan, None)
    return el


def fill(el: etree._Element, obj, then=None) -> None:
    """Write ``obj``'s attributes and children into ``el``.

    ``then(el)`` appends children the caller writes itself (after the typed ones,
    before the verbatim extras are put back in place).
    """
    plan = _PLANS[type(obj)]
    for k, v in _attrib(obj, plan).items():
        el.set(k, v)
    _content(el, obj, plan, then)


def _attrib(obj, plan: _Plan) -> dict[str, str]:
    """``obj``'s XML attributes (lxml names): the spec's, then the verbatim ones."""
    d = obj.__dict__
    attrib = {}
    for field, name in plan.attrs_out:
        v = d[field]
        if v is not None:
            attrib[name] = v
    other = d["other_attrs"]
    if other:
        for k, v in other.items():
            attrib[attr_name(k)] = v
    return attrib


def _content(el: etree._Element, obj, plan: _Plan, then) -> None:
    d = obj.__dict__
    if plan.text:
        v = d[plan.text]
        if v is not None:
            el.text = v
    for field, many, kind, tag, routes, is_code in plan.steps:
        value = d[field]
        if value is None:
            if not is_code:
                continue
            value = _key_code(obj)
            if value is None:
                continue
        if many:
            for item in value:
                _write_child(el, kind, tag, routes, item)
        else:
            _write_child(el, kind, tag, routes, value)
    if then is not None:
        then(el)
    place_extras(el, d["extra"])


def _write_child(el, kind, tag: str, routes, item) -> None:
    if routes is not None:
        # several Child entries may share a field: pick the one for this item's type/act
        options = routes.get(type(item), ())
        if len(options) == 1:
            chosen = options[0]
        else:
            act = getattr(item, "act", None)
            chosen = next((o for o in options if o[0] == act), options[0])
        link_attrs = item.link_attrs
        wrapper = etree.SubElement(el, chosen[1], _names(link_attrs) if link_attrs else None)
        _write(wrapper, chosen[2], item)
        place_extras(wrapper, item.link_extra)
    elif kind is TEMPLATE:
        etree.SubElement(el, tag, {"root": item})
    elif kind is TEXT:
        etree.SubElement(el, tag).text = item
    elif kind is m.Node:
        write_node(el, item)
    else:
        _write(el, tag, item)


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
        # after the last sibling named node.after (searched from the end: indexing is linear in lxml)
        target = qualified(node.after)
        pos = None
        for i, sibling in enumerate(reversed(el)):
            if sibling.tag == target:
                pos = len(el) - i
                break
        if pos is None:
            el.append(new)
        else:
            el.insert(pos, new)


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
