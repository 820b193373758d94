"""ADA dataset instances of the DOB v03 (Nictiz's neutral, dataset-level XML) ↔ the canonical model.

    dossier = read_ada(xml_bytes, reference_date=date(2023, 2, 6))
    xml_bytes = write_ada(dossier)

Reading goes through the DOB message the instance describes (:mod:`.to_hl7`), shaped as
Nictiz's own ADA-to-HL7 conversion shapes it; writing reads the dossier's message back
into the dataset (:mod:`.from_hl7`). Relative ADA dates (``T-16Y``, ``DOB+3D``) resolve
against ``reference_date`` (default: today). What a DOB carries but an ADA instance does
not (message id, creation time, applications, sending system) comes from the
:class:`Envelope`; see ``GENERATED`` for the full list.
"""

from __future__ import annotations

from datetime import date

from lxml import etree

from ..xmlsafe import XmlRejected, parse_bytes
from .to_hl7 import AdaError, Envelope, Reading, read_tree

__all__ = ["AdaError", "Envelope", "GENERATED", "Reading", "read_ada", "read_ada_message", "read_ada_report", "write_ada",
           "write_ada_report"]

#: What ADA → DOB generates (not in the instance) and DOB → ADA cannot recover, as leaf paths.
GENERATED = (
    "message: id, creationTime, receiver and sender application ids, ControlActProcess author (system, organisation)",
    "CareProvisionRequest author (the sending organisation and the date of sending)",
    "careProvisionEvent/effectiveTime/high (when the dossier was closed for transfer)",
    "ADA: meta element and the attributes of adaxml/data/* (form, title, id, dates)",
    "ADA: 'datatype', 'comment' and 'conceptId'-free helper attributes, ADA value ordinals of coded concepts",
    "ADA: the ids of rubriek instances and the gekoppeldeActiviteit references between them (generated, same links)",
    "ADA: relative dates (T-16Y, DOB+3D) come back as absolute dates",
)

ADA_ROOT = "versturen_jgzdossieroverdrachtverzoek_v03"


def _instance(data: bytes) -> etree._Element:
    """The transaction element: inside ``adaxml/data``, or the root itself (the transaction's
    own ADA schema, versturen_jgzdossieroverdrachtverzoek_v03.xsd, makes it a global element)."""
    root = parse_bytes(data).getroot()
    if root.tag == ADA_ROOT:
        node = root
    elif root.tag != "adaxml":
        raise AdaError(f"root element {root.tag!r} is neither adaxml nor {ADA_ROOT}", "/" + str(root.tag))
    else:
        node = root.find(f"data/{ADA_ROOT}")
        if node is None:
            raise AdaError(f"no data/{ADA_ROOT}: not an ADA instance of the DOB v03 (transaction "
                           "2.16.840.1.113883.2.4.3.11.60.100.4.34)", "/adaxml")
    return node


def read_ada_message(data: bytes, *, reference_date: date | None = None, envelope: Envelope | None = None) -> Reading:
    """The DOB message tree (REPC_IN902120NL03) an ADA instance describes, and what was skipped."""
    return read_tree(_instance(data), reference_date or date.today(), envelope or Envelope())


def read_ada(data: bytes, *, reference_date: date | None = None, envelope: Envelope | None = None):
    """An ADA instance as a canonical Dossier (BDS 4.0, REPC_IN902120NL03)."""
    return read_ada_report(data, reference_date=reference_date, envelope=envelope)[0]


def read_ada_report(data: bytes, *, reference_date: date | None = None, envelope: Envelope | None = None):
    """:func:`read_ada`, and what the instance held that the dossier has no place for:
    ``(xpath, ADA name, BDS code or None)`` entries (see :class:`Reading`)."""
    from ..hl7v3 import read_message

    reading = read_ada_message(data, reference_date=reference_date, envelope=envelope)
    dossier = read_message(reading.root)
    dossier.bds_version = "4.0.2"
    return dossier, reading.skipped


def write_ada(dossier, *, instance_id: str | None = None) -> bytes:
    """A dossier as an ADA instance of the DOB v03 (UTF-8 XML)."""
    return write_ada_report(dossier, instance_id=instance_id)[0]


def write_ada_report(dossier, *, instance_id: str | None = None) -> tuple[bytes, list]:
    """The ADA instance and what it could not hold: ``(xpath, BDS code, why)`` entries.

    The ADA dataset is BDS 4.0's: a dossier of another version is converted to 4.0 first
    (:mod:`..convert`), its conversion report's dropped items joining the list.
    """
    from .from_hl7 import write_tree

    skipped: list = []
    if dossier.interaction != "REPC_IN902120NL03":
        from ..convert import convert

        dossier, report = convert(dossier, "4.0")
        skipped += [(c.xpath, c.element, f"BDS 4.0 conversion: {c.message}") for c in report.dropped]
    root, more = write_tree(dossier, instance_id=instance_id)
    etree.indent(root, space="    ")
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    skipped += more
    return data, skipped + _unplaced(dossier, data, skipped)


def _unplaced(dossier, data: bytes, skipped: list) -> list:
    """Element values the dossier holds (its census) that neither the instance, read back,
    nor the skipped list accounts for: the writer passed them over (an element where the ADA
    dataset has no place for it, an observation where no schema allows it)."""
    from collections import Counter

    from ..census import valued_elements

    try:
        back = read_ada(data)
    except Exception:  # noqa: BLE001 - not readable back (a placeholder where a date belongs), or a
        return []  # defect of this check: no verdict, which must not cost the instance itself
    listed = Counter(int(e) for _, e, _ in skipped if e is not None and str(e).isdecimal())
    missing = valued_elements(dossier) - (valued_elements(back) + listed)
    return [("/", str(n), f"{k} value(s) of element {n} that the ADA instance does not hold: "
                          "the dossier has them where the ADA dataset has no place for them")
            for n, k in sorted(missing.items())]


del XmlRejected
