"""The order's money through Symfonia WebAPI (the local simulator) and the local shop, over the real pieces: the
document a buyer gets (receipt or invoice), the payment recorded against it, the invoice's KSeF number on the
shop order (and its printout only once numbered), a KSeF rejection raising an alert; each step replayed creates
nothing twice."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers.stack import Stack, wait_until
from tests.orders.test_invoices import shop_meta
from tests.platform.test_metrics_and_alerts import Receiver

PASSWORD = "biuro-haslo-2026"
MONEY = {"invoice": "paid", "document": "by_buyer", "payment_registries": {"bacs": "BANK", "cod": "KASA"},
         "poll_interval_seconds": 1}


def notes(stack: Stack, order_id: int) -> list[dict]:
    with stack.shop.api() as api:
        return api.get(f"/orders/{order_id}/notes").json()


def sale_documents(stack: Stack, number: str) -> list[tuple]:
    """(type, number, gross) of the ERP's sale documents of a shop order: its receipt by the shop's number,
    its invoices through the order."""
    with stack.erp.unit_of_work() as cur:
        return [tuple(r) for r in cur.execute(
            "SELECT dk.typ_dk, dk.kod, dk.netto + dk.vat FROM HM.DK dk WHERE dk.kod_obcy = ? OR dk.id IN (SELECT "
            "po.id2 FROM HM.PO po JOIN HM.ZO zo ON zo.id = po.id1 WHERE zo.kod_obcy = ? AND po.typ = 1) "
            "ORDER BY dk.id", number, number).fetchall()]


def payments(stack: Stack, number: str) -> list[tuple]:
    with stack.erp.unit_of_work() as cur:
        return [(r[0], Decimal(str(r[1])), r[2]) for r in cur.execute(
            "SELECT w.kod, w.kwota, w.rejestr FROM HM.WPL w JOIN HM.DK dk ON dk.id = w.dk WHERE dk.kod_obcy = ? OR "
            "dk.id IN (SELECT po.id2 FROM HM.PO po JOIN HM.ZO zo ON zo.id = po.id1 WHERE zo.kod_obcy = ? AND "
            "po.typ = 1)", number, number).fetchall()]


def place(stack: Stack, *, nip: str = "", status: str = "on-hold", method: str = "bacs") -> tuple[int, str, str]:
    code = stack.erp.get_product(1).code
    stack.act(stack.sim.save_item(1))
    wait_until(lambda: stack.shop_product(code), timeout=30, message="product in the shop")
    body = {"status": status, "payment_method": method, "line_items": [{"sku": code, "quantity": 2}],
            "billing": {"email": "kupujacy@example.pl", "first_name": "Ewa", "last_name": "Nowak"}}
    if nip:
        body["meta_data"] = [{"key": "_billing_nip", "value": nip}]
        body["billing"]["company"] = "Nowak sp. z o.o."
    with stack.shop_api() as api:
        r = api.post("/orders", json=body)
        r.raise_for_status()
        return r.json()["id"], r.json()["number"], r.json()["total"]


def login(stack: Stack):
    import re

    import httpx

    http = httpx.Client(base_url=f"http://127.0.0.1:{stack.console_port}")
    wait_until(lambda: http.get("/login").status_code == 200, message="console up")
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/login").text).group(1)
    assert http.post("/login", data={"csrf_token": token, "user": "admin", "password": PASSWORD}).status_code == 302
    return http


def replay(stack: Stack, order_id: int, times: int = 3) -> None:
    for n in range(times):  # the shop order changed again (a note, a webhook again): nothing more is issued
        with stack.shop_api() as api:
            api.put(f"/orders/{order_id}", json={"customer_note": f"uwaga {n}"}).raise_for_status()
    stack.stop_server()
    stack.start_server()
    wait_until(stack.queues_empty, timeout=60, message="drained")


@pytest.fixture
def money_stack(tmp_path):
    from shopsync.server.web.console import hash_password

    s = Stack(tmp_path, products=10, erp_writer="webapi", orders=MONEY,
              console={"password_hash": hash_password(PASSWORD)})
    s.start_server()
    s.register_webhooks()
    yield s
    s.close()


def test_a_consumer_paying_by_transfer_gets_a_receipt_and_one_recorded_payment(money_stack):
    stack = money_stack
    order_id, number, total = place(stack)  # a transfer awaited: on hold, not paid
    zo = wait_until(lambda: stack.erp.find_order_by_shop_number(number), timeout=60, message="the ERP order")
    wait_until(stack.queues_empty, timeout=60, message="drained")
    assert sale_documents(stack, number) == [], "not paid yet: no document"
    assert stack.erp.get_order(zo).reservations, "the order reserves its goods"
    with stack.shop_api() as api:  # the transfer arrived: the shop marks the order paid
        api.put(f"/orders/{order_id}", json={"status": "processing"}).raise_for_status()
    [(kind, receipt, gross)] = wait_until(lambda: sale_documents(stack, number), timeout=60, message="the receipt")
    assert kind == "PA" and Decimal(str(gross)) == Decimal(total)
    [(payment, amount, register)] = wait_until(lambda: payments(stack, number), timeout=60, message="the payment")
    assert amount == Decimal(total) and register == "BANK"
    assert stack.erp.get_order(zo).reservations == [], "the receipt issued the goods: nothing stays reserved"
    wait_until(lambda: any(receipt in n["note"] and n["customer_note"] for n in notes(stack, order_id)),
               timeout=60, message="the receipt's number on the shop order")
    replay(stack, order_id)
    assert sale_documents(stack, number) == [(kind, receipt, gross)], "one receipt, whatever was replayed"
    assert payments(stack, number) == [(payment, amount, register)], "one payment, whatever was replayed"
    # the order's ledger where office staff look: the console's order page, in Polish
    http = login(stack)
    page = http.get(f"/orders/{zo}", headers={"Accept-Language": "pl"}).text
    http.close()
    assert "Dokumenty i płatności" in page and receipt in page and payment in page and "paragon" in page
    # and over gRPC
    from shopsync.v1 import orders_pb2, orders_pb2_grpc

    with stack.channel() as ch:
        ledger = orders_pb2_grpc.OrderServiceStub(ch).GetOrderLedger(
            orders_pb2.GetOrderLedgerRequest(shop_order_id=order_id), metadata=stack.metadata, timeout=10)
    assert [(d.number, d.kind, d.ksef) for d in ledger.documents] == [(receipt, "receipt", orders_pb2.KSEF_STATE_NONE)]
    assert [(p.number, p.registry) for p in ledger.payments] == [(payment, "BANK")] and ledger.erp_order_id == zo


def test_a_company_gets_an_invoice_numbered_by_ksef_and_the_printout_only_then(money_stack):
    stack = money_stack
    order_id, number, total = place(stack, nip="5260250274", status="processing")  # paid at checkout
    [(kind, invoice, _)] = wait_until(lambda: sale_documents(stack, number), timeout=60, message="the invoice")
    assert kind == "FVS"
    info = wait_until(lambda: (shop_meta(stack, order_id, "_shopsync_erp_order") or {}).get("documents"),
                      timeout=60, message="the documents on the shop order")
    ksef = wait_until(lambda: [d for d in shop_meta(stack, order_id, "_shopsync_erp_order")["documents"]
                               if d["ksef"] == "approved"], timeout=60, message="the KSeF number")
    assert ksef[0]["number"] == invoice and ksef[0]["ksef_number"], info
    wait_until(lambda: any(ksef[0]["ksef_number"] in n["note"] and n["customer_note"] for n in notes(stack, order_id)),
               timeout=30, message="the KSeF number in a note the customer sees")
    printouts = wait_until(lambda: shop_meta(stack, order_id, "_shopsync_invoices"), timeout=30,
                           message="the printout, once numbered")
    assert [p["number"] for p in printouts] == [invoice]
    [(_, amount, register)] = wait_until(lambda: payments(stack, number), timeout=60, message="the payment")
    assert amount == Decimal(total) and register == "BANK"
    replay(stack, order_id)
    assert len(sale_documents(stack, number)) == 1 and len(payments(stack, number)) == 1


def test_cash_on_delivery_stays_open_until_the_shop_marks_it_paid(money_stack):
    stack = money_stack
    order_id, number, total = place(stack, nip="5260250274", status="processing", method="cod")
    wait_until(lambda: sale_documents(stack, number) == [] and stack.erp.find_order_by_shop_number(number),
               timeout=60, message="the ERP order")
    wait_until(stack.queues_empty, timeout=60, message="drained")
    assert sale_documents(stack, number) == [] and payments(stack, number) == [], "COD: not paid while processing"
    with stack.shop_api() as api:  # delivered and paid: the shop completes the order
        api.put(f"/orders/{order_id}", json={"status": "completed"}).raise_for_status()
    wait_until(lambda: payments(stack, number), timeout=60, message="the COD payment")
    assert [p[2] for p in payments(stack, number)] == ["KASA"]


def test_a_rejected_invoice_raises_the_alert_and_offers_no_printout(tmp_path):
    receiver = Receiver(tmp_path)
    stack = Stack(tmp_path, products=10, erp_writer="webapi", ksef_delay=3600, orders=MONEY,
                  alerts=receiver.settings())
    try:
        stack.start_server()
        stack.register_webhooks()
        order_id, number, _ = place(stack, nip="5260250274", status="processing")
        [(_, invoice, _)] = wait_until(lambda: sale_documents(stack, number), timeout=60, message="the invoice")
        with stack.erp.unit_of_work() as cur:
            dk = int(cur.execute("SELECT id FROM HM.DK WHERE kod = ?", invoice).fetchone()[0])
        stack.sim.ksef_verdict(dk, False)  # KSeF rejects it
        wait_until(lambda: receiver.about("ksef", "firing"), timeout=60, message="the KSeF alert")
        assert invoice in receiver.about("ksef", "firing")[0]["text"]
        wait_until(lambda: any(d["ksef"] == "rejected" for d in (shop_meta(stack, order_id, "_shopsync_erp_order")
                                                                  or {}).get("documents", [])),
                   timeout=30, message="the shop's staff see the rejection")
        assert shop_meta(stack, order_id, "_shopsync_invoices") is None, "no printout without a KSeF number"
        assert any("KSeF odrzucił" in n["note"] and not n["customer_note"] for n in notes(stack, order_id))
    finally:
        stack.close()
        receiver.close()


def erp_stock(stack: Stack, product_id: int = 1) -> Decimal:
    with stack.erp.unit_of_work() as cur:
        return Decimal(str(cur.execute("SELECT SUM(stan) FROM HM.SM WHERE idtw = ?", product_id).fetchone()[0]))


def corrections(stack: Stack, number: str) -> list[tuple]:
    """(type, number, net + vat) of the corrections of a shop order's documents."""
    with stack.erp.unit_of_work() as cur:
        return [(r[0], r[1], Decimal(str(r[2])).quantize(Decimal("0.01"))) for r in cur.execute(
            "SELECT c.typ_dk, c.kod, c.netto + c.vat FROM HM.PO po JOIN HM.DK c ON c.id = po.id2 JOIN HM.DK m ON "
            "m.id = po.id1 WHERE po.typ = 90 AND (m.kod_obcy = ? OR m.id IN (SELECT p2.id2 FROM HM.PO p2 JOIN HM.ZO zo "
            "ON zo.id = p2.id1 WHERE zo.kod_obcy = ? AND p2.typ = 1)) ORDER BY c.id", number, number).fetchall()]


