"""Adapters are found through the entry-point group, including one from a separate package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jgz_gateway.adapters import registry
from jgz_gateway.adapters.base import BULK, REQUIRED
from jgz_gateway.adapters.errors import AdapterError

JGZ = Path(sys.executable).with_name("jgz")

VENDOR_MODULE = '''
"""A tiny third-party adapter: one JSON line per dossier with the child's BSN."""
import json
from pathlib import Path

from jgz_gateway.adapters.base import Coverage, Description


def describe():
    return Description(name="acme-lines", version="0.1", formats=("JSON lines",), bds_versions=("4.2.0",),
                       summary="ACME test adapter")


def coverage(**options):
    return Coverage(fills=frozenset({7}), drops=frozenset())


def read(source, **options):
    return iter(())


def write(dossiers, destination, **options):
    with open(destination, "a", encoding="utf-8") as fh:
        for d in dossiers:
            fh.write(json.dumps({"bsn": d.bsn}) + "\\n")
'''


def make_distribution(root: Path, name: str, entry_points: str, modules: dict[str, str]) -> None:
    """A minimal installed distribution: modules plus a dist-info with real entry points."""
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(entry_points, encoding="utf-8")


@pytest.fixture
def vendor_package(tmp_path, monkeypatch):
    make_distribution(
        tmp_path, "acme-jgz-adapter",
        "[jgz_gateway.adapters]\nacme-lines = acme_lines\nacme-broken = acme_broken\n",
        {"acme_lines": VENDOR_MODULE, "acme_broken": "def describe():\n    return None\n"},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_shipped_adapters_follow_the_protocol():
    found = {i.name: i for i in registry.installed()}
    for name in ("hl7v3", "csv-export", "json-export"):
        entry = found[name]
        assert entry.problem is None and entry.distribution == "jgz-gateway"
        assert all(callable(getattr(entry.module, f)) for f in REQUIRED + BULK)
        assert entry.description.name == name and entry.bulk
        cov = entry.module.coverage()
        assert cov.fills and not (cov.fills & cov.drops)


def test_third_party_adapter_is_registered_and_usable(vendor_package, tmp_path, csv_export_dir):
    found = {i.name: i for i in registry.installed()}
    acme = found["acme-lines"]
    assert acme.distribution == "acme-jgz-adapter" and acme.description.summary == "ACME test adapter"
    assert not acme.bulk
    assert "lacks coverage(), read(), write()" in found["acme-broken"].problem
    with pytest.raises(AdapterError, match="is broken"):
        registry.get("acme-broken")
    # the basic interface is enough to be a migration destination
    import datetime as dt

    from jgz_gateway.adapters.migrate import migrate
    from jgz_gateway.adapters.to_dossier import Envelope

    out = tmp_path / "lines.jsonl"
    summary = migrate("csv-export", csv_export_dir, "acme-lines", out,
                      source_options={"envelope": Envelope(created=dt.datetime(2025, 6, 1))})
    assert summary.written == 40 and summary.failed == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 40


def test_unknown_adapter_names_the_installed_ones():
    with pytest.raises(AdapterError, match="unknown adapter 'nope'; installed: .*csv-export"):
        registry.get("nope")


def test_jgz_adapters_list_shows_the_separate_package(vendor_package):
    env = dict(os.environ, PYTHONPATH=str(vendor_package))
    out = subprocess.run([str(JGZ), "adapters", "list", "--json"], capture_output=True, text=True, env=env,
                         check=True).stdout
    rows = {r["name"]: r for r in json.loads(out)}
    assert {"hl7v3", "csv-export", "json-export", "acme-lines", "acme-broken"} <= set(rows)
    assert rows["acme-lines"]["package"] == "acme-jgz-adapter" and rows["acme-lines"]["formats"] == ["JSON lines"]
    assert rows["acme-broken"]["problem"]
    text = subprocess.run([str(JGZ), "adapters", "list"], capture_output=True, text=True, env=env, check=True).stdout
    assert "acme-lines" in text and "broken" in text
