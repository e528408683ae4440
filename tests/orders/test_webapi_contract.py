"""The contract test: every request our WebAPI client makes, and every answer the simulator gives it,
checked against Symfonia WebAPI's own models (SymfWebAPI, generated from the real API).

Real pieces: the simulator process over the demo company, our client over HTTP; the requests and
answers are recorded on the wire (httpx event hooks) while the sync's own calls run.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from SymfWebAPI.WebAPI.Interface.Contractors.ViewModels import Contractor
from SymfWebAPI.WebAPI.Interface.InventoryStates.ViewModels import InventoryState
from SymfWebAPI.WebAPI.Interface.Orders.ViewModels import Order, OrderIssue
from SymfWebAPI.WebAPI.Interface.Products.ViewModels import Product
from SymfWebAPI.WebAPI.Interface.Products.ViewModels.PriceLists import PriceList
from shopsync.demo.erp import ErpSimulator
from shopsync.server.erp.records import (ONE_TIME_CONTRACTOR, AddressDraft, ContractorDraft, MarkerSource, OrderDraft,
                                         OrderLineDraft, ProductDraft)
from shopsync.server.erp.webapi import CHANGE_FEEDS, WebApiErp
from shopsync.server.settings import Settings

from shopsync.demo.webapi_operations import answer_type, candidates, operations, select
from tests.helpers.contract import problems, whole_model_problems
from tests.helpers.webapi import WebApiSimProcess, webapi_erp_over_demo

D = Decimal
NO_BODY = None
# What a feed's Object is (the element's Object is Any in the model).
FEED_OBJECTS = {"/api/Products/IncrementalSync": Product, "/api/Contractors/IncrementalSync": Contractor,
                "/api/Orders/IncrementalSync": Order, "/api/PriceLists/IncrementalSync": PriceList}
# OrderIssue's fields the reference marks required ([J] "Pole jest wymagane"): the sync always sends them.
REQUIRED_ORDER_FIELDS = ("TypeCode", "Series", "Department", "PriceKind", "SalePriceType", "Positions", "Buyer",
                         "PaymentFormId",
                         # not marked required, but without it the ERP reserves in its default warehouse
                         "Warehouse")


@pytest.fixture
def recorded(tmp_path):
    erp, sim = webapi_erp_over_demo(tmp_path, 10, "contract")
    calls: list[dict[str, Any]] = []

    def on_response(response: Any) -> None:
        response.read()
        request = response.request
        calls.append({"method": request.method, "path": request.url.path, "query": dict(request.url.params),
                      "body": json.loads(request.content) if request.content else NO_BODY,
                      "status": response.status_code, "answer": response.json() if response.content else NO_BODY})

    erp.webapi._http.event_hooks["response"].append(on_response)
    yield erp, sim, calls
    erp.close()
    sim.stop()


def run_the_sync_calls(erp: WebApiErp, sim: WebApiSimProcess) -> None:
    """What the sync asks of the WebAPI in a day: a first order (contractor, delivery address, ZMO), its
    invoice and printout, the change feeds after a goods receipt, a card save and the order."""
    since = dt.datetime.now() - dt.timedelta(seconds=30)
    kid = erp.create_contractor(ContractorDraft(code="WWW-900", name="Anna Kowalska", nip="5260250274",
                                                street="Długa", house="5", postcode="31-100", city="Kraków",
                                                email="anna@example.com", phone="600100200"))
    erp.find_contractors_by_nip("5260250274")
    zo, _ = erp.create_order(OrderDraft(
        shop_number="900", contractor_id=kid, currency="PLN", rate=D(1),
        delivery=AddressDraft(label="Dostawa 900", name="Anna Kowalska", street="Polna", house="7",
                              postcode="32-020", city="Wieliczka"),
        lines=[OrderLineDraft(product_id=1, quantity=D(2), price=D("12.30"))], note="Zamówienie ze sklepu nr 900",
        prices_gross=True, payment_form=1, customer_note="po 16", expected_gross=D("24.60")))
    erp.issue_invoice(zo)
    # a foreign-currency order at its rate, priced net; and a guest's order to a one-time contractor
    erp.create_order(OrderDraft(
        shop_number="902", contractor_id=kid, currency="EUR", rate=D("4.25"), delivery=None,
        lines=[OrderLineDraft(product_id=2, quantity=D(1), price=D("10.00"))], note="Zamówienie ze sklepu nr 902",
        prices_gross=False, payment_form=3))
    erp.settings = Settings().replace(orders={"guests_as_one_time": True, "default_payment_form": 1})
    erp.create_order(OrderDraft(
        shop_number="903", contractor_id=ONE_TIME_CONTRACTOR, currency="PLN", rate=D(1),
        delivery=AddressDraft(label="Dostawa 903", name="Jan Gość", street="Krótka", house="1", postcode="00-001",
                              city="Warszawa"),
        lines=[OrderLineDraft(product_id=1, quantity=D(1), price=D("12.30"))], note="Zamówienie ze sklepu nr 903",
        prices_gross=True, payment_form=1, one_time=ContractorDraft(code="", name="Jan Gość", street="Krótka",
                                                                     house="1", postcode="00-001", city="Warszawa")))
    erp.settings = None
    erp.invoice_printouts(zo)
    erp.order_progress([zo])
    assert erp.order_products(zo) == [1]
    erp.prices_for_products([1, 2])
    erp.marked_product_ids()
    erp.get_order(zo)
    erp.find_order_by_shop_number("900")
    person = ErpSimulator(erp.sql.dialect.connect(erp.sql.conn_str), erp.sql.dialect)
    _, _, rz = person.add_reservation(2, 1)
    _, pz = person.draft_pz(3, 5)
    person.close()
    erp.reservation_product(rz)
    erp.document_state(pz)
    erp.orders_of_document(pz)  # WarehouseDocuments/FV
    invoice = erp.webapi.call("GET", "/Orders/FV", params={"orderId": zo})[0]["Id"]
    assert zo in erp.orders_of_document(invoice)  # Sales/ZMO
    erp.search_products("WIE")
    erp.search_contractors("Kowal")
    erp.contractors_in_groups([1])
    erp.price_list_codes_for_contractors([1, kid])
    erp.commercial_stock([1, 2])  # a few: product by product
    erp.commercial_stock(range(1, 41))  # many: the warehouse at once
    buffered = erp.webapi.call("POST", "/OrdersIssue/New", params={"issue": "false"},
                               body=erp.order_body(OrderDraft(shop_number="901", contractor_id=kid, currency="PLN",
                                                              rate=D(1), delivery=None, payment_form=1, lines=[OrderLineDraft(
                                                                  product_id=1, quantity=D(1), price=D(10))]),
                                                   erp.sql.product_codes([1]), None))
    erp.cancel_order(int(buffered["Id"]))
    maker = ErpSimulator(erp.sql.dialect.connect(erp.sql.conn_str), erp.sql.dialect)
    maker.add_catalog(("Sklep", "Nowe"))  # the WebAPI makes no catalogs: a person did (Products/Catalogs)
    maker.close()
    erp.create_products([ProductDraft(code="SHOP-1", name="Towar ze sklepu", ean="5901234123457", vat=8,
                                      group_path=("Sklep", "Nowe"), price=D("19.99"), note="opis")])
    settings = Settings().replace(orders={"payment_forms": {"bacs": 3}, "fixed_rates": {"EUR": 4.25},
                                          "shipping_code": "TRANSPORT"})
    assert erp.check_settings(settings) == []
    act = ErpSimulator(erp.sql.dialect.connect(erp.sql.conn_str), erp.sql.dialect)
    act.approve_pz(2, 5)
    act.save_item(3, name="Nowa nazwa")
    act.set_price(2, 3, D("9.99"))  # a price list changed: its feed object is a PriceList
    act.close()
    for feed in CHANGE_FEEDS:
        erp.feed_changes(feed, since)
    erp.stock_changes(since)


def test_every_request_and_answer_fits_the_webapis_own_models(recorded):
    """Every call matched against SymfWebAPI's own operations (method, route, required and optional query
    parameters: the action ASP.NET would run), its body against the operation's model (no unknown field, the
    model's types, declared enum values) and its answer as the whole model the real API writes."""
    erp, sim, calls = recorded
    run_the_sync_calls(erp, sim)
    erp.webapi.close()  # CloseSession
    faults = contract_faults(calls)
    assert not faults, "\n".join(faults)


