"""Elements given more than once at one level (0..* outside any groep: 163 skin findings,
1424 indications, 731 escorts, 698 e-mail addresses) keep every value through the facts
path: read from a DOB, built back, and carried by the vendor formats (a row per value where
a table has rows per element, all values in a field with ``many = true``, else the first
value and the rest counted as dropped)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from lxml import etree

from jgz_gateway.adapters import declarative
from jgz_gateway.adapters import elements as E
from jgz_gateway.adapters.errors import SourceError
from jgz_gateway.adapters.from_dossier import extract
from jgz_gateway.adapters.mapping import shipped
from jgz_gateway.adapters.record import Other, Repeated, each
from jgz_gateway.adapters.rows import Row, get
from jgz_gateway.adapters.to_dossier import build
from jgz_gateway.standards.convert import convert
from jgz_gateway.standards.hl7v3 import read_message, write_message
from jgz_gateway.standards.validation import validate_bytes

from ..conftest import ref_id, reference_messages
from .test_dossier_facts import ENVELOPE, small_record

H = "{urn:hl7-org:v3}"
OID_ELEMENT = "2.16.840.1.113883.2.4.4.40.267"


def valued_observations(data: bytes) -> Counter[int]:
    """Per BDS element, the element observations of a message whose value says something: a
    value, a code, a text, or a null flavour with its original text."""
    found: Counter[int] = Counter()
    for code in etree.fromstring(data).iter(H + "code"):
        obs = code.getparent()
        if obs.tag not in (H + "observation", H + "annotationObsEvent"):
            continue
        if code.get("codeSystem") == OID_ELEMENT and (code.get("code") or "").isdigit():
            number = int(code.get("code"))
        else:  # an element the templates code outside the BDS (R039 blood pressure: SNOMED)
            number = E.foreign_element(code.get("code"), code.get("codeSystem"))
        if number is None:
            continue
        value = obs.find(H + "value")
        if value is None:
            continue
        text = (value.text or "").strip() or (value.findtext(H + "originalText") or "").strip()
        if value.get("value") is not None or value.get("code") is not None or text:
            found[number] += 1
    return found


@pytest.mark.parametrize("path", reference_messages(), ids=ref_id)
def test_every_valued_element_of_a_nictiz_message_is_read_or_counted(path):
    """Nothing a message says is lost silently on the way into the facts: each valued element
    observation is a value of the record, or counted unread (and so reported as dropped)."""
    data = path.read_bytes()
    dossier = read_message(data)
    record, unread = extract(dossier, "T")
    held = Counter(n for n, _ in record.items())
    if dossier.bds_version.startswith("3."):  # what the version conversion moves into non-BDS items
        held += Counter(int(c.element) for c in convert(dossier, "4.1.3")[1].moved if (c.element or "").isdigit())
    missing = {n: c - held[n] - unread[n] for n, c in valued_observations(data).items() if c > held[n] + unread[n]}
    assert not missing


def test_repeated_values_are_built_and_read_back():
    record = small_record()
    activity = record.activities[0]
    activity.values.update({163: Repeated(["20", "19", "03"]), 1424: Repeated(["01", "02"]),
                            731: Repeated(["01", "02"]), 1423: "02"})
    record.facts.values[698] = Repeated(["ouder@example.org", "kind@example.org"])
    dossier, dropped = build(record, "4.2.0", ENVELOPE)
    assert not dropped
    message = write_message(dossier)
    report = validate_bytes(message)
    assert report.valid, [(f.rule, f.xpath, f.message) for f in report.errors]
    root = etree.fromstring(message)
    assert len(root.findall(f".//{H}encounter/{H}escort")) == 2
    assert len(root.findall(f".//{H}encounter/{H}reasonCode")) == 2
    again, unread = extract(read_message(message), "T")
    assert not unread and not record.lost_in(again) and not again.lost_in(record)
    assert again.activities[0].values[163] == ["20", "19", "03"]  # in order


def test_a_table_with_a_row_per_element_gives_each_value_a_row_and_reads_them_back():
    mapping = declarative.mapping_for("csv-export", {})
    record = small_record()
    record.activities[0].values[163] = Repeated(["20", "19"])
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    bundle, dropped = declarative.to_bundle(mapping, "T", dossier)
    assert [r.data["value"] for r in bundle["measurements"] if r.data["code"] == "HUID"] == ["OOIEVAARSBEET", "MONGOLENVLEK"]
    assert not dropped
    back = declarative.to_dossier(mapping, "T", bundle, "test", {"envelope": ENVELOPE}).dossier
    assert extract(back, "T")[0].activities[0].values[163] == Repeated(["20", "19"])


@pytest.mark.parametrize("name, field, other, written", [
    ("csv-export", "escort", "escort_other", "MOEDER|VADER|ANDERS"),
    ("json-export", "accompanied_by", "accompanied_by_other", ["mother", "father", "other"]),
])
def test_a_field_with_many_holds_every_value_and_the_text_of_an_other(name, field, other, written):
    """``many = true``: the escorts (731, 0..*) of one contact in one field, CSV joined by the
    format's separator, JSON as a list; the "other" among them keeps its text."""
    mapping = declarative.mapping_for(name, {})
    record = small_record()
    record.activities[0].values[731] = Repeated(["01", "02", Other("98", "buurvrouw")])
    record.activities[0].values[1424] = Repeated(["08", "09"])
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    bundle, dropped = declarative.to_bundle(mapping, "T", dossier)
    (contact,) = bundle[next(t.name for t in mapping.tables.values() if t.role == "activity")]
    assert (get(contact.data, field, name == "json-export"), get(contact.data, other, name == "json-export")) == (written, "buurvrouw")
    assert not dropped
    back = declarative.to_dossier(mapping, "T", bundle, "test", {"envelope": ENVELOPE}).dossier
    values = extract(back, "T")[0].activities[0].values
    assert repr(values[731]) == repr(Repeated(["01", "02", Other("98", "buurvrouw")]))
    assert values[1424] == Repeated(["08", "09"])


