"""Shop -> ERP over the real pieces: local shop over HTTP -> webhooks/polling -> server -> ERP via pyodbc."""

from __future__ import annotations

import json
from decimal import Decimal

import grpc
import pytest

from shop_client.interface import ProductChange
from shopsync.v1 import customers_pb2, customers_pb2_grpc, queue_pb2, queue_pb2_grpc, sync_pb2, sync_pb2_grpc
from tests.conftest import ORDER_STACKS, WOOCOMMERCE_KINDS, make_stack
from tests.helpers.servers import grpcurl
from tests.helpers.stack import TOKEN, Stack, wait_until
from tests.test_e2e_erp_to_shop import PNG


@pytest.fixture(params=WOOCOMMERCE_KINDS)
def stack(request, tmp_path):
    """The local shop (webhooks + polling) and a real WooCommerce (polling: its webhooks come late)."""
    s = make_stack(request, tmp_path, products=30).start_server()
    s.register_webhooks()
    yield s
    s.close()


@pytest.fixture
def local_stack(tmp_path):
    """The local shop only: for what is about our webhook endpoint itself."""
    s = Stack(tmp_path, products=30).start_server()
    s.register_webhooks()
    yield s
    s.close()


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


def import_catalog(stack: Stack) -> list:
    with stack.channel() as ch:
        return list(sync_pb2_grpc.SyncServiceStub(ch).ImportCatalog(sync_pb2.ImportCatalogRequest(), timeout=120,
                                                                    metadata=stack.metadata))


def test_initial_import_creates_once_pairs_by_code_and_reports_bad_skus(stack):
    existing = stack.erp.get_product(1)
    changes = [ProductChange(sku=f"SHOP-{i:04d}", fields={"name": f"Towar {i} żółty", "price": Decimal("19.99"),
                                                           "category_path": ("Sklep", "Nowe"), "published": True,
                                                           "stock": Decimal(3), "description": "opis"})
               for i in range(230)]
    changes.append(ProductChange(sku=existing.code, fields={"name": "inna nazwa", "published": True}))
    changes.append(ProductChange(sku="X" * 41, fields={"name": "za długi SKU"}))
    assert all(r.ok for r in stack.woo.upsert_products(changes))
    api = stack.shop_api()
    api.post("/products", json={"name": "bez SKU"}).raise_for_status()
    progress = import_catalog(stack)
    final = progress[-1]
    assert final.done and final.seen == 233 and final.created == 230 and final.paired == 1 and final.skipped == 2
    assert len(progress) >= 4, "streams page by page"
    reasons = [p.reason for msg in progress for p in msg.problems]
    assert any("no SKU" in r for r in reasons) and any("longer" in r for r in reasons)
    created = stack.erp.find_products_by_codes([f"SHOP-{i:04d}" for i in range(230)])
    assert len(created) == 230
    p = stack.erp.get_product(created["SHOP-0007"])
    assert p.name == "Towar 7 żółty" and p.base_price == Decimal("19.99") and p.group_path == ("Sklep", "Nowe")
    assert p.marked and p.note == "opis"
    assert stack.erp.get_product(1).name == existing.name, "an existing ERP product keeps its data"
    again = import_catalog(stack)[-1]
    assert again.created == 0 and again.already_bound == 231 and again.skipped == 2
    api.close()


def test_customers_paired_by_nip_and_status_shown_in_the_shop(stack):
    from shopsync.demo import data as demo_data

    contractors = demo_data.contractors()
    api = stack.shop_api()
    single = contractors[4]  # unique NIP
    ids = {}
    for email, nip in (("jeden@example.pl", single.nip_typed.replace("PL", "").strip()),
                       ("dwa@example.pl", contractors[0].nip10),  # two ERP contractors share this NIP
                       ("zly@example.pl", "123-456-78-90"),
                       ("brak@example.pl", "")):
        body = {"email": email, "first_name": "Jan", "last_name": "Nowak",
                "meta_data": [{"key": "_billing_nip", "value": nip}] if nip else []}
        ids[email] = api.post("/customers", json=body).json()["id"]

    def status(email: str) -> dict:
        body = api.get(f"/customers/{ids[email]}").json()
        return {m["key"]: m["value"] for m in body["meta_data"]}.get("_shopsync_pairing") or {}

    wait_until(lambda: all(status(e) for e in ids), message="statuses written to the shop")
    kid = stack.erp.find_contractors_by_nip(single.nip10)[0].id
    assert status("jeden@example.pl")["status"] == "paired" and status("jeden@example.pl")["erp_contractor_id"] == kid
    assert status("dwa@example.pl")["status"] == "needs_person" and "several" in status("dwa@example.pl")["detail"]
    assert status("zly@example.pl")["status"] == "invalid_nip"
    assert status("brak@example.pl")["status"] == "no_nip"
    with stack.channel() as ch:
        stub = customers_pb2_grpc.CustomerServiceStub(ch)
        waiting = stub.ListCustomers(customers_pb2.ListCustomersRequest(needs_person=True), metadata=stack.metadata)
        assert {c.email for c in waiting.customers} == {"dwa@example.pl", "zly@example.pl", "brak@example.pl"}
    # a person pairs one by hand, with grpcurl as the README shows
    choice = stack.erp.find_contractors_by_nip(contractors[0].nip10)[1].id
    done = grpcurl("-plaintext", "-H", f"authorization: Bearer {TOKEN}", "-d",
                   json.dumps({"shop_customer_id": ids["dwa@example.pl"], "erp_contractor_id": choice}),
                   stack.address, "shopsync.v1.CustomerService/PairCustomer")
    assert done.returncode == 0, done.stderr
    wait_until(lambda: status("dwa@example.pl").get("erp_contractor_id") == choice, message="manual pairing shown")
    assert status("dwa@example.pl")["manual"] is True
    missing = grpcurl("-plaintext", "-H", f"authorization: Bearer {TOKEN}", "-d",
                      json.dumps({"shop_customer_id": ids["brak@example.pl"], "erp_contractor_id": 99999}),
                      stack.address, "shopsync.v1.CustomerService/PairCustomer")
    assert missing.returncode != 0 and "NotFound" in missing.stderr and "99999" in missing.stderr
    api.close()


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


