"""Bulk migration: every dossier of a source, through the canonical Dossier, into a destination.

The main process finds each dossier's raw data (``units``, cheap and streaming), skips
those the destination already holds (so a re-run resumes), and commits results in
source order. Worker processes do the expensive part: raw data → Dossier → the
destination's format (for hl7v3: serialised and validated). At most a few batches per
worker are in flight, so memory does not grow with the number of dossiers.

A dossier that fails gets an error file (``_errors/<key>.txt`` in the destination) that
names the source record and field, or the validation findings; the run goes on. A
re-run retries failed dossiers and removes the error files of those that now succeed.
"""

from __future__ import annotations

import os
import time
import traceback
from collections import Counter, deque
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..standards.preload import preload_and_freeze
from . import registry
from .base import Rendered, Unit, safe_name
from .errors import AdapterError, InvalidOutput, SourceError

BATCH = 8
ERRORS_DIR = "_errors"


@dataclass
class Result:
    """What a worker made of one unit."""

    key: str
    origin: str
    rendered: Rendered | None = None
    error: str | None = None
    detail: list[str] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    elements: Counter[int] = field(default_factory=Counter)
    load_s: float = 0.0
    render_s: float = 0.0


@dataclass
class Summary:
    """Counts, element coverage and durations of one run."""

    source: str
    destination: str
    seen: int = 0
    written: int = 0
    skipped: int = 0
    failed: int = 0
    elements: Counter[int] = field(default_factory=Counter)  # in the written dossiers, as read
    dropped: Counter[str] = field(default_factory=Counter)  # "element N", "field table.column", "groep G087"
    wall_s: float = 0.0
    scan_s: float = 0.0
    load_s: float = 0.0
    render_s: float = 0.0
    commit_s: float = 0.0
    histogram: Counter[int] = field(default_factory=Counter, repr=False)  # ms per dossier, 1 ms buckets
    errors_dir: str | None = None

    @property
    def rate(self) -> float:
        return self.written / self.wall_s if self.wall_s else 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile of the workers' time per dossier (ms, to 1 ms), from a bounded histogram."""
        total = sum(self.histogram.values())
        seen = 0
        for ms in sorted(self.histogram):
            seen += self.histogram[ms]
            if seen > p * total:
                return float(ms)
        return 0.0

    def dropped_elements(self) -> int:
        return sum(c for k, c in self.dropped.items() if k.startswith("element "))

    def dropped_fields(self) -> int:
        """Vendor fields declared unmapped that held a value (``field table.column``)."""
        return sum(c for k, c in self.dropped.items() if k.startswith("field "))

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "destination": self.destination, "seen": self.seen, "written": self.written,
            "skipped": self.skipped, "failed": self.failed, "errors_dir": self.errors_dir,
            "elements_mapped": sum(self.elements.values()) - self.dropped_elements(),
            "elements_dropped": self.dropped_elements(),
            "fields_dropped": self.dropped_fields(),
            "other_dropped": sum(self.dropped.values()) - self.dropped_elements() - self.dropped_fields(),
            "dropped": dict(self.dropped.most_common()),
            "seconds": {"wall": round(self.wall_s, 3), "scan": round(self.scan_s, 3), "load": round(self.load_s, 3),
                        "render": round(self.render_s, 3), "commit": round(self.commit_s, 3)},
            "dossiers_per_second": round(self.rate, 1),
            "ms_per_dossier": {"p50": round(self.percentile(0.5), 1), "p95": round(self.percentile(0.95), 1)},
        }


# --- the worker side ------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init(source_name: str, source_options: dict, dest_name: str, destination: str, dest_options: dict) -> None:
    """Load the adapters and their data once per process, then keep the GC off that data."""
    source = registry.get(source_name)
    dest = registry.get(dest_name)
    _WORKER.update(source=source, source_options=source_options,
                   writer=registry.open_writer(dest, destination, **dest_options, render_only=True))
    preload_and_freeze()  # catalogues and rules live for the whole run: never scan them again


def _one(unit: Unit) -> Result:
    result = Result(unit.key, unit.origin)
    t0 = time.perf_counter()
    try:
        loaded = registry.load(_WORKER["source"], unit, **_WORKER["source_options"])
        t1 = time.perf_counter()
        result.load_s = t1 - t0
        result.elements = loaded.elements
        result.dropped = loaded.dropped
        rendered = _WORKER["writer"].render(unit.key, loaded.dossier)
        result.render_s = time.perf_counter() - t1
        result.rendered = rendered
        result.dropped = loaded.dropped + rendered.dropped
    except InvalidOutput as exc:
        result.error = str(exc)
        errors = [f for f in exc.findings if f.severity == "error"]
        elements = _elements(exc, errors)
        result.detail = [_finding(f, n) for f, n in zip(errors, elements)]
    except AdapterError as exc:
        result.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - a program error on one dossier must not stop the other 99,999
        result.error = f"unexpected error: {type(exc).__name__}: {exc}"
        result.detail = traceback.format_exc().splitlines()
    return result


