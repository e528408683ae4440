"""An ERP order is worth exactly what the customer paid, or it is not written and a person is told why.

Orders built from the shop's view (tests/helpers/fakes.py shop in memory), written by the SQL writer into
the demo company on the SQLite ODBC driver; the WebAPI writer's share is in tests/test_webapi_writer.py.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from shopsync.server.erp.rounding import position_value
from shopsync.server.sync import orders
from shopsync.server.sync.customers import payer_for_order
from shopsync.server.sync.order_pricing import order_draft
from shopsync.server.sync.outcome import Rejected, SettingMissing

from shop_client.interface import Address, ShopCharge, ShopOrder, ShopOrderLine
from tests.helpers.sync_context import sync_context

D = Decimal


def import_order(ctx, o):
    return orders.import_order(ctx, o, payer_for_order)


@pytest.fixture
def ctx(tmp_path):
    yield from sync_context(tmp_path, orders={"shipping_code": "TRANSPORT", "fee_code": "OPLATA",
                                              "payment_forms": {"bacs": 3, "cod": 1}})


def vat23_skus(ctx, n: int) -> list[str]:
    products = ctx.erp.get_products(range(1, 21))
    return [p.code for p in products.values() if p.vat == 23][:n]


def order(lines, *, charges=(), total=None, total_tax=D(0), include_tax=False, number="501", method="bacs",
          note="") -> ShopOrder:
    billing = Address(first_name="Ewa", last_name="Nowak", address_1="Długa 5", city="Kraków", postcode="30-001",
                      country="PL", email="ewa@example.pl")
    return ShopOrder(id=int(number), number=number, status="processing", currency="PLN", customer_id=0,
                     billing=billing, shipping=billing,
                     lines=tuple(ShopOrderLine(0, sku, "x", D(q), (D(t) / q).quantize(D("0.0001")), D(t), D(tax))
                                 for sku, q, t, tax in lines),
                     charges=tuple(charges), total=None if total is None else D(total), total_tax=D(total_tax),
                     prices_include_tax=include_tax, payment_method=method, note=note)


def erp_gross(ctx, zo: int) -> Decimal:
    r = ctx.erp.get_order(zo)
    return r.net + r.vat


def test_the_issue_example_shipping_and_fee_become_service_lines_and_the_total_matches(ctx):
    """2 x 100.00 + 15.00 shipping + 5.00 fee, a shop without taxes: the customer pays 220.00."""
    [sku] = vat23_skus(ctx, 1)
    o = order([(sku, 2, "200.00", "0")], charges=[ShopCharge("shipping", "Kurier", D("15.00")),
                                                  ShopCharge("fee", "Pobranie", D("5.00"))], total="220.00",
              note="Proszę dzwonić")
    draft = order_draft(ctx, o, contractor_id=1)
    assert draft.prices_gross, "a shop that charged no tax priced its goods at what the customer pays"
    codes = ctx.erp.product_codes([ln.product_id for ln in draft.lines])
    assert [(codes[ln.product_id][0], ln.quantity, ln.price) for ln in draft.lines] == [
        (sku, 2, D("100")), ("TRANSPORT", 1, D("15")), ("OPLATA", 1, D("5"))]
    assert draft.payment_form == 3 and draft.customer_note == "Proszę dzwonić"
    zo = import_order(ctx, o)
    assert erp_gross(ctx, zo) == D("220.00")
    record = ctx.erp.get_order(zo)
    assert record.buffered and record.code == "", "the SQL writer leaves numbering to Symfonia (buffer)"
    assert "Uwagi klienta: Proszę dzwonić" in record.description


def test_net_prices_with_tax_and_a_coupon_spread_over_the_lines(ctx):
    """Prices without tax, a coupon: each line at its value after the discount, VAT on top, per line."""
    a, b = vat23_skus(ctx, 2)
    # 3 x 33.33 = 99.99 less 10% = 89.99 (tax 20.70); 1 x 50.00 less 10% = 45.00 (10.35); shipping 10 + 2.30
    o = order([(a, 3, "89.99", "20.70"), (b, 1, "45.00", "10.35")],
              charges=[ShopCharge("shipping", "Kurier", D("10.00"), D("2.30"))], total="178.34",
              total_tax="33.35")
    draft = order_draft(ctx, o, contractor_id=1)
    assert not draft.prices_gross
    assert [ln.price for ln in draft.lines] == [D("29.9967"), D("45.0000"), D("10.0000")]
    zo = import_order(ctx, o)
    assert erp_gross(ctx, zo) == D("178.34")


def test_prices_with_tax_are_sent_gross(ctx):
    [sku] = vat23_skus(ctx, 1)
    # WooCommerce, prices entered with tax: 3 x 33.33 gross = 99.99 -> net 81.29, tax 18.70
    o = order([(sku, 3, "81.29", "18.70")], total="99.99", total_tax="18.70", include_tax=True)
    draft = order_draft(ctx, o, contractor_id=1)
    assert draft.prices_gross and draft.lines[0].price == D("33.33")
    assert erp_gross(ctx, import_order(ctx, o)) == D("99.99")


def test_a_missing_shipping_code_is_a_missing_setting_named_and_writes_nothing(ctx):
    [sku] = vat23_skus(ctx, 1)
    ctx.settings = ctx.settings.replace(orders={"shipping_code": ""})
    o = order([(sku, 1, "10.00", "0")], charges=[ShopCharge("shipping", "Kurier", D("15.00"))], total="25.00")
    with pytest.raises(SettingMissing, match="set orders.shipping_code"):
        import_order(ctx, o)
    assert ctx.erp.count_orders() == (0, 0, 0)
    ctx.settings = ctx.settings.replace(orders={"shipping_code": "NIE-MA"})
    with pytest.raises(SettingMissing, match="'NIE-MA' is not a product in the ERP"):
        import_order(ctx, o)


def test_a_vat_rate_the_erp_item_does_not_have_is_refused_with_both_rates(ctx):
    [sku] = vat23_skus(ctx, 1)
    o = order([(sku, 1, "100.00", "8.00")], total="108.00", total_tax="8.00")
    with pytest.raises(Rejected, match=r"charged 8.00 tax on 100.00 \(8.0%\), the ERP item has VAT 23%"):
        import_order(ctx, o)
    assert ctx.erp.count_orders() == (0, 0, 0)


def test_a_total_that_would_differ_says_by_how_much(ctx):
    [sku] = vat23_skus(ctx, 1)
    o = order([(sku, 1, "100.00", "0")], total="100.05")
    with pytest.raises(Rejected, match=r"would total 100.00 PLN gross, the customer pays 100.05; "
                                            r"differs by -0.05"):
        import_order(ctx, o)
    assert ctx.erp.count_orders() == (0, 0, 0)


def test_free_shipping_adds_no_line(ctx):
    [sku] = vat23_skus(ctx, 1)
    o = order([(sku, 1, "10.00", "0")], charges=[ShopCharge("shipping", "Darmowa", D("0"))], total="10.00")
    assert len(order_draft(ctx, o, contractor_id=1).lines) == 1


@pytest.mark.parametrize("quantity", [1, 3, 7, 12, 99])
def test_unit_prices_value_back_to_the_line(quantity):
    from shopsync.server.erp.rounding import unit_price

    for cents in (1, 99, 10000, 12345, 99999):
        value = D(cents) / 100
        assert position_value(D(quantity), unit_price(value, D(quantity)), 23, gross=True).gross == value
