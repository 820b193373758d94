"""Convert a dossieroverdrachtbericht between BDS versions, saying what changed.

    data, report = convert_bytes(message, "4.2.0")
    dossier, report = convert(dossier, "4.1.3")      # for the receive path

Supported: 3.2.7 (REPC_IN902120NL) ↔ 4.0 ↔ 4.1.3 (REPC_IN902120NL03) ↔ 4.2.0
(REPC_IN902120NL04), any distance, one step at a time (see :mod:`.versions`). Each step
is a list of small rules on the HL7 tree (:mod:`.nl_nl03`, :mod:`.nl03_nl04`); each rule
records every item it drops, moves, changes or adds in the :class:`ConversionReport`.
"""

from __future__ import annotations

from lxml import etree

from ..hl7v3.message import DS_SIGNATURE, dob_interaction
from ..xmlsafe import HL7_NS, parse_bytes, xpath_of
from . import nl03_nl04, nl_nl03, versions
from .common import Step
from .report import Change, ConversionReport
from .versions import PATH, UnknownTarget, normalise

__all__ = [
    "PATH", "Change", "ConversionError", "ConversionReport", "UnknownTarget",
    "convert", "convert_bytes", "convert_tree", "normalise",
]

_STEPS = {
    ("3.2.7", "4.0"): nl_nl03.up,
    ("4.0", "3.2.7"): nl_nl03.down,
    ("4.0", "4.1.3"): nl03_nl04.up_413,
    ("4.1.3", "4.0"): nl03_nl04.down_413,
    ("4.1.3", "4.2.0"): nl03_nl04.up_420,
    ("4.2.0", "4.1.3"): nl03_nl04.down_420,
}


class ConversionError(ValueError):
    """The input is not a DOB the converter can read."""


def convert_tree(root: etree._Element, to_version: str) -> tuple[etree._Element, ConversionReport]:
    """Convert a parsed DOB in place (the root element is kept, renamed) and report."""
    target = normalise(to_version)
    interaction = dob_interaction(root)
    if interaction is None:
        tag = root.tag if isinstance(root.tag, str) else "?"
        raise ConversionError(f"root element {tag} is not a dossieroverdrachtbericht "
                              f"({', '.join(versions.SOURCE_OF)} in namespace {HL7_NS})")
    source = versions.SOURCE_OF[interaction]
    report = ConversionReport(source, target, interaction, versions.INTERACTION[target])
    route = versions.route(source, target)
    for signature in root.findall(DS_SIGNATURE) if route else ():
        report.changes.append(Change(f"{source}→{target}", "dropped", "JGZ-CONV-SIGNATURE", xpath_of(signature),
                                     "an enveloped XML signature signs the message as it was, not as converted"))
        root.remove(signature)
    for a, b in route:
        step = Step(root, a, b, report)
        report.steps.append(step.name)
        _STEPS[(a, b)](step)
    return root, report


def convert_bytes(data: bytes, to_version: str, *, pretty: bool = False) -> tuple[bytes, ConversionReport]:
    """Convert message bytes (hardened parsing); the result is UTF-8 XML with a declaration."""
    root = parse_bytes(data).getroot()
    root, report = convert_tree(root, to_version)
    if pretty:
        etree.indent(root, space="   ")
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8"), report


def convert(dossier, to_version: str):
    """Convert a canonical :class:`~..model.Dossier` (the transfer receive path).

    Returns ``(Dossier, ConversionReport)``; the dossier's ``bds_version`` is the target's.
    """
    from ..hl7v3 import build_tree, read_message

    root = build_tree(dossier)
    root, report = convert_tree(root, to_version)
    converted = read_message(root)
    converted.bds_version = versions.CATALOGUE[report.target_version] if report.target_version != "3.2.7" else "3.2.7"
    return converted, report
