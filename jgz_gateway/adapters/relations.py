"""The people and organisations around the child, as BDS facts and as the DOB carries them.

R006 the huisarts (G086), R007 other organisations and care providers (G082) and R008's
voor- and buitenschoolse voorzieningen (G006) are care provisions of another provider
(``patientPerson/asPatientOfOtherProvider/subjectOf/careProvision``, templates 104, 107 and
108); R008's school (G008) is ``patientPerson/asStudent``; the child's contact person (G004)
and every organisation's contact persons (G005, G007, G009) are ``contactParty``. The shapes
come from the template rules (R_PatientNL_JGZ, 131); which element sits where is in
:mod:`jgz_gateway.standards.involved` (``PROVIDERS``, ``CONTACTS``, ``SCHOOL``), which the FHIR view
and the ADA conversion read too.

:class:`Writer` turns groups into nodes for the builder (:mod:`.to_dossier`), :class:`Reader`
nodes into groups for the reader (:mod:`.from_dossier`). Neither guesses: a structure without
what its template requires (a contact without a name, a voorziening without its kind) is not
written and its elements are counted as dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ..standards import model as m
from . import elements as E
from .record import Facts, Group, each

if TYPE_CHECKING:  # pragma: no cover
    from .from_dossier import _Reader
    from .to_dossier import _Builder

ORG = {"classCode": "ORG", "determinerCode": "INSTANCE"}


def _node(name: str, attrs: dict | None = None, children: list | None = None, text: str | None = None) -> m.Node:
    from .to_dossier import node

    return node(name, attrs, children, text)


def _text(n: m.Node | None) -> str | None:
    """A node's text as written, or None when it has none (or only whitespace)."""
    return n.text if n is not None and n.text and n.text.strip() else None


# --------------------------------------------------------------------------- writing


