"""Orders: shop -> ERP, one ERP customer order (ZMO) with reservations per shop order, once;
and ERP -> shop, the order's life (realised, invoiced, cancelled) back to the shop order.

- OrderImport (inbox `order`, from webhooks and polling): validate the whole order
  first (lines, SKUs, currency and rate), then find or create its payer, then
  write the order and its reservations in one ERP transaction. An order is looked
  up by its shop number (kod_obcy) before anything is written: the same order
  arriving three times is one ERP order.
- poll_orders: orders new or changed since the last poll (the outbound-only path).
- A known contractor keeps its ERP data; a shop account becomes a contractor only
  with its first order; an order whose payer needs a person waits (not a failure).
- order_progress_messages / OrderProgressExport (outbox `order_status`): when the ERP
  order is realised (in part or in full), invoiced or cancelled, the shop order moves
  to the status `orders.status_map` names and gets a note with the document numbers
  (the invoice's visible to the customer). A status the shop already has is not
  written again, and one a person set in the shop after us is kept unless
  `orders.overwrite_shop_status` says otherwise.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from decimal import Decimal
from typing import Any, Iterable, Sequence

from server.erp.errors import ErpPermanent, ErpRetryable
from server.erp.records import (ORDER_CANCELLED, ORDER_NEW, AddressDraft, ContractorDraft, OrderDraft,
                                OrderLineDraft, order_description)
from server.nip import valid_nip_or_none
from server.sync import messages as msg
from server.sync.binder import PAIRED, Binding, Pairing
from server.sync.context import SyncContext
from server.sync.customers import pair_customer, record_pairing
from server.sync.outcome import Outcome
from server.sync.rates import FixedRates, NbpRates, RateSourceDown, RateUnavailable
from shop_client.errors import ShopError, ShopNotFound
from server.erp.values import grosz, position_value, unit_price
from shop_client.interface import CAP_ORDER_STATUS, ShopCustomer, ShopOrder, ShopOrderLine

log = logging.getLogger(__name__)
RESERVATION_MADE = msg.EVENT_NAMES[msg.erp_events_pb2.ERP_EVENT_KIND_RESERVATION_MADE]
WAIT_RECHECK_SECONDS = 30.0  # how often an order waiting for a person is looked at again
STOCK_RETURNING_STATUSES = ("cancelled", "refunded")  # WooCommerce puts an order's stock back on these


class OrderRejected(Exception):
    """The order cannot be imported as it is; the message says what a person must fix."""


class OrderWaits(Exception):
    """The order must wait (e.g. for a person to pair its customer); looked at again later, without limit."""


def _rates(ctx: SyncContext) -> FixedRates | NbpRates:
    rates = getattr(ctx, "_rates", None)
    if rates is None:
        from server.sync.rates import make_rates

        rates = make_rates(ctx.settings.orders)
        ctx._rates = rates  # type: ignore[attr-defined]
    return rates


def _split_street(address_1: str) -> tuple[str, str, str]:
    """'Długa 5/3' -> ('Długa', '5', '3')."""
    parts = address_1.strip().rsplit(" ", 1)
    if len(parts) == 2 and any(ch.isdigit() for ch in parts[1]):
        house, _, flat = parts[1].partition("/")
        return parts[0], house, flat
    return address_1.strip(), "", ""


def contractor_for_order(ctx: SyncContext, order: ShopOrder) -> int:
    """The ERP contractor of an order's payer; the first order creates it."""
    if order.customer_id:
        key_kind, key_id = "customer", order.customer_id
        pairing = ctx.binder.pairing(order.customer_id)
        if pairing is not None and pairing.status == PAIRED and pairing.erp_contractor_id:
            return pairing.erp_contractor_id
        tax = order.tax_id
        try:
            customer = ctx.shop.get_customer(order.customer_id)
            tax = customer.tax_id or tax
            order = _with_customer(order, customer)
        except ShopNotFound:
            customer = None
        if customer is not None:
            p = pair_customer(ctx, customer)
            if p.status == PAIRED and p.erp_contractor_id:
                return p.erp_contractor_id
            if p.ambiguous:
                raise OrderWaits(f"customer {order.customer_id}: {p.detail} "
                                 f"(`shopsync customers pair {order.customer_id} CONTRACTOR_ID`; "
                                 "the order waits and is imported once paired)")
    else:
        key_kind, key_id = "guest", 0
        tax = order.tax_id
        email = (order.billing.email or "").strip().lower()
        if email:
            guest = ctx.binder.get("guest", _guest_key(email))
            if guest is not None and guest.shop_id:
                return guest.shop_id
    nip = valid_nip_or_none(tax)
    if nip:
        found = ctx.erp.find_contractors_by_nip(nip)
        if len(found) > 1:
            raise OrderWaits(f"NIP {nip} of order {order.number} matches several ERP contractors "
                             f"({', '.join(k.code for k in found)}); the order waits for a person to pair "
                             "the customer by hand (`shopsync customers pair`)")
        if len(found) == 1:
            _remember_contractor(ctx, order, key_kind, key_id, found[0].id, f"NIP {nip} = {found[0].code}")
            return found[0].id
    b = order.billing
    street, house, flat = _split_street(b.address_1)
    name = b.company or f"{b.first_name} {b.last_name}".strip() or b.email or f"Klient sklepu {order.number}"
    code = f"WWW-{order.customer_id}" if order.customer_id else f"WWW-G{order.number}"
    kid = ctx.erp.create_contractor(ContractorDraft(
        code=code, name=name, nip=nip or "", street=street, house=house, flat=flat,
        postcode=b.postcode, city=b.city, email=b.email, phone=b.phone, country=b.country or "PL"))
    _remember_contractor(ctx, order, key_kind, key_id, kid, f"created from order {order.number}")
    return kid


