"""Engine and transactions.

``store.begin()`` is a write transaction, ``store.read()`` a read-only snapshot.
On SQLite a write transaction starts ``BEGIN IMMEDIATE`` (one writer at a time)
in WAL mode with ``synchronous=FULL``: an acknowledgement is only sent after a
commit that survives power loss. Writers queue on a lock (a first-come-first-served
thread lock, then ``flock`` on ``<database>.lock`` across processes) instead of
SQLite's busy handler, which sleeps up to 100 ms between retries and starves
waiters under load. Reads take no lock (WAL readers never block). PostgreSQL needs none of this.

The schema is created on first use; later nullable columns are added to an
existing database (additive migrations only: nothing stored is touched).
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .tables import GENESIS, AuditHead, AuditRecord, Base

LOCK_TIMEOUT = 30.0


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class StoreBusy(RuntimeError):
    """No write transaction could start within the lock timeout."""


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let SQLAlchemy's begin event emit BEGIN
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={int(LOCK_TIMEOUT * 1000)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("jgz_read") else "BEGIN IMMEDIATE")


class _FifoLock:
    """A lock handed to its waiters in arrival order (``threading.Lock`` is not fair: under
    load a thread can lose the race again and again)."""

    def __init__(self):
        self._guard = threading.Lock()
        self._waiters: collections.deque = collections.deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        with self._guard:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=timeout):
            return True
        with self._guard:
            try:
                self._waiters.remove(turn)
            except ValueError:
                return True  # handed over just as the wait timed out: it is ours
            return False

    def release(self) -> None:
        with self._guard:
            if self._waiters:
                self._waiters.popleft().release()  # stays held: passed to the next in line
            else:
                self._held = False


class _WriterLock:
    """One writer at a time: threads of this process, then processes (``flock`` on a side file)."""

    def __init__(self, path: str | None):
        self._thread_lock = _FifoLock()
        self._path, self._pid = path, os.getpid()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if path else None

    @contextmanager
    def held(self) -> Iterator[None]:
        import fcntl

        if self._fd is not None and self._pid != os.getpid():  # a forked child: flock needs its own open file
            self._fd, self._pid = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        if not self._thread_lock.acquire(timeout=LOCK_TIMEOUT):
            raise StoreBusy(f"no write transaction within {LOCK_TIMEOUT:.0f} s (nested store.begin()?)")
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_EX)  # the kernel wakes the next waiter at once
            try:
                yield
            finally:
                if self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Store:
    """One database: ``with store.begin() as session:`` is one write transaction."""

    def __init__(self, url: str, *, create: bool = True):
        self.url = url
        self.sqlite = url.startswith("sqlite")
        self.engine = create_engine(
            url,
            connect_args={"timeout": LOCK_TIMEOUT} if self.sqlite else {},
            pool_pre_ping=not self.sqlite,
            pool_size=8,
            max_overflow=32,
        )
        self._lock = None
        if self.sqlite:
            _sqlite_setup(self.engine)
            path = self.engine.url.database
            self._lock = _WriterLock(f"{path}.lock" if path and path != ":memory:" else None)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(self.engine.execution_options(jgz_read=True), expire_on_commit=False)
        if create:
            Base.metadata.create_all(self.engine)
            _add_missing_columns(self.engine)
            self._ensure_audit_head()

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on any error."""
        if self._lock is None:
            with self._sessions() as session, session.begin():
                yield session
            return
        with self._lock.held(), self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (a consistent snapshot; never blocks writers on SQLite)."""
        with self._readers() as session, session.begin():
            yield session

    def session(self) -> Session:
        return self._sessions()

    def dispose(self) -> None:
        self.engine.dispose()
        if self._lock is not None:
            self._lock.close()

    def _ensure_audit_head(self) -> None:
        """The audit chain's head row exists from the start, so appending only ever locks it."""
        try:
            with self.begin() as s:
                if s.get(AuditHead, 1) is None and s.execute(select(AuditRecord.seq).limit(1)).first() is None:
                    s.add(AuditHead(id=1, seq=0, hash=GENESIS))
        except IntegrityError:
            pass  # another process created it first


def _add_missing_columns(engine: Engine) -> None:
    """Add nullable columns that newer code defines to tables an older version created."""
    with engine.begin() as conn:
        inspector = inspect(conn)
        for table in Base.metadata.sorted_tables:
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present and column.nullable:
                    kind = column.type.compile(dialect=engine.dialect)
                    conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
