"""Every DTr1 datatype rule fires where a real message breaks it: an independent oracle.

``tools/datatype_sweep.py`` reads the rules, labels, severities and inheritance from
``datatype-rules.md``, finds the elements that the CSV's datatype rows declare of each family
(with ``tools/rule_sweep.py``'s own context translation, not the engine's), breaks one rule at
a time in a reference message and checks that the validator reports it, with the md's
severity, as a new finding at that element. The whole sweep takes a few seconds, so it runs
in full here.
"""

from __future__ import annotations

import json

import pytest

from ..conftest import REFERENCE, load_tool

pytestmark = pytest.mark.skipif(not REFERENCE.exists(), reason="reference artefacts not found")


@pytest.fixture(scope="module")
def sweep():
    return load_tool("datatype_sweep")


@pytest.fixture(scope="module")
def swept(sweep, tmp_path_factory):
    out = tmp_path_factory.mktemp("dtsweep") / "sweep.json"
    code = sweep.main(["--json", str(out)])
    return code, json.loads(out.read_text())


def test_every_datatype_rule_fires_on_its_violation(sweep, swept):
    code, results = swept
    not_fired = [(r["rule"], r["family"], r["variant"], r["base"], r["xpath"], r["mutation"])
                 for r in results if r["status"] == "NOT-FIRED"]
    assert not not_fired
    assert code == 0
    _, rules = sweep.parse_md()
    assert len(rules) == 164
    passed = {(r["rule_family"], r["rule"]) for r in results if r["status"] == "PASS"}
    families = {r["family"] for r in results if r["status"] == "PASS"}
    assert len(passed) >= 150  # the sweep really tested rules ...
    assert {"II", "II.NL.BSN", "CV", "CS", "ST", "PN.NL", "AD", "TEL", "PQ", "TS", "IVL_TS", "SXPR_TS"} <= families
    assert len(families) >= 20  # ... across many families
    assert {r["variant"] for r in results if r["status"] == "PASS"} - {"basic"}  # and edge cases


def test_only_unreachable_rules_are_skipped(swept):
    """The rules that never got tested are the II.NL root rules: every II.NL context pins the root."""
    _, results = swept
    by_rule: dict = {}
    for r in results:
        by_rule.setdefault((r["rule_family"], r["rule"]), []).append(r)
    untested = {key for key, rs in by_rule.items() if all(r["status"] == "SKIPPED" for r in rs)}
    assert {rule for _, rule in untested} == {f"dtr1-1-II.NL.{f}" for f in ("AGB", "BIG", "BSN", "URA", "UZI")}
    assert all("out of the family's context" in r["reason"] for key in untested for r in by_rule[key])


def test_the_sweep_sees_a_rule_that_does_not_fire(sweep, swept, monkeypatch, tmp_path):
    """With one DTr1 rule's findings withheld from the validator, the sweep reports that rule."""
    _, results = swept
    rule = next(r["label"] for r in results if r["status"] == "PASS" and r["family"] == "II.NL.BSN")
    real = sweep.templates.check_templates

    def without_rule(root, interaction):
        return [f for f in real(root, interaction) if f.rule != rule]

    monkeypatch.setattr(sweep.templates, "check_templates", without_rule)
    out = tmp_path / "one.json"
    assert sweep.main(["--rules", rule, "--json", str(out)]) == 1
    assert {r["rule"] for r in json.loads(out.read_text()) if r["status"] == "NOT-FIRED"} == {rule}