class Writer:
    """Groups of the dossier level → patientPerson nodes, for one builder."""

    def __init__(self, builder: _Builder):
        self.b = builder

    def dropped(self, g: Group) -> None:
        self.b.dropped.update(n for n, _ in g.items())

    def period(self, g: Group, period: E.Period, name: str = "effectiveTime", xsi: bool = False) -> list[m.Node]:
        """The groep's period as an IVL_TS named ``name`` (none when it has no date)."""
        from .to_dossier import _bounds

        for p in g.groups_of(period.groep):
            bounds = _bounds(p.values, period.start, period.end)
            if bounds:
                return [_node(name, {"xsi:type": "IVL_TS"} if xsi else None, bounds)]
        return []

    def contact(self, g: Group, xsi_period: bool) -> m.Node | None:
        """A contact person; None (and counted as dropped) without the name its template requires."""
        c, v = E.CONTACTS[g.groep], g.values
        if not v.get(c.name):
            self.dropped(g)
            return None
        parts = []
        if v.get(c.role):
            parts.append(_node("code", {"nullFlavor": "OTH"}, [_node("originalText", text=str(v[c.role]))]))
        from .to_dossier import mailto, tel

        if v.get(c.phone):
            parts.append(tel(v[c.phone]))
        if v.get(c.email):
            parts.append(mailto(v[c.email]))
        parts += self.period(g, c.period, xsi=xsi_period)
        parts.append(_node("contactPerson", {"classCode": "PSN", "determinerCode": "INSTANCE"},
                           [_node("name", text=str(v[c.name]))]))
        return _node("contactParty", {"classCode": "CON"}, parts)

    def contacts(self, f: Facts, groep: str | None, xsi_period: bool = True) -> list[m.Node]:
        return [x for x in (self.contact(g, xsi_period) for g in f.groups_of(groep or "")) if x is not None]

    def provider(self, g: Group) -> m.Node | None:
        """One care provision of another provider, wrapped in its own asPatientOfOtherProvider
        (the template allows one subjectOf there)."""
        p, v = E.PROVIDERS[g.groep], g.values
        if isinstance(p.code, int):
            if p.code not in v:  # its kind is the careProvision's required code
                self.dropped(g)
                return None
            code = self.b.coded_node("code", p.code, v[p.code])
        else:
            code = _node("code", {"code": p.code[0], "codeSystem": p.code[1]})
        ids = [_node("id", {"extension": str(v[n]), "root": root}) for root, n in p.person.items() if v.get(n)]
        org_ids = [_node("id", {"extension": str(v[n]), "root": root}) for root, n in p.organisation.items() if v.get(n)]
        org = org_ids or [_node("id", {"nullFlavor": "NI"})]
        if v.get(p.name):
            org.append(_node("name", text=str(v[p.name])))
        org += self.contacts(g, p.contact.groep if p.contact else None)
        provider = (ids or [_node("id", {"nullFlavor": "NI"})]) + [_node("representedOrganization", dict(ORG), org)]
        care = [_node("templateId", {"root": m.TEMPLATE_PREFIX + p.template}), code,
                *self.period(g, p.period, xsi=True),
                _node("performer", {"typeCode": "PRF"}, [_node("assignedProvider", {"classCode": "ASSIGNED"}, provider)])]
        return _node("asPatientOfOtherProvider", {"classCode": "PAT"}, [_node("subjectOf", {"typeCode": "SBJ"}, [
            _node("careProvision", {"classCode": "PCPR", "moodCode": "EVN"}, care)])])

    def providers(self, f: Facts) -> list[m.Node]:
        out = []
        for g in f.groups:
            if g.groep in E.PROVIDERS:
                if g.groep == "G006" and not set(g.values) - set(E.VVE_IN_G006) and not g.groups:
                    continue  # only the child's VVE answers (administrative observations)
                if g.groep == "G006":
                    g = Group(groep="G006", values={n: x for n, x in g.values.items() if n not in E.VVE_IN_G006},
                              groups=g.groups)
                n = self.provider(g)
                if n is not None:
                    out.append(n)
        return out

    def school(self, g: Group, student_number: Any) -> m.Node | None:
        """The school (G008) as asStudent; None (counted as dropped) without the kind of education
        its context needs."""
        s, v = E.SCHOOL, g.values
        if s["kind"] not in v:
            self.dropped(g)
            return None
        brin = ({"extension": str(v[s["brin"]]), "root": E.SCHOOL_BRIN} if v.get(s["brin"])
                else {"root": E.SCHOOL_BRIN, "nullFlavor": "NI"})
        org = [_node("id", brin), self.b.coded_node("code", s["kind"], v[s["kind"]])]
        if v.get(s["name"]):
            org.append(_node("name", text=str(v[s["name"]])))
        org += self.contacts(g, "G009")
        if v.get(s["class_name"]):  # the part organisation needs a name; a class number alone has no place
            part = [_node("id", {"nullFlavor": "NI"})]
            if v.get(s["class"]) is not None:
                part.append(_node("code", {"nullFlavor": "OTH"}, [_node("originalText", text=str(v[s["class"]]))]))
            part.append(_node("name", text=str(v[s["class_name"]])))
            org.append(_node("organizationContains", {"classCode": "PART"}, [_node("partOrganization", dict(ORG), part)]))
        elif v.get(s["class"]) is not None:
            self.b.dropped[s["class"]] += 1
        student_id = {"nullFlavor": "UNC"} | ({"extension": str(student_number)} if student_number else {})
        return _node("asStudent", {"classCode": "STD"}, [
            _node("id", student_id), *self.period(g, E.SCHOOL_PERIOD), _node("schoolOrganization", dict(ORG), org)])

    def schools(self, f: Facts) -> list[m.Node]:
        number = f.values.get(E.STUDENT_NUMBER)
        out = [x for x in (self.school(g, number) for g in f.groups_of("G008")) if x is not None]
        if number and not out:
            self.b.dropped[E.STUDENT_NUMBER] += 1  # the number is the id of a school's student
        return out

    def vve_answers(self, f: Facts) -> dict[int, list]:
        """714, 716 (dossier level) and 1417, 1493 (in G006; the message holds one of each per child)."""
        out: dict[int, list] = {}
        for n in E.VVE_ADMINISTRATIVE:
            if n in E.VVE_IN_G006:
                found = [g.values[n] for g in f.groups_of("G006") if n in g.values]
                if len(found) > 1:
                    self.b.dropped[n] += len(found) - 1
                out[n] = found[:1]
            elif n in f.values:
                out[n] = each(f.values[n])
        return out


# --------------------------------------------------------------------------- reading


