"""Every code a shipped mapping declares survives BDS facts → DOB → BDS facts.

The 1,000-dossier round trip covers what the synthetic generator happens to produce; this
covers every entry of every value map: each BDS code a mapping can write is put in place
of an existing value of its element in a synthetic dossier, and must read back unchanged.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest

from jgz_gateway.adapters import elements as E
from jgz_gateway.adapters.from_dossier import extract
from jgz_gateway.adapters.mapping import load, shipped
from jgz_gateway.adapters.record import Facts, Group, Other, Record
from jgz_gateway.adapters.synth import generate
from jgz_gateway.adapters.to_dossier import build
from jgz_gateway.standards.hl7v3 import read_message, write_message
from jgz_gateway.standards.validation import validate_bytes

from .conftest import TODAY
from .test_dossier_facts import ENVELOPE, same_facts

CATALOGUE = E.catalogue("4.2.0")

# BDS codes a DOB cannot carry where the element sits: built without them and counted as dropped
UNCARRIABLE = {(71, "UNK"): "a parent's birthPlace/addr needs a coded country (TC04493)"} | {
    (n, "3"): "3 Onbekend: the pregnancy's and newborn's yes/no values are [non-null] (templates 118, 121); "
              "G041's 1201 Afgesloten is the statusCode, active or completed (template 119)"
    for n in (91, 92, 93, 137, 138, 629, 144, 1201)}
#: what goes with an uncarried element: 745 Type drugsgebruik is a detail of 93 Drugsgebruik
GOES_WITH = {93: 745}
TEXTED = {(461, "OTH"): "anders"}  # an "other" vaccine needs a text (TC03048): unnamed, it says "anders"


def is_exception(element: int, code: str) -> bool:
    """The code is written as a null flavour (an exception of the element's value set)."""
    found = E.to_hl7(CATALOGUE.valueset(E.valueset(element, CATALOGUE)), code) if E.valueset(element, CATALOGUE) else None
    return found is not None and found.code_system == E.NULL_FLAVOR_OID


def declared_codes(name: str) -> dict[int, set[str]]:
    """Element → every BDS code the mapping's value maps can produce for it; for a code field
    without a value map (BDS codes as such), its value set: all of it, or for the 386 countries
    every ninth code and every exception."""
    mapping = load(shipped(name))
    codes: dict[int, set[str]] = defaultdict(set)
    for table in mapping.tables.values():
        if table.every_element:  # BDS codes as they are, element by element: see test_every_element.py
            continue
        for f in table.all_fields():
            if f.values:
                codes[f.element] |= set(f.values.values())
            elif f.kind == "code" and E.valueset(f.element, CATALOGUE):
                concepts = CATALOGUE.valueset(E.valueset(f.element, CATALOGUE)).concepts
                if len(concepts) > 40:
                    concepts = [c for i, c in enumerate(concepts) if i % 9 == 0 or (c.hl7 and c.hl7.exception)]
                # an HL7-only set (countries) has no BDS flavour: its BDS code is the HL7 code
                codes[f.element] |= {(c.bds or c.hl7).code for c in concepts}
    return codes


def places(facts: Facts, element: int, found: list) -> list:
    """Every Facts (dossier, activity, group) holding ``element``, depth first."""
    if element in facts.values:
        found.append(facts)
    for g in facts.groups:
        places(g, element, found)
    return found


def holders(records: list[Record], element: int) -> list[tuple[int, Facts]]:
    """Where the synthetic dossiers hold ``element``; for an activity element outside any
    groep that they never fill (some Van Wiechen items), the first dossier's last contact."""
    out = []
    for i, r in enumerate(records):
        for level in (r.facts, *r.activities):
            out += [(i, f) for f in places(level, element, [])]
    e = CATALOGUE.element(element)
    if not out and e is not None and e.groep is None and "activity" in E.levels(element, CATALOGUE):
        out.append((0, records[0].activities[-1]))
    return out


@pytest.mark.parametrize("name", ["csv-export", "json-export"])
def test_every_declared_code_reads_back(name):
    base = list(generate(250, 3, TODAY))
    pending = {e: sorted(c) for e, c in declared_codes(name).items()}
    missing = sorted(e for e in pending if not holders(base, e))
    assert not missing, f"no synthetic dossier holds elements {missing}: extend synth or this test"
    rounds = max(len(c) for c in pending.values())
    checked = 0
    for k in range(rounds):
        records = copy.deepcopy(base)
        changed, exceptional, uncarried, texted = set(), set(), {}, []
        for element, codes in pending.items():
            if k < len(codes):
                found = holders(records, element)
                if element == 483:  # an intervention other than a referral must not carry 1159 or 1494
                    found = [h for h in found if not {1159, 1494} & set(h[1].values)] or found
                if (element, codes[k]) in UNCARRIABLE:  # one uncarried element per dossier
                    found = [h for h in found if h[0] not in uncarried] or found
                i, facts = found[0]
                facts.values[element] = codes[k]
                if element == 483 and codes[k] != E.INTERVENTION_REFERRAL:
                    facts.values.pop(1159, None)
                    facts.values.pop(1494, None)
                changed.add(i)
                checked += 1
                if is_exception(element, codes[k]):
                    exceptional.add(i)
                if (element, codes[k]) in UNCARRIABLE:
                    uncarried[i] = (facts, element)
                texted.append((facts, element))
        for i in sorted(changed):
            record = records[i]
            dossier, dropped = build(record, "4.2.0", ENVELOPE)
            for facts, element in texted:
                code = facts.values.get(element)
                if (element, code) in TEXTED:
                    facts.values[element] = Other(code, TEXTED[element, code])
            if i in uncarried:
                facts, element = uncarried[i]
                also = [n for n in (GOES_WITH.get(element),) if n in facts.values]
                assert dropped == {n: 1 for n in (element, *also)}, record.key
                for n in (element, *also):
                    del facts.values[n]
            else:
                assert not dropped, record.key
            message = write_message(dossier)
            if i in exceptional:  # null flavours in places codes usually stand: still a valid message
                assert not validate_bytes(message).errors, (record.key, k)
            again, unread = extract(read_message(message), record.key)
            assert same_facts(again, record), (record.key, k)
    assert checked == sum(len(c) for c in pending.values())


#: 13 Huisletter and 14 Huisnummertoevoeging share one address part (buildingNumberSuffix "A rood"),
#: split at the first space as Nictiz's conversion does: only a single letter reads back as 13
#: (see test_house_letter_and_addition_share_one_address_part).
SHARED_PART = {13, 14}
#: 1185 is an attached file's base64 content: read without its line breaks and spaces.
BASE64 = {1185}

BOUNDS = {
    "quantity": [Decimal("0"), Decimal("0.5"), Decimal("12.25"), Decimal("99999")],
    "count": [0, 1, 250],
    "bool": [True, False],
    "date": [dt.date(1990, 1, 1), dt.date(2024, 2, 29)],
    "string": ["x", "Zoë; \"Ø\" <b> & 😀", "lang " * 40],
}


@pytest.mark.parametrize("name", ["csv-export", "json-export"])
def test_every_mapped_field_reads_back_at_its_bounds(name):
    """Quantities, counts, booleans, dates and strings of every mapped element, at awkward values."""
    mapping = load(shipped(name))
    kinds: dict[int, str] = {}
    for table in (t for t in mapping.tables.values() if not t.every_element):  # see test_every_element.py
        for f in table.all_fields():
            if not f.values and f.kind in BOUNDS and f.element not in SHARED_PART | BASE64:
                kinds[f.element] = f.kind
    base = list(generate(250, 3, TODAY))
    for k in range(max(len(v) for v in BOUNDS.values())):
        records = copy.deepcopy(base)
        changed = set()
        for element, kind in kinds.items():
            values = BOUNDS[kind]
            found = holders(records, element)
            if found and k < len(values):
                i, facts = found[0]
                facts.values[element] = values[k]
                changed.add(i)
        for record in (records[i] for i in sorted(changed)):
            dossier, dropped = build(record, "4.2.0", ENVELOPE)
            assert not dropped, record.key
            again, _ = extract(read_message(write_message(dossier)), record.key)
            assert same_facts(again, record), (record.key, k)


@pytest.mark.parametrize("given, back", [
    ({13: "A", 14: "rood"}, {13: "A", 14: "rood"}),
    ({13: "B"}, {13: "B"}),
    ({14: "bis"}, {14: "bis"}),
    ({14: "2 hoog"}, {14: "2 hoog"}),
    ({14: "h"}, {13: "h"}),  # one letter alone is a huisletter in the DOB
    ({13: "AB"}, {14: "AB"}),  # not one letter: a toevoeging
])
def test_house_letter_and_addition_share_one_address_part(given, back):
    from .test_dossier_facts import small_record

    record = small_record()
    record.facts.groups.append(Facts(values={8: "01", 11: "Dorpsstraat", 12: 5, 16: "1234 AB", 630: "6030", **given}))
    record.facts.groups[-1] = Group(groep="G001", values=record.facts.groups[-1].values)
    dossier, dropped = build(record, "4.2.0", ENVELOPE)
    message = write_message(dossier)
    assert not dropped and not validate_bytes(message).errors
    again, _ = extract(read_message(message), record.key)
    (address,) = again.facts.groups_of("G001")
    assert {n: v for n, v in address.values.items() if n in (13, 14)} == back
