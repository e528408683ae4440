"""Sample content for the demo shop: products, customers with NIPs in meta, orders."""

from __future__ import annotations

from shopsync.demo import data as demo_data
from demo_shop.app import ShopApp


def seed(app: ShopApp, nip_meta_key: str = "_billing_nip") -> dict[str, int]:
    """Fill an empty shop; returns counts. Some SKUs match demo ERP products, some are new."""
    if app.store.query("products", limit=1)[1]:
        return {"products": 0, "customers": 0, "orders": 0}
    cats: dict[tuple[str, ...], int] = {}

    def category(path: tuple[str, ...]) -> int:
        if path not in cats:
            parent = category(path[:-1]) if len(path) > 1 else 0
            cats[path] = app.create_category({}, {"name": path[-1], "parent": parent})["id"]
        return cats[path]

    products = []
    erp = demo_data.products(300)
    for p in erp[:12]:
        products.append(app.create_product({}, {
            "sku": p.code, "name": p.name, "regular_price": str(p.price), "description": p.note,
            "categories": [{"id": category(p.group)}], "manage_stock": True, "stock_quantity": p.stock[0]}))
    for i in range(1, 9):
        products.append(app.create_product({}, {
            "sku": f"SKLEP-{i:03d}", "name": f"Zestaw prezentowy nr {i}", "regular_price": f"{49 + i * 10}.99",
            "description": "Produkt założony w sklepie, jeszcze nieznany w ERP.",
            "categories": [{"id": category(("Prezenty",))}], "manage_stock": True, "stock_quantity": 5 + i}))
    customers = []
    contractors = demo_data.contractors()
    shapes = [(c.nip_typed.replace("PL", "").strip(), c) for c in contractors[:10]]
    for i, (nip, c) in enumerate(shapes, start=1):
        first, last = demo_data.person(i)
        customers.append(app.create_customer({}, {
            "email": f"klient{i}@example.pl", "first_name": first, "last_name": last,
            "billing": {"first_name": first, "last_name": last, "company": c.name, "address_1": f"{c.street} {c.house}",
                        "city": c.city, "postcode": c.postcode, "country": "PL", "email": f"klient{i}@example.pl"},
            "meta_data": [{"key": nip_meta_key, "value": nip}]}))
    for i, nip in ((11, "123-456-78-90"), (12, "")):
        first, last = demo_data.person(i)
        customers.append(app.create_customer({}, {
            "email": f"klient{i}@example.pl", "first_name": first, "last_name": last,
            "billing": {"first_name": first, "last_name": last, "address_1": "Polna 1", "city": "Łódź",
                        "postcode": "90-001", "country": "PL"},
            "meta_data": [{"key": nip_meta_key, "value": nip}] if nip else []}))
    orders = []
    for n, (cust, prods) in enumerate(((customers[2], products[:2]), (customers[10], products[2:3]))):
        orders.append(app.create_order({}, {
            "status": "processing", "currency": "PLN", "customer_id": cust["id"], "billing": cust["billing"],
            "shipping": cust["billing"], "line_items": [{"product_id": p["id"], "quantity": 1 + n} for p in prods]}))
    return {"products": len(products), "customers": len(customers), "orders": len(orders)}
