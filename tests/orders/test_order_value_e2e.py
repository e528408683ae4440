"""Orders with taxes, shipping, a fee and coupons, from the real WooCommerce and the local shop (which computes
them as the real one does: tests/test_shop_fidelity.py): the ERP order's gross equals what the customer paid,
to the grosz, with prices entered with tax and without, through both ERP writers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopsync.v1 import queue_pb2, queue_pb2_grpc
from tests.conftest import ORDER_STACKS, make_stack
from tests.helpers.stack import Stack, wait_until
from tests.helpers.sync_steps import sync_products


@pytest.fixture(params=ORDER_STACKS)
def taxed_stack(request, tmp_path):
    s = make_stack(request, tmp_path, products=30).start_server()
    s.register_webhooks()  # the local shop's (the real one is polled)
    with s.shop_api() as api:  # WooCommerce with Polish VAT: 23% on goods and on shipping
        api.put("/settings/general/woocommerce_calc_taxes", json={"value": "yes"}).raise_for_status()
        api.post("/taxes", json={"country": "PL", "rate": "23.0000", "name": "VAT", "shipping": True,
                                 "priority": 1}).raise_for_status()
        api.post("/coupons", json={"code": "rabat10", "discount_type": "percent", "amount": "10"}).raise_for_status()
        api.post("/coupons", json={"code": "minus750", "discount_type": "fixed_cart",
                                   "amount": "7.50"}).raise_for_status()
    yield s
    s.close()


def vat23_products(stack: Stack, n: int) -> list[int]:
    products = stack.erp.get_products(range(1, 31))
    return [pid for pid, p in products.items() if p.marked and p.vat == 23][:n]


@pytest.mark.parametrize("prices_include_tax", ["yes", "no"])
def test_erp_gross_equals_the_shop_total_with_shipping_fee_and_coupons(taxed_stack, prices_include_tax):
    stack = taxed_stack
    with stack.shop_api() as api:
        api.put("/settings/tax/woocommerce_prices_include_tax", json={"value": prices_include_tax}).raise_for_status()
    codes = sync_products(stack, vat23_products(stack, 2))
    billing = {"first_name": "Ewa", "last_name": "Wiśniewska", "address_1": "Długa 5/3", "city": "Kraków",
               "postcode": "30-001", "country": "PL", "email": "vat@example.pl"}
    placed = []
    with stack.shop_api() as api:
        for coupons in (["rabat10"], ["minus750"], []):
            body = {"status": "processing", "billing": billing, "shipping": billing, "payment_method": "bacs",
                    "customer_note": "Proszę o fakturę",
                    "line_items": [{"sku": codes[0], "quantity": 3}, {"sku": codes[1], "quantity": 1}],
                    "shipping_lines": [{"method_id": "flat_rate", "method_title": "Kurier", "total": "15.00"}],
                    "fee_lines": [{"name": "Pobranie", "total": "5.00", "tax_status": "taxable"}],
                    "coupon_lines": [{"code": c} for c in coupons]}
            r = api.post("/orders", json=body)
            r.raise_for_status()
            placed.append(r.json())
    for order in placed:
        assert Decimal(order["total_tax"]) > 0 and order["prices_include_tax"] == (prices_include_tax == "yes")
        zo = wait_until(lambda o=order: stack.erp.find_order_by_shop_number(o["number"]), timeout=60,
                        message=f"order {order['number']} in the ERP")
        record = stack.erp.get_order(zo)
        assert record.net + record.vat == Decimal(order["total"]), (order["number"], order["total"], record)
        assert len(record.lines) == 4, "two goods, shipping and the fee"
        assert "Proszę o fakturę" in record.description
    with stack.channel() as ch:
        dead = queue_pb2_grpc.QueueServiceStub(ch).ListDeadLetters(queue_pb2.ListDeadLettersRequest(),
                                                                    metadata=stack.metadata).dead_letters
    assert not dead, [d.reason for d in dead]
