"""The ERP's change feeds (Symfonia WebAPI, change tracking on) with no hooks at all: what a Symfonia
user does reaches the shop by the feeds alone, and a card saved without an edit sends nothing.

Real pieces: the WebAPI simulator process over the demo company (its change log), the server process
reading the feeds, the local shop and a real WooCommerce. No `erp-hook` runs in these tests.
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import make_stack
from tests.helpers.stack import Stack, wait_until

FEED_SETTINGS = {"feed_interval_seconds": 0.5, "feed_overlap_seconds": 5}


@pytest.fixture(params=[("woocommerce", "webapi"),
                        pytest.param(("real_woocommerce", "webapi"), marks=pytest.mark.real_woocommerce)],
                ids=["woocommerce", "real_woocommerce"])
def stack(request, tmp_path):
    s = make_stack(request, tmp_path, erp=FEED_SETTINGS).start_server()
    yield s
    s.close()


def metric(stack: Stack, name: str, **labels: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{stack.console_port}/metrics", timeout=10).text
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def feeds_read_after(stack: Stack, route: str = "GET /InventoryStates/Changes") -> None:
    """Wait until the server has read the feeds twice more (a change made before this call has been seen)."""
    start = stack.webapi.calls(route)
    wait_until(lambda: stack.webapi.calls(route) >= start + 2, message=f"two more reads of {route}")


def test_marker_and_goods_receipt_reach_the_shop_by_the_feeds_alone(stack):
    p = stack.erp.get_product(1)
    assert p.marked
    stack.sim.save_item(1, name="Nazwa z karty")  # saved in Symfonia; no hook runs
    shop = wait_until(lambda: stack.shop_product(p.code), timeout=40, message="the product created from the feed")
    assert shop.name == "Nazwa z karty" and shop.published
    before = stack.erp.commercial_stock([1])[1]
    stack.sim.approve_pz(1, 10)  # a goods receipt, no hook
    wait_until(lambda: stack.shop_product(p.code).stock == before + 10, timeout=40,
               message="the receipt's stock in the shop")
    stack.sim.add_reservation(1, 4)  # a reservation lowers commercial stock: the feed says so too
    wait_until(lambda: stack.shop_product(p.code).stock == before + 6, timeout=40,
               message="the reservation's stock in the shop")
    unmarked = stack.erp.get_product(3)
    assert not unmarked.marked
    stack.sim.set_marker(3, True)  # giving the marker creates the product (feature 8), by the feed
    wait_until(lambda: stack.shop_product(unmarked.code), timeout=40, message="created on the marker")
    assert metric(stack, "shopsync_erp_feed_changes_total", feed="InventoryStates", result="queued") >= 2
    assert metric(stack, "shopsync_erp_feed_lag_seconds") < 30


def test_a_card_saved_without_an_edit_sends_nothing(stack):
    p = stack.erp.get_product(2)
    stack.sim.save_item(2)
    wait_until(lambda: stack.shop_product(p.code), timeout=40, message="created from the feed")
    wait_until(stack.queues_empty, message="queues drained")
    queued = metric(stack, "shopsync_erp_feed_changes_total", feed="Products", result="queued")
    settled = metric(stack, "shopsync_messages_settled_total", queue="erp_events", entity="erp_event", outcome="done")
    stack.sim.save_item(2)  # saved again, nothing edited: the ERP logs it changed all the same
    feeds_read_after(stack, "GET /Products/IncrementalSync")
    assert metric(stack, "shopsync_erp_feed_changes_total", feed="Products", result="unchanged") >= 1
    assert metric(stack, "shopsync_erp_feed_changes_total", feed="Products", result="queued") == queued
    assert metric(stack, "shopsync_messages_settled_total", queue="erp_events", entity="erp_event",
                  outcome="done") == settled, "nothing was queued for the unedited save"
    stack.sim.save_item(2, name="Teraz zmieniona")  # an edit is sent
    wait_until(lambda: stack.shop_product(p.code).name == "Teraz zmieniona", timeout=40, message="the edit")


def test_a_stock_move_in_a_warehouse_the_shop_does_not_sum_sends_nothing(tmp_path):
    s = Stack(tmp_path, erp_writer="webapi", erp={**FEED_SETTINGS, "warehouses": [1]}).start_server()
    try:
        p = s.erp.get_product(4)
        s.sim.save_item(4)
        wait_until(lambda: s.shop_product(p.code), timeout=40, message="created from the feed")
        wait_until(s.queues_empty, message="queues drained")
        queued = metric(s, "shopsync_erp_feed_changes_total", feed="InventoryStates", result="queued")
        in_shop = s.shop_product(p.code).stock
        s.sim.approve_pz(4, 7, warehouse=2)
        feeds_read_after(s)
        assert metric(s, "shopsync_erp_feed_changes_total", feed="InventoryStates", result="queued") == queued
        assert metric(s, "shopsync_erp_feed_changes_total", feed="InventoryStates", result="unchanged") >= 1
        s.sim.approve_pz(4, 3, warehouse=1)
        wait_until(lambda: s.shop_product(p.code).stock == in_shop + 3, timeout=40,
                   message="warehouse 1's receipt in the shop")
    finally:
        s.close()


def test_a_family_is_made_and_moved_by_the_feeds_alone(stack):
    """Families of sizes (products.variants_by): the features a person gives cards reach the shop as a variable
    product and its variations with no hook, and a card given another family moves there."""
    stack.stop_server()
    stack.sections["products"] = {"variants_by": "feature:Rodzina", "variant_attributes": ["Rozmiar"]}
    stack.write_config()
    stack.start_server()
    codes = {}
    for pid, size in ((5, "S"), (6, "M")):
        stack.sim.set_feature(pid, "Rodzina", "FEED-FAM")  # no hook runs
        stack.sim.set_feature(pid, "Rozmiar", size)
        stack.sim.set_marker(pid, True)
        codes[pid] = stack.erp.get_product(pid).code

    def skus(value: str) -> set[str]:
        parent = stack.shop_product(value)
        return {v.sku for v in stack.woo.iter_variations(parent.id)} if parent else set()

    wait_until(lambda: skus("FEED-FAM") == set(codes.values()), timeout=60, message="the family from the feeds")
    stack.sim.set_feature(6, "Rodzina", "FEED-FAM-2")
    wait_until(lambda: skus("FEED-FAM-2") == {codes[6]} and skus("FEED-FAM") == {codes[5]}, timeout=60,
               message="the card moved by the feeds")
