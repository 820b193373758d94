"""A second process that checks part of a large message while this one checks the rest.

The template rules are pure Python, so one process checks a message on one core. On a
machine with a core to spare, a large message is split in document order: this process
checks the first part of the template rules; the helper re-parses the same bytes and
checks the rest, the XML Schema and the BDS rules. Template verdicts are per element
(:func:`templates.check_templates` with ``part``), so the parts joined in order are
exactly the single-process findings; the tests compare both on every reference message.

Only where a caller waits for one message at a time is this worth it (``jgz validate`` on
a batch of large messages, the benchmark): a migration or a receiving gateway already
keeps every core busy with whole messages, so they never enable it. The helper is used
only when it is up and idle; otherwise, or when it fails or hangs, this process checks
the message alone: the helper makes validation faster but never changes a verdict.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from contextlib import contextmanager
from multiprocessing.connection import Connection

from ..findings import Finding
from ..hl7v3.message import INTERACTIONS, dob_interaction
from ..xmlsafe import MAX_BYTES, XmlRejected, parse_bytes
from . import bds, structure, templates

#: From this size (bytes) a message is split; below it, sending and re-parsing cost more
#: than half the rules save.
SPLIT_FROM = 128 * 1024
#: The helper's share of the template rules (it also re-parses and checks the schema and the
#: BDS rules). Measured on the largest reference message, this process waits for the helper
#: (median) 1-2 ms at 0.34 and 0.2 ms at 0.31 and 0.28 (then it is the slower one).
HELPER_SHARE = 0.31
#: ``jgz validate`` starts the helper for this many bytes of large messages: it takes some
#: 0.65 s of the other core to come up, and each large message saves a third of its time
#: (measured: no gain on the 2 MB of large reference messages, 0.17 s on 20 MB).
BATCH_FROM = 4 * 1024 * 1024
#: How long to wait for the helper's half before checking it here instead (seconds).
PATIENCE = 10.0


def parts(share: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """This process's and the helper's part (``share``) of the elements, in document order."""
    return (0.0, 1.0 - share), (1.0 - share, 1.0)


class Helper:
    """The helper process and the one conversation at a time it holds."""

    def __init__(self, share: float = HELPER_SHARE):
        ctx = multiprocessing.get_context("spawn")  # never fork: this process may have threads
        self.share = share
        self._conn, theirs = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(theirs, share), daemon=True, name="jgz-validate-helper")
        self._process.start()
        theirs.close()
        self._ready = False
        self._pending = False  # a message was sent and its answer not yet read
        self._lock = threading.Lock()
        self.failed = False
        self.answered = 0  # messages the helper checked its part of

    def take(self) -> bool:
        """Reserve the helper for one message: True when it is up, sound and idle."""
        if self.failed or not self._lock.acquire(blocking=False):
            return False
        if not self._ready:
            try:
                self._ready = self._conn.poll() and self._conn.recv() == "ready"
            except (EOFError, OSError):
                self._fail()
            if not self._ready:
                self._lock.release()
                return False
        return True

    def send(self, data: bytes) -> None:
        """Hand over a message; the helper parses it while this process does. On a thread:
        a helper that stopped reading cannot block this process (see :meth:`result`)."""
        self._pending = True
        threading.Thread(target=self._send, args=(data,), name="jgz-helper-send", daemon=True).start()

    def _send(self, data: bytes) -> None:
        try:
            self._conn.send_bytes(data)
        except (OSError, ValueError):
            pass  # the helper is gone: result() finds its end of the pipe closed

    def result(self) -> tuple[list[Finding], list[Finding]] | None:
        """The helper's findings: the schema's, and those of its part of the template rules
        and of the BDS rules; None when it has none (its parse failed, the message is no DOB,
        it failed or hung). Frees the helper. Once per message: a second call returns None."""
        if not self._pending:
            return None
        self._pending = False
        try:
            if not self._conn.poll(PATIENCE):
                self._fail()
                return None
            answer = self._conn.recv()
            self.answered += answer is not None
            return answer
        except (EOFError, OSError):
            self._fail()
            return None
        finally:
            self._lock.release()

    def _fail(self) -> None:
        self.failed = True
        if self._process.is_alive():
            self._process.kill()

    def close(self) -> None:
        self.failed = True
        self._conn.close()
        if self._process.is_alive():
            self._process.kill()
        self._process.join(1)


_helper: tuple[int, Helper] | None = None  # (the process it serves, the helper): a forked child has none
_alone = threading.local()


def current() -> Helper | None:
    """This process's helper, if enabled."""
    return _helper[1] if _helper is not None and _helper[0] == os.getpid() else None


def enable(share: float = HELPER_SHARE) -> None:
    """Start the helper (once per process, in the background) if a core is free for it."""
    global _helper
    if (os.cpu_count() or 1) >= 2 and current() is None:
        _helper = (os.getpid(), Helper(share))


def disable() -> None:
    global _helper
    if current() is not None:
        _helper[1].close()
    _helper = None


def ready(timeout: float = 60.0) -> bool:
    """Wait until the enabled helper is up; False if none is enabled or it did not come up."""
    deadline = time.monotonic() + timeout
    while (helper := current()) is not None and not helper.failed:
        if helper.take():
            helper._lock.release()
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return False


@contextmanager
def alone():
    """Within: this thread's validations do not use the helper (to compare, or measure)."""
    _alone.on = True
    try:
        yield
    finally:
        _alone.on = False


def available(size: int) -> Helper | None:
    """The helper, reserved for a message of ``size`` bytes, when splitting it pays."""
    helper = current()
    if helper is None or not SPLIT_FROM <= size <= MAX_BYTES or getattr(_alone, "on", False):
        return None  # too small to gain, or too large to parse at all
    return helper if helper.take() else None


# --------------------------------------------------------------------------- the helper's side


def _serve(conn: Connection, share: float) -> None:
    """The helper's loop: load and compile everything, say so, then answer each message."""
    from ..preload import preload_and_freeze

    preload_and_freeze()
    for lenient in (False, True):
        for ctx in templates._ruleset(lenient).contexts:
            if ctx.fn is None:
                ctx.compile()
    conn.send("ready")
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            answer = _check(data, share)
        except Exception:  # noqa: BLE001 - the caller then checks it alone, and meets the fault itself
            answer = None
        conn.send(answer)


def _check(data: bytes, share: float) -> tuple[list[Finding], list[Finding]] | None:
    try:
        root = parse_bytes(data).getroot()
    except XmlRejected:
        return None
    interaction = dob_interaction(root)
    if interaction is None:
        return None
    findings = templates.check_templates(root, interaction, parts(share)[1])
    findings += bds.check_bds(root, interaction, INTERACTIONS[interaction])
    return structure.check_schema(root, interaction), findings