def test_a_plain_column_keeps_the_first_value_and_reports_the_rest(tmp_path):
    plain = tmp_path / "plain.toml"
    plain.write_text(shipped("csv-export").read_text(encoding="utf-8").replace(
        'values = "indication", many = true', 'values = "indication"'), encoding="utf-8")
    mapping = declarative.mapping_for("csv-export", {"mapping": plain})
    record = small_record()
    record.activities[0].values[1424] = Repeated(["08", "09"])
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    bundle, dropped = declarative.to_bundle(mapping, "T", dossier)
    assert [r.data["indication"] for r in bundle["contact_moments"]] == ["LENGTE"]
    assert dropped == {"element 1424": 1}


def test_a_second_other_text_in_one_field_is_reported():
    mapping = declarative.mapping_for("csv-export", {})
    record = small_record()
    record.activities[0].values[731] = Repeated([Other("98", "buurvrouw"), Other("98", "opa")])
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    _, dropped = declarative.to_bundle(mapping, "T", dossier)
    assert dropped == {"text of element 731": 1}


def test_a_second_value_of_an_element_that_cannot_repeat_is_an_error():
    mapping = declarative.mapping_for("csv-export", {})
    record = small_record()
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    bundle, _ = declarative.to_bundle(mapping, "T", dossier)
    (length,) = [r for r in bundle["measurements"] if r.data["code"] == "LENGTE"]
    bundle["measurements"].append(Row(data={**length.data, "measurement_id": "x", "value": "55,0"},
                                      where="measurements.csv line 9", link=length.link))
    with pytest.raises(SourceError, match="element 235 is given twice") as info:
        declarative.to_dossier(mapping, "T", bundle, "test", {"envelope": ENVELOPE})
    assert "measurements.csv line 9" in str(info.value)


def test_each_is_the_values_of_an_entry():
    assert each(Repeated(["a", "b"])) == ["a", "b"] and each("a") == ["a"]
    assert repr(Repeated(["a"])) == "Repeated(['a'])"
    assert dt.date(2020, 1, 1) in each(dt.date(2020, 1, 1))


def test_a_value_holding_the_separator_is_refused_not_split():
    mapping = declarative.mapping_for("csv-export", {})
    record = small_record()
    record.facts.values[698] = Repeated(["a|b@example.org", "c@example.org"])
    dossier, _ = build(record, "4.2.0", ENVELOPE)
    with pytest.raises(SourceError, match="contains the separator '[|]'") as info:
        declarative.to_bundle(mapping, "T", dossier)
    assert info.value.field == "email"


def test_blood_pressure_coded_in_snomed_is_read_and_written_as_nictiz_does(reference):
    """R039 blood pressure (1486 systolic, 1487 diastolic) has no templateId and no BDS element
    code: the templates identify it by its SNOMED code (TC02516). It is read, built back the same
    way (with the display name Nictiz writes), valid, and carried by both vendor formats."""
    data = (reference / "hl7v3/examples/nl03-jgz7.0/DOB-3.0.0-CR_test_JGZ-rubriek_R039_hl7.xml").read_bytes()
    record, _ = extract(read_message(data), "T")
    assert [(n, v) for n, v in record.items() if n in (1486, 1487)] == [(1486, 2), (1487, 1)]
    dossier, dropped = build(record, "4.1.3", ENVELOPE)
    out = write_message(dossier)
    assert not dropped and validate_bytes(out).valid
    def snomed(message: bytes) -> list:
        return [(dict(c.attrib), c.getnext().get("value"), c.getnext().get("unit"))
                for c in etree.fromstring(message).iter(H + "code") if c.get("codeSystem") == "2.16.840.1.113883.6.96"]

    assert snomed(out) == snomed(data)  # code, code system and Nictiz's display name
    assert [(a["code"], v, u) for a, v, u in snomed(out)] == [("271649006", "2", "mm[Hg]"), ("271650006", "1", "mm[Hg]")]
    for name in ("csv-export", "json-export"):
        mapping = declarative.mapping_for(name, {})
        bundle, lost = declarative.to_bundle(mapping, "T", dossier)
        assert not {"element 1486", "element 1487"} & set(lost)
        back = declarative.to_dossier(mapping, "T", bundle, "test", {"envelope": ENVELOPE}).dossier
        assert [(n, v) for n, v in extract(back, "T")[0].items() if n in (1486, 1487)] == [(1486, 2), (1487, 1)]
