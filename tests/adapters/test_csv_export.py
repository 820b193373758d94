"""csv-export: streams clients, joins their rows, names file, line and field in every error."""

from __future__ import annotations

import csv
import filecmp
import random
import re
import shutil

import pytest

from jgz_gateway.adapters import csv_export, hl7v3
from jgz_gateway.adapters.base import Unit
from jgz_gateway.adapters.errors import SourceError

from .test_dossier_facts import ENVELOPE


def copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh, delimiter=";"))


def rewrite(path, table):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, delimiter=";", lineterminator="\n").writerows(table)


def test_units_are_one_per_client_with_all_its_rows(csv_export_dir):
    units = list(csv_export.units(csv_export_dir))
    assert [u.key for u in units] == sorted(u.key for u in units) and len(units) == 40
    first = units[0]
    assert first.origin == "clients.csv line 2"
    assert {r.data["client_id"] for rows_ in first.payload.values() for r in rows_} == {first.key}
    measurement = first.payload["measurements"][0]
    assert measurement.where.startswith("measurements.csv line ") and measurement.link.startswith(first.key)


def test_read_write_gives_the_same_files(csv_export_dir, tmp_path):
    """csv → Dossier → csv: every mapped column is kept; unmapped bookkeeping is dropped."""
    out = tmp_path / "again"
    csv_export.write(csv_export.read(csv_export_dir, envelope=ENVELOPE), out)
    for name in ("clients.csv", "relations.csv", "measurements.csv", "vaccinations.csv", "consents.csv"):
        original, again = rows(csv_export_dir / name), rows(out / name)
        header = original[0]
        mapping = csv_export.declarative.mapping_for("csv-export", {})
        table = next(t for t in mapping.tables.values() if t.source == name)
        keep = [i for i, col in enumerate(header) if col not in table.unmapped]
        assert [[r[i] for i in keep] for r in original] == [[r[i] for i in keep] for r in again], name
        assert all(r[i] == "" for r in again[1:] for i, c in enumerate(header) if c in table.unmapped)


def test_unsorted_files_are_sorted_on_disk(csv_export_dir, tmp_path, monkeypatch):
    src = copy(csv_export_dir, tmp_path / "shuffled")
    for name in ("measurements.csv", "contact_moments.csv", "clients.csv"):
        table = rows(src / name)
        body = table[1:]
        random.Random(4).shuffle(body)
        rewrite(src / name, [table[0]] + body)
    monkeypatch.setattr(csv_export, "CHUNK_ROWS", 500)  # force several chunks and a merge
    straight = [(u.key, {k: [r.data for r in v] for k, v in u.payload.items()}) for u in csv_export.units(csv_export_dir)]
    shuffled = [(u.key, {k: sorted((r.data for r in v), key=lambda d: list(d.values())) for k, v in u.payload.items()})
                for u in csv_export.units(src)]
    assert [k for k, _ in straight] == [k for k, _ in shuffled]
    for (_, a), (_, b) in zip(straight, shuffled):
        assert {k: sorted(v, key=lambda d: list(d.values())) for k, v in a.items()} == b
    # and an error still names the original line
    units = list(csv_export.units(src))
    where = {r.where for u in units for r in u.payload["measurements"]}
    assert len(where) == len(rows(src / "measurements.csv")) - 1


@pytest.mark.parametrize("bad", ["6x,5", "NaN", "Infinity", "-inf"])  # Decimal reads the last three
def test_a_bad_value_names_file_line_record_and_field(csv_export_dir, tmp_path, bad):
    src = copy(csv_export_dir, tmp_path / "bad")
    table = rows(src / "measurements.csv")
    header = table[0]
    i = next(n for n, r in enumerate(table) if n and r[header.index("code")] == "LENGTE")
    table[i][header.index("value")] = bad
    rewrite(src / "measurements.csv", table)
    client = table[i][header.index("client_id")]
    unit = next(u for u in csv_export.units(src) if u.key == client)
    with pytest.raises(SourceError) as info:
        csv_export.load(unit)
    assert str(info.value) == f"measurements.csv line {i + 1}, record {client}, field 'value': '{bad}' is not a number"


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("vaccine", "SPUTNIK", "'SPUTNIK' is not a known value"),
        ("date", "2020-13-45", "is not a date in the format '%d-%m-%Y' (e.g. 31-12-2020)"),
        ("contact_id", "C9999999-001", "there is no contact_moments row 'C9999999-001' for this client"),
        ("batch", "AB\x0012", "contains U+0000 at position 3, a character no DOB (XML) can carry"),
        ("batch", "AB\x1b12", "contains U+001B at position 3"),
    ],
)
def test_bad_vaccination_rows(csv_export_dir, tmp_path, column, value, message):
    src = copy(csv_export_dir, tmp_path / "bad")
    table = rows(src / "vaccinations.csv")
    header = table[0]
    table[1][header.index(column)] = value
    rewrite(src / "vaccinations.csv", table)
    unit = next(u for u in csv_export.units(src) if u.key == table[1][header.index("client_id")])
    with pytest.raises(SourceError, match=re.escape(message)) as info:
        csv_export.load(unit)
    assert info.value.where == "vaccinations.csv line 2" and info.value.field == column


def test_unknown_and_missing_columns(csv_export_dir, tmp_path):
    src = copy(csv_export_dir, tmp_path / "cols")
    table = rows(src / "relations.csv")
    rewrite(src / "relations.csv", [table[0] + ["shoe_size"]] + [r + ["42"] for r in table[1:]])
    with pytest.raises(SourceError, match="neither mapped nor declared unmapped") as info:
        list(csv_export.units(src))
    assert (info.value.where, info.value.field) == ("relations.csv line 1", "shoe_size")
    rewrite(src / "relations.csv", [[c for c in r if c] for r in [table[0][:-3]] + [r[:-3] for r in table[1:]]])
    with pytest.raises(SourceError, match="column missing") as info:
        list(csv_export.units(src))


