"""Order pricing: the ERP order a shop order becomes, worth exactly what the customer paid.

A mapper beside the order synchronizer (orders.py): it validates the whole order
(lines, SKUs, quantities, currency and rate, service codes for shipping and fees,
VAT) and prices it, before anything is written. A setting it needs and the site has
not set pauses the orders (SettingMissing) instead of failing each one.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from decimal import Decimal

from shop_client.interface import ShopOrder, ShopOrderLine

from ..erp.records import OrderDraft, OrderLineDraft, Product, order_description
from ..erp.rounding import grosz, position_value, unit_price
from ..queue.bindings import Kind
from .addresses import delivery_address
from .context import SyncContext
from .exchange_rates import FixedRates, NbpRates, RateUnavailable, make_rates
from .outcome import Rejected, SettingMissing

log = logging.getLogger(__name__)


def exchange_rates(ctx: SyncContext) -> FixedRates | NbpRates:
    """The exchange-rate source orders.rates names, made once per context."""
    rates = ctx.services.get("rates")
    if rates is None:
        rates = ctx.services["rates"] = make_rates(ctx.settings.orders)
    return rates


def order_draft(ctx: SyncContext, order: ShopOrder, contractor_id: int) -> OrderDraft:
    """The ERP order a shop order becomes, priced as the shop priced it; rejected (nothing written) when
    a line cannot be matched or the ERP's total would differ from what the customer paid."""
    if not order.lines:
        raise Rejected.of("order.no_lines", order=order.number)
    skus = [ln.sku for ln in order.lines]
    # A line of a variation names the variation (its card's binding) and its variable product (no card's).
    by_shop_id = ctx.bindings.by_shop_ids(Kind.PRODUCT, [i for ln in order.lines for i in (ln.variation_id,
                                                                                         ln.product_id) if i])
    o = ctx.settings.orders
    # Every product the order names, read once: its lines' SKUs and the shipping and fee services.
    charged = {c.kind for c in order.charges if c.total or c.tax}
    services = [code for kind, code in (("shipping", o.shipping_code), ("fee", o.fee_code)) if code and kind in charged]
    read = ctx.erp.products_by_codes([s for s in skus if s] + services)
    codes = {code: p.id for code, p in read.items()}
    goods: list[tuple[int, ShopOrderLine]] = []
    for i, ln in enumerate(order.lines, start=1):
        if ln.quantity <= 0:
            raise Rejected.of("order.bad_quantity", order=order.number, line=i, item=ln.sku or ln.name,
                              quantity=str(ln.quantity))
        pid = (by_shop_id[ln.variation_id].erp_id if ln.variation_id in by_shop_id else None) or codes.get(ln.sku) \
            or (by_shop_id[ln.product_id].erp_id if ln.product_id in by_shop_id and not ln.variation_id else None)
        if pid is None:
            raise Rejected.of("order.unknown_sku", order=order.number, line=i, sku=ln.sku)
        goods.append((pid, ln))
    products = {p.id: p for p in read.values()}
    lines, prices_gross, expected = priced_lines(ctx, order, goods, products)
    zone = zoneinfo.ZoneInfo(ctx.settings.shop.time_zone)
    created = order_day(order, zone) or dt.datetime.now(zone).date()
    try:
        rate = exchange_rates(ctx).rate(order.currency or "PLN", created)
    except RateUnavailable as exc:
        raise Rejected.of("order.no_rate", order=order.number, text=str(exc)) from None
    delivery = delivery_address(order)
    forms = ctx.settings.orders.payment_forms
    payment_form = forms.get(order.payment_method) if order.payment_method else None
    if payment_form is None:
        payment_form = ctx.settings.orders.default_payment_form or None  # None: the contractor card's own
    return OrderDraft(shop_number=order.number, contractor_id=contractor_id, delivery=delivery,
                      currency=(order.currency or "PLN").upper(), rate=rate, lines=lines,
                      note=order_description(order.number), date=created, prices_gross=prices_gross,
                      payment_form=int(payment_form) if payment_form is not None else None,
                      customer_note=order.note.strip(), expected_gross=expected,
                      shop_order_id=int(order.id) if order.id else None)


