"""Lossless DOB reading and writing: parse then build keeps every leaf of every reference message."""

from __future__ import annotations

import pytest
from lxml import etree

from jgz_gateway.standards.hl7v3 import MessageError, read_message, write_message
from jgz_gateway.standards.leaves import leaf_content, leaf_diff
from jgz_gateway.standards.model import Dossier, from_json, to_json
from jgz_gateway.standards.xmlsafe import XmlRejected

from ..conftest import ref_id, reference_messages

MESSAGES = reference_messages()


def test_reference_corpus_is_complete():
    # 29 NL03 (jgz7.0), 28 NL04 (jgz8.0), 6 HL7 twins of ADA instances
    assert len(MESSAGES) == 62


@pytest.mark.parametrize("path", MESSAGES, ids=ref_id)
def test_parse_build_keeps_leaf_content(path):
    data = path.read_bytes()
    dossier = read_message(data)
    rebuilt = write_message(dossier)
    only_original, only_rebuilt = leaf_diff(etree.fromstring(data), etree.fromstring(rebuilt))
    assert not only_original and not only_rebuilt
    # element order is kept too (schema order), so a valid message stays valid
    tags = lambda b: [e.tag for e in etree.fromstring(b).iter() if isinstance(e.tag, str)]  # noqa: E731
    assert tags(data) == tags(rebuilt)


@pytest.mark.parametrize("path", MESSAGES, ids=ref_id)
def test_dossier_json_round_trip(path):
    dossier = read_message(path.read_bytes())
    again = from_json(to_json(dossier))
    assert again == dossier
    assert write_message(again) == write_message(dossier)


def test_model_is_keyed_by_bds_numbers(reference):
    msg = reference / "hl7v3" / "examples" / "nl03-jgz7.0" / "DOB-3.0.0-CR_test_JGZ-rubriek_R027_hl7.xml"
    dossier = read_message(msg.read_bytes())
    assert dossier.interaction == "REPC_IN902120NL03"
    assert dossier.bsn and dossier.bsn == dossier.transmission.attention_bsn
    lengths = dossier.observations(235)
    assert lengths, "element 235 Lengte is in the R027 test"
    for obs in lengths:
        assert obs.value.type == "PQ" and obs.value.unit == "mm"
    rubrieken = {r.rubriek for a in dossier.activities for r in a.rubrieken}
    assert "R027" in rubrieken


def test_leaf_content_sees_a_changed_value(reference):
    """The round-trip check itself can fail: one changed attribute is one difference each way."""
    data = (reference / "hl7v3" / "examples" / "nl03-jgz7.0" / "DOB-3.0.0_JGZ-base_hl7.xml").read_bytes()
    dossier = read_message(data)
    dossier.patient.ids[0].extension = "111222333"
    a, b = leaf_diff(etree.fromstring(data), etree.fromstring(write_message(dossier)))
    assert sum(a.values()) == sum(b.values()) >= 1


def test_ignores_comments_and_whitespace():
    a = etree.fromstring(b"<a x='1'><!-- c --> <b>t</b>\n</a>")
    b = etree.fromstring(b"<a x='1'><b>t</b></a>")
    assert leaf_content(a) == leaf_content(b)


def test_not_a_dob_is_a_clear_error():
    with pytest.raises(MessageError, match="not a dossieroverdrachtbericht"):
        read_message(b'<MCCI_IN000002 xmlns="urn:hl7-org:v3"/>')
    with pytest.raises(MessageError, match="namespace"):
        read_message(b"<REPC_IN902120NL03/>")
    with pytest.raises(XmlRejected):
        read_message(b"<REPC_IN902120NL03")


def test_build_under_another_interaction_renames_root_and_interaction_id(reference):
    data = (reference / "hl7v3" / "examples" / "nl03-jgz7.0" / "DOB-3.0.0_JGZ-base_hl7.xml").read_bytes()
    out = etree.fromstring(write_message(read_message(data), "REPC_IN902120NL04"))
    assert etree.QName(out).localname == "REPC_IN902120NL04"
    assert out.find("{urn:hl7-org:v3}interactionId").get("extension") == "REPC_IN902120NL04"


