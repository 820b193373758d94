"""Validate a dossieroverdrachtbericht: every finding, in layers, with stable rule ids.

1. hardened parsing (no DTD, entities, network or XInclude; size and depth limits);
2. the interaction (root element) must be a DOB;
3. XML Schema (:mod:`.structure`; NL04 against the NL03 message model), for all but small
   messages on a worker thread while the rule layers run;
4. Nictiz's published template and datatype rules (:mod:`.templates`), severities as published;
5. BDS rules (:mod:`.bds`): element known to the BDS version and in its rubriek/groep,
   codes in their value set, datatype, unit, cardinality, BSN, plausible dates — warnings
   wherever the published rules do not make them errors.

A message is valid when no layer reports an error. All layers run on every
well-formed DOB, so a reader learns everything at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..findings import Finding, has_errors
from ..hl7v3.message import INTERACTIONS, dob_interaction
from ..xmlsafe import HL7_NS, XmlRejected, parse_bytes, read_file
from . import bds, helper, structure, templates


@dataclass
class Report:
    """The verdict on one message."""

    file: str
    interaction: str | None = None
    bds_version: str | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not has_errors(self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "valid": self.valid,
            "interaction": self.interaction,
            "bds_version": self.bds_version,
            "findings": [f.as_dict() for f in self.findings],
        }


def validate_file(path: str | Path) -> Report:
    path = Path(path)
    try:
        data = read_file(path)
    except OSError as exc:
        return Report(str(path), findings=[Finding("error", "JGZ-IO", "/", f"cannot read file: {exc.strerror}")])
    except XmlRejected as exc:
        return Report(str(path), findings=[Finding("error", exc.rule, "/", exc.message)])
    return validate_bytes(data, str(path))


def validate_bytes(data: bytes, source: str = "<bytes>") -> Report:
    report = Report(source)
    split = helper.available(len(data))  # a second process for part of the rules, if enabled and idle
    if split is not None:
        split.send(data)
    try:
        tree = parse_bytes(data)
    except XmlRejected as exc:
        where = f"line {exc.line}" if exc.line else "/"
        report.findings.append(Finding("error", exc.rule, "/", f"{exc.message} ({where})"))
        return report
    else:
        return validate_tree(tree.getroot(), source, report, beside=len(data) >= BESIDE_FROM, split=split)
    finally:
        if split is not None:
            split.result()  # frees the helper whenever its answer was not used (no DOB, bad XML)


#: From this size (bytes) the XML Schema check runs on a worker thread beside the rule layers;
#: below it, handing it over costs more than it saves (measured: 0.035 ms on 1 ms at 10 KB,
#: break-even near 40 KB, 3 ms saved at 500 KB).
BESIDE_FROM = 64 * 1024


def validate_tree(root: etree._Element, source: str = "<tree>", report: Report | None = None,
                  beside: bool = True, split: helper.Helper | None = None) -> Report:
    """Validate an already hardened-parsed message; ``beside``: check the schema on a worker
    thread while the rules run (worth it for all but small messages); ``split``: a helper
    that has been sent the message's bytes and checks the later part (:mod:`.helper`); the
    caller frees it afterwards (``Helper.result``), as :func:`validate_bytes` does."""
    report = report or Report(source)
    interaction = dob_interaction(root)
    if interaction is None:
        tag = root.tag if isinstance(root.tag, str) else ""
        report.findings.append(
            Finding(
                "error",
                "JGZ-MSG-INTERACTION",
                "/" + (tag or "?"),
                f"root element {tag!r} is not a dossieroverdrachtbericht "
                f"({', '.join(INTERACTIONS)} in namespace {HL7_NS})",
            )
        )
        return report
    report.interaction = interaction
    report.bds_version = INTERACTIONS[interaction]
    if split is not None:
        mine, theirs = helper.parts(split.share)
        rule_findings = templates.check_templates(root, interaction, mine)
        later = split.result()  # the schema, the later part of the template rules, the BDS rules
        if later is not None:
            schema_findings, later_findings = later
            report.findings.extend(schema_findings)
            report.findings.extend(rule_findings + later_findings)
            return report
        # the helper failed: its part here after all
        rule_findings += templates.check_templates(root, interaction, theirs)
        report.findings.extend(structure.check_schema(root, interaction))
    else:
        schema_check = structure.start_schema_check(root, interaction) if beside else None  # libxml2, beside
        rule_findings = templates.check_templates(root, interaction)
        report.findings.extend(schema_check.result() if beside else structure.check_schema(root, interaction))
    report.findings.extend(rule_findings + bds.check_bds(root, interaction, report.bds_version))
    return report
