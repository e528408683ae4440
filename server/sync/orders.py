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

import base64
import dataclasses
import datetime as dt
from dataclasses import dataclass, field
import logging
from typing import Any, Callable, Iterable, Sequence

from shop_client.errors import ShopError, ShopNotFound
from shop_client.interface import CAP_INVOICES, CAP_ORDER_STATUS, ShopOrder

from ..erp.records import KSEF_REJECTED, ONE_TIME_CONTRACTOR, ORDER_CANCELLED, ORDER_NEW, SaleDocument
from ..nip import valid_nip_or_none
from ..queue.bindings import Binding, Kind
from . import messages as msg
from .addresses import payer_draft
from .context import SyncContext
from .order_pricing import order_day, order_draft
from .outcome import Outcome, Rejected, outcome_of

log = logging.getLogger(__name__)
RESERVATION_MADE = msg.EVENT_NAMES[msg.erp_events_pb2.ERP_EVENT_KIND_RESERVATION_MADE]
WAIT_RECHECK_SECONDS = 30.0  # how often an order waiting for a person is looked at again
STOCK_RETURNING_STATUSES = ("cancelled", "refunded")  # WooCommerce puts an order's stock back on these

# Who pays for an order: the ERP contractor id (customers.payer_for_order, handed in by dispatch.py).
Payer = Callable[[SyncContext, ShopOrder], int]


def import_order(ctx: SyncContext, order: ShopOrder, payer: Payer) -> int | None:
    """Make one ERP ZMO of a shop order (once); queue the stock refresh of its products.

    Returns the ERP order id, or None when the order's status is not imported.
    """
    if order.status not in ctx.settings.orders.statuses:
        log.debug("order %s in status %s is not imported", order.number, order.status)
        return None
    bound = ctx.bindings.by_shop_ids(Kind.ORDER, [order.id]).get(order.id)
    existing = bound.erp_id if bound is not None else ctx.erp.find_order_by_shop_number(order.number,
                                                                                         order_day(order))
    if existing is not None:
        log.debug("order %s is already ERP order %s: nothing written", order.number, existing)
        # Imported before; its stock refresh may not have been queued if we stopped right after.
        _refresh_stock(ctx, [pid for pid, _, _ in ctx.erp.get_order(existing).lines])
        return existing
    # Validate the whole order before writing anything: a rejected order creates no contractor.
    draft = order_draft(ctx, order, contractor_id=0)
    draft = dataclasses.replace(draft, contractor_id=payer(ctx, order))
    if draft.contractor_id == ONE_TIME_CONTRACTOR:
        draft = dataclasses.replace(draft, one_time=payer_draft(order, "", valid_nip_or_none(order.tax_id) or ""))
    zo, created = ctx.erp.create_order(draft, looked_up=True)  # looked up by its number above: not there
    ctx.bindings.save([Binding(Kind.ORDER, zo, order.id, {"number": order.number}, 0)])
    if ctx.bindings.get(Kind.ORDER_PROGRESS, zo) is None:  # the shop status as imported: later changes are a person's
        ctx.bindings.save([ProgressSent(seen=order.status).binding(zo, order.id)])
    _refresh_stock(ctx, [ln.product_id for ln in draft.lines])
    if created and CAP_ORDER_STATUS in ctx.shop.capabilities:  # the ERP's number on the shop order, for its staff
        msg.enqueue(ctx.store, order_progress_messages(ctx, [zo]))
    if created:
        log.info("order %s imported as ERP order %s (%d lines)", order.number, zo, len(draft.lines))
    return zo


PAID_STATUSES = ("processing", "completed")  # WooCommerce: a paid order is processing until it is completed


def cancel_in_erp(ctx: SyncContext, order: ShopOrder) -> None:
    """A shop order cancelled or refunded in the shop: cancel its ERP order, unless the ERP has
    already realised or invoiced it (then a person decides: the dead letter says so)."""
    bound = ctx.bindings.by_shop_ids(Kind.ORDER, [order.id]).get(order.id)
    zo = bound.erp_id if bound is not None else ctx.erp.find_order_by_shop_number(order.number, order_day(order))
    if zo is None:
        return  # never imported: nothing in the ERP to cancel
    p = ctx.erp.order_progress([zo]).get(zo)
    if p is None or p.state == ORDER_CANCELLED:
        return
    if p.state != ORDER_NEW or p.invoices:
        raise Rejected.of("order.status_conflict", order=order.number, status=order.status, erp_order=p.code,
                          erp_state=p.state, invoiced=f" ({', '.join(p.invoices)})" if p.invoices else "")
    if ctx.erp.cancel_order(zo):
        log.info("shop order %s was %s in the shop: ERP order %s cancelled", order.number, order.status, p.code)
    _refresh_stock(ctx, ctx.erp.order_products(zo))


