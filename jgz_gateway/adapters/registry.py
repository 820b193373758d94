"""Installed adapters, found through the entry-point group ``jgz_gateway.adapters``.

Each entry point names a module that follows :mod:`.base` (``describe``, ``coverage``,
``read``, ``write``). Shipped adapters are declared in the gateway's own pyproject;
a vendor's adapter is a separate package declaring one more entry point. A module that
fails to import or lacks the interface is listed with the reason, not hidden.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Iterator

from ..standards.model import Dossier
from .base import BULK, REQUIRED, Description, Loaded, Rendered, Unit, dossier_key
from .errors import AdapterError

GROUP = "jgz_gateway.adapters"


@dataclass(frozen=True)
class Installed:
    """One entry point: the adapter's name, where it comes from, and its module or the problem."""

    name: str
    target: str  # "package.module"
    distribution: str | None
    module: ModuleType | None
    problem: str | None = None

    @property
    def description(self) -> Description | None:
        return self.module.describe() if self.module else None

    @property
    def bulk(self) -> bool:
        return self.module is not None and all(hasattr(self.module, f) for f in BULK)


def installed() -> list[Installed]:
    """Every adapter registered in the entry-point group, sorted by name."""
    from importlib.metadata import entry_points

    found: dict[str, Installed] = {}
    for ep in entry_points(group=GROUP):
        dist = ep.dist.name if getattr(ep, "dist", None) else None
        try:
            module = importlib.import_module(ep.value.split(":")[0])
        except Exception as exc:  # noqa: BLE001 - an adapter that cannot load is reported, not fatal
            found[ep.name] = Installed(ep.name, ep.value, dist, None, f"cannot import: {type(exc).__name__}: {exc}")
            continue
        missing = [f for f in REQUIRED if not callable(getattr(module, f, None))]
        if missing:
            found[ep.name] = Installed(ep.name, ep.value, dist, None, "lacks " + ", ".join(f + "()" for f in missing))
            continue
        found[ep.name] = Installed(ep.name, ep.value, dist, module)
    return [found[k] for k in sorted(found)]


def get(name: str) -> ModuleType:
    """The adapter module registered as ``name``; AdapterError when unknown or broken."""
    entries = {i.name: i for i in installed()}
    entry = entries.get(name)
    if entry is None:
        raise AdapterError(f"unknown adapter {name!r}; installed: {', '.join(entries) or 'none'}")
    if entry.module is None:
        raise AdapterError(f"adapter {name!r} ({entry.target}) is broken: {entry.problem}")
    return entry.module


# --- the bulk interface, for adapters that offer only the basic one --------------------------


def units(adapter: ModuleType, source: Any, **options: Any) -> Iterator[Unit]:
    if hasattr(adapter, "units"):
        yield from adapter.units(source, **options)
        return
    for dossier in adapter.read(source, **options):  # read in the main process, one by one
        yield Unit(dossier_key(dossier), str(source), dossier)


def load(adapter: ModuleType, unit: Unit, **options: Any) -> Loaded:
    if hasattr(adapter, "load"):
        return adapter.load(unit, **options)
    return Loaded(unit.key, unit.payload)


class _PerDossierWriter:
    """For adapters without a bulk writer: one ``write([dossier], destination)`` call per dossier."""

    def __init__(self, adapter: ModuleType, destination: Any, options: dict[str, Any]):
        self.adapter, self.destination, self.options = adapter, destination, options

    def done(self, key: str) -> bool:
        return False

    def render(self, key: str, dossier: Dossier) -> Rendered:
        return Rendered(key, dossier)

    def commit(self, rendered: Rendered) -> None:
        self.adapter.write([rendered.payload], self.destination, **self.options)

    def close(self, complete: bool = True) -> None:
        pass


def open_writer(adapter: ModuleType, destination: Any, **options: Any):
    if hasattr(adapter, "writer"):
        return adapter.writer(destination, **options)
    return _PerDossierWriter(adapter, destination, options)

