"""What the real WooCommerce does and the local shop must do alike: each test runs against both.

The text contract first: ERP text is plain text, what the ERP says is what a shopper
reads, nothing in it becomes markup, and reading back gives the same text (see
shop_client/text.py). Then categories, the default category, and OAuth 1.0a details.
"""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
import pytest

from shop_client.interface import ProductChange
from shop_client.text import to_html, to_plain
from tests.helpers.shop import DemoShopProcess

NAME = 'Osłonka Łoś & syn <czarna> "mała"'
NOTE = "5 < 6 > 4\nŁódź & okolice: \"cytat\" i 'apostrof'\n<script>alert('x')</script>"


@pytest.fixture(params=["woocommerce", pytest.param("real_woocommerce", marks=pytest.mark.real_woocommerce)])
def shop(request, tmp_path):
    proc = (request.getfixturevalue("real_woocommerce") if request.param == "real_woocommerce"
            else DemoShopProcess(tmp_path)).start()
    yield proc
    proc.stop()


def test_plain_text_round_trips_through_html():
    for text in (NAME, NOTE, "", "a &amp; b", "linia 1\n\nlinia 2"):
        assert to_plain(to_html(text)) == text
    assert to_plain("<p>Jeden<br />\ndwa</p>\n<p>trzy &amp; cztery</p>") == "Jeden\ndwa\n\ntrzy & cztery"


def test_names_and_notes_read_back_exactly_and_never_become_markup(shop):
    woo = shop.adapter()
    try:
        [res] = woo.upsert_products([ProductChange(sku="TXT-1", fields={
            "name": NAME, "description": NOTE, "price": Decimal("9.99"), "published": True,
            "category_path": ("Ogród & taras", "Donice <duże>")})])
        assert res.ok, res.error
        p = woo.get_product(res.shop_id)
        assert (p.name, p.description, p.category_path) == (NAME, NOTE, ("Ogród & taras", "Donice <duże>"))
        with shop.api() as api:  # context=view, the default: what a storefront client reads
            view = api.get(f"/products/{res.shop_id}").json()
        assert "<script>" not in view["description"] and "<czarna>" not in view["name"]
        assert to_plain(view["description"]) == NOTE
    finally:
        woo.close()


def test_category_with_ampersand_is_found_again_after_a_restart(shop):
    first = shop.adapter()
    try:
        cat = first.ensure_category(("Ogród & taras", "Meble"))
    finally:
        first.close()
    again = shop.adapter()  # a new process knows nothing of the first one's cache
    try:
        assert again.ensure_category(("Ogród & taras", "Meble")) == cat
        [res] = again.upsert_products([ProductChange(sku="CAT-1", fields={
            "name": "Stół", "category_path": ("Ogród & taras", "Meble"), "published": True})])
        assert res.ok, res.error
        assert again.get_product(res.shop_id).category_path == ("Ogród & taras", "Meble")
    finally:
        again.close()


def test_a_product_without_a_category_has_no_category_path(shop):
    woo = shop.adapter()
    try:
        [res] = woo.upsert_products([ProductChange(sku="NOCAT", fields={"name": "Bez grupy", "published": True})])
        assert res.ok, res.error
        assert woo.get_product(res.shop_id).category_path == ()
    finally:
        woo.close()


@pytest.mark.real_woocommerce
def test_the_storefront_shows_the_erp_text(real_woocommerce):
    """What a shopper's browser gets: the name and note as text, no script from the ERP.

    (Quotes are left out of the name here: WordPress's typography turns them curly on display.)
    """
    shop = real_woocommerce.start()
    woo = shop.adapter()
    name = "Osłonka Łoś & syn <czarna>"
    try:
        [res] = woo.upsert_products([ProductChange(sku="TXT-2", fields={
            "name": name, "description": NOTE, "price": Decimal("9.99"), "published": True})])
        assert res.ok, res.error
        with shop.api() as api:
            link = api.get(f"/products/{res.shop_id}").json()["permalink"]
        page = httpx.get(link, timeout=60, follow_redirects=True).text
        assert "<script>alert('x')</script>" not in page
        title = re.search(r'<h1 class="[^"]*(?:product_title|post-title)[^"]*">(.*?)</h1>', page, re.S)
        assert title and to_plain(title.group(1)) == name
        assert "5 &lt; 6 &gt; 4" in page
    finally:
        woo.close()


def test_oauth_counts_a_repeated_parameter_once_and_refuses_a_repeated_nonce(shop):
    """As PHP reads $_GET: a parameter twice is signed once (the official client sends each twice)."""
    from urllib.parse import urlencode

    from shop_client.woocommerce.oauth import sign_query

    url = f"{shop.url}/wp-json/wc/v3/products"
    signed = sign_query("GET", url, [("per_page", "5")], shop.key, shop.secret)
    query = urlencode([("per_page", "5"), *signed])  # per_page twice, as the official client sends it
    first = httpx.get(f"{url}?{query}", timeout=60)
    assert first.status_code == 200, first.text
    again = httpx.get(f"{url}?{query}", timeout=60)  # same timestamp and nonce
    assert again.status_code == 401 and "nonce" in again.text


