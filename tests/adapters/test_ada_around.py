"""The people and organisations around the child through Nictiz's ADA dataset (R006 huisarts,
R007 other care providers, R008 childcare and school, R011 the family, R003's contact person,
custody and literacy).

Before, DOB → ADA left them out without a word and ADA → DOB reported R006-R011 as skipped.
Now both directions carry them, by BDS element number between the ADA concept and the place
the templates give it; every check goes through the BDS facts, so what comes back is
compared value for value with what went in.
"""

from __future__ import annotations

import datetime as dt

from jgz_gateway.adapters.from_dossier import extract
from jgz_gateway.adapters.to_dossier import build
from jgz_gateway.standards.ada import Envelope, read_ada_message, write_ada_report
from jgz_gateway.standards.hl7v3 import read_message, write_message
from jgz_gateway.standards.validation import validate_bytes

from .test_dossier_facts import ENVELOPE
from .test_family import family_record, with_family
from .test_involved import full_record, with_around

ADA_ENVELOPE = Envelope(message_id=("2.16.528.1.1007.3.3.1111.1", "1"), sender_application="900000001",
                        receiver_application="900000002", device_uzi="091287345", organisation_ura="00001111",
                        organisation_name="GGD")


def everything():
    """Care providers, childcare, school, contact persons, the whole family, custody, literacy."""
    record = full_record()
    family = family_record()
    record.facts.groups += [g for g in family.facts.groups if g.groep in ("G014", "G018", "G078", "G077")]
    record.facts.values.update({631: "01", 707: "2", 492: "Samenvatting 0-4",  # and R050's summary and 469
                                469: True, 1383: dt.date(2020, 3, 1), 1385: "123456789", 1504: "12345678901", 1505: "dr. Arts"})
    return record


def through_ada(message: bytes) -> tuple[bytes, list, list]:
    """DOB → ADA → DOB: the rebuilt message, what DOB → ADA skipped and what ADA → DOB skipped."""
    ada, skipped = write_ada_report(read_message(message))
    reading = read_ada_message(ada, reference_date=dt.date(2025, 6, 1), envelope=ADA_ENVELOPE)
    from lxml import etree

    return etree.tostring(reading.root), skipped, reading.skipped


def test_every_element_around_the_child_survives_the_ada_dataset():
    record = everything()
    dossier, dropped = build(record, "4.1.3", ENVELOPE)
    assert not dropped
    again, skipped_out, skipped_in = through_ada(write_message(dossier))
    assert not skipped_out and not skipped_in
    report = validate_bytes(again)
    assert report.valid, [(f.rule, f.message) for f in report.errors]
    back, unread = extract(read_message(again), "D1")
    assert not unread and not record.lost_in(back) and not back.lost_in(record)


def test_the_hand_written_structures_survive_the_ada_dataset(reference):
    """Written by hand from the templates (see test_involved and test_family): through ADA and
    back, each of their values is where it was (the BDS 4.2.0 message goes through BDS 4.0,
    whose conversion report holds what else it drops)."""
    for data in (with_around(reference), with_family(reference)):
        before, _ = extract(read_message(data), "K")
        again, skipped_out, skipped_in = through_ada(data)
        assert not [s for s in skipped_out if "/hl7:patientPerson/" in s[0]]
        # R008's 714 is required in ADA: a message without it gets it as unknown (as the instances
        # write required elements), which has no place in the DOB: reported, as other such placeholders
        around = [s for s in skipped_in if any(r in s[0] for r in ("/r006_", "/r007_", "/r008_", "/r011_", "/groep_g004"))]
        assert all(s[2] == "714" for s in around), around
        after, _ = extract(read_message(again), "K")
        ours = {n for g in before.facts.groups
                if g.groep in ("G086", "G082", "G006", "G008", "G004", "G014", "G018", "G077")
                for n, _ in g.items()} | {631}
        assert ours and not set(before.lost_in(after)) & ours and not set(after.lost_in(before)) & ours


def test_the_responsible_jgz_organisation_survives_the_ada_dataset():
    from jgz_gateway.adapters.record import Group

    record = everything()
    record.facts.groups.append(Group(groep="G091", values={1441: "90000022", 1507: "JGZ Oost"},
                                     groups=[Group(groep="G099", values={1459: dt.date(2020, 1, 2)})]))
    dossier, _ = build(record, "4.1.3", ENVELOPE)
    again, skipped_out, skipped_in = through_ada(write_message(dossier))
    assert not skipped_out and not skipped_in and validate_bytes(again).valid
    back, _ = extract(read_message(again), "D1")
    assert not record.lost_in(back) and not back.lost_in(record)
