"""The pieces every conversion step shares: tree helpers and the version-neutral rules.

Rules work on the HL7 tree itself, as Nictiz's XSLT converters do, so whatever no rule
touches stays exactly as it was. Each rule records what it did in the step's report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from lxml import etree

from ..catalogue import BDS_CS_PREFIX, ELEMENT_CS, GROEP_CS, RUBRIEK_CS, Catalogue
from ..model import datatype
from ..xmlsafe import HL7_NS, XSI_NS, local, xpath_of
from . import versions
from .report import Action, Change, ConversionReport

H = "{" + HL7_NS + "}"
XSI_TYPE = "{" + XSI_NS + "}type"
SCHEMA_LOCATION = "{" + XSI_NS + "}schemaLocation"
TEMPLATE = "2.16.840.1.113883.2.4.6.10.100."
NON_BDS_TEMPLATE = TEMPLATE + "10028"
NULL_FLAVOR_CS = "2.16.840.1.113883.5.1008"
ACTIVITY_CS = "2.16.840.1.113883.2.4.4.40.308"  # W0188 Soort activiteit
BDS_CODE_SYSTEMS = {ELEMENT_CS: "element", RUBRIEK_CS: "rubriek", GROEP_CS: "groep"}

#: Children of an encounter (and registrationEvent) in schema order (REPC_MT902000NL03).
ENCOUNTER_ORDER = (
    "realmCode", "typeId", "templateId", "id", "code", "statusCode", "effectiveTime", "reasonCode",
    "performer", "author", "consultant", "escort", "inFulfillmentOf", "pertinentInformation",
    "component1", "component2", "component3", "component4", "component5",
    "subjectOf", "subjectOf1", "subjectOf2",
)


def q(name: str) -> str:
    return H + name


def kids(el: etree._Element, name: str | None = None) -> list[etree._Element]:
    """Element children (optionally only HL7 ``name``), never comments."""
    if name is None:
        return [c for c in el if isinstance(c.tag, str)]
    return el.findall(H + name)


def make(name: str, attrs: dict[str, str] | None = None, *children: etree._Element, text: str | None = None):
    """A new HL7 element (attributes in the given order; ``xsi:type`` as key)."""
    el = etree.Element(q(name))
    for k, v in (attrs or {}).items():
        el.set(XSI_TYPE if k == "xsi:type" else k, v)
    for c in children:
        el.append(c)
    if text is not None:
        el.text = text
    return el


def code_el(name: str, code: str, code_system: str, display: str | None = None, *, first: str = "code") -> etree._Element:
    attrs = {"code": code, "codeSystem": code_system}
    if display is not None:
        attrs["displayName"] = display
    return make(name, attrs)


# --- placing and removing, keeping the document's indentation ------------------------


def _indent_unit(root: etree._Element) -> str:
    text = root.text or ""
    m = re.search(r"\n([ \t]+)$", text)
    return m.group(1) if m else "   "


def _depth(el: etree._Element) -> int:
    d = 0
    p = el.getparent()
    while p is not None:
        d += 1
        p = p.getparent()
    return d


def place(parent: etree._Element, index: int, new: etree._Element) -> etree._Element:
    """Insert ``new`` at ``index`` among ``parent``'s children, indented like its siblings."""
    nodes = list(parent)
    parent.insert(index, new)
    unit = _indent_unit(parent.getroottree().getroot())
    depth = _depth(new)
    if len(new):
        etree.indent(new, space=unit, level=depth)
    between = "\n" + unit * depth
    if not nodes:
        parent.text = between
        new.tail = "\n" + unit * (depth - 1)
    elif index >= len(nodes):  # last: take over the closing indentation
        new.tail = nodes[-1].tail
        nodes[-1].tail = between
    else:
        new.tail = between
    return new


