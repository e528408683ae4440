"""Each synchronizer alone: typed messages in, one outcome per message out, against a shop in memory
(tests/helpers/fakes.py), the demo ERP on the SQLite ODBC driver and a real queue database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopsync.demo import data as demo_data
from shopsync.demo.erp import init_sqlite_demo
from shopsync.server.erp.dialects import make_dialect
from shopsync.server.erp.gateway import ErpGateway
from shopsync.server.queue.store import QueueStore
from shopsync.server.settings import Settings
from shopsync.server.sync import messages as msg
from shopsync.server.queue.bindings import Kind
from shopsync.server.sync.context import SyncContext
from shopsync.server.sync.customers import CustomerStatusExport, payer_for_order
from shopsync.server.sync.dispatch import run_batch
from shopsync.server.sync.orders import OrderImport
from shopsync.server.sync.outcome import CONFIG_ERROR, DEAD, DONE, RETRY, SHOP_DOWN, WAITING
from shopsync.server.sync.products import ProductExport, product_snapshots
from shop_client.errors import ShopAuthError, ShopUnavailable
from shop_client.interface import ITEM_REJECTED, ITEM_RETRYABLE, Address, ShopCustomer, ShopOrder, ShopOrderLine
from tests.helpers.fakes import FakeShop


def sync_context(tmp_path, **sections):
    """A SyncContext over the demo ERP (SQLite ODBC), a real queue database and a shop in memory."""
    db = init_sqlite_demo(tmp_path / "erp.db", product_count=20)
    dialect = make_dialect("sqlite", database=db)
    erp = ErpGateway(dialect.connection_string(), dialect, warehouses=(1, 2))
    store = QueueStore.from_url(f"sqlite:///{tmp_path / 'queue.db'}")
    settings = Settings(base_dir=str(tmp_path)).replace(**sections)
    c = SyncContext.open(settings, store, erp, FakeShop())
    yield c
    erp.close()
    store.close()


@pytest.fixture
def ctx(tmp_path):
    yield from sync_context(tmp_path, orders={"fixed_rates": {"EUR": 4.25}})


def marked(ctx, n: int = 1) -> list[int]:
    return [pid for pid, p in ctx.erp.get_products(range(1, 21)).items() if p.marked][:n]


def states(outcomes) -> list[str]:
    return [o.state for o in outcomes]


# -- products ---------------------------------------------------------------------------
def test_a_marked_product_is_created_and_a_stale_snapshot_is_dropped(ctx):
    [pid] = marked(ctx)
    old, new = product_snapshots(ctx, [pid]), product_snapshots(ctx, [pid])
    assert states(ProductExport().handle(ctx, new)) == [DONE]
    assert ctx.bindings.get(Kind.PRODUCT, pid).shop_id in ctx.shop.products
    calls = len(ctx.shop.calls)
    assert states(ProductExport().handle(ctx, old)) == [DONE]
    assert len(ctx.shop.calls) == calls, "an older snapshot than what was sent is not sent"


def test_a_product_deleted_in_the_shop_is_forgotten_then_created_again(ctx):
    [pid] = marked(ctx)
    ProductExport().handle(ctx, product_snapshots(ctx, [pid]))
    first = ctx.bindings.get(Kind.PRODUCT, pid).shop_id
    del ctx.shop.products[first]  # a person deleted it in the shop
    later = product_snapshots(ctx, [pid])[0]
    again = [msg.ProductSnapshot(pid, {**later.state, "stock": "999"}, later.read_at)]  # and the ERP changed it
    assert states(ProductExport().handle(ctx, again)) == [RETRY]
    assert ctx.bindings.get(Kind.PRODUCT, pid).shop_id is None
    assert states(ProductExport().handle(ctx, product_snapshots(ctx, [pid]))) == [DONE]
    assert ctx.bindings.get(Kind.PRODUCT, pid).shop_id not in (None, first)


def test_per_item_kinds_become_outcomes(ctx):
    a, b, c = marked(ctx, 3)
    snaps = product_snapshots(ctx, [a, b, c])
    ctx.shop.item_kind[snaps[0].state["sku"]] = (ITEM_REJECTED, "Invalid SKU (product_invalid_sku)")
    ctx.shop.item_kind[snaps[1].state["sku"]] = (ITEM_RETRYABLE, "busy")
    outcomes = ProductExport().handle(ctx, snaps)
    assert states(outcomes) == [DEAD, RETRY, DONE]
    assert snaps[0].state["sku"] in outcomes[0].reason and "product_invalid_sku" in outcomes[0].reason


@pytest.mark.parametrize("error, state", [(ShopUnavailable("503"), SHOP_DOWN),
                                          (ShopAuthError("401: check shop.consumer_key"), CONFIG_ERROR)])
def test_a_whole_call_failing_keeps_every_message(ctx, error, state):
    snaps = product_snapshots(ctx, marked(ctx, 3))
    ctx.shop.fail_next = error
    assert states(ProductExport().handle(ctx, snaps)) == [state] * 3
    assert all(ctx.bindings.get(Kind.PRODUCT, s.erp_id) is None for s in snaps), "nothing recorded as sent"


def test_an_image_known_at_creation_rides_in_the_create(ctx, tmp_path):
    [pid] = marked(ctx)
    from shopsync.demo.erp import ErpSimulator

    dialect = make_dialect("sqlite", database=tmp_path / "erp.db")
    sim = ErpSimulator(dialect.connect(dialect.connection_string()), dialect)
    sim.set_image(pid, b"\x89PNG\r\n\x1a\n....", "a.png", "image/png")
    sim.close()
    assert states(ProductExport().handle(ctx, product_snapshots(ctx, [pid]))) == [DONE]
    assert ctx.shop.calls == ["upsert_products"], "no second call for the image"
    assert ctx.bindings.get(Kind.PRODUCT, pid).state["shop_images"], "the shop's copy is remembered (no echo)"


# -- customers ------------------------------------------------------------------------
def test_customer_status_outcomes(ctx):
    ctx.shop.customers[5] = {"customer": None}
    ctx.shop.customers[6] = {"customer": None}
    ctx.shop.item_kind["6"] = (ITEM_REJECTED, "bad meta")
    batch = [msg.CustomerStatus(5, {"status": "paired"}), msg.CustomerStatus(6, {"status": "paired"}),
             msg.CustomerStatus(7, {"status": "paired"})]  # 7 was deleted in the shop: nothing to show it on
    assert states(CustomerStatusExport().handle(ctx, batch)) == [DONE, DEAD, DONE]


# -- orders ---------------------------------------------------------------------------
def order(ctx, oid: int, sku: str, customer_id: int = 0) -> ShopOrder:
    billing = Address(first_name="Ewa", last_name="Nowak", address_1="Długa 5", city="Kraków", postcode="30-001",
                      country="PL", email=f"k{oid}@example.pl")
    return ShopOrder(id=oid, number=str(1000 + oid), status="processing", currency="PLN", customer_id=customer_id,
                     billing=billing, shipping=billing,
                     lines=(ShopOrderLine(product_id=0, sku=sku, name="x", quantity=Decimal(1),
                                          unit_price=Decimal("10")),))


def test_orders_done_dead_and_waiting_in_one_batch(ctx):
    sku = ctx.erp.get_product(1).code
    twins = demo_data.contractors()[0]  # its NIP is shared by two ERP contractors
    ctx.shop.customers[9] = {"customer": ShopCustomer(id=9, email="dwa@example.pl", first_name="A", last_name="B",
                                                      billing=Address(), tax_id=twins.nip10)}
    ctx.shop.orders = {1: order(ctx, 1, sku), 2: order(ctx, 2, "NIE-MA"), 3: order(ctx, 3, sku, customer_id=9)}
    batch = [msg.ShopOrderChanged(i, "poll") for i in (1, 2, 3)]
    outcomes = OrderImport(payer_for_order).handle(ctx, batch)
    assert states(outcomes) == [DONE, DEAD, WAITING]
    assert "NIE-MA" in outcomes[1].reason and "pair" in outcomes[2].reason
    assert ctx.erp.count_orders()[0] == 1


def test_an_unreadable_order_body_is_dead_and_spares_the_rest(ctx):
    sku = ctx.erp.get_product(1).code
    ctx.shop.orders = {1: order(ctx, 1, sku)}
    ctx.shop.parse_order = lambda raw: (_ for _ in ()).throw(AttributeError("'str' object has no attribute 'get'"))
    outcomes = OrderImport(payer_for_order).handle(ctx, [msg.ShopOrderChanged(2, "webhook", {"id": 2, "billing": "x"}),
                                          msg.ShopOrderChanged(1, "poll")])
    assert states(outcomes) == [DEAD, DONE]


# -- dispatch -------------------------------------------------------------------------
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
