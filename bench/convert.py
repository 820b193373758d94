"""Benchmark: BDS 4.1.3 → 4.2.0 conversion of the largest reference message, against a floor.

The floor is what any tree-to-tree conversion pays anyway: parsing the message with the
hardened parser and serialising it again. Both are measured in the same run, so the
ratio holds on any machine (target: ≤ 10× the floor).

    .venv/bin/python bench/convert.py [message.xml] [--to 4.2.0] [--repeat N] [--profile]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.timing import LARGEST, timed

from jgz_gateway.standards.convert import convert_bytes
from jgz_gateway.standards.xmlsafe import parse_bytes



def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("message", nargs="?", type=Path, default=LARGEST)
    ap.add_argument("--to", default="4.2.0")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--profile", action="store_true", help="cProfile one conversion")
    args = ap.parse_args(argv)

    data = args.message.read_bytes()
    t = time.perf_counter()
    out, report = convert_bytes(data, args.to)  # first call: imports, catalogues
    first = (time.perf_counter() - t) * 1000

    floor_ms = timed(lambda: etree.tostring(parse_bytes(data)), args.repeat)
    conv_ms = timed(lambda: convert_bytes(data, args.to), args.repeat)
    f_min, c_min = min(floor_ms), min(conv_ms)
    ratio = c_min / f_min
    nodes = sum(1 for _ in parse_bytes(data).getroot().iter())
    print(f"message     {args.message.name} ({len(data) / 1024:.0f} KB, {nodes:,} nodes)")
    print(f"conversion  {report.source_version} → {report.target_version} ({', '.join(report.steps)}): "
          f"{len(report.changes)} changes, {len(out) / 1024:.0f} KB out")
    print(f"first call  {first:7.1f} ms (catalogue load included)")
    print(f"floor       {f_min:7.2f} ms min, {statistics.median(floor_ms):7.2f} ms median (parse + serialise)")
    print(f"convert     {c_min:7.2f} ms min, {statistics.median(conv_ms):7.2f} ms median "
          f"({ratio:.1f}x floor; target ≤ 10x: {'ok' if ratio <= 10 else 'MISSED'})")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(convert_bytes, data, args.to)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
