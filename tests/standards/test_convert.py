"""BDS version conversion against the reference artefacts: Nictiz's own 3.2.7 → 4.0 output,
validity of every converted reference message, and up-then-down round trips in which
every lost leaf is one the report lists."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from lxml import etree
from typer.testing import CliRunner

from jgz_gateway.cli import app
from jgz_gateway.standards.catalogue import ELEMENT_CS, GROEP_CS, RUBRIEK_CS
from jgz_gateway.standards.convert import ConversionError, UnknownTarget, convert, convert_bytes, versions
from jgz_gateway.standards.hl7v3 import read_message
from jgz_gateway.standards.leaves import leaf_content, leaf_diff
from jgz_gateway.standards.validation import validate_bytes

from ..conftest import REFERENCE, ref_id, reference_messages

H = "{urn:hl7-org:v3}"
MESSAGES = reference_messages()
NL03 = [p for p in MESSAGES if b"<REPC_IN902120NL03" in p.read_bytes()[:400]]
NL04 = [p for p in MESSAGES if b"<REPC_IN902120NL04" in p.read_bytes()[:2000]]
ADA_HL7 = REFERENCE / "ada" / "hl7"
BDS327 = ADA_HL7 / "DOB-3.0.0-test-hl7-bds327.xml"
NICTIZ_400 = ADA_HL7 / "DOB-3.0.0-test-hl7-bds327-bds400.xml"

#: Rules by which the gateway knowingly differs from Nictiz's converter (to stay valid).
VALIDITY_RULES = {"CONV-ANNOTATION-VALUE-VALID", "CONV-BFMT-SCAN-VALID", "CONV-CODE-FLAVOUR"}


def tag_path(xpath: str) -> str:
    """A report XPath as a leaf-content path: no positions, no prefix, root renamed."""
    steps = [re.sub(r"\[\d+\]$", "", s) for s in xpath.strip("/").split("/")]
    steps = [H + s[4:] if s.startswith("hl7:") else s for s in steps]
    return "/".join(["/ROOT"] + steps[1:])


def leaves(data: bytes):
    root = etree.fromstring(data)
    root.tag = "ROOT"
    return root


def unexplained(missing, changes) -> list:
    """Leaves not under any XPath that a report entry (other than an addition or the
    interaction's new name, which concern the whole message) names."""
    prefixes = {tag_path(c.xpath) for c in changes if c.action != "added" and c.rule != "CONV-INTERACTION"}
    assert "/ROOT" not in prefixes
    return [leaf for leaf in missing if not any(leaf[0] == p or leaf[0].startswith(p + "/") for p in prefixes)]


@pytest.fixture(scope="module")
def nictiz_pair(reference):
    out, report = convert_bytes(BDS327.read_bytes(), "4.0")
    return out, report


def test_327_to_400_matches_nictiz_except_validity_fixes(nictiz_pair):
    out, report = nictiz_pair
    theirs, mine = leaf_diff(leaves(NICTIZ_400.read_bytes()), leaves(out))
    fixes = [c for c in report.changes if c.rule in VALIDITY_RULES]
    assert fixes, "the 3.2.7 test message needs validity fixes"
    assert not unexplained(theirs, fixes)
    assert not unexplained(mine, fixes)
    assert sum(theirs.values()) + sum(mine.values()) < 80  # the rest is identical


def test_327_to_400_activity_status_as_nictiz(nictiz_pair):
    """Status activiteit (1605) per activity, as Nictiz derives it from statusCode and abortedEvent."""
    def statuses(data):
        root = etree.fromstring(data)
        out = {}
        for enc in root.iter(H + "encounter"):
            if enc.getparent().tag != H + "component7":
                continue
            value = enc.xpath("h:pertinentInformation/h:rubricCluster/h:component/h:observation"
                              "[h:code/@code='1605']/h:value/@code", namespaces={"h": H[1:-1]})
            out[enc.find(H + "id").get("extension")] = (value, enc.find(H + "statusCode").get("code"),
                                                        enc.find(f"{H}subjectOf/{H}abortedEvent") is not None)
        return out

    mine, theirs = statuses(nictiz_pair[0]), statuses(NICTIZ_400.read_bytes())
    assert mine == theirs and len(mine) == 11


def test_327_to_400_moves_removed_element_to_non_bds(nictiz_pair):
    out, report = nictiz_pair
    moved = [c for c in report.moved if c.rule == "CONV-ELEMENT-NONBDS"]
    assert moved and all(int(c.element) not in versions.carried("4.0") for c in moved)
    root = etree.fromstring(out)
    carried = {n.find(H + "code").get("code") for n in root.iter(H + "nonBDSData")}
    assert {c.element for c in moved} <= carried
    assert "is vervallen" in out.decode()


def test_display_names_follow_the_target_catalogue(reference):
    for path, target in ((BDS327, "4.0"), (ADA_HL7 / "DOB-3.0.0-test-hl7.xml", "4.2.0"), (NL04[0], "4.1.3")):
        out, report = convert_bytes(path.read_bytes(), target)
        cat = versions.catalogue(target)
        root = etree.fromstring(out)
        checked = 0
        for el in root.iter():
            cs = el.get("codeSystem") if isinstance(el.tag, str) else None
            if cs in (ELEMENT_CS, RUBRIEK_CS, GROEP_CS) and el.get("displayName") and el.getparent().tag != H + "nonBDSData":
                expected = cat.display_name(el.get("code"), cs)
                if expected:
                    assert el.get("displayName") == expected, (path.name, el.get("code"))
                    checked += 1
        assert checked > 0


@pytest.mark.parametrize("path", NL03, ids=ref_id)
def test_413_to_420_drops_what_420_lacks_and_reports_it(path):
    data = path.read_bytes()
    out, report = convert_bytes(data, "4.2.0")
    assert etree.fromstring(out).tag == H + "REPC_IN902120NL04"
    before = {o.element for o in read_message(data).observations()}
    after = {o.element for o in read_message(out).observations()}
    gone = {n for n in before if n is not None and n not in versions.carried("4.2.0")}
    assert not (after & gone)
    assert gone <= {int(c.element) for c in report.dropped if c.rule == "CONV-ELEMENT-DROPPED"}
    for change in report.dropped:
        assert change.xpath.startswith("/hl7:REPC_IN902120NL03/") and change.element
    # no rubricCluster or groupCluster is left empty
    root = etree.fromstring(out)
    for cluster in (*root.iter(H + "rubricCluster"), *root.iter(H + "groupCluster")):
        assert cluster.find(H + "component") is not None


ROUND_TRIPS = [(p, "4.2.0", "4.1.3") for p in NL03] + [(p, "4.1.3", "4.2.0") for p in NL04] + [(BDS327, "4.0", "3.2.7")]


@pytest.mark.parametrize("path,there,back", ROUND_TRIPS, ids=lambda v: ref_id(v) if hasattr(v, "parent") else v)
def test_there_and_back_loses_only_what_is_reported(path, there, back):
    data = path.read_bytes()
    out, first = convert_bytes(data, there)
    again, second = convert_bytes(out, back)
    missing, _ = leaf_diff(leaves(data), leaves(again))
    assert not unexplained(missing, first.changes + second.changes)
    if not first.changes and not second.changes:
        assert not missing


CONVERSIONS = [(p, t) for p in MESSAGES for t in ("4.2.0", "4.1.3", "3.2.7")
               if versions.route(versions.SOURCE_OF[read_message(p.read_bytes()).interaction], t)]


@pytest.mark.parametrize("path,target", CONVERSIONS, ids=lambda v: ref_id(v) if hasattr(v, "parent") else v)
def test_conversion_introduces_no_errors(path, target):
    """Every error in a converted reference message is a defect the input already had (the
    same rule fired as often on the input, as an error or, where the source version's rules
    are only advisory, as a warning)."""
    data = path.read_bytes()
    before = validate_bytes(data, str(path))
    out, _ = convert_bytes(data, target)
    after = validate_bytes(out, str(path))
    assert after.interaction == versions.INTERACTION[versions.normalise(target)]
    known = Counter(f.rule for f in before.findings)
    errors = Counter(f.rule for f in after.errors)
    new = [(f.rule, f.xpath, f.message) for f in after.errors if errors[f.rule] > known[f.rule]]
    assert not new


def test_convert_dossier_for_the_receive_path(reference):
    dossier = read_message(NL04[0].read_bytes())
    converted, report = convert(dossier, "4.1")
    assert converted.interaction == "REPC_IN902120NL03" and converted.bds_version == "4.1.3"
    assert report.steps == ["4.2.0→4.1.3"] and report.target_interaction == "REPC_IN902120NL03"
    same, nothing = convert(converted, "4.1.3")
    assert not nothing.changes and same.interaction == converted.interaction
    json.dumps(report.as_dict())


def test_bad_input_and_targets(reference):
    with pytest.raises(UnknownTarget):
        convert_bytes(NL04[0].read_bytes(), "5.0")
    with pytest.raises(ConversionError):
        convert_bytes(b"<foo xmlns='urn:hl7-org:v3'/>", "4.2.0")
    # the interaction's name in no namespace is no DOB either (as for the reader and validator)
    outside = NL04[0].read_bytes().replace(b'xmlns="urn:hl7-org:v3"', b"", 1)
    assert etree.fromstring(outside).tag == "REPC_IN902120NL04"
    with pytest.raises(ConversionError, match="not a dossieroverdrachtbericht"):
        convert_bytes(outside, "4.1.3")


def test_cli_convert(tmp_path, reference):
    runner = CliRunner()
    out, rep = tmp_path / "out.xml", tmp_path / "report.json"
    result = runner.invoke(app, ["convert", str(NL03[0]), "--to", "4.2.0", "-o", str(out), "--report", str(rep)])
    assert result.exit_code == 0, result.output
    assert etree.fromstring(out.read_bytes()).tag == H + "REPC_IN902120NL04"
    report = json.loads(rep.read_text())
    assert report["target_version"] == "4.2.0" and report["steps"] == ["4.1.3→4.2.0"]
    assert all({"action", "rule", "xpath", "message"} <= set(c) for c in report["changes"])
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<REPC_IN902120NL03 xmlns='urn:hl7-org:v3'><unclosed></REPC_IN902120NL03>")
    result = runner.invoke(app, ["convert", str(bad), "--to", "4.2.0"])
    assert result.exit_code == 2 and "not well-formed" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["convert", str(NL03[0]), "--to", "9.9"])
    assert result.exit_code == 2 and "cannot convert" in result.output


