"""Benchmark: signed dossier transfers end to end between two local gateways (not a timed test).

Receiver: ``jgz serve`` (one uvicorn worker, mutual TLS, SQLite). Sender: this process,
``--senders`` threads, each gating, closing, signing and storing a transfer in its outbox
and delivering it over its own mutual-TLS connection (send → verify → validate → store →
ack). Printed: transfers/s, p50/p99 ack latency, failures and duplicates, and the floor
measured in the same run: parse + sign + verify of the same message in a tight loop on one
core, times the number of cores.

    .venv/bin/python bench/transfer.py [--count 320] [--senders 32] [--message FILE] [--key-size 2048]
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

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MESSAGE = ROOT.parent / "shared/reference/hl7v3/examples/nl04-jgz8.0/DOB-4.0.0-KWAL_versturen_hl7.xml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(tmp: Path, pki, ura: str, app: str, port: int) -> Path:
    p = tmp / f"{ura}.toml"
    p.write_text("\n".join([
        f'ura = "{ura}"', f'name = "GGD {ura}"', f'application_id = "{app}"', f'cert_file = "{pki.chain(ura)}"',
        f'key_file = "{pki.key(ura)}"', f'trust_anchors = "{pki.anchors}"', f'crl_files = ["{pki.crl}"]',
        f'database_url = "sqlite:///{tmp / (ura + ".db")}"', f"listen_port = {port}",
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=320)
    ap.add_argument("--senders", type=int, default=32)
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

    message = args.message.read_bytes()
    tmp = Path(tempfile.mkdtemp(prefix="jgz-bench-"))
    a, b = "00001111", "12345678"
    pki = TestPki.init(tmp / "pki", [(a, "GGD A"), (b, "GGD B")], key_size=args.key_size)
    port = free_port()
    cfg_a, cfg_b = config(tmp, pki, a, "1111", free_port()), config(tmp, pki, b, "5678", port)
    sa, sb = load(cfg_a), load(cfg_b)
    store_a, store_b = Store(sa.database_url), Store(sb.database_url)
    with store_a.begin() as s:
        directory.add(s, OrgEntry(b, "GGD B", "5678", f"https://127.0.0.1:{port}/dob", ("4.2.0", "4.1.3")))
    with store_b.begin() as s:
        directory.add(s, OrgEntry(a, "GGD A", "1111", "https://127.0.0.1:1/dob", ("4.2.0",)))

    key = serialization.load_pem_private_key(pki.key(a).read_bytes(), None)
    chain = x509.load_pem_x509_certificates(pki.chain(a).read_bytes())
    floor = floor_ms(message, key, chain, pki.truststore())
    cores = os.cpu_count() or 1

    jgz = str(Path(sys.executable).with_name("jgz"))
    server = subprocess.Popen([jgz, "serve", "--config", str(cfg_b), "--no-worker"], stderr=open(tmp / "b.log", "wb"))
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        base = read_message(message)
        latencies: list[float] = []
        outcomes: list[str] = []
        lock = threading.Lock()
        per = [args.count // args.senders + (1 if i < args.count % args.senders else 0) for i in range(args.senders)]
        warm = outbox_for(sa, store_a)
        d = base.model_copy(deep=True)
        for ident in d.request.ids + d.ids:
            ident.extension = "bench-warmup"
        warm.deliver(warm.enqueue(d, b).id)

        def sender(i: int, n: int) -> None:
            ob = outbox_for(sa, store_a)  # own connection per sender
            for j in range(n):
                d = base.model_copy(deep=True)
                for ident in d.request.ids + d.ids:
                    ident.extension = f"bench-{i}-{j}"
                row = ob.enqueue(d, b)
                t = time.perf_counter()
                ob.deliver(row.id)
                dt = time.perf_counter() - t
                with store_a.begin() as s:
                    state = s.get(Transfer, row.id).state
                with lock:
                    latencies.append(dt)
                    outcomes.append(state)

        threads = [threading.Thread(target=sender, args=(i, n)) for i, n in enumerate(per)]
        t0 = time.perf_counter()
        [t.start() for t in threads]
        [t.join() for t in threads]
        wall = time.perf_counter() - t0
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    with store_b.begin() as s:
        imported = s.execute(select(func.count()).select_from(InboxMessage).where(InboxMessage.dossier_id.like("%^bench-%-%"))).scalar_one()
        distinct = s.execute(select(func.count(func.distinct(InboxMessage.dossier_id))).where(InboxMessage.dossier_id.like("%^bench-%-%"))).scalar_one()
    delivered = outcomes.count("delivered")
    lat = sorted(latencies)
    p50 = lat[len(lat) // 2] * 1000
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
    rate = len(outcomes) / wall
    floor_rate = cores * 1000 / floor
    print(f"message            {args.message.name} ({len(message):,} bytes), RSA-{args.key_size}")
    print(f"transfers          {len(outcomes)} by {args.senders} concurrent senders in {wall:.2f} s")
    print(f"throughput         {rate:.1f} signed transfers/s end to end (sign+store → verify+validate+store → ack)")
    print(f"ack latency        p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    print(f"outcomes           delivered {delivered}, failed {len(outcomes) - delivered} {sorted(set(outcomes))}")
    print(f"receiver           imported {imported}, distinct dossiers {distinct}, duplicates {imported - distinct}")
    print(f"floor              parse+sign+verify {floor:.1f} ms/transfer on one core → {floor_rate:.1f}/s on {cores} cores")
    print(f"ratio              {rate / floor_rate:.2f} of the floor (target ≥ 0.50); p99 target ≤ 1000 ms")
    return 0 if delivered == len(outcomes) == imported else 1


if __name__ == "__main__":
    sys.exit(main())
