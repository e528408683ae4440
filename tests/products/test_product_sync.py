"""Products, ERP -> shop, over the real pieces: hook process -> gRPC server -> outbox -> WooCommerce
adapter -> the local shop and a real WooCommerce."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import ERP_STACKS, make_stack
from tests.helpers.images import PNG
from tests.helpers.stack import Stack, wait_until


@pytest.fixture(params=ERP_STACKS)
def stack(request, tmp_path):
    s = make_stack(request, tmp_path).start_server()
    yield s
    s.close()


@pytest.fixture
def local_stack(tmp_path):
    """The local shop only: for what needs its call counters."""
    s = Stack(tmp_path).start_server()
    yield s
    s.close()


def erp_stock(stack: Stack, pid: int) -> Decimal:
    return stack.erp.commercial_stock([pid])[pid]


def test_marked_product_is_created_with_all_its_fields(stack):
    p = stack.erp.get_product(1)
    stack.act(stack.sim.save_item(1))
    shop = wait_until(lambda: stack.shop_product(p.code), message="product in the shop")
    assert shop.name == p.name and shop.price == p.base_price and shop.published
    assert shop.category_path == p.group_path and shop.description == p.note and shop.ean == p.ean
    assert shop.stock == erp_stock(stack, 1)


def test_marker_gates_products_and_losing_it_hides(stack):
    unmarked = stack.erp.get_product(3)
    assert not unmarked.marked
    stack.act(stack.sim.save_item(3, name="Zmieniona nazwa"))
    wait_until(stack.queues_empty, message="queues drained")
    assert stack.shop_product(unmarked.code) is None, "a product without the marker is never sent"
    stack.act(stack.sim.set_marker(3, True))  # giving the marker creates it (feature 8)
    created = wait_until(lambda: stack.shop_product(unmarked.code), message="created on marker")
    assert created.published and created.name == "Zmieniona nazwa"
    stack.act(stack.sim.set_marker(3, False))
    wait_until(lambda: not stack.shop_product(unmarked.code).published, message="hidden")
    assert stack.shop_product(unmarked.code) is not None, "hidden, not deleted"


def test_updates_name_group_and_note(stack):
    code = stack.erp.get_product(2).code
    stack.act(stack.sim.save_item(2))
    wait_until(lambda: stack.shop_product(code), message="created")
    stack.act(stack.sim.save_item(2, name='Wiertło "Ø8" żółte', group_path=["Nowości", "Zima"]))
    wait_until(lambda: stack.shop_product(code).name == 'Wiertło "Ø8" żółte', message="renamed")
    assert stack.shop_product(code).category_path == ("Nowości", "Zima")
    stack.act(stack.sim.edit_note(2, "Nowy opis produktu <b>HTML</b> ąę"))
    wait_until(lambda: stack.shop_product(code).description == "Nowy opis produktu <b>HTML</b> ąę",
               message="note as description")


def test_commercial_stock_follows_pz_and_reservations(stack):
    code = stack.erp.get_product(4).code
    stack.act(stack.sim.save_item(4))
    wait_until(lambda: stack.shop_product(code), message="created")
    stack.act(stack.sim.approve_pz(4, 25, warehouse=2))
    wait_until(lambda: stack.shop_product(code).stock == erp_stock(stack, 4), message="PZ stock")
    before = erp_stock(stack, 4)
    event, pid, rz = stack.sim.add_reservation(4, 5, warehouse=1)
    stack.act((event, pid))
    wait_until(lambda: stack.shop_product(code).stock == before - 5, message="reservation lowers stock")
    stack.act(stack.sim.delete_reservation(rz))
    wait_until(lambda: stack.shop_product(code).stock == before, message="deleted reservation gives back")


def test_saving_without_edits_sends_nothing(stack):
    code = stack.erp.get_product(7).code
    stack.act(stack.sim.save_item(7))
    wait_until(lambda: stack.shop_product(code), message="created")
    wait_until(stack.queues_empty, message="drained")
    modified = stack.shop_product(code).modified
    local = stack.shop_kind == "woocommerce"
    calls = stack.shop.stats()["calls"] if local else 0
    stack.act(stack.sim.save_item(7))  # Symfonia stamps modifiedDate even without an edit
    # The hook's event was queued before act() returned; drained means it was read and settled.
    wait_until(stack.queues_empty, message="drained")
    # reading the ERP happens; writing to the shop does not
    if local:
        assert stack.shop.stats()["calls"] == calls
    assert stack.shop_product(code).modified == modified


def test_product_deleted_in_the_shop_is_created_again(stack):
    code = stack.erp.get_product(8).code
    stack.act(stack.sim.save_item(8))
    first = wait_until(lambda: stack.shop_product(code), message="created")
    api = stack.shop_api()
    api.delete(f"/products/{first.id}", params={"force": "true"}).raise_for_status()
    api.close()
    stack.act(stack.sim.approve_pz(8, 5))
    again = wait_until(lambda: stack.shop_product(code), message="created again")
    assert again.id != first.id and again.stock == erp_stock(stack, 8)
    assert all(q.dead_letters == 0 for q in stack.queue_stats().values())


def test_first_push_is_batches_only(local_stack):
    """New products, with or without an image, are created by batch calls alone: no per-product call."""
    pids = [pid for pid in range(10, 40) if local_stack.erp.get_product(pid).marked][:5]
    local_stack.sim.set_image(pids[0], PNG, "a.png", "image/png")
    for pid in pids:
        local_stack.act(local_stack.sim.save_item(pid))
    wait_until(local_stack.queues_empty, message="drained")
    routes = local_stack.shop.stats()["routes"]
    assert routes.get("PUT /products/(\\d+)", 0) == 0 and routes.get("GET /products/(\\d+)", 0) == 0, routes
    assert routes["POST /products/batch"] <= len(pids)
    assert local_stack.shop_product(local_stack.erp.get_product(pids[0]).code).image_url
    assert local_stack.shop_product(local_stack.erp.get_product(pids[1]).code).image_url == ""


def test_reservation_hooks_named_by_the_reservation_id(local_stack):
    """Symfonia's reservation procedures get HM.RZ.id; a deleted reservation no longer names its product."""
    stack = local_stack
    code = stack.erp.get_product(4).code
    stack.act(stack.sim.save_item(4))
    wait_until(lambda: stack.shop_product(code), message="created")
    before = erp_stock(stack, 4)
    _, _, rz = stack.sim.add_reservation(4, 3)
    assert stack.hook("reservation-changed", rz).returncode == 0
    wait_until(lambda: stack.shop_product(code).stock == before - 3, message="reservation by its own id")
    stack.sim.delete_reservation(rz)
    assert stack.hook("reservation-changed", rz).returncode == 0
    wait_until(lambda: stack.shop_product(code).stock == before, message="deleted reservation found by stock")