def place_in_order(parent: etree._Element, new: etree._Element, order: tuple[str, ...], *, first: bool = False):
    """Insert ``new`` where the schema order puts it: after the last child that may precede it
    (or, with ``first``, before the first child of its own name)."""
    name = local(new)
    rank = order.index(name)
    index = 0
    for i, child in enumerate(parent):
        if not isinstance(child.tag, str):
            continue
        cname = local(child)
        r = order.index(cname) if cname in order else -1
        if r < rank or (r == rank and not first):
            index = i + 1
        elif r > rank or (first and r == rank):
            break
    return place(parent, index, new)


def remove(el: etree._Element) -> None:
    """Take ``el`` out; the whitespace before it stays, its own tail goes with it."""
    parent = el.getparent()
    if parent is None:
        return
    prev = el.getprevious()
    tail = el.tail
    parent.remove(el)
    if tail is not None and tail.strip():  # keep mixed text
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


def replace_with_comment(el: etree._Element, text: str) -> None:
    """Put a comment where ``el`` was; nothing when ``el`` has already gone (a malformed
    message whose one component held two observations loses both with the first)."""
    parent = el.getparent()
    if parent is None:
        return
    comment = etree.Comment(f" {text} ")
    comment.tail = el.tail
    parent.replace(el, comment)


def render(value: etree._Element | None) -> str:
    """A value as the free text a receiver shows (nonBDSData ``text``, NL ``value``)."""
    if value is None:
        return ""
    nf = value.get("nullFlavor")
    xsi = datatype(value.get(XSI_TYPE))
    if xsi == "BL" and value.get("value") in ("true", "false"):
        return "ja" if value.get("value") == "true" else "nee"
    if xsi == "PQ" and value.get("value") is not None:
        unit = value.get("unit")
        return value.get("value") + (f" {unit}" if unit and unit != "1" else "")
    if value.get("code") is not None or xsi in ("CV", "CE", "CD", "CO", "CS"):
        original = value.find(q("originalText"))
        for candidate in (value.get("displayName"), original.text if original is not None else None, value.get("code")):
            if candidate:
                return candidate
        return nf or ""
    if value.get("value") is not None:
        return value.get("value")
    text = "".join(value.itertext()).strip()
    return text or (nf or "")


# --- the step ---------------------------------------------------------------------------


class Step:
    """One conversion step (adjacent versions): the tree, both catalogues and the report.

    XPaths are taken from an index built before the step changes anything, so every
    report entry points into the message as the step received it.
    """

    def __init__(self, root: etree._Element, source: str, target: str, report: ConversionReport):
        self.root = root
        self.source, self.target = source, target
        self.name = f"{source}→{target}"
        self.src: Catalogue = versions.catalogue(source)
        self.dst: Catalogue = versions.catalogue(target)
        #: The catalogue whose template bindings describe the target message (NL03: 7.1.3).
        self.templates: Catalogue = versions.catalogue("4.1.3") if target == "4.0" else self.dst
        self.report = report
        self._paths = _path_index(root)

    def xpath(self, el: etree._Element) -> str:
        return self._paths.get(el) or xpath_of(el)

    def log(self, action: Action, rule: str, el: etree._Element, message: str, *,
            element: str | int | None = None, old: str | None = None, new: str | None = None) -> None:
        self.report.changes.append(Change(
            step=self.name, action=action, rule=rule, xpath=self.xpath(el), message=message,
            element=None if element is None else str(element), old=old, new=new))

    def element_name(self, number: int | str) -> str | None:
        return self.src.display_name(number, ELEMENT_CS) or self.dst.display_name(number, ELEMENT_CS)


def _path_index(root: etree._Element) -> dict:
    """XPath of every element, in one pass (same notation as :func:`..xmlsafe.xpath_of`)."""
    paths = {root: "/" + ("hl7:" if root.tag.startswith(H) else "") + local(root)}
    stack = [root]
    while stack:
        el = stack.pop()
        base = paths[el]
        counts: dict[str, int] = {}
        kids_ = [c for c in el if isinstance(c.tag, str)]
        for c in kids_:
            counts[c.tag] = counts.get(c.tag, 0) + 1
        seen: dict[str, int] = {}
        for c in kids_:
            tag = c.tag
            name = ("hl7:" + tag[len(H):]) if tag.startswith(H) else ("*:" + local(c) if tag[0] == "{" else tag)
            if counts[tag] > 1:
                seen[tag] = seen.get(tag, 0) + 1
                name += f"[{seen[tag]}]"
            paths[c] = base + "/" + name
            stack.append(c)
    return paths


