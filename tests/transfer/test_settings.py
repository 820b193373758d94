"""Configuration: TOML + environment, checked at start with every problem named."""

from __future__ import annotations

import pytest

from jgz_gateway.settings import SettingsError, load

from .conftest import URA_A, URA_B


def _toml(pki, tmp_path, ura=URA_A, **extra):
    lines = [
        f'ura = "{ura}"', 'application_id = "1111"',
        f'cert_file = "{pki.chain(URA_A)}"', f'key_file = "{pki.key(URA_A)}"',
        f'trust_anchors = "{pki.anchors}"', f'crl_files = ["{pki.crl}"]',
        'database_url = "sqlite:///gw.db"',
    ] + [f"{k} = {v}" for k, v in extra.items()]
    path = tmp_path / "gateway.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_good_config_loads(pki, tmp_path):
    s = load(_toml(pki, tmp_path), env={"JGZ_LISTEN_PORT": "9443", "JGZ_REQUIRE_CONSENT": "true"})
    assert s.ura == URA_A and s.listen_port == 9443 and s.require_consent is True
    assert s.identity.ura == URA_A and s.uzi_system_id == s.identity.uzi_number
    assert s.database_url == f"sqlite:///{tmp_path / 'gw.db'}"  # relative to the config file
    assert len(s.chain) == 2 and s.truststore is not None


def test_env_only(pki, tmp_path):
    env = {"JGZ_URA": URA_A, "JGZ_APPLICATION_ID": "1111", "JGZ_CERT_FILE": str(pki.chain(URA_A)),
           "JGZ_KEY_FILE": str(pki.key(URA_A)), "JGZ_TRUST_ANCHORS": str(pki.anchors), "JGZ_CRL_FILES": str(pki.crl)}
    assert load(None, env=env).ura == URA_A


def test_every_problem_reported(pki, tmp_path):
    path = _toml(pki, tmp_path, ura=URA_B, listen_port="70000", colour='"blue"')
    with pytest.raises(SettingsError) as exc:
        load(path, env={"JGZ_KEY_FILE": str(pki.key(URA_B)), "JGZ_RETRY_HORIZON_HOURS": "soon"})
    text = str(exc.value)
    assert "unknown setting 'colour'" in text and "retry_horizon_hours" in text
    with pytest.raises(SettingsError) as exc:
        load(_toml(pki, tmp_path, ura=URA_B, listen_port=70000), env={"JGZ_KEY_FILE": str(pki.key(URA_B))})
    text = str(exc.value)
    assert "listen_port" in text
    assert "does not belong to the certificate" in text
    assert f"certificate is for URA {URA_A}, but ura is {URA_B}" in text


def test_missing_files_and_bad_toml(pki, tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        load(tmp_path / "nope.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("ura = \n")
    with pytest.raises(SettingsError, match="bad.toml"):
        load(bad, env={})
    with pytest.raises(SettingsError) as exc:
        load(None, env={"JGZ_CERT_FILE": str(tmp_path / "missing.pem")})
    text = str(exc.value)
    assert "cannot read" in text and "key_file: not set" in text and "trust_anchors: not set" in text