def test_orphan_rows_become_failed_units(csv_export_dir, tmp_path):
    src = copy(csv_export_dir, tmp_path / "orphan")
    table = rows(src / "organisations.csv")
    header = table[0]
    orphan = list(table[1])
    orphan[header.index("client_id")] = "C0000000"
    rewrite(src / "organisations.csv", [header, orphan, orphan] + table[1:])
    units = list(csv_export.units(src))
    bad = [u for u in units if isinstance(u.payload, SourceError)]
    assert len(bad) == 1 and bad[0].key == "C0000000"  # one failed unit for both rows
    assert str(bad[0].payload) == ("organisations.csv line 2, record C0000000, field 'client_id': no client "
                                   "'C0000000' in clients.csv (and 1 more row(s): lines 3)")
    assert len(units) == 41


def test_writer_resumes_from_its_journal(csv_export_dir, tmp_path):
    dossiers = list(csv_export.read(csv_export_dir, envelope=ENVELOPE))
    out = tmp_path / "resume"
    w = csv_export.writer(out)
    for d in dossiers[:10]:
        w.commit(w.render(d.ids[0].extension, d))
    w.close(complete=False)  # interrupted
    with open(out / "measurements.csv.partial", "ab") as fh:  # half a dossier written after the last commit
        fh.write(b"C9;C9;C9;LENGTE;1")
    w = csv_export.writer(out)
    assert w.done(dossiers[9].ids[0].extension) and not w.done(dossiers[10].ids[0].extension)
    for d in dossiers[10:]:
        w.commit(w.render(d.ids[0].extension, d))
    w.close()
    whole = tmp_path / "whole"
    csv_export.write(dossiers, whole)
    for p in whole.iterdir():
        assert filecmp.cmp(p, out / p.name, shallow=False), p.name
    assert not list(out.glob("*.partial")) and not (out / csv_export.JOURNAL).exists()


def test_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        list(csv_export.units(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="clients.csv: missing"):
        list(csv_export.units(tmp_path / "empty"))


def test_failed_unit_raises_when_loaded():
    unit = Unit("K", "x.csv line 3", SourceError("x.csv line 3", "client_id", "boom", "K"))
    with pytest.raises(SourceError, match="boom"):
        csv_export.load(unit)


def test_hl7v3_writer_refuses_an_invalid_dossier(csv_export_dir, tmp_path):
    from jgz_gateway.adapters.errors import InvalidOutput

    dossier = next(csv_export.read(csv_export_dir, envelope=ENVELOPE))
    dossier.care_statuses = []  # a DOB needs status in care and end of care
    w = hl7v3.writer(tmp_path / "x")
    with pytest.raises(InvalidOutput, match="fails validation") as info:
        w.render("K", dossier)
    assert any(f.rule == "careProvisionDossier" for f in info.value.findings)
    assert not list((tmp_path / "x").iterdir())


def test_writer_resumes_after_an_interrupted_close(csv_export_dir, tmp_path):
    import os

    dossiers = list(csv_export.read(csv_export_dir, envelope=ENVELOPE))[:6]
    out = tmp_path / "closing"
    w = csv_export.writer(out)
    for d in dossiers[:4]:
        w.commit(w.render(d.ids[0].extension, d))
    w.close(complete=False)
    os.replace(out / "clients.csv.partial", out / "clients.csv")  # renamed, then the power went
    w = csv_export.writer(out)
    assert w.done(dossiers[3].ids[0].extension)
    for d in dossiers[4:]:
        w.commit(w.render(d.ids[0].extension, d))
    w.close()
    whole = tmp_path / "whole"
    csv_export.write(dossiers, whole)
    assert all(filecmp.cmp(p, out / p.name, shallow=False) for p in whole.iterdir())


def test_table_files_are_found_whatever_their_case(csv_export_dir, tmp_path):
    """An export made on Windows may name its files Clients.CSV; a table file not found under
    its exact name was skipped as absent, so every measurement of every child was dropped
    without a word."""
    folder = tmp_path / "windows"
    shutil.copytree(csv_export_dir, folder)
    (folder / "measurements.csv").rename(folder / "Measurements.CSV")
    (folder / "clients.csv").rename(folder / "CLIENTS.csv")
    assert csv_export.count(folder) == csv_export.count(csv_export_dir)
    original = [u.payload for u in csv_export.units(csv_export_dir)]
    renamed = [u.payload for u in csv_export.units(folder)]
    assert [{t: [r.data for r in rows] for t, rows in b.items()} for b in renamed] == \
        [{t: [r.data for r in rows] for t, rows in b.items()} for b in original]
    assert any(b.get("measurements") for b in renamed)
    # where a row comes from is named as the file is on disk
    unit = next(csv_export.units(folder))
    assert unit.origin.startswith("CLIENTS.csv line ") and unit.payload["measurements"][0].where.startswith("Measurements.CSV")


def test_a_byte_the_encoding_cannot_read_is_named_by_its_line(csv_export_dir, tmp_path):
    """An export in Windows-1252 read as UTF-8: the error said "line 1" (the decoder reads
    ahead in blocks, the CSV reader counts behind it) and not what to do about it."""
    folder = tmp_path / "cp1252"
    shutil.copytree(csv_export_dir, folder)
    path = folder / "measurements.csv"
    lines = path.read_bytes().split(b"\n")
    lines[300] = lines[300] + b"\xe4"  # an a-umlaut in Windows-1252, far past the first block
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(SourceError, match="not readable as utf-8.*options.encoding") as info:
        list(csv_export.units(folder))
    assert info.value.where == "measurements.csv line 301"
