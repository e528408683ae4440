"""Orders, shop -> ERP, over the real pieces: local shop or real WooCommerce over HTTP -> webhooks or
polling -> server -> ERP through both writers (SQL and the WebAPI simulator)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopsync.v1 import queue_pb2, queue_pb2_grpc
from tests.conftest import ORDER_STACKS, make_stack
from tests.helpers.stack import Stack, wait_until
from tests.helpers.sync_steps import shop_order, sync_products


@pytest.fixture(params=ORDER_STACKS)
def order_stack(request, tmp_path):
    """Orders through both ERP writers, from the local shop and a real WooCommerce."""
    s = make_stack(request, tmp_path, products=30).start_server()
    s.register_webhooks()
    yield s
    s.close()


@pytest.fixture(params=["sql", "webapi"])
def local_order_stack(request, tmp_path):
    s = Stack(tmp_path, products=30, erp_writer=request.param).start_server()
    s.register_webhooks()
    yield s
    s.close()


def record_year(stack: Stack, zo: int) -> str:
    with stack.erp.unit_of_work() as cur:
        return str(cur.execute("SELECT data FROM HM.ZO WHERE id = ?", zo).fetchone()[0])[:4]


def test_order_becomes_one_zmo_with_reservations_and_stock_flows_back(order_stack):
    stack = order_stack
    codes = sync_products(stack, [1, 2])
    before = stack.erp.commercial_stock([1, 2])
    order = shop_order(stack, [(codes[0], 2), (codes[1], 1)], currency="EUR")
    zo = wait_until(lambda: stack.erp.find_order_by_shop_number(order["number"]), message="ZMO in the ERP")
    record = stack.erp.get_order(zo)
    assert record.currency == "EUR" and record.rate == Decimal("4.25")
    if stack.erp_writer == "webapi":  # numbered by the ERP in its own series, not by us
        assert record.code == f"ZMO 1/sklep/{record_year(stack, zo)}" and not record.buffered
    else:  # the SQL writer leaves it in the buffer for a person to approve and number
        assert record.code == "" and record.buffered
    assert record.description.startswith(f"Zamówienie ze sklepu nr {order['number']}")
    assert [(pid, q) for pid, q, _ in record.lines] == [(1, 2), (2, 1)]
    assert [(pid, q) for pid, q, _ in record.reservations] == [(1, 2), (2, 1)]
    contractor = stack.erp.get_contractor(record.contractor_id)
    assert contractor.name == "Ewa Wiśniewska" and contractor.city == "Kraków"
    if stack.erp_writer == "webapi":  # the contractor and its delivery address made by the ERP's own calls
        assert stack.webapi.calls("POST /Contractors/Create") == 1
        assert stack.webapi.calls("POST /ContractorDeliveryAddresses/Create") == 1
        with stack.erp.unit_of_work() as cur:  # Id2External: the simulator keeps it in kod_obcy (GUESS)
            assert cur.execute("SELECT kod_obcy FROM HM.ZO WHERE id = ?", zo).fetchone()[0] == order["number"]
    after = stack.erp.commercial_stock([1, 2])
    assert after[1] == before[1] - 2 and after[2] == before[2] - 1
    wait_until(lambda: stack.shop_product(codes[0]).stock == after[1], message="stock back in the shop")
    # a second order by the same guest uses the same contractor, and its ERP data stays as it is
    order2 = shop_order(stack, [(codes[0], 1)])
    zo2 = wait_until(lambda: stack.erp.find_order_by_shop_number(order2["number"]), message="second ZMO")
    assert stack.erp.get_order(zo2).contractor_id == record.contractor_id


def test_same_order_three_times_is_one_zo(local_order_stack):
    local_stack = local_order_stack
    codes = sync_products(local_stack, [1])
    order = shop_order(local_stack, [(codes[0], 1)])  # webhook order.created, once
    assert local_stack.post_webhook("order.created", order, delivery="d-1").status_code == 200  # webhook again
    local_stack.sections["orders"]["poll_interval_seconds"] = 1  # and the poll
    local_stack.write_config()
    local_stack.stop_server()
    local_stack.start_server()
    wait_until(lambda: local_stack.erp.find_order_by_shop_number(order["number"]), message="imported")
    wait_until(local_stack.queues_empty, message="drained")
    zo, zp, rz = local_stack.erp.count_orders()
    assert (zo, zp, rz) == (1, 1, 1)
    if local_stack.erp_writer == "webapi":
        assert local_stack.webapi.calls("POST /OrdersIssue/New") == 1
        assert local_stack.webapi.calls("POST /Contractors/Create") == 1


def test_different_orders_sharing_a_delivery_id_are_both_imported(local_stack):
    """WooCommerce derives X-WC-Webhook-Delivery-ID from the webhook and the second: it is not an order's id."""
    codes = sync_products(local_stack, [1])
    local_stack.sections["orders"]["poll_interval_seconds"] = 0
    first, second = shop_order(local_stack, [(codes[0], 1)]), shop_order(local_stack, [(codes[0], 2)])
    for order in (first, second, first):
        assert local_stack.post_webhook("order.created", order, delivery="same-second").status_code == 200
    for order in (first, second):
        wait_until(lambda o=order: local_stack.erp.find_order_by_shop_number(o["number"]), message="both imported")
    wait_until(local_stack.queues_empty, message="drained")
    assert local_stack.erp.count_orders()[0] == 2


