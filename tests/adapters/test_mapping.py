"""Mapping files: the shipped ones load; every kind of mistake is an error naming file and line."""

from __future__ import annotations

import pytest

from jgz_gateway.adapters.errors import MappingError
from jgz_gateway.adapters.mapping import load, shipped

GOOD = """\
[format]
name = "tiny"
kind = "csv"
bds = "4.2.0"

[value_maps.sex]
M = "1"
V = "2"

[tables.clients]
role = "client"
file = "clients.csv"
key = "id"

[tables.clients.fields]
id = 695
bsn = 7
sex = { element = 19, values = "sex" }

[tables.contacts]
role = "activity"
file = "contacts.csv"
key = "id"
client = "client"

[tables.contacts.fields]
id = 1377
date = 724

[tables.measurements]
role = "detail"
file = "measurements.csv"
client = "client"
parent = "contacts"
link = "contact"
by = "code"
value = "value"

[tables.measurements.kinds]
LENGTE = { element = 235, unit = "cm" }
"""


def write(tmp_path, text):
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text, needle):
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("name", ["csv-export", "json-export"])
def test_shipped_mappings_load(name):
    m = load(shipped(name))
    assert m.name == name and m.bds == "4.2.0"
    # the exports carry the tables and a good part of the BDS
    assert len(m.elements()) > 150
    assert {7, 20, 62, 235, 245, 461, 1163, 1395, 1332, 494, 724} <= m.elements()
    assert m.unmapped()  # bookkeeping fields are declared, with a reason
    assert all(why for why in m.unmapped().values())


def test_good_tiny_mapping(tmp_path):
    m = load(write(tmp_path, GOOD))
    lengte = m.tables["measurements"].kinds["LENGTE"][0]
    assert lengte.unit == "cm" and lengte.factor == 10


@pytest.mark.parametrize(
    "old, new, needle, message",
    [
        ("bsn = 7", "bsn = 99999", "bsn = 99999", "element 99999 is not in BDS 4.2.0"),
        ('V = "2"', 'V = "7"', 'V = "7"', "'7' is not in W0023"),
        ('LENGTE = { element = 235, unit = "cm" }', 'LENGTE = { element = 235, unit = "kg" }', "LENGTE",
         "unit 'kg' does not fit element 235 (Lengte), which is in mm"),
        ('LENGTE = { element = 235, unit = "cm" }', 'LENGTE = { element = 245, unit = "cm" }', "LENGTE",
         "unit 'cm' does not fit element 245"),
        ("date = 724", 'date = { element = 724, unit = "cm" }', "date = {", "is not a quantity"),
        ("bsn = 7", "bsn = 1660", "bsn = 1660", "cannot be placed"),
        ("bsn = 7", "bsn = 235", "bsn = 235", "belongs at activity level"),
        ('sex = { element = 19, values = "sex" }', 'sex = { element = 19, values = "gender" }', "sex = {",
         "value map 'gender' is not defined"),
        ("date = 724", 'date = { element = 724, format = "%d-%m" }', "date = {", "cannot be read back"),
        ("id = 1377", "id = 494", "id = 494", "must map to element 1377"),
        ('kind = "csv"', 'kind = "xml"', 'kind = "xml"', "kind must be one of"),
        ('role = "detail"', 'role = "sideways"', 'role = "sideways"', "role must be one of"),
        ("date = 724", "date = 724\nwhen = 724", "when = 724", "element 724 is mapped twice"),
        ("bsn = 7", 'bsn = { element = 7, colour = "red" }', "bsn = {", "unknown option 'colour'"),
        ('LENGTE = { element = 235, unit = "cm" }', 'VISUS_R = 1591\nVISUS_L = 1592', "VISUS_L",
         "kinds 'VISUS_R' and 'VISUS_L' both map groep G117"),
        ("date = 724", 'date = { element = 724, other = "date_text" }', "date = {", "is not coded (it is date)"),
        ('sex = { element = 19, values = "sex" }', 'sex = { element = 19, values = "sex", other = "sex_text" }',
         "sex = {", "has no exception ('other')"),
        ('sex = { element = 19, values = "sex" }', 'sex = { element = 19, values = "sex", other = "sex" }',
         "sex = {", "must name another field"),
        ("date = 724", "date = { element = 724, many = true }", "date = {",
         "but element 724 (Datum activiteit) occurs at most once at its level (cardinality 1..1)"),
        ("date = 724", 'date = { element = 724, many = "yes" }', "date = {", "'many' is true or absent"),
    ],
)
def test_mistakes_name_file_and_line(tmp_path, old, new, needle, message):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    path = write(tmp_path, text)
    with pytest.raises(MappingError) as info:
        load(path)
    err = info.value
    assert message in err.message, err.message
    assert err.file == str(path)
    assert err.line == line_of(text, needle), (err.line, str(err))
    assert str(err).startswith(f"{path}:{err.line}: ")


