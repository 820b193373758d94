"""The README's main job works: two local gateways, one signed transfer, audit trails intact."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_transfers_a_dossier():
    env = dict(os.environ, JGZ_DEMO_PORT_A=str(_port()), JGZ_DEMO_PORT_B=str(_port()))
    result = subprocess.run([str(ROOT / "scripts" / "demo.sh")], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "state: delivered" in result.stdout
    assert result.stdout.count("audit trail intact") == 2
    assert "Traceback" not in result.stderr
