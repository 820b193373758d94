"""Benchmark: DOB template rules on the largest reference message, against a floor.

The floor is what any validator pays anyway: parsing the message with the hardened
parser and validating it against the NL03 XML Schema. Both are measured in the same run
so the ratio holds on any machine.

    .venv/bin/python bench/template_rules.py [message.xml] [--repeat N] [--profile]
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

from bench.timing import LARGEST, REFERENCE, timed

from jgz_gateway.standards.validation import templates
from jgz_gateway.standards.xmlsafe import parse_bytes

XSD = REFERENCE / "hl7v3" / "schemas" / "hl7v3_schemas" / "REPC_IN902120NL03.xsd"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("message", nargs="?", type=Path, default=LARGEST)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--profile", action="store_true", help="cProfile one run of the rules")
    args = ap.parse_args(argv)

    data = args.message.read_bytes()
    t = time.perf_counter()
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    schema_load = (time.perf_counter() - t) * 1000

    def floor():
        doc = parse_bytes(data)
        schema.validate(doc)

    root = parse_bytes(data).getroot()
    interaction = etree.QName(root).localname
    t = time.perf_counter()
    findings = templates.check_templates(root, interaction)  # first call: loads and compiles
    first = (time.perf_counter() - t) * 1000

    floor_ms = timed(floor, args.repeat)
    rules_ms = timed(lambda: templates.check_templates(root, interaction), args.repeat)
    f_min, r_min = min(floor_ms), min(rules_ms)
    print(f"message        {args.message.name} ({len(data) / 1024:.0f} KB, {interaction}, "
          f"{sum(1 for _ in root.iter()):,} nodes, {len(findings)} findings)")
    print(f"schema load    {schema_load:7.1f} ms (once)")
    print(f"first call     {first:7.1f} ms (rule load and compile included)")
    print(f"floor          {f_min:7.2f} ms min, {statistics.median(floor_ms):7.2f} ms median "
          "(parse + XSD validation)")
    print(f"template rules {r_min:7.2f} ms min, {statistics.median(rules_ms):7.2f} ms median "
          f"({r_min / f_min:.1f}x floor)")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(templates.check_templates, root, interaction)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
