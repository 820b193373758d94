"""Benchmark: validation and round trip per reference message, against a floor from the same run.

Floor = lxml parse + XSD validation of the same bytes (the NL03 schema for NL03/NL04,
the NL schema for NL). Printed per message: full validation ms, parse→build round
trip ms, and full validation / floor. Targets (issue 3): validation ≤ 10× the floor
and ≤ 20 ms for the largest message; round trip ≤ 50 ms for the largest.

Usage: .venv/bin/python bench/validate.py [--repeat N] [files...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.timing import min_median, reference_files, timed  # noqa: E402

from jgz_gateway.standards.hl7v3 import read_message, write_message  # noqa: E402
from jgz_gateway.standards.validation import validate_bytes  # noqa: E402
from jgz_gateway.standards.validation.structure import SCHEMA_FOR, schema  # noqa: E402



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("files", nargs="*", type=Path)
    args = ap.parse_args()
    files = args.files or reference_files()
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    # warm up: load schemas, rules and catalogues once, as a running gateway would have
    validate_bytes(files[0].read_bytes())
    rows = []
    for path in files:
        data = path.read_bytes()
        interaction = etree.QName(etree.fromstring(data, parser)).localname
        xsd = schema(SCHEMA_FOR[interaction])
        as_nl03 = interaction.endswith("NL04")

        def floor():
            root = etree.fromstring(data, parser)
            if as_nl03:
                root.tag = root.tag.replace("NL04", "NL03")
            xsd.validate(root)

        floor_ms, _ = min_median(timed(floor, args.repeat))
        full_ms, full_med = min_median(timed(lambda: validate_bytes(data), args.repeat))
        rt_ms, _ = min_median(timed(lambda: write_message(read_message(data)), args.repeat))
        rows.append((path.name, len(data), floor_ms, full_ms, full_med, rt_ms))
    print(f"{'message':58} {'KB':>6} {'floor':>7} {'valid.':>7} {'ratio':>6} {'round':>7}")
    for name, size, floor_ms, full_ms, _, rt_ms in rows:
        print(f"{name[:58]:58} {size/1024:6.0f} {floor_ms:7.2f} {full_ms:7.2f} {full_ms/floor_ms:6.1f} {rt_ms:7.2f}")
    largest = max(rows, key=lambda r: r[1])
    ratios = [r[3] / r[2] for r in rows]
    print()
    print(f"largest message {largest[0]} ({largest[1]/1024:.0f} KB):")
    print(f"  full validation {largest[3]:.1f} ms (median {largest[4]:.1f}); floor {largest[2]:.1f} ms; ratio {largest[3]/largest[2]:.1f}x  [target <= 10x and <= 20 ms]")
    print(f"  parse->build round trip {largest[5]:.1f} ms  [target <= 50 ms]")
    print(f"all messages: validation/floor ratio median {statistics.median(ratios):.1f}x, max {max(ratios):.1f}x")


if __name__ == "__main__":
    main()