def test_a_feature_marker_sites_calls_fit_too(recorded):
    """A site whose marker is a product feature: the marked list, cards one by one and many at once, and
    the import's card, each call held to the library's operations and models."""
    erp, sim, calls = recorded
    erp.marker = MarkerSource.parse("feature:Sklep=TAK")
    assert erp.marked_product_ids()  # Products/Filter by the Dimension (salePrices required)
    erp.get_products([1, 2])
    erp.get_products(range(1, 41))  # the list calls
    erp.create_products([ProductDraft(code="FEAT-1", name="Z cechą", price=D("5.00"))])
    assert erp.get_products([erp.find_products_by_codes(["FEAT-1"])["FEAT-1"]]).popitem()[1].marked
    faults = contract_faults(calls)
    assert not faults, "\n".join(faults)


def contract_faults(calls: list[dict[str, Any]]) -> list[str]:
    """Every recorded call against SymfWebAPI's operations and models (see the test above)."""
    faults = []
    for c in calls:
        where = f"{c['method']} {c['path']}?{'&'.join(sorted(c['query']))}"
        action = select(c["method"], c["path"], c["query"])
        if action is None:
            faults.append(f"{where}: no operation of SymfWebAPI takes this call (candidates: "
                          f"{[op.describe() for op in candidates(c['method'], c['path'])]})")
            continue
        if c["status"] != 200:  # a lookup that finds nothing: 404 with the one error model, ApiError {Message}
            assert c["status"] == 404 and c["method"] == "GET" and set(c["answer"]) == {"Message"}, \
                f"{where}: {c['status']} {c['answer']}"
            continue
        if action.body is None:
            assert c["body"] is NO_BODY, f"{where} sends a body the API does not take"
        else:
            faults += [f"{where} request: {p}" for p in problems(action.body, c["body"])]
        shape = answer_type(action)
        if shape is not None:
            faults += [f"{where} answer: {p}" for p in whole_model_problems(shape, c["answer"])]
        if c["path"] in FEED_OBJECTS:
            for element in c["answer"]:
                if element["Object"] is not None:
                    faults += [f"{where} Object: {p}" for p in
                               whole_model_problems(FEED_OBJECTS[c["path"]], element["Object"])]
    return faults


