"""Benchmark: validation and round trip per reference message, against a floor from the same run.

Floor = lxml parse + XSD validation of the same bytes (the NL03 schema for NL03/NL04,
the NL schema for NL, the NL03 schema with an NL04 root for NL04). Printed per message: full
validation ms in one process, and for messages from ``helper.SPLIT_FROM`` up also with the
validation helper (a second process checks part of the rules, as ``jgz validate`` does),
parse→build round trip ms, and full validation / floor (the faster of the two). Then the wall time of ``jgz validate`` on all the
messages, start-up included, and what start-up costs: importing the validator and loading
each BDS catalogue. Targets (issue 3): validation ≤ 10× the floor and ≤ 20 ms for the
largest message; round trip ≤ 50 ms for the largest; ``jgz validate`` on all reference
messages ≤ 2 s.

Usage: .venv/bin/python bench/validate.py [--repeat N] [files...]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.timing import min_median, reference_files, timed

from jgz_gateway.standards.hl7v3 import read_message, write_message
from jgz_gateway.standards.validation import helper, validate_bytes
from jgz_gateway.standards.validation.structure import schema


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("files", nargs="*", type=Path)
    args = ap.parse_args()
    files = args.files or reference_files()
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    # warm up: load schemas, rules and catalogues once, as a running gateway would have
    validate_bytes(files[0].read_bytes())
    helper.enable()
    if not helper.ready():
        print("(the validation helper did not start: one process only)")
    rows = []
    for path in files:
        data = path.read_bytes()
        interaction = etree.QName(etree.fromstring(data, parser)).localname
        xsd = schema(interaction)

        def floor(data=data, xsd=xsd):
            xsd.validate(etree.fromstring(data, parser))

        def alone(data=data):
            with helper.alone():
                validate_bytes(data)

        floor_ms, _ = min_median(timed(floor, args.repeat))
        alone_ms, alone_med = min_median(timed(alone, args.repeat))
        split_ms = split_med = None
        if len(data) >= helper.SPLIT_FROM and helper.current() is not None:
            split_ms, split_med = min_median(timed(lambda data=data: validate_bytes(data), args.repeat))
        rt_ms, _ = min_median(timed(lambda data=data: write_message(read_message(data)), args.repeat))
        full_ms, full_med = (split_ms, split_med) if split_ms is not None and split_ms < alone_ms else (alone_ms, alone_med)
        rows.append((path.name, len(data), floor_ms, full_ms, full_med, rt_ms, alone_ms, alone_med, split_ms))
    print(f"{'message':58} {'KB':>6} {'floor':>7} {'alone':>7} {'2 proc':>7} {'ratio':>6} {'round':>7}")
    for name, size, floor_ms, full_ms, _, rt_ms, alone_ms, _, split_ms in rows:
        two = f"{split_ms:7.2f}" if split_ms is not None else f"{'':>7}"
        print(f"{name[:58]:58} {size/1024:6.0f} {floor_ms:7.2f} {alone_ms:7.2f} {two} {full_ms/floor_ms:6.1f} {rt_ms:7.2f}")
    largest = max(rows, key=lambda r: r[1])
    ratios = [r[3] / r[2] for r in rows]
    print()
    print(f"largest message {largest[0]} ({largest[1]/1024:.0f} KB):")
    print(f"  full validation {largest[3]:.1f} ms (median {largest[4]:.1f}); floor {largest[2]:.1f} ms; ratio {largest[3]/largest[2]:.1f}x  [target <= 10x and <= 20 ms]")
    if largest[8] is not None:
        print(f"    in one process {largest[6]:.1f} ms (median {largest[7]:.1f}), with the helper {largest[8]:.1f} ms: "
              f"{largest[8] / largest[6]:.2f} of one process")
    print(f"  parse->build round trip {largest[5]:.1f} ms  [target <= 50 ms]")
    print(f"all messages: validation/floor ratio median {statistics.median(ratios):.1f}x, max {max(ratios):.1f}x")
    print()
    cli_wall(files)


def cli_wall(files: list[Path]) -> None:
    """``jgz validate`` as a user runs it: a fresh process, every file, start-up included."""
    jgz = Path(sys.executable).with_name("jgz")
    walls = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([str(jgz), "validate", "--format", "json", *map(str, files)],
                       stdout=subprocess.DEVNULL, check=False)
        walls.append(time.perf_counter() - t)
    startup = subprocess.run(
        [sys.executable, "-c", STARTUP], capture_output=True, text=True, check=True).stdout.strip()
    print(f"jgz validate on {len(files)} messages: {min(walls):.2f} s wall (best of 3)  [target <= 2 s]")
    print(f"  start-up in a fresh process: {startup}")


#: Run in a fresh interpreter: what the validator costs before the first message.
STARTUP = """
import time
t = time.perf_counter()
from jgz_gateway.standards import catalogue, validation
imported = time.perf_counter() - t
loads = []
for v in catalogue.VERSIONS:
    t = time.perf_counter()
    catalogue.get_catalogue(v)
    loads.append(f"BDS {v} {(time.perf_counter() - t) * 1000:.0f} ms")
print(f"import {imported * 1000:.0f} ms; " + ", ".join(loads))
"""


if __name__ == "__main__":
    main()
