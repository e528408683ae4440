"""The order's money: which sale document the shop order gets and when, its payment, its KSeF number.

- settle_order (after each import of a shop order, OrderImport): when `orders.invoice` says (paid: the shop
  says the order is paid, `date_paid`; completed), the ERP issues the order's document once: an invoice
  (`OrdersIssue/FV`) or a receipt (`SalesIssue/New`), as `orders.document` says (by_buyer: an invoice for a
  valid NIP or a checkout request, a receipt otherwise). Once the shop says the order is paid, its payment is
  recorded against that document in the register `orders.payment_registries` maps its method to; the ERP's
  own settlement says what is already paid, so a replay records nothing more. Cash on delivery is paid when
  the shop says so (WooCommerce sets `date_paid` of a COD order when it is completed).
- ksef_pass (periodic, orders.ksef_check_seconds): the invoices still waiting for their KSeF number are
  refreshed (`Sales/Status/Refresh`); a number or a rejection goes to the shop order (note, ERP box, My
  Account's printout only once numbered); a rejection, or no number within orders.ksef_alert_hours, is an
  alert and stays on the console's order page.

The ledger of each order (Kind.ORDER_MONEY binding of its ERP order): its documents (number, kind, KSeF status
and number) and payments, as the console's order page and the gRPC API show them.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from shop_client.interface import CAP_REFUNDS, ShopOrder

from ..erp.records import SaleDocument
from ..nip import valid_nip_or_none
from ..queue.bindings import Binding, Kind
from . import messages as msg
from .context import SyncContext
from .orders import PAID_STATUSES, order_progress_messages
from .outcome import Rejected

log = logging.getLogger(__name__)
YES = ("1", "yes", "true", "on", "tak")


@dataclass
class Ledger:
    """What the sync did with an order's money (the ORDER_MONEY binding's state)."""

    kind: str = ""  # "invoice" | "receipt": the document chosen
    documents: list[dict[str, Any]] = field(default_factory=list)  # SaleDocument.to_json()
    payments: list[dict[str, Any]] = field(default_factory=list)  # {number, amount, currency, registry, date}
    corrections: list[dict[str, Any]] = field(default_factory=list)  # {refund, amount, **SaleDocument.to_json()}
    refused: list[int] = field(default_factory=list)  # shop refunds told to a person once (a dead letter)
    issued_at: float = 0.0  # when the sync issued (or first saw) the document
    alerted: str = ""  # the KSeF problem already raised ("rejected:NUMBER" / "late:NUMBER")

    @classmethod
    def of(cls, b: Binding | None) -> "Ledger":
        if b is None:
            return cls()
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in b.state.items() if k in known})

    def binding(self, erp_order_id: int, shop_order_id: int | None) -> Binding:
        return Binding(Kind.ORDER_MONEY, erp_order_id, shop_order_id, asdict(self), 0)

    def docs(self) -> list[SaleDocument]:
        return [SaleDocument.from_json(d) for d in self.documents]

    def corrected(self) -> set[int]:
        return {int(c["refund"]) for c in self.corrections} | {int(r) for r in self.refused}

    def fixes(self) -> list[SaleDocument]:
        """The corrections issued for refunds (not those made by hand)."""
        return [SaleDocument.from_json(c) for c in self.corrections if not c.get("by_hand")]

    def waiting_for_ksef(self) -> list[SaleDocument]:
        """Invoices and their corrections (KSeF documents both) still without KSeF's word."""
        return [d for d in self.docs() + self.fixes() if d.kind in ("invoice", "correction")
                and d.ksef in ("waiting", "failed")]


def document_kind(ctx: SyncContext, order: ShopOrder) -> str:
    """invoice | receipt, as orders.document says; by_buyer: an invoice when the buyer gave a valid NIP or asked
    for one at checkout (the order meta orders.invoice_request_meta_key), a receipt otherwise."""
    o = ctx.settings.orders
    if o.document != "by_buyer":
        return o.document
    if valid_nip_or_none(order.tax_id):
        return "invoice"
    return "invoice" if str(order.meta.get(o.invoice_request_meta_key, "")).strip().lower() in YES else "receipt"