def test_toml_syntax_error_names_line(tmp_path):
    text = GOOD.replace("bsn = 7", "bsn = = 7")
    with pytest.raises(MappingError) as info:
        load(write(tmp_path, text))
    assert info.value.line == line_of(text, "bsn = = 7")
    assert "not valid TOML" in info.value.message


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(MappingError, match="cannot read"):
        load(tmp_path / "nope.toml")


def test_rows_of_a_detail_table_must_be_one_groep(tmp_path):
    text = GOOD + '\n[tables.vaccinations]\nrole = "detail"\nfile = "v.csv"\nclient = "client"\nparent = "contacts"\n' \
                  'link = "contact"\n\n[tables.vaccinations.fields]\nvaccine = 461\nlength = 235\n'
    with pytest.raises(MappingError, match="one occurrence of one groep") as info:
        load(write(tmp_path, text))
    assert info.value.line == line_of(text, "length = 235")


def test_a_bds_420_code_outside_the_413_stand_in_may_be_mapped_for_420_only(tmp_path, reference):
    """Nictiz's NL04 qualification messages have indication (1424, W0619) 51, escorts (731,
    W0193) 13 and 14 and attachments of kinds (1169, W0084) 03 and 04: BDS 4.2.0 codes the 4.1.3 value sets standing in for 4.2.0's lack. NL04 carries
    them, so a 4.2.0 mapping may name them (the shipped ones do, with the names those messages
    give them) and such a dossier migrates; a 4.1.3 mapping may not."""
    from jgz_gateway.adapters import declarative
    from jgz_gateway.adapters.to_dossier import Envelope
    from jgz_gateway.standards.hl7v3 import read_message, write_message
    from jgz_gateway.standards.validation import validate_bytes

    text = shipped("csv-export").read_text(encoding="utf-8")
    path = write(tmp_path, text)
    options = {"mapping": path, "envelope": Envelope(created=__import__("datetime").datetime(2025, 6, 1))}
    mapping = declarative.mapping_for("csv-export", options)
    for name, field, vendor in (("versturen", "indication", "OUDER_KIND_RELATIE"), ("ontvangen", "escort", "JEUGDBESCHERMER")):
        data = (reference / f"hl7v3/examples/nl04-jgz8.0/DOB-4.0.0-KWAL_{name}_hl7.xml").read_bytes()
        bundle, _ = declarative.to_bundle(mapping, "K", read_message(data))
        assert vendor in [r.data.get(field) for r in bundle["contact_moments"]]
        again = declarative.to_dossier(mapping, "K", bundle, "test", options).dossier
        report = validate_bytes(write_message(again))
        assert report.valid, [(f.rule, f.message) for f in report.errors]
    older = text.replace('bds = "4.2.0"', 'bds = "4.1.3"', 1)
    with pytest.raises(MappingError) as info:
        load(write(tmp_path, older))
    assert "'03' is not in W0084" in info.value.message and info.value.line == line_of(older, "VERWIJSBRIEF")
