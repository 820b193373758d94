"""jgz parse / build / validate / summary through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from lxml import etree

from jgz_gateway.standards.leaves import leaf_diff

JGZ = [sys.executable, "-m", "jgz_gateway.cli"]


def run(*args):
    return subprocess.run([*JGZ, *map(str, args)], capture_output=True, text=True, timeout=120)


def test_parse_then_build_via_files(reference, tmp_path):
    msg = reference / "hl7v3" / "examples" / "nl04-jgz8.0" / "DOB-4.0.0-KWAL_versturen_hl7.xml"
    dossier = tmp_path / "dossier.json"
    out = tmp_path / "out.xml"
    assert run("parse", msg, "-o", dossier).returncode == 0
    data = json.loads(dossier.read_text())
    assert data["interaction"] == "REPC_IN902120NL04" and data["bds_version"] == "4.2.0"
    assert run("build", dossier, "--interaction", "REPC_IN902120NL04", "-o", out).returncode == 0
    a, b = leaf_diff(etree.parse(str(msg)).getroot(), etree.parse(str(out)).getroot())
    assert not a and not b


@pytest.mark.parametrize("interaction", ["REPC_IN902120NL", "REPC_IN902120NL03"])
def test_build_under_an_older_interaction_converts(reference, tmp_path, interaction):
    """An NL04 dossier built as NL or NL03 was its NL04 structure under another root name,
    invalid without a word; it is now converted, what the version lacks named on stderr."""
    msg = reference / "hl7v3" / "examples" / "nl04-jgz8.0" / "DOB-4.0.0-KWAL_versturen_hl7.xml"
    dossier, out = tmp_path / "dossier.json", tmp_path / "out.xml"
    assert run("parse", msg, "-o", dossier).returncode == 0
    built = run("build", dossier, "--interaction", interaction, "-o", out)
    assert built.returncode == 0 and "has no place for it" in built.stderr
    assert etree.QName(etree.parse(str(out)).getroot()).localname == interaction
    [report] = json.loads(run("validate", "--format", "json", out).stdout)
    assert report["valid"], [f for f in report["findings"] if f["severity"] == "error"][:3]


def test_validate_json_shape_and_exit_codes(reference):
    good = reference / "hl7v3" / "examples" / "nl03-jgz7.0" / "DOB-3.0.0-CR_test_JGZ-rubriek_R027_hl7.xml"
    bad = reference / "hl7v3" / "examples" / "nl03-jgz7.0" / "DOB-3.0.0-CR_test_JGZ-rubriek_R047_hl7.xml"
    ok = run("validate", "--format", "json", good)
    assert ok.returncode == 0
    [report] = json.loads(ok.stdout)
    assert set(report) == {"file", "valid", "interaction", "bds_version", "findings"}
    assert report["valid"] and report["interaction"] == "REPC_IN902120NL03"
    for f in report["findings"]:
        assert set(f) == {"severity", "rule", "xpath", "element", "message"}
        assert f["severity"] in ("error", "warning", "info")
    both = run("validate", "--format", "json", good, bad)
    assert both.returncode == 1
    assert [r["valid"] for r in json.loads(both.stdout)] == [True, False]
    text = run("validate", bad)
    assert text.returncode == 1 and "INVALID" in text.stdout and "xsd:SCHEMAV_ELEMENT_CONTENT" in text.stdout


def test_summary_reads_the_dossier(reference):
    msg = reference / "hl7v3" / "examples" / "nl04-jgz8.0" / "DOB-4.0.0-KWAL_versturen_hl7.xml"
    result = run("summary", "--format", "json", msg)
    [row] = json.loads(result.stdout)
    assert row["bsn"] == etree.parse(str(msg)).find(".//{urn:hl7-org:v3}patient/{urn:hl7-org:v3}id").get("extension")
    assert row["activities"] >= 1 and "R041" in row["rubrieken"]


def test_build_rejects_unknown_interaction(reference, tmp_path):
    msg = reference / "hl7v3" / "examples" / "nl03-jgz7.0" / "DOB-3.0.0_JGZ-base_hl7.xml"
    result = run("build", msg, "--interaction", "REPC_IN999")
    assert result.returncode == 2 and "unknown interaction" in result.stderr


def test_parse_refuses_hostile_fhir_json_without_a_traceback(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    result = run("parse", deep, "--from", "fhir")
    assert result.returncode == 2 and "nested too deeply" in result.stderr and "Traceback" not in result.stderr


ENVELOPE = ["--ura", "01234567", "--org-name", "GGD Proef", "--uzi-system", "123456789",
            "--sender-app", "2.16.840.1.113883.2.4.6.6.90000001.1", "--receiver-app", "2.16.840.1.113883.2.4.6.6.90000002.1"]


def test_parse_from_ada_takes_the_message_around_the_dossier_from_options(reference, tmp_path):
    """Nictiz's qualification instances: with a real sender, the DOB built from them has no
    error; with the placeholders ({$orgId}...) the sender's ids fail the identifier rules."""
    for instance in sorted((reference / "ada" / "instances").glob("DOB-3.0.0-qual-*.xml")):
        for options, valid in ((ENVELOPE, True), ([], False)):
            dossier, out = tmp_path / "d.json", tmp_path / "m.xml"
            assert run("parse", "--from", "ada", instance, *options, "-o", dossier).returncode == 0
            assert run("build", dossier, "--interaction", "REPC_IN902120NL03", "-o", out).returncode == 0
            [report] = json.loads(run("validate", "--format", "json", out).stdout)
            assert report["valid"] is valid, (instance.name, options, [f for f in report["findings"] if f["severity"] == "error"])
            text = out.read_text()
            assert ("{$orgId}" in text) is not valid and ("01234567" in text) is valid and ("GGD Proef" in text) is valid


