"""Reconciliation against the shop's real state, on the local shop and the real WooCommerce:
the shop changed behind the sync's back is made equal to the ERP in one pass; a second pass
finds nothing."""

from __future__ import annotations

import pytest

from shopsync.v1 import sync_pb2, sync_pb2_grpc
from tests.conftest import ERP_STACKS, make_stack
from tests.helpers.images import PNG
from tests.helpers.stack import Stack, wait_until


def reconcile(stack: Stack):
    with stack.channel() as ch:
        return list(sync_pb2_grpc.SyncServiceStub(ch).RunReconciliation(sync_pb2.RunReconciliationRequest(),
                                                                        timeout=300, metadata=stack.metadata))[-1]


def setup_products(stack: Stack, n: int = 4) -> list[int]:
    pids = [pid for pid in range(1, 31) if stack.erp.get_product(pid).marked][:n]
    if n >= 3:
        stack.set_erp_image(pids[2], PNG, "a.png")
    for pid in pids:
        stack.act(stack.sim.save_item(pid))
    wait_until(stack.queues_empty, timeout=60, message="products in the shop")
    return pids


@pytest.fixture(params=ERP_STACKS)
def stack(request, tmp_path):
    s = make_stack(request, tmp_path, products=30, orders={"poll_interval_seconds": 1}).start_server()
    yield s
    s.close()


def test_changes_behind_the_sync_are_corrected_in_one_pass_and_a_second_finds_nothing(stack):
    pids = setup_products(stack)
    codes = [stack.erp.get_product(pid).code for pid in pids]
    ids = [stack.shop_product(c).id for c in codes]
    assert stack.shop_product(codes[2]).image_url
    with stack.shop.api() as api:  # people in the shop
        api.put(f"/products/{ids[0]}", json={"stock_quantity": 999}).raise_for_status()
        api.put(f"/products/{ids[1]}", json={"regular_price": "1.00", "name": "Zmieniona w sklepie"}
                ).raise_for_status()
        api.put(f"/products/{ids[2]}", json={"images": []}).raise_for_status()
        api.delete(f"/products/{ids[3]}").raise_for_status()  # to the trash
    first = reconcile(stack)
    assert first.done and first.checked >= 3
    fixed = dict(first.corrections)
    assert fixed.get("stock") == 1 and fixed.get("price") == 1 and fixed.get("name") == 1
    assert fixed.get("image") == 1 and fixed.get("restored") == 1
    wait_until(stack.queues_empty, timeout=60, message="corrections delivered")
    erp = stack.erp.get_products(pids)
    stock = stack.erp.commercial_stock(pids)
    for pid, code in zip(pids, codes):
        p = stack.shop_product(code)
        assert p.stock == stock[pid] and p.price == erp[pid].base_price and p.name == erp[pid].name
        assert p.published and not p.trashed
    assert stack.shop_product(codes[2]).image_url, "the image is back"
    second = reconcile(stack)
    assert dict(second.corrections) == {} and list(second.conflicts) == []


def test_a_trashed_product_is_reported_and_left_alone_when_so_configured(tmp_path, request):
    request.param = "woocommerce"
    stack = make_stack(request, tmp_path, products=30, sync={"removed_in_shop": "report"}).start_server()
    try:
        pids = setup_products(stack, 3)
        code = stack.erp.get_product(pids[0]).code
        shop_id = stack.shop_product(code).id
        with stack.shop.api() as api:
            api.delete(f"/products/{shop_id}").raise_for_status()
        report = reconcile(stack)
        assert dict(report.corrections).get("reported") == 1 and code in report.conflicts[0]
        stack.act(stack.sim.approve_pz(pids[0], 5))  # the ERP changes it meanwhile
        wait_until(stack.queues_empty, timeout=30, message="drained")
        with stack.shop.api() as api:
            assert api.get(f"/products/{shop_id}").json()["status"] == "trash", "not updated while reported"
    finally:
        stack.close()


def test_a_cancelled_order_that_gave_stock_back_in_the_shop_is_evened_out(stack):
    pids = setup_products(stack, 1)
    code = stack.erp.get_product(pids[0]).code
    number = stack.shop.place_order([(code, 2)], email="rec@example.pl")
    zo = wait_until(lambda: stack.erp.find_order_by_shop_number(number), timeout=60, message="imported")
    wait_until(stack.queues_empty, timeout=30, message="drained")
    stack.sim.cancel_order(zo)  # the ERP frees it, no hook ran
    reconcile(stack)
    wait_until(stack.queues_empty, timeout=30, message="drained")
    assert stack.shop_product(code).stock == stack.erp.commercial_stock(pids)[pids[0]]
