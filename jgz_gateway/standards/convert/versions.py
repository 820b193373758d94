"""Which BDS versions the converter knows, how they map onto messages, and what each carries.

Conversion walks a fixed path of versions, one step at a time::

    3.2.7 (REPC_IN902120NL) ↔ 4.0 (NL03) ↔ 4.1.3 (NL03) ↔ 4.2.0 (NL04)

Nictiz publishes converters for the outer steps (``dob-327-to-400.xsl`` and back,
``dob-bds413-to-bds420.xsl`` and back; docs/jgz-standards.md §2.6); 4.0 ↔ 4.1.3 is the
same message, so that step only changes what the BDS versions themselves differ in.
"""

from __future__ import annotations

from functools import cache

from ..catalogue import Catalogue, get_catalogue

PATH: tuple[str, ...] = ("3.2.7", "4.0", "4.1.3", "4.2.0")

INTERACTION = {
    "3.2.7": "REPC_IN902120NL",
    "4.0": "REPC_IN902120NL03",
    "4.1.3": "REPC_IN902120NL03",
    "4.2.0": "REPC_IN902120NL04",
}

#: An NL03 message is read as the newest BDS version it can carry.
SOURCE_OF = {"REPC_IN902120NL": "3.2.7", "REPC_IN902120NL03": "4.1.3", "REPC_IN902120NL04": "4.2.0"}

#: The catalogue that describes each step's version (3.2.7 has no list of its own: 3.2.6's).
CATALOGUE = {"3.2.7": "3.2.6", "4.0": "4.0.2", "4.1.3": "4.1.3", "4.2.0": "4.2.0"}

_ALIASES = {
    "3.2": "3.2.7", "3.2.6": "3.2.7", "3.2.7": "3.2.7",
    "4.0": "4.0", "4.0.0": "4.0", "4.0.1": "4.0", "4.0.2": "4.0",
    "4.1": "4.1.3", "4.1.3": "4.1.3",
    "4.2": "4.2.0", "4.2.0": "4.2.0",
}

#: Elements that the 4.1.3 → 4.2.0 conversion drops although the 4.2.0 W0647 list still
#: has them as ordinary (type L) concepts. Source: docs/jgz-standards.md §1.6, citing
#: Nictiz/HL7-mappings dob-bds413-to-bds420.xsl and commit 4b22bf53d2; none of them
#: occurs in the 4.2.0 (NL04) qualification and change-request messages.
REMOVED_IN_420 = frozenset({79, 149, 150, 153, 510, 752, 753, 1412, 1499, 1500})


class UnknownTarget(ValueError):
    """A BDS version the converter cannot produce."""


def normalise(version: str) -> str:
    """"4.2", "BDS 4.1.3", "3.2" ... → a version on :data:`PATH`."""
    v = str(version).strip().lower().removeprefix("bds").strip().removeprefix("v")
    if v not in _ALIASES:
        raise UnknownTarget(f"cannot convert to BDS version {version!r}; choose one of {', '.join(PATH)}")
    return _ALIASES[v]


def catalogue(version: str) -> Catalogue:
    return get_catalogue(CATALOGUE[version])


@cache
def carried(version: str) -> frozenset[int]:
    """Element numbers a DOB of ``version`` can carry as observations.

    3.2.7: every element of the 3.2.6 list. 4.0: the elements of the DOB v03 transaction
    dataset (the ADA 4.0 tree, which the catalogue records as cardinalities). 4.1.3: those
    plus the elements that got an observation template in JGZ 7.1.3. 4.2.0: the 4.2.0 list
    without its deprecated elements and those the 4.2.0 conversion removes.
    """
    cat = catalogue(version)
    if version == "3.2.7":
        return frozenset(e.number for e in cat.elements())
    if version == "4.0":
        return frozenset(e.number for e in cat.elements() if e.source("cardinality") == "4.0.2")
    if version == "4.1.3":
        return carried("4.0") | frozenset(e.number for e in cat.elements() if e.source("template_id") == "4.1.3")
    return frozenset(e.number for e in cat.elements() if not e.deprecated and e.number not in REMOVED_IN_420)


def route(source: str, target: str) -> list[tuple[str, str]]:
    """The steps from ``source`` to ``target`` along :data:`PATH`."""
    i, j = PATH.index(source), PATH.index(target)
    if i == j:
        return []
    step = 1 if j > i else -1
    return [(PATH[k], PATH[k + step]) for k in range(i, j, step)]
