"""Preparing a transfer: the caller's dossier is never changed; the version the receiver gets."""

from __future__ import annotations

import datetime as dt

import pytest

from jgz_gateway.standards.hl7v3 import read_message
from jgz_gateway.transfer import sender
from jgz_gateway.transfer.directory import OrgEntry

from .conftest import KWAL_ONTVANGEN

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)


def _receiver(*versions: str) -> OrgEntry:
    return OrgEntry("12345678", "GGD B", "5678", "https://127.0.0.1:1/dob", versions)


def test_close_and_address_leave_the_callers_dossier_as_it_was():
    original = read_message(KWAL_ONTVANGEN.read_bytes())
    before = original.model_dump_json()
    closed = sender.close(original, NOW)
    addressed = sender.address(closed, message_id=("2.16.528.1.1007.3.3.1111.1", "m-1"), now=NOW, sender_app="1111",
                               receiver_app="5678", ura="00001111", org_name="GGD A", uzi_system_id="900001111")
    assert original.model_dump_json() == before
    assert closed.status_code.code == "completed" and addressed.status_code.code == "completed"
    ending = [c for c in addressed.care_statuses if c.element == 487]
    assert ending and all(c.reason_code.code == "01" for c in ending)
    assert addressed.transmission.id.extension == "m-1" and original.transmission.id.extension != "m-1"
    assert addressed.transmission.receiver_application == "5678"
    assert addressed.transmission.author_organization_ids == [("2.16.528.1.1007.3.3", "00001111")]
    assert original.transmission.receiver_application != "5678"


@pytest.mark.parametrize("have, supported, chosen", [
    ("4.2.0", ("4.2.0", "4.1.3"), "4.2.0"),     # its own version: no conversion
    ("4.1.3", ("4.2.0",), "4.2.0"),
    ("4.2.0", ("4.1.3", "3.2.7"), "4.1.3"),     # the nearest
    ("4.0.2", ("4.2.0", "3.2.7"), "3.2.7"),     # 4.0 is one step from 3.2.7, two from 4.2.0
    ("4.1.3", ("4.2.0", "4.0"), "4.2.0"),       # a tie goes to the newer
])
def test_target_version(have, supported, chosen):
    d = read_message(KWAL_ONTVANGEN.read_bytes())
    d.bds_version = have
    assert sender.target_version(d, _receiver(*supported)) == chosen


def test_unknown_version_is_refused():
    d = read_message(KWAL_ONTVANGEN.read_bytes())
    d.bds_version = "9.9"
    with pytest.raises(sender.TransferRefused, match="9.9"):
        sender.target_version(d, _receiver("4.2.0"))