# --- walking the payload ----------------------------------------------------------------

def dossier(root: etree._Element) -> etree._Element | None:
    return root.find(f"{H}ControlActProcess/{H}subject/{H}CareProvisionRequest/{H}sequelTo/{H}careProvisionEvent")


def activities(root: etree._Element) -> list[etree._Element]:
    """The encounters (and registration events) of the dossier: component7/*."""
    event = dossier(root)
    if event is None:
        return []
    return [a for c in event.findall(q("component7")) for a in c if isinstance(a.tag, str)]


def clusters(activity: etree._Element) -> list[etree._Element]:
    return [c for p in activity.findall(q("pertinentInformation")) for c in p.findall(q("rubricCluster"))]


def cluster_code(cluster: etree._Element) -> str | None:
    code = cluster.find(q("code"))
    return code.get("code") if code is not None else None


def observations(cluster: etree._Element) -> Iterator[etree._Element]:
    """Observations of a rubric or group cluster, groups descended, in document order."""
    for comp in cluster.findall(q("component")):
        for item in comp:
            if item.tag == H + "observation":
                yield item
            elif item.tag == H + "groupCluster":
                yield from observations(item)


def element_number(obs: etree._Element) -> int | None:
    code = obs.find(q("code"))
    if code is None or code.get("codeSystem") != ELEMENT_CS:
        return None
    value = code.get("code") or ""
    return int(value) if value.isdecimal() else None


# --- shared rules -------------------------------------------------------------------------


def rename_interaction(step: Step, interaction: str) -> etree._Element:
    """Root element, interactionId/@extension and the schemaLocation follow the target."""
    root = step.root
    old = local(root)
    if old == interaction:
        return root
    step.log("changed", "CONV-INTERACTION", root, f"interaction {old} becomes {interaction}", old=old, new=interaction)
    root.tag = q(interaction)
    iid = root.find(q("interactionId"))
    if iid is not None and iid.get("extension") == old:
        iid.set("extension", interaction)
    loc = root.get(SCHEMA_LOCATION)
    if loc:
        root.set(SCHEMA_LOCATION, re.sub(rf"\b{old}(?=\.xsd\b)", interaction, loc))
    return root


def update_display_names(step: Step) -> None:
    """Rubrieken, groepen and elementen get the target version's names; values keep theirs.

    Nictiz's converters "regelen zelf het bijwerken van de weergavenamen bij rubrieken,
    groepen en elementen" (§2.6): every code in the W0639/W0646/W0647 code systems.
    """
    for el in step.root.iter():
        if not isinstance(el.tag, str):
            continue
        cs = el.get("codeSystem")
        if cs not in BDS_CODE_SYSTEMS:
            continue
        old = el.get("displayName")
        code = el.get("code")
        if old is None or not code:
            continue
        new = step.dst.display_name(code, cs)
        if new and new != old:
            el.set("displayName", new)
            step.log("renamed", "CONV-DISPLAYNAME", el, f"{BDS_CODE_SYSTEMS[cs]} {code}: BDS {step.target} name",
                     element=code, old=old, new=new)