def test_the_library_table_refuses_what_asp_net_would():
    """The operation table routes as ASP.NET does: a required query parameter missing, or one no action
    takes, finds no action."""
    assert select("POST", "/api/Contractors/Create", {}) is None, "syncFk is required"
    assert select("POST", "/api/Contractors/Create", {"SYNCFK": "false"}).name == "AddNew"
    assert select("GET", "/api/Orders/InvoicesPDF", {"orderId": "1"}) is None, "printNote is required"
    assert select("PATCH", "/api/Products/Filter", {}) is None, "salePrices is required"
    assert select("GET", "/api/Orders", {"id": "1", "nonsense": "1"}) is None
    assert select("GET", "/api/v2026.2/Sales/Status/Refresh/5", {}).name == "RefreshKsefStatusAsync"
    assert len(operations()) > 700


def test_orders_carry_every_field_the_reference_marks_required(recorded):
    erp, sim, calls = recorded
    run_the_sync_calls(erp, sim)
    order = next(c["body"] for c in calls if c["path"] == "/api/OrdersIssue/New")
    for order in (c["body"] for c in calls if c["path"] == "/api/OrdersIssue/New"):
        missing = [f for f in REQUIRED_ORDER_FIELDS if order.get(f) in (None, "", [], 0)]
        assert not missing, f"OrdersIssue/New sent without {missing}"
        assert order["Warehouse"] == "MAG", "the lines are reserved in erp.order_warehouse (1, coded MAG)"
    order = next(c["body"] for c in calls if c["path"] == "/api/OrdersIssue/New")
    assert order["Buyer"]["Id"] and order["Id2External"] == "900"
    # the feeds asked in the ERP's local time, without an offset (reference §6)
    for c in calls:
        if c["path"].endswith(("/IncrementalSync", "/Changes")):
            stamp = c["query"].get("dateFrom") or c["query"].get("date")
            assert dt.datetime.fromisoformat(stamp).tzinfo is None, stamp