def _has_documents(ctx: SyncContext, order: ShopOrder) -> bool:
    """The sync issued the order's invoice or receipt (its ledger, sync/money.py)."""
    bound = ctx.bindings.by_shop_ids(Kind.ORDER, [order.id]).get(order.id)
    money = ctx.bindings.get(Kind.ORDER_MONEY, bound.erp_id) if bound is not None else None
    return bool(money and money.state.get("documents"))


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
    cursor = ctx.cursors.get("orders.modified_after")
    since = dt.datetime.fromisoformat(cursor) - dt.timedelta(minutes=1) if cursor else None
    newest = cursor
    count = 0
    statuses = [*ctx.settings.orders.statuses, *ctx.settings.orders.cancel_statuses]
    for page in ctx.shop.iter_orders(since, statuses):
        seen = ctx.bindings.many(Kind.ORDER_POLLED, [o.id for o in page.items])
        fresh = [o for o in page.items if o.id not in seen
                 or (seen[o.id].state.get("modified"), seen[o.id].state.get("status")) != (o.modified, o.status)]
        for o in page.items:
            if o.modified and (not newest or _utc_iso(o.modified) > newest):
                newest = _utc_iso(o.modified)
        if fresh:
            msg.enqueue(ctx.store, [msg.ShopOrderChanged(o.id, "poll") for o in fresh])
            ctx.bindings.save([Binding(Kind.ORDER_POLLED, o.id, None, {"modified": o.modified, "status": o.status}, 0)
                             for o in fresh])
            count += len(fresh)
    if newest and newest != cursor:
        ctx.cursors.set("orders.modified_after", newest)
    return count


def _utc_iso(value: str) -> str:
    """A shop GMT timestamp ('2026-11-28T07:56:46.123456', maybe with Z) as ISO 8601 with +00:00."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.isoformat()


class OrderImport:
    """inbox `order`: each shop order becomes one ERP order, or waits, or is a dead letter saying why."""

    def __init__(self, payer: Payer, settle: Callable[[SyncContext, ShopOrder], int | None] | None = None) -> None:
        self.payer = payer
        self.settle = settle  # the order's money (sync/money.py settle_order): document, payment

    def handle(self, ctx: SyncContext, batch: Sequence[msg.ShopOrderChanged]) -> list[Outcome]:
        outcomes = []
        for m in batch:
            try:
                order = _read_order(ctx, m)
                if order.status in ctx.settings.orders.cancel_statuses:
                    # refunded after its invoice or receipt: corrections (sync/money.py), not a cancellation
                    settled = self.settle(ctx, order) if self.settle is not None else None
                    if settled is not None:
                        msg.enqueue(ctx.store, order_progress_messages(ctx, [settled]))
                    if not _has_documents(ctx, order):
                        cancel_in_erp(ctx, order)
                else:
                    import_order(ctx, order, self.payer)
                    # an order imported before settles in any status (e.g. cash on delivery, paid when completed)
                    settled = self.settle(ctx, order) if self.settle is not None else None
                    if settled is not None:
                        msg.enqueue(ctx.store, order_progress_messages(ctx, [settled]))
                outcomes.append(Outcome.done())
            except Exception as exc:  # noqa: BLE001 - decided in one place, by its kind
                # the order flows' own refusals name the order already ("order 3 line 1: ..."): not twice
                outcomes.append(outcome_of(exc, None if isinstance(exc, Rejected) else ("order", m.order_id)))
        return outcomes


def _read_order(ctx: SyncContext, m: msg.ShopOrderChanged) -> ShopOrder:
    """The order the message names: its webhook body, or read from the shop (polling)."""
    if m.order is None:
        return ctx.shop.get_order(m.order_id)
    try:
        return ctx.shop.parse_order(m.order)  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise Rejected.of("order.unreadable", order=m.order_id, text=f"{type(exc).__name__}: {exc}") from None


# -- the order's life, ERP -> shop --------------------------------------------------
def order_progress_messages(ctx: SyncContext, erp_order_ids: Iterable[int], *,
                            only_changed: bool = False) -> list[msg.OrderProgressChanged]:
    """Where these ERP orders stand, for the shop orders they came from (orders not from the shop: none)."""
    ids = sorted({int(i) for i in erp_order_ids})
    bound = ctx.bindings.many(Kind.ORDER, ids)
    ids = [i for i in ids if i in bound and bound[i].shop_id]
    if not ids:
        return []
    progress = ctx.erp.order_progress(ids)
    money = ctx.bindings.many(Kind.ORDER_MONEY, ids)
    sent = ctx.bindings.many(Kind.ORDER_PROGRESS, ids) if only_changed else {}
    out = []
    for zo in ids:
        p = progress.get(zo)
        if p is None:
            continue
        state = {"state": p.state, "code": p.code, "invoices": list(p.invoices), "documents": list(p.documents)}
        if zo in money:  # the sale documents the sync issued (KSeF numbers, receipts) and the payments recorded
            state["money"] = {"documents": money[zo].state.get("documents", []),
                              "payments": money[zo].state.get("payments", []),
                              "corrections": money[zo].state.get("corrections", [])}
        if only_changed and zo in sent and ProgressSent.of(sent[zo]).erp == state:
            continue
        out.append(msg.OrderProgressChanged(int(bound[zo].shop_id), zo, state))  # type: ignore[arg-type]
    return out


def _notes(state: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(key, text, visible to the customer) of the notes this progress calls for."""
    code = state.get("code") or ""  # empty while the ERP order waits in the buffer, unnumbered
    of_order = f" (ERP: {code})" if code else ""
    notes = [(f"invoice:{n}", f"Wystawiono fakturę {n} do zamówienia{of_order}.", True)
             for n in state.get("invoices", [])]
    notes += [(f"document:{n}", f"Wydanie z magazynu {n}" + (f" (ERP: zamówienie {code})." if code else "."), False)
              for n in state.get("documents", [])]
    for d in (state.get("money") or {}).get("documents", []):
        if d.get("kind") == "receipt":
            notes.append((f"receipt:{d['number']}", f"Wystawiono paragon {d['number']} do zamówienia{of_order}.",
                          True))
        if d.get("ksef_number"):
            notes.append((f"ksef:{d['number']}", f"Faktura {d['number']} ma numer KSeF {d['ksef_number']}.", True))
        elif d.get("ksef_status") == KSEF_REJECTED:
            notes.append((f"ksef-rejected:{d['number']}", f"KSeF odrzucił fakturę {d['number']}: trzeba ją "
                          "poprawić w Symfonii.", False))
    for c in (state.get("money") or {}).get("corrections", []):
        if c.get("by_hand"):
            continue
        notes.append((f"correction:{c['number']}", f"Wystawiono korektę {c['number']} (zwrot {c['amount']}).", True))
        if c.get("ksef_number"):
            notes.append((f"ksef:{c['number']}", f"Korekta {c['number']} ma numer KSeF {c['ksef_number']}.", True))
    for p in (state.get("money") or {}).get("payments", []):
        notes.append((f"payment:{p['number']}", f"Zapłata {p['amount']} {p['currency']} zapisana w ERP ({p['number']}, "
                      f"{p['registry']}) do {p['document']}.", False))
    if state.get("state") == ORDER_CANCELLED:
        notes.append(("cancelled", f"Zamówienie{' ' + code if code else ''} anulowano w ERP.", False))
    return notes


