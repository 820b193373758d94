"""BDS facts: a dossier as BDS element numbers and values, the shape vendor mappings speak.

The canonical :class:`~jgz_gateway.standards.model.Dossier` follows the HL7 message;
a vendor export follows its own tables. Between the two sits this small, plain view:
values keyed by BDS element number, repeated groups keyed by G-code, and activities
(contact moments). A mapping file turns vendor rows into a :class:`Record` and back;
:mod:`.to_dossier` and :mod:`.from_dossier` turn a record into a Dossier and back.

Values are typed by the element's BDS datatype: codes are ``str`` in the BDS flavour of
their value set ("01", not the HL7 code), quantities ``Decimal`` in the element's BDS
unit (mm, g), counts ``int``, booleans ``bool``, dates ``datetime.date`` (or
``datetime.datetime`` when a time is known), everything else ``str``. A code given as
"other" with the text of what it is (HL7 nullFlavor OTH with originalText) is an
:class:`Other`: a ``str`` that is the code ("98"), with the text beside it. An element
given more than once at one level (three skin findings, 163; two indications, 1424) is
one :class:`Repeated` value holding them all.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterator


class Other(str):
    """A code with the text it was given (HL7 ``originalText``): mostly an "other" ("98 Anders",
    nullFlavor OTH) with the text saying what, but also a text beside a code ("04 extra kolom 1"
    with "4 mnd"). A text that only names the code is not kept.

    It is the code wherever a code is expected (value maps, value sets, equality); only
    builders that can write the text (``originalText``) look at ``text``.
    """

    text: str

    def __new__(cls, code: str, text: str) -> Other:
        self = super().__new__(cls, code)
        self.text = text
        return self

    def __repr__(self) -> str:  # distinct from the bare code: a lost text counts as lost
        return f"Other({str(self)!r}, {self.text!r})"

    def __reduce__(self):
        return (Other, (str(self), self.text))


class Repeated(list):
    """The values of an element given more than once at one level, in order.

    The BDS lets 44 elements outside any groep repeat (0..*), and a message may repeat
    others. A single value is never wrapped, so code that reads one value of an element
    that cannot repeat never meets a Repeated; code that may, reads :func:`each`.
    """

    def __repr__(self) -> str:
        return f"Repeated({list.__repr__(self)})"


def each(value: Any) -> list:
    """The values a Facts entry holds: the items of a :class:`Repeated`, else the value itself."""
    return list(value) if isinstance(value, Repeated) else [value]


@dataclass
class Facts:
    """Elements and repeated groups at one level (dossier, activity, group)."""

    values: dict[int, Any] = field(default_factory=dict)
    groups: list[Group] = field(default_factory=list)

    def add(self, element: int, value: Any) -> None:
        """Set ``element``, or add ``value`` to those it already has (a :class:`Repeated`)."""
        if element in self.values:
            self.values[element] = Repeated([*each(self.values[element]), *each(value)])
        else:
            self.values[element] = value

    def groups_of(self, groep: str) -> list[Group]:
        return [g for g in self.groups if g.groep == groep]

    def elements(self) -> Iterator[int]:
        """Every element number filled at this level and below (with repeats)."""
        return (n for n, _ in self.items())

    def items(self) -> Iterator[tuple[int, Any]]:
        """Every (element number, value) at this level and below (with repeats)."""
        for n, value in self.values.items():
            for v in each(value):
                yield n, v
        for g in self.groups:
            yield from g.items()


@dataclass
class Group(Facts):
    """One occurrence of a BDS groep (``G014`` a parent, ``G076`` a vaccination...)."""

    groep: str = ""


@dataclass
class Record:
    """One child's dossier as BDS facts. ``key`` is the source's own id for it."""

    key: str
    facts: Facts = field(default_factory=Facts)
    activities: list[Facts] = field(default_factory=list)

    def items(self) -> Iterator[tuple[int, Any]]:
        """Every (element number, value) of the dossier and its activities (with repeats)."""
        yield from self.facts.items()
        for activity in self.activities:
            yield from activity.items()

    def element_counts(self) -> Counter[int]:
        return Counter(n for n, _ in self.items())

    def lost_in(self, other: "Record") -> Counter[int]:
        """Per element, how many of this record's values ``other`` does not hold (value for value)."""
        def values(r: Record) -> Counter:
            return Counter((n, repr(v)) for n, v in r.items())

        lost: Counter[int] = Counter()
        for (n, _), count in (values(self) - values(other)).items():
            lost[n] += count
        return lost