def _with_customer(order: ShopOrder, customer: ShopCustomer) -> ShopOrder:
    """The order with the account's e-mail and name filled in where the billing lacks them."""
    billing = order.billing
    if not billing.email or not billing.name:
        billing = dataclasses.replace(billing, email=billing.email or customer.email,
                                      first_name=billing.first_name or customer.first_name,
                                      last_name=billing.last_name or customer.last_name)
    return dataclasses.replace(order, billing=billing, tax_id=order.tax_id or customer.tax_id)


def _guest_key(email: str) -> int:
    import hashlib

    return int(hashlib.sha256(email.encode()).hexdigest()[:15], 16)


def _remember_contractor(ctx: SyncContext, order: ShopOrder, kind: str, customer_id: int, kid: int,
                         detail: str) -> None:
    if kind == "customer":
        record_pairing(ctx, Pairing(shop_customer_id=customer_id, erp_contractor_id=kid, status=PAIRED,
                                    detail=detail, manual=False, nip=order.tax_id, email=order.billing.email,
                                    name=order.billing.name))
    elif order.billing.email:
        ctx.binder.save([Binding("guest", _guest_key(order.billing.email.strip().lower()), kid,
                                 {"email": order.billing.email}, 0)])


def order_draft(ctx: SyncContext, order: ShopOrder, contractor_id: int) -> OrderDraft:
    """The ERP order a shop order becomes, priced as the shop priced it; rejected (nothing written) when
    a line cannot be matched or the ERP's total would differ from what the customer paid."""
    if not order.lines:
        raise OrderRejected(f"order {order.number}: has no lines")
    skus = [ln.sku for ln in order.lines]
    by_shop_id = ctx.binder.by_shop_ids("product", [ln.product_id for ln in order.lines if ln.product_id])
    codes = ctx.erp.find_products_by_codes([s for s in skus if s])
    goods: list[tuple[int, ShopOrderLine]] = []
    for i, ln in enumerate(order.lines, start=1):
        if ln.quantity <= 0:
            raise OrderRejected(f"order {order.number} line {i} ({ln.sku or ln.name}): quantity must be positive, "
                                f"got {ln.quantity}")
        pid = codes.get(ln.sku) or (by_shop_id[ln.product_id].erp_id if ln.product_id in by_shop_id else None)
        if pid is None:
            raise OrderRejected(f"order {order.number} line {i}: SKU {ln.sku!r} is not in the ERP "
                                "(create or import the product, then retry this dead letter)")
        goods.append((pid, ln))
    lines, prices_gross, expected = priced_lines(ctx, order, goods)
    try:
        created = dt.date.fromisoformat(order.created[:10]) if order.created else dt.date.today()
    except ValueError:
        created = dt.date.today()
    try:
        rate = _rates(ctx).rate(order.currency or "PLN", created)
    except RateUnavailable as exc:
        raise OrderRejected(f"order {order.number}: {exc}") from None
    s = order.shipping if (order.shipping.address_1 or order.shipping.city) else order.billing
    street, house, flat = _split_street(s.address_1)
    delivery = AddressDraft(label=f"Dostawa {order.number}"[:40], name=s.name or order.billing.name, street=street,
                            house=house, flat=flat, postcode=s.postcode, city=s.city, country=s.country or "PL")
    forms = ctx.settings.orders.payment_forms
    payment_form = forms.get(order.payment_method) if order.payment_method else None
    if order.payment_method and payment_form is None and forms:
        log.warning("order %s: payment method %r is not in orders.payment_forms; the ERP's default form applies",
                    order.number, order.payment_method)
    return OrderDraft(shop_number=order.number, contractor_id=contractor_id, delivery=delivery,
                      currency=(order.currency or "PLN").upper(), rate=rate, lines=lines,
                      note=order_description(order.number), date=created, prices_gross=prices_gross,
                      payment_form=int(payment_form) if payment_form is not None else None,
                      customer_note=order.note.strip(), expected_gross=expected)


