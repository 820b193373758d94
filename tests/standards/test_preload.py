"""A worker process loads the catalogues and rules once and freezes them out of the GC's scans."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import gc
from jgz_gateway.standards import catalogue, preload
from jgz_gateway.standards.validation import templates
assert gc.get_freeze_count() == 0 and templates._ruleset.cache_info().currsize == 0
preload.preload_and_freeze()
frozen = gc.get_freeze_count()
assert frozen > 100_000, frozen  # the rules and all four catalogues
assert templates._ruleset.cache_info().currsize == 1
assert catalogue.get_catalogue.cache_info().currsize >= len(catalogue.VERSIONS)
assert gc.get_threshold()[0] == 50_000
preload.preload_and_freeze()
assert gc.get_freeze_count() == frozen  # once per process
print("ok")
"""


def test_preload_freezes_the_standards_data_once():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
