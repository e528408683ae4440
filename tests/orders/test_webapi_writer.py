"""The WebAPI writer against the local Symfonia WebAPI (`shopsync erp webapi-sim`, a real process over HTTP):
sessions, errors as the project's kinds, and exactly one order whatever the transport does."""

from __future__ import annotations

import dataclasses
import time
from decimal import Decimal

import httpx
import pytest
from shopsync.demo.erp import init_sqlite_demo
from shopsync.server.erp.sql.dialects import make_dialect
from shopsync.server.erp.errors import ErpConfigError, ErpPermanent, ErpRetryable
from shopsync.server.erp.sql import ErpGateway
from shopsync.server.erp.records import AddressDraft, ContractorDraft, OrderDraft, OrderLineDraft
from shopsync.server.erp.webapi import WebApiClient, WebApiErp, WebApiSentUnknown

from tests.helpers.webapi import WebApiSimProcess

D = Decimal


@pytest.fixture
def sim(tmp_path):
    db = init_sqlite_demo(tmp_path / "erp.db", product_count=20)
    s = WebApiSimProcess(tmp_path, db).start()
    yield s
    s.stop()


@pytest.fixture
def erp(sim):
    dialect = make_dialect("sqlite", database=sim.db)
    gw = WebApiErp(ErpGateway(dialect.connection_string(), dialect, warehouses=(1,)),
                   WebApiClient(sim.url, sim.APP_KEY, "test", timeout=1.0), department="Sklep internetowy")
    yield gw
    gw.close()


def draft(number: str = "701", qty: int = 2, price: str = "12.30", currency: str = "PLN", rate: str = "1",
          gross: bool = True) -> OrderDraft:
    return OrderDraft(shop_number=number, contractor_id=1, currency=currency, rate=D(rate),
                      delivery=AddressDraft(label=f"Dostawa {number}", name="Ewa", street="Polna", house="7",
                                            postcode="32-020", city="Wieliczka"),
                      lines=[OrderLineDraft(product_id=1, quantity=D(qty), price=D(price))],
                      note=f"Zamówienie ze sklepu nr {number}", prices_gross=gross, customer_note="po 16",
                      expected_gross=(D(qty) * D(price)).quantize(D("0.01")) if gross else None, payment_form=1)


def test_an_order_is_numbered_in_the_erps_series_and_reserves_stock(erp, sim):
    before = erp.commercial_stock([1])[1]
    zo, created = erp.create_order(draft("701"))
    zo2, _ = erp.create_order(draft("702"))
    record = erp.get_order(zo)
    year = record.description and erp.get_order(zo2).code.rsplit("/", 1)[1]
    assert created and record.code == f"ZMO 1/sklep/{year}" and erp.get_order(zo2).code == f"ZMO 2/sklep/{year}"
    assert record.reservations == [(1, D(2), 1)] and erp.commercial_stock([1])[1] == before - 4
    assert record.net + record.vat == D("24.60") and record.description == "Zamówienie ze sklepu nr 701\n" \
        "Uwagi klienta: po 16"
    assert record.delivery_address_id is not None
    again, created_again = erp.create_order(draft("701"))
    assert (again, created_again) == (zo, False), "found by the shop number in its description: not sent again"
    assert sim.calls("POST /OrdersIssue/New") == 2


def test_an_expired_session_is_reopened_once(erp, sim):
    erp.create_order(draft("710"))
    sim.admin("POST", "expire-sessions")
    erp.create_order(draft("711"))
    assert erp.webapi.sessions_opened == 2 and erp.find_order_by_shop_number("711")


def test_an_unknown_product_code_is_permanent_with_the_apis_message_and_writes_nothing(erp, sim):
    with erp.sql.unit_of_work() as cur:
        cur.execute("UPDATE HM.TW SET kod = 'ZNIKNIE' WHERE id = 1")
    with erp.sql.unit_of_work() as cur:  # the ERP loses the code between our read and its write
        cur.execute("CREATE TRIGGER HM.tw_gone AFTER INSERT ON AD BEGIN UPDATE TW SET kod = 'INNY' WHERE id = 1; END")
    with pytest.raises(ErpPermanent, match="nie znaleziono towaru o kodzie 'ZNIKNIE'"):
        erp.create_order(draft("720"))
    assert erp.sql.count_orders() == (0, 0, 0)