def priced_lines(ctx: SyncContext, order: ShopOrder, goods: list[tuple[int, ShopOrderLine]]
                 ) -> tuple[list[OrderLineDraft], bool, Decimal | None]:
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
    service_ids = ctx.erp.find_products_by_codes([code for _, code in wanted.values() if code])
    for c in charges:
        setting, code = wanted[c.kind]
        what = f"{'shipping' if c.kind == 'shipping' else 'a fee'} {c.name!r} of {c.total + c.tax} {order.currency}"
        if not code:
            raise OrderRejected(f"order {order.number} has {what}: set {setting} to the code of an ERP service "
                                "(e.g. TRANSPORT), then retry this dead letter")
        if code not in service_ids:
            raise OrderRejected(f"order {order.number} has {what}, but {setting} = {code!r} is not a product "
                                "in the ERP: create that service in Symfonia or fix the setting, then retry")
        items.append((service_ids[code], Decimal(1), c.total, c.tax, f"{c.kind} {c.name!r}"))
    vat_of = {pid: p.vat for pid, p in ctx.erp.get_products(sorted({i[0] for i in items})).items()}
    lines: list[OrderLineDraft] = []
    erp_gross = Decimal(0)
    for n, (pid, qty, total, tax, label) in enumerate(items, start=1):
        vat = vat_of.get(pid, 0)
        if charged_tax and total and abs(grosz(total * vat / 100) - tax) > Decimal("0.01"):
            shop_rate = (tax * 100 / total).quantize(Decimal("0.1"))
            raise OrderRejected(f"order {order.number} line {n} ({label}): the shop charged {tax} tax on {total} "
                                f"({shop_rate}%), the ERP item has VAT {vat}%: correct the item's VAT rate in "
                                "Symfonia or the tax class in the shop, then retry this dead letter")
        value = total + tax if gross else total
        price = unit_price(value, qty)
        lines.append(OrderLineDraft(product_id=pid, quantity=qty, price=price))
        erp_gross += position_value(qty, price, vat, gross=gross).gross
    if order.total is not None and erp_gross != order.total:
        kind = "gross" if gross else "net"
        raise OrderRejected(f"order {order.number}: the ERP order would total {erp_gross} {order.currency} gross, "
                            f"the customer pays {order.total}; differs by {erp_gross - order.total} (lines priced "
                            f"{kind}; VAT rounded per line by the ERP): check the shop's tax rounding "
                            "settings, then correct and retry, or discard this dead letter and enter the order "
                            "by hand")
    return lines, gross, order.total


