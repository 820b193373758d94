"""The irregular DOB rules (``kind=other``), one function per kind of ``logic`` text.

``tools/import_rules.py`` maps each row's ``logic`` (README, "Conventions of the logic
column") to a handler name and its parameters, and refuses rows it cannot map. A
handler gets the context element, the run (document-wide facts) and those parameters,
and returns a falsy value (no finding), ``True``, or a dict of placeholder values for
the message (``"…"`` holds the values of the anonymous ``{…}`` placeholders in order).
"""

from __future__ import annotations

import re

from lxml import etree

from .paths import H, has_child, has_child_elements, own_text, string_value, xpath_number

AORTA_APP = "2.16.840.1.113883.2.4.6.6"
UZI_PERSON = "2.16.528.1.1007.3.1"
UZI_SYSTEM = "2.16.528.1.1007.3.2"
URA = "2.16.528.1.1007.3.3"
BSN = "2.16.840.1.113883.2.4.6.3"
SBVZ = "2.16.528.1.1007.4"
KEYWORD_CS = "2.16.840.1.113883.2.4.15.1"
KEYWORDS = {"bsn": ("FICID", "PATID"), "context": ("CONTEXT",)}


def _kids(el, name: str) -> list:
    tag = H + name
    return [c for c in el if c.tag == tag]


def _ids(el, root: str, extension: str | None = None, need_extension: bool = False) -> list:
    return [i for i in _kids(el, "id") if i.get("root") == root
            and (extension is None or i.get("extension") == extension)
            and (not need_extension or i.get("extension") is not None)]


def _first_named(parent, names: tuple[str, ...]):
    for c in parent:
        if isinstance(c.tag, str) and c.tag.startswith(H) and c.tag[len(H):].lower() in names:
            return c
    return None


def _once(find):
    """``find(cap)`` computed once per run: about a dozen wrapper rows ask for the same
    author and overseer entities, which cost a walk of the ControlActProcess each time."""
    def cached(cap, run) -> list:
        key = (find, cap)
        found = run.memo.get(key)
        if found is None:
            found = run.memo[key] = find(cap)
        return found

    return cached


def author_entities(cap) -> list:
    """README: author entities under the ControlActProcess's authorOrPerformer children."""
    out = []
    for aop in _kids(cap, "authorOrPerformer"):
        for parent in aop.iter():
            if isinstance(parent.tag, str):
                first = _first_named(parent, ("assigneddevice", "assignedperson"))
                if first is not None:
                    out.append(first)
    return out


def _is_device(el) -> bool:
    return el.tag[len(H):].lower() == "assigneddevice"


def overseer_persons(cap) -> list:
    found = (_first_named(o, ("assignedentity", "assignedperson")) for o in _kids(cap, "overseer"))
    return [p for p in found if p is not None]


_authors, _overseers = _once(author_entities), _once(overseer_persons)


def _org_ids(entity, root: str | None = None, extension: str | None = None, need_extension: bool = False) -> list:
    return [i for org in _kids(entity, "Organization") for i in _kids(org, "id")
            if (root is None or i.get("root") == root)
            and (extension is None or i.get("extension") == extension)
            and (not need_extension or i.get("extension") is not None)]


def _has_code(entity, code_system: str, code: str | None) -> bool:
    return any(c.get("codeSystem") == code_system and (code is None or c.get("code") == code)
               for c in _kids(entity, "code"))


def _has_path(el, steps: list[str]) -> bool:
    """``a/b[attr=value]/c`` style existence test (``attr=value`` only)."""
    nodes = [el]
    for step in steps:
        m = re.match(r"^(\w+)(?:\[(\w+)=([^\]]*)\])?$", step)
        name, attr, value = m.group(1), m.group(2), m.group(3)
        nodes = [c for n in nodes for c in _kids(n, name) if attr is None or c.get(attr) == value]
    return bool(nodes)


# --------------------------------------------------------------------------- generic


