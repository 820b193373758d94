"""The thin ada and fhir adapters: write, read back, report what they drop, name bad files."""

from __future__ import annotations

import json

import pytest

from jgz_gateway.adapters import ada, csv_export, fhir
from jgz_gateway.adapters.errors import SourceError

from .test_dossier_facts import ENVELOPE


@pytest.fixture(scope="module")
def dossiers(csv_export_dir):
    return list(csv_export.read(csv_export_dir, envelope=ENVELOPE))[:5]


def test_ada_instances_are_written_and_read_back(dossiers, tmp_path):
    w = ada.writer(tmp_path)
    for d in dossiers:
        rendered = w.render(d.ids[0].extension, d)
        assert rendered.payload.startswith(b"<?xml") and b"<adaxml" in rendered.payload[:400]
        w.commit(rendered)
    loaded = [ada.load(u, envelope=ENVELOPE) for u in ada.units(tmp_path)]
    assert [x.key for x in loaded] == [d.ids[0].extension for d in dossiers]
    for d, x in zip(dossiers, loaded):
        assert x.dossier.bsn == d.bsn and x.dossier.interaction == "REPC_IN902120NL03"
        assert len(x.dossier.activities) == len(d.activities)
        assert x.dossier.transmission.attention_bsn == d.bsn  # a new wrapper from the envelope
        assert x.elements[235] == sum(1 for a in d.activities for o in a.observations() if o.element == 235)
    assert {235, 461, 1163} <= ada.coverage().fills


def test_what_an_ada_instance_holds_beyond_the_dossier_counts_as_dropped(reference, tmp_path):
    """The ADA reader reports what the DOB has no place for (an element it cannot place, an
    adaextension); the adapter passed the dossier on and the report was lost, so a migration
    from ADA dropped them without a count."""
    from lxml import etree

    root = etree.fromstring((reference / "ada/instances/DOB-3.0.0-test.xml").read_bytes())
    etree.SubElement(etree.SubElement(root.find("data")[0].find("r003_persoonsgegevens"), "adaextension"), "note").text = "x"
    (tmp_path / "test.xml").write_bytes(etree.tostring(root))
    (unit,) = ada.units(tmp_path)
    loaded = ada.load(unit, envelope=ENVELOPE)
    assert loaded.dropped == {"element 1006": 1, "dropped adaextension": 1}  # 1006: scan van oefeningenblad


def test_fhir_bundles_are_written_and_read_back(dossiers, tmp_path):
    w = fhir.writer(tmp_path)
    for d in dossiers:
        w.commit(w.render(d.ids[0].extension, d))
    bundle = json.loads(sorted(tmp_path.glob("*.json"))[0].read_text(encoding="utf-8"))
    assert bundle["resourceType"] == "Bundle"
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert patient["identifier"][0]["value"] == dossiers[0].bsn
    loaded = [fhir.load(u, envelope=ENVELOPE) for u in fhir.units(tmp_path)]
    for d, x in zip(dossiers, loaded):
        assert x.dossier.bsn == d.bsn and len(x.dossier.activities) == len(d.activities)
        assert x.elements[245] == sum(1 for a in d.activities for o in a.observations() if o.element == 245)
    assert {7, 235, 245, 461} <= fhir.coverage().fills