@pytest.mark.parametrize("fault", [{"status": 500}, {"locked": 1}])
def test_a_busy_or_failing_erp_is_retryable_and_the_next_attempt_writes_once(erp, sim, fault):
    sim.faults(**fault)
    with pytest.raises(ErpRetryable) as info:
        erp.create_order(draft("730"))
    if "locked" in fault:
        assert "zablokowany przez innego użytkownika" in str(info.value)
    zo, created = erp.create_order(draft("730"))
    assert created and erp.sql.count_orders()[0] == 1 and erp.get_order(zo).code.startswith("ZMO ")
    assert sim.calls("POST /OrdersIssue/New") == 2


def test_a_request_still_running_in_the_erp_is_not_sent_again_until_it_settles(erp, sim):
    """Timed out before the ERP wrote it (it writes 2 s late): a quick retry must not make a second order."""
    sim.faults(slow=2)
    with pytest.raises(WebApiSentUnknown):
        erp.create_order(draft("735"))
    with pytest.raises(ErpRetryable, match="not sent again"):
        erp.create_order(draft("735"))
    assert sim.calls("POST /OrdersIssue/New") == 1
    time.sleep(2.5)  # the ERP finished the first request meanwhile
    zo, created = erp.create_order(draft("735"))
    assert not created and erp.sql.count_orders()[0] == 1 and sim.calls("POST /OrdersIssue/New") == 1


def test_a_request_timed_out_after_the_erp_wrote_the_order_is_one_order(erp, sim):
    sim.faults(slow_after_write=3)
    zo, created = erp.create_order(draft("740"))  # times out after 1 s; the lookup finds what the ERP wrote
    assert created and erp.sql.count_orders()[0] == 1
    assert erp.create_order(draft("740")) == (zo, False)
    assert sim.calls("POST /OrdersIssue/New") == 1


def test_a_dropped_connection_is_resolved_by_the_lookup_not_by_sending_blindly(erp, sim):
    sim.faults(drop=1)
    with pytest.raises(WebApiSentUnknown, match="not in the ERP"):
        erp.create_order(draft("750"))
    assert erp.sql.count_orders()[0] == 0
    with pytest.raises(ErpRetryable, match="not sent again"):
        erp.create_order(draft("750"))
    time.sleep(3.1)  # three timeouts after sending: the ERP has settled, the lookup still finds nothing
    erp.create_order(draft("750"))
    assert erp.sql.count_orders()[0] == 1 and sim.calls("POST /OrdersIssue/New") == 2


def test_a_missing_currency_rate_is_refused_by_the_api(erp, sim):
    with pytest.raises(ErpPermanent, match="Brak kursu waluty EUR"):
        erp.create_order(draft("760", currency="EUR", rate="0"))
    assert erp.sql.count_orders()[0] == 0


def test_a_wrong_application_key_is_a_configuration_error_naming_the_setting_never_the_key(sim):
    client = WebApiClient(sim.url, "zly-klucz-123", "test", timeout=2)
    with pytest.raises(ErpConfigError, match="erp.webapi_app_key") as info:
        client.call("GET", "/Sessions/SessionInformation")
    assert "zly-klucz-123" not in str(info.value)
    client.close()


def test_an_erp_valuing_the_order_differently_is_a_dead_letter_after_one_write(erp, sim):
    wrong = draft("770")
    wrong = OrderDraft(**{**wrong.__dict__, "expected_gross": D("24.59")})
    with pytest.raises(ErpPermanent, match=r"was created, but the ERP valued it at 24.6 PLN gross, the customer "
                                           r"paid 24.59"):
        erp.create_order(wrong)
    assert erp.create_order(wrong)[1] is False, "retrying finds the order and writes nothing"
    assert sim.calls("POST /OrdersIssue/New") == 1


def test_an_idle_session_expires_and_a_new_one_is_opened(tmp_path):
    db = init_sqlite_demo(tmp_path / "erp.db", product_count=5)
    sim = WebApiSimProcess(tmp_path, db, session_ttl=1).start()
    client = WebApiClient(sim.url, sim.APP_KEY, "test", timeout=2)
    try:
        assert client.call("GET", "/Sessions/SessionInformation")["Active"]
        time.sleep(1.5)  # idle longer than the WebAPI keeps a session
        assert client.call("GET", "/Sessions/SessionInformation")["Active"]
        assert client.sessions_opened == 2
    finally:
        client.close()
        sim.stop()


