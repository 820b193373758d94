"""Store, directory and audit chain."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update, delete
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable

from jgz_gateway.store import AuditHead, AuditRecord, Base, Store
from jgz_gateway.transfer import audit, directory
from jgz_gateway.transfer.directory import DirectoryError, OrgEntry

from .conftest import BACKENDS, databases_for


@pytest.fixture(params=BACKENDS)
def backend_dbs(request, tmp_path):
    return request.param, databases_for(request, tmp_path)


@pytest.fixture()
def store(backend_dbs):
    backend, dbs = backend_dbs
    s = Store(dbs.url(backend, "gw"))
    yield s
    s.dispose()


def test_schema_compiles_for_postgresql():
    ddl = "\n".join(str(CreateTable(t).compile(dialect=postgresql.dialect())) for t in Base.metadata.sorted_tables)
    assert "BYTEA" in ddl and "TIMESTAMP WITH TIME ZONE" in ddl
    assert "UNIQUE (transmission_id)" in ddl and "UNIQUE (dossier_id)" in ddl


def _entry(**kw):
    base = dict(ura="12345678", name="GGD Testregio", application_id="12345678", endpoint="https://127.0.0.1:8443/dob",
                bds_versions=("4.2.0", "4.1.3"))
    base.update(kw)
    return OrgEntry(**base)


def test_directory_round_trip_and_checks(store, org_b, org_a):
    from cryptography.hazmat.primitives import serialization

    pem = org_b.cert.public_bytes(serialization.Encoding.PEM).decode()
    with store.begin() as s:
        directory.add(s, _entry(certificate_pem=pem, ggd_region="Testregio"))
    with store.begin() as s:
        e = directory.get(s, "12345678")
        assert e.bds_versions == ("4.2.0", "4.1.3") and e.ggd_region == "Testregio"
        assert directory.by_application(s, "12345678").ura == "12345678"
        assert [x.ura for x in directory.all_entries(s)] == ["12345678"]
    bad = {
        "must be 8 digits": dict(ura="1234"),
        "https:// URL": dict(endpoint="http://x/dob"),
        "BDS versions": dict(bds_versions=("9.9",)),
        "application id": dict(application_id="abc"),
        "transport": dict(transport="ftp"),
        "not 12345678": dict(certificate_pem=org_a.cert.public_bytes(serialization.Encoding.PEM).decode()),
    }
    for why, kw in bad.items():
        with pytest.raises(DirectoryError, match=why), store.begin() as s:
            directory.add(s, _entry(**kw), replace=True)
    with pytest.raises(DirectoryError, match="already in the directory"), store.begin() as s:
        directory.add(s, _entry())
    with pytest.raises(DirectoryError, match="already registered"), store.begin() as s:
        directory.add(s, _entry(ura="87654321"))
    with pytest.raises(DirectoryError, match="not in the directory"), store.begin() as s:
        directory.get(s, "11111111")


def _fill(store, n=5):
    for i in range(n):
        with store.begin() as s:
            audit.record(s, event="transfer-out", outcome="success", user="uzi-sys:9", organisation="00001111",
                         client_bsn="999901795", object=f"t-{i}", detail="sent", access_point="127.0.0.1")


def test_audit_chain_detects_modification(store):
    _fill(store)
    with store.begin() as s:
        assert audit.verify(s).ok and audit.verify(s).records == 5
        s.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(client_bsn="111222333"))
    with store.begin() as s:
        report = audit.verify(s)
    assert not report.ok and any("record 3" in p and "modified" in p for p in report.problems)


@pytest.mark.parametrize("seq", [2, 5])
def test_audit_chain_detects_deletion(store, seq):
    _fill(store)
    with store.begin() as s:
        s.execute(delete(AuditRecord).where(AuditRecord.seq == seq))
    with store.begin() as s:
        report = audit.verify(s)
    assert not report.ok, report


def test_audit_rolls_back_with_the_act(store):
    _fill(store, 2)
    with pytest.raises(RuntimeError), store.begin() as s:
        audit.record(s, event="consent", outcome="blocked", user="u", organisation="00001111")
        raise RuntimeError("the act failed")
    with store.begin() as s:
        assert audit.verify(s).records == 2 and s.get(AuditHead, 1).seq == 2


def test_audit_times_are_utc(store):
    _fill(store, 1)
    with store.begin() as s:
        rec = s.get(AuditRecord, 1)
    assert rec.at.tzinfo is not None and rec.at.utcoffset() == dt.timedelta(0)
    with pytest.raises(ValueError), store.begin() as s:
        audit.record(s, event="nonsense", outcome="x", user="u", organisation="1")


def test_concurrent_appends_keep_one_chain(backend_dbs):
    import threading

    backend, dbs = backend_dbs
    store = Store(dbs.url(backend, "c"))

    def work():
        for _ in range(10):
            with store.begin() as s:
                audit.record(s, event="read", outcome="success", user="u", organisation="00001111")
    threads = [threading.Thread(target=work) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    with store.begin() as s:
        report = audit.verify(s)
    store.dispose()
    assert report.ok and report.records == 40


def test_overlong_values_are_clipped_not_lost(store):
    """A hostile message's ids end up in audit records: they are clipped to fit, on every database."""
    with store.begin() as s:
        audit.record(s, event="authz-failure", outcome="rejected", user="app:" + "9" * 500, organisation="unknown",
                     object="2.16.528.1^" + "x" * 500, client_bsn="1" * 40, access_point="h" * 300)
    with store.read() as s:
        rec = s.get(AuditRecord, 1)
        assert len(rec.user) == 200 and rec.user.endswith("…") and len(rec.object) == 200 and len(rec.client_bsn) == 32
        assert audit.verify(s).ok


