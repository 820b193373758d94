"""The hl7v3 adapter reads every supported DOB version and writes NL03/NL04, converting and validating."""

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
    with pytest.raises(SourceError, match="cannot be written"):
        hl7v3.writer(tmp_path, bds="3.2.6")
