"""Dispatch and messages: unreadable rows and bugs become outcomes; typed messages round-trip the queue."""

from __future__ import annotations

from shopsync.server.sync import messages as msg
from shopsync.server.sync.dispatch import run_batch
from shopsync.server.sync.outcome import DEAD, RETRY


def test_dispatch_turns_unreadable_rows_and_bugs_into_outcomes(ctx):
    ctx.store.enqueue("outbox", "no-such-kind", {"x": 1})
    ctx.store.enqueue("outbox", "customer_status", {"shop_customer_id": 5, "status": {}})
    claimed = ctx.store.claim("outbox", limit=10)
    ctx.shop.set_customer_pairing = lambda statuses: 1 / 0  # a bug in a synchronizer's path
    results = run_batch(ctx, claimed)
    assert [o.state for _, o in results] == [DEAD, RETRY]
    assert "unreadable" in results[0][1].reason and "internal error" in results[1][1].reason


def test_typed_messages_round_trip_through_the_queue(ctx):
    values = [msg.ErpEvent("stock-changed", 3, 5), msg.ProductSnapshot(3, {"sku": "A"}, 7),
              msg.CustomerStatus(4, {"status": "paired"}), msg.ContractorPrices(2, ["HURT"]),
              msg.ShopOrderChanged(8, "webhook", {"id": 8}), msg.ShopCustomerChanged(9, "poll"),
              msg.ShopImageChanged(10, "https://x/a.png")]
    msg.enqueue(ctx.store, values)
    back = [msg.decode(m) for q in ("erp_events", "outbox", "inbox") for m in ctx.store.claim(q, limit=10)]
    assert sorted(map(repr, back)) == sorted(map(repr, values))
    assert msg.EVENT_KINDS["price-list-saved"] and msg.ErpEvent("price-list-saved", 1).key == "price_list:1"
