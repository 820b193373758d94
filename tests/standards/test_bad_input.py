"""Bad input: every broken message gets the expected finding, in bounded time, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lxml import etree

from jgz_gateway.standards.validation import validate_bytes, validate_file

from .badinput import BASE_NL03, BASE_NL04, CASES, H, _set, mutate

JGZ = [sys.executable, "-m", "jgz_gateway.cli"]


def test_corpus_is_large_enough():
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.fixture(scope="module")
def base_findings():
    return {
        path: {(f.rule, f.severity, f.xpath) for f in validate_bytes(path.read_bytes()).findings}
        for path in (BASE_NL03, BASE_NL04)
    }


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_broken_message_gets_expected_finding(case, base_findings):
    data = case.make()
    start = time.perf_counter()
    report = validate_bytes(data, case.name)
    elapsed = time.perf_counter() - start
    assert elapsed < 10, f"{case.name} took {elapsed:.1f} s"
    hits = [f for f in report.findings if f.rule == case.rule and f.severity == case.severity]
    assert hits, f"{case.name}: expected {case.rule} ({case.severity}), got {[(f.rule, f.severity) for f in report.findings]}"
    assert report.valid is case.valid
    # the finding is caused by the mutation: the unbroken base message does not have it
    known = set().union(*base_findings.values())
    assert any((f.rule, f.severity, f.xpath) not in known for f in hits)
    for f in report.findings:
        assert f.rule and f.message and f.xpath.startswith("/")


def test_base_messages_are_valid(base_findings):
    for path in (BASE_NL03, BASE_NL04):
        assert validate_bytes(path.read_bytes()).valid


def _run(args, **kw):
    return subprocess.run(JGZ + args, capture_output=True, text=True, timeout=120, **kw)


def test_100_mb_file_refused_before_reading(tmp_path: Path):
    big = tmp_path / "big.xml"
    with big.open("wb") as fh:
        fh.write(b'<REPC_IN902120NL03 xmlns="urn:hl7-org:v3"><id extension="')
        fh.write(b"9" * (100 * 1024 * 1024))
        fh.write(b'"/></REPC_IN902120NL03>')
    report = validate_file(big)
    assert not report.valid and report.findings[0].rule == "JGZ-XML-SIZE"
    # the peak RSS of this one validator process, measured by a parent of its own (this test
    # process's children include every earlier test's subprocesses)
    probe = ("import json, resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(json.dumps([r.returncode, r.stdout, r.stderr, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))")
    out = subprocess.run([sys.executable, "-c", probe, *JGZ, "validate", "--format", "json", str(big)],
                         capture_output=True, text=True, timeout=120)
    returncode, stdout, stderr, peak = json.loads(out.stdout)
    assert returncode == 1
    assert json.loads(stdout)[0]["findings"][0]["rule"] == "JGZ-XML-SIZE"
    assert "Traceback" not in stderr
    assert peak < 400 * 1024, "peak RSS of the validator process must stay bounded (KiB)"


def test_hostile_inputs_through_the_cli_never_traceback(tmp_path: Path):
    paths = []
    for case in CASES:
        if case.rule.startswith("JGZ-XML") or case.rule == "JGZ-MSG-INTERACTION":
            p = tmp_path / f"{case.name}.xml"
            p.write_bytes(case.make())
            paths.append(p)
    result = _run(["validate", "--format", "json", *map(str, paths)])
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    reports = json.loads(result.stdout)
    assert len(reports) == len(paths)
    assert all(not r["valid"] for r in reports)


def test_missing_file_is_a_finding_not_a_traceback(tmp_path: Path):
    result = _run(["validate", str(tmp_path / "nope.xml")])
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "JGZ-IO" in result.stdout


def test_parse_and_build_errors_are_one_line(tmp_path: Path):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<REPC_IN902120NL03")
    result = _run(["parse", str(bad)])
    assert result.returncode == 2 and result.stderr.startswith("error:") and "Traceback" not in result.stderr
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"interaction": 3}')
    result = _run(["build", str(bad_json)])
    assert result.returncode == 2 and "not a dossier JSON" in result.stderr


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "iso-8859-1"])
@pytest.mark.parametrize("prefix", ["xi", "x"])
def test_xinclude_is_refused_in_any_encoding(encoding, prefix):
    """The XInclude check skips its tree search when the bytes cannot hold the namespace;
    that shortcut must not open a hole for documents in another encoding."""
    text = (f'<?xml version="1.0" encoding="{encoding}"?>'
            f'<REPC_IN902120NL03 xmlns="urn:hl7-org:v3" xmlns:{prefix}="http://www.w3.org/2001/XInclude">'
            f'<{prefix}:include href="file:///etc/passwd" parse="text"/></REPC_IN902120NL03>')
    report = validate_bytes(text.encode(encoding))
    assert [(f.severity, f.rule) for f in report.findings] == [("error", "JGZ-XML-XINCLUDE")]


def test_findings_show_the_value_that_broke_the_rule():
    """A DTr1 rule's text states the rule, not the value: the finding also shows the element as found."""
    data = mutate(BASE_NL03, "//hl7:encounter/hl7:effectiveTime", _set("value", "2020-13-45"))()
    ts = [f for f in validate_bytes(data).findings if f.rule == "dtr1-2-TS"]
    assert ts and all(f.message.endswith('Found: <effectiveTime value="2020-13-45"/>') for f in ts)
    # an element with parts shows them; a long value is cut, and says so
    parts = mutate(BASE_NL03, "//hl7:name[@use='OR']", lambda el, root: el.append(
        etree.fromstring(f'<effectiveTime xmlns="{H}" value="19000101"/>')))()
    en = [f for f in validate_bytes(parts).findings if f.rule == "dtr1-3-EN"]
    assert en and en[0].message.endswith('Found: <name use="OR"><family qualifier="BR">AchternaamTest</family>'
                                         '<effectiveTime value="19000101"/></name>')
    # a published row that quotes no value (here: the unit) shows the element too
    unit = next(c for c in CASES if c.name == "wrong-unit").make()
    rows = [f for f in validate_bytes(unit).findings if f.rule == "obsElement0235"]
    assert rows and rows[0].message.endswith('Found: <value xsi:type="PQ" value="133" unit="cm"/>')
    # a child required with a qualifier (a code from a value set) shows the children that miss it
    code = next(c for c in CASES if c.name == "code-outside-bound-valueset").make()
    rows = [f for f in validate_bytes(code).findings if f.rule == "obsElement1577"]
    assert rows and 'is required [min 1x]. Found: <value xsi:type="CV" code="99"' in rows[0].message
    long = mutate(BASE_NL03, "//hl7:encounter/hl7:effectiveTime", _set("value", "9" * 500))()
    cut = [f for f in validate_bytes(long).findings if f.rule == "dtr1-2-TS"]
    found = cut[0].message.split("Found: ", 1)[1]
    assert len(found) == 240 and found.endswith("…") and found.startswith('<effectiveTime value="999')