def import_order(ctx: SyncContext, order: ShopOrder) -> int | None:
    """Make one ERP ZMO of a shop order (once); queue the stock refresh of its products.

    Returns the ERP order id, or None when the order's status is not imported.
    """
    if order.status not in ctx.settings.orders.statuses:
        log.debug("order %s in status %s is not imported", order.number, order.status)
        return None
    bound = ctx.binder.by_shop_ids("order", [order.id]).get(order.id)
    existing = bound.erp_id if bound is not None else ctx.erp.find_order_by_shop_number(order.number)
    if existing is not None:
        # Imported before; its stock refresh may not have been queued if we stopped right after.
        _refresh_stock(ctx, [pid for pid, _, _ in ctx.erp.get_order(existing).lines])
        return existing
    # Validate the whole order before writing anything: a rejected order creates no contractor.
    draft = order_draft(ctx, order, contractor_id=0)
    draft = dataclasses.replace(draft, contractor_id=contractor_for_order(ctx, order))
    zo, created = ctx.erp.create_order(draft)
    ctx.binder.save([Binding("order", zo, order.id, {"number": order.number}, 0)])
    if ctx.binder.get("order_progress", zo) is None:  # the shop status as imported: later changes are a person's
        ctx.binder.save([Binding("order_progress", zo, order.id,
                                 {"status": "", "notes": [], "seen": order.status, "erp": None}, 0)])
    _refresh_stock(ctx, [ln.product_id for ln in draft.lines])
    if created and CAP_ORDER_STATUS in ctx.shop.capabilities:  # the ERP's number on the shop order, for its staff
        msg.enqueue(ctx.store, order_progress_messages(ctx, [zo]))
    if created:
        log.info("order %s imported as ERP order %s (%d lines)", order.number, zo, len(draft.lines))
    return zo


def cancel_in_erp(ctx: SyncContext, order: ShopOrder) -> None:
    """A shop order cancelled or refunded in the shop: cancel its ERP order, unless the ERP has
    already realised or invoiced it (then a person decides: the dead letter says so)."""
    bound = ctx.binder.by_shop_ids("order", [order.id]).get(order.id)
    zo = bound.erp_id if bound is not None else ctx.erp.find_order_by_shop_number(order.number)
    if zo is None:
        return  # never imported: nothing in the ERP to cancel
    p = ctx.erp.order_progress([zo]).get(zo)
    if p is None or p.state == ORDER_CANCELLED:
        return
    if p.state != ORDER_NEW or p.invoices:
        raise OrderRejected(f"shop order {order.number} was {order.status} in the shop, but ERP order {p.code} is "
                            f"already {p.state}{' and invoiced (' + ', '.join(p.invoices) + ')' if p.invoices else ''}"
                            ": a person must correct it in Symfonia (a return or a correction), then discard this")
    if ctx.erp.cancel_order(zo):
        log.info("shop order %s was %s in the shop: ERP order %s cancelled", order.number, order.status, p.code)
    _refresh_stock(ctx, ctx.erp.order_products(zo))


def _refresh_stock(ctx: SyncContext, product_ids: list[int]) -> None:
    """Our own reservations change commercial stock, and no ERP hook fires for them."""
    now = msg.now_ms()
    msg.enqueue(ctx.store, [msg.ErpEvent(RESERVATION_MADE, pid, now) for pid in sorted(set(product_ids))])


