"""The commands: jgz synth (deterministic), jgz adapters coverage|check, clear one-line errors."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path

JGZ = Path(sys.executable).with_name("jgz")


def jgz(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(JGZ), *args], capture_output=True, text=True)


def test_synth_is_deterministic_and_valid(tmp_path):
    for fmt in ("hl7v3", "csv-export", "json-export"):
        a, b = tmp_path / f"{fmt}-a", tmp_path / f"{fmt}-b"
        for out in (a, b):
            run = jgz("synth", "--count", "3", "--seed", "5", "--format", fmt, "-o", str(out), "--today", "2025-06-01")
            assert run.returncode == 0, run.stderr
            assert f"wrote 3 synthetic dossiers ({fmt}, seed 5, as of 2025-06-01)" in run.stdout
        names = sorted(p.name for p in a.iterdir())
        assert names == sorted(p.name for p in b.iterdir()) and names
        assert all(filecmp.cmp(a / n, b / n, shallow=False) for n in names), fmt
    xml = sorted((tmp_path / "hl7v3-a").glob("*.xml"))
    assert len(xml) == 3
    run = jgz("validate", "--no-warnings", *map(str, xml))
    assert run.returncode == 0, run.stdout


def test_coverage_and_check(tmp_path):
    run = jgz("adapters", "coverage", "csv-export", "--json")
    cov = json.loads(run.stdout)
    assert 235 in cov["fills"] and 235 not in cov["drops"] and "clients.created_by" in cov["unmapped"]
    text = jgz("adapters", "coverage", "json-export").stdout
    assert "R027 Groei: 234, 235, 236, 245, 246, 247, 252, 1485, 1614, 1616" in text  # 247, 1485: observations
    bad = tmp_path / "bad.toml"
    bad.write_text('[format]\nname = "x"\nkind = "csv"\nbds = "4.2.0"\n\n[tables.c]\nrole = "client"\n'
                   'file = "c.csv"\nkey = "id"\n\n[tables.c.fields]\nid = 695\nlength = { element = 235, unit = "cm" }\n',
                   encoding="utf-8")
    run = jgz("adapters", "check", str(bad))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip() == (f"error: {bad}:13: 'length': element 235 (Lengte) belongs at activity level, "
                                  "but rows of this table land at dossier level")
    run = jgz("adapters", "check", "jgz_gateway/adapters/mappings/json-export.toml")
    assert run.returncode == 0 and "ok (json-export, json, BDS 4.2.0)" in run.stdout


def test_unknown_format_is_one_line(tmp_path):
    run = jgz("synth", "--count", "1", "--seed", "1", "--format", "xlsx", "-o", str(tmp_path / "x"))
    assert run.returncode == 2 and run.stderr.startswith("error: unknown adapter 'xlsx'; installed:")
    assert "Traceback" not in run.stderr


def test_synth_again_into_the_same_directory_adds_only_what_is_missing(tmp_path):
    out = tmp_path / "csv"
    assert jgz("synth", "--count", "3", "--seed", "8", "--format", "csv-export", "-o", str(out),
               "--today", "2025-06-01").returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    run = jgz("synth", "--count", "3", "--seed", "8", "--format", "csv-export", "-o", str(out), "--today", "2025-06-01")
    assert "wrote 0 synthetic dossiers" in run.stdout and "(3 already there)" in run.stdout
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    run = jgz("synth", "--count", "5", "--seed", "8", "--format", "csv-export", "-o", str(out), "--today", "2025-06-01")
    assert "wrote 2 synthetic dossiers" in run.stdout
    assert len((out / "clients.csv").read_text(encoding="utf-8").splitlines()) == 6