def test_order_totals_coupons_and_stock_as_woocommerce_computes_them(shop):
    """2 x 100.00 + 15.00 shipping + 5.00 fee = 220.00; a 10% coupon takes 20.00 off the goods;
    cancelling gives the stock back."""
    woo = shop.adapter()
    try:
        [res] = woo.upsert_products([ProductChange(sku="TOT-1", fields={
            "name": "Towar", "price": Decimal("100.00"), "published": True, "stock": Decimal(10)})])
        assert res.ok, res.error
        with shop.api() as api:
            api.post("/coupons", json={"code": "rabat10", "discount_type": "percent", "amount": "10"}
                     ).raise_for_status()
            base = {"status": "processing", "billing": {"email": "suma@example.pl", "country": "PL"},
                    "line_items": [{"sku": "TOT-1", "quantity": 2}],
                    "shipping_lines": [{"method_id": "flat_rate", "method_title": "Kurier", "total": "15.00"}],
                    "fee_lines": [{"name": "Pobranie", "total": "5.00"}]}
            plain = api.post("/orders", json=base).json()
            assert plain["total"] == "220.00", plain["total"]
            coupon = api.post("/orders", json={**base, "coupon_lines": [{"code": "rabat10"}]}).json()
            assert coupon["total"] == "200.00" and coupon["discount_total"] == "20.00", coupon["total"]
            assert woo.get_product(res.shop_id).stock == Decimal(6)
            api.put(f"/orders/{plain['id']}", json={"status": "cancelled"}).raise_for_status()
            assert woo.get_product(res.shop_id).stock == Decimal(8)
    finally:
        woo.close()


def test_coupons_are_split_over_lines_as_woocommerce_splits_them(shop):
    """3 x 33.33 and 1 x 50.00: 10% takes 10.00 and 5.00 (floored per line, the cent left over to the first
    line); a fixed 7.50 is split per unit, not per line value: 5.63 and 1.87 (the real shop's figures)."""
    woo = shop.adapter()
    try:
        results = woo.upsert_products([ProductChange(sku=sku, fields={"name": sku, "price": Decimal(price),
                                                                      "published": True, "stock": Decimal(50)})
                                       for sku, price in (("CPN-A", "33.33"), ("CPN-B", "50.00"))])
        assert all(r.ok for r in results)
        with shop.api() as api:
            api.post("/coupons", json={"code": "proc10", "discount_type": "percent", "amount": "10"}
                     ).raise_for_status()
            api.post("/coupons", json={"code": "stala750", "discount_type": "fixed_cart", "amount": "7.50"}
                     ).raise_for_status()
            totals = {}
            for code in ("proc10", "stala750"):
                o = api.post("/orders", json={"status": "processing", "billing": {"email": "k@example.pl",
                                                                                    "country": "PL"},
                                              "line_items": [{"sku": "CPN-A", "quantity": 3},
                                                             {"sku": "CPN-B", "quantity": 1}],
                                              "coupon_lines": [{"code": code}]}).json()
                totals[code] = ([li["total"] for li in o["line_items"]], o["discount_total"], o["total"])
    finally:
        woo.close()
    assert totals == {"proc10": (["89.99", "45.00"], "15.00", "134.99"),
                      "stala750": (["94.36", "48.13"], "7.50", "142.49")}, totals