def no_child_elements(el, run):
    return has_child_elements(el)


def range_(el, run, lo, hi, pattern):
    if el.get("nullFlavor") is not None:
        return False
    value = el.get("value")
    n = xpath_number(value)
    ok = (lo is None or n >= lo) and (hi is None or n <= hi)
    if ok and pattern is not None:
        ok = re.search(pattern, value or "") is not None
    return not ok


def text_length(el, run, op, n, null_exempt):
    if null_exempt and el.get("nullFlavor") is not None:
        return False
    length = len(own_text(el))
    return not (length == n if op == "=" else length >= n)


def attr_length(el, run, attr, op, n):
    length = len(el.get(attr) or "")
    return not (length == n if op == "=" else length >= n)


def needs_display_name(el, run):
    return el.get("code") is not None and el.get("displayName") is None


def need_child(el, run, names):
    return not any(has_child(el, H + n) for n in names)


def attr_not_in(el, run, attr, values, null_exempt):
    if null_exempt and el.get("nullFlavor") is not None:
        return False
    return el.get(attr) not in values


def attrs_equal(el, run, pairs):
    return all(el.get(a) == v for a, v in pairs)


def own_text_in(el, run, values):
    nodes = ([el.text] if el.text is not None else []) + [c.tail for c in el if c.tail is not None]
    if any(t in values for t in nodes):
        return False
    return {"…": [own_text(el)]}


def negation_child(el, run, name, when_true):
    negated = el.get("negationInd") == "true"
    present = has_child(el, H + name)
    return (negated and not present) if when_true else (not negated and present)


def file_url(el, run, prefix):
    value = el.get("value")
    return value is not None and not value.startswith(prefix)


# --------------------------------------------------------------------------- wrapper


def vocab_missing(el, run):
    return False  # the interaction list is part of the publication (README)


def interaction_inactive(el, run):
    return not run.facts.active


def attention_required(el, run, kind):
    if not run.facts.switch(kind):
        return False
    codes = KEYWORDS[kind]
    return not any(k.get("code") in codes and k.get("codeSystem") == KEYWORD_CS
                   for a in _kids(el, "attentionLine") for k in _kids(a, "keyWordText"))


def _gbk_gbp_sender(root) -> bool:
    return any(c.get("codeSystem") in ("2.16.840.1.113883.2.4.3.11.8", "2.16.840.1.113883.2.4.3.11.6")
               for cap in _kids(root, "ControlActProcess") for aop in _kids(cap, "authorOrPerformer")
               for p in _kids(aop, "participant") for ap in _kids(p, "AssignedPerson") for c in _kids(ap, "code"))


def attention_keywordtext(el, run, kind):
    codes = KEYWORDS[kind]
    used = any(k.get("code") in codes and k.get("codeSystem") == KEYWORD_CS
               for a in _kids(el, "attentionLine") for k in _kids(a, "keywordText"))
    if used and not run.facts.switch(kind) and not _gbk_gbp_sender(el):
        return {"local-name()": "keywordText"}
    return False


def attention_max_one(el, run, kind):
    codes = KEYWORDS[kind]
    count = sum(1 for a in _kids(el, "attentionLine") for k in _kids(a, "keyWordText")
                if k.get("code") in codes and k.get("codeSystem") == KEYWORD_CS)
    return count > 1


def interaction_id(el, run):
    parent = el.getparent()
    name = parent.tag[len(H):] if parent is not None and parent.tag.startswith(H) else None
    return el.get("root") == "2.16.840.1.113883.1.6" and el.get("extension") != name


def query_mood(el, run):
    return has_child(el, H + "queryByParameter") and el.get("moodCode") != "EVN"


def trigger_event(el, run):
    codes = [c.get("code") for c in _kids(el, "code") if c.get("code") is not None]
    if codes and run.facts.trigger not in codes:
        return {"$interactionTriggerEventCode": run.facts.trigger, "$messageTriggerEventCode": " ".join(codes)}
    return False