def test_known_contractor_keeps_its_erp_data(order_stack):
    stack = order_stack
    from shopsync.demo import data as demo_data

    codes = sync_products(stack, [1])
    c = demo_data.contractors()[4]
    api = stack.shop_api()
    customer = api.post("/customers", json={"email": "firma@example.pl", "meta_data": [
        {"key": "_billing_nip", "value": c.nip_typed}]}).json()
    api.close()
    kid = stack.erp.find_contractors_by_nip(c.nip10)[0].id
    order = shop_order(stack, [(codes[0], 1)], customer_id=customer["id"], email="inny@example.pl")
    zo = wait_until(lambda: stack.erp.find_order_by_shop_number(order["number"]), message="imported")
    assert stack.erp.get_order(zo).contractor_id == kid
    assert stack.erp.get_contractor(kid).name == c.name and stack.erp.get_contractor(kid).email == c.email


def test_bad_order_goes_to_dead_letters_and_retry_imports_it_after_the_fix(order_stack):
    stack = order_stack
    from shopsync.server.erp.records import ProductDraft

    codes = sync_products(stack, [1])
    api = stack.shop_api()
    extra = api.post("/products", json={"sku": "NOWY-1", "name": "Nowy", "regular_price": "5.00"}).json()
    api.close()
    bad = shop_order(stack, [(codes[0], 1), ("NOWY-1", 2)])
    good = shop_order(stack, [(codes[0], 1)])
    wait_until(lambda: stack.erp.find_order_by_shop_number(good["number"]), message="the next order flows")
    assert stack.erp.find_order_by_shop_number(bad["number"]) is None
    with stack.channel() as ch:
        stub = queue_pb2_grpc.QueueServiceStub(ch)
        dead = wait_until(lambda: stub.ListDeadLetters(queue_pb2.ListDeadLettersRequest(),
                                                       metadata=stack.metadata).dead_letters, message="dead letter")
        assert "NOWY-1" in dead[0].reason and "line 2" in dead[0].reason
        assert stack.erp.count_orders()[0] == 1, "nothing of the bad order was written"
        stack.erp.create_products([ProductDraft(code="NOWY-1", name="Nowy", price=Decimal(5))])
        stub.RetryDeadLetter(queue_pb2.RetryDeadLetterRequest(id=dead[0].id), metadata=stack.metadata)
    wait_until(lambda: stack.erp.find_order_by_shop_number(bad["number"]), message="imported after the fix")
    assert extra["id"]


def test_a_rejected_guest_order_creates_no_contractor(local_order_stack):
    local_stack = local_order_stack
    stack = local_stack
    api = stack.shop_api()
    api.post("/products", json={"sku": "TYLKO-W-SKLEPIE", "name": "Tylko w sklepie", "regular_price": "5.00"})
    api.close()
    order = shop_order(stack, [("TYLKO-W-SKLEPIE", 1)], email="odrzucony@example.pl")
    with stack.channel() as ch:
        stub = queue_pb2_grpc.QueueServiceStub(ch)
        wait_until(lambda: stub.ListDeadLetters(queue_pb2.ListDeadLettersRequest(),
                                                metadata=stack.metadata).dead_letters, message="dead letter")
    with stack.erp.unit_of_work() as cur:
        cur.execute("SELECT COUNT(*) FROM HM.KH WHERE kod = ?", f"WWW-G{order['number']}")
        assert cur.fetchone()[0] == 0, "the rejected order's payer was written to the ERP"


