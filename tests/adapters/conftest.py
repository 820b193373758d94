"""Shared fixtures: synthetic exports made once per session (deterministic seeds and dates)."""

from __future__ import annotations

import datetime as dt

import pytest

from jgz_gateway.adapters.synth_export import export

TODAY = dt.date(2025, 6, 1)


@pytest.fixture(scope="session")
def csv_export_dir(tmp_path_factory):
    """40 synthetic dossiers as csv-export (seed 11)."""
    out = tmp_path_factory.mktemp("csv-export")
    export("csv-export", out, 40, 11, TODAY)
    return out


@pytest.fixture(scope="session")
def json_export_dir(tmp_path_factory):
    """25 synthetic dossiers as json-export (seed 12)."""
    out = tmp_path_factory.mktemp("json-export")
    export("json-export", out, 25, 12, TODAY)
    return out