def _shop_stock_changed(ctx: SyncContext, erp_order_id: int) -> None:
    """The shop gave the order's stock back by itself (WooCommerce does on cancel and refund): what we
    last sent is no longer what it shows, so forget it and send the ERP's stock of those products again."""
    pids = ctx.erp.order_products(erp_order_id)
    bound = ctx.bindings.many(Kind.PRODUCT, pids)
    ctx.bindings.save([Binding(Kind.PRODUCT, pid, b.shop_id, {**b.state, "stock": None}, b.state_time)
                     for pid, b in bound.items()])
    msg.enqueue(ctx.store, [msg.ErpEvent(RESERVATION_MADE, pid, msg.now_ms()) for pid in pids])


class OrderProgressExport:
    """outbox `order_status` -> the shop order: its status (as mapped) and notes with the ERP documents."""

    def handle(self, ctx: SyncContext, batch: Sequence[msg.OrderProgressChanged]) -> list[Outcome]:
        if CAP_ORDER_STATUS not in ctx.shop.capabilities:
            log.warning("%d order status changes not sent: this shop (%s) cannot take them", len(batch),
                        type(getattr(ctx.shop, "target", ctx.shop)).__name__)
            return [Outcome.done()] * len(batch)
        outcomes = []
        for m in batch:
            try:
                self._one(ctx, m)
                outcomes.append(Outcome.done())
            except ShopNotFound:
                outcomes.append(Outcome.done())  # the order was deleted in the shop: nothing to show it on
            except ShopError as exc:
                outcomes.append(outcome_of(exc, ("shop_order", m.shop_order_id)))
        return outcomes

    def _one(self, ctx: SyncContext, m: msg.OrderProgressChanged) -> None:
        o = ctx.settings.orders
        sent = ProgressSent.of(ctx.bindings.get(Kind.ORDER_PROGRESS, m.erp_order_id))
        target = o.status_map.get(m.state.get("state", ""), "")
        # The shop status as we last saw it (at import, or when we last looked): a different one
        # now was set in the shop since, by a person, and is theirs to keep.
        current = ctx.shop.get_order(m.shop_order_id).status
        # Once a person has set the status, it stays theirs (not only until we look again).
        sent.person = sent.person or sent.seen not in (None, current)
        sent.seen = current
        if target and target != current:
            if sent.person and not o.overwrite_shop_status:
                log.info("shop order %s is %r, set in the shop; not changed to %r (orders.overwrite_shop_status)",
                         m.shop_order_id, current, target)
            else:
                ctx.shop.set_order_status(m.shop_order_id, target)
                sent.status = sent.seen = target
                if target in STOCK_RETURNING_STATUSES:
                    _shop_stock_changed(ctx, m.erp_order_id)
        info = {"number": m.state.get("code") or "", "state": m.state.get("state", ""),
                "invoices": list(m.state.get("invoices", [])), "buffered": not m.state.get("code")}
        documents = [SaleDocument.from_json(d) for d in (m.state.get("money") or {}).get("documents", [])]
        if documents:  # what the shop's staff and the customer's My Account show of each document
            info["documents"] = [{"number": d.number, "kind": d.kind, "ksef": d.ksef, "ksef_number": d.ksef_number}
                                 for d in documents]
            info["paid"] = bool((m.state.get("money") or {}).get("payments"))
        if sent.info != info:
            ctx.shop.set_order_erp_info(m.shop_order_id, info)
        sent.info = info
        sent.erp = None  # until every note is written
        for key, text, visible in _notes(m.state):
            if key not in sent.notes:
                ctx.shop.add_order_note(m.shop_order_id, text, customer_visible=visible)
                sent.notes.append(key)
                # Remember each note at once: a failure further on must not write it twice.
                ctx.bindings.save([sent.binding(m.erp_order_id, m.shop_order_id)])
        if m.state.get("invoices") and CAP_INVOICES in ctx.shop.capabilities:
            _send_printouts(ctx, m, sent)
        sent.erp = m.state
        ctx.bindings.save([sent.binding(m.erp_order_id, m.shop_order_id)])