def activity_codes(step: Step) -> None:
    """W0188 activity types (encounter and planned-encounter codes) follow the target list.

    A code the target still has gets the target's display name (327→400 example:
    "Huisbezoek 4-7 dagen" → "Contact 4-7 dagen"); a code it lacks becomes
    ``nullFlavor="OTH"`` with the name as ``originalText``, as the 3.2.7 messages carry
    the 4.x activity types.
    """
    target = _activity_list(step.dst)
    if target is None:
        return
    for act in activities(step.root):
        codes = [act.find(q("code"))]
        codes += [e.find(q("code")) for e in act.findall(f"{H}inFulfillmentOf/{H}encounter")]
        for code in codes:
            if code is None or code.get("codeSystem") != ACTIVITY_CS or not code.get("code"):
                continue
            value = code.get("code")
            known = target.get(value)
            old = code.get("displayName")
            if known is not None:
                if old is not None and known != old:
                    code.set("displayName", known)
                    step.log("renamed", "CONV-ACTIVITY-NAME", code, f"activity type {value}: BDS {step.target} name",
                             element="494", old=old, new=known)
                continue
            text = old or value
            step.log("changed", "CONV-ACTIVITY-OTH", code,
                     f"activity type {value} ({text}) is not in the BDS {step.target} list W0188: "
                     "sent as nullFlavor OTH with the name as original text", element="494",
                     old=value, new="OTH")
            for attr in list(code.attrib):
                if attr != XSI_TYPE:
                    del code.attrib[attr]
            code.set("nullFlavor", "OTH")
            for c in list(code):
                code.remove(c)
            code.append(make("originalText", text=text))


def _activity_list(cat: Catalogue) -> dict[str, str] | None:
    """W0188 code → name in a version; for 3.2.6 the three published sub-lists together."""
    out: dict[str, str] = {}
    for w in ("W0188", "W0188.1", "W0188.2", "W0188.3"):
        vs = cat.valueset(w)
        if vs is None:
            continue
        for c in vs.concepts:
            if c.hl7 is not None and c.hl7.code_system == ACTIVITY_CS and c.hl7.display:
                out.setdefault(c.hl7.code, c.hl7.display)
    if not out and cat.version in ("4.0.2",):
        return _activity_list(versions.catalogue("4.1.3"))  # NL03 has one list, published with 4.1.3
    return out or None


def prune(step: Step, cluster: etree._Element) -> None:
    """Remove group and rubriek clusters left without observations (and say so)."""
    node = cluster
    while node is not None and node.tag in (H + "groupCluster", H + "rubricCluster"):
        if node.find(q("component")) is not None:
            return
        wrapper = node.getparent()
        code = cluster_code(node)
        kind = "groep" if node.tag == H + "groupCluster" else "rubriek"
        step.log("dropped", "CONV-EMPTY-CLUSTER", node, f"{kind} {code} has no observations left in BDS {step.target}",
                 element=code)
        parent = wrapper.getparent()
        remove(wrapper)
        node = parent


def drop_observation(step: Step, obs: etree._Element, rule: str, why: str, *, comment: bool = True) -> None:
    """Drop an observation from its cluster (leaving a comment), then prune empty clusters."""
    number = element_number(obs)
    cluster = obs.getparent().getparent()
    step.log("dropped", rule, obs, why, element=number)
    wrapper = obs.getparent()
    if comment:
        replace_with_comment(wrapper, f"element {number} {step.element_name(number) or ''} is vervallen".replace("  ", " "))
    else:
        remove(wrapper)
    prune(step, cluster)


def non_bds(step: Step, obs: etree._Element, rubriek: str | None, *, nl: bool) -> etree._Element:
    """The nonBDSData (free question and answer) that carries an observation the target lacks.

    NL03/NL04 (327→400 example): template 10028, the element's code, ``text`` with the
    value as text, the ``value`` itself and the rubriek in ``pertainsTo``. REPC_IN902120NL
    nonBDSData has only ``code`` and a ``value`` of type ST.
    """
    code = obs.find(q("code"))
    value = obs.find(q("value"))
    text = render(value)
    item = make("nonBDSData", {"classCode": "OBS", "moodCode": "EVN"}, make("templateId", {"root": NON_BDS_TEMPLATE}))
    item.append(_copy(code) if code is not None else make("code", {"nullFlavor": "NI"}))
    if nl:
        item.append(make("value", {"xsi:type": "ST"}, text=text))
    else:
        item.append(make("text", text=text))
        if value is not None:
            item.append(_copy(value))
    if rubriek:
        name = step.src.display_name(rubriek, RUBRIEK_CS) or step.dst.display_name(rubriek, RUBRIEK_CS)
        item.append(make("pertainsTo", None, make("categoryInBDS", None, code_el("code", rubriek, RUBRIEK_CS, name))))
    return make("component1", {"typeCode": "COMP"}, item)


