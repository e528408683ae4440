"""The feature scenarios against every shop, over the real pieces: the local WooCommerce-compatible
shop, a real WooCommerce 7.9.0 (WordPress, PHP, MariaDB) and a real django-oscar site (its own
virtualenv), same sync, same tests."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from shop_client.interface import ProductChange
from shopsync.v1 import sync_pb2, sync_pb2_grpc
from tests.conftest import SHOP_KINDS, make_stack
from tests.helpers.images import PNG
from tests.helpers.stack import Stack, wait_for_equal, wait_until


@pytest.fixture(params=SHOP_KINDS)
def stack(request, tmp_path):
    s = make_stack(request, tmp_path, products=40).start_server()
    if request.param == "woocommerce":
        s.register_webhooks()
    yield s
    s.close()


def erp_stock(stack: Stack, pid: int) -> Decimal:
    return stack.erp.commercial_stock([pid])[pid]


def test_marker_gated_create_update_hide_with_category_and_description(stack):
    unmarked = stack.erp.get_product(3)
    stack.act(stack.sim.save_item(3))
    wait_until(stack.queues_empty, message="drained")
    assert stack.shop_product(unmarked.code) is None, "no marker: never sent"
    stack.act(stack.sim.set_marker(3, True))
    p = wait_until(lambda: stack.shop_product(unmarked.code), timeout=60, interval=0.3, message="created by the marker")
    assert p.published and p.name == unmarked.name and p.price == unmarked.base_price
    assert p.category_path == unmarked.group_path and p.description == unmarked.note
    stack.act(stack.sim.save_item(3, name="Nowa nazwa ż", group_path=["Nowości", "Zima"]))
    stack.act(stack.sim.edit_note(3, "Opis z notatki ERP"))
    def fields() -> tuple:
        p = stack.shop_product(unmarked.code)  # one read per look (Oscar's dev server is slow)
        return p.name, p.description, p.category_path

    wait_for_equal(fields, ("Nowa nazwa ż", "Opis z notatki ERP", ("Nowości", "Zima")), timeout=60,
                   interval=0.3, message="updated")
    stack.act(stack.sim.set_marker(3, False))
    wait_until(lambda: not stack.shop_product(unmarked.code).published, timeout=60, interval=0.3, message="hidden")


def test_stock_from_pz_and_reservations(stack):
    code = stack.erp.get_product(4).code
    stack.act(stack.sim.save_item(4))
    wait_until(lambda: stack.shop_product(code), timeout=60, interval=0.3, message="created")
    stack.act(stack.sim.approve_pz(4, 30, warehouse=2))
    wait_until(lambda: stack.shop_product(code).stock == erp_stock(stack, 4), timeout=60, interval=0.3, message="PZ")
    before = erp_stock(stack, 4)
    e, pid, rz = stack.sim.add_reservation(4, 6)
    stack.act((e, pid))
    wait_until(lambda: stack.shop_product(code).stock == before - 6, timeout=60, interval=0.3, message="reservation")


def test_main_image_set_and_removed(stack):
    code = stack.erp.get_product(5).code
    stack.act(stack.sim.save_item(5))
    wait_until(lambda: stack.shop_product(code), timeout=60, interval=0.3, message="created")
    stack.act(stack.sim.set_image(5, PNG, "obraz.png"))
    url = wait_until(lambda: stack.shop_product(code).image_url, timeout=60, interval=0.3, message="image in the shop")
    assert httpx.get(url, timeout=10).content == PNG
    stack.act(stack.sim.delete_image(5))
    wait_until(lambda: stack.shop_product(code).image_url == "", timeout=60, interval=0.3, message="image removed")


def test_initial_import(stack):
    changes = [ProductChange(sku=f"IMP-{i:03d}", fields={"name": f"Import {i}", "price": Decimal("5.50"),
                                                          "category_path": ("Import", "Nowe"), "published": True,
                                                          "stock": Decimal(2), "description": "z importu"})
               for i in range(25)]
    assert all(r.ok for r in stack.woo.upsert_products(changes))
    with stack.channel() as ch:
        stub = sync_pb2_grpc.SyncServiceStub(ch)
        last = list(stub.ImportCatalog(sync_pb2.ImportCatalogRequest(), timeout=120, metadata=stack.metadata))[-1]
        assert last.done and last.created == 25
        again = list(stub.ImportCatalog(sync_pb2.ImportCatalogRequest(), timeout=120, metadata=stack.metadata))[-1]
        assert again.created == 0 and again.already_bound == 25
    p = stack.erp.get_product(stack.erp.find_products_by_codes(["IMP-007"])["IMP-007"])
    assert p.name == "Import 7" and p.base_price == Decimal("5.50") and p.group_path == ("Import", "Nowe")


def test_order_through_the_shops_own_checkout_is_one_zmo_with_reservations(stack):
    codes = [stack.erp.get_product(pid).code for pid in (1, 2)]
    for pid in (1, 2):
        stack.act(stack.sim.save_item(pid))
    wait_until(lambda: all(stack.shop_product(c) for c in codes), timeout=60, interval=0.3,
               message="products in the shop")
    before = stack.erp.commercial_stock([1, 2])
    number = stack.shop.place_order([(codes[0], 2), (codes[1], 1)])
    zo = wait_until(lambda: stack.erp.find_order_by_shop_number(number), timeout=60, message="ZMO in the ERP")
    order = stack.erp.get_order(zo)
    assert [(p, q) for p, q, _ in order.lines] == [(1, 2), (2, 1)]
    assert [(p, q) for p, q, _ in order.reservations] == [(1, 2), (2, 1)]
    after = stack.erp.commercial_stock([1, 2])
    assert after[1] == before[1] - 2 and after[2] == before[2] - 1
    wait_until(stack.queues_empty, timeout=60, message="drained")
    assert stack.erp.count_orders()[0] == 1
    assert stack.erp.get_contractor(order.contractor_id).name == "Ewa Wiśniewska"