def test_an_unanswered_order_is_held_across_a_restart(sim, tmp_path):
    """The hold lives in the queue database: a server restarted right after an unanswered request does not
    send the order again before the ERP has settled."""
    from shopsync.server.queue.cursors import Cursors, Holds
    from shopsync.server.queue.store import QueueStore

    def writer():
        store = QueueStore.from_url(f"sqlite:///{tmp_path / 'queue.db'}")
        dialect = make_dialect("sqlite", database=sim.db)
        gw = WebApiErp(ErpGateway(dialect.connection_string(), dialect), WebApiClient(sim.url, sim.APP_KEY, "t", 1.0),
                       department="Sklep internetowy")
        gw.use_holds(Holds(Cursors(store)))
        return gw, store

    first, store = writer()
    sim.faults(drop=1)
    with pytest.raises(WebApiSentUnknown):
        first.create_order(draft("780"))
    first.close()
    store.close()
    again, store = writer()  # the server after a restart
    try:
        with pytest.raises(ErpRetryable, match="not sent again"):
            again.create_order(draft("780"))
        assert sim.calls("POST /OrdersIssue/New") == 1
    finally:
        again.close()
        store.close()


def _post_order(sim, body: dict) -> httpx.Response:
    token = httpx.get(f"{sim.url}/Sessions/OpenNewSession", params={"deviceName": "t"},
                      headers={"Authorization": f"Application {sim.APP_KEY}"}, timeout=10).json()
    return httpx.post(f"{sim.url}/OrdersIssue/New", params={"issue": "true"}, json=body,
                      headers={"Authorization": f"Session {token}"}, timeout=10)


def _body(erp, number: str, **changes) -> dict:
    codes = erp.sql.product_codes([1])
    body = erp.order_body(draft(number), codes, None)
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def test_the_simulator_refuses_an_order_without_department_and_writes_nothing(erp, sim):
    r = _post_order(sim, _body(erp, "790", Department=...))
    assert r.status_code == 400 and r.json() == {"Message": "Pole jest wymagane: Department"}
    r = _post_order(sim, _body(erp, "791", SalePriceType=0))
    assert r.status_code == 400 and "SalePriceType" in r.json()["Message"]
    assert erp.sql.count_orders() == (0, 0, 0)


def test_an_unknown_buyer_id_is_a_one_time_contractor_in_the_erp_and_the_sync_never_sends_one(erp, sim):
    r = _post_order(sim, _body(erp, "792", Buyer={"Id": 99999}, Recipient={"Id": 99999}))
    assert r.status_code == 200, r.text
    with erp.sql.unit_of_work() as cur:
        code = cur.execute("SELECT kh.kod FROM HM.ZO zo JOIN HM.KH kh ON kh.id = zo.khid WHERE zo.id = ?",
                           r.json()["Id"]).fetchone()[0]
    assert code == "!INCYDENTALNY", "the WebAPI's rule: an Id it does not know is a one-time contractor"
    sent = sim.calls("POST /OrdersIssue/New")
    lost = dataclasses.replace(draft("793"), contractor_id=99999)
    with pytest.raises(ErpPermanent, match="contractor id 99999 is no longer in the ERP"):
        erp.create_order(lost)
    assert sim.calls("POST /OrdersIssue/New") == sent and erp.find_order_by_shop_number("793") is None


def test_an_order_carries_department_price_type_the_shop_number_and_line_values(erp, sim):
    body = erp.order_body(draft("794", qty=3, price="12.35"), erp.sql.product_codes([1]), None)
    assert body["Department"] == "Sklep internetowy" and body["SalePriceType"] == 1
    assert body["Id2External"] == "794" and body["Positions"][0]["Value"] == 37.05
    zo, _ = erp.create_order(draft("794", qty=3, price="12.35"))
    with erp.sql.unit_of_work() as cur:
        assert cur.execute("SELECT kod_obcy FROM HM.ZO WHERE id = ?", zo).fetchone()[0] == "794"
    record = erp.get_order(zo)
    assert record.net + record.vat == D("37.05")