def trust_person(el, run, kind):
    persons = _authors(el, run) if kind == "author" else _overseers(el, run)
    if kind == "author":
        persons = [p for p in persons if not _is_device(p)]
    return not persons and run.facts.trust not in (None, "Laag")


def _author_path(entities) -> str:
    return "authorOrPerformer/participant/" + (entities[0].tag[len(H):] if entities else "AssignedDevice")


def author_app_id(el, run):
    root = el.getparent()
    senders = []
    if root is not None:
        senders = [i.get("extension") for s in _kids(root, "sender") for d in _kids(s, "device")
                   for i in _ids(d, AORTA_APP) if i.get("extension") is not None]
    devices = [e for e in _authors(el, run) if _is_device(e)]
    authors = [i.get("extension") for d in devices for i in _ids(d, AORTA_APP) if i.get("extension") is not None]
    if senders and authors and not set(senders) & set(authors) and "1" not in senders:
        return {"$authorPath": _author_path(devices), "$authorApplicationId": " ".join(authors),
                "$senderApplicationId": " ".join(senders)}
    return False


def author_device_uzi(el, run):
    devices = [e for e in _authors(el, run) if _is_device(e)]
    if any(_org_ids(d, URA) for d in devices) and not any(_ids(d, UZI_SYSTEM) for d in devices):
        return {"$authorPath": _author_path(devices)}
    return False


def author_device_ura(el, run):
    devices = [e for e in _authors(el, run) if _is_device(e)]
    if any(_ids(d, UZI_SYSTEM) for d in devices) and not any(_org_ids(d, URA, need_extension=True) for d in devices):
        return {"$authorPath": _author_path(devices)}
    return False


def author_device_org(el, run):
    devices = [e for e in _authors(el, run) if _is_device(e)]
    if devices and not any(_ids(d, AORTA_APP, "1") or _ids(d, SBVZ) or _org_ids(d) for d in devices):
        return {"$authorPath": _author_path(devices)}
    return False


def author_person_code(el, run, roots, code_system, code):
    persons = [e for e in _authors(el, run) if not _is_device(e)]
    if any(i.get("root") in roots for p in persons for i in _kids(p, "id")) and not any(
            _has_code(p, code_system, code) for p in persons):
        return {"$authorPath": _author_path(persons)}
    return False


def author_person_org(el, run, roots, org_root, org_extension, need_extension):
    entities = _authors(el, run)
    persons = [e for e in entities if not _is_device(e)]
    if any(i.get("root") in roots for p in persons for i in _kids(p, "id")) and not any(
            _org_ids(e, org_root, org_extension, need_extension) for e in entities):
        return {"$authorPath": _author_path(persons)}
    return False


def overseer_org_name(el, run, root, extension):
    for p in _overseers(el, run):
        for org in _kids(p, "Organization"):
            if not has_child(org, H + "name") and any(
                    i.get("root") == root and (extension is None or i.get("extension") == extension)
                    for i in _kids(org, "id")):
                return {"$authorPath": "overseer/" + p.tag[len(H):]}
    return False


def overseer_code(el, run):
    persons = _overseers(el, run)
    if persons and not any(has_child(p, H + "code") for p in persons):
        return {"$overseerPath": "overseer/" + persons[0].tag[len(H):]}
    return False


def overseer_bsn_code(el, run):
    persons = _overseers(el, run)
    if any(_ids(p, BSN) for p in persons) and not any(
            _has_code(p, "2.16.840.1.113883.2.4.3.11.8", "P") or _has_code(p, "2.16.840.1.113883.2.4.3.11.6", None)
            for p in persons):
        return {"$overseerPath": "overseer/" + persons[0].tag[len(H):]}
    return False


def overseer_uzi_has(el, run, path):
    persons = _overseers(el, run)
    if any(_ids(p, UZI_PERSON) for p in persons) and not any(_has_path(p, path) for p in persons):
        return {"$overseerPath": "overseer/" + persons[0].tag[len(H):]}
    return False


