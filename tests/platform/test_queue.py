"""The queue contract, run against SQLite and a real PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from shopsync.server.queue.store import NotFound, QueueStore

ROOT = Path(__file__).resolve().parents[2]


def drain(store: QueueStore, queue: str = "outbox") -> list[int]:
    seen = []
    while msgs := store.claim(queue, limit=10):
        seen += [m.payload["n"] for m in msgs]
        store.ack(msgs)
    return seen


def test_fifo_order_by_enqueue(store):
    for n in range(50):
        store.enqueue("outbox", "stock", {"n": n}, entity_key=f"product:{n % 7}", coalesce=False)
    out = drain(store)
    assert sorted(out) == list(range(50))
    for k in range(7):
        mine = [n for n in out if n % 7 == k]
        assert mine == sorted(mine), "one entity's messages must come out in order"
    for n in range(20):
        store.enqueue("outbox", "stock", {"n": n})
    assert drain(store) == list(range(20))


def test_fifo_holds_after_deleting_the_newest_row(store):
    """SQLite must not reuse the id of a deleted last row (AUTOINCREMENT)."""
    a = store.enqueue("outbox", "k", {"n": 1}).id
    store.ack(store.claim("outbox"))
    b = store.enqueue("outbox", "k", {"n": 2}).id
    assert b > a


def test_coalescing_replaces_payload_and_keeps_place(store):
    first = store.enqueue("outbox", "product", {"n": 1, "v": "old"}, entity_key="product:1")
    store.enqueue("outbox", "product", {"n": 2}, entity_key="product:2")
    again = store.enqueue("outbox", "product", {"n": 1, "v": "new"}, entity_key="product:1")
    assert again.coalesced and again.id == first.id
    msgs = store.claim("outbox", limit=10)
    assert [m.payload for m in msgs] == [{"n": 1, "v": "new"}, {"n": 2}]


def test_no_coalescing_into_a_message_in_flight(store):
    store.enqueue("outbox", "product", {"n": 1}, entity_key="product:1")
    leased = store.claim("outbox")
    second = store.enqueue("outbox", "product", {"n": 2}, entity_key="product:1")
    assert not second.coalesced
    # the later message of the same entity waits until the first is acked
    assert store.claim("outbox") == []
    store.ack(leased)
    assert [m.payload["n"] for m in store.claim("outbox")] == [2]


def test_idempotent_enqueue_by_request_id(store):
    a = store.enqueue("erp_events", "item-saved", {"n": 1}, request_id="req-1")
    b = store.enqueue("erp_events", "item-saved", {"n": 1}, request_id="req-1")
    assert b.duplicate and b.id == a.id
    assert store.depth("erp_events") == 1


def test_lease_expiry_after_worker_is_killed(store, queue_url, tmp_path, clock):
    store.enqueue("outbox", "stock", {"n": 7}, entity_key="product:7")
    ready = tmp_path / "claimed"
    proc = subprocess.Popen([sys.executable, "-m", "tests.helpers.queue_worker", queue_url,
                             "claim-and-hang", str(ready)], cwd=ROOT)
    try:
        deadline = time.time() + 30
        while not ready.exists() and time.time() < deadline:
            time.sleep(0.05)
        assert ready.read_text() != "none"
        assert store.claim("outbox") == []  # leased by the worker
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    clock.now = time.time() + 1.2  # the worker's 1 s lease (on its real clock) runs out
    msgs = store.claim("outbox")
    assert [m.payload["n"] for m in msgs] == [7]
    assert msgs[0].attempts == 2


def test_backoff_keeps_entity_order_and_lets_others_pass(store, clock):
    store.enqueue("outbox", "stock", {"n": 1}, entity_key="product:1")
    m1 = store.claim("outbox")[0]
    store.enqueue("outbox", "stock", {"n": 2}, entity_key="product:1")
    store.enqueue("outbox", "stock", {"n": 3}, entity_key="product:2")
    assert store.fail(m1, "shop said 503", retryable=True) == "retry"
    # product:1's retry is backing off: its later message must not overtake it
    got = store.claim("outbox", limit=10)
    assert [m.payload["n"] for m in got] == [3]
    store.ack(got)
    wait = store.next_available_in("outbox")
    assert wait is not None and 0 < wait <= 0.5, "the retry waits for its back-off"
    assert store.claim("outbox", limit=10) == [], "not before its back-off ends"
    clock.advance(wait + 0.01)
    got = store.claim("outbox", limit=10)
    assert [m.payload["n"] for m in got] == [1]
    store.ack(got)
    assert [m.payload["n"] for m in store.claim("outbox", limit=10)] == [2]


def test_dead_letters_do_not_block_and_can_be_retried_or_discarded(store):
    store.enqueue("inbox", "order", {"n": 1}, entity_key="order:1")
    store.enqueue("inbox", "order", {"n": 2}, entity_key="order:1", coalesce=False)
    m = store.claim("inbox")[0]
    assert store.fail(m, "unknown SKU X-1 on line 1", retryable=False) == "dead"
    assert [x.payload["n"] for x in store.claim("inbox")] == [2]
    dead = store.dead_letters("inbox")
    assert len(dead) == 1 and dead[0].reason == "unknown SKU X-1 on line 1"
    stats = {s.queue: s for s in store.stats()}
    assert stats["inbox"].dead == 1 and stats["inbox"].in_flight == 1
    new_id = store.retry_dead(dead[0].id)
    assert new_id > m.id and store.dead_letters("inbox") == []
    try:
        store.discard_dead(new_id)
        raise AssertionError("a pending message is not a dead letter")
    except NotFound:
        pass


def test_too_many_attempts_make_a_dead_letter(store, clock):
    store.enqueue("outbox", "stock", {"n": 1}, entity_key="product:1")
    outcomes = []
    for _ in range(3):
        msgs = store.claim("outbox")
        outcomes.append(store.fail(msgs[0], "timeout", retryable=True))
        clock.advance(1.0)  # past the longest back-off here (0.5 s)
    assert outcomes == ["retry", "retry", "dead"]
    assert store.dead_letters()[0].attempts == 3
    store.discard_dead(store.dead_letters()[0].id)
    assert store.dead_letters() == [] and store.depth() == 0


def test_release_returns_messages_without_counting_an_attempt(store):
    store.enqueue("outbox", "stock", {"n": 1}, entity_key="product:1")
    msgs = store.claim("outbox")
    store.release(msgs)
    again = store.claim("outbox")
    assert again[0].attempts == 1


def test_stats_report_depth_and_oldest_age(store, clock):
    store.enqueue("outbox", "stock", {"n": 1})
    clock.advance(30)
    stats = {s.queue: s for s in store.stats()}
    assert stats["outbox"].pending == 1 and stats["outbox"].oldest_age_seconds == pytest.approx(30, abs=0.01)
    assert stats["inbox"].pending == 0 and stats["inbox"].oldest_age_seconds == 0


def test_two_workers_on_postgres_never_deliver_a_message_twice(postgres, tmp_path):
    from tests.conftest import new_pg_url

    url = new_pg_url(postgres)
    store = QueueStore.from_url(url)
    entity_of = {}
    for n in range(400):
        r = store.enqueue("outbox", "stock", {"n": n}, entity_key=f"product:{n % 40}", coalesce=False)
        entity_of[r.id] = n % 40
    logs = [tmp_path / "w1.log", tmp_path / "w2.log"]
    procs = [subprocess.Popen([sys.executable, "-m", "tests.helpers.queue_worker", url, "deliver",
                               str(log)], cwd=ROOT) for log in logs]
    for p in procs:
        assert p.wait(timeout=120) == 0
    deliveries = [line.split() for log in logs for line in log.read_text().splitlines()]
    ids = [int(d[0]) for d in deliveries]
    assert len(ids) == 400 and len(set(ids)) == 400
    assert all(log.read_text() for log in logs), "both workers should have taken a share"
    by_entity: dict[int, list[tuple[int, float, float]]] = {}
    for d in deliveries:
        by_entity.setdefault(entity_of[int(d[0])], []).append((int(d[0]), float(d[1]), float(d[2])))
    for runs in by_entity.values():
        runs.sort(key=lambda r: r[1])
        assert [r[0] for r in runs] == sorted(r[0] for r in runs), "FIFO per entity across workers"
        assert all(a[2] <= b[1] for a, b in zip(runs, runs[1:])), "one entity never in two workers at once"
    assert store.depth() == 0
    store.close()


def test_waiting_for_a_person_is_a_state_not_a_failure(store):
    """A parked message never spends attempts, so it never dead-letters by waiting (max_attempts here is 3)."""
    store.enqueue("inbox", "order", {"n": 1}, entity_key="order:1")
    for _ in range(10):
        [m] = store.claim("inbox", limit=1)
        store.park(m, "customer needs a person", 0)
    [m] = store.claim("inbox", limit=1)
    assert m.attempts == 1
    assert store.dead_letters() == []


def test_one_dead_letter_per_entity(store):
    """The same bad order from a webhook and from polling is one dead letter: under the first one's id (the one
    already logged and shown to a person, which still answers), with the newest content and reason."""
    ids = []
    for source in ("webhook", "poll"):
        store.enqueue("inbox", "order", {"n": source}, entity_key="order:7")
        [m] = store.claim("inbox", limit=1)
        ids.append(m.id)
        store.fail(m, f"bad SKU ({source})", retryable=False)
    dead = store.dead_letters()
    assert len(dead) == 1 and "poll" in dead[0].reason and dead[0].id == ids[0]
    store.retry_dead(ids[0])
    [again] = store.claim("inbox", limit=1)
    assert again.payload == {"n": "poll"}


def test_a_queue_made_by_an_older_shopsync_gets_the_new_column_in_place(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # queue_message as shopsync made it before reasons were coded
        db.execute("CREATE TABLE queue_message (id INTEGER PRIMARY KEY AUTOINCREMENT, queue VARCHAR(32) NOT NULL, "
                   "kind VARCHAR(64) NOT NULL, entity_key VARCHAR(200), payload TEXT NOT NULL, status SMALLINT "
                   "NOT NULL, attempts INTEGER NOT NULL, created_at REAL NOT NULL, available_at REAL NOT NULL, "
                   "lease_until REAL, lease_token VARCHAR(64), last_error TEXT, dead_at REAL)")
        db.execute("INSERT INTO queue_message (queue, kind, entity_key, payload, status, attempts, created_at, "
                   "available_at) VALUES ('inbox', 'order', 'order:1', '{}', 0, 0, 1, 1)")
    store = QueueStore.from_url(f"sqlite:///{path}")
    try:
        [m] = store.claim("inbox", limit=1, lease_seconds=30)
        store.fail(m, "order 1: has no lines", retryable=False,
                   why='{"code": "order.no_lines", "params": {"order": "1"}}')
        [d] = store.dead_letters()
        assert d.id == m.id and d.reason == "order 1: has no lines" and "order.no_lines" in d.why
    finally:
        store.close()