def test_the_contract_check_catches_an_invented_field_and_a_wrong_type():
    """The checker itself: a field the model lacks and a value of the wrong type are both reported."""
    assert problems(Contractor, {"Code": "A", "Name": "B", "Nazwisko": "x"}) == ["Nazwisko: not a field of "
                                                                                  "Contractors_ViewModels_Contractor"]
    assert problems(list[InventoryState], [{"ProductId": 1, "Quantity": 2}]) == ["[0].Quantity: not a field of InventoryState"]
    assert any("AmountToSale" in p for p in problems(list[InventoryState], [{"ProductId": 1, "AmountToSale": "x"}]))
    assert problems(OrderIssue, {"Buyer": {"Id": 1, "Kod": "x"}}) == ["Buyer.Kod: not a field of OrderIssueContractor"]


def test_the_contract_check_catches_an_undeclared_enum_value():
    """SymfWebAPI's enums take any integer; the checker holds them to the declared values."""
    assert problems(OrderIssue, {"PriceKind": 7}) == ["PriceKind: 7 is not a value of enumPriceKind ([0, 1, 2])"]
    assert problems(OrderIssue, {"PriceKind": 1, "ReservationType": 1}) == []


def test_a_reservation_is_an_orders_by_its_document_type_and_id_not_its_id_alone():
    """Ids of different document tables collide: a sale document's reservation with the order's id is not the
    order's (StandardDocumentType tells them apart)."""
    from shopsync.server.erp.webapi.shapes import _reserved_by_order

    assert _reserved_by_order({"StandardDocumentType": 45, "DocumentId": 7}, 7)
    assert not _reserved_by_order({"StandardDocumentType": 16, "DocumentId": 7}, 7), "a sale document's"
    assert not _reserved_by_order({"StandardDocumentType": 45, "DocumentId": 8}, 7)
    assert _reserved_by_order({"StandardDocumentType": 45, "DocumentId": 8}) and not _reserved_by_order({})


