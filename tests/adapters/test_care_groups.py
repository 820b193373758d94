"""R035 G041 (care received elsewhere) and R048 G081 (the care plan): BDS facts → DOB → facts and
ADA, as the dossier's patientCareProvision and carePlan (templates 119, 120)."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from jgz_gateway.adapters.from_dossier import extract
from jgz_gateway.adapters.record import Group
from jgz_gateway.adapters.synth import generate
from jgz_gateway.adapters.to_dossier import build
from jgz_gateway.standards import careplans
from jgz_gateway.standards.items import node
from jgz_gateway.standards.ada import read_ada_message, write_ada
from jgz_gateway.standards.hl7v3 import read_message, write_message
from jgz_gateway.standards.hl7v3.codec import read_node
from jgz_gateway.standards.summary import summarise
from jgz_gateway.standards.validation import validate_bytes

from ..conftest import load_tool
from .conftest import TODAY
from .test_dossier_facts import ENVELOPE, same_facts

H = "{urn:hl7-org:v3}"
GROUPS = [
    Group(groep="G041", values={361: "05", 362: "01", 363: "wekelijks", 1201: "2", 365: "gedrag", 829: "rust thuis"},
          groups=[Group(groep="G103", values={1467: dt.date(2024, 3, 1)})]),
    Group(groep="G041", values={361: "98", 362: "03", 1201: "1"},  # 98 Anders: a null flavour (OTH)
          groups=[Group(groep="G103", values={1467: dt.date(2023, 3, 1), 1468: dt.date(2023, 9, 1)})]),
    Group(groep="G081", values={1151: "slaapt slecht", 1152: "onrust", 1153: "huilt veel", 1154: "doorslapen",
                                1155: "slaapadvies", 1156: "gaat beter"},
          groups=[Group(groep="G110", values={1481: dt.date(2024, 1, 1), 1482: dt.date(2024, 6, 1)})]),
]


@pytest.fixture
def record():
    (r,) = generate(1, 11, TODAY, start=3)
    r.facts.groups = [g for g in r.facts.groups if g.groep not in careplans.ELEMENTS] + [g for g in GROUPS]
    return r


@pytest.mark.parametrize("version", ["4.1.3", "4.2.0"])
def test_care_and_care_plan_pass_the_published_rules_and_read_back(record, version):
    dossier, dropped = build(record, version, ENVELOPE)
    assert not dropped
    message = write_message(dossier)
    report = validate_bytes(message)
    assert report.valid, [(f.rule, f.message) for f in report.errors][:5]
    event = etree.fromstring(message).find(f".//{H}careProvisionEvent")
    assert len(event.findall(f"{H}component3/{H}patientCareProvision")) == 2 and event.find(f"{H}component4/{H}carePlan") is not None
    again, unread = extract(read_message(message), record.key)
    assert not unread and same_facts(again, record)
    assert {"R035", "R048"} <= set(summarise(read_message(message))["rubrieken"])


def test_what_the_templates_cannot_hold_is_counted_as_dropped(record):
    record.facts.groups += [Group(groep="G041", values={361: "05", 362: "01"}),  # no period: effectiveTime is [non-null]
                            Group(groep="G081", values={1151: "x"})]  # no period: the schema wants an effectiveTime
    dossier, dropped = build(record, "4.2.0", ENVELOPE)
    assert dropped == {361: 1, 362: 1, 1151: 1}
    assert validate_bytes(write_message(dossier)).valid


def test_ada_carries_them_both_ways(record):
    dossier, _ = build(record, "4.1.3", ENVELOPE)
    message = write_message(dossier)
    instance = etree.fromstring(write_ada(read_message(message)))
    assert len(instance.findall(".//r035_ontvangen_zorg/groep_g041_ontvangen_zorg")) == 2
    assert instance.find(".//r048_zorgplan/groep_g081_zorgplan/groep_g110_periode_duur_zorg_op_maat/einddatum_duur_zorg_op_maat").get("value") == "2024-06-01"
    back = read_ada_message(etree.tostring(instance), reference_date=dt.date(2025, 6, 1))
    assert not [s for s in back.skipped if s[2] in {str(n) for e in careplans.ELEMENTS.values() for n in e}]

    def held(root):
        event = root.find(f".//{H}careProvisionEvent")
        out = []
        for n in (read_node(c) for c in event):
            if careplans.holds(n):
                groep, found, _ = careplans.items(n)
                out.append((groep, [(number, v.attrs.get("code") or v.attrs.get("value") or v.attrs.get("nullFlavor") or v.text)
                                    for number, v in found]))
        return sorted(out)

    assert held(back.root) == held(etree.fromstring(message))


def test_the_rules_of_their_templates_fire_on_a_message_that_has_them(record, tmp_path):
    """No reference message holds these structures: the gateway's own message is the sweep's base."""
    sweep = load_tool("rule_sweep")
    dossier, _ = build(record, "4.1.3", ENVELOPE)
    base = tmp_path / "care.xml"
    base.write_bytes(write_message(dossier))
    args = ["--base", str(base), "--json", str(tmp_path / "sweep.json")]
    assert sweep.main(args + [a for t in ("119", "120", "10258", "10265") for a in ("--template", t)]) == 0
    import json

    results = json.loads((tmp_path / "sweep.json").read_text())
    assert not [r for r in results if r["status"] == "NOT-FIRED"]
    assert len([r for r in results if r["status"] == "PASS"]) >= 100


def test_a_period_bound_that_is_no_date_is_counted_not_left_out_silently():
    """The care plan is written with the bound it has; the other is counted, as G109's is."""
    found = [(1151, node("value", {"xsi:type": "ST"}, text="slaapproblemen")),
             (1481, node("value", {"xsi:type": "TS", "value": "20240105"})),
             (1482, node("value", {"xsi:type": "TS", "value": "later"}))]
    built, dropped = careplans.assemble("G081", found)
    assert built is not None and built.find("carePlan/effectiveTime/low").attrs == {"value": "20240105"}
    assert built.find("carePlan/effectiveTime/high") is None
    assert dropped == {1482: 1}