def test_leaf_content_of_an_unchanged_message_is_untouched(reference):
    """A step with nothing to do leaves the message as it was (rules only touch what they report)."""
    data = NL03[0].read_bytes()
    out, report = convert_bytes(data, "4.1.3")
    assert not report.steps and leaf_content(etree.fromstring(out)) == leaf_content(etree.fromstring(data))


@pytest.mark.parametrize("name", ["DOB-4.0.0-KWAL_versturen_hl7.xml", "DOB-4.0.0-R012-CR_test_JGZ-518_hl7.xml"])
def test_repeated_element_in_one_groep_is_split_going_down(name):
    """4.2.0 repeats element 80 inside one G019; 4.1.3 allows it once per groep: the groep is
    split (and reported), so Nictiz's valid NL04 qualification message stays valid as NL03."""
    from jgz_gateway.standards.convert import convert
    from jgz_gateway.standards.hl7v3 import read_message, write_message
    from jgz_gateway.standards.validation import validate_bytes

    source = read_message((REFERENCE / "hl7v3" / "examples" / "nl04-jgz8.0" / name).read_bytes())
    out, report = convert(source, "4.1.3")
    assert validate_bytes(write_message(out)).valid
    splits = [c for c in report.changes if c.rule == "CONV-SPLIT-GROEP"]
    assert splits and all(c.element == "G019" for c in splits)
    # nothing lost: every element 80 is still there (codes new in 4.2.0 travel as OTH + text)
    assert len(out.observations(80)) == len(source.observations(80))


def _element_codes(data: bytes) -> Counter:
    """BDS element codes of a message, but a non-BDS item's own question code."""
    return Counter(c.get("code") for c in etree.fromstring(data).iter("{urn:hl7-org:v3}code")
                   if c.get("codeSystem") == ELEMENT_CS and (c.get("code") or "").isdecimal()
                   and etree.QName(c.getparent()).localname != "nonBDSData")


@pytest.mark.parametrize("path", reference_messages(), ids=ref_id)
def test_every_element_code_is_kept_or_reported(path):
    """Per BDS element, every code of the message is in the converted message or in a change of
    the report (dropped, moved, changed or renamed, under its own or its new number), to every version."""
    data = path.read_bytes()
    before = _element_codes(data)
    for target in ("3.2.7", "4.0", "4.1.3", "4.2.0"):
        out, report = convert_bytes(data, target)
        after = _element_codes(out)
        said = Counter()
        for change in report.changes:
            if change.action != "added":
                said.update({n for n in (change.element, change.old) if n and n.isdecimal()})
        lost = {n: k for n, k in before.items() if k > after[n] + said[n]}
        assert lost == {}, target