def is_paid(order: ShopOrder) -> bool:
    """The shop says the order is paid: its date_paid (WooCommerce sets it when the payment completes, for cash
    on delivery when the order is completed); a shop that gives no date: a paid status."""
    if order.date_paid:
        return True
    return not order.reports_date_paid and order.status in PAID_STATUSES


def settle_order(ctx: SyncContext, order: ShopOrder) -> int | None:
    """Issue the order's document when it is due and record its payment once paid; the ERP order's id when its
    ledger changed (the shop order is then told: numbers, notes, the printout), else None."""
    when = ctx.settings.orders.invoice
    bound = ctx.bindings.by_shop_ids(Kind.ORDER, [order.id]).get(order.id)
    if when == "never" or bound is None:
        return None
    zo = bound.erp_id
    ledger = Ledger.of(ctx.bindings.get(Kind.ORDER_MONEY, zo))
    changed = False
    due = is_paid(order) if when == "paid" else order.status == "completed"
    if due and not ledger.documents:
        kind = document_kind(ctx, order)
        if kind == "invoice":
            ctx.erp.issue_invoice(zo)  # once: the ERP is asked whether the order has invoices first
            docs = ctx.erp.order_invoices(zo)
        else:
            docs = [ctx.erp.issue_receipt(zo)]  # once: found again by the shop's number first
        ledger.kind, ledger.documents, ledger.issued_at = kind, [d.to_json() for d in docs], time.time()
        ctx.bindings.save([ledger.binding(zo, order.id)])
        log.info("shop order %s: %s %s issued in the ERP", order.number, "invoice" if kind == "invoice" else
                 "receipt", ", ".join(d.number for d in docs))
        changed = True
    registry = ctx.settings.orders.payment_registries.get(order.payment_method)
    if ledger.documents and registry and is_paid(order) and order.total:
        doc = ledger.docs()[0]
        paid_on = _day(order.date_paid) or dt.date.today()
        number = ctx.erp.record_payment(doc, order.total, registry, paid_on,
                                        note=f"Zapłata za zamówienie sklepu {order.number}")
        if number:
            ledger.payments.append({"number": number, "amount": str(order.total), "currency": order.currency,
                                    "registry": registry, "date": paid_on.isoformat(), "document": doc.number})
            ctx.bindings.save([ledger.binding(zo, order.id)])
            changed = True
    if order.refunds and CAP_REFUNDS in ctx.shop.capabilities:
        changed = _refunds(ctx, order, zo, ledger) or changed
    return zo if changed else None


def _refunds(ctx: SyncContext, order: ShopOrder, zo: int, ledger: Ledger) -> bool:
    """Each shop refund not yet handled becomes a correction of the order's document, to the grosz of the refund,
    once (the correction carries the refund's key). One the ERP cannot take is told to a person once."""
    new = sorted(rid for rid, _ in order.refunds if rid not in ledger.corrected())
    if not new:
        return False
    masters = [d for d in ledger.docs() if d.kind in ("invoice", "receipt")]
    refunds = {r.id: r for r in ctx.shop.get_refunds(order.id)}
    changed = False
    for rid in new:
        r = refunds.get(rid)
        if r is None:
            continue
        if not masters and order.status in ctx.settings.orders.cancel_statuses:
            return changed  # refunded whole before any document: the ERP order is cancelled instead
        if not masters:  # before any document: the ZMO itself would have to change
            _refuse(ctx, ledger, zo, order, rid)
            raise Rejected.of("refund.no_document", order=order.number, refund=rid, amount=str(r.amount),
                              currency=order.currency)
        returned, worth = _returned(ctx, order, r)
        if worth != r.amount:
            _refuse(ctx, ledger, zo, order, rid)
            raise Rejected.of("refund.by_value", order=order.number, refund=rid, amount=str(r.amount),
                              worth=str(worth), currency=order.currency)
        key = f"shopsync refund {order.number}/{rid}"
        corr = ctx.erp.issue_correction(masters[0], key, f"Zwrot w sklepie: {r.reason or 'bez podanej przyczyny'}",
                                        returned, restock=ctx.settings.orders.refund_restock == "always")
        ledger.corrections.append({"refund": rid, "amount": str(r.amount), **corr.to_json()})
        ctx.bindings.save([ledger.binding(zo, order.id)])
        log.info("shop order %s: refund %s of %s %s is correction %s of %s", order.number, rid, r.amount,
                 order.currency, corr.number, masters[0].number)
        changed = True
    return changed