def poll_orders(ctx: SyncContext) -> int:
    """Queue orders new or changed since the last poll.

    The window overlaps the last one by a minute (clocks and commits are not
    exact); each (order, modification time, status) is queued once, so the overlap
    does not bring the same orders back on every poll. The status is part of it:
    WooCommerce stamps modification times to the second, and an order created and
    cancelled within one second must still be seen cancelled.
    """
    cursor = ctx.binder.cursor("orders.modified_after")
    since = dt.datetime.fromisoformat(cursor) - dt.timedelta(minutes=1) if cursor else None
    newest = cursor
    count = 0
    statuses = [*ctx.settings.orders.statuses, *ctx.settings.orders.cancel_statuses]
    for page in ctx.shop.iter_orders(since, statuses):
        seen = ctx.binder.many("order_polled", [o.id for o in page.items])
        fresh = [o for o in page.items if o.id not in seen
                 or (seen[o.id].state.get("modified"), seen[o.id].state.get("status")) != (o.modified, o.status)]
        for o in page.items:
            if o.modified and (not newest or _utc_iso(o.modified) > newest):
                newest = _utc_iso(o.modified)
        if fresh:
            msg.enqueue(ctx.store, [msg.ShopOrderChanged(o.id, "poll") for o in fresh])
            ctx.binder.save([Binding("order_polled", o.id, None, {"modified": o.modified, "status": o.status}, 0)
                             for o in fresh])
            count += len(fresh)
    if newest and newest != cursor:
        ctx.binder.set_cursor("orders.modified_after", newest)
    return count


def _utc_iso(value: str) -> str:
    """A shop GMT timestamp ('2026-11-28T07:56:46.123456', maybe with Z) as ISO 8601 with +00:00."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.isoformat()


class OrderImport:
    """inbox `order`: each shop order becomes one ERP order, or waits, or is a dead letter saying why."""

    def handle(self, ctx: SyncContext, batch: Sequence[msg.ShopOrderChanged]) -> list[Outcome]:
        outcomes = []
        for m in batch:
            try:
                order = (ctx.shop.parse_order(m.order) if m.order is not None  # type: ignore[attr-defined]
                         else ctx.shop.get_order(m.order_id))
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                outcomes.append(Outcome.dead(f"order {m.order_id}: the shop's order data cannot be read "
                                             f"({type(exc).__name__}: {exc})"))
                continue
            except ShopError as exc:
                outcomes.append(Outcome.of_shop_error(exc, f"order {m.order_id}: "))
                continue
            try:
                if order.status in ctx.settings.orders.cancel_statuses:
                    cancel_in_erp(ctx, order)
                else:
                    import_order(ctx, order)
                outcomes.append(Outcome.done())
            except OrderWaits as exc:
                outcomes.append(Outcome.waiting(str(exc)))
            except (OrderRejected, ErpPermanent) as exc:
                outcomes.append(Outcome.dead(str(exc)))
            except (RateSourceDown, ErpRetryable) as exc:
                outcomes.append(Outcome.retry(str(exc)))
            except ShopError as exc:
                outcomes.append(Outcome.of_shop_error(exc, f"order {m.order_id}: "))
        return outcomes



# -- the order's life, ERP -> shop --------------------------------------------------
def order_progress_messages(ctx: SyncContext, erp_order_ids: Iterable[int], *,
                            only_changed: bool = False) -> list[msg.OrderProgressChanged]:
    """Where these ERP orders stand, for the shop orders they came from (orders not from the shop: none)."""
    ids = sorted({int(i) for i in erp_order_ids})
    bound = ctx.binder.many("order", ids)
    ids = [i for i in ids if i in bound and bound[i].shop_id]
    if not ids:
        return []
    progress = ctx.erp.order_progress(ids)
    sent = ctx.binder.many("order_progress", ids) if only_changed else {}
    out = []
    for zo in ids:
        p = progress.get(zo)
        if p is None:
            continue
        state = {"state": p.state, "code": p.code, "invoices": list(p.invoices), "documents": list(p.documents)}
        if only_changed and zo in sent and sent[zo].state.get("erp") == state:
            continue
        out.append(msg.OrderProgressChanged(int(bound[zo].shop_id), zo, state))  # type: ignore[arg-type]
    return out


def _notes(state: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(key, text, visible to the customer) of the notes this progress calls for."""
    code = state.get("code") or ""
    notes = [(f"invoice:{n}", f"Wystawiono fakturę {n} do zamówienia (ERP: {code}).", True)
             for n in state.get("invoices", [])]
    notes += [(f"document:{n}", f"Wydanie z magazynu {n} (ERP: zamówienie {code}).", False)
              for n in state.get("documents", [])]
    if state.get("state") == ORDER_CANCELLED:
        notes.append(("cancelled", f"Zamówienie {code} anulowano w ERP.", False))
    return notes