def test_a_resource_the_reader_takes_nothing_from_counts_as_dropped(dossiers, tmp_path):
    """A Bundle from another system may hold an AllergyIntolerance (or a Composition): the
    dossier has no place for it, and it was passed over without a word."""
    from jgz_gateway.standards.fhir import to_fhir

    bundle, _ = to_fhir(dossiers[0])
    patient = next(e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    bundle["entry"] += [{"fullUrl": f"urn:uuid:0000000{i}-0000-4000-8000-000000000000", "resource": r} for i, r in enumerate([
        {"resourceType": "AllergyIntolerance", "patient": {"reference": patient}, "code": {"text": "pinda"}},
        {"resourceType": "AllergyIntolerance", "patient": {"reference": patient}, "code": {"text": "latex"}},
        {"resourceType": "Provenance", "recorded": "2026-11-25T10:00:00Z", "target": [{"reference": patient}],
         "agent": [{"who": {"display": "GGD"}}]}])]
    (tmp_path / "extra.json").write_text(json.dumps(bundle), encoding="utf-8")
    loaded = fhir.load(next(fhir.units(tmp_path)), envelope=ENVELOPE)
    assert loaded.dropped["resource AllergyIntolerance"] == 2 and loaded.dropped["resource Provenance"] == 1
    assert not [k for k in loaded.dropped if k.startswith("resource ") and "Allergy" not in k and "Provenance" not in k]


def test_a_fhir_xml_bundle_reads_as_its_json(dossiers, tmp_path):
    """FHIR XML is as much FHIR as JSON (Nictiz publishes nl-core in XML): the same Bundle in
    either form is the same dossier. The XML goes through the hardened parser first."""
    from fhir.resources.R4B.bundle import Bundle

    from jgz_gateway.standards.fhir import to_fhir

    (tmp_path / "json").mkdir()
    (tmp_path / "both").mkdir()
    for i, d in enumerate(dossiers[:2]):
        bundle, _ = to_fhir(d)
        key = d.ids[0].extension
        (tmp_path / "json" / f"{key}.json").write_text(json.dumps(bundle), encoding="utf-8")
        xml = Bundle.model_validate(bundle).model_dump_xml()
        (tmp_path / "both" / (f"{key}.xml" if i else f"{key}.json")).write_bytes(xml if i else json.dumps(bundle).encode())
    assert fhir.count(tmp_path / "both") == 2
    as_json = [fhir.load(u, envelope=ENVELOPE) for u in fhir.units(tmp_path / "json")]
    mixed = [fhir.load(u, envelope=ENVELOPE) for u in fhir.units(tmp_path / "both")]
    assert [(x.key, x.dossier, x.dropped) for x in mixed] == [(x.key, x.dossier, x.dropped) for x in as_json]


@pytest.mark.parametrize("adapter, name, content, message", [
    (ada, "bad.xml", b"<adaxml><data/></adaxml>", "not an ADA instance"),
    (ada, "bad.xml", b"<adaxml>", "bad.xml line"),
    (fhir, "bad.json", b"{", "not valid JSON"),
    (fhir, "bad.json", b'{"resourceType": "Patient"}', "bad.json"),
    (fhir, "deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (fhir, "latin1.json", '{"naam": "Jos\u00e9"}'.encode("latin-1"), "not UTF-8"),
    (fhir, "entity.xml", b'<!DOCTYPE Bundle [<!ENTITY x "y">]><Bundle xmlns="http://hl7.org/fhir"/>', "entity.xml"),
    (fhir, "patient.xml", b'<Patient xmlns="http://hl7.org/fhir"/>', "expected a FHIR Bundle"),
    (fhir, "odd.xml", b'<Bundle xmlns="http://hl7.org/fhir"><type value="nonsense"/></Bundle>', "odd.xml"),
])
def test_bad_files_name_the_file(tmp_path, adapter, name, content, message):
    (tmp_path / name).write_bytes(content)
    unit = next(adapter.units(tmp_path))
    with pytest.raises(SourceError, match=message) as info:
        adapter.load(unit, envelope=ENVELOPE)
    assert name in str(info.value)


def test_hl7v3_through_fhir_and_back_loses_only_what_it_reports(tmp_path):
    """DOB → FHIR Bundle → DOB with ``jgz migrate``: every message built from a Bundle validates,
    and the BDS facts that do not come back are exactly those the FHIR export reported as
    dropped. Addresses (street, house number, use, country), phones with their use, parents'
    names, BSN and birth dates, and performers of contacts and vaccinations come back."""
    from jgz_gateway.adapters import hl7v3
    from jgz_gateway.adapters.from_dossier import extract
    from jgz_gateway.adapters.migrate import migrate
    from jgz_gateway.adapters.synth_export import export

    from .conftest import TODAY

    export("hl7v3", tmp_path / "dob", 24, 1, TODAY)
    there = migrate("hl7v3", tmp_path / "dob", "fhir", tmp_path / "fhir")
    back = migrate("fhir", tmp_path / "fhir", "hl7v3", tmp_path / "again", source_options={"envelope": ENVELOPE})
    assert there.written == back.written == 24 and not back.failed and not back.dropped
    lost: dict[str, int] = {}
    for before, after in zip(hl7v3.read(tmp_path / "dob"), hl7v3.read(tmp_path / "again")):
        key = before.ids[0].extension
        for n, count in extract(before, key)[0].lost_in(extract(after, key)[0]).items():
            lost[f"element {n}"] = lost.get(f"element {n}", 0) + count
    assert lost == dict(there.dropped)
    # ... and the dossier's status and organisations' periods (EpisodeOfCare), consents' sources
    # and recorders, requesters and escorts, conclusions, reaction reports, and (as Observations
    # with a focus) parents' education, work and birth country and the RVP consent's details
    kept = {8, 10, 11, 12, 16, 630, 609, 610, 61, 63, 655, 656, 657, 1501, 1599, 1336, 1410,
            696, 1164, 1396, 1399, 1535, 1423, 731, 482, 483, 485, 493, 1457, 1458, 1538, 1540, 875,
            66, 67, 71, 1537, 1541, 2, 1453, 1486, 1487}
    assert kept <= set(there.elements)  # the synthetic dossiers hold them all
    assert not kept & {int(k.split()[1]) for k in lost}
    assert kept <= fhir.coverage().fills
    assert not fhir.coverage().drops  # every element a synthetic dossier holds comes back


def test_requesters_escorts_and_other_texts_survive_fhir(reference):
    """Nictiz's test message: requesters (1423) and escorts (731), "other: Buurman/Buurvrouw"
    among them, go through the Bundle as Encounter participants (referrer, escort) and come back."""
    from jgz_gateway.adapters.from_dossier import extract
    from jgz_gateway.standards.fhir import to_fhir
    from jgz_gateway.standards.hl7v3 import read_message

    record, _ = extract(read_message((reference / "ada/hl7/DOB-3.0.0-test-hl7.xml").read_bytes()), "K")
    assert sum(1 for n, _ in record.items() if n in (1423, 731)) == 6
    bundle, _ = to_fhir(read_message((reference / "ada/hl7/DOB-3.0.0-test-hl7.xml").read_bytes()))
    assert not {1423, 731} & set(fhir.lost_in(record, bundle, "K"))


def test_the_screenings_filler_and_place_come_back_from_a_bundle(reference):
    """R054: who filled in the SPP screening (1343, performer) and where (1344, location) ride on
    1345's Observation as components, and are read back into the same places."""
    from jgz_gateway.adapters.from_dossier import extract
    from jgz_gateway.standards.fhir import from_fhir, to_fhir
    from jgz_gateway.standards.hl7v3 import read_message

    dossier = read_message((reference / "ada/hl7/DOB-3.0.0-qual-versturen-XXX_Caarls-hl7.xml").read_bytes())
    before = extract(dossier, "K")[0]
    assert {n for n, _ in before.items()} >= {1343, 1344}
    bundle, _ = to_fhir(dossier)
    after = extract(from_fhir(bundle), "K")[0]
    assert [(n, v) for n, v in after.items() if n in (1343, 1344)] == [(n, v) for n, v in before.items() if n in (1343, 1344)]
