"""Every published Nictiz message through each vendor format and FHIR, and back to a DOB.

The rebuilt message breaks no rule that the original kept (the original compared as BDS 4
when it is a BDS 3.2 message), or the dossier is refused with an error that names the source
field. This is what an organisation switching packages relies on: whatever a Nictiz-accepted
dossier holds either arrives valid or is reported, never written broken.
"""

from __future__ import annotations

import datetime as dt

import pytest

from jgz_gateway.adapters import declarative
from jgz_gateway.adapters.errors import SourceError
from jgz_gateway.adapters.fhir import rebuilt
from jgz_gateway.adapters.to_dossier import Envelope
from jgz_gateway.standards.convert import convert_bytes
from jgz_gateway.standards.fhir import from_fhir, to_fhir
from jgz_gateway.standards.hl7v3 import read_message, write_message
from jgz_gateway.standards.validation import validate_bytes

from ..conftest import ref_id, reference_messages

OPTIONS = {"envelope": Envelope(created=dt.datetime(2025, 6, 1, 12), ura="00001111"), "bds": "4.2.0"}
PLACEHOLDER = {"dtr1-2-II.NL.URA"}  # three qualification messages carry the URA placeholder {$orgId}
#: The BDS 3.2.7 test messages attach a file named "Bestandsnaam", without the extension the rules
#: require (TC00720); they escape that rule only because their document code has no codeSystem, which
#: the rebuilt message gives it.
NO_EXTENSION = {"DOB-3.0.0-test-hl7-bds327.xml": {"DatatypeEDTextOrBase64"},
                "DOB-3.0.0-test-hl7-bds327-bds400.xml": {"DatatypeEDTextOrBase64"}}


def errors_of(data: bytes) -> set[str]:
    if read_message(data).interaction == "REPC_IN902120NL":  # BDS 3.2 rules only warn
        data = convert_bytes(data, "4.1.3")[0]
    return {f.rule for f in validate_bytes(data).errors}


def vendor_round_trip(name: str, dossier):
    mapping = declarative.mapping_for(name, OPTIONS)
    bundle, _ = declarative.to_bundle(mapping, "K", dossier)
    return declarative.to_dossier(mapping, "K", bundle, "test", OPTIONS).dossier


def fhir_round_trip(dossier):
    bundle, _ = to_fhir(dossier)
    return rebuilt(from_fhir(bundle), "K", "test", OPTIONS).dossier


ROUTES = {"csv-export": lambda d: vendor_round_trip("csv-export", d),
          "json-export": lambda d: vendor_round_trip("json-export", d),
          "fhir": fhir_round_trip}


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("path", reference_messages(), ids=ref_id)
def test_a_nictiz_message_comes_back_valid_or_is_refused_naming_the_field(path, route):
    data = path.read_bytes()
    try:
        again = ROUTES[route](read_message(data))
    except SourceError as exc:
        assert exc.field and exc.message, str(exc)  # e.g. a 4.2.0 code the vendor's value map lacks
        return
    new = ({f.rule for f in validate_bytes(write_message(again)).errors} - errors_of(data) - PLACEHOLDER
           - NO_EXTENSION.get(path.name, set()))
    assert not new


@pytest.mark.parametrize("route", ["csv-export", "json-export"])
def test_through_the_files_and_back(route, reference, tmp_path):
    """The same round trip through the files themselves, as jgz migrate does it: what the
    writer puts in a file the reader takes back. The qualification message carries a groep
    occurrence in its contact's observations (every_element) and, here, a 1 MB attachment,
    over the csv module's default 128 KB field limit."""
    import base64
    import random

    from lxml import etree

    from jgz_gateway.adapters.migrate import migrate

    root = etree.fromstring((reference / "hl7v3/examples/nl04-jgz8.0/DOB-4.0.0-KWAL_versturen_hl7.xml").read_bytes())
    text = next(e for e in root.iter("{urn:hl7-org:v3}text") if e.get("representation") == "B64")
    text.text = base64.b64encode(random.Random(4).randbytes(1_000_000)).decode()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "kwal.xml").write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    there = migrate("hl7v3", tmp_path / "in", route, tmp_path / route, source_options=OPTIONS, dest_options=OPTIONS)
    back = migrate(route, tmp_path / route, "hl7v3", tmp_path / "back", source_options=OPTIONS, dest_options=OPTIONS)
    assert (there.written, back.written, back.failed) == (1, 1, 0)
    again = read_message(next((tmp_path / "back").glob("*.xml")).read_bytes())
    assert text.text in {a.data for a in again.attachments}