def _with_attachment(size: int) -> bytes:
    """The NL04 qualification message with its PDF attachment replaced by ``size`` random bytes (base64)."""
    import base64
    import random

    root = etree.fromstring(BASE_NL04.read_bytes())
    text = next(e for e in root.iter(f"{{{H}}}text") if e.get("representation") == "B64")
    text.text = base64.b64encode(random.Random(1).randbytes(size)).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_an_attachment_over_10_mb_is_read_whole():
    """libxml2 refuses a text node over 10 MB unless told otherwise; a scanned dossier as base64
    PDF is that large, and Nictiz's tools read it. It is read whole, and deep nesting behind it
    is still refused."""
    from jgz_gateway.standards.hl7v3 import read_message
    from jgz_gateway.standards.xmlsafe import XmlRejected, parse_bytes

    data = _with_attachment(8_000_000)  # 10.7 MB of base64
    assert len(data) > 10_000_000
    assert not [f for f in validate_bytes(data).findings if f.rule.startswith("JGZ-XML")]
    assert not [f for f in validate_bytes(data).findings if f.severity == "error"]
    assert max(len(a.data or "") for a in read_message(data).attachments) > 10_000_000
    deep = b"<a><t>" + b"x" * 10_500_000 + b"</t>" + b"<b>" * 300 + b"</b>" * 300 + b"</a>"
    with pytest.raises(XmlRejected) as exc:
        parse_bytes(deep)
    assert exc.value.rule == "JGZ-XML-DEPTH"
