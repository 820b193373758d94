"""The adapter protocol: what every adapter module offers, like a python-stdnum module.

An adapter is one module (registered in the entry-point group ``jgz_gateway.adapters``)
with four functions::

    describe() -> Description                      # name, version, formats, BDS versions
    coverage() -> Coverage                         # BDS elements it fills and drops
    read(source, **options) -> Iterator[Dossier]   # a directory or file of its format
    write(dossiers, destination, **options) -> None

Adapters that move many dossiers may also offer the bulk interface, which ``jgz migrate``
uses to run the expensive part in worker processes and to resume::

    units(source, **options) -> Iterator[Unit]     # cheap: find each dossier's raw data
    load(unit, **options) -> Loaded                # in a worker: raw data → Dossier
    writer(destination, **options) -> Writer       # done(key) / render (worker) / commit / close

Options every shipped adapter understands: ``mapping`` (a mapping file, declarative
adapters), ``bds`` (the BDS version dossiers are built in), ``envelope`` (an
:class:`~.to_dossier.Envelope` for the message wrapper) and, for ``writer``,
``render_only`` (a worker's copy that renders but never touches the destination).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Protocol, runtime_checkable

from ..standards.model import Dossier


@dataclass(frozen=True)
class Description:
    """What ``jgz adapters list`` shows."""

    name: str
    version: str
    formats: tuple[str, ...]
    bds_versions: tuple[str, ...]
    summary: str
    reads: bool = True
    writes: bool = True


@dataclass(frozen=True)
class Coverage:
    """Which BDS elements an adapter fills, and which it drops.

    ``fills``: elements it reads into a dossier and writes out of one. ``drops``:
    elements the gateway can carry in a dossier that this adapter cannot hold (so
    migrating into it loses them). ``unmapped``: vendor fields deliberately not mapped,
    with the reason.
    """

    fills: frozenset[int]
    drops: frozenset[int]
    unmapped: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Unit:
    """One dossier's raw data as found in a source; picklable, so a worker can load it."""

    key: str
    origin: str
    payload: Any


@dataclass
class Loaded:
    """A unit made into a dossier: the BDS elements it holds, and what the source held but dropped.

    ``dropped`` counts vendor fields deliberately not mapped that held a value
    (``field table.column``) and elements the dossier's BDS version cannot carry (``element N``).
    """

    key: str
    dossier: Dossier
    dropped: Counter[str] = field(default_factory=Counter)
    elements: Counter[int] = field(default_factory=Counter)


@dataclass
class Rendered:
    """A dossier made ready to commit, with what the destination format could not hold."""

    key: str
    payload: Any
    dropped: Counter[str] = field(default_factory=Counter)


@runtime_checkable
class Writer(Protocol):
    """An open destination. ``render`` runs in a worker; ``commit`` in the main process."""

    def done(self, key: str) -> bool: ...

    def render(self, key: str, dossier: Dossier) -> Rendered: ...

    def commit(self, rendered: Rendered) -> None: ...

    def close(self, complete: bool = True) -> None: ...


class Adapter(Protocol):
    """The module-level interface of an adapter (checked by the registry)."""

    def describe(self) -> Description: ...

    def coverage(self) -> Coverage: ...

    def read(self, source: Any, **options: Any) -> Iterator[Dossier]: ...

    def write(self, dossiers: Iterable[Dossier], destination: Any, **options: Any) -> None: ...


def read_all(units, load, source: Any, **options: Any) -> Iterator[Dossier]:
    """An adapter's ``read`` from its bulk pair ``units``/``load``: every dossier, in order."""
    for unit in units(source, **options):
        yield load(unit, **options).dossier


def write_all(w: Writer, dossiers: Iterable[Dossier]) -> None:
    """An adapter's ``write`` from its writer: each dossier under its own key, then close.

    On an error the writer closes incomplete, so what was committed stays (and a re-run resumes).
    """
    try:
        for dossier in dossiers:
            w.commit(w.render(dossier_key(dossier), dossier))
    except BaseException:
        w.close(complete=False)
        raise
    w.close()


def unwrapped(dossier: Dossier, key: str, options: dict[str, Any]) -> Loaded:
    """A dossier from a format without a message wrapper (ADA, FHIR), given one from the options
    or a default, with the BDS elements it holds counted."""
    from .declarative import default_envelope
    from .from_dossier import extract
    from .to_dossier import rewrap

    record, unread = extract(dossier, key)
    rewrap(dossier, record, options.get("envelope") or default_envelope(record))
    return Loaded(key=key, dossier=dossier, elements=record.element_counts() + unread)


REQUIRED = ("describe", "coverage", "read", "write")
BULK = ("units", "load", "writer")


def dossier_key(dossier: Dossier) -> str:
    """A dossier's own key when none is given: its dossier number, else the child's BSN."""
    if dossier.ids and dossier.ids[0].extension:
        return dossier.ids[0].extension
    return dossier.bsn or "dossier"


def safe_name(key: str) -> str:
    """A file name for a key: letters, digits, ``.-_`` kept; anything else made safe and disambiguated."""
    import hashlib
    import re

    clean = re.sub(r"[^A-Za-z0-9._-]", "_", key).strip(".") or "_"
    if clean != key:
        clean += "-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
    return clean[:120]


def dropped_key(code: str | int | None, where: str | None = None) -> str:
    """How a dropped item is counted: ``element 235``, ``groep G087``, ``rubriek R037``, else where it was."""
    text = str(code) if code is not None else ""
    if text.isdecimal():
        return f"element {text}"
    if text[:1] in ("G", "R") and text[1:].isdecimal():
        return f"{'groep' if text[0] == 'G' else 'rubriek'} {text}"
    return f"dropped {where or text or '?'}"
