"""What a conversion did: every dropped, moved, changed or added item, with XPath and BDS element.

A receiver must never lose data silently, so each rule that touches content says so
here. XPaths point into the message *as it was before the step* that made the change
(``step`` names it, e.g. ``4.1.3→4.2.0``), so they can be followed in the input.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Action = Literal["dropped", "moved", "changed", "added", "renamed"]


@dataclass(frozen=True, slots=True)
class Change:
    """One thing a conversion step did to the message."""

    step: str
    action: Action
    rule: str
    xpath: str
    message: str
    element: str | None = None  # BDS element number or R/G code
    old: str | None = None
    new: str | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class ConversionReport:
    """The conversion of one message from one BDS version to another."""

    source_version: str
    target_version: str
    source_interaction: str
    target_interaction: str
    steps: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    def of(self, *actions: Action) -> list[Change]:
        return [c for c in self.changes if c.action in actions]

    @property
    def dropped(self) -> list[Change]:
        """Items the target version cannot carry and that are gone from the output."""
        return self.of("dropped")

    @property
    def moved(self) -> list[Change]:
        return self.of("moved")

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for c in self.changes:
            counts[c.action] = counts.get(c.action, 0) + 1
        return counts

    def as_dict(self) -> dict:
        return {
            "source_version": self.source_version,
            "target_version": self.target_version,
            "source_interaction": self.source_interaction,
            "target_interaction": self.target_interaction,
            "steps": self.steps,
            "summary": self.summary(),
            "changes": [c.as_dict() for c in self.changes],
        }