def refund_corrected_by_hand(ctx: SyncContext, erp_order_id: int, refund_id: int) -> bool:
    """A person corrected a refund in Symfonia (one the sync told them about): the ledger says so and it is no
    longer a problem. False when the refund was not waiting for a person."""
    b = ctx.bindings.get(Kind.ORDER_MONEY, erp_order_id)
    ledger = Ledger.of(b)
    if b is None or refund_id not in ledger.refused:
        return False
    ledger.refused.remove(refund_id)
    ledger.corrections.append({"refund": refund_id, "by_hand": True, "id": 0, "number": "", "kind": "correction"})
    ctx.bindings.save([ledger.binding(erp_order_id, b.shop_id)])
    return True


def _refuse(ctx: SyncContext, ledger: Ledger, zo: int, order: ShopOrder, rid: int) -> None:
    ledger.refused.append(rid)  # told once (this dead letter); a person corrects it in Symfonia
    ctx.bindings.save([ledger.binding(zo, order.id)])


def _returned(ctx: SyncContext, order: ShopOrder, r: Any) -> tuple[dict[str, tuple[Decimal, Decimal, Decimal]],
                                                                   Decimal]:
    """What a refund gives back, by ERP product code: (quantity, net, gross); and its gross worth."""
    o = ctx.settings.orders
    out: dict[str, list[Decimal]] = {}
    by_shop_id = ctx.bindings.by_shop_ids(Kind.PRODUCT, [ln.product_id for ln in r.lines if ln.product_id])
    codes = {}
    unnamed = [b.erp_id for ln in r.lines if not ln.sku and ln.product_id in by_shop_id
               for b in [by_shop_id[ln.product_id]]]
    if unnamed:
        codes = {pid: p.code for pid, p in ctx.erp.get_products(unnamed).items()}

    def add(code: str, qty: Decimal, net: Decimal, tax: Decimal) -> None:
        row = out.setdefault(code, [Decimal(0), Decimal(0), Decimal(0)])
        row[0] += qty
        row[1] += net
        row[2] += net + tax

    for ln in r.lines:
        code = ln.sku
        if not code and ln.product_id in by_shop_id:
            code = codes.get(by_shop_id[ln.product_id].erp_id, "")
        add(code or f"#{ln.product_id}", ln.quantity, ln.total, ln.tax)
    # a service line (shipping, a fee) given back whole leaves its quantity 0, in part only its value changes
    for kind, code, net, tax in (("shipping", o.shipping_code, r.shipping, r.shipping_tax), ("fee", o.fee_code,
                                                                                            r.fees, Decimal(0))):
        if not (net or tax):
            continue
        charged = sum((c.total + c.tax for c in order.charges if c.kind == kind), Decimal(0))
        add(code or f"(orders.{kind}_code)", Decimal(1) if net + tax >= charged else Decimal(0), net, tax)
    worth = sum((v[2] for v in out.values()), Decimal(0)).quantize(Decimal("0.01"))
    return {k: (v[0], v[1].quantize(Decimal("0.01")), v[2].quantize(Decimal("0.01"))) for k, v in out.items()}, worth


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def ksef_pass(ctx: SyncContext) -> list[int]:
    """Refresh the KSeF status of every invoice still waiting for its number; the ERP orders whose ledger
    changed (their shop orders are told). A rejection, or no number after orders.ksef_alert_hours, is logged
    once here; the alerts (server/alerts.py, ksef_problems) fire and resolve on the ledgers."""
    changed: list[int] = []
    late_after = ctx.settings.orders.ksef_alert_hours * 3600
    every = ctx.bindings.all_ids(Kind.ORDER_MONEY)
    for zo, b in (item for start in range(0, len(every), 500)
                  for item in ctx.bindings.many(Kind.ORDER_MONEY, every[start:start + 500]).items()):
        ledger = Ledger.of(b)
        waiting = ledger.waiting_for_ksef()
        if not waiting:
            continue
        now = {d.id: ctx.erp.refresh_ksef(d.id, d.kind) for d in waiting}
        docs = [now.get(d.id, d) for d in ledger.docs()]
        if [d.to_json() for d in docs] != ledger.documents:
            ledger.documents = [d.to_json() for d in docs]
            changed.append(zo)
        fixed = [{**c, **now[c["id"]].to_json()} if not c.get("by_hand") and c.get("id") in now else c
                 for c in ledger.corrections]
        if fixed != ledger.corrections:
            ledger.corrections = fixed
            changed.append(zo)
        for d in docs + ledger.fixes():
            problem = ""
            if d.ksef == "rejected":
                problem = f"rejected:{d.number}"
                text = f"KSeF rejected {d.kind} {d.number}: correct it in Symfonia and send it again"
            elif d.ksef in ("waiting", "failed") and time.time() - ledger.issued_at > late_after:
                problem = f"late:{d.number}"
                text = (f"{d.kind} {d.number} has no KSeF number {ctx.settings.orders.ksef_alert_hours:g} h after "
                        "it was issued: look at Symfonia's KSeF module")
            if problem and problem != ledger.alerted:
                ledger.alerted = problem
                changed.append(zo)
                log.error("%s (ERP order %s)", text, zo)
        if zo in changed:
            ctx.bindings.save([ledger.binding(zo, b.shop_id)])
    if changed:
        msg.enqueue(ctx.store, order_progress_messages(ctx, changed))
    return sorted(set(changed))