def test_a_full_licence_is_a_retryable_error_that_names_it_and_a_closed_session_frees_the_seat(tmp_path):
    db = init_sqlite_demo(tmp_path / "erp.db", product_count=5)
    sim = WebApiSimProcess(tmp_path, db, seats=1).start()
    try:
        first, second = (WebApiClient(sim.url, sim.APP_KEY, name, timeout=2.0) for name in ("first", "second"))
        assert first.call("GET", "/Contractors", params={"id": 1})["Id"] == 1
        with pytest.raises(ErpRetryable, match="no free session seat .*Przekroczono limit"):
            second.call("GET", "/Contractors", params={"id": 1})
        first.close()  # CloseSession: the seat is free again
        assert second.call("GET", "/Contractors", params={"id": 1})["Id"] == 1
        second.close()
        assert sim.calls("GET /Sessions/CloseSession") == 2
    finally:
        sim.stop()


def test_keys_and_tokens_are_taken_bare_or_in_braces_and_the_expiry_text_reopens(sim):
    opened = httpx.get(f"{sim.url}/Sessions/OpenNewSession", params={"deviceName": "t"},
                       headers={"Authorization": f"Application {{{sim.APP_KEY}}}"}, timeout=10)
    assert opened.status_code == 200 and opened.text.startswith('"'), "the token is a quoted JSON string"
    token = opened.json()
    for sent in (token, f"{{{token}}}"):
        r = httpx.get(f"{sim.url}/Contractors", params={"id": 1}, headers={"Authorization": f"Session {sent}"},
                      timeout=10)
        assert r.status_code == 200
    sim.admin("POST", "expire-sessions")
    r = httpx.get(f"{sim.url}/Contractors", params={"id": 1}, headers={"Authorization": f"Session {token}"},
                  timeout=10)
    assert r.status_code == 401 and r.json()["Message"] == "Nieprawidłowy klucz lub sesja wygasła."
    client = WebApiClient(sim.url, sim.APP_KEY, "t", timeout=2.0)
    client.call("GET", "/Contractors", params={"id": 1})
    sim.admin("POST", "expire-sessions")
    assert client.call("GET", "/Contractors", params={"id": 1})["Id"] == 1 and client.sessions_opened == 2
    client.close()


# -- contractors and delivery addresses through the WebAPI -------------------------------------------------
def contractor_draft(code: str = "WWW-501", nip: str = "") -> ContractorDraft:
    return ContractorDraft(code=code, name="Jan Nowak", nip=nip, street="Długa", house="5", flat="2",
                           postcode="31-100", city="Kraków", email="jan@example.com", phone="600100200")


def test_a_contractor_is_created_through_the_api_once_by_its_code(erp, sim):
    kid = erp.create_contractor(contractor_draft(nip="5260250274"))
    k = erp.get_contractor(kid)
    assert (k.code, k.name, k.nip, k.street, k.house, k.flat, k.postcode, k.city, k.email, k.phone) == (
        "WWW-501", "Jan Nowak", "5260250274", "Długa", "5", "2", "31-100", "Kraków", "jan@example.com", "600100200")
    assert erp.create_contractor(contractor_draft(nip="5260250274")) == kid, "found by its code, not made twice"
    assert sim.calls("POST /Contractors/Create") == 1
    assert [c.id for c in erp.find_contractors_by_nip("PL 526-025-02-74")] == [kid]


def test_a_contractor_request_timed_out_after_the_erp_wrote_it_is_one_contractor(erp, sim):
    sim.faults(slow_after_write=3, path="/Contractors/Create")
    kid = erp.create_contractor(contractor_draft("WWW-502"))  # times out after 1 s; found by its code
    assert erp.create_contractor(contractor_draft("WWW-502")) == kid
    assert sim.calls("POST /Contractors/Create") == 1
    with erp.sql.unit_of_work() as cur:
        assert cur.execute("SELECT COUNT(*) FROM HM.KH WHERE kod = 'WWW-502'").fetchone()[0] == 1


def test_a_contractor_the_api_refuses_is_permanent_with_its_message(erp, sim):
    with pytest.raises(ErpPermanent, match="Name jest wymagane"):
        erp.webapi.call("POST", "/Contractors/Create", params={"syncFk": "false"}, body={"Code": "WWW-503", "Name": ""})
    with pytest.raises(ErpPermanent, match="name: must not be empty"):
        erp.create_contractor(dataclasses.replace(contractor_draft("WWW-503"), name=" "))
    assert sim.calls("POST /Contractors/Create") == 1