def _shop_stock_changed(ctx: SyncContext, erp_order_id: int) -> None:
    """The shop gave the order's stock back by itself (WooCommerce does on cancel and refund): what we
    last sent is no longer what it shows, so forget it and send the ERP's stock of those products again."""
    pids = ctx.erp.order_products(erp_order_id)
    bound = ctx.binder.many("product", pids)
    ctx.binder.save([Binding("product", pid, b.shop_id, {**b.state, "stock": None}, b.state_time)
                     for pid, b in bound.items()])
    msg.enqueue(ctx.store, [msg.ErpEvent(RESERVATION_MADE, pid, msg.now_ms()) for pid in pids])


class OrderProgressExport:
    """outbox `order_status` -> the shop order: its status (as mapped) and notes with the ERP documents."""

    def handle(self, ctx: SyncContext, batch: Sequence[msg.OrderProgressChanged]) -> list[Outcome]:
        if CAP_ORDER_STATUS not in ctx.shop.capabilities:
            log.warning("%d order status changes not sent: this shop (%s) cannot take them", len(batch),
                        type(ctx.shop).__name__)
            return [Outcome.done()] * len(batch)
        outcomes = []
        for m in batch:
            try:
                self._one(ctx, m)
                outcomes.append(Outcome.done())
            except ShopNotFound:
                outcomes.append(Outcome.done())  # the order was deleted in the shop: nothing to show it on
            except ShopError as exc:
                outcomes.append(Outcome.of_shop_error(exc, f"shop order {m.shop_order_id}: "))
        return outcomes

    def _one(self, ctx: SyncContext, m: msg.OrderProgressChanged) -> None:
        o = ctx.settings.orders
        b = ctx.binder.get("order_progress", m.erp_order_id)
        sent = b.state if b else {"status": "", "notes": [], "seen": None}
        target = o.status_map.get(m.state.get("state", ""), "")
        status = sent.get("status", "")
        # The shop status as we last saw it (at import, or when we last looked): a different one
        # now was set in the shop since, by a person, and is theirs to keep.
        seen = current = ctx.shop.get_order(m.shop_order_id).status
        # Once a person has set the status, it stays theirs (not only until we look again).
        person = bool(sent.get("person")) or sent.get("seen") not in (None, current)
        if target and target != current:
            if person and not o.overwrite_shop_status:
                log.info("shop order %s is %r, set in the shop; not changed to %r (orders.overwrite_shop_status)",
                         m.shop_order_id, current, target)
            else:
                ctx.shop.set_order_status(m.shop_order_id, target)
                status = seen = target
                if target in STOCK_RETURNING_STATUSES:
                    _shop_stock_changed(ctx, m.erp_order_id)
        info = {"number": m.state.get("code") or "", "state": m.state.get("state", ""),
                "invoices": list(m.state.get("invoices", [])), "buffered": not m.state.get("code")}
        if sent.get("info") != info:
            ctx.shop.set_order_erp_info(m.shop_order_id, info)
        done_notes = list(sent.get("notes", []))
        for key, text, visible in _notes(m.state):
            if key not in done_notes:
                ctx.shop.add_order_note(m.shop_order_id, text, customer_visible=visible)
                done_notes.append(key)
                # Remember each note at once: a failure further on must not write it twice.
                ctx.binder.save([Binding("order_progress", m.erp_order_id, m.shop_order_id,
                                         {"status": status, "notes": done_notes, "seen": seen, "person": person,
                                          "erp": None, "info": info}, 0)])
        ctx.binder.save([Binding("order_progress", m.erp_order_id, m.shop_order_id,
                                 {"status": status, "notes": done_notes, "seen": seen, "person": person,
                                  "erp": m.state, "info": info}, 0)])
