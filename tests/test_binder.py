"""Bindings, pairings and turns of the periodic passes, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from server.queue.store import QueueStore
from server.sync.binder import Binder, Binding


def test_bindings_round_trip_and_upsert(store):
    binder = Binder(store)
    binder.save([Binding("product", 5, 50, {"name": "a", "stock": "1"}, 10)])
    binder.save([Binding("product", 5, 51, {"name": "b"}, 11)])
    b = binder.get("product", 5)
    assert (b.shop_id, b.state, b.state_time) == (51, {"name": "b"}, 11)
    assert binder.by_shop_ids("product", [51])[51].erp_id == 5
    assert binder.ids("product") == [5]


def test_one_turn_per_interval_across_servers(queue_url):
    stores = [QueueStore.from_url(queue_url) for _ in range(2)]  # two servers on one database
    binders = [Binder(s) for s in stores]
    wins: list[bool] = []
    lock = threading.Lock()

    def take(binder: Binder) -> None:
        got = binder.claim_turn("catch-up", 300, now=1_000_000.0)
        with lock:
            wins.append(got)

    threads = [threading.Thread(target=take, args=(binders[i % 2],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1
    assert not binders[0].claim_turn("catch-up", 300, now=1_000_100.0), "not yet due"
    assert binders[1].claim_turn("catch-up", 300, now=1_000_300.0), "due again after the interval"
    for s in stores:
        s.close()
