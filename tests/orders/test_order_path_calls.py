"""A new shop order reaches its ZMO through the WebAPI asking as little as it must: one Orders/Filter (is it
there already?) and one read per product (its lines and its shipping service), then the one create.

Real pieces: the WebAPI simulator process over the demo company, our WebAPI ERP over HTTP, the order
synchronizer with a real queue database; the shop in memory. The simulator counts the calls.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from shopsync.demo.erp import init_sqlite_demo
from shopsync.server.erp.webapi import WebApiErp
from shopsync.server.queue.store import QueueStore
from shopsync.server.settings import Settings
from shopsync.server.sync import orders
from shopsync.server.sync.context import SyncContext

from shop_client.interface import Address, ShopCharge, ShopOrder, ShopOrderLine
from tests.helpers.fakes import FakeShop
from tests.helpers.webapi import WebApiSimProcess

D = Decimal


@pytest.fixture
def ctx(tmp_path):
    db = init_sqlite_demo(tmp_path / "erp.db", product_count=10)
    sim = WebApiSimProcess(tmp_path, db).start()
    settings = Settings(base_dir=str(tmp_path)).replace(
        erp=sim.settings(), orders={"shipping_code": "TRANSPORT", "payment_forms": {"bacs": 3}})
    erp = WebApiErp.from_settings(settings)
    store = QueueStore.from_url(f"sqlite:///{tmp_path / 'queue.db'}")
    c = SyncContext.open(settings, store, erp, FakeShop())
    c.sim = sim  # type: ignore[attr-defined]
    yield c
    erp.close()
    store.close()
    sim.stop()


def test_a_new_order_asks_once_whether_it_exists_and_reads_each_product_once(ctx):
    products = ctx.erp.get_products([1, 2])
    billing = Address(first_name="Ewa", last_name="Nowak", address_1="Długa 5", city="Kraków", postcode="30-001",
                      country="PL", email="ewa@example.pl")
    lines = tuple(ShopOrderLine(0, products[pid].code, "x", D(1), products[pid].base_price,
                                products[pid].base_price, D(0)) for pid in (1, 2))
    total = sum((ln.total for ln in lines), D(0)) + D("15.00")
    order = ShopOrder(id=601, number="601", status="processing", currency="PLN", customer_id=0, billing=billing,
                      shipping=billing, lines=lines, charges=(ShopCharge("shipping", "Kurier", D("15.00")),),
                      total=total, prices_include_tax=True, payment_method="bacs")
    sim = ctx.sim
    assert ctx.erp.settings_ok() == []  # the settings check the server makes at start (it reads the service too)
    before = {route: sim.calls(route) for route in ("GET /Orders/Filter", "GET /Products", "POST /OrdersIssue/New")}

    zo = orders.import_order(ctx, order, lambda _ctx, _order: 1)

    assert zo is not None
    assert sim.calls("POST /OrdersIssue/New") - before["POST /OrdersIssue/New"] == 1
    assert sim.calls("GET /Orders/Filter") - before["GET /Orders/Filter"] == 1, "asked once whether it exists"
    assert sim.calls("GET /Products") - before["GET /Products"] == 3, "each product and the service read once"
    record = ctx.erp.get_order(zo)
    assert [(pid, q) for pid, q, _ in record.lines][:2] == [(1, 1), (2, 1)]
    # a replay finds the order by the binding: nothing more asked of the ERP's orders
    assert orders.import_order(ctx, order, lambda _ctx, _order: 1) == zo
    assert sim.calls("POST /OrdersIssue/New") - before["POST /OrdersIssue/New"] == 1
