"""Steps the end-to-end tests of several entities take: products into the shop, an order placed there."""

from __future__ import annotations

from tests.helpers.stack import Stack, wait_until


def sync_products(stack: Stack, pids: list[int]) -> list[str]:
    for pid in pids:
        stack.act(stack.sim.save_item(pid))
    codes = [stack.erp.get_product(pid).code for pid in pids]
    wait_until(lambda: all(stack.shop_product(c) for c in codes), message="products in the shop")
    return codes


def shop_order(stack: Stack, skus_qty: list[tuple[str, int]], customer_id: int = 0, currency: str = "PLN",
               email: str = "gosc@example.pl", nip: str = "") -> dict:
    api = stack.shop_api()
    billing = {"first_name": "Ewa", "last_name": "Wiśniewska", "company": "", "address_1": "Długa 5/3",
               "city": "Kraków", "postcode": "30-001", "country": "PL", "email": email, "phone": "+48 600 100 200"}
    body = {"status": "processing", "currency": currency, "customer_id": customer_id, "billing": billing,
            "shipping": {**billing, "address_1": "Polna 7", "city": "Wieliczka"},
            "line_items": [{"sku": s, "quantity": q} for s, q in skus_qty],
            "meta_data": [{"key": "_billing_nip", "value": nip}] if nip else []}
    order = api.post("/orders", json=body)
    order.raise_for_status()
    api.close()
    return order.json()
