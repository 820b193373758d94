"""What the benchmark scripts share: where the reference messages are, and a timer.

Benchmarks may read ../shared; the product never does.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"
#: The largest published DOB (REPC_IN902120NL03, 509 KB): the message the issues' targets name.
LARGEST = REFERENCE / "ada" / "hl7" / "DOB-3.0.0-test-hl7.xml"


def timed(fn, repeat: int) -> list[float]:
    """Milliseconds of ``repeat`` calls of ``fn``."""
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def min_median(ms: list[float]) -> tuple[float, float]:
    return min(ms), statistics.median(ms)


def reference_files() -> list[Path]:
    """Every published HL7 DOB message (the ``*-qual-templates`` folder excepted)."""
    ex = REFERENCE / "hl7v3" / "examples"
    files = [p for d in sorted(ex.iterdir()) if not d.name.endswith("qual-templates") for p in sorted(d.glob("*.xml"))]
    return files + sorted((REFERENCE / "ada" / "hl7").glob("*.xml"))