def test_currency_without_rate_is_a_dead_letter_with_a_reason(order_stack):
    stack = order_stack
    codes = sync_products(stack, [1])
    order = shop_order(stack, [(codes[0], 1)], currency="USD")
    with stack.channel() as ch:
        stub = queue_pb2_grpc.QueueServiceStub(ch)
        dead = wait_until(lambda: stub.ListDeadLetters(queue_pb2.ListDeadLettersRequest(),
                                                       metadata=stack.metadata).dead_letters, message="dead letter")
    assert "USD" in dead[0].reason and "fixed_rates" in dead[0].reason
    assert stack.erp.find_order_by_shop_number(order["number"]) is None


def test_polling_queues_each_order_change_once(local_stack):
    from shopsync.server.runtime import Runtime
    from shopsync.server.settings import load_settings
    from shopsync.server.sync.orders import poll_orders

    codes = sync_products(local_stack, [1])
    order = shop_order(local_stack, [(codes[0], 1)])
    local_stack.stop_server()  # poll from here, with the server's own settings and queue
    rt = Runtime(load_settings(local_stack.config))
    rt.open()
    try:
        first = poll_orders(rt.ctx)
        assert first >= 1
        assert poll_orders(rt.ctx) == 0, "the overlap window must not bring the same order back"
        api = local_stack.shop_api()
        api.put(f"/orders/{order['id']}", json={"status": "on-hold"}).raise_for_status()
        api.close()
        assert poll_orders(rt.ctx) == 1, "a changed order is queued again"
    finally:
        rt.close()


def test_a_guest_can_be_a_one_time_contractor_when_the_site_asks(tmp_path):
    """orders.guests_as_one_time (WebAPI only): a guest whose NIP matches no contractor is issued to a one-time
    contractor made of the order's own data - no contractor card, once however often the order comes; a guest
    whose NIP matches a contractor still gets that contractor."""
    from shopsync.demo import data as demo_data

    stack = Stack(tmp_path, products=30, erp_writer="webapi",
                  orders={"guests_as_one_time": True, "default_payment_form": 1, "poll_interval_seconds": 1}).start_server()
    try:
        stack.register_webhooks()
        codes = sync_products(stack, [1])
        order = shop_order(stack, [(codes[0], 1)], email="jednorazowy@example.pl")
        zo = wait_until(lambda: stack.erp.find_order_by_shop_number(order["number"]), message="the ZMO")
        assert stack.post_webhook("order.created", order, delivery="again").status_code == 200
        stack.stop_server()
        stack.start_server()
        wait_until(stack.queues_empty, timeout=30, message="drained")
        assert stack.erp.count_orders()[0] == 1 and stack.webapi.calls("POST /OrdersIssue/New") == 1
        buyer = stack.erp.get_contractor(stack.erp.get_order(zo).contractor_id)
        assert buyer.code == "!INCYDENTALNY" and buyer.name == "Ewa Wiśniewska" and buyer.city == "Kraków"
        assert stack.webapi.calls("POST /Contractors/Create") == 0, "no contractor card for a one-time buyer"
        known = demo_data.contractors()[4]
        order2 = shop_order(stack, [(codes[0], 1)], email="firma@example.pl", nip=known.nip10)
        zo2 = wait_until(lambda: stack.erp.find_order_by_shop_number(order2["number"]), message="second ZMO")
        assert stack.erp.get_contractor(stack.erp.get_order(zo2).contractor_id).nip.replace("-", "").replace(
            " ", "").removeprefix("PL") == known.nip10
    finally:
        stack.close()


def test_one_time_contractors_need_the_webapi(tmp_path):
    from shopsync.server.settings import SettingsError, load_settings

    cfg = tmp_path / "s.toml"
    cfg.write_text('[orders]\nguests_as_one_time = true\n')
    with pytest.raises(SettingsError, match="guests_as_one_time"):
        load_settings(cfg, env={})
