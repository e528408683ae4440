"""The order import synchronizer alone, against a shop in memory, the demo ERP and a real queue."""

from __future__ import annotations

from decimal import Decimal

from shopsync.demo import data as demo_data
from shopsync.server.sync import messages as msg
from shopsync.server.sync.customers import payer_for_order
from shopsync.server.sync.orders import OrderImport
from shopsync.server.sync.outcome import DEAD, DONE, WAITING

from shop_client.interface import Address, ShopCustomer, ShopOrder, ShopOrderLine


def states(outcomes) -> list[str]:
    return [o.state for o in outcomes]


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
