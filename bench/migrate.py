"""Benchmark: bulk migration csv-export → hl7v3 (NL04, every message validated), against a floor.

Floor = lxml parse + serialize of the same output files, one process, measured in the same
run. Printed: dossiers/s of the migration, of the floor, the ratio between them (also per
core used), the time per stage, and the peak RSS of the main process, of each worker and
of all of them together (sampled every 0.1 s). Targets (issue 5): ≥ 150 dossiers/s with
--workers 2, and peak RSS ≤ 500 MB that does not grow with the number of dossiers.

Usage: .venv/bin/python bench/migrate.py [--count 10000] [--workers 2] [--seed 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jgz_gateway.adapters.migrate import migrate
from jgz_gateway.adapters.synth_export import export
from jgz_gateway.adapters.to_dossier import Envelope

TODAY = dt.date(2025, 6, 1)


class RssSampler(threading.Thread):
    """Peak resident memory of this process and its children, sampled in the background."""

    def __init__(self, interval: float = 0.1):
        super().__init__(daemon=True)
        import psutil

        self.me = psutil.Process()
        self.interval = interval
        self.stop_event = threading.Event()
        self.peak_main = self.peak_child = self.peak_total = 0

    def run(self) -> None:
        import psutil

        while not self.stop_event.is_set():
            try:
                main = self.me.memory_info().rss
                children = [c.memory_info().rss for c in self.me.children(recursive=True)]
            except psutil.Error:
                continue
            self.peak_main = max(self.peak_main, main)
            self.peak_child = max([self.peak_child, *children])
            self.peak_total = max(self.peak_total, main + sum(children))
            self.stop_event.wait(self.interval)

    def stop(self) -> None:
        self.stop_event.set()
        self.join()


def floor(files: list[Path]) -> float:
    """Seconds to parse and serialize every file with lxml (the least any XML pipeline does)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    start = time.perf_counter()
    for f in files:
        etree.tostring(etree.fromstring(f.read_bytes(), parser), xml_declaration=True, encoding="UTF-8")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="jgz-bench-migrate-"))
    source, dest = work / "csv-export", work / "hl7v3"
    for p in (source, dest):
        shutil.rmtree(p, ignore_errors=True)
    print(f"{os.cpu_count()} CPUs; {args.count:,} synthetic dossiers (seed {args.seed}), --workers {args.workers}")
    t = time.perf_counter()
    export("csv-export", source, args.count, args.seed, TODAY)
    size = sum(p.stat().st_size for p in source.iterdir())
    print(f"synthetic csv-export: {size / 1e6:.0f} MB in {time.perf_counter() - t:.1f} s (not timed below)")

    options = {"bds": "4.2.0", "envelope": Envelope(created=dt.datetime(2025, 6, 1, 12))}
    sampler = RssSampler()
    sampler.start()
    summary = migrate("csv-export", source, "hl7v3", dest, workers=args.workers, source_options=options,
                      dest_options=options)
    sampler.stop()
    if summary.failed:
        print(f"FAILED: {summary.failed} dossiers did not migrate; see {summary.errors_dir}")
    files = sorted(dest.glob("*.xml"))
    out_mb = sum(f.stat().st_size for f in files) / 1e6
    floor_s = floor(files)

    rate = summary.written / summary.wall_s
    floor_rate = len(files) / floor_s
    d = summary.as_dict()
    s = d["seconds"]
    n = max(1, summary.written)
    print(f"migrated {summary.written:,} dossiers ({out_mb:.0f} MB of NL04, every one validated) in {summary.wall_s:.1f} s")
    print(f"  per dossier in the workers: load (csv rows → Dossier) {s['load'] / n * 1000:.1f} ms, "
          f"render (serialize + validate) {s['render'] / n * 1000:.1f} ms; main: read {s['scan'] / n * 1000:.2f} ms, "
          f"write {s['commit'] / n * 1000:.2f} ms")
    print(f"  BDS elements mapped {d['elements_mapped']:,}, dropped {d['elements_dropped']}; "
          f"vendor fields dropped (declared unmapped) {d['fields_dropped']:,}")
    print(f"floor (lxml parse + serialize of the same {len(files):,} files, 1 process): {floor_s:.1f} s")
    print()
    print(f"dossiers/s: {rate:.1f}   [target >= 150 with --workers 2]")
    print(f"floor dossiers/s: {floor_rate:.1f}")
    print(f"ratio to the floor: {floor_rate / rate:.1f}x slower ({floor_rate * args.workers / rate:.1f}x per core used)")
    mb = 1024 * 1024
    print(f"peak RSS: main {sampler.peak_main / mb:.0f} MB, largest worker {sampler.peak_child / mb:.0f} MB, "
          f"all processes {sampler.peak_total / mb:.0f} MB   [target <= 500 MB, not growing with N]")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