def test_a_partial_refund_with_restock_becomes_a_correction_of_the_invoice_and_the_stock_comes_back(money_stack):
    stack = money_stack
    order_id, number, total = place(stack, nip="5260250274", status="processing")
    [(_, invoice, _)] = wait_until(lambda: sale_documents(stack, number), timeout=60, message="the invoice")
    wait_until(lambda: payments(stack, number), timeout=60, message="the payment")
    before = erp_stock(stack)
    with stack.shop_api() as api:
        order = api.get(f"/orders/{order_id}").json()
        line = order["line_items"][0]
        one = Decimal(line["total"]) / Decimal(line["quantity"])
        tax = Decimal(line["total_tax"]) / Decimal(line["quantity"])
        r = api.post(f"/orders/{order_id}/refunds", json={
            "amount": f"{one + tax:.2f}", "reason": "uszkodzony", "api_refund": False, "api_restock": True,
            "line_items": [{"id": line["id"], "quantity": 1, "refund_total": f"{one:.2f}",
                            "refund_tax": [{"id": 1, "refund_total": f"{tax:.2f}"}]}]})
        r.raise_for_status()
    [(kind, correction, value)] = wait_until(lambda: corrections(stack, number), timeout=60, message="the correction")
    assert kind == "FKS" and value == -(one + tax).quantize(Decimal("0.01")), "to the grosz of the refund"
    wait_until(lambda: erp_stock(stack) == before + 1, timeout=30, message="the returned item back in ERP stock")
    wait_until(lambda: any(correction in n["note"] and n["customer_note"] for n in notes(stack, order_id)),
               timeout=60, message="the correction on the shop order")
    wait_until(lambda: any(f"Korekta {correction} ma numer KSeF" in n["note"] for n in notes(stack, order_id)),
               timeout=60, message="the correction's KSeF number on the shop order (a correction goes to KSeF too)")
    replay(stack, order_id)
    assert corrections(stack, number) == [(kind, correction, value)], "one correction, whatever was replayed"
    assert erp_stock(stack) == before + 1
