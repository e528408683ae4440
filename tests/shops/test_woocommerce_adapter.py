"""The WooCommerce adapter against the local shop over real HTTP (OAuth 1.0a, plain HTTP)."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest

from shop_client.errors import ShopAuthError, ShopNotFound, ShopUnavailable
from shop_client.interface import ProductChange
from shop_client.woocommerce import WooCommerceShop
from shop_client.woocommerce.oauth import sign_query
from tests.helpers.shop import DemoShopProcess


@pytest.fixture
def shop(tmp_path):
    s = DemoShopProcess(tmp_path).start()
    yield s
    s.stop()


@pytest.fixture
def woo(shop):
    client = shop.adapter()
    yield client
    client.close()


def changes(n: int, prefix: str = "P") -> list[ProductChange]:
    return [ProductChange(sku=f"{prefix}-{i:05d}", fields={"name": f"Produkt {i}", "price": Decimal("9.99"),
                                                            "stock": Decimal(i % 7), "published": True})
            for i in range(n)]


def test_paging_through_1050_products(woo, shop):
    results = woo.upsert_products(changes(1050))
    assert all(r.ok for r in results)
    pages = list(woo.iter_products())
    assert [len(p.items) for p in pages] == [100] * 10 + [50]
    assert pages[0].total == 1050 and pages[0].pages == 11
    skus = [p.sku for page in pages for p in page.items]
    assert len(set(skus)) == 1050


def test_250_item_upsert_goes_in_batches_of_at_most_100(woo, shop):
    shop.clear_faults()
    results = woo.upsert_products(changes(250))
    assert len(results) == 250 and all(r.ok and r.shop_id for r in results)
    assert shop.stats()["batch_sizes"] == [100, 100, 50]
    # the same SKUs again are updates of the same products, not duplicates
    again = woo.upsert_products([ProductChange(sku=c.sku, fields={"stock": Decimal(1)}) for c in changes(250)])
    assert [r.shop_id for r in again] == [r.shop_id for r in results]


def test_413_is_handled_by_splitting(woo, shop):
    shop.faults(batch_limit=30)
    results = woo.upsert_products(changes(100))
    assert all(r.ok for r in results)
    sizes = shop.stats()["batch_sizes"]
    assert max(sizes) <= 30 and sum(sizes) == 100


def test_429_is_waited_out(woo, shop):
    shop.faults(status=429, count=1, retry_after=1)
    start = time.monotonic()
    assert [r.ok for r in woo.upsert_products(changes(1))] == [True]
    assert time.monotonic() - start >= 1.0


def test_long_429_and_503_are_retryable_errors(woo, shop):
    shop.faults(status=429, count=1, retry_after=120)
    with pytest.raises(ShopUnavailable) as err:
        woo.upsert_products(changes(1))
    assert err.value.retry_after == 120
    shop.faults(status=503, count=1)
    with pytest.raises(ShopUnavailable, match="503"):
        woo.get_product(1)


def test_dropped_connection_and_stall_are_retryable(shop):
    woo = shop.adapter(timeout=1)
    shop.faults(drop=1)
    with pytest.raises(ShopUnavailable):
        woo.iter_products().__next__()
    shop.faults(delay=3)
    with pytest.raises(ShopUnavailable, match="in time"):
        woo.get_product(1)
    woo.close()


def test_batch_size_follows_the_shops_speed(shop):
    """A timed-out batch halves the batches; a repeat of it updates, never duplicates; quick ones grow back."""
    from shop_client.errors import ShopTimeout

    woo = shop.adapter(timeout=1.0)
    try:
        shop.faults(delay=1.5, delay_count=1)
        with pytest.raises(ShopTimeout):
            woo.upsert_products(changes(100))
        assert woo.batch_limit == 50
        shop.clear_faults()
        results = woo.upsert_products(changes(100))  # the retry: some of these may exist already
        assert all(r.ok for r in results) and len({r.shop_id for r in results}) == 100
        assert shop.stats()["batch_sizes"][0] == 50
        for _ in range(6):
            woo.upsert_products(changes(100))
        assert woo.batch_limit == 100
    finally:
        woo.close()


def test_shop_down_is_retryable(tmp_path):
    woo = WooCommerceShop("http://127.0.0.1:9", "k", "s", timeout_seconds=1)
    with pytest.raises(ShopUnavailable, match="cannot reach"):
        woo.get_product(1)


def test_wrong_keys_are_a_permanent_auth_error_with_a_clear_message(shop):
    woo = WooCommerceShop(shop.url, shop.key, "wrong-secret")
    with pytest.raises(ShopAuthError) as err:
        woo.get_product(1)
    assert err.value.status == 401 and "consumer_secret" in str(err.value)
    assert "wrong-secret" not in str(err.value)


def test_per_item_errors_surface_per_item(woo, shop):
    results = woo.upsert_products([ProductChange(sku="OK-1", fields={"name": "a"}),
                                   ProductChange(sku="BAD-1", fields={"name": "b"}, shop_id=999999)])
    assert results[0].ok and not results[1].ok
    assert "Invalid ID" in results[1].error


def test_categories_and_product_fields_round_trip(woo):
    [r] = woo.upsert_products([ProductChange(sku="W-1", fields={
        "name": 'Wiertło "Ø8" żółte', "price": Decimal("12.5"), "description": "Opis",
        "category_path": ("Narzędzia", "Wiertarki"), "published": False, "stock": Decimal("7.9"),
        "ean": "5901234123457"})])
    p = woo.get_product(r.shop_id)
    assert p.name == 'Wiertło "Ø8" żółte' and p.price == Decimal("12.50") and p.description == "Opis"
    assert p.category_path == ("Narzędzia", "Wiertarki") and not p.published and p.stock == 7
    assert p.ean == "5901234123457"
    assert woo.ensure_category(("Narzędzia", "Wiertarki")) == woo.ensure_category(["Narzędzia", "Wiertarki"])
    assert [r.ok for r in woo.set_stock([(r.shop_id, "W-1", Decimal(42))])] == [True]
    assert woo.get_product(r.shop_id).stock == 42
    with pytest.raises(ShopNotFound):
        woo.get_product(424242)


def test_oauth_signature_matches_a_published_vector():
    """Twitter's published OAuth 1.0a example (request_token, no token, HMAC-SHA1)."""
    params = sign_query(
        "POST", "https://api.twitter.com/oauth/request_token", [], "GDdmIQH6jhtmLUypg82g",
        "MCD8BKwGdgPHvAuvgvz4EQpqDAtx89grbuNMRd7Eh98", signature_method="HMAC-SHA1",
        timestamp="1272323042", nonce="QP70eNmVz8jvdPevU3oJD2AfF7R7odC2XJcn4XlZJqk",
        extra_oauth={"oauth_callback": "http://localhost:3005/the_dance/process_callback?service_provider_id=11",
                     "oauth_version": "1.0"})
    assert dict(params)["oauth_signature"] == "8wUi7m5HFQy76nowoCThusfgB+Q="


