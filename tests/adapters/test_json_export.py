"""json-export: one document per client; unknown keys and bad values name file, path and field."""

from __future__ import annotations

import json
import shutil

import pytest

from jgz_gateway.adapters import hl7v3, json_export
from jgz_gateway.adapters.errors import SourceError

from .test_dossier_facts import ENVELOPE


def test_round_trip_through_the_dob_keeps_every_mapped_field(json_export_dir, tmp_path):
    dob = tmp_path / "dob"
    hl7v3.write(json_export.read(json_export_dir, envelope=ENVELOPE), dob)
    out = tmp_path / "again"
    json_export.write(hl7v3.read(dob), out)
    for path in sorted(json_export_dir.glob("*.json")):
        original = json.loads(path.read_text(encoding="utf-8"))
        again = json.loads((out / path.name).read_text(encoding="utf-8"))
        original["client"].pop("meta", None)  # declared unmapped: bookkeeping of the export
        for contact in original.get("contacts", []):
            contact.pop("room", None)
        assert again == original, path.name


def test_native_json_values(json_export_dir):
    doc = json.loads(sorted(json_export_dir.glob("*.json"))[3].read_text(encoding="utf-8"))
    measurements = [m for c in doc["contacts"] for m in c.get("measurements", [])]
    weights = [m["value"] for m in measurements if m["code"] == "weight_g"]
    lengths = [m["value"] for m in measurements if m["code"] == "length_cm"]
    assert weights and all(isinstance(w, int) for w in weights)  # grams
    assert lengths and all(isinstance(x, (int, float)) and 30 < x < 220 for x in lengths)  # centimetres
    assert isinstance(doc["consents"][0]["given"], bool)


def edit(src, tmp_path, change):
    folder = tmp_path / "edited"
    shutil.copytree(src, folder)
    path = sorted(folder.glob("*.json"))[0]
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return folder, path


def test_a_whole_number_written_as_a_float_is_that_number(json_export_dir, tmp_path):
    """JSON has one number type: 174.0 is 174 (Python, .NET and databases write whole numbers
    so); a house number or a count so written was refused as "not a whole number". 174.5 still is."""
    def floats(value):
        if isinstance(value, dict):
            return {k: floats(v) for k, v in value.items()}
        if isinstance(value, list):
            return [floats(v) for v in value]
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def as_floats(doc):
        new = floats(doc)
        doc.clear()
        doc.update(new)

    folder, path = edit(json_export_dir, tmp_path, as_floats)
    assert '.0' in path.read_text(encoding="utf-8")
    unit = next(json_export.units(folder))
    assert json_export.load(unit, envelope=ENVELOPE).dossier == \
        json_export.load(next(json_export.units(json_export_dir)), envelope=ENVELOPE).dossier
    folder, _ = edit(json_export_dir, tmp_path / "half", lambda d: d["client"]["address"].update(number=174.5))
    with pytest.raises(SourceError, match="'174.5' is not a whole number"):
        json_export.load(next(json_export.units(folder)))


def test_unknown_key_is_an_error_with_its_path(json_export_dir, tmp_path):
    folder, path = edit(json_export_dir, tmp_path, lambda d: d["contacts"][1]["measurements"][0].update(colour="red"))
    unit = next(json_export.units(folder))
    with pytest.raises(SourceError, match="neither mapped nor declared unmapped") as info:
        json_export.load(unit)
    assert info.value.where == f"{path.name} contacts[1].measurements[0]" and info.value.field == "colour"


def test_bad_value_is_an_error_with_its_path(json_export_dir, tmp_path):
    folder, path = edit(json_export_dir, tmp_path, lambda d: d["parents"][0].update(relation="aunt"))
    with pytest.raises(SourceError, match="'aunt' is not a known value") as info:
        json_export.load(next(json_export.units(folder)))
    assert info.value.where == f"{path.name} parents[0]" and info.value.field == "relation"


def test_broken_json_is_a_failed_unit(json_export_dir, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(json_export_dir, folder)
    first = sorted(folder.glob("*.json"))[0]
    first.write_text('{"client": {"id": "X",', encoding="utf-8")
    unit = next(json_export.units(folder))
    with pytest.raises(SourceError, match="not valid JSON") as info:
        json_export.load(unit)
    assert info.value.where == f"{first.name} line 1"


@pytest.mark.parametrize("content, message", [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"client": ', "not valid JSON: Expecting value (line 1"),
])
def test_hostile_or_broken_json_is_a_clear_error(tmp_path, content, message):
    """Deep nesting makes Python's decoder raise RecursionError: it must become an error, not a traceback."""
    from jgz_gateway.adapters import json_export
    from jgz_gateway.adapters.errors import SourceError

    (tmp_path / "c1.json").write_bytes(content)
    unit = next(json_export.units(tmp_path))
    assert isinstance(unit.payload, SourceError) and message in str(unit.payload) and "c1.json" in str(unit.payload)


def test_documents_are_found_whatever_the_case_of_their_suffix(json_export_dir, tmp_path):
    """C0000001.JSON (an export made on Windows) was passed over without a word."""
    folder = tmp_path / "windows"
    shutil.copytree(json_export_dir, folder)
    first = sorted(folder.glob("*.json"))[0]
    first.rename(first.with_suffix(".JSON"))
    assert json_export.count(folder) == json_export.count(json_export_dir)
    assert [u.key for u in json_export.units(folder)] == [u.key for u in json_export.units(json_export_dir)]
