"""The sync's tables beside the queue: bindings, pairings, turns of the periodic passes and holds,
on SQLite and PostgreSQL; every time read from the store's clock."""

from __future__ import annotations

import threading

from shopsync.server.queue.bindings import Binding, Bindings, Kind
from shopsync.server.queue.cursors import Cursors, Holds
from shopsync.server.queue.pairings import Pairing, Pairings, PairingStatus
from shopsync.server.queue.store import QueueStore


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_bindings_round_trip_and_upsert(store):
    bindings = Bindings(store)
    bindings.save([Binding(Kind.PRODUCT, 5, 50, {"name": "a", "stock": "1"}, 10)])
    bindings.save([Binding(Kind.PRODUCT, 5, 51, {"name": "b"}, 11)])
    b = bindings.get(Kind.PRODUCT, 5)
    assert (b.kind, b.shop_id, b.state, b.state_time) == (Kind.PRODUCT, 51, {"name": "b"}, 11)
    assert bindings.by_shop_ids(Kind.PRODUCT, [51])[51].erp_id == 5
    assert bindings.ids(Kind.PRODUCT) == [5]
    assert bindings.get(Kind.ORDER, 5) is None, "kinds are apart"
    bindings.forget(Kind.PRODUCT, [5])
    assert bindings.get(Kind.PRODUCT, 5) is None


def test_pairings_are_typed_and_listed_by_status(store):
    pairings = Pairings(store)
    pairings.set(Pairing(7, 3, PairingStatus.PAIRED, "NIP", False, "5260250274", "a@x", "A"))
    pairings.set(Pairing(8, None, PairingStatus.NO_NIP, "no NIP", False, "", "b@x", "B"))
    assert pairings.get(7).paired and pairings.get(7).status is PairingStatus.PAIRED
    assert [p.shop_customer_id for p in pairings.list([PairingStatus.NO_NIP])] == [8]
    assert pairings.customers_of_contractor(3) == [7]


def test_one_turn_per_interval_across_servers(queue_url):
    clock = FakeClock()
    stores = [QueueStore.from_url(queue_url, clock=clock) for _ in range(2)]  # two servers on one database
    cursors = [Cursors(s) for s in stores]
    wins: list[bool] = []
    lock = threading.Lock()

    def take(c: Cursors) -> None:
        got = c.claim_turn("catch-up", 300)
        with lock:
            wins.append(got)

    threads = [threading.Thread(target=take, args=(cursors[i % 2],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1
    clock.now += 100
    assert not cursors[0].claim_turn("catch-up", 300), "not yet due"
    clock.now += 200
    assert cursors[1].claim_turn("catch-up", 300), "due again after the interval"
    for s in stores:
        s.close()


def test_a_hold_ends_by_the_stores_clock_and_survives_a_reopen(tmp_path):
    clock = FakeClock()
    url = f"sqlite:///{tmp_path / 'q.db'}"
    store = QueueStore.from_url(url, clock=clock)
    Holds(Cursors(store)).hold("webapi.order.701", 90)
    store.close()
    store = QueueStore.from_url(url, clock=clock)
    holds = Holds(Cursors(store))
    assert holds.remaining("webapi.order.701") == 90
    clock.now += 60
    assert holds.remaining("webapi.order.701") == 30
    clock.now += 31
    assert holds.remaining("webapi.order.701") == 0
    store.close()