def test_the_orders_money_calls_fit_too(recorded):
    """The order's money: a receipt issued from an order (and found again), an invoice's KSeF refresh, the
    payment registers, a payment against a document's settlement, the receipt and payment dictionaries the
    settings check reads; each call held to the library's operations and models."""
    erp, sim, calls = recorded
    erp.settings = Settings().replace(orders={"invoice": "paid", "document": "by_buyer",
                                              "payment_registries": {"bacs": "BANK", "cod": "KASA"}})
    kid = erp.create_contractor(ContractorDraft(code="WWW-950", name="Jan Konsument", street="Długa", house="5",
                                                postcode="31-100", city="Kraków", email="jan@example.com"))
    zo, _ = erp.create_order(OrderDraft(
        shop_number="950", contractor_id=kid, currency="PLN", rate=D(1), delivery=None,
        lines=[OrderLineDraft(product_id=1, quantity=D(2), price=D("12.30"))], note="Zamówienie ze sklepu nr 950",
        prices_gross=True, payment_form=1, expected_gross=D("24.60")))
    receipt = erp.issue_receipt(zo)
    assert receipt.kind == "receipt" and receipt.gross == D("24.60")
    assert erp.issue_receipt(zo).id == receipt.id, "found again by the shop's number: not issued twice"
    assert erp.order_receipt(zo).id == receipt.id
    assert erp.get_order(zo).reservations == [], "the receipt issued the goods"
    assert erp.record_payment(receipt, D("24.60"), "BANK", dt.date.today(), "Zapłata za zamówienie 950")
    assert erp.record_payment(receipt, D("24.60"), "BANK", dt.date.today(), "again") == "", "paid once"
    assert erp.paid_of(receipt.id) == (D("24.60"), D("0.00"))
    firm = erp.create_contractor(ContractorDraft(code="WWW-951", name="Firma", nip="5260250274", street="Polna",
                                                 house="1", postcode="31-100", city="Kraków"))
    zo2, _ = erp.create_order(OrderDraft(
        shop_number="951", contractor_id=firm, currency="PLN", rate=D(1), delivery=None,
        lines=[OrderLineDraft(product_id=2, quantity=D(1), price=D("10.00"))], note="Zamówienie ze sklepu nr 951",
        prices_gross=True, payment_form=1))
    erp.issue_invoice(zo2)
    [invoice] = erp.order_invoices(zo2)
    assert invoice.ksef in ("waiting", "approved")
    assert erp.refresh_ksef(invoice.id, "invoice").number == invoice.number
    code = erp.get_products([2])[2].code
    correction = erp.issue_correction(invoice, "shopsync refund 951/7", "Zwrot w sklepie",
                                      {code: (D(1), D("10.00"), D("10.00"))}, restock=True)
    assert correction.kind == "correction" and correction.gross == D("-10.00")
    assert erp.refresh_ksef(correction.id, "correction").ksef in ("waiting", "approved"), "a correction goes to KSeF"
    assert erp.issue_correction(invoice, "shopsync refund 951/7", "again", {code: (D(1), D("10.00"), D("10.00"))},
                                restock=True).id == correction.id, "found again by the refund's key"
    receipt_fix = erp.issue_correction(receipt, "shopsync refund 950/8", "Zwrot", {
        erp.get_products([1])[1].code: (D(1), D("10.00"), D("12.30"))}, restock=False)
    assert receipt_fix.gross == D("-12.30")
    assert erp.check_settings(erp.settings) == []
    faults = contract_faults(calls)
    assert not faults, "\n".join(faults)


def test_a_families_calls_fit_too(recorded):
    """Families of sizes (products.variants_by = "dimension:Rodzina"): the cards' Dimensions read, and the
    import's cards made with the family's and the size's Dimensions, each call held to the library's operations
    and models."""
    erp, sim, calls = recorded
    person = ErpSimulator(erp.sql.dialect.connect(erp.sql.conn_str), erp.sql.dialect)
    try:
        for pid, size in ((1, "S"), (2, "M")):
            person.set_feature(pid, "Rodzina", "KOSZ")
            person.set_feature(pid, "Rozmiar", size)
    finally:
        person.close()
    assert [erp.get_products([1, 2])[i].features.get("Rozmiar") for i in (1, 2)] == ["S", "M"]
    erp.create_products([ProductDraft(code="KOSZ-L", name="Koszulka L", price=D("5.00"),
                                      features={"Rodzina": "KOSZ", "Rozmiar": "L"})])
    made = erp.find_products_by_codes(["KOSZ-L"])["KOSZ-L"]
    assert erp.get_products([made])[made].features.get("Rozmiar") == "L"
    faults = contract_faults(calls)
    assert not faults, "\n".join(faults)
