"""Nothing needs to reach into the office: the shop never calls the sync server.

Against the local shop and a real WooCommerce with WordPress's safe-URL rule in force (no test
plugin lifting it), no webhooks, and an image URL nobody can reach: images go up as uploads (and
replaced or removed ones leave no orphan in the media library), orders arrive by polling, and a
customer's pairing status reaches the shop."""

from __future__ import annotations

import httpx
import pytest
from shopsync.demo import data as demo_data

from tests.helpers.images import PNG, make_png
from tests.helpers.stack import Stack, wait_until
from tests.helpers.wordpress import RealWooCommerceProcess

OUTBOUND_ONLY = {"orders": {"poll_interval_seconds": 1}, "sync": {"customer_pass_interval_seconds": 1},
                 # an address nothing can reach: any image the shop had to fetch would fail
                 "webhooks": {"enabled": False, "public_url": "http://192.0.2.1:9"}}


@pytest.fixture(params=["woocommerce", pytest.param("real_woocommerce", marks=pytest.mark.real_woocommerce)])
def stack(request, tmp_path):
    if request.param == "real_woocommerce":
        shop = RealWooCommerceProcess(request.getfixturevalue("wordpress_site"), tmp_path, strict_urls=True,
                                      image_uploads=True)
        s = Stack(tmp_path, products=30, shop_kind="real_woocommerce", shop_process=shop, **OUTBOUND_ONLY)
    else:
        s = Stack(tmp_path, products=30, uploads=True, **OUTBOUND_ONLY)
    s.start_server()
    yield s
    s.close()


def media_library(stack: Stack) -> list[dict]:
    settings = stack.shop.settings()
    with httpx.Client(auth=(settings["wp_user"], settings["wp_app_password"]), timeout=60) as http:
        r = http.get(f"{stack.shop.url}/wp-json/wp/v2/media", params={"per_page": 100})
        r.raise_for_status()
        return r.json()


def test_images_orders_and_pairing_with_no_route_into_the_office(stack):
    import socket

    with socket.socket() as probe:  # nothing of ours listens for the shop
        assert probe.connect_ex(("127.0.0.1", stack.http_port)) != 0
    pid = [p for p in range(1, 31) if stack.erp.get_product(p).marked][0]
    code = stack.erp.get_product(pid).code
    base = len(media_library(stack))  # WooCommerce's own placeholder image, on the real shop
    stack.act(stack.sim.set_image(pid, PNG, "pierwszy.png", "image/png"))
    stack.act(stack.sim.save_item(pid))  # the marker is on: created, image included
    first = wait_until(lambda: stack.shop_product(code) and stack.shop_product(code).image_url, timeout=60,
                       message="created with its image")
    assert httpx.get(first, timeout=30).content == PNG
    assert len(media_library(stack)) == base + 1
    second = make_png((10, 200, 10), size=3)
    stack.act(stack.sim.set_image(pid, second, "drugi.png", "image/png"))
    wait_until(lambda: httpx.get(stack.shop_product(code).image_url, timeout=30).content == second, timeout=60,
               message="image replaced")
    wait_until(lambda: len(media_library(stack)) == base + 1, timeout=30, message="the replaced upload deleted")
    stack.act(stack.sim.delete_image(pid))
    wait_until(lambda: stack.shop_product(code).image_url == "", timeout=60, message="image removed")
    wait_until(lambda: len(media_library(stack)) == base, timeout=30, message="no orphan upload")

    number = stack.shop.place_order([(code, 1)], email="bez-wejscia@example.pl")
    wait_until(lambda: stack.erp.find_order_by_shop_number(number), timeout=60, message="order by polling")

    twin = demo_data.contractors()[4]
    with stack.shop.api() as api:
        cid = api.post("/customers", json={"email": "firma-nip@example.pl", "first_name": "Jan", "last_name": "B",
                                           "meta_data": [{"key": "_billing_nip", "value": twin.nip10}]}
                       ).json()["id"]

        def status() -> dict:
            body = api.get(f"/customers/{cid}").json()
            return {m["key"]: m["value"] for m in body["meta_data"]}.get("_shopsync_pairing") or {}

        wait_until(lambda: status().get("status") == "paired", timeout=60, message="pairing status in the shop")