def record_year(stack: Stack, zo: int) -> str:
    with stack.erp.unit_of_work() as cur:
        return str(cur.execute("SELECT data FROM HM.ZO WHERE id = ?", zo).fetchone()[0])[:4]


def sync_products(stack: Stack, pids: list[int]) -> list[str]:
    for pid in pids:
        stack.act(stack.sim.save_item(pid))
    codes = [stack.erp.get_product(pid).code for pid in pids]
    wait_until(lambda: all(stack.shop_product(c) for c in codes), message="products in the shop")
    return codes


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


def test_unsigned_or_wrongly_signed_webhooks_are_refused_and_nothing_queued(local_stack):
    resource = {"id": 999, "number": "999", "status": "processing", "line_items": []}
    assert local_stack.post_webhook("order.created", resource, signature="").status_code == 401
    assert local_stack.post_webhook("order.created", resource, secret="wrong").status_code == 401
    assert local_stack.post_webhook("order.created", resource, signature="bm9wZQ==").status_code == 401
    stats = local_stack.queue_stats()
    assert stats["QUEUE_NAME_INBOX"].pending == 0 and stats["QUEUE_NAME_INBOX"].dead_letters == 0


def test_shop_image_goes_to_the_erp_when_it_has_none(local_stack):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Img(BaseHTTPRequestHandler):  # an image host the shop fetches `src` from
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *a):
            pass

    host = HTTPServer(("127.0.0.1", 0), Img)
    threading.Thread(target=host.serve_forever, daemon=True).start()
    code = sync_products(local_stack, [2])[0]
    shop_id = local_stack.shop_product(code).id
    api = local_stack.shop_api()
    api.put(f"/products/{shop_id}", json={"images": [{"src": f"http://127.0.0.1:{host.server_port}/a.png"}]})
    api.close()
    img = wait_until(lambda: local_stack.erp.get_image(2), message="image in the ERP")
    assert img.data == PNG and img.content_type == "image/png"
    host.shutdown()


def test_grpc_errors_are_precise(local_stack):
    with local_stack.channel() as ch:
        stub = customers_pb2_grpc.CustomerServiceStub(ch)
        with pytest.raises(grpc.RpcError) as err:
            stub.PairCustomer(customers_pb2.PairCustomerRequest(shop_customer_id=0, erp_contractor_id=1),
                              metadata=local_stack.metadata)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "shop_customer_id" in err.value.details()
        with pytest.raises(grpc.RpcError) as err:
            stub.UnpairCustomer(customers_pb2.UnpairCustomerRequest(shop_customer_id=12345),
                                metadata=local_stack.metadata)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND


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


def test_an_image_deleted_in_the_erp_does_not_come_back_from_an_echo(local_stack):
    """A late shop webhook carrying the image we sent earlier is our own change, not a person's."""
    stack = local_stack
    code = sync_products(stack, [5])[0]
    stack.act(stack.sim.set_image(5, PNG, "a.png", "image/png"))
    src = wait_until(lambda: stack.shop_product(code).image_url, message="image in the shop")
    stack.act(stack.sim.delete_image(5))
    wait_until(lambda: stack.shop_product(code).image_url == "", message="image removed in the shop")
    shop_id = stack.shop_product(code).id
    echo = {"id": shop_id, "sku": code, "images": [{"id": 1, "src": src}], "date_modified_gmt": "2026-01-01T00:00:00"}
    assert stack.post_webhook("product.updated", echo).status_code == 200
    wait_until(stack.queues_empty, message="drained")
    assert stack.erp.get_image(5) is None, "our own earlier image came back into the ERP"
    assert stack.shop_product(code).image_url == ""