def overseer_org_match(el, run):
    persons = _overseers(el, run)
    overseer_ids = [i for p in persons for i in _org_ids(p)]
    entities = _authors(el, run)
    author_ids = [i for e in entities for i in _org_ids(e)]
    if not overseer_ids or any(_is_device(e) for e in entities):
        return False
    roots = {i.get("root") for i in overseer_ids if i.get("root") is not None}
    exts = {i.get("extension") for i in overseer_ids if i.get("extension") is not None}
    if any(i.get("root") in roots and i.get("extension") in exts for i in author_ids):
        return False
    first = overseer_ids[0]
    return {"$overseerPath": "overseer/" + persons[0].tag[len(H):],
            "…": [first.get("root") or "", first.get("extension") or "",
                  " ".join(f"{i.get('root') or ''}#{i.get('extension') or ''}" for i in author_ids)]}


def author_org_name(el, run):
    entities = _authors(el, run)
    devices = [e for e in entities if _is_device(e)]
    sbvz = any(_ids(d, "2.16.528.1.1007", "4") for d in devices)
    zim = any(_ids(d, AORTA_APP, "1") for d in devices)
    named = any(has_child(org, H + "name") for e in entities for org in _kids(e, "Organization"))
    if sbvz or zim or named:
        return False
    return {"$authorPath": _author_path(entities), "…": [str(sbvz).lower(), str(zim).lower(), str(named).lower()]}


def wrapper_present(el, run):
    """TC14587 (context: the document): no wrapper element with an HL7 interaction id."""
    tag = H + run.facts.name
    found = run.named.get(tag) if el is run.root else None  # the run's one pass over the document
    for node in (found if found is not None else el.iter(tag)):
        if any(i.get("root") == "2.16.840.1.113883.1.6" for i in _kids(node, "interactionId")):
            return False
    return True


# --------------------------------------------------------------------------- payload


def empty_text_node(el, run):
    return False  # requires an empty text node, which XML data never has (README)


ORIGINAL_TEXT = H + "originalText"


def _oth_texts(el):
    """XPath ``.//*[@nullFlavor='OTH']/h:originalText``: originalText children of proper
    descendants with nullFlavor OTH, in document order (found by name in C, then filtered)."""
    for o in el.iterdescendants(H + "originalText"):
        parent = o.getparent()
        if parent is not el and parent.get("nullFlavor") == "OTH":
            yield o


def oth_text_length(el, run, limit):
    found = run.named.get(ORIGINAL_TEXT) if run.indexed else None
    if found is None:
        texts = _oth_texts(el)
    else:  # the run's index pass listed every originalText of the document, in document order
        texts = (o for o in found if (p := o.getparent()) is not el and p.get("nullFlavor") == "OTH"
                 and any(a is el for a in p.iterancestors()))
    for o in texts:
        n = len(string_value(o))
        if n > limit:
            return {"…": [str(n)]}
    return False


def integral_dossier(el, run, code, code_system):
    return not any(c.get("code") == code and c.get("codeSystem") == code_system
                   for a in _kids(el, "appendage") for d in _kids(a, "document") for c in _kids(d, "code"))


def closed_needs_high(el, run):
    parent = el.getparent()
    closed = parent is not None and any(s.get("code") in ("aborted", "completed") for s in _kids(parent, "statusCode"))
    return closed and not has_child(el, H + "high")


def attention_bsn_match(el, run):
    bsn_ids = [i for p in _kids(el, "patient") for i in _ids(p, BSN)]
    x = bsn_ids[0].get("extension") or "" if bsn_ids else ""
    lines = [a for anc in el.iterancestors() for a in _kids(anc, "attentionLine")]
    if not lines:
        return False
    values = [v for a in lines for v in _kids(a, "value")]
    if any(v.get("root") == BSN and v.get("extension") == x for v in values):
        return False
    return {"$patExt": x, "…": [" ".join(v.get("extension") or "" for v in values if v.get("root") == BSN)]}


