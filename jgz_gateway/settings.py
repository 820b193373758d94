"""Gateway configuration: a TOML file and/or ``JGZ_*`` environment variables.

Everything is checked at start and every problem is reported at once, naming
the setting and where it came from, so a gateway never starts half-configured.
Environment variables override the file (``JGZ_URA``, ``JGZ_DATABASE_URL``...).

Example ``gateway.toml``::

    ura = "00001111"
    name = "GGD Groningen"
    application_id = "1111"
    cert_file = "certs/test/orgs/00001111/chain.pem"   # certificate first, then intermediates
    key_file = "certs/test/orgs/00001111/server.key"
    trust_anchors = "certs/test/trust-anchors.pem"
    crl_files = ["certs/test/crl.pem"]
    database_url = "sqlite:///gateway-00001111.db"   # or postgresql+psycopg://user@host/db
    listen_host = "127.0.0.1"
    listen_port = 8443
    bds_version = "4.2.0"          # every received dossier is imported in this version
    workers = 2                    # receiving processes: one per core
    trust_reload_seconds = 3600    # re-read trust anchors and CRLs this often
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path


class SettingsError(Exception):
    """The configuration is unusable; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]):
        super().__init__("invalid configuration:\n  - " + "\n  - ".join(problems))
        self.problems = problems


@dataclass
class Settings:
    ura: str = ""
    name: str = ""
    application_id: str = ""
    cert_file: str = ""
    key_file: str = ""
    trust_anchors: str = ""
    crl_files: list[str] = field(default_factory=list)
    require_crl: bool = True
    uzi_system_id: str = ""  # ControlAct author device id; default: the UZI number in the certificate
    database_url: str = "sqlite:///jgz-gateway.db"
    listen_host: str = "127.0.0.1"
    listen_port: int = 8443
    bds_version: str = "4.2.0"
    require_consent: bool = False  # policy: a transfer needs consent element 1163
    retry_horizon_hours: float = 120.0  # 5 days, as ebMS/Digikoppeling default
    alert_after_failures: int = 10
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0
    delivery_timeout_seconds: float = 60.0
    worker_interval_seconds: float = 5.0
    delivery_concurrency: int = 4  # transfers the delivery worker has in flight at once
    workers: int = 1  # receiving API processes (uvicorn workers); the delivery worker runs in its own
    receive_concurrency: int = 1  # messages one receiving process works on at once (CPU-bound: more only contend)
    trust_reload_seconds: float = 3600.0  # trust anchors and CRLs are re-read this often (G8: at least hourly)
    max_message_bytes: int = 50 * 1024 * 1024

    # Loaded at check time.
    _loaded: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def identity(self):
        return self._loaded["identity"]

    @property
    def chain(self):
        return self._loaded["chain"]

    @property
    def key(self):
        return self._loaded["key"]

    @property
    def truststore(self):
        return self._loaded["trust"]


_ENV_PREFIX = "JGZ_"


def _fields() -> dict[str, type]:
    return {f.name: f.type for f in fields(Settings) if not f.name.startswith("_")}