def test_envelope_options_are_for_ada_only(reference):
    msg = reference / "hl7v3" / "examples" / "nl04-jgz8.0" / "DOB-4.0.0-KWAL_versturen_hl7.xml"
    result = run("parse", msg, "--ura", "01234567")
    assert result.returncode != 0 and "--from ada" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("option, value, shape", [("--ura", "1234567", "8 digits"), ("--ura", "1234567A", "8 digits"),
                                                  ("--uzi-system", "12345678", "9 digits")])
def test_identifier_options_in_the_wrong_format_are_refused_at_once(reference, tmp_path, option, value, shape):
    """A URA or UZI number the II.NL datatype rules would refuse in the built message is an
    error of the option, named as such; a well-formed one is taken (test above)."""
    instance = reference / "ada" / "instances" / "DOB-3.0.0-qual-versturen-XXX_Caarls.xml"
    result = run("parse", "--from", "ada", instance, option, value, "-o", tmp_path / "d.json")
    assert result.returncode == 2 and f"{option}: '{value}'" in result.stderr and shape in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "d.json").exists()


def test_validate_on_a_batch_of_large_messages_gives_each_its_own_verdict(reference, tmp_path):
    """From 4 MB of large messages jgz validate checks each on two processes (the validation
    helper): the verdicts are those of one message at a time."""
    from typer.testing import CliRunner

    from jgz_gateway.cli import app
    from jgz_gateway.standards.validation import helper

    largest = reference / "ada" / "hl7" / "DOB-3.0.0-test-hl7.xml"
    copies = []
    for i in range(helper.BATCH_FROM // largest.stat().st_size + 3):
        copy = tmp_path / f"{i:02d}.xml"
        copy.write_bytes(largest.read_bytes())
        copies.append(copy)
    [alone] = json.loads(run("validate", "--format", "json", largest).stdout)
    helper.enable()  # what the command starts, up before it runs (it does not wait for it)
    try:
        assert helper.ready()
        before = helper.current().answered
        result = CliRunner().invoke(app, ["validate", "--format", "json", *map(str, copies)])
        assert helper.current().answered - before == len(copies)
    finally:
        helper.disable()
    assert [r["findings"] for r in json.loads(result.stdout)] == [alone["findings"]] * len(copies)
    assert json.loads(run("validate", "--format", "json", *copies).stdout) == json.loads(result.stdout)


def test_a_process_spawned_from_python_m_jgz_gateway_cli_does_not_run_the_command_again():
    """The validation helper is a spawned process: it re-imports the parent's main module
    under another name, which must not start the command line a second time."""
    import runpy

    runpy.run_module("jgz_gateway.cli", run_name="__mp_main__")
