"""Queue throughput on SQLite and PostgreSQL: durable enqueues/s and claim+ack messages/s.

    python bench/queue_bench.py [--count 5000]      (make bench-queue)

PostgreSQL is a throw-away cluster started here (as in the tests). Aim: at least
2,000 durable enqueues/s on SQLite (synchronous=FULL) on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shopsync.server.queue.store import QueueStore  # noqa: E402
from tests.helpers.postgres import PostgresServer  # noqa: E402


def run(label: str, url: str, count: int) -> None:
    store = QueueStore.from_url(url)
    start = time.perf_counter()
    for i in range(count):
        store.enqueue("outbox", "stock", {"erp_id": i, "stock": "5"}, entity_key=f"product:{i}",
                      request_id=f"s{i}")
    single = count / (time.perf_counter() - start)

    def one(i: int) -> None:
        store.enqueue("outbox", "stock", {"erp_id": i, "stock": "5"}, entity_key=f"product:{count + i}",
                      request_id=f"c{i}")

    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(count)))
    concurrent = count / (time.perf_counter() - start)
    start = time.perf_counter()
    done = 0
    while msgs := store.claim("outbox", limit=100):
        done += store.ack(msgs)
    drain = done / (time.perf_counter() - start)
    store.close()
    print(f"{label:10} enqueue, 1 caller: {single:8.0f} msg/s   8 callers (group commit): {concurrent:8.0f} msg/s   "
          f"claim+ack (batches of 100): {drain:8.0f} msg/s", flush=True)
    if label == "sqlite":
        verdict = "met" if min(single, concurrent) >= 2000 else "NOT met"
        print(f"{'':10} aim: >= 2000 durable enqueues/s on SQLite: {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()
    print(f"queue benchmark: {os.cpu_count()} cores, Python {platform.python_version()}, {args.count} messages")
    with tempfile.TemporaryDirectory() as tmp:
        run("sqlite", f"sqlite:///{tmp}/queue.db", args.count)
    pg = PostgresServer().start()
    try:
        run("postgres", pg.create_database("bench"), args.count)
    finally:
        pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