def load(path: str | Path | None = None, env: dict[str, str] | None = None, *, check: bool = True) -> Settings:
    """Read ``path`` (TOML) then ``JGZ_*`` variables from ``env`` (default ``os.environ``); check all."""
    env = os.environ if env is None else env
    values: dict = {}
    problems: list[str] = []
    known = _fields()
    base = Path(".")
    if path is not None:
        path = Path(path)
        base = path.parent
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise SettingsError([f"config file {path} does not exist"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError([f"config file {path}: {exc}"]) from None
        for key, value in data.items():
            if key not in known:
                problems.append(f"{path}: unknown setting {key!r}")
            else:
                values[key] = (value, f"{path}")
    for key in known:
        if _ENV_PREFIX + key.upper() in env:
            values[key] = (env[_ENV_PREFIX + key.upper()], f"${_ENV_PREFIX}{key.upper()}")
    settings = Settings()
    for key, (value, origin) in values.items():
        try:
            setattr(settings, key, _coerce(key, known[key], value))
        except ValueError as exc:
            problems.append(f"{key} (from {origin}): {exc}")
    for key in ("cert_file", "key_file", "trust_anchors"):
        if getattr(settings, key):
            setattr(settings, key, str(_resolve(base, getattr(settings, key))))
    settings.crl_files = [str(_resolve(base, p)) for p in settings.crl_files]
    if settings.database_url.startswith("sqlite:///") and not settings.database_url.startswith("sqlite:////"):
        rel = settings.database_url[len("sqlite:///"):]
        if rel and rel != ":memory:":
            settings.database_url = "sqlite:///" + str(_resolve(base, rel))
    if problems:
        raise SettingsError(problems)
    if check:
        validate(settings)
    return settings


def _resolve(base: Path, p: str) -> Path:
    q = Path(p).expanduser()
    return q if q.is_absolute() else (base / q)


def _coerce(key: str, typ, value):
    typ = str(typ)
    if typ in ("str",):
        if not isinstance(value, (str, int)):
            raise ValueError(f"expected text, got {value!r}")
        return str(value)
    if typ == "int":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a whole number, got {value!r}") from None
    if typ == "float":
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, got {value!r}") from None
    if typ == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    if typ == "list[str]":
        if isinstance(value, str):
            return [v for v in value.split(os.pathsep) if v]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise ValueError(f"expected a list of paths, got {value!r}")
    raise ValueError(f"unsupported setting type {typ}")


def validate(s: Settings) -> None:
    """Check every setting and load certificates and keys; raise :class:`SettingsError` listing all problems."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from .transfer.pki import CertificateRejected, TrustStore, UziIdentity

    problems: list[str] = []
    if not re.fullmatch(r"[0-9]{8}", s.ura):
        problems.append(f"ura: {s.ura!r} is not an 8-digit URA")
    if not re.fullmatch(r"[0-9]{1,20}", s.application_id):
        problems.append(f"application_id: {s.application_id!r} is not an AORTA application id (digits)")
    if not (0 < s.listen_port < 65536):
        problems.append(f"listen_port: {s.listen_port} is not a TCP port")
    if s.bds_version not in ("4.2.0", "4.1.3", "4.0", "3.2.7"):
        problems.append(f"bds_version: {s.bds_version!r} is not a supported BDS version")
    for key in ("retry_horizon_hours", "backoff_base_seconds", "backoff_max_seconds", "delivery_timeout_seconds",
                "worker_interval_seconds", "trust_reload_seconds"):
        if getattr(s, key) <= 0:
            problems.append(f"{key}: must be positive")
    for key in ("alert_after_failures", "delivery_concurrency", "workers", "receive_concurrency", "max_message_bytes"):
        if getattr(s, key) < 1:
            problems.append(f"{key}: must be at least 1")
    if not s.database_url or "://" not in s.database_url:
        problems.append(f"database_url: {s.database_url!r} is not a database URL (sqlite:///file.db, postgresql+psycopg://...)")

    chain = key = trust = None
    if not s.cert_file:
        problems.append("cert_file: not set (the organisation's UZI server certificate, PEM, with its chain)")
    else:
        try:
            chain = x509.load_pem_x509_certificates(Path(s.cert_file).read_bytes())
        except OSError as exc:
            problems.append(f"cert_file: cannot read {s.cert_file}: {exc.strerror}")
        except ValueError:
            problems.append(f"cert_file: {s.cert_file} holds no PEM certificate")
    if not s.key_file:
        problems.append("key_file: not set (the private key of the certificate, PEM)")
    else:
        try:
            key = serialization.load_pem_private_key(Path(s.key_file).read_bytes(), None)
        except OSError as exc:
            problems.append(f"key_file: cannot read {s.key_file}: {exc.strerror}")
        except (ValueError, TypeError) as exc:
            problems.append(f"key_file: {s.key_file} is not an unencrypted PEM private key ({exc})")
    if not s.trust_anchors:
        problems.append("trust_anchors: not set (PEM bundle of trusted roots, e.g. PKIoverheid Private Root CA G1)")
    else:
        try:
            crl_bytes = b"".join(Path(p).read_bytes() for p in s.crl_files)
            trust = TrustStore.from_pem(Path(s.trust_anchors).read_bytes(), crl_bytes, require_crl=s.require_crl)
        except OSError as exc:
            problems.append(f"trust_anchors/crl_files: cannot read {exc.filename}: {exc.strerror}")
        except ValueError as exc:
            problems.append(f"trust_anchors: {exc}")
    identity = None
    if chain and key is not None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        if not isinstance(key, rsa.RSAPrivateKey):
            problems.append("key_file: the key must be RSA (UZI server certificates are RSA)")
        elif chain[0].public_key().public_numbers() != key.public_key().public_numbers():
            problems.append(f"key_file: {s.key_file} does not belong to the certificate in {s.cert_file}")
        try:
            identity = UziIdentity.from_certificate(chain[0])
            if s.ura and identity.ura != s.ura:
                problems.append(f"cert_file: certificate is for URA {identity.ura}, but ura is {s.ura}")
        except CertificateRejected as exc:
            problems.append(f"cert_file: {exc}")
        if trust is not None and identity is not None:
            try:
                trust.validate(chain[0], chain[1:])
            except CertificateRejected as exc:
                problems.append(f"cert_file: own certificate does not validate against trust_anchors: {exc}")
    if problems:
        raise SettingsError(problems)
    if not s.uzi_system_id:
        s.uzi_system_id = identity.uzi_number
    s._loaded.update(identity=identity, chain=chain, key=key, trust=trust)
