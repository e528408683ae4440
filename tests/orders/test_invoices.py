"""Invoices through Symfonia WebAPI (the local simulator), over the real pieces: issued by a person in the ERP
or by the sync when the shop order is paid (orders.invoice), once; the ERP's printout kept on the shop order for
its customer (the local shop; the real WooCommerce with the plugin in tests/shops/test_wp_plugin.py)."""

from __future__ import annotations

import base64

import pytest

from tests.helpers.stack import Stack, wait_until


def shop_meta(stack: Stack, order_id: int, key: str):
    with stack.shop.api() as api:
        for m in api.get(f"/orders/{order_id}").json()["meta_data"]:
            if m["key"] == key:
                return m["value"]
    return None


def erp_invoices(stack: Stack, zo: int) -> list[str]:
    with stack.erp.unit_of_work() as cur:
        return [r[0] for r in cur.execute("SELECT dk.kod FROM HM.PO po JOIN HM.DK dk ON dk.id = po.id2 "
                                          "WHERE po.id1 = ? AND po.typ = 1", zo).fetchall()]


def place(stack: Stack, status: str = "processing") -> tuple[int, str]:
    code = stack.erp.get_product(1).code
    stack.act(stack.sim.save_item(1))
    wait_until(lambda: stack.shop_product(code), timeout=30, message="product in the shop")
    with stack.shop_api() as api:
        r = api.post("/orders", json={"status": status, "line_items": [{"sku": code, "quantity": 2}],
                                      "billing": {"email": "faktura@example.pl", "first_name": "Ewa",
                                                  "last_name": "Nowak", "company": "Nowak sp. z o.o."},
                                      "meta_data": [{"key": "_billing_nip", "value": "5260250274"}]})
        r.raise_for_status()
        return r.json()["id"], r.json()["number"]


@pytest.fixture
def paid_stack(tmp_path):
    s = Stack(tmp_path, products=10, erp_writer="webapi", orders={"invoice": "paid", "poll_interval_seconds": 1})
    s.start_server()
    s.register_webhooks()
    yield s
    s.close()


def test_a_paid_order_is_invoiced_once_through_restarts_and_a_replayed_webhook(paid_stack):
    stack = paid_stack
    order_id, number = place(stack)
    zo = wait_until(lambda: stack.erp.find_order_by_shop_number(number), timeout=60, message="the ERP order")
    [invoice] = wait_until(lambda: erp_invoices(stack, zo), timeout=60, message="the ERP invoice")
    printouts = wait_until(lambda: shop_meta(stack, order_id, "_shopsync_invoices"), timeout=60,
                           message="the printout on the shop order")
    assert printouts[-1]["number"] == invoice and printouts[-1]["current"]
    pdf = base64.b64decode(printouts[-1]["pdf"])
    assert pdf.startswith(b"%PDF")
    for _ in range(3):  # restarts: the order is looked at again each time (polling), nothing more is issued
        stack.stop_server()
        stack.start_server()
        wait_until(lambda: stack.log.read_text().count(f"order {number} is already ERP order") >= 1, timeout=30,
                   message="looked at again")
    with stack.shop_api() as api:  # a replayed webhook of the paid order
        api.put(f"/orders/{order_id}", json={"customer_note": "proszę o fakturę"}).raise_for_status()
    wait_until(stack.queues_empty, timeout=60, message="drained")
    assert erp_invoices(stack, zo) == [invoice], "invoiced exactly once"
    with stack.shop.api() as api:
        notes = api.get(f"/orders/{order_id}/notes").json()
    assert any(invoice in n["note"] and n["customer_note"] for n in notes), "the shop shows the number"


def test_an_invoice_issued_by_a_person_reaches_the_customer_as_a_printout(tmp_path):
    stack = Stack(tmp_path, products=10, erp_writer="webapi").start_server()
    stack.register_webhooks()
    try:
        order_id, number = place(stack)
        zo = wait_until(lambda: stack.erp.find_order_by_shop_number(number), timeout=60, message="the ERP order")
        assert shop_meta(stack, order_id, "_shopsync_invoices") is None, "orders.invoice = never: nothing issued"
        stack.act(stack.sim.issue_invoice(zo))
        printouts = wait_until(lambda: shop_meta(stack, order_id, "_shopsync_invoices"), timeout=60,
                               message="the printout")
        assert printouts[-1]["number"] == erp_invoices(stack, zo)[-1]
        assert base64.b64decode(printouts[-1]["pdf"]).startswith(b"%PDF")
    finally:
        stack.close()


def test_invoices_issued_by_the_sync_need_the_webapi(tmp_path):
    import subprocess

    from tests.helpers.servers import bin_path, env_with

    cfg = tmp_path / "s.toml"
    cfg.write_text('[orders]\ninvoice = "paid"\n')
    done = subprocess.run([bin_path("shopsync"), "--config", str(cfg), "serve"], capture_output=True, text=True,
                          timeout=30, env=env_with())
    assert done.returncode == 2 and "orders.invoice" in done.stderr and "webapi" in done.stderr
