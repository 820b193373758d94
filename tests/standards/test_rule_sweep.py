"""Every published template rule fires where a real message breaks it: an independent oracle.

``tools/rule_sweep.py`` translates the rules' context notation to XPath on its own (not with
the engine's path compiler), breaks one rule at a time in a reference message and checks
that the validator reports that row, with its severity, as a new finding. Here a sample of
every 15th row of all kinds runs; the whole sweep (about 100 s) is the tool itself.
"""

from __future__ import annotations

import json

import pytest

from ..conftest import REFERENCE, load_tool

pytestmark = pytest.mark.skipif(not REFERENCE.exists(), reason="reference artefacts not found")


@pytest.fixture(scope="module")
def sweep():
    return load_tool("rule_sweep")


@pytest.fixture(scope="module")
def sampled(sweep, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "sweep.json"
    code = sweep.main(["--every", "15", "--json", str(out)])
    return code, json.loads(out.read_text())


def test_every_sampled_rule_fires_on_its_violation(sampled):
    code, results = sampled
    not_fired = [(r["row"], r["base"], r["xpath"], r["mutation"]) for r in results if r["status"] == "NOT-FIRED"]
    assert not not_fired
    assert code == 0
    passed = {r["row"] for r in results if r["status"] == "PASS"}
    kinds = {r["kind"] for r in results if r["status"] == "PASS"}
    assert len(passed) >= 300 and {"cardinality", "fixed-value"} <= kinds  # the sample really tested rules


def test_the_sweep_sees_a_rule_that_does_not_fire(sweep, sampled, monkeypatch):
    """With one row's findings withheld from the validator, the sweep reports that row."""
    _, results = sampled
    row = next(r["row"] for r in results if r["status"] == "PASS" and r["kind"] == "cardinality")
    real = sweep.templates.check_templates

    def without_row(root, interaction):
        return [f for f in real(root, interaction) if not f.message.startswith(row + " ")]

    monkeypatch.setattr(sweep.templates, "check_templates", without_row)
    assert sweep.main(["--rows", row]) == 1


def test_the_pregnancy_and_newborn_rules_fire_on_a_message_that_has_them(sweep, tmp_path):
    """No reference message holds a pregnancyCondition or neonateData (templates 121, 118 and
    10264): the gateway's own message with every R014-R016 element gives the sweep a base."""
    import copy
    import datetime as dt

    from jgz_gateway.adapters.record import Group
    from jgz_gateway.adapters.synth import generate
    from jgz_gateway.adapters.to_dossier import Envelope, build
    from jgz_gateway.standards import perinatal
    from jgz_gateway.standards.hl7v3 import write_message

    from ..adapters.test_perinatal_facts import EVERY

    (record,) = generate(1, 11, dt.date(2025, 6, 1), start=3)
    record.facts.values = {n: v for n, v in record.facts.values.items() if n not in perinatal.KNOWN} | copy.deepcopy(EVERY)
    record.facts.groups = [g for g in record.facts.groups if g.groep != "G109"]
    record.facts.groups.append(Group(groep="G109", values={1479: dt.date(2024, 1, 2), 1480: dt.date(2024, 1, 20)}))
    dossier, _ = build(record, "4.1.3", Envelope(created=dt.datetime(2025, 6, 1, 12)))
    base, out = tmp_path / "perinatal.xml", tmp_path / "sweep.json"
    base.write_bytes(write_message(dossier))
    args = ["--template", "118", "--template", "121", "--template", "10264", "--json", str(out)]
    assert sweep.main(args + ["--base", str(base)]) == 0
    results = json.loads(out.read_text())
    assert not [r for r in results if r["status"] == "NOT-FIRED"]
    passed = [r for r in results if r["status"] == "PASS"]
    assert len(passed) >= 300 and {r["base"] for r in passed} == {base.name}
