"""Shop -> ERP: customer pairing by NIP, orders with reservations, main images.

Inbox messages (from webhooks and polling) are applied here, each idempotently:
an order is found by its shop number (kod_obcy) before anything is written, a
pairing is only ever set once per customer unless a person changes it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections import deque
from decimal import Decimal
from typing import Any, Iterator, Sequence

from server.erp.errors import ErpNotFound, ErpPermanent, ErpRetryable
from server.erp.records import AddressDraft, ContractorDraft, OrderDraft, OrderLineDraft
from server.nip import valid_nip_or_none
from server.queue.store import Message
from server.sync.binder import INVALID_NIP, NEEDS_PERSON, NO_NIP, PAIRED, Binding, Pairing
from server.sync.context import SyncContext
from server.sync.rates import FixedRates, NbpRates, RateSourceDown, RateUnavailable
from shop_client.errors import ShopConfigError, ShopError, ShopNotFound, ShopRejected, ShopUnavailable
from shop_client.interface import ShopCustomer, ShopOrder

log = logging.getLogger(__name__)
ALLOWED_IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


class OrderRejected(Exception):
    """The order cannot be imported as it is; the message says what a person must fix."""


class OrderWaits(Exception):
    """The order must wait (e.g. for a person to pair its customer); looked at again later, without limit."""


WAIT_RECHECK_SECONDS = 30.0  # how often an order waiting for a person is looked at again


# -- customers -------------------------------------------------------------------
def _status_payload(p: Pairing, contractor_code: str = "") -> dict[str, Any]:
    return {"status": p.status, "erp_contractor_id": p.erp_contractor_id, "erp_contractor_code": contractor_code,
            "detail": p.detail, "manual": p.manual, "updated": dt.datetime.now(dt.timezone.utc).isoformat(
                timespec="seconds")}


def decide_pairing(ctx: SyncContext, c: ShopCustomer) -> tuple[Pairing, str]:
    """The pairing a customer should have now (a person's pairing is kept as it is)."""
    current = ctx.binder.pairing(c.id)
    base = {"shop_customer_id": c.id, "nip": c.tax_id, "email": c.email, "name": c.name}
    if current is not None and current.status == PAIRED and (current.manual or current.detail.startswith("created")):
        return Pairing(**{**current.__dict__, **base}), ""
    raw = (c.tax_id or "").strip()
    if not raw:
        return Pairing(erp_contractor_id=None, status=NO_NIP, detail="no NIP in the shop account; pair by hand "
                       "or wait for the first order", manual=False, **base), ""
    nip = valid_nip_or_none(raw)
    if nip is None:
        return Pairing(erp_contractor_id=None, status=INVALID_NIP,
                       detail=f"NIP {raw!r} is not a valid Polish NIP (checksum)", manual=False, **base), ""
    found = ctx.erp.find_contractors_by_nip(nip)
    if len(found) == 1:
        return Pairing(erp_contractor_id=found[0].id, status=PAIRED, detail=f"NIP {nip} = {found[0].code}",
                       manual=False, **base), found[0].code
    if not found:
        return Pairing(erp_contractor_id=None, status=NEEDS_PERSON,
                       detail=f"no ERP contractor has NIP {nip}; pair by hand or wait for the first order",
                       manual=False, **base), ""
    codes = ", ".join(f"{k.code} {k.name} (id {k.id})" for k in found)
    return Pairing(erp_contractor_id=None, status=NEEDS_PERSON,
                   detail=f"NIP {nip} matches several ERP contractors: {codes}; a person must choose",
                   manual=False, **base), ""


def record_pairing(ctx: SyncContext, p: Pairing, contractor_code: str = "") -> None:
    """Store a pairing and queue its status (and the contractor's price lists) for the shop."""
    before = ctx.binder.pairing(p.shop_customer_id)
    ctx.binder.set_pairing(p)
    items: list[tuple[str, dict[str, Any], str | None, str | None]] = [
        ("customer_status", {"shop_customer_id": p.shop_customer_id, "status": _status_payload(p, contractor_code)},
         f"customer_status:{p.shop_customer_id}", None)]
    new_contractor = before is None or before.erp_contractor_id != p.erp_contractor_id
    if p.status == PAIRED and p.erp_contractor_id and new_contractor:
        codes = ctx.erp.price_list_codes_for_contractors([p.erp_contractor_id])[p.erp_contractor_id]
        items.append(("customer_prices", {"contractor_id": p.erp_contractor_id, "lists": codes},
                      f"contractor_prices:{p.erp_contractor_id}", None))
    ctx.store.enqueue_many("outbox", items)


def pair_customer(ctx: SyncContext, c: ShopCustomer) -> Pairing:
    """Pair one shop customer automatically (by normalised NIP) and tell the shop."""
    p, code = decide_pairing(ctx, c)
    old = ctx.binder.pairing(c.id)
    if old is None or (old.status, old.erp_contractor_id, old.detail) != (p.status, p.erp_contractor_id, p.detail):
        record_pairing(ctx, p, code)
    return p


def pair_all_customers(ctx: SyncContext) -> tuple[int, int, int]:
    """The whole pairing pass; returns (seen, paired, needing a person)."""
    last = deque(pairing_pass(ctx), maxlen=1)[0]
    return last["seen"], last["paired"], last["needs_person"]


def pairing_pass(ctx: SyncContext) -> Iterator[dict[str, Any]]:
    """The periodic pass (WooCommerce cannot list customers changed since a moment).

    Yields progress after each page ({seen, paired, needs_person, total, done}).
    """
    seen = paired = waiting = 0
    total = 0
    for page in ctx.shop.iter_customers():
        total = page.total or total
        for c in page.items:
            if c.staff:
                continue  # the shop's own staff buy nothing on account: no status on them
            p = pair_customer(ctx, c)
            seen += 1
            paired += p.status == PAIRED
            waiting += p.status != PAIRED
        yield {"seen": seen, "paired": paired, "needs_person": waiting, "total": total, "done": False}
    yield {"seen": seen, "paired": paired, "needs_person": waiting, "total": total, "done": True}


def pair_by_hand(ctx: SyncContext, shop_customer_id: int, contractor_id: int) -> Pairing:
    contractor = ctx.erp.get_contractor(contractor_id)  # ErpNotFound -> NOT_FOUND
    try:
        c = ctx.shop.get_customer(shop_customer_id)
        base = {"nip": c.tax_id, "email": c.email, "name": c.name}
    except ShopUnavailable:  # a person may pair while the shop is down: use what we last saw
        old = ctx.binder.pairing(shop_customer_id)
        if old is None:
            raise
        base = {"nip": old.nip, "email": old.email, "name": old.name}
    p = Pairing(shop_customer_id=shop_customer_id, erp_contractor_id=contractor.id, status=PAIRED,
                detail=f"paired by hand with {contractor.code}", manual=True, **base)
    record_pairing(ctx, p, contractor.code)
    return p


def unpair(ctx: SyncContext, shop_customer_id: int) -> Pairing:
    old = ctx.binder.pairing(shop_customer_id)
    if old is None:
        raise ErpNotFound(f"shop customer {shop_customer_id} has no pairing")
    p = Pairing(shop_customer_id=shop_customer_id, erp_contractor_id=None, status=NEEDS_PERSON,
                detail="unpaired by hand; pair by hand", manual=True, nip=old.nip, email=old.email, name=old.name)
    record_pairing(ctx, p)
    return p


# -- orders ----------------------------------------------------------------------
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
            if p.status == NEEDS_PERSON and "several" in p.detail:
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
    if not order.lines:
        raise OrderRejected(f"order {order.number}: has no lines")
    skus = [ln.sku for ln in order.lines]
    by_shop_id = ctx.binder.by_shop_ids("product", [ln.product_id for ln in order.lines if ln.product_id])
    codes = ctx.erp.find_products_by_codes([s for s in skus if s])
    lines = []
    for i, ln in enumerate(order.lines, start=1):
        if ln.quantity <= 0:
            raise OrderRejected(f"order {order.number} line {i} ({ln.sku or ln.name}): quantity must be positive, "
                                f"got {ln.quantity}")
        pid = codes.get(ln.sku) or (by_shop_id[ln.product_id].erp_id if ln.product_id in by_shop_id else None)
        if pid is None:
            raise OrderRejected(f"order {order.number} line {i}: SKU {ln.sku!r} is not in the ERP "
                                "(create or import the product, then retry this dead letter)")
        lines.append(OrderLineDraft(product_id=pid, quantity=ln.quantity, price=ln.unit_price))
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
    return OrderDraft(shop_number=order.number, contractor_id=contractor_id, delivery=delivery,
                      currency=(order.currency or "PLN").upper(), rate=rate, lines=lines,
                      note=f"Zamówienie ze sklepu nr {order.number}", date=created)


def import_order(ctx: SyncContext, order: ShopOrder) -> int | None:
    """Make one ERP ZMO of a shop order (once); queue the stock refresh of its products.

    Returns the ERP order id, or None when the order's status is not imported.
    """
    if order.status not in ctx.settings.orders.statuses:
        log.debug("order %s in status %s is not imported", order.number, order.status)
        return None
    existing = ctx.erp.find_order_by_shop_number(order.number)
    if existing is not None:
        # Imported before; its stock refresh may not have been queued if we stopped right after.
        _refresh_stock(ctx, [pid for pid, _, _ in ctx.erp.get_order(existing).lines])
        return existing
    # Validate the whole order before writing anything: a rejected order creates no contractor.
    draft = order_draft(ctx, order, contractor_id=0)
    draft = dataclasses.replace(draft, contractor_id=contractor_for_order(ctx, order))
    zo, created = ctx.erp.create_order(draft)
    ctx.binder.save([Binding("order", zo, order.id, {"number": order.number}, 0)])
    _refresh_stock(ctx, [ln.product_id for ln in draft.lines])
    if created:
        log.info("order %s imported as ERP order %s (%d lines)", order.number, zo, len(draft.lines))
    return zo


def _refresh_stock(ctx: SyncContext, product_ids: list[int]) -> None:
    """Our own reservations change commercial stock, and no ERP hook fires for them."""
    now = int(time.time() * 1000)
    ctx.store.enqueue_many("erp_events", [("reservation-made", {"event": "reservation-made", "erp_id": pid,
                                                                "occurred_unix_ms": now}, f"product:{pid}", None)
                                          for pid in sorted(set(product_ids))])


def poll_orders(ctx: SyncContext) -> int:
    """Queue orders new or changed since the last poll.

    The window overlaps the last one by a minute (clocks and commits are not
    exact); each (order, modification time) is queued once, so the overlap does
    not bring the same orders back on every poll.
    """
    cursor = ctx.binder.cursor("orders.modified_after")
    since = dt.datetime.fromisoformat(cursor) - dt.timedelta(minutes=1) if cursor else None
    newest = cursor
    count = 0
    for page in ctx.shop.iter_orders(since, ctx.settings.orders.statuses):
        seen = ctx.binder.many("order_polled", [o.id for o in page.items])
        fresh = [o for o in page.items if o.id not in seen or seen[o.id].state.get("modified") != o.modified]
        for o in page.items:
            if o.modified and (not newest or _utc_iso(o.modified) > newest):
                newest = _utc_iso(o.modified)
        if fresh:
            ctx.store.enqueue_many("inbox", [("order", {"source": "poll", "order_id": o.id}, f"order:{o.id}", None)
                                             for o in fresh])
            ctx.binder.save([Binding("order_polled", o.id, None, {"modified": o.modified}, 0) for o in fresh])
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


# -- images ----------------------------------------------------------------------
def import_image(ctx: SyncContext, shop_product_id: int, image_url: str = "") -> bool:
    """Copy the shop's main image into the ERP when the paired product has none there."""
    bound = ctx.binder.by_shop_ids("product", [shop_product_id]).get(shop_product_id)
    if bound is None:
        return False
    if ctx.erp.image_digests([bound.erp_id]):
        return False
    if not image_url:
        image_url = ctx.shop.get_product(shop_product_id).image_url
    if not image_url:
        return False
    if image_url in bound.state.get("shop_images", []):
        return False  # an image we put there ourselves (an echo of our update): not a person's change
    sku = bound.state.get("sku", shop_product_id)
    data, ctype = ctx.shop.download(image_url, ctx.settings.orders.max_image_bytes)
    if ctype not in ALLOWED_IMAGE_TYPES or not _looks_like_image(data):
        raise ShopRejected(f"product {sku}: main image {image_url} is not a PNG/JPEG/GIF/WebP "
                           f"image (type {ctype or 'unknown'})")
    name = image_url.rsplit("/", 1)[-1][:200] or f"{sku}.img"
    stored = ctx.erp.put_image(bound.erp_id, name, ctype, data, only_if_missing=True)
    if stored:
        # The binding records the image as what the shop already shows: no echo back.
        digest = ctx.erp.image_digests([bound.erp_id]).get(bound.erp_id)
        if digest:
            ctx.binder.save([Binding("product", bound.erp_id, bound.shop_id,
                                     {**bound.state, "image": digest[0], "image_type": digest[1]}, bound.state_time)])
    return stored


def _looks_like_image(data: bytes) -> bool:
    return data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")) or \
        (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


# -- the inbox worker's entry point ------------------------------------------------
def process_inbox(ctx: SyncContext, messages: Sequence[Message]) -> None:
    for m in messages:
        try:
            if m.kind == "order":
                order = (ctx.shop.parse_order(m.payload["order"]) if "order" in m.payload  # type: ignore[attr-defined]
                         else ctx.shop.get_order(int(m.payload["order_id"])))
                import_order(ctx, order)
            elif m.kind == "customer":
                customer = (ctx.shop.parse_customer(m.payload["customer"]) if "customer" in m.payload  # type: ignore[attr-defined]
                            else ctx.shop.get_customer(int(m.payload["customer_id"])))
                if not customer.staff:
                    pair_customer(ctx, customer)
            elif m.kind == "product":
                import_image(ctx, int(m.payload["shop_product_id"]), m.payload.get("image_src", ""))
            else:
                ctx.store.fail(m, f"unknown inbox message kind {m.kind!r}", retryable=False)
                continue
        except ShopConfigError:
            raise  # not this message's fault: the worker pauses and keeps it (and the rest)
        except (OrderRejected, ErpPermanent, ShopRejected) as exc:
            ctx.store.fail(m, str(exc), retryable=False)
            continue
        except OrderWaits as exc:
            ctx.store.park(m, str(exc), WAIT_RECHECK_SECONDS)
            continue
        except (ErpRetryable, ShopUnavailable, RateSourceDown) as exc:
            ctx.store.fail(m, str(exc), retryable=True)
            continue
        except ShopError as exc:
            ctx.store.fail(m, str(exc), retryable=True)
            continue
        ctx.store.ack(m)


# -- initial import ------------------------------------------------------------
def import_catalog(ctx: SyncContext, *, dry_run: bool = False) -> Iterator[dict[str, Any]]:
    """Create the shop's products in the ERP and bind both; yields progress per page.

    Re-running creates nothing twice (existing codes are paired, bound products
    skipped), so an interrupted import is finished by running it again.
    """
    from server.erp.records import ProductDraft

    max_len = ctx.erp.max_code_length
    totals = {"seen": 0, "created": 0, "paired": 0, "already_bound": 0, "skipped": 0, "total": 0}
    for page in ctx.shop.iter_products():
        problems: list[dict[str, Any]] = []
        totals["total"] = page.total or totals["total"]
        bound = ctx.binder.by_shop_ids("product", [p.id for p in page.items])
        candidates = []
        for p in page.items:
            totals["seen"] += 1
            if p.id in bound:
                totals["already_bound"] += 1
            elif not p.sku.strip():
                problems.append({"shop_product_id": p.id, "sku": "", "reason": "no SKU: give the product a SKU "
                                 "in the shop (it becomes the ERP code)"})
            elif len(p.sku) > max_len:
                problems.append({"shop_product_id": p.id, "sku": p.sku,
                                 "reason": f"SKU longer than the ERP's {max_len} characters"})
            else:
                candidates.append(p)
        totals["skipped"] += len(problems)
        existing = ctx.erp.find_products_by_codes([p.sku for p in candidates]) if candidates else {}
        new = [p for p in candidates if p.sku not in existing]
        if dry_run:
            totals["paired"] += len(candidates) - len(new)
            totals["created"] += len(new)
            yield {**totals, "problems": problems, "done": False}
            continue
        drafts = [ProductDraft(code=p.sku, name=p.name or p.sku, ean=p.ean, group_path=p.category_path,
                               price=p.price, marked=p.published, note=p.description) for p in new]
        ids = ctx.erp.create_products(drafts) if drafts else {}
        ids.update(existing)
        now = time.time_ns()
        bindings = []
        for p in candidates:
            # What the shop holds now; from here on the ERP is the master, and the
            # next event or catch-up pass sends whatever differs (e.g. ERP stock).
            state = {"sku": p.sku, "name": p.name, "ean": p.ean, "price": _num(p.price),
                     "description": p.description, "category_path": list(p.category_path),
                     "published": p.published, "stock": _num(p.stock) if p.stock is not None else None,
                     "image": None, "image_type": None, "price_lists": {}}
            bindings.append(Binding("product", ids[p.sku], p.id, state, now))
        ctx.binder.save(bindings)
        totals["created"] += len(new)
        totals["paired"] += len(candidates) - len(new)
        images = [("product", {"shop_product_id": p.id, "image_src": p.image_url}, f"shop_product:{p.id}", None)
                  for p in candidates if p.image_url]
        if images:
            ctx.store.enqueue_many("inbox", images)
        yield {**totals, "problems": problems, "done": False}
    yield {**totals, "problems": [], "done": True}


def _num(v: Decimal | None) -> str | None:
    return None if v is None else format(Decimal(v).normalize(), "f")
