"""Benchmark: the FHIR R4 view of the largest reference message, R4B validation included.

Times the view (dossier → Bundle + coverage) with the fhir.resources R4B validation of
every resource (target ≤ 100 ms), and, for context, reading the HL7 message into the
model and the view without validation.

    .venv/bin/python bench/fhir.py [message.xml] [--repeat N] [--profile]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# this script's own directory comes first on sys.path and its name would shadow the
# ``fhir`` namespace package of fhir.resources
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bench.timing import LARGEST, timed

from jgz_gateway.standards.fhir import to_fhir
from jgz_gateway.standards.hl7v3 import read_message



def line(label: str, ms: list[float], note: str = "") -> None:
    print(f"{label:<22}{min(ms):7.2f} ms min, {statistics.median(ms):7.2f} ms median{note}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("message", nargs="?", type=Path, default=LARGEST)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--profile", action="store_true", help="cProfile one validated view")
    args = ap.parse_args(argv)

    data = args.message.read_bytes()
    t = time.perf_counter()
    dossier = read_message(data)
    bundle, coverage = to_fhir(dossier)  # first call: imports fhir.resources, catalogues
    first = (time.perf_counter() - t) * 1000

    kinds: dict[str, int] = {}
    for entry in bundle["entry"]:
        kinds[entry["resource"]["resourceType"]] = kinds.get(entry["resource"]["resourceType"], 0) + 1
    s = coverage["summary"]
    print(f"message               {args.message.name} ({len(data) / 1024:.0f} KB, BDS {dossier.bds_version})")
    print(f"bundle                {len(bundle['entry'])} resources: "
          + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"coverage              {s['elements']} BDS elements, {s['mapped']} mapped, {s['unmapped']} not (fully) mapped")
    print(f"first call            {first:7.1f} ms (imports and model build included)")
    line("read HL7 → model", timed(lambda: read_message(data), args.repeat))
    line("view, no validation", timed(lambda: to_fhir(dossier, check=False), args.repeat))
    view = timed(lambda: to_fhir(dossier), args.repeat)
    ok = min(view) <= 100
    line("view + R4B validation", view, f" (target ≤ 100 ms: {'ok' if ok else 'MISSED'})")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(to_fhir, dossier)
        pstats.Stats(profiler).sort_stats("cumtime").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