def performer_identified(el, run):
    if any(i.get("root") is not None and i.get("extension") is not None for i in _kids(el, "id")):
        return False
    return not any(string_value(n) != "" for p in _kids(el, "assignedPerson") for n in _kids(p, "name"))


def id_differs_from_encounter(el, run):
    root = el.get("root")
    if root is None:
        return False
    key = root + (el.get("extension") or "")
    outer = el.getparent()
    for _ in range(2):
        outer = outer.getparent() if outer is not None else None
    if outer is None:
        return False
    return any(i.get("root") is not None and i.get("root") + (i.get("extension") or "") == key
               for i in _kids(outer, "id"))


def one_method_code(el, run):
    return len({m.get("code") for m in el.iterdescendants(H + "methodCode") if m.get("code") is not None}) > 1


def forbid_component_tpl(el, run, root):
    if run.indexed:  # the run's templateId index counts component/observation/templateId roots per element
        slots = run.slots.get(el)
        return bool(slots and slots.get((H + "component", H + "observation", root)))
    return any(t.get("root") == root for c in _kids(el, "component") for o in _kids(c, "observation")
               for t in _kids(o, "templateId"))


def method_07_with_1346(el, run, root1, code, code_system, root2):
    """(a) a descendant with templateId ``root1`` has methodCode ``code``; (b) a descendant has ``root2``."""
    templated = [(t.get("root"), t.getparent()) for t in el.iterdescendants(H + "templateId")]
    templated = [(r, p) for r, p in templated if p is not el]
    a = any(r == root1 and any(m.get("code") == code and m.get("codeSystem") == code_system
                               for m in _kids(p, "methodCode")) for r, p in templated)
    return a and any(r == root2 for r, _ in templated)


def rmd_in_request(el, run):
    return el.get("moodCode") == "RMD" and any(True for _ in el.iterancestors(H + "CareProvisionRequest"))


def lot_and_authorization(el, run, with_lot):
    lot = any(True for _ in el.iterdescendants(H + "lotNumberText"))
    auth = has_child(el, H + "authorization")
    return (lot and auth) if with_lot else (not lot and not auth)


def medicine_code(el, run):
    coded = el.get("code") is not None and el.get("displayName") is not None
    null_text = el.get("nullFlavor") is not None and has_child(el, H + "originalText")
    return not (coded or null_text)


def needs_108_true(el, run, code, code_system):
    parent = el.getparent()
    grand = parent.getparent() if parent is not None else None
    if grand is None:
        return True
    for comp in _kids(grand, "component3"):
        grandchildren = [g for c in comp if isinstance(c.tag, str) for g in c if isinstance(g.tag, str)]
        has_code = any(g.tag == H + "code" and g.get("code") == code and g.get("codeSystem") == code_system
                       for g in grandchildren)
        has_true = any(g.tag == H + "value" and g.get("value") == "true" for g in grandchildren)
        if has_code and has_true:
            return False
    return True


def needs_multiple_birth(el, run):
    return not any(s.get("value") == "true" for s in el.itersiblings(H + "multipleBirthInd", preceding=True))


def code_vs_parent_child(el, run, codes, name, mode):
    parent = el.getparent()
    has = parent is not None and has_child(parent, H + name)
    in_system = el.get("codeSystem") == "2.16.840.1.113883.2.4.4.40.66"
    if mode == "if":
        return el.get("code") in codes and in_system and has
    return not ((el.get("code") == codes[0] and in_system) or has)


HANDLERS = {name.rstrip("_"): fn for name, fn in globals().items()
            if callable(fn) and getattr(fn, "__module__", None) == __name__ and not name.startswith("_")
            and not isinstance(fn, etree.XPath)
            and name not in ("author_entities", "overseer_persons")}