def test_dossier_schema_is_pydantic():
    assert "activities" in Dossier.model_json_schema()["properties"]


def test_consent_semantics_follow_nictiz_ada_conversion(reference):
    """ADA "bezwaar = true" is written as a negated consentEvent (1395, 1404); consent true is not negated."""
    from lxml import etree as et

    ada = et.parse(str(reference / "ada" / "instances" / "DOB-3.0.0-test.xml")).getroot()
    dossier = read_message((reference / "ada" / "hl7" / "DOB-3.0.0-test-hl7.xml").read_bytes())
    said = {
        int(e.get("conceptId").rsplit(".", 1)[1]): e.get("value") == "true"
        for e in ada.iter()
        if isinstance(e.tag, str) and e.get("datatype") == "boolean" and (e.get("conceptId") or "").rsplit(".", 1)[-1] in ("1163", "1165", "1395", "1398", "1404")
    }
    assert said[1395] is True and said[1163] is True
    for consent in dossier.consents:
        if consent.element in said:
            assert consent.affirmed is said[consent.element], consent.element
            assert consent.negation_for(consent.element, consent.affirmed) == consent.negation_ind
    assert any(c.element == 1395 and c.affirmed and not c.permits for c in dossier.consents)


# --- messages unlike the published ones: every leaf kept, or a named refusal


def _lossless_or_refused(data: bytes) -> str:
    try:
        rebuilt = write_message(read_message(data))
    except MessageError as exc:
        return exc.rule
    only_original, only_rebuilt = leaf_diff(etree.fromstring(data), etree.fromstring(rebuilt))
    assert not only_original and not only_rebuilt
    return "kept"


def test_text_where_the_model_has_no_field_is_kept_as_a_node(reference):
    data = (reference / "hl7v3" / "examples" / "nl03-jgz7.0" / "DOB-3.0.0-CR_test_JGZ-rubriek_R027_hl7.xml").read_bytes()
    root = etree.fromstring(data)
    H = "{urn:hl7-org:v3}"
    observation = next(root.iter(H + "observation"))
    observation.find(H + "templateId").text = "stray"  # a templateId kept as a plain root string before
    observation.text = "more"
    next(root.iter(H + "component")).text = "wrapper text"
    assert _lossless_or_refused(etree.tostring(root)) == "kept"


@pytest.mark.parametrize("frame", ["ControlActProcess", "subject", "CareProvisionRequest", "sequelTo", "careProvisionEvent"])
def test_text_in_the_message_frame_is_refused_by_name(reference, frame):
    data = (reference / "hl7v3" / "examples" / "nl03-jgz7.0" / "DOB-3.0.0_JGZ-base_hl7.xml").read_bytes()
    root = etree.fromstring(data)
    next(root.iter("{urn:hl7-org:v3}" + frame)).text = "1e400"
    with pytest.raises(MessageError) as err:
        read_message(etree.tostring(root))
    assert err.value.rule == "JGZ-MSG-TEXT" and err.value.xpath.endswith("hl7:" + frame)
    assert "'1e400'" in err.value.message


def test_mutants_of_the_published_messages_round_trip_or_are_refused(reference):
    """The fuzzer's structural and value mutations (tools/fuzz.py): a dropped, duplicated,
    moved or swapped element, an attribute dropped or garbled, text, xsi:type, nullFlavor."""
    import random

    from ..conftest import load_tool

    fuzz = load_tool("fuzz")
    small = [p for p in MESSAGES if p.stat().st_size < 40_000]
    rng = random.Random(20261124)
    outcomes: dict[str, int] = {}
    for _ in range(150):
        root = etree.fromstring(rng.choice(small).read_bytes())
        fuzz.mutate(root, rng)
        outcome = _lossless_or_refused(etree.tostring(root))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert outcomes.get("kept", 0) > 120, outcomes
