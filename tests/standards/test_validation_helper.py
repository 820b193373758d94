"""A large message checked in two processes gets exactly the single-process verdict.

The template rules are split in document order (``check_templates(..., part)``); the
helper process checks the later part, the schema and the BDS rules. Its findings joined
to this process's must equal the findings of one process alone, on every reference
message, and whatever the helper does (dies, hangs, is busy), no finding is lost.
"""

from __future__ import annotations

import os
import signal
import threading

import pytest
from lxml import etree

from jgz_gateway.standards.validation import helper, templates, validate_bytes
from jgz_gateway.standards.xmlsafe import MAX_BYTES, parse_bytes

from ..conftest import ref_id, reference_messages
from .badinput import CASES

MESSAGES = reference_messages()
LARGEST = max(MESSAGES, key=lambda p: p.stat().st_size)


def _verdict(report) -> list:
    return [f.as_dict() for f in report.findings] + [report.interaction, report.bds_version]


@pytest.mark.parametrize("path", MESSAGES, ids=ref_id)
def test_parts_in_document_order_join_to_the_whole(reference, path):
    root = parse_bytes(path.read_bytes()).getroot()
    interaction = etree.QName(root).localname
    whole = [f.as_dict() for f in templates.check_templates(root, interaction)]
    count = sum(1 for _ in root.iter(etree.Element))
    for split in (0.5 / count, 1.5 / count, 1 / 3, 0.5, 1 - 0.5 / count):  # before/after the root, ..., before the last
        first = templates.check_templates(root, interaction, (0.0, split))
        rest = templates.check_templates(root, interaction, (split, 1.0))
        assert [f.as_dict() for f in first + rest] == whole, f"split at {split:.4f} of {count} elements"


def _started() -> helper.Helper:
    helper.disable()
    helper.enable()
    assert helper.ready(), "helper did not come up"
    return helper.current()


def test_parts_join_to_the_whole_on_mutants_too(reference):
    """Odd trees (the fuzzer's mutations: elements dropped, duplicated, moved, swapped,
    attributes garbled, text, xsi:type, nullFlavor), split anywhere."""
    import random

    from ..conftest import load_tool

    fuzz = load_tool("fuzz")
    small = [p for p in MESSAGES if p.stat().st_size < 40_000]
    rng = random.Random(20261125)
    for _ in range(60):
        root = etree.fromstring(rng.choice(small).read_bytes())
        for _ in range(rng.randint(1, 4)):
            fuzz.mutate(root, rng)
        interaction = etree.QName(root).localname
        if interaction not in templates.PROFILES:
            continue
        split = rng.random()
        joined = (templates.check_templates(root, interaction, (0.0, split))
                  + templates.check_templates(root, interaction, (split, 1.0)))
        assert [f.as_dict() for f in joined] == [f.as_dict() for f in templates.check_templates(root, interaction)]


@pytest.fixture(scope="module", autouse=True)
def _no_helper_after_these_tests():
    yield
    helper.disable()


@pytest.fixture
def running_helper(reference):
    """The helper these tests share, started again after a test that made it fail."""
    h = helper.current()
    return h if h is not None and not h.failed else _started()


def _alone(data: bytes):
    with helper.alone():
        return validate_bytes(data)


def test_every_reference_message_gets_the_single_process_verdict(running_helper):
    before, large = running_helper.answered, 0
    for path in MESSAGES:
        data = path.read_bytes()
        large += len(data) >= helper.SPLIT_FROM
        assert _verdict(validate_bytes(data)) == _verdict(_alone(data)), path.name
    assert large >= 3 and running_helper.answered - before == large and not running_helper.failed


def test_a_schema_fault_in_the_helpers_half_is_reported_in_place(running_helper):
    data = LARGEST.read_bytes()
    tail = data.rindex(b"</")
    broken = data[:tail] + b'<unexpected xmlns="urn:hl7-org:v3"/>' + data[tail:]
    split = validate_bytes(broken)
    assert any(f.rule.startswith("xsd:") for f in split.findings)
    assert _verdict(split) == _verdict(_alone(broken))


def test_what_the_helper_cannot_read_keeps_the_conversation_in_step(running_helper):
    big = LARGEST.read_bytes()
    not_xml = b"<" + b"x" * helper.SPLIT_FROM
    not_a_dob = b"<root>" + b"<a/>" * (helper.SPLIT_FROM // 4) + b"</root>"
    assert validate_bytes(not_xml).findings[0].rule == _alone(not_xml).findings[0].rule
    assert validate_bytes(not_a_dob).findings[0].rule == "JGZ-MSG-INTERACTION"
    assert _verdict(validate_bytes(big)) == _verdict(_alone(big))  # the next answer is this message's
    assert not running_helper.failed


def test_a_busy_helper_leaves_the_message_to_this_process(running_helper):
    data = LARGEST.read_bytes()
    expected = _verdict(_alone(data))
    results = []

    def check():
        results.append(_verdict(validate_bytes(data)))

    threads = [threading.Thread(target=check) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 3


def test_a_hung_helper_is_given_up_and_its_part_checked_here(reference, monkeypatch):
    data = LARGEST.read_bytes()
    expected = _verdict(_alone(data))
    h = _started()
    monkeypatch.setattr(helper, "PATIENCE", 0.5)
    os.kill(h._process.pid, signal.SIGSTOP)  # it will neither read the message nor answer
    try:
        assert _verdict(validate_bytes(data)) == expected
        assert h.failed
        assert helper.available(len(data)) is None  # not asked again
        assert _verdict(validate_bytes(data)) == expected
    finally:
        if h._process.is_alive():
            os.kill(h._process.pid, signal.SIGCONT)
        helper.disable()


def test_a_dead_helper_costs_no_finding(reference):
    data = LARGEST.read_bytes()
    expected = _verdict(_alone(data))
    h = _started()
    h._process.kill()
    h._process.join(5)
    try:
        assert _verdict(validate_bytes(data)) == expected
        assert h.failed
    finally:
        helper.disable()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_bad_input_corpus_gets_the_same_verdicts_with_the_helper(running_helper, case):
    """Hostile and broken messages as well: the helper is asked only what it can answer, and
    answers each large DOB among them."""
    data = case.make()
    before = running_helper.answered
    alone = _alone(data)
    assert _verdict(validate_bytes(data)) == _verdict(alone)
    large_dob = helper.SPLIT_FROM <= len(data) <= MAX_BYTES and alone.interaction is not None
    assert running_helper.answered == before + large_dob and not running_helper.failed
