"""``every_element``: a vendor table keyed by BDS element number holds every observation no
other table maps, groep occurrences named in a column (mappings/README.md). Checked against
the catalogue and on Nictiz's reference messages."""

from __future__ import annotations

import pytest

from jgz_gateway.adapters import declarative
from jgz_gateway.adapters import elements as E
from jgz_gateway.adapters.errors import MappingError, SourceError
from jgz_gateway.adapters.from_dossier import extract
from jgz_gateway.adapters.mapping import load
from jgz_gateway.adapters.record import Facts
from jgz_gateway.standards.hl7v3 import read_message

from ..conftest import reference_messages
from .test_dossier_facts import ENVELOPE

# R047's G058 has no intervention (483), which a message built from BDS facts needs: it cannot
# come back from any vendor format (see test_migrate.py)
MESSAGES = [p for p in reference_messages() if p.parent.name in ("nl03-jgz7.0", "nl04-jgz8.0")
            and "rubriek_R047" not in p.name]


def trimmed(facts: Facts) -> None:
    """Text values without surrounding white space, as vendor formats read them (R020: 759 ' GB')."""
    for n, value in facts.values.items():
        if type(value) is str:
            facts.values[n] = value.strip()
    for g in facts.groups:
        trimmed(g)


@pytest.mark.parametrize("name", ["csv-export", "json-export"])
def test_the_generic_table_holds_what_no_other_table_maps(name):
    mapping = declarative.mapping_for(name, {})
    cat = E.catalogue(mapping.bds)
    generic = mapping.tables["observations"]
    others = {f.element for t in mapping.tables.values() if t is not generic for f in t.all_fields()}
    kinds = {int(k) for k in generic.kinds}
    assert kinds and not kinds & others
    assert all(fs[0].element == int(k) and fs[0].values is None for k, fs in generic.kinds.items())
    mapped_groeps = {generic_top(cat, n) for n in others} - {None}
    for n in kinds:  # observations of an activity (or carried on one), in no groep another table maps
        e = cat.element(n)
        assert (E.observation(e) or n in E.carried(cat)) and "activity" in E.levels(n, cat)
        assert n not in E.VACCINATION | E.CONCLUSION | E.ACTIVITY and generic_top(cat, n) not in mapped_groeps
    assert {514, 754, 154} <= kinds  # R019 Terugkerende anamnese: no screen of its own in either format
    assert {80, 81} <= kinds  # G019 Erfelijke factor(en) in de familie, 81 carried on 80
    assert 235 not in kinds and 461 not in kinds  # measurements; a vaccination


def generic_top(cat, n: int) -> str | None:
    e = cat.element(n)
    g = cat.groep(e.groep) if e and e.groep else None
    while g is not None and g.parent:
        g = cat.groep(g.parent)
    return g.code if g else None


@pytest.mark.parametrize("path", MESSAGES, ids=lambda p: p.name)
@pytest.mark.parametrize("name", ["csv-export", "json-export"])
def test_a_reference_message_loses_only_what_the_mapping_cannot_hold(path, name):
    """Through the vendor format and back, an element the mapping holds comes back value for
    value; what is lost is an element it cannot hold (one the BDS 4.2.0 catalogue cannot place)."""
    mapping = declarative.mapping_for(name, {})
    dossier = read_message(path.read_bytes())
    record, unread = extract(dossier, "k")
    for facts in (record.facts, *record.activities):
        trimmed(facts)
    bundle, dropped = declarative.to_bundle(mapping, "k", dossier)
    back = declarative.to_dossier(mapping, "k", bundle, "test", {"envelope": ENVELOPE}).dossier
    again, _ = extract(back, "k")
    lost = record.lost_in(again)
    assert not set(lost) & mapping.elements(), path.name
    # reported: what does not come back, and what the facts could not read in the first place
    assert {int(k.split()[1]) for k in dropped if k.startswith("element ")} == set(lost) | set(unread)
    assert not again.lost_in(record)


def test_every_element_needs_a_keyed_detail_table(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[format]\nname = "x"\nkind = "csv"\nbds = "4.2.0"\n\n[tables.c]\nrole = "client"\n'
                   'file = "c.csv"\nkey = "id"\nevery_element = true\n\n[tables.c.fields]\nid = 695\n', encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load(bad)
    assert caught.value.line == 10 and "every_element needs a dossier or detail table" in str(caught.value)


@pytest.mark.parametrize("occurrence, why", [("x", "'x' does not name an occurrence of G019"), ("", "None does not"),
                                             ("1.2", "'1.2' does not name an occurrence of G019 (expected N)")])
def test_a_row_that_names_no_occurrence_is_an_error_naming_the_field(occurrence, why):
    path = next(p for p in MESSAGES if p.name == "DOB-4.0.0-R012-CR_test_JGZ-518_hl7.xml")
    mapping = declarative.mapping_for("json-export", {})
    bundle, _ = declarative.to_bundle(mapping, "k", read_message(path.read_bytes()))
    row = next(r for r in bundle["observations"] if r.data["element"] == "80")
    row.data["occurrence"] = occurrence or None
    with pytest.raises(SourceError) as caught:
        declarative.to_dossier(mapping, "k", bundle, "test", {"envelope": ENVELOPE})
    assert caught.value.field == "occurrence" and why in str(caught.value)


@pytest.mark.parametrize("name", ["csv-export", "json-export"])
def test_the_shipped_formats_hold_every_element_the_gateway_can_carry(name):
    """Before, days, weeks and months (149, 929, 988) were no vendor unit, so no field could
    hold them."""
    from jgz_gateway.adapters import registry

    assert not registry.get(name).coverage().drops