def test_basic_auth_over_https_and_oauth_over_http():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": 1, "sku": "A", "name": "a"})

    https = WooCommerceShop("https://shop.example", "ck_x", "cs_y", transport=httpx.MockTransport(handler))
    https.get_product(1)
    assert seen[-1].headers["authorization"].startswith("Basic ")
    assert "oauth_signature" not in str(seen[-1].url)
    plain = WooCommerceShop("http://shop.example", "ck_x", "cs_y", transport=httpx.MockTransport(handler))
    plain.get_product(1)
    assert "authorization" not in seen[-1].headers
    q = dict(seen[-1].url.params)
    assert q["oauth_consumer_key"] == "ck_x" and q["oauth_signature_method"] == "HMAC-SHA256"
    assert "oauth_version" not in q and "cs_y" not in str(seen[-1].url)


def test_orders_page_with_status_and_modified_after_filters(woo, shop):
    import datetime as dt

    woo.upsert_products([ProductChange(sku="O-1", fields={"name": "x", "price": Decimal("10")})])
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    # orders arrive through the shop's checkout: here its REST create
    from shop_client.woocommerce.oauth import OAuth1QueryAuth
    api = httpx.Client(base_url=shop.url + "/wp-json/wc/v3", auth=OAuth1QueryAuth(shop.key, shop.secret))
    api.post("/orders", json={"status": "processing", "line_items": [{"sku": "O-1", "quantity": 2}],
                              "currency": "EUR"}).raise_for_status()
    api.post("/orders", json={"status": "pending", "line_items": [{"sku": "O-1", "quantity": 1}]}).raise_for_status()
    orders = [o for page in woo.iter_orders(before, ["processing", "on-hold"]) for o in page.items]
    assert len(orders) == 1 and orders[0].currency == "EUR"
    assert orders[0].lines[0].sku == "O-1" and orders[0].lines[0].quantity == 2
    assert orders[0].lines[0].unit_price == Decimal("10")
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
    assert [o for page in woo.iter_orders(later, ["processing"]) for o in page.items] == []
    api.close()


def test_local_shop_keeps_its_webhooks_across_a_restart(shop):
    with shop.api() as api:
        api.post("/webhooks", json={"topic": "order.created", "delivery_url": "http://127.0.0.1:9/hook",
                                    "secret": "s"}).raise_for_status()
    shop.stop()
    shop.start()
    with shop.api() as api:
        hooks = api.get("/webhooks").json()
    assert [(h["topic"], h["delivery_url"], h["status"]) for h in hooks] == [
        ("order.created", "http://127.0.0.1:9/hook", "active")]
    assert "secret" not in hooks[0]
