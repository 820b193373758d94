"""Findings: what a validator says about data. Data problems are findings, never exceptions."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a message.

    ``rule`` is a stable id: the official Nictiz rule label or DTr1 id where one
    exists (``dtr1-2-II.NL.BSN``, ``TC00235``...), otherwise a gateway id (``JGZ-...``).
    ``xpath`` locates the element; ``element`` names the BDS element number (or
    R/G code) it concerns, when there is one.
    """

    severity: Severity
    rule: str
    xpath: str
    message: str
    element: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def has_errors(findings) -> bool:
    return any(f.severity == "error" for f in findings)