def test_read_snapshot_does_not_block_a_writer(store):
    """A long read (a listing) never holds up a write (a receipt) on either database."""
    import threading

    _fill(store, 1)
    done = threading.Event()
    with store.read() as s:
        assert audit.verify(s).records == 1

        def write():
            _fill(store, 1)
            done.set()

        t = threading.Thread(target=write)
        t.start()
        assert done.wait(10), "the writer waited for the reader"
        t.join()


def test_older_database_gets_new_columns(backend_dbs):
    """A database made before the conversion-report columns existed is brought up to date, data kept."""
    from sqlalchemy import create_engine, inspect, text

    backend, dbs = backend_dbs
    url = dbs.url(backend, "old")
    Store(url).dispose()
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("DROP TABLE inbox"))
        c.execute(text("CREATE TABLE inbox (id INTEGER PRIMARY KEY, transmission_id VARCHAR(200) UNIQUE, "
                       "dossier_id VARCHAR(200) UNIQUE, sender_ura VARCHAR(8), receiver_ura VARCHAR(8), bsn VARCHAR(9), "
                       "interaction VARCHAR(32), bds_version VARCHAR(16), raw_message BYTEA, dossier_json TEXT, "
                       "ack BYTEA, received_at TIMESTAMP)".replace("BYTEA", "BLOB" if backend == "sqlite" else "BYTEA")))
        c.execute(text("INSERT INTO inbox (id, transmission_id, dossier_id, sender_ura, receiver_ura, interaction) "
                       "VALUES (1, 't^1', 'd^1', '00001111', '12345678', 'REPC_IN902120NL04')"))
    Store(url).dispose()
    columns = {c["name"] for c in inspect(engine).get_columns("inbox")}
    assert {"received_bds_version", "conversion_report"} <= columns
    with engine.connect() as c:
        assert c.execute(text("SELECT transmission_id FROM inbox")).scalar_one() == "t^1"
    engine.dispose()


def test_writers_in_several_processes_keep_one_chain(tmp_path):
    """Receiving processes share one SQLite file: their appends queue, none is lost or forked off."""
    import multiprocessing

    url = f"sqlite:///{tmp_path / 'p.db'}"
    Store(url).dispose()
    procs = [multiprocessing.get_context("spawn").Process(target=_append, args=(url, 15)) for _ in range(3)]
    [p.start() for p in procs]
    [p.join(60) for p in procs]
    assert [p.exitcode for p in procs] == [0, 0, 0]
    store = Store(url)
    with store.read() as s:
        report = audit.verify(s)
    store.dispose()
    assert report.ok and report.records == 45


def _append(url: str, n: int) -> None:
    store = Store(url)
    for _ in range(n):
        with store.begin() as s:
            audit.record(s, event="read", outcome="success", user="u", organisation="00001111")
    store.dispose()
