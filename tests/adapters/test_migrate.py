"""Bulk migration: round trip without loss, resumable, an error file per failed dossier."""

from __future__ import annotations

import csv
import re
import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from jgz_gateway.adapters.elements import catalogue, valueset
from jgz_gateway.adapters.mapping import load, shipped
from jgz_gateway.adapters.migrate import ERRORS_DIR, migrate
from jgz_gateway.adapters.synth_export import export
from jgz_gateway.adapters.to_dossier import Envelope
from jgz_gateway.standards.hl7v3 import read_message

from .conftest import TODAY

JGZ = Path(sys.executable).with_name("jgz")
OPTIONS = {"envelope": Envelope(created=dt.datetime(2025, 6, 1, 12)), "bds": "4.2.0"}


def table(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh, delimiter=";"))


def write_table(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, delimiter=";", lineterminator="\n").writerows(rows)


def mapped_columns(path: Path, unmapped: set[str]) -> list[list[str]]:
    rows = table(path)
    keep = [i for i, c in enumerate(rows[0]) if c not in unmapped]
    return [[r[i] for i in keep] for r in rows]


@pytest.mark.timeout(120)
def test_round_trip_of_1000_dossiers_loses_nothing_mapped(tmp_path):
    """csv-export → hl7v3 (NL04, every message validated) → csv-export, 1,000 synthetic dossiers."""
    source = tmp_path / "source"
    export("csv-export", source, 1000, 2025, TODAY)
    dob = tmp_path / "dob"
    there = migrate("csv-export", source, "hl7v3", dob, workers=2, source_options=OPTIONS, dest_options=OPTIONS)
    assert (there.written, there.failed, there.skipped) == (1000, 0, 0)
    assert len(list(dob.glob("*.xml"))) == 1000
    assert there.dropped_elements() == 0  # every mapped element reaches the DOB
    assert sum(c for k, c in there.dropped.items() if "." in k) > 1000  # bookkeeping fields, declared unmapped
    back = tmp_path / "back"
    again = migrate("hl7v3", dob, "csv-export", back, workers=2, source_options=OPTIONS, dest_options=OPTIONS)
    assert (again.written, again.failed) == (1000, 0)
    assert again.dropped_elements() == 0
    mapping = load(shipped("csv-export"))
    for t in mapping.tables.values():
        assert mapped_columns(source / t.source, set(t.unmapped)) == mapped_columns(back / t.source, set(t.unmapped)), t.source
    # the written messages pass jgz validate
    sample = sorted(dob.glob("*.xml"))[::250]
    done = subprocess.run([str(JGZ), "validate", "--no-warnings", *map(str, sample)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.fixture
def small_source(tmp_path):
    source = tmp_path / "small"
    export("csv-export", source, 12, 77, TODAY)
    return source


def test_rerun_skips_finished_dossiers(small_source, tmp_path):
    dob = tmp_path / "dob"
    first = migrate("csv-export", small_source, "hl7v3", dob, source_options=OPTIONS, dest_options=OPTIONS)
    assert first.written == 12
    files = sorted(dob.glob("*.xml"))
    removed = files[3:6]
    for f in removed:
        f.unlink()
    before = {f: f.stat().st_mtime_ns for f in files if f not in removed}
    second = migrate("csv-export", small_source, "hl7v3", dob, source_options=OPTIONS, dest_options=OPTIONS)
    assert (second.seen, second.skipped, second.written) == (12, 9, 3)
    assert all(f.exists() for f in removed)
    assert all(f.stat().st_mtime_ns == t for f, t in before.items())  # untouched


def test_failed_dossier_gets_an_error_file_naming_source_record_and_field(small_source, tmp_path):
    rows = table(small_source / "measurements.csv")
    header = rows[0]
    line = next(i for i, r in enumerate(rows) if i and r[header.index("code")] == "GEWICHT")
    rows[line][header.index("value")] = "zwaar"
    client = rows[line][header.index("client_id")]
    write_table(small_source / "measurements.csv", rows)
    dob = tmp_path / "dob"
    summary = migrate("csv-export", small_source, "hl7v3", dob, source_options=OPTIONS, dest_options=OPTIONS)
    assert (summary.written, summary.failed) == (11, 1)
    error = (dob / ERRORS_DIR / f"{client}.txt").read_text(encoding="utf-8")
    assert f"dossier: {client}" in error
    assert f"measurements.csv line {line + 1}, record {client}, field 'value': 'zwaar' is not a number" in error
    assert not (dob / f"{client}.xml").exists()
    # fixed and run again: only that dossier is written, and its error file goes
    rows[line][header.index("value")] = "12,5"
    write_table(small_source / "measurements.csv", rows)
    summary = migrate("csv-export", small_source, "hl7v3", dob, source_options=OPTIONS, dest_options=OPTIONS)
    assert (summary.written, summary.skipped, summary.failed) == (1, 11, 0)
    assert not (dob / ERRORS_DIR / f"{client}.txt").exists()


def test_invalid_output_error_file_lists_the_findings(small_source, tmp_path):
    rows = table(small_source / "clients.csv")
    header = rows[0]
    for r in rows[1:2]:
        r[header.index("care_end")] = ""  # a DOB needs end of care as well as status in care
        r[header.index("care_end_date")] = ""
    write_table(small_source / "clients.csv", rows)
    dob = tmp_path / "dob"
    summary = migrate("csv-export", small_source, "hl7v3", dob, source_options=OPTIONS, dest_options=OPTIONS)
    assert summary.failed == 1
    text = (dob / ERRORS_DIR / f"{rows[1][0]}.txt").read_text(encoding="utf-8")
    assert "source: clients.csv line 2" in text and "fails validation" in text and "careProvisionDossier" in text


def test_nl03_target_and_summary(small_source, tmp_path):
    options = OPTIONS | {"bds": "4.1.3"}
    dob = tmp_path / "nl03"
    summary = migrate("csv-export", small_source, "hl7v3", dob, source_options=options, dest_options=options)
    assert summary.written == 12
    assert all(b"<REPC_IN902120NL03 " in p.read_bytes()[:300] for p in dob.glob("*.xml"))
    data = summary.as_dict()
    assert data["elements_mapped"] == sum(summary.elements.values()) > 1000
    assert data["seconds"]["wall"] > 0 and data["ms_per_dossier"]["p95"] >= data["ms_per_dossier"]["p50"]


def test_cli_migrate(small_source, tmp_path):
    dob = tmp_path / "cli"
    run = subprocess.run([str(JGZ), "migrate", "--from", "csv-export", str(small_source), "--to", "hl7v3", str(dob),
                          "--workers", "2", "--created", "2025-06-01T12:00:00", "--json"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    import json

    summary = json.loads(run.stdout)
    assert summary["written"] == 12 and summary["failed"] == 0
    assert "migrate" in run.stderr  # the progress bar
    bad = subprocess.run([str(JGZ), "migrate", "--from", "csv-export", str(tmp_path / "nope"), "--to", "hl7v3",
                          str(dob)], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().endswith("does not exist") and bad.stderr.count("\n") == 1


def test_cli_migrate_names_the_sending_organisation(small_source, tmp_path):
    """--ura/--org-name: the organisation that sends the messages (the ControlAct author, the
    request's author, the id roots), instead of each dossier's newest organisation."""
    dob = tmp_path / "ura"
    run = subprocess.run([str(JGZ), "migrate", "--from", "csv-export", str(small_source), "--to", "hl7v3", str(dob),
                          "--ura", "87654321", "--org-name", "GGD Nieuw", "--created", "2025-06-01T12:00:00"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    files = sorted(dob.glob("*.xml"))
    assert len(files) == 12
    for f in files:
        d = read_message(f.read_bytes())
        assert d.transmission.author_ura == "87654321" and d.request.authors[0].ids[0].extension == "87654321"
        assert d.transmission.id.root == "2.16.528.1.1007.3.3.87654321.1"
    bad = subprocess.run([str(JGZ), "migrate", "--from", "csv-export", str(small_source), "--to", "hl7v3",
                          str(tmp_path / "bad"), "--ura", "{$orgId}"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: --ura: '{$orgId}' is not a URA number")


def test_validation_errors_name_the_source_field(small_source, tmp_path):
    rows = table(small_source / "clients.csv")
    header = rows[0]
    rows[2][header.index("bsn")] = "123456789"  # fails the 11-proef
    write_table(small_source / "clients.csv", rows)
    dob = tmp_path / "dob"
    summary = migrate("csv-export", small_source, "hl7v3", dob, source_options=OPTIONS, dest_options=OPTIONS)
    assert summary.failed == 1
    text = (dob / ERRORS_DIR / f"{rows[2][0]}.txt").read_text(encoding="utf-8")
    assert "source: clients.csv line 3" in text
    assert "hl7:patient/hl7:id [element 7, source field clients.bsn]" in text and "eleven test" in text


def test_locate_finds_the_element_of_an_observation(reference):
    from lxml import etree

    from jgz_gateway.adapters.locate import element_at

    root = etree.fromstring((reference / "hl7v3/examples/nl04-jgz8.0/DOB-4.0.0-KWAL_versturen_hl7.xml").read_bytes())
    base = "/hl7:REPC_IN902120NL04/hl7:ControlActProcess/hl7:subject/hl7:CareProvisionRequest/hl7:sequelTo/hl7:careProvisionEvent"
    obs = base + "/hl7:component7[1]/hl7:encounter/hl7:pertinentInformation[1]/hl7:rubricCluster/hl7:component[1]/hl7:observation"
    assert element_at(root, obs) == 1577
    assert element_at(root, obs + "/hl7:value") == 1577
    assert element_at(root, base + "/hl7:component7[1]/hl7:encounter/hl7:effectiveTime") == 724
    assert element_at(root, base + "/hl7:subject/hl7:patient/hl7:id") == 7
    assert element_at(root, base + "/hl7:statusCode") is None
    assert element_at(root, "not an xpath ][") is None


def test_awkward_text_survives_the_round_trip(tmp_path):
    """Delimiters, quotes, line breaks, markup and non-ASCII in vendor text reach the DOB and come
    back as written; only leading and trailing whitespace is dropped (mappings README)."""
    source = tmp_path / "source"
    export("csv-export", source, 12, 7, TODAY)
    awkward = {
        ("free_text.csv", "answer"): ["semi;colon", 'quote "x" and \'y\'', "line\nbreak", "tab\there",
                                      "<tag> & &amp;", "Zoë Çelik-Øster 😀", "  padded  "],
        ("clients.csv", "family_name"): ["Çelik;Øster", 'van "Dam"'],
        ("vaccinations.csv", "reaction"): ["koorts; 39,5", "rood\nen gezwollen"],
    }
    for (name, column), values in awkward.items():
        rows = table(source / name)
        i = rows[0].index(column)
        assert len(rows) > len(values), f"{name}: too few rows for the test"
        for row, value in zip(rows[1:], values):
            row[i] = value
        write_table(source / name, rows)
    dob, back = tmp_path / "dob", tmp_path / "back"
    assert migrate("csv-export", source, "hl7v3", dob, workers=1, source_options=OPTIONS,
                   dest_options=OPTIONS).failed == 0
    assert migrate("hl7v3", dob, "csv-export", back, workers=1, source_options=OPTIONS,
                   dest_options=OPTIONS).failed == 0
    for (name, column), values in awkward.items():
        with open(back / name, newline="", encoding="utf-8") as fh:
            got = {row[column] for row in csv.DictReader(fh, delimiter=";")}
        assert {v.strip() for v in values} <= got, (name, column)


@pytest.mark.parametrize("vendor", ["csv-export", "json-export"])
def test_a_nictiz_message_migrates_to_a_vendor_format_and_back(reference, tmp_path, vendor):
    """The client row's key is its dossier id (695), not the source file's name: every other table
    must link to that key, or the way back finds the organisations, consents and contacts orphaned."""
    source = tmp_path / "source"
    source.mkdir()
    message = reference / "hl7v3/examples/nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R027_hl7.xml"
    (source / message.name).write_bytes(message.read_bytes())
    out = migrate("hl7v3", source, vendor, tmp_path / "vendor", source_options=OPTIONS, dest_options=OPTIONS)
    assert (out.written, out.failed) == (1, 0)
    back = migrate(vendor, tmp_path / "vendor", "hl7v3", tmp_path / "back", source_options=OPTIONS, dest_options=OPTIONS)
    assert (back.written, back.failed) == (1, 0)


def test_a_dossier_key_twice_in_the_source_never_overwrites_the_first(reference, tmp_path):
    """Nictiz's R012 and R027 messages share dossier id 123456782, the json-export key. The
    first is migrated; the second fails with an error file instead of replacing it (before, it
    overwrote the first within a batch, or was counted as 'already there' and silently lost)."""
    source = tmp_path / "source"
    source.mkdir()
    nl03 = reference / "hl7v3/examples/nl03-jgz7.0"
    for name in ("DOB-3.0.0-CR_test_JGZ-rubriek_R012_hl7.xml", "DOB-3.0.0-CR_test_JGZ-rubriek_R027_hl7.xml"):
        (source / name).write_bytes((nl03 / name).read_bytes())
    assert migrate("hl7v3", source, "json-export", tmp_path / "vendor", source_options=OPTIONS,
                   dest_options=OPTIONS).written == 2
    for _ in range(2):  # and so again on a re-run
        back = migrate("json-export", tmp_path / "vendor", "hl7v3", tmp_path / "back", source_options=OPTIONS,
                       dest_options=OPTIONS)
        assert back.failed == 1 and back.written + back.skipped == 1
    (written,) = (tmp_path / "back").glob("*.xml")
    assert b'code="235"' not in written.read_bytes()  # R012's content: R027 holds a length (235)
    (error,) = (tmp_path / "back" / ERRORS_DIR).glob("*.txt")
    text = error.read_text(encoding="utf-8")
    assert "dossier: 123456782" in text and "R027" in text and "appears more than once in the source" in text


def test_a_bds_32_message_migrates_to_a_vendor_format_and_back(reference, tmp_path):
    """REPC_IN902120NL (BDS 3.2.7) is read as BDS 4 facts through the version converter. Two
    defects of the message would make the dossier fail validation on the way back, each with
    an error that names it: its attachment's file name has no extension (a BDS 4 error,
    TC00720), and some coded values are in no BDS 4 value set (1174-1181 have the code '1'
    without a code system, W0630 of 1174 has 01-03; 1495 has '02', W0669 has 1-3). Both are
    taken out here, after the second is shown to be named."""
    source = tmp_path / "source"
    source.mkdir()
    name = "DOB-3.0.0-test-hl7-bds327.xml"
    root = etree.fromstring((reference / "ada/hl7" / name).read_bytes())
    for reference_node in root.iter("{urn:hl7-org:v3}reference"):
        reference_node.set("value", reference_node.get("value") + ".pdf")
    (source / name).write_bytes(etree.tostring(root))
    out = migrate("hl7v3", source, "csv-export", tmp_path / "vendor", source_options=OPTIONS, dest_options=OPTIONS)
    assert (out.written, out.failed) == (1, 0)
    back = migrate("csv-export", tmp_path / "vendor", "hl7v3", tmp_path / "refused", source_options=OPTIONS,
                   dest_options=OPTIONS)
    assert (back.written, back.failed) == (0, 1)
    (error,) = (tmp_path / "refused" / "_errors").glob("*.txt")
    assert "field 'observations.value': element 1174: code '1' is not in W0630" in error.read_text(encoding="utf-8")

    cat = catalogue("4.2.0")
    for value in list(root.iter("{urn:hl7-org:v3}value")):
        code = value.getparent().find("{urn:hl7-org:v3}code")
        w = valueset(int(code.get("code")), cat) if code is not None and code.get("code", "").isdigit() else None
        vs = cat.valueset(w) if w else None
        if vs is not None and value.get("code") and not any(
                flavour and (flavour.code, flavour.code_system) == (value.get("code"), value.get("codeSystem"))
                for c in vs.concepts for flavour in (c.hl7, c.bds)):
            component = value.getparent().getparent()
            component.getparent().remove(component)
    for folder in (source, tmp_path / "vendor"):
        shutil.rmtree(folder)
    source.mkdir()
    (source / name).write_bytes(etree.tostring(root))
    out = migrate("hl7v3", source, "csv-export", tmp_path / "vendor", source_options=OPTIONS, dest_options=OPTIONS)
    assert (out.written, out.failed) == (1, 0)
    back = migrate("csv-export", tmp_path / "vendor", "hl7v3", tmp_path / "back", source_options=OPTIONS,
                   dest_options=OPTIONS)
    assert (back.written, back.failed) == (1, 0)
    (written,) = (tmp_path / "back").glob("*.xml")
    assert b'<statusCode code="completed"/>' in written.read_bytes()


def test_a_rerun_into_a_finished_csv_export_adds_nothing(reference, tmp_path):
    """The export's rows are keyed by dossier number, the hl7v3 source by file name: a finished
    export keeps the source keys it holds, so a re-run skips them (before, it appended every
    dossier again and the export became unreadable)."""
    source = tmp_path / "source"
    source.mkdir()
    nl03 = reference / "hl7v3/examples/nl03-jgz7.0"
    for name in ("DOB-3.0.0-CR_test_JGZ-rubriek_R012_hl7.xml", "DOB-3.0.0-CR_test_JGZ-rubriek_R027_hl7.xml"):
        root = etree.fromstring((nl03 / name).read_bytes())
        root.find(".//{urn:hl7-org:v3}careProvisionEvent/{urn:hl7-org:v3}id").set("extension", name[-11:-8])
        (source / name).write_bytes(etree.tostring(root))
    vendor = tmp_path / "vendor"
    first = migrate("hl7v3", source, "csv-export", vendor, source_options=OPTIONS, dest_options=OPTIONS)
    assert (first.written, first.failed) == (2, 0)
    tables = {p.name: p.read_bytes() for p in vendor.glob("*.csv")}
    again = migrate("hl7v3", source, "csv-export", vendor, source_options=OPTIONS, dest_options=OPTIONS)
    assert (again.seen, again.skipped, again.written, again.failed) == (2, 2, 0, 0)
    assert {p.name: p.read_bytes() for p in vendor.glob("*.csv")} == tables
    back = migrate("csv-export", vendor, "hl7v3", tmp_path / "back", source_options=OPTIONS, dest_options=OPTIONS)
    assert (back.written, back.failed) == (2, 0)


def test_two_dossiers_with_one_dossier_number_are_not_both_written_to_a_csv_export(reference, tmp_path):
    """R012 and R027 share dossier number 123456782, the csv-export client key: the second is
    refused with an error file; the export stays readable and holds the first."""
    source = tmp_path / "source"
    source.mkdir()
    nl03 = reference / "hl7v3/examples/nl03-jgz7.0"
    for name in ("DOB-3.0.0-CR_test_JGZ-rubriek_R012_hl7.xml", "DOB-3.0.0-CR_test_JGZ-rubriek_R027_hl7.xml"):
        (source / name).write_bytes((nl03 / name).read_bytes())
    vendor = tmp_path / "vendor"
    out = migrate("hl7v3", source, "csv-export", vendor, source_options=OPTIONS, dest_options=OPTIONS)
    assert (out.written, out.failed) == (1, 1)
    error = (vendor / ERRORS_DIR / "DOB-3.0.0-CR_test_JGZ-rubriek_R027_hl7.txt").read_text(encoding="utf-8")
    assert "client key '123456782' is already in this export" in error
    assert [r[0] for r in table(vendor / "clients.csv")[1:]] == ["123456782"]
    back = migrate("csv-export", vendor, "hl7v3", tmp_path / "back", source_options=OPTIONS, dest_options=OPTIONS)
    assert (back.written, back.failed) == (1, 0)


def test_a_dob_quantity_that_is_no_number_fails_its_dossier_with_a_clear_error(reference, tmp_path):
    """``NaN`` breaks TC05654 and Decimal would read it: it must not become a number in the
    vendor's files, nor a traceback in the error file."""
    text = (reference / "hl7v3/examples/nl04-jgz8.0/DOB-4.0.0-KWAL_versturen_hl7.xml").read_text(encoding="utf-8")
    src = tmp_path / "src"
    src.mkdir()
    bad = re.sub(r'value="[0-9.]+"(\s*unit="mm")', r'value="NaN"\1', text, count=1)
    assert bad != text
    (src / "K.xml").write_text(bad, encoding="utf-8")
    out = tmp_path / "csv"
    summary = migrate("hl7v3", src, "csv-export", out)
    assert summary.failed == 1
    error = (out / ERRORS_DIR / "K.txt").read_text(encoding="utf-8")
    assert "field 'value': 'NaN' is not a number" in error and "Traceback" not in error
