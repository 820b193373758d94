"""Synthetic dossiers: deterministic, plausible, and holding what the issue asks for."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from jgz_gateway.adapters.record import Other
from jgz_gateway.adapters.synth import BSN_TEST_PREFIX, bsn, generate, is_valid_bsn
from jgz_gateway.standards.catalogue import get_catalogue

from .conftest import TODAY

N = 300


@pytest.fixture(scope="module")
def records():
    return list(generate(N, 3, TODAY))


def test_deterministic_for_seed_and_date():
    a = [repr(r) for r in generate(20, 9, TODAY)]
    assert a == [repr(r) for r in generate(20, 9, TODAY)]
    assert a != [repr(r) for r in generate(20, 10, TODAY)]
    assert a != [repr(r) for r in generate(20, 9, TODAY + dt.timedelta(days=1))]
    # any slice can be made on its own
    assert a[5:8] == [repr(r) for r in generate(3, 9, TODAY, start=5)]


def test_bsns_pass_the_11_proef_from_the_test_range(records):
    numbers = [r.facts.values[7] for r in records]
    numbers += [g.values[655] for r in records for g in r.facts.groups_of("G014") if 655 in g.values]
    assert all(is_valid_bsn(n) and n.startswith(BSN_TEST_PREFIX) for n in numbers)
    children = [r.facts.values[7] for r in records]
    assert len(set(children)) == len(children)
    assert not is_valid_bsn("999000008") and is_valid_bsn(bsn(0))


def test_ages_and_dates(records):
    ages = [(TODAY - r.facts.values[20]).days / 365.25 for r in records]
    assert 0 <= min(ages) < 1 and 17 < max(ages) < 19
    for r in records:
        born = r.facts.values[20]
        assert all(born <= a.values[724] <= TODAY for a in r.activities)


def test_growth_follows_plausible_curves(records):
    for r in records:
        lengths = [(a.values[724], a.values[235]) for a in r.activities if 235 in a.values]
        for (d0, l0), (d1, l1) in zip(lengths, lengths[1:]):
            assert l1 >= l0 - 15, (r.key, d0, l0, d1, l1)  # children grow (measurement noise allowed)
        for a in r.activities:
            days = (a.values[724] - r.facts.values[20]).days
            if 235 in a.values:
                assert 400 <= a.values[235] <= 2100
            if 245 in a.values:
                assert 1800 <= a.values[245] <= 130000
            if 252 in a.values:
                assert days <= 740 and 300 <= a.values[252] <= 550


def test_national_schedule_refusals_and_reactions(records):
    given = Counter()
    refused = reactions = 0
    for r in records:
        for a in r.activities:
            for g in a.groups_of("G076"):
                if 683 in g.values:
                    refused += 1
                else:
                    given[g.values[461]] += 1
                reactions += 874 in g.values
    assert {"11", "08", "04", "28", "01", "02", "09"} <= set(given)  # DKTP-Hib-HepB, Pneu, BMR, MenACWY, ...
    others = [v for v in given if isinstance(v, Other)]  # vaccines outside W0422, with their names
    assert others and all(v == "OTH" and v.text for v in others)
    assert refused and reactions


def test_contact_moments_are_active_w0188_codes(records):
    vs = get_catalogue("4.2.0").valueset("W0188")
    active = {c.bds.code for c in vs.concepts if c.bds and not c.bds.deprecated}
    seen = {a.values[494] for r in records for a in r.activities}
    assert seen <= active and {"35", "37", "38", "39", "40", "41", "22"} <= seen


def test_screenings_consents_parents_notes_and_organisations(records):
    activity_elements = Counter(n for r in records for a in r.activities for n in a.values)
    assert activity_elements[1531] and activity_elements[879]  # Van Wiechen column and items
    assert activity_elements[438] and activity_elements[439]  # neonatal hearing screening
    assert activity_elements[1418] and activity_elements[408]  # vision
    groeps = Counter(g.groep for r in records for g in r.facts.groups)
    assert groeps["G011"] == N and groeps["G010"] and groeps["G071"] and groeps["G089"]
    assert any(g.values[1163] is False for r in records for g in r.facts.groups_of("G011"))  # some say no
    assert groeps["G014"] > N  # most children have two parents
    assert groeps["G083"] and any(a.groups_of("G083") for r in records for a in r.activities)
    assert any(len(r.facts.groups_of("G085")) > 1 for r in records)  # organisations over time