def _elements(exc: InvalidOutput, errors: list) -> list:
    from .locate import elements_of

    try:
        return elements_of(exc.data, errors) if exc.data else [f.element for f in errors]
    except Exception:  # noqa: BLE001 - locating is a courtesy; the findings themselves are what counts
        return [f.element for f in errors]


def _finding(f, element: int | str | None) -> str:
    """A validation finding, with its BDS element and the source field that holds it when known."""
    where = ""
    if element:
        field_of = getattr(_WORKER["source"], "field_of", None)
        column = field_of(element, **_WORKER["source_options"]) if field_of else None
        where = f" [element {element}" + (f", source field {column}]" if column else "]")
    return f"{f.severity} {f.rule} {f.xpath}{where}\n    {f.message}"


def _batch(units: list[Unit]) -> list[Result]:
    return [_one(u) for u in units]


# --- the main side --------------------------------------------------------------------------


def migrate(source_name: str, source: str | Path, dest_name: str, destination: str | Path, *,
            workers: int = 1, source_options: dict | None = None, dest_options: dict | None = None,
            progress: Callable[[int, int | None], None] | None = None) -> Summary:
    """Migrate every dossier of ``source`` into ``destination``; resumable, errors per dossier.

    ``progress(done, total)`` is called after each committed batch.
    """
    source_options = dict(source_options or {})
    dest_options = dict(dest_options or {})
    src = registry.get(source_name)
    dst = registry.get(dest_name)
    summary = Summary(str(source), str(destination))
    writer = registry.open_writer(dst, destination, **dest_options)
    errors = Path(destination) / ERRORS_DIR if Path(destination).is_dir() else Path(f"{destination}{ERRORS_DIR}")
    summary.errors_dir = str(errors)
    total = src.count(source, **source_options) if hasattr(src, "count") else None
    start = time.perf_counter()
    pool = None
    complete = False
    try:
        if workers > 1:
            from concurrent.futures import ProcessPoolExecutor

            pool = ProcessPoolExecutor(max_workers=workers, initializer=_init,
                                       initargs=(source_name, source_options, dest_name, str(destination), dest_options))
        else:
            _init(source_name, source_options, dest_name, str(destination), dest_options)
        pending: deque = deque()
        batch: list[Unit] = []
        units = registry.units(src, source, **source_options)
        keys: set[str] = set()
        window = max(2, workers * 3)

        def collect(handle) -> None:
            try:
                results = handle.result() if pool else handle
            except BrokenProcessPool:
                raise AdapterError("a worker process died (out of memory, or killed); what was written is kept: "
                                   "run the same command again to continue") from None
            t = time.perf_counter()
            for r in results:
                _commit(writer, r, summary, errors)
            summary.commit_s += time.perf_counter() - t
            if progress:
                progress(summary.written + summary.failed + summary.skipped, total)

        def submit() -> None:
            nonlocal batch
            if batch:
                pending.append(pool.submit(_batch, batch) if pool else _batch(batch))
                batch = []
            while len(pending) >= window or (not pool and pending):
                collect(pending.popleft())

        while True:
            t = time.perf_counter()
            unit = next(units, None)
            summary.scan_s += time.perf_counter() - t
            if unit is None:
                break
            summary.seen += 1
            if unit.key in keys:  # another dossier under a key this run already took: never overwrite it
                summary.failed += 1
                _write_error(errors, unit.key, unit.origin,
                             f"dossier key {unit.key!r} appears more than once in the source; only its first "
                             "dossier is migrated, this one is not written", name=f"{unit.key}.again-{summary.seen}")
                continue
            keys.add(unit.key)
            if writer.done(unit.key):
                summary.skipped += 1
                continue
            batch.append(unit)
            if len(batch) >= BATCH:
                submit()
        submit()
        while pending:
            collect(pending.popleft())
        complete = True
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        writer.close(complete=complete)
        summary.wall_s = time.perf_counter() - start
    return summary


def _commit(writer, r: Result, summary: Summary, errors: Path) -> None:
    error_file = errors / f"{safe_name(r.key)}.txt"
    if r.rendered is not None:
        try:
            writer.commit(r.rendered)
        except SourceError as exc:  # the destination refuses this dossier (a key it already holds)
            summary.failed += 1
            _write_error(errors, r.key, r.origin, str(exc))
            return
        summary.written += 1
        summary.elements.update(r.elements)
        summary.dropped.update(r.dropped)
        summary.load_s += r.load_s
        summary.render_s += r.render_s
        summary.histogram[int((r.load_s + r.render_s) * 1000)] += 1
        if error_file.exists():
            error_file.unlink()
        return
    summary.failed += 1
    _write_error(errors, r.key, r.origin, r.error, r.detail)


def _write_error(errors: Path, key: str, origin: str, error: str | None, detail: list[str] = (),
                 name: str | None = None) -> None:
    error_file = errors / f"{safe_name(name or key)}.txt"
    errors.mkdir(parents=True, exist_ok=True)
    lines = [f"dossier: {key}", f"source: {origin}", f"error: {error}", *detail]
    tmp = error_file.with_name(f".{error_file.name}.{os.getpid()}.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, error_file)
