"""The hl7v3 adapter reads and writes every supported DOB version, converting and validating."""

from __future__ import annotations

import pytest

from jgz_gateway.adapters import hl7v3
from jgz_gateway.adapters.base import Unit
from jgz_gateway.adapters.errors import SourceError

MESSAGES = [
    ("ada/hl7/DOB-3.0.0-test-hl7-bds327.xml", "REPC_IN902120NL"),
    ("hl7v3/examples/nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R027_hl7.xml", "REPC_IN902120NL03"),
    ("hl7v3/examples/nl04-jgz8.0/DOB-4.0.0-R041-CR_test_JGZ-xxx_vaccinatie-test_hl7.xml", "REPC_IN902120NL04"),
]


@pytest.mark.parametrize("name, interaction", MESSAGES)
def test_reads_each_version_and_writes_nl04(reference, tmp_path, name, interaction):
    path = reference / name
    loaded = hl7v3.load(Unit(path.stem, str(path), str(path)))
    assert loaded.dossier.interaction == interaction and sum(loaded.elements.values()) > 10
    w = hl7v3.writer(tmp_path)
    rendered = w.render(path.stem, loaded.dossier)
    w.commit(rendered)
    written = (tmp_path / f"{path.stem}.xml").read_bytes()
    assert b"<REPC_IN902120NL04 " in written[:200] and w.done(path.stem)
    if interaction == "REPC_IN902120NL":  # 3.2.7 → 4.2.0 drops what 4.x no longer has, and says so
        assert rendered.dropped and all(k.split()[0] in ("element", "groep", "rubriek", "dropped") for k in rendered.dropped)
        assert rendered.dropped["element 1412"] == 2
    else:
        assert not rendered.dropped


def test_nl03_writer(reference, tmp_path):
    path = reference / MESSAGES[2][0]
    loaded = hl7v3.load(Unit(path.stem, str(path), str(path)))
    rendered = hl7v3.writer(tmp_path, bds="4.1").render("x", loaded.dossier)
    assert b"<REPC_IN902120NL03 " in rendered.payload[:200]


@pytest.mark.parametrize("target, interaction", [("3.2.6", "REPC_IN902120NL"), ("4.0.2", "REPC_IN902120NL03"),
                                                 ("4.1.3", "REPC_IN902120NL03"), ("4.2.0", "REPC_IN902120NL04")])
@pytest.mark.parametrize("name", [m[0] for m in MESSAGES], ids=lambda n: n.rsplit("/", 1)[1])
def test_writes_every_version_saying_what_it_drops(reference, tmp_path, name, target, interaction):
    """A package that imports only BDS 3.2 or 4.0 gets its migration in that version: the writer
    converts (as the sender does for a receiver), validates, and counts what the target lacks."""
    from collections import Counter

    from jgz_gateway.adapters.base import dropped_key
    from jgz_gateway.adapters.errors import InvalidOutput
    from jgz_gateway.standards.convert import convert, convert_bytes, normalise
    from jgz_gateway.standards.hl7v3 import read_message
    from jgz_gateway.standards.validation import validate_bytes

    path = reference / name
    loaded = hl7v3.load(Unit(path.stem, str(path), str(path)))
    try:
        rendered = hl7v3.writer(tmp_path, bds=target).render("x", loaded.dossier)
    except InvalidOutput:  # refused only where the converted message breaks a rule (Nictiz's 3.2.7
        converted, _ = convert_bytes(path.read_bytes(), target)  # test codes outside the 4.1.3 value sets)
        assert not validate_bytes(converted).valid
        return
    assert f"<{interaction} ".encode() in rendered.payload[:200]
    back = read_message(rendered.payload)
    assert back.interaction == interaction
    if normalise(loaded.dossier.bds_version) == normalise(target):
        assert not rendered.dropped
    else:
        _, report = convert(read_message(path.read_bytes()), target)
        assert rendered.dropped == Counter(dropped_key(c.element, c.xpath) for c in report.dropped)
    assert hl7v3.coverage(bds=target).fills  # what the target carries of what is placed


def test_bad_input_names_the_file(tmp_path):
    bad = tmp_path / "broken.xml"
    bad.write_bytes(b"<REPC_IN902120NL04 xmlns='urn:hl7-org:v3'><id></REPC_IN902120NL04>")
    with pytest.raises(SourceError, match="broken.xml line 1") as info:
        hl7v3.load(next(hl7v3.units(tmp_path)))
    assert info.value.record == "broken"
    other = tmp_path / "other.xml"
    other.write_bytes(b"<MCCI_IN000002 xmlns='urn:hl7-org:v3'/>")
    with pytest.raises(SourceError, match="JGZ-MSG-INTERACTION"):
        hl7v3.load(Unit("other", str(other), str(other)))
    with pytest.raises(SourceError, match="unknown BDS version '5.0'"):
        hl7v3.writer(tmp_path, bds="5.0")


def test_files_are_found_whatever_the_case_of_their_suffix(reference, tmp_path):
    """An export made on Windows names its files ``*.XML`` as often as ``*.xml``; such files
    were passed over without a word (a migration of 0 dossiers). A hidden file (macOS's
    ``._name.xml`` beside each file it copies) is no dossier, and no failed one either."""
    source = reference / MESSAGES[1][0]
    (tmp_path / "A.XML").write_bytes(source.read_bytes())
    (tmp_path / "b.xml").write_bytes(source.read_bytes())
    (tmp_path / "notes.txt").write_text("not a dossier")
    (tmp_path / "._b.xml").write_bytes(b"\x00\x05\x16\x07 macOS resource fork")  # hidden: not a dossier
    assert [u.key for u in hl7v3.units(tmp_path)] == ["A", "b"] and hl7v3.count(tmp_path) == 2
    assert all(hl7v3.load(u).dossier.interaction == MESSAGES[1][1] for u in hl7v3.units(tmp_path))