class Reader:
    """patientPerson nodes → groups of the dossier level, for one facts reader."""

    def __init__(self, reader: _Reader):
        self.r = reader

    def period(self, g: Group, time: m.Node | None, period: E.Period) -> None:
        from .from_dossier import _period

        g.groups += _period(time, period.groep, period.start, period.end)

    def contact(self, party: m.Node, groep: str) -> Group:
        c = E.CONTACTS[groep]
        g = Group(groep=groep)
        v = g.values
        name = party.find("contactPerson/name")
        if name is not None:
            text = _text(name) or " ".join(t for t in (_text(x) for x in name.children) if t)
            if text:
                v[c.name] = text
        role = party.find("code/originalText")
        if _text(role):
            v[c.role] = _text(role)
        for tel in party.children:
            value = tel.attrs.get("value", "") if tel.name == "telecom" else ""
            if value.startswith("mailto:") and c.email not in v:
                v[c.email] = unquote(value[len("mailto:"):])
            elif value.startswith("tel:") and c.phone not in v:
                v[c.phone] = unquote(value[len("tel:"):])
            elif value:
                self.r.unread[c.email if "@" in value else c.phone] += 1
        self.period(g, party.child("effectiveTime"), c.period)
        return g

    def provider(self, care: m.Node) -> Group | None:
        """A careProvision of template 104, 107 or 108 (else by its code), or None when it is none."""
        roots = {t.attrs.get("root", "") for t in care.children if t.name == "templateId"}
        code = care.child("code")
        spec = next((p for p in E.PROVIDERS.values() if m.TEMPLATE_PREFIX + p.template in roots), None)
        if spec is None and code is not None:
            spec = next((p for p in E.PROVIDERS.values() if not isinstance(p.code, int)
                         and p.code == (code.attrs.get("code"), code.attrs.get("codeSystem"))), None)
        if spec is None:
            return None
        g = Group(groep=spec.groep)
        v = g.values
        if isinstance(spec.code, int):
            self.r.put_code(v, spec.code, code)
        time = care.child("effectiveTime")
        if time is not None and time.child("comp") is not None:  # SXPR_TS (template 10267): the period and the dagdelen
            comps = [c for c in time.children if c.name == "comp"]
            time = next((c for c in comps if c.type == "IVL_TS"), None)
            if any(c.type == "PIVL_TS" for c in comps):
                self.r.unread[E.DAYPARTS] += 1  # 55: how a count of dagdelen becomes a PIVL_TS is not published
        self.period(g, time, spec.period)
        provider = care.find("performer/assignedProvider")
        for n in provider.children if provider is not None else ():
            if n.name == "id" and n.attrs.get("root") in spec.person and n.attrs.get("extension"):
                v[spec.person[n.attrs["root"]]] = n.attrs["extension"]
        org = provider.child("representedOrganization") if provider is not None else None
        for n in org.children if org is not None else ():
            if n.name == "id" and n.attrs.get("root") in spec.organisation and n.attrs.get("extension"):
                v[spec.organisation[n.attrs["root"]]] = n.attrs["extension"]
            elif n.name == "name" and _text(n):
                v[spec.name] = _text(n)
            elif n.name == "contactParty" and spec.contact is not None:
                g.groups.append(self.contact(n, spec.contact.groep))
        return g

    def school(self, student: m.Node, f: Facts) -> Group:
        s = E.SCHOOL
        g = Group(groep="G008")
        v = g.values
        sid = student.child("id")
        if sid is not None and sid.attrs.get("extension"):
            f.values[E.STUDENT_NUMBER] = sid.attrs["extension"]
        self.period(g, student.child("effectiveTime"), E.SCHOOL_PERIOD)
        org = student.child("schoolOrganization")
        for n in org.children if org is not None else ():
            if n.name == "id" and n.attrs.get("root") == E.SCHOOL_BRIN and n.attrs.get("extension"):
                v[s["brin"]] = n.attrs["extension"]
            elif n.name == "code":
                self.r.put_code(v, s["kind"], n)
            elif n.name == "name" and _text(n):
                v[s["name"]] = _text(n)
            elif n.name == "contactParty":
                g.groups.append(self.contact(n, "G009"))
            elif n.name == "organizationContains":
                part = n.child("partOrganization")
                number = _text(part.find("code/originalText")) if part is not None else None
                if number is not None and number.strip().isdecimal():
                    v[s["class"]] = int(number)
                elif number is not None:
                    self.r.unread[s["class"]] += 1
                if part is not None and _text(part.child("name")):
                    v[s["class_name"]] = _text(part.child("name"))
        return g

    def person_part(self, extra: m.Node, f: Facts) -> bool:
        """Read one patientPerson child if it is a provider, school or contact person."""
        if extra.name == "asPatientOfOtherProvider":
            for care in extra.findall("subjectOf/careProvision"):
                g = self.provider(care)
                if g is not None:
                    f.groups.append(g)
                else:
                    self.r.count_unread([care])
            return True
        if extra.name == "asStudent" and extra.child("schoolOrganization") is not None:
            f.groups.append(self.school(extra, f))
            return True
        if extra.name == "contactParty" and extra.child("contactPerson") is not None:
            f.groups.append(self.contact(extra, "G004"))
            return True
        return False

    @staticmethod
    def vve_into_g006(f: Facts) -> None:
        """1417 and 1493 belong to G006 in the BDS: move them into the first (or a new) G006."""
        found = {n: f.values.pop(n) for n in E.VVE_IN_G006 if n in f.values}
        if found:
            target = next(iter(f.groups_of("G006")), None)
            if target is None:
                target = Group(groep="G006")
                f.groups.append(target)
            target.values.update(found)