def priced_lines(ctx: SyncContext, order: ShopOrder, goods: list[tuple[int, ShopOrderLine]],
                 products: dict[int, Product]) -> tuple[list[OrderLineDraft], bool, Decimal | None]:
    """ERP order lines priced as the shop priced them: (lines, priced gross?, the gross the ERP must reach).

    - Goods at their value after coupons (WooCommerce spreads a coupon over the lines it applies to).
    - Shipping and fees as service lines (ERP codes from orders.shipping_code / orders.fee_code).
    - Gross prices when the shop's prices include tax, or when the shop charged no tax at all
      (taxes off: the price entered is what the customer pays); otherwise net prices, and each
      line's tax must be the ERP item's VAT rate.
    - The ERP's gross total (values.position_value, our model of the ERP's rule) must equal the
      shop's total to the grosz, or nothing is written and the dead letter says by how much.
    """
    o = ctx.settings.orders
    charged_tax = bool(order.total_tax) or any(ln.tax for ln in order.lines) or any(c.tax for c in order.charges)
    gross = order.prices_include_tax or not charged_tax
    items: list[tuple[int, Decimal, Decimal, Decimal, str]] = []  # product, quantity, net value, tax, label
    for pid, ln in goods:
        total = ln.total if ln.total is not None else ln.unit_price * ln.quantity
        items.append((pid, ln.quantity, total, ln.tax, f"SKU {ln.sku}" if ln.sku else ln.name))
    charges = [c for c in order.charges if c.total or c.tax]
    wanted = {"shipping": ("orders.shipping_code", o.shipping_code), "fee": ("orders.fee_code", o.fee_code)}
    products = dict(products)  # the order's products and services as order_draft read them, by id
    service_ids = {p.code: pid for pid, p in products.items()}
    for c in charges:
        setting, code = wanted[c.kind]
        what = {"order": order.number, "what": "shipping" if c.kind == "shipping" else "a fee", "name": c.name,
                "amount": str(c.total + c.tax), "currency": order.currency, "setting": setting}
        if not code:
            raise SettingMissing.of("order.service_unset", **what)
        if code not in service_ids:
            raise SettingMissing.of("order.service_missing", code=code, **what)
        items.append((service_ids[code], Decimal(1), c.total, c.tax, f"{c.kind} {c.name!r}"))
    unread = sorted({i[0] for i in items} - set(products))  # lines bound by the shop's id, not by SKU
    products.update(ctx.erp.get_products(unread) if unread else {})
    vat_of = {pid: p.vat for pid, p in products.items()}
    lines: list[OrderLineDraft] = []
    erp_gross = Decimal(0)
    for n, (pid, qty, total, tax, label) in enumerate(items, start=1):
        vat = vat_of.get(pid, 0)
        if charged_tax and total and abs(grosz(total * vat / 100) - tax) > Decimal("0.01"):
            shop_rate = (tax * 100 / total).quantize(Decimal("0.1"))
            raise Rejected.of("order.tax_differs", order=order.number, line=n, item=label, tax=str(tax),
                              total=str(total), shop_rate=str(shop_rate), vat=str(vat))
        value = total + tax if gross else total
        price = unit_price(value, qty)
        known = products.get(pid)
        lines.append(OrderLineDraft(product_id=pid, quantity=qty, price=price, code=known.code if known else "",
                                    unit=known.unit if known else ""))
        erp_gross += position_value(qty, price, vat, gross=gross).gross
    if order.total is not None and erp_gross != order.total:
        kind = "gross" if gross else "net"
        raise Rejected.of("order.total_differs", order=order.number, erp=str(erp_gross), currency=order.currency,
                          shop=str(order.total), diff=str(erp_gross - order.total), kind=kind)
    return lines, gross, order.total


def order_day(order: ShopOrder, zone: dt.tzinfo | None = None) -> dt.date | None:
    """The day the shop order was placed in the shop's time zone (`zone`; the shops report the moment in
    UTC), when the shop says. Its ERP order is dated that day, with the exchange rate of the business day
    before it."""
    if not order.created:
        return None
    try:
        moment = dt.datetime.fromisoformat(order.created.replace("Z", "+00:00"))
    except ValueError:
        return None
    if zone is None or (moment.tzinfo is None and len(order.created) <= 10):
        return moment.date()
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)).astimezone(zone).date()