def test_an_unknown_contractor_id_is_not_found(erp, sim):
    from shopsync.server.erp.errors import ErpNotFound

    with pytest.raises(ErpNotFound):
        erp.get_contractor(99999)


def test_the_delivery_address_is_created_once_and_the_order_names_it(erp, sim):
    zo, _ = erp.create_order(draft("760"))
    zo2, _ = erp.create_order(dataclasses.replace(draft("760"), shop_number="761"))
    assert sim.calls("POST /ContractorDeliveryAddresses/Create") == 1  # "Dostawa 760", then found by its Code
    addresses = erp.webapi.call("GET", "/ContractorDeliveryAddresses", params={"contractorId": 1})
    assert [a["Code"] for a in addresses].count("Dostawa 760") == 1
    with erp.sql.unit_of_work() as cur:
        ad = cur.execute("SELECT khadid FROM HM.ZO WHERE id = ?", zo).fetchone()[0]
        assert cur.execute("SELECT nazwaAdr FROM HM.AD WHERE id = ?", ad).fetchone()[0] == "Dostawa 760"


# -- cancelling, as far as the WebAPI allows ---------------------------------------------------------------
def test_an_issued_order_is_not_cancelled_by_the_sync_but_a_person_is_told_exactly_what_to_do(erp, sim):
    zo, _ = erp.create_order(draft("770"))
    before = erp.commercial_stock([1])[1]
    number = erp.get_order(zo).code
    with pytest.raises(ErpPermanent, match=f"{number} is issued.*Zamówienia od odbiorców.*Anuluj") as info:
        erp.cancel_order(zo)
    assert "retry this dead letter" in str(info.value)
    assert erp.order_progress([zo])[zo].state == "new" and erp.commercial_stock([1])[1] == before, "left as it is"
    assert sim.calls("DELETE /OrdersIssue/Delete") == 0
    from shopsync.demo.erp import ErpSimulator  # a person cancels it in Symfonia

    person = ErpSimulator(erp.sql.dialect.connect(erp.sql.conn_str), erp.sql.dialect)
    person.cancel_order(zo)
    person.close()
    assert erp.cancel_order(zo) is False, "cancelled already: nothing more to do"


def test_a_buffered_order_is_deleted_with_its_reservations(erp, sim):
    before = erp.commercial_stock([1])[1]
    body = erp.order_body(draft("771"), erp.sql.product_codes([1]), None)
    answer = erp.webapi.call("POST", "/OrdersIssue/New", params={"issue": "false"}, body=body)
    assert answer["Buffer"] is True and answer["DocumentNumber"] == ""
    assert erp.commercial_stock([1])[1] == before - 2
    assert erp.cancel_order(int(answer["Id"])) is True
    assert erp.commercial_stock([1])[1] == before and erp.sql.count_orders() == (0, 0, 0)
    assert sim.calls("DELETE /OrdersIssue/Delete") == 1


# -- price lists through the WebAPI: the same answers as the company database gives ------------------------
def test_price_lists_read_through_the_api_are_what_the_company_holds(erp, sim):
    ids = erp.sql.price_list_ids()
    assert ids and erp.price_list_ids() == ids
    for i in ids:
        assert erp.get_price_list(i) == erp.sql.get_price_list(i)
    products = list(range(1, 21))
    assert erp.prices_for_products(products) == erp.sql.prices_for_products(products)
    with erp.sql.unit_of_work() as cur:
        contractors = [int(r[0]) for r in cur.execute("SELECT id FROM HM.KH ORDER BY id").fetchall()]
    assert any(erp.sql.price_list_codes_for_contractors(contractors).values()), "the demo has lists for some"
    assert erp.price_list_codes_for_contractors(contractors) == erp.sql.price_list_codes_for_contractors(contractors)
    from shopsync.server.erp.errors import ErpNotFound

    with pytest.raises(ErpNotFound):
        erp.get_price_list(9999)


