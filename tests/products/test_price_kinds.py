"""Prices as the shop enters them: a card's or a price list's price of the other kind (gross or net) is
converted at the product's VAT rate, a price list's discount is taken off the card's price, and the initial
import makes each card at the shop's VAT rate and price kind.

The import and the cards run against the WebAPI simulator process (the demo company, whose base list is
net); the price list's discount, which the demo company has none of, is answered in-process."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from shopsync.server.erp.records import ProductDraft
from shopsync.server.erp.webapi import WebApiClient, WebApiErp

from tests.helpers.webapi import webapi_erp_over_demo

D = Decimal


@pytest.fixture
def erp(tmp_path):
    gw, sim = webapi_erp_over_demo(tmp_path, 5)
    yield gw
    gw.close()
    sim.stop()


def test_a_shop_with_gross_prices_imports_a_gross_card_at_its_vat_rate_and_reads_it_back_gross(erp):
    erp.prices_gross = True
    ids = erp.create_products([ProductDraft(code="G-8", name="Książka", vat="8", price=D("108.00"), price_gross=True),
                               ProductDraft(code="G-ZW", name="Usługa", vat="zw", price=D("50.00"), price_gross=True)])
    with erp.sql.unit_of_work() as cur:  # the demo's base list is net: the ERP stored the net price
        net = cur.execute("SELECT p.cena FROM HM.CP p JOIN HM.CK k ON k.id = p.idck WHERE k.kod = 'DETAL' AND "
                          "p.idpoz = ?", ids["G-8"]).fetchone()[0]
    assert D(str(net)) == D("100")
    book = erp.get_products([ids["G-8"], ids["G-ZW"]])
    assert (book[ids["G-8"]].vat, book[ids["G-8"]].base_price) == (8, D("108.00")), "gross, as the shop has it"
    assert (book[ids["G-ZW"]].vat, book[ids["G-ZW"]].base_price) == (0, D("50.00")), "exempt: no tax"
    erp.prices_gross = False
    assert erp.get_products([ids["G-8"]])[ids["G-8"]].base_price == D("100"), "a net shop reads the net price"


def test_a_net_shop_imports_a_net_card():
    sent = []

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("OpenNewSession"):
            return httpx.Response(200, text='"t"')
        if request.url.path.endswith("/Products/Create"):
            sent.append(json.loads(request.content))
            return httpx.Response(200, json={"Id": 7})
        return httpx.Response(404, json={"Message": "Nie znaleziono towaru"})

    erp = WebApiErp(None, WebApiClient("http://erp.test/api", "k", transport=httpx.MockTransport(api)),
                    options=type("O", (), {"marker": "marker:1", "max_code_length": 20, "warehouses": (1,),
                                           "base_price_list": "DETAL", "order_warehouse": 1})())
    erp.create_products([ProductDraft(code="N-5", name="Chleb", vat="5", price=D("10.00"))])
    [body] = sent
    assert body["VatRate"]["Code"] == "5" and body["SalePrices"][0]["Kind"] == 2 and body["SalePrices"][0]["Value"] == 10


def _list_api(entries: list[dict], card: dict) -> httpx.MockTransport:
    def api(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("OpenNewSession"):
            return httpx.Response(200, text='"t"')
        if path.endswith("/PriceLists") and "id" in request.url.params:
            return httpx.Response(200, json={"Id": 3, "Code": "HURT", "Active": True, "ForAllContractors": True,
                                             "Products": [{"Id": 1, "Code": "A", "Name": "A", "Prices": entries}],
                                             "Contractors": [], "ContractorKinds": []})
        if path.endswith("/Products/FilterSql/WithSalePrices"):
            return httpx.Response(200, json=[card])
        return httpx.Response(404, json={"Message": "?"})
    return httpx.MockTransport(api)


@pytest.mark.parametrize("entry, gross, expected", [
    ({"Type": 1, "PriceKind": 2, "PriceType": 1, "Value": 80, "Currency": "PLN"}, False, D("80")),
    ({"Type": 1, "PriceKind": 1, "PriceType": 1, "Value": 123, "Currency": "PLN"}, False, D("100.00")),
    ({"Type": 1, "PriceKind": 2, "PriceType": 1, "Value": 100, "Currency": "PLN"}, True, D("123.00")),
    # a discount of 10% off the card's PriceA (net 200): 180 net, or 221.40 gross
    ({"Type": 0, "PriceKind": 0, "PriceType": 1, "Value": 10, "Currency": "PLN"}, False, D("180.00")),
    ({"Type": 0, "PriceKind": 0, "PriceType": 1, "Value": 10, "Currency": "PLN"}, True, D("221.40")),
])
def test_a_price_lists_entry_is_read_as_its_type_and_kind_say(entry, gross, expected):
    card = {"Id": 1, "Code": "A", "VatRate": "23", "SalePrices": [{"Type": 1, "Kind": 2, "Value": 200,
                                                                   "Currency": "PLN"}]}
    erp = WebApiErp(None, WebApiClient("http://erp.test/api", "k", transport=_list_api([entry], card)),
                    options=type("O", (), {"marker": "marker:1", "max_code_length": 20, "warehouses": (1,),
                                           "base_price_list": "DETAL", "order_warehouse": 1})())
    erp.prices_gross = gross
    assert erp.get_price_list(3).prices[1][0] == expected


def _fields(p):
    return (p.code, p.name, p.ean, p.vat, p.group_path, p.marked, p.note, p.active, p.base_price)


@pytest.fixture
def many(tmp_path):
    gw, sim = webapi_erp_over_demo(tmp_path, 40)
    yield gw, sim
    gw.close()
    sim.stop()


def test_many_cards_are_read_in_a_few_list_calls_and_a_changed_note_comes_from_the_feed(many):
    """A catch-up's read of many cards: every card's list fields in one call, the marked ones in one, and the
    note and catalog of a card from its last whole read, refreshed by the Products feed when it changed."""
    from shopsync.demo.erp import ErpSimulator

    erp, sim = many
    ids = list(range(1, 41))
    first = erp.get_products(ids)  # a cold start: each card read whole once
    assert {p: _fields(v) for p, v in first.items()} == {p: _fields(v) for p, v in erp.sql.get_products(ids).items()}
    person = ErpSimulator(erp.sql.dialect.connect(erp.sql.conn_str), erp.sql.dialect)
    person.edit_note(7, "Nowy opis")
    person.save_item(8, name="Nowa nazwa", group_path=("Ogród", "Nowy dział"))
    person.set_marker(9, False)
    person.close()
    before = sim.calls("GET /Products")
    again = erp.get_products(ids)
    assert sim.calls("GET /Products") == before, "no card read one by one: the feed's objects carry the changes"
    assert {p: _fields(v) for p, v in again.items()} == {p: _fields(v) for p, v in erp.sql.get_products(ids).items()}
    assert again[7].note == "Nowy opis" and again[8].group_path == ("Ogród", "Nowy dział") and not again[9].marked
    assert erp.get_products([9998, 9999]) == {} and 9999 not in erp.get_products(ids + [9999])