@pytest.mark.parametrize("prices_include_tax", ["yes", "no"])
def test_order_taxes_as_woocommerce_computes_them(shop, prices_include_tax):
    """VAT 23% on goods (entered with or without tax), shipping and a fee, with a coupon: per-line values and the
    total as the real shop computed them for these figures."""
    woo = shop.adapter()
    try:
        assert all(r.ok for r in woo.upsert_products([
            ProductChange(sku=sku, fields={"name": sku, "price": Decimal(price), "published": True,
                                           "stock": Decimal(50)}) for sku, price in (("VAT-A", "33.33"),
                                                                                    ("VAT-B", "50.00"))]))
        with shop.api() as api:
            api.put("/settings/general/woocommerce_calc_taxes", json={"value": "yes"}).raise_for_status()
            api.put("/settings/tax/woocommerce_prices_include_tax",
                    json={"value": prices_include_tax}).raise_for_status()
            api.post("/taxes", json={"country": "PL", "rate": "23.0000", "name": "VAT", "shipping": True,
                                     "priority": 1}).raise_for_status()
            api.post("/coupons", json={"code": "vat10", "discount_type": "percent", "amount": "10"}
                     ).raise_for_status()
            address = {"email": "vat@example.pl", "country": "PL", "postcode": "30-001", "city": "Kraków"}
            o = api.post("/orders", json={
                "status": "processing", "billing": address, "shipping": address,
                "line_items": [{"sku": "VAT-A", "quantity": 3}, {"sku": "VAT-B", "quantity": 1}],
                "shipping_lines": [{"method_id": "flat_rate", "method_title": "Kurier", "total": "15.00"}],
                "fee_lines": [{"name": "Pobranie", "total": "5.00", "tax_status": "taxable"}],
                "coupon_lines": [{"code": "vat10"}]}).json()
    finally:
        woo.close()
    lines = [(li["subtotal"], li["subtotal_tax"], li["total"], li["total_tax"]) for li in o["line_items"]]
    got = (lines, o["shipping_lines"][0]["total_tax"], o["fee_lines"][0]["total_tax"], o["discount_total"],
           o["discount_tax"], o["total_tax"], o["total"], o["prices_include_tax"])
    if prices_include_tax == "yes":
        assert got == ([("81.29", "18.70", "73.16", "16.83"), ("40.65", "9.35", "36.59", "8.41")], "3.45", "1.15",
                       "12.19", "2.80", "29.84", "159.59", True), got
    else:
        assert got == ([("99.99", "23.00", "89.99", "20.70"), ("50.00", "11.50", "45.00", "10.35")], "3.45", "1.15",
                       "15.00", "3.45", "35.65", "190.64", False), got


def test_variable_products_and_their_variations_behave_alike(shop):
    """Variable products as shopsync's variants will use them (issue: sizes and colours): a parent with a
    variation attribute, variations made in one batch, the parent priced by its cheapest variation, a variation
    found by its SKU through /products, the product list without variations, an order of a variation on its
    parent with the variation's id and the variation's stock taken."""
    with shop.api() as api:
        parent = api.post("/products", json={"name": "Koszulka", "type": "variable", "sku": "KOSZ",
                                              "attributes": [{"name": "Rozmiar", "variation": True, "visible": True,
                                                              "options": ["S", "M", "L"]}]})
        assert parent.status_code == 201, parent.text
        pid = parent.json()["id"]
        made = api.post(f"/products/{pid}/variations/batch", json={"create": [
            {"sku": f"KOSZ-{size}", "regular_price": price, "manage_stock": True, "stock_quantity": 5,
             "attributes": [{"name": "Rozmiar", "option": size}]}
            for size, price in (("S", "29.00"), ("M", "31.00"), ("L", "33.00"))]}).json()["create"]
        assert [v["sku"] for v in made] == ["KOSZ-S", "KOSZ-M", "KOSZ-L"], made
        assert all(v["attributes"][0]["option"] in "SML" and v["stock_quantity"] == 5 for v in made)
        got = api.get(f"/products/{pid}").json()
        assert got["type"] == "variable" and sorted(got["variations"]) == sorted(v["id"] for v in made)
        assert Decimal(got["price"]) == Decimal("29.00")
        listed = api.get(f"/products/{pid}/variations", params={"per_page": 100}).json()
        assert sorted(v["id"] for v in listed) == sorted(v["id"] for v in made)
        by_sku = api.get("/products", params={"sku": "KOSZ-M"}).json()
        assert [(p["id"], p["type"], p["parent_id"]) for p in by_sku] == [(made[1]["id"], "variation", pid)]
        everything = api.get("/products", params={"per_page": 100}).json()
        assert pid in {p["id"] for p in everything} and not {v["id"] for v in made} & {p["id"] for p in everything}
        duplicate = api.post(f"/products/{pid}/variations", json={"sku": "KOSZ-S", "regular_price": "1.00"})
        assert duplicate.status_code == 400 and duplicate.json()["code"] == "product_invalid_sku"
        updated = api.put(f"/products/{pid}/variations/{made[0]['id']}", json={"regular_price": "35.00"}).json()
        assert updated["regular_price"] == "35.00"
        assert Decimal(api.get(f"/products/{pid}").json()["price"]) == Decimal("31.00"), "the cheapest now M"
        order = api.post("/orders", json={"status": "processing", "line_items": [
            {"product_id": pid, "variation_id": made[1]["id"], "quantity": 2}],
            "billing": {"email": "rozmiar@example.pl", "first_name": "Ola", "last_name": "Nowak"}})
        assert order.status_code == 201, order.text
        [line] = order.json()["line_items"]
        assert (line["product_id"], line["variation_id"], line["sku"]) == (pid, made[1]["id"], "KOSZ-M")
        assert api.get(f"/products/{pid}/variations/{made[1]['id']}").json()["stock_quantity"] == 3
