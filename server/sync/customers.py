"""Customers: pairing shop customers with ERP contractors, and the status the shop shows.

- Pairing by normalised NIP (a pass over every customer, and each customer event);
  a NIP matching several contractors, none, or no NIP waits for a person, who pairs
  by hand. A person's pairing, and one made by a first order, is kept as it is.
- CustomerStatusExport (outbox `customer_status`): the status written to the shop.
- CustomerImport (inbox `customer`): a shop customer created or changed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from collections import deque
from typing import Any, Iterator, Sequence

from shop_client.errors import ShopError, ShopNotFound, ShopUnavailable
from shop_client.interface import CAP_PAIRING_STATUS, ITEM_GONE, ShopCustomer, ShopOrder

from ..erp.errors import ErpNotFound
from ..erp.records import ONE_TIME_CONTRACTOR
from ..nip import valid_nip_or_none
from ..queue.bindings import Binding, Kind
from ..queue.pairings import Pairing, PairingStatus
from . import messages as msg
from .addresses import payer_draft
from .context import SyncContext
from .outcome import MustWait, Outcome, outcome_of, outcome_of_item

log = logging.getLogger(__name__)
MAX_CANDIDATES = 5
CONTRACTOR_SAVED = msg.EVENT_NAMES[msg.erp_events_pb2.ERP_EVENT_KIND_CONTRACTOR_SAVED]


def status_payload(p: Pairing, contractor_code: str = "", **extra: Any) -> dict[str, Any]:
    """What the shop shows of a pairing; with the candidates a shop manager chooses from (contractors sharing the
    customer's NIP, a handful at most) and, after a shop manager's request, which one was carried out."""
    payload = {"status": p.status, "erp_contractor_id": p.erp_contractor_id, "erp_contractor_code": contractor_code,
               "detail": p.detail, "manual": p.manual,
               "updated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    if p.candidates:
        payload["candidates"] = [dict(k) for k in p.candidates[:MAX_CANDIDATES]]
    return {**payload, **{k: v for k, v in extra.items() if v not in (None, "")}}


def decide_pairing(ctx: SyncContext, c: ShopCustomer) -> tuple[Pairing, str]:
    """The pairing a customer should have now (a person's pairing is kept as it is)."""
    current = ctx.pairings.get(c.id)
    base = {"shop_customer_id": c.id, "nip": c.tax_id, "email": c.email, "name": c.name}
    if current is not None and current.paired and (current.manual or current.detail.startswith("created")):
        return Pairing(**{**current.__dict__, **base}), ""
    raw = (c.tax_id or "").strip()
    if not raw:
        return Pairing(erp_contractor_id=None, status=PairingStatus.NO_NIP, detail="no NIP in the shop account; "
                       "pair by hand or wait for the first order", manual=False, **base), ""
    nip = valid_nip_or_none(raw)
    if nip is None:
        return Pairing(erp_contractor_id=None, status=PairingStatus.INVALID_NIP,
                       detail=f"NIP {raw!r} is not a valid Polish NIP (checksum)", manual=False, **base), ""
    found = ctx.erp.find_contractors_by_nip(nip)
    if len(found) == 1:
        return Pairing(erp_contractor_id=found[0].id, status=PairingStatus.PAIRED,
                       detail=f"NIP {nip} = {found[0].code}", manual=False, **base), found[0].code
    if not found:
        return Pairing(erp_contractor_id=None, status=PairingStatus.NEEDS_PERSON,
                       detail=f"no ERP contractor has NIP {nip}; pair by hand or wait for the first order",
                       manual=False, **base), ""
    codes = ", ".join(f"{k.code} {k.name} (id {k.id})" for k in found)
    return Pairing(erp_contractor_id=None, status=PairingStatus.NEEDS_PERSON,
                   detail=f"NIP {nip} matches several ERP contractors: {codes}; a person must choose",
                   manual=False, ambiguous=True, candidates=tuple(_candidate(k) for k in found[:MAX_CANDIDATES]),
                   **base), ""


def _candidate(k: Any) -> dict[str, Any]:
    return {"id": k.id, "code": k.code, "name": k.name, "nip": k.nip, "city": k.city}


def record_pairing(ctx: SyncContext, p: Pairing, contractor_code: str = "", **extra: Any) -> None:
    """Store a pairing and queue its status (and the contractor's price lists) for the shop."""
    before = ctx.pairings.get(p.shop_customer_id)
    ctx.pairings.set(p)
    extra.setdefault("request_done", ctx.cursors.get(_request_key(p.shop_customer_id)))  # the plugin's "waiting"
    out: list[msg.QueueMessage] = [msg.CustomerStatus(p.shop_customer_id,
                                                      status_payload(p, contractor_code, **extra))]
    new_contractor = before is None or before.erp_contractor_id != p.erp_contractor_id
    if p.paired and new_contractor:
        # The contractor's price lists now concern this customer too: the fan-out reads and sends them.
        out.append(msg.ErpEvent(CONTRACTOR_SAVED, p.erp_contractor_id, msg.now_ms()))  # type: ignore[arg-type]
    msg.enqueue(ctx.store, out)


def pair_customer(ctx: SyncContext, c: ShopCustomer) -> Pairing:
    """Pair one shop customer automatically (by normalised NIP) and tell the shop; a shop manager's request
    made in the shop since it was last looked at is carried out first."""
    request_id = str(c.pairing_request.get("id") or "")
    if request_id and request_id != ctx.cursors.get(_request_key(c.id)):
        return carry_out_request(ctx, c)
    p, code = decide_pairing(ctx, c)
    old = ctx.pairings.get(c.id)
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
            paired += p.status == PairingStatus.PAIRED
            waiting += p.status != PairingStatus.PAIRED
        yield {"seen": seen, "paired": paired, "needs_person": waiting, "total": total, "done": False}
    yield {"seen": seen, "paired": paired, "needs_person": waiting, "total": total, "done": True}


class RequestRefused(Exception):
    """A shop manager's pairing request that cannot be carried out as it is (the reason goes back to the shop)."""


def carry_out_request(ctx: SyncContext, c: ShopCustomer) -> Pairing:
    """A shop manager's choice made in the shop (the plugin's pairing box): pair with the contractor chosen (it
    must exist and be active; a NIP that differs from the customer's needs the manager's confirmation) or
    unpair. The result, or why it was refused, goes back to the shop with the request's id."""
    r = c.pairing_request
    request_id = str(r.get("id") or "")
    who = f"{str(r.get('by') or 'a shop manager')[:60]} (in the shop)"
    try:
        if r.get("action") == "unpair":
            p = unpair(ctx, c.id, request_done=request_id)
            ctx.cursors.set(_request_key(c.id), request_id)
            log.info("shop customer %s unpaired by %s", c.id, who)
            return p
        k = _requested_contractor(ctx, r)
        nip, theirs = valid_nip_or_none(c.tax_id), valid_nip_or_none(k.nip)
        if nip and theirs and nip != theirs and not r.get("confirm_nip_differs"):
            raise RequestRefused(f"the customer's NIP {nip} differs from {k.code}'s NIP {theirs}: confirm the "
                                 "choice to pair them anyway")
        p = pair_by_hand(ctx, c.id, k.id, customer=c, request_done=request_id)
        ctx.cursors.set(_request_key(c.id), request_id)
        log.info("shop customer %s paired with ERP contractor %s (%s) by %s", c.id, k.id, k.code, who)
        return p
    except (RequestRefused, ErpNotFound) as exc:
        log.info("shop customer %s: pairing request by %s refused: %s", c.id, who, exc)
        ctx.cursors.set(_request_key(c.id), request_id)
        p, code = decide_pairing(ctx, c)
        record_pairing(ctx, p, code, request_done=request_id, request_error=str(exc))
        return p


def _request_key(shop_customer_id: int) -> str:
    return f"pairing.request.{shop_customer_id}"


def _requested_contractor(ctx: SyncContext, r: dict[str, Any]) -> Any:
    code = str(r.get("contractor_code") or "").strip()
    try:
        k = ctx.erp.get_contractor(int(r["contractor_id"])) if r.get("contractor_id") else None
    except (TypeError, ValueError):
        raise RequestRefused(f"contractor id {r.get('contractor_id')!r} is not a number") from None
    if k is None:
        if not code:
            raise RequestRefused("choose a contractor, or enter a contractor code")
        k = next((x for x in ctx.erp.search_contractors(code, 50) if x.code.lower() == code.lower()), None)
        if k is None:
            raise RequestRefused(f"no active ERP contractor has the code {code!r}")
    elif not any(x.id == k.id for x in ctx.erp.search_contractors(k.code, 50)):
        raise RequestRefused(f"ERP contractor {k.code} is blocked (not active)")
    return k


def pair_by_hand(ctx: SyncContext, shop_customer_id: int, contractor_id: int, *, customer: ShopCustomer | None = None,
                 **status_extra: Any) -> Pairing:
    contractor = ctx.erp.get_contractor(contractor_id)  # ErpNotFound -> NOT_FOUND
    try:
        c = customer or ctx.shop.get_customer(shop_customer_id)
        base = {"nip": c.tax_id, "email": c.email, "name": c.name}
    except ShopUnavailable:  # a person may pair while the shop is down: use what we last saw
        old = ctx.pairings.get(shop_customer_id)
        if old is None:
            raise
        base = {"nip": old.nip, "email": old.email, "name": old.name}
    p = Pairing(shop_customer_id=shop_customer_id, erp_contractor_id=contractor.id, status=PairingStatus.PAIRED,
                detail=f"paired by hand with {contractor.code}", manual=True, **base)
    record_pairing(ctx, p, contractor.code, **status_extra)
    return p


def unpair(ctx: SyncContext, shop_customer_id: int, **status_extra: Any) -> Pairing:
    old = ctx.pairings.get(shop_customer_id)
    if old is None:
        raise ErpNotFound(f"shop customer {shop_customer_id} has no pairing")
    p = Pairing(shop_customer_id=shop_customer_id, erp_contractor_id=None, status=PairingStatus.NEEDS_PERSON,
                detail="unpaired by hand; pair by hand", manual=True, nip=old.nip, email=old.email, name=old.name)
    record_pairing(ctx, p, **status_extra)
    return p


class CustomerStatusExport:
    """outbox `customer_status` -> the shop's customer records."""

    def handle(self, ctx: SyncContext, batch: Sequence[msg.CustomerStatus]) -> list[Outcome]:
        if CAP_PAIRING_STATUS not in ctx.shop.capabilities:
            log.warning("%d pairing statuses not sent: this shop (%s) cannot hold them; see `shopsync customers "
                        "list`", len(batch), type(getattr(ctx.shop, "target", ctx.shop)).__name__)
            return [Outcome.done()] * len(batch)
        try:
            results = ctx.shop.set_customer_pairing([(m.shop_customer_id, m.status) for m in batch])
        except ShopError as exc:
            return [outcome_of(exc)] * len(batch)
        # A customer deleted in the shop needs no status.
        return [Outcome.done() if res.kind == ITEM_GONE else outcome_of_item(res, ("customer", m.shop_customer_id))
                for m, res in zip(batch, results)]


def changes_nothing(ctx: SyncContext, raw: dict[str, Any]) -> bool:
    """A customer as the shop sent it (a webhook) carries nothing a pairing reads that is not already known:
    the same NIP, e-mail and name as stored, and no shop manager's request not yet carried out. Typically our
    own pairing-status write coming back as `customer.updated`; queueing it again would only repeat work."""
    try:
        c = ctx.shop.parse_customer(raw)  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError, ValueError):
        return False
    if c.staff:
        return True  # the shop's own staff are never paired
    known = ctx.pairings.get(c.id)
    if known is None:
        return False
    request_id = str(c.pairing_request.get("id") or "")
    if request_id and request_id != ctx.cursors.get(_request_key(c.id)):
        return False
    return (known.nip, known.email, known.name) == (c.tax_id, c.email, c.name)


class CustomerImport:
    """inbox `customer`: pair a shop customer created or changed (the shop's staff are skipped)."""

    def handle(self, ctx: SyncContext, batch: Sequence[msg.ShopCustomerChanged]) -> list[Outcome]:
        outcomes = []
        for m in batch:
            customer = (ctx.shop.parse_customer(m.customer) if m.customer is not None  # type: ignore[attr-defined]
                        else ctx.shop.get_customer(m.customer_id))
            if not customer.staff:
                pair_customer(ctx, customer)
            outcomes.append(Outcome.done())
        return outcomes


# -- the payer of an order ------------------------------------------------------------
def payer_for_order(ctx: SyncContext, order: ShopOrder) -> int:
    """The ERP contractor who pays for an order: the paired one, one found by NIP, or (first
    order) one created from the billing address. A known contractor keeps its ERP data.

    Raises MustWait when the NIP matches several contractors: a person pairs by hand. A guest whose NIP
    matches none is ONE_TIME_CONTRACTOR when orders.guests_as_one_time is on.
    """
    if order.customer_id:
        pairing = ctx.pairings.get(order.customer_id)
        if pairing is not None and pairing.paired:
            return pairing.erp_contractor_id  # type: ignore[return-value]
        try:
            customer = ctx.shop.get_customer(order.customer_id)
            order = _with_customer(order, customer)
            p = pair_customer(ctx, customer)
            if p.paired:
                return p.erp_contractor_id  # type: ignore[return-value]
            if p.ambiguous:
                raise MustWait.of("customer.needs_person", customer=order.customer_id,
                                  detail=p.detail)
        except ShopNotFound:
            pass  # the account is gone: the order's own billing data stand for it
    else:
        guest = ctx.bindings.get(Kind.GUEST, _guest_key(order.billing.email)) if order.billing.email else None
        if guest is not None and guest.shop_id:
            return guest.shop_id
    nip = valid_nip_or_none(order.tax_id)
    found = ctx.erp.find_contractors_by_nip(nip) if nip else []
    if len(found) > 1:
        raise MustWait.of("customer.nip_ambiguous", nip=nip, order=order.number,
                          codes=", ".join(k.code for k in found))
    if found:
        kid, detail = found[0].id, f"NIP {nip} = {found[0].code}"
    elif not order.customer_id and ctx.settings.orders.guests_as_one_time:
        return ONE_TIME_CONTRACTOR  # the ERP makes a one-time contractor of the order's own data: nothing kept
    else:
        code = f"WWW-{order.customer_id}" if order.customer_id else f"WWW-G{order.number}"
        kid, detail = ctx.erp.create_contractor(payer_draft(order, code, nip or "")), \
            f"created from order {order.number}"
    _remember_payer(ctx, order, kid, detail)
    return kid


def _with_customer(order: ShopOrder, customer: ShopCustomer) -> ShopOrder:
    """The order with the account's e-mail, name and NIP filled in where the billing lacks them."""
    billing = order.billing
    if not billing.email or not billing.name:
        billing = dataclasses.replace(billing, email=billing.email or customer.email,
                                      first_name=billing.first_name or customer.first_name,
                                      last_name=billing.last_name or customer.last_name)
    return dataclasses.replace(order, billing=billing, tax_id=customer.tax_id or order.tax_id)


def _guest_key(email: str) -> int:
    return int(hashlib.sha256(email.strip().lower().encode()).hexdigest()[:15], 16)


def _remember_payer(ctx: SyncContext, order: ShopOrder, kid: int, detail: str) -> None:
    if order.customer_id:
        record_pairing(ctx, Pairing(shop_customer_id=order.customer_id, erp_contractor_id=kid,
                                    status=PairingStatus.PAIRED, detail=detail, manual=False, nip=order.tax_id,
                                    email=order.billing.email, name=order.billing.name))
    elif order.billing.email:
        ctx.bindings.save([Binding(Kind.GUEST, _guest_key(order.billing.email), kid,
                                   {"email": order.billing.email})])