def test_searches_and_the_marked_list_through_the_api_are_what_the_company_holds(erp, sim):
    assert erp.marked_product_ids() == erp.sql.marked_product_ids()
    assert erp.marked_product_ids(after_id=5, limit=3) == erp.sql.marked_product_ids(after_id=5, limit=3)
    for text in ("WIE", "wiert", "5", "nic-takiego"):
        assert erp.search_products(text) == erp.sql.search_products(text), text
    for text in ("Kowal", "KLI", "526", "nikt"):
        assert [k.id for k in erp.search_contractors(text)] == [k.id for k in erp.sql.search_contractors(text)], text
    # a NIP as a person types it finds the cards however it was typed there (1: "PL 526-025-09-95", 2: dashes)
    for text in ("5260250995", "526 025 09 95", "PL5260250995", "526-025-09-95"):
        mine = [k.id for k in erp.search_contractors(text)]
        assert set(mine[:2]) == {1, 2} and mine == [k.id for k in erp.sql.search_contractors(text)], text
    with erp.sql.unit_of_work() as cur:
        groups = sorted({int(r[0]) for r in cur.execute("SELECT grupacen FROM HM.KH WHERE grupacen IS NOT NULL")})
    assert groups and erp.contractors_in_groups(groups) == erp.sql.contractors_in_groups(groups)


def test_the_marked_list_by_a_feature_through_the_api(sim):
    dialect = make_dialect("sqlite", database=sim.db)
    gw = WebApiErp(ErpGateway(dialect.connection_string(), dialect, warehouses=(1,), marker="feature:Sklep=TAK"),
                   WebApiClient(sim.url, sim.APP_KEY, "test", timeout=2.0), department="Sklep internetowy")
    try:
        assert gw.marked_product_ids() == gw.sql.marked_product_ids() != []
        assert all(p.marked for p in gw.get_products(gw.marked_product_ids()).values())
    finally:
        gw.close()


def test_orders_reservations_and_documents_through_the_api_are_what_the_company_holds(erp, sim):
    from shopsync.demo.erp import ErpSimulator

    zo, _ = erp.create_order(draft("780", qty=3))
    assert erp.find_order_by_shop_number("780") == erp.sql.find_order_by_shop_number("780") == zo
    assert erp.find_order_by_shop_number("nie-ma") is None
    mine, theirs = erp.get_order(zo), erp.sql.get_order(zo)
    assert (mine.code, mine.shop_number, mine.contractor_id, mine.delivery_address_id, mine.currency, mine.rate,
            mine.net, mine.vat, mine.buffered, mine.description) == \
           (theirs.code, theirs.shop_number, theirs.contractor_id, theirs.delivery_address_id, theirs.currency,
            theirs.rate, theirs.net, theirs.vat, theirs.buffered, theirs.description)
    assert [(p, q) for p, q, _ in mine.lines] == [(p, q) for p, q, _ in theirs.lines]
    assert mine.reservations == theirs.reservations
    person = ErpSimulator(erp.sql.dialect.connect(erp.sql.conn_str), erp.sql.dialect)
    try:
        _, _, rz = person.add_reservation(2, 1)
        assert erp.reservation_product(rz) == erp.sql.reservation_product(rz) == 2
        person.delete_reservation(rz)
        assert erp.reservation_product(rz) is None
        _, pz = person.draft_pz(3, 5)
        assert erp.document_state(pz) == erp.sql.document_state(pz) == "draft"
        assert erp.document_products(pz) == erp.sql.document_products(pz) == [3]
        person.issue_document(pz)
        assert erp.document_state(pz) == erp.sql.document_state(pz) == "issued"
        assert erp.document_state(99999) == "missing"
        # which orders a document realised: an invoice names its order (Sales/ZMO), a WZ through its invoice
        other, _ = erp.create_order(draft("781"))
        _, fv = person.issue_invoice(zo)
        _, wz = person.realise_order(zo)
        assert erp.orders_of_document(fv) == erp.sql.orders_of_document(fv) == [zo], "not the other order"
        assert erp.orders_of_document(wz) == erp.sql.orders_of_document(wz) == [zo]
        assert other not in erp.orders_of_document(wz)
        _, wz2 = person.realise_order(other)  # a WZ without an invoice names no order: its products' orders
        assert other in erp.orders_of_document(wz2) and erp.sql.orders_of_document(wz2) == [other]
    finally:
        person.close()
