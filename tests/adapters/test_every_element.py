"""``every_element``: a vendor table keyed by BDS element number holds every plain observation
no other table maps (mappings/README.md). Checked against the catalogue and on Nictiz's
reference messages."""

from __future__ import annotations

import pytest

from jgz_gateway.adapters import declarative
from jgz_gateway.adapters import elements as E
from jgz_gateway.adapters.errors import MappingError
from jgz_gateway.adapters.from_dossier import extract
from jgz_gateway.adapters.mapping import load
from jgz_gateway.standards.hl7v3 import read_message

from ..conftest import reference_messages
from .test_dossier_facts import ENVELOPE

NL04 = [p for p in reference_messages() if p.parent.name == "nl04-jgz8.0"]


@pytest.mark.parametrize("name", ["csv-export", "json-export"])
def test_the_generic_table_holds_what_no_other_table_maps(name):
    mapping = declarative.mapping_for(name, {})
    cat = E.catalogue(mapping.bds)
    generic = mapping.tables["observations"]
    others = {f.element for t in mapping.tables.values() if t is not generic for f in t.all_fields()}
    kinds = {int(k) for k in generic.kinds}
    assert kinds and not kinds & others
    assert all(fs[0].element == int(k) and fs[0].values is None for k, fs in generic.kinds.items())
    for n in kinds:  # plain observations of an activity, in no groep
        e = cat.element(n)
        assert E.observation(e) and e.groep is None and "activity" in E.levels(n, cat)
        assert n not in E.VACCINATION | E.CONCLUSION | E.ACTIVITY and n not in E.carried(cat)
    assert {514, 754, 154} <= kinds  # R019 Terugkerende anamnese: no screen of its own in either format
    assert 235 not in kinds and 80 not in kinds and 461 not in kinds  # measurements; in G019; a vaccination


@pytest.mark.parametrize("path", NL04, ids=lambda p: p.name)
@pytest.mark.parametrize("name", ["csv-export", "json-export"])
def test_a_reference_message_loses_only_what_the_mapping_cannot_hold(path, name):
    """Through the vendor format and back, an element the mapping holds comes back value for
    value; what is lost is an element it cannot hold (in a groep it has no table for, or one
    the BDS 4.2.0 catalogue cannot place)."""
    mapping = declarative.mapping_for(name, {})
    dossier = read_message(path.read_bytes())
    record, unread = extract(dossier, "k")
    bundle, dropped = declarative.to_bundle(mapping, "k", dossier)
    back = declarative.to_dossier(mapping, "k", bundle, "test", {"envelope": ENVELOPE}).dossier
    again, _ = extract(back, "k")
    lost = record.lost_in(again)
    assert not set(lost) & mapping.elements(), path.name
    assert {int(k.split()[1]) for k in dropped if k.startswith("element ")} == set(lost)  # and reported
    assert not again.lost_in(record)


def test_every_element_needs_a_keyed_detail_table(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[format]\nname = "x"\nkind = "csv"\nbds = "4.2.0"\n\n[tables.c]\nrole = "client"\n'
                   'file = "c.csv"\nkey = "id"\nevery_element = true\n\n[tables.c.fields]\nid = 695\n', encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load(bad)
    assert caught.value.line == 10 and "every_element needs a dossier or detail table" in str(caught.value)