def _copy(el: etree._Element) -> etree._Element:
    from copy import deepcopy

    new = deepcopy(el)
    new.tail = None
    return new


def move_unsupported(step: Step, keep: frozenset[int], how: str, *, nl_target: bool = False,
                     why: Callable[[int], str] | None = None) -> None:
    """Observations of elements the target version does not carry: to nonBDSData, or dropped.

    ``how="non-bds"``: the 327→400 behaviour (element 1384 "is vervallen" becomes a
    nonBDSData of the activity, with a comment where it was). ``how="drop"``: the
    413→420 behaviour (deprecated elements dropped, emptied rubrieken removed).
    """
    for act in activities(step.root):
        moved: list[etree._Element] = []
        for cluster in clusters(act):
            rubriek = cluster_code(cluster)
            for obs in list(observations(cluster)):
                number = element_number(obs)
                if number is None or number in keep:
                    continue
                reason = why(number) if why else f"element {number} is not part of BDS {step.target}"
                if how == "drop":
                    drop_observation(step, obs, "CONV-ELEMENT-DROPPED", reason)
                    continue
                step.log("moved", "CONV-ELEMENT-NONBDS", obs,
                         f"{reason}: carried as non-BDS data (question and answer) of the activity",
                         element=number)
                moved.append(non_bds(step, obs, rubriek, nl=nl_target))
                parent_cluster = obs.getparent().getparent()
                name = step.element_name(number) or ""
                replace_with_comment(obs.getparent(), f"element {number} {name} is vervallen".replace("  ", " "))
                prune(step, parent_cluster)
        for item in moved:
            place_in_order(act, item, ENCOUNTER_ORDER)


def bds_flavour_to_hl7(step: Step) -> None:
    """Coded values in the BDS flavour (code system …60.100.12.<W>) become the HL7 flavour.

    The 4.x templates bind the HL7 flavour of each W-domain (value set …11.2.<W>); a
    3.2.x message may carry the BDS flavour. The catalogue pairs both flavours.
    """
    for act in activities(step.root):
        for cluster in clusters(act):
            for obs in observations(cluster):
                number = element_number(obs)
                element = step.templates.element(number) if number is not None else None
                bindings = dict(element.bindings) if element is not None else {}
                for path, w in (bindings or {"value": None}).items():
                    target = obs.find("/".join(q(p) for p in path.split("/")))
                    if target is None:
                        continue
                    _to_hl7(step, target, w, number)


def _to_hl7(step: Step, el: etree._Element, w: str | None, number: int | None) -> None:
    code, cs = el.get("code"), el.get("codeSystem")
    if not code:
        return
    if cs and cs.startswith(BDS_CS_PREFIX):
        w = "W" + cs[len(BDS_CS_PREFIX):].zfill(4)
    elif cs or w is None:
        return
    vs = step.templates.valueset(w)
    hl7 = vs.bds_to_hl7(code) if vs is not None else None
    if hl7 is None:
        return
    old = f"{code}@{cs}" if cs else code
    if hl7.code_system == NULL_FLAVOR_CS:
        for attr in ("code", "codeSystem", "displayName", "codeSystemName", "codeSystemVersion"):
            el.attrib.pop(attr, None)
        el.set("nullFlavor", hl7.code)
    else:
        el.set("code", hl7.code)
        el.set("codeSystem", hl7.code_system)
    step.log("changed", "CONV-CODE-FLAVOUR", el,
             f"{w} code {code} in the BDS flavour becomes the HL7 flavour the BDS {step.target} templates bind",
             element=number, old=old, new=f"{hl7.code}@{hl7.code_system}")
