"""Benchmark: reading a parsed DOB into the model and writing it back, per phase.

Prints, per message, the best (and median) of N runs in ms for: ``read_message`` on an
already parsed tree, ``build_tree``, ``etree.tostring`` of the built tree, and
``write_message`` (build + tostring).

Usage: .venv/bin/python bench/codec.py [--repeat N] [files...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.timing import REFERENCE, min_median, timed

from jgz_gateway.standards.hl7v3 import read_message, write_message
from jgz_gateway.standards.hl7v3.message import build_tree
from jgz_gateway.standards.xmlsafe import parse_bytes

DEFAULT = [
    REFERENCE / "hl7v3" / "examples" / "nl04-jgz8.0" / "DOB-4.0.0-KWAL_versturen_hl7.xml",
    REFERENCE / "ada" / "hl7" / "DOB-3.0.0-test-hl7.xml",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("files", nargs="*", type=Path)
    args = ap.parse_args()
    print(f"{'message':42} {'KB':>5}   {'read':>13} {'build':>13} {'tostring':>13} {'write':>13}")
    for path in args.files or DEFAULT:
        data = path.read_bytes()
        tree = parse_bytes(data)
        dossier = read_message(tree)
        built = build_tree(dossier)
        cols = [
            min_median(timed(lambda t=tree: read_message(t), args.repeat)),
            min_median(timed(lambda d=dossier: build_tree(d), args.repeat)),
            min_median(timed(lambda b=built: etree.tostring(b, xml_declaration=True, encoding="UTF-8", pretty_print=True), args.repeat)),
            min_median(timed(lambda d=dossier: write_message(d), args.repeat)),
        ]
        cells = " ".join(f"{b:6.2f} ({m:5.2f})" for b, m in cols)
        print(f"{path.name[:42]:42} {len(data) / 1024:5.0f}   {cells}")
    print("best (median) ms")


if __name__ == "__main__":
    main()