def ledgers(ctx: SyncContext, erp_order_ids: Iterable[int]) -> dict[int, Ledger]:
    return {zo: Ledger.of(b) for zo, b in ctx.bindings.many(Kind.ORDER_MONEY, list(erp_order_ids)).items()}


def ksef_problems(ctx: SyncContext, now: float | None = None) -> list[str]:
    """Invoices KSeF rejected, invoices without a KSeF number orders.ksef_alert_hours after they were issued, and
    shop refunds no correction was made for: what a person must look at (an alert while any is left; a refund
    a person corrected in Symfonia is marked so on the console's order page, and leaves the list)."""
    now = time.time() if now is None else now
    late_after = ctx.settings.orders.ksef_alert_hours * 3600
    out = []
    every = ctx.bindings.all_ids(Kind.ORDER_MONEY)
    for start in range(0, len(every), 500):
        for zo, b in ctx.bindings.many(Kind.ORDER_MONEY, every[start:start + 500]).items():
            ledger = Ledger.of(b)
            out += [f"refund {r} of ERP order {zo} has no correction (told to a person)" for r in ledger.refused]
            for d in ledger.docs() + ledger.fixes():
                if d.kind not in ("invoice", "correction"):
                    continue
                if d.ksef == "rejected":
                    out.append(f"KSeF rejected {d.kind} {d.number}")
                elif d.ksef in ("waiting", "failed") and now - ledger.issued_at > late_after:
                    out.append(f"{d.kind} {d.number} has no KSeF number after "
                               f"{ctx.settings.orders.ksef_alert_hours:g} h")
    return out
