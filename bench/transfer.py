"""Benchmark: signed dossier transfers end to end between two local gateways (not a timed test).

Receiver B: ``jgz serve`` (``--workers`` uvicorn processes, mutual TLS, SQLite). Sender A: this
process, ``--senders`` threads, each sending one dossier after another as ``jgz send`` does:
gate, close, build, sign and store the transfer in A's outbox, then deliver it over its own
mutual-TLS connection (send → verify → validate → store → ack). The dossiers to send (the
qualification message with distinct dossier ids) exist before the clock starts, as they would
in the sending system.

Printed: transfers/s, p50/p99 latency from send to ack (and of the delivery alone; and
without each sender's first transfer, when all senders start at the same instant on new
TLS connections and their first deliveries reach the receiver as one burst), failures
and duplicates, the CPU each side spent per transfer (and the throughput those costs allow on
this machine's cores), how busy the machine was with other processes, and the floor measured
in the same run: parse + sign + verify of the same message in a tight loop on one core, times
the number of cores. Beside it, the single-core cost of every step the pipeline cannot skip
(build and sign on the sender; parse, verify, validate and read on the receiver), which bounds
what the two gateways can reach together on this machine.

    .venv/bin/python bench/transfer.py [--count 320] [--senders 32] [--workers 2] [--message FILE] [--key-size 2048]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MESSAGE = ROOT.parent / "shared/reference/hl7v3/examples/nl04-jgz8.0/DOB-4.0.0-KWAL_versturen_hl7.xml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(tmp: Path, pki, ura: str, app: str, port: int, workers: int = 1) -> Path:
    p = tmp / f"{ura}.toml"
    p.write_text("\n".join([
        f'ura = "{ura}"', f'name = "GGD {ura}"', f'application_id = "{app}"', f'cert_file = "{pki.chain(ura)}"',
        f'key_file = "{pki.key(ura)}"', f'trust_anchors = "{pki.anchors}"', f'crl_files = ["{pki.crl}"]',
        f'database_url = "sqlite:///{tmp / (ura + ".db")}"', f"listen_port = {port}", f"workers = {workers}",
    ]) + "\n")
    return p


def floor_ms(message: bytes, key, chain, trust, rounds: int = 30) -> float:
    from jgz_gateway.standards import xmlsafe
    from jgz_gateway.transfer import signing

    times = []
    for _ in range(rounds + 3):
        t = time.perf_counter()
        root = xmlsafe.parse_bytes(message).getroot()
        signed = signing.sign(root, key, chain)
        signing.verify(signed, trust)
        times.append(time.perf_counter() - t)
    return statistics.median(times[3:]) * 1000


def stages_ms(message: bytes, key, chain, trust, rounds: int = 20) -> dict[str, float]:
    """Median single-core cost of each step a transfer needs, on the same message (no I/O)."""
    from jgz_gateway.standards import xmlsafe
    from jgz_gateway.standards.hl7v3 import build_tree, read_message
    from jgz_gateway.standards.validation import validate_tree
    from jgz_gateway.transfer import signing

    dossier = read_message(message)
    steps = {
        "build (sender)": lambda _: build_tree(dossier),
        "sign (sender)": lambda root: signing.sign(root, key, chain),
        "parse (receiver)": lambda signed: xmlsafe.parse_bytes(signed).getroot(),
        "verify (receiver)": lambda root: signing.verify(root, trust),
        "validate (receiver)": lambda verified: (validate_tree(verified.signed_xml), verified)[1],
        "read (receiver)": lambda verified: read_message(verified.signed_xml),
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds + 2):
        value = None
        for name, step in steps.items():
            t = time.perf_counter()
            value = step(value)
            times[name].append(time.perf_counter() - t)
    return {name: statistics.median(ts[2:]) * 1000 for name, ts in times.items()}


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def tree(proc: psutil.Process) -> list[psutil.Process]:
    return [proc] + proc.children(recursive=True)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * q))] * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=320)
    ap.add_argument("--senders", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2, help="receiving uvicorn processes of gateway B")
    ap.add_argument("--message", type=Path, default=DEFAULT_MESSAGE)
    ap.add_argument("--key-size", type=int, default=2048)
    args = ap.parse_args()

    from jgz_gateway.settings import load
    from jgz_gateway.standards.hl7v3 import read_message
    from jgz_gateway.store import InboxMessage, Store, Transfer
    from jgz_gateway.transfer import directory
    from jgz_gateway.transfer.directory import OrgEntry
    from jgz_gateway.transfer.gateway import outbox_for
    from jgz_gateway.transfer.pki import TestPki
    from jgz_gateway.transfer.trust import TrustSource

    message = args.message.read_bytes()
    tmp = Path(tempfile.mkdtemp(prefix="jgz-bench-"))
    a, b = "00001111", "12345678"
    pki = TestPki.init(tmp / "pki", [(a, "GGD A"), (b, "GGD B")], key_size=args.key_size)
    port = free_port()
    cfg_a, cfg_b = config(tmp, pki, a, "1111", free_port()), config(tmp, pki, b, "5678", port, args.workers)
    sa = load(cfg_a)
    store_a, store_b = Store(sa.database_url), Store(load(cfg_b).database_url)
    with store_a.begin() as s:
        directory.add(s, OrgEntry(b, "GGD B", "5678", f"https://127.0.0.1:{port}/dob", ("4.2.0", "4.1.3")))
    with store_b.begin() as s:
        directory.add(s, OrgEntry(a, "GGD A", "1111", "https://127.0.0.1:1/dob", ("4.2.0",)))

    key = serialization.load_pem_private_key(pki.key(a).read_bytes(), None)
    chain = x509.load_pem_x509_certificates(pki.chain(a).read_bytes())
    floor = floor_ms(message, key, chain, pki.truststore())
    stages = stages_ms(message, key, chain, pki.truststore())
    cores = os.cpu_count() or 1

    base = read_message(message)

    def dossier(tag: str):
        """The message's dossier under its own ids (shallow: the rest is shared, never changed)."""
        d = base.model_copy()
        d.ids = [i.model_copy(update={"extension": tag}) for i in base.ids]
        d.request = base.request.model_copy(update={"ids": [i.model_copy(update={"extension": tag}) for i in base.request.ids]})
        return d

    per = [args.count // args.senders + (1 if i < args.count % args.senders else 0) for i in range(args.senders)]
    work = [[dossier(f"bench-{i}-{j}") for j in range(n)] for i, n in enumerate(per)]

    jgz = str(Path(sys.executable).with_name("jgz"))
    server = subprocess.Popen([jgz, "serve", "--config", str(cfg_b), "--no-worker"], stderr=open(tmp / "b.log", "wb"))
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(1.0)  # every worker process up
        trust = TrustSource.from_settings(sa)
        warm = outbox_for(sa, store_a, trust)
        for k in range(2 * args.workers):  # each worker process imports its validator once
            warm.deliver(warm.enqueue(dossier(f"warm-{k}"), b).id)

        latencies: list[float] = []
        later: list[float] = []  # after each sender's first transfer (see the docstring)
        deliveries: list[float] = []
        outcomes: list[str] = []
        lock = threading.Lock()
        start = threading.Barrier(args.senders + 1)

        def sender(dossiers) -> None:
            ob = outbox_for(sa, store_a, trust)  # own connection per sender
            start.wait()
            for j, d in enumerate(dossiers):
                t0 = time.perf_counter()
                row = ob.enqueue(d, b)
                t1 = time.perf_counter()
                ob.deliver(row.id)
                t2 = time.perf_counter()
                with store_a.read() as s:
                    state = s.get(Transfer, row.id).state
                with lock:
                    latencies.append(t2 - t0)
                    if j:
                        later.append(t2 - t0)
                    deliveries.append(t2 - t1)
                    outcomes.append(state)

        threads = [threading.Thread(target=sender, args=(w,)) for w in work]
        [t.start() for t in threads]
        receivers = tree(psutil.Process(server.pid))
        me = psutil.Process()
        machine0, sender0 = psutil.cpu_times(), cpu_seconds([me])
        receiver0 = cpu_seconds(receivers)
        start.wait()
        t0 = time.perf_counter()
        [t.join() for t in threads]
        wall = time.perf_counter() - t0
        sender_cpu, receiver_cpu = cpu_seconds([me]) - sender0, cpu_seconds(receivers) - receiver0
        machine1 = psutil.cpu_times()
        busy = sum(getattr(machine1, f) - getattr(machine0, f) for f in ("user", "nice", "system", "irq", "softirq"))
        others = max(0.0, busy - (sender_cpu + receiver_cpu))
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
    with store_b.read() as s:
        bench = InboxMessage.dossier_id.like("%^bench-%-%")
        imported = s.execute(select(func.count()).select_from(InboxMessage).where(bench)).scalar_one()
        distinct = s.execute(select(func.count(func.distinct(InboxMessage.dossier_id))).where(bench)).scalar_one()
    n = len(outcomes)
    delivered = outcomes.count("delivered")
    rate = n / wall
    floor_rate = cores * 1000 / floor
    cpu_per = (sender_cpu + receiver_cpu) / n * 1000
    print(f"message            {args.message.name} ({len(message):,} bytes), RSA-{args.key_size}")
    print(f"transfers          {n} by {args.senders} concurrent senders in {wall:.2f} s; receiver {args.workers} worker process(es)")
    print(f"throughput         {rate:.1f} signed transfers/s end to end (sign+store → verify+validate+store → ack)")
    print(f"latency send→ack   p50 {pct(latencies, 0.5):.0f} ms, p99 {pct(latencies, 0.99):.0f} ms"
          f"  (delivery alone: p50 {pct(deliveries, 0.5):.0f} ms, p99 {pct(deliveries, 0.99):.0f} ms)")
    print(f"  after the start  p50 {pct(later, 0.5):.0f} ms, p99 {pct(later, 0.99):.0f} ms"
          f"  ({len(later)} transfers: each sender's first left out)")
    print(f"outcomes           delivered {delivered}, failed {n - delivered} {sorted(set(outcomes))}")
    print(f"receiver           imported {imported}, distinct dossiers {distinct}, duplicates {imported - distinct}")
    print(f"cpu per transfer   sender {sender_cpu / n * 1000:.1f} ms + receiver {receiver_cpu / n * 1000:.1f} ms = {cpu_per:.1f} ms"
          f" → at most {cores * 1000 / cpu_per:.1f}/s on {cores} cores")
    print(f"machine            {100 * (sender_cpu + receiver_cpu) / (cores * wall):.0f}% of {cores} cores used by the benchmark,"
          f" {100 * others / (cores * wall):.0f}% by other processes")
    print(f"floor              parse+sign+verify {floor:.1f} ms/transfer on one core → {floor_rate:.1f}/s on {cores} cores")
    need = sum(stages.values())
    print(f"steps (one core)   {', '.join(f'{k} {v:.1f}' for k, v in stages.items())} ms"
          f" = {need:.1f} ms → at most {cores * 1000 / need:.1f}/s on {cores} cores before storing, TLS and HTTP")
    print(f"ratio              {rate / floor_rate:.2f} of the floor (target ≥ 0.50); p99 target ≤ 1000 ms")
    return 0 if delivered == n == imported == distinct else 1


if __name__ == "__main__":
    sys.exit(main())