def _send_printouts(ctx: SyncContext, m: msg.OrderProgressChanged, sent: "ProgressSent") -> None:
    """The ERP's invoice printouts onto the shop order, for its customer to download: the newest is the current
    one, earlier ones (e.g. before a correction) stay listed. Without the WebAPI there are none (notes only)."""
    printouts = ctx.erp.invoice_printouts(m.erp_order_id)
    # Since KSeF (2026) an invoice handed to a consumer carries its KSeF number: an invoice the sync follows is
    # offered only once numbered (or when it is not a KSeF document at all).
    followed = [SaleDocument.from_json(d) for d in (m.state.get("money") or {}).get("documents", [])]
    ksef = {d.number: d.ksef for d in followed}
    ksef_numbers = {d.number: d.ksef_number for d in followed if d.ksef_number}
    printouts = [p for p in printouts if ksef.get(p.number, "none") in ("none", "approved")]
    if not printouts or [p.sha1 for p in printouts] == sent.printouts:
        return
    entries = [{"number": p.number, "sha1": p.sha1, "created": p.created, "current": n == len(printouts) - 1,
                "ksef_number": ksef_numbers.get(p.number, ""), "pdf": base64.b64encode(p.pdf).decode()}
               for n, p in enumerate(printouts)]
    ctx.shop.set_order_invoices(m.shop_order_id, entries)
    sent.printouts = [p.sha1 for p in printouts]
    log.info("shop order %s: %d invoice printout(s) kept for the customer (%s)", m.shop_order_id, len(printouts),
             ", ".join(p.number for p in printouts))


@dataclass
class ProgressSent:
    """What the shop order was last told of its ERP order (the order_progress binding's state)."""

    status: str = ""  # the status we last set
    notes: list[str] = field(default_factory=list)  # keys of the notes written
    seen: str | None = None  # the shop status as we last saw it
    person: bool = False  # a person set the status in the shop: theirs to keep
    erp: dict[str, Any] | None = None  # the ERP progress last delivered in full
    info: dict[str, Any] | None = None  # the ERP order box last written
    printouts: list[str] = field(default_factory=list)  # SHA-1 of the invoice printouts on the shop order

    @classmethod
    def of(cls, b: Binding | None) -> "ProgressSent":
        if b is None:
            return cls()
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in b.state.items() if k in known})

    def binding(self, erp_order_id: int, shop_order_id: int) -> Binding:
        return Binding(Kind.ORDER_PROGRESS, erp_order_id, shop_order_id, dataclasses.asdict(self))
