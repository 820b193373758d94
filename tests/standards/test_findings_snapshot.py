"""Every finding, byte for byte, as the validator reported it before the speed work.

The fixture ``findings_snapshot.json.gz`` was generated from the validator as it was
before the engine was optimised (commit 4cb2c56), and regenerated once when findings began
to show the element as found (" Found: <…>", before any bracketed note) where the
published text quotes no value: datatype rules, rows that test an element's code, value
set, unit or attributes, and a child required with a qualifier (``value[vs=…]``) that is
present without it. 1,147 messages gained that; every other byte was checked unchanged.
It holds the complete
``Report.as_dict()`` of

* every reference message, as published and under each of the three DOB interactions
  (NL03, NL04, NL: the root renamed), so every profile runs on every message;
* the bad-input corpus (``badinput.py``);
* several hundred mutants of the reference messages: seeded random edits (attributes
  removed, changed or copied from elsewhere in the message, nullFlavors, xsi:types,
  templateId roots swapped, elements removed, duplicated, moved or renamed, text,
  comments and processing instructions added).

Any structural change to the validator must leave all of these identical: same findings,
same order, same messages, paths and element numbers. Regenerate only from code whose
findings are known to be right:

    JGZ_REGEN_SNAPSHOT=1 .venv/bin/pytest tests/standards/test_findings_snapshot.py
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import os
import random
from pathlib import Path

import pytest
from lxml import etree

from jgz_gateway.standards.validation import validate_bytes

from ..conftest import REFERENCE, reference_messages
from .badinput import CASES

SNAPSHOT = Path(__file__).with_name("findings_snapshot.json.gz")
H = "{urn:hl7-org:v3}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
INTERACTIONS = ("REPC_IN902120NL03", "REPC_IN902120NL04", "REPC_IN902120NL")

pytestmark = pytest.mark.skipif(not REFERENCE.exists(), reason="reference artefacts not found")

SPECIAL_VALUES = ["", " ", "x", "x y", "NI", "OTH", "UNK", "NA", "true", "false", "0", "-1", "12,5", "1.23456",
                  "20200101", "2020010112", "20201301", "19991231235959", "2.16.840.1.113883.2.4.6.3",
                  "2.16.528.1.1007.3.1", "2.16.528.1.1007.3.3", "123456782", "12345678", "999901795",
                  "VV", "VV BR", "IN", "CL", "IN CL", "LS", "g", "mm", "cm", "kg", "1", "EVN", "RMD", "OBS",
                  "2.16.840.1.113883.2.4.4.40.267", "01", "02", "abc\tdef", "file:///x", "http://x y"]
TYPES = ["ST", "CV", "CE", "CD", "CO", "CS", "PQ", "INT", "BL", "TS", "IVL_TS", "PIVL_TS", "SXPR_TS", "II", "AD",
         "PN", "ON", "TN", "EN", "TEL", "URL", "ED", "SC", "hl7:PQ", "xs:PQ", "foo:bar", "1bad", "REAL"]
NULLS = ["NI", "OTH", "UNK", "NA", "MSK", "ASKU", "NAV", "PINF", "NINF", "XX"]
TEXTS = ["", " ", "x", "van Dam", "A.B.", "A.", '"quoted', "de Vries", "a  b", "12"]


def _elements(root) -> list:
    return [e for e in root.iter() if isinstance(e.tag, str)]


def _mutate_once(root, rng: random.Random) -> None:
    els = _elements(root)
    non_root = els[1:]
    el = rng.choice(non_root)
    action = rng.randrange(14)
    if action == 0 and el.attrib:  # remove an attribute
        del el.attrib[rng.choice(sorted(el.attrib))]
    elif action in (1, 2):  # set an attribute to a value seen elsewhere, or a special one
        names = sorted({a for e in els for a in e.attrib})
        name = rng.choice(sorted(el.attrib)) if el.attrib and rng.random() < 0.6 else rng.choice(names)
        if rng.random() < 0.5:
            seen = sorted({e.get(name) for e in els if e.get(name) is not None})
            value = rng.choice(seen) if seen else "x"
        else:
            value = rng.choice(SPECIAL_VALUES)
        el.set(name, value)
    elif action == 3:  # null flavor, sometimes with the value removed
        el.set("nullFlavor", rng.choice(NULLS))
        if rng.random() < 0.5:
            for a in ("code", "value", "codeSystem", "root", "extension", "unit"):
                el.attrib.pop(a, None)
    elif action == 4 and el.getparent() is not None:  # remove
        el.getparent().remove(el)
    elif action == 5:  # duplicate next to itself
        el.addnext(copy.deepcopy(el))
    elif action == 6:  # text
        el.text = rng.choice(TEXTS)
    elif action == 7:  # add a copy of some other (small) element as a child
        small = [e for e in els if len(e) <= 3 and e is not el]
        el.append(copy.deepcopy(rng.choice(small)))
    elif action == 8:  # rename to another tag of the message
        el.tag = rng.choice(sorted({e.tag for e in els}))
    elif action == 9:  # xsi:type
        el.set(XSI_TYPE, rng.choice(TYPES))
    elif action == 10:  # move under another element
        target = rng.choice(els)
        if el not in target.iterancestors() and target is not el and el not in list(target.iterancestors()):
            if not any(a is el for a in target.iterancestors()):
                target.append(el)
    elif action == 11:  # comment or processing instruction
        node = etree.Comment("c") if rng.random() < 0.5 else etree.ProcessingInstruction("pi", "x")
        el.insert(rng.randrange(len(el) + 1), node)
    elif action == 12:  # swap a templateId root for another one of the message
        tids = [e for e in els if e.tag == H + "templateId"]
        roots = sorted({t.get("root") for t in tids if t.get("root")})
        if tids and roots:
            rng.choice(tids).set("root", rng.choice(roots))
    elif action == 13:  # copy the attributes of a same-named element
        same = [e for e in els if e.tag == el.tag and e is not el]
        if same:
            other = rng.choice(same)
            el.attrib.clear()
            for k, v in other.attrib.items():
                el.set(k, v)


def mutants(path: Path, count: int) -> list[tuple[str, bytes]]:
    data = path.read_bytes()
    out = []
    for i in range(count):
        rng = random.Random(f"{path.name}#{i}")
        root = etree.fromstring(data)
        for _ in range(rng.randint(1, 4)):
            _mutate_once(root, rng)
        if rng.random() < 0.25:
            root.tag = H + rng.choice(INTERACTIONS)
        out.append((f"mutant:{path.name}#{i}", etree.tostring(root, xml_declaration=True, encoding="UTF-8")))
    return out


def renamed(path: Path, interaction: str) -> bytes:
    root = etree.fromstring(path.read_bytes())
    root.tag = H + interaction
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def corpus() -> list[tuple[str, bytes]]:
    cases = []
    for path in reference_messages():
        cases.append((f"ref:{path.parent.name}/{path.name}", path.read_bytes()))
        for interaction in INTERACTIONS:
            cases.append((f"as:{interaction}:{path.name}", renamed(path, interaction)))
    for case in CASES:
        cases.append((f"bad:{case.name}", case.make()))
    for path in reference_messages():
        cases.extend(mutants(path, 12 if path.stat().st_size < 60_000 else 4))
    return cases


def report_of(data: bytes) -> dict:
    d = validate_bytes(data).as_dict()
    d.pop("file")
    return d


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


@pytest.fixture(scope="module")
def snapshot() -> dict:
    if os.environ.get("JGZ_REGEN_SNAPSHOT"):
        snap = {name: {"input": _digest(data), "report": report_of(data)} for name, data in corpus()}
        SNAPSHOT.write_bytes(gzip.compress(json.dumps(snap, sort_keys=True, ensure_ascii=False).encode(), mtime=0))
    return json.loads(gzip.decompress(SNAPSHOT.read_bytes()))


def test_snapshot_covers_the_corpus(snapshot):
    names = [name for name, _ in corpus()]
    assert sorted(names) == sorted(snapshot)
    assert len(names) > 600
    # the mutants must actually break things, or they guard nothing
    broken = sum(1 for n in names if n.startswith("mutant:") and snapshot[n]["report"]["findings"])
    assert broken > 300


def test_findings_identical_to_snapshot(snapshot):
    differ = []
    for name, data in corpus():
        expected = snapshot[name]
        assert _digest(data) == expected["input"], f"{name}: the mutation generator changed its input"
        got = report_of(data)
        if got != expected["report"]:
            differ.append(name)
    assert not differ, f"{len(differ)} reports differ from the snapshot, first: {differ[:5]}"
