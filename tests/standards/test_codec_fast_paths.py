"""The reader's and writer's fast paths behave as the plain ones did."""

from __future__ import annotations

import gc
import hashlib

import pytest

from jgz_gateway.standards import model as m
from jgz_gateway.standards.hl7v3 import MessageError, read_message, write_message
from jgz_gateway.standards.hl7v3.codec import construct


def test_reading_leaves_the_collector_as_it_was(reference):
    data = (reference / "hl7v3" / "examples" / "nl03-jgz7.0" / "DOB-3.0.0_JGZ-base_hl7.xml").read_bytes()
    assert gc.isenabled()
    read_message(data)
    assert gc.isenabled()
    with pytest.raises(MessageError):
        read_message(b'<REPC_IN902120NL03 xmlns="urn:hl7-org:v3"/>')
    assert gc.isenabled()
    gc.disable()
    try:
        read_message(data)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_construct_matches_model_construct():
    values = {"root": "1.2.3", "other_attrs": {"x": "y"}}
    fast, slow = construct(m.II, values), m.II.model_construct(**values)
    assert fast == slow
    assert fast.model_fields_set == slow.model_fields_set
    assert list(fast.__dict__) == list(slow.__dict__)
    # defaults made by factories are fresh objects
    assert construct(m.II, {}).extra is not construct(m.II, {}).extra
    # keys that are not fields are left out of the instance
    assert "bogus" not in construct(m.II, {"bogus": 1}).__dict__


def test_unnamespaced_and_foreign_children_as_before(reference):
    """An un-namespaced ``id`` is read as the HL7 one; a foreign element stays verbatim.

    The output digest was computed with the codec as of commit 4cb2c56.
    """
    data = (reference / "hl7v3" / "examples" / "nl03-jgz7.0" / "DOB-3.0.0_JGZ-base_hl7.xml").read_bytes()
    i = data.index(b"<careProvisionEvent")
    j = data.index(b">", i) + 1
    data = data[:j] + b'<id xmlns="" root="9.9"/><foo:bar xmlns:foo="urn:foo" foo:a="1"/>' + data[j:]
    dossier = read_message(data)
    assert dossier.ids[0].root == "9.9"
    assert dossier.extra[0].name == "{urn:foo}bar" and dossier.extra[0].attrs == {"{urn:foo}a": "1"}
    assert hashlib.sha256(write_message(dossier)).hexdigest()[:16] == "c4baf1e495f1eca5"
