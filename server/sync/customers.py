"""Customers: pairing shop customers with ERP contractors, and the status the shop shows.

- Pairing by normalised NIP (a pass over every customer, and each customer event);
  a NIP matching several contractors, none, or no NIP waits for a person, who pairs
  by hand. A person's pairing, and one made by a first order, is kept as it is.
- CustomerStatusExport (outbox `customer_status`): the status written to the shop.
- CustomerImport (inbox `customer`): a shop customer created or changed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import deque
from typing import Any, Iterator, Sequence

from server.erp.errors import ErpNotFound
from server.nip import valid_nip_or_none
from server.sync import messages as msg
from server.sync.binder import INVALID_NIP, NEEDS_PERSON, NO_NIP, PAIRED, Pairing
from server.sync.context import SyncContext
from server.sync.outcome import Outcome
from server.sync.price_lists import contractor_prices
from shop_client.errors import ShopError, ShopUnavailable
from shop_client.interface import CAP_PAIRING_STATUS, ITEM_GONE, ShopCustomer

log = logging.getLogger(__name__)


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
                   manual=False, ambiguous=True, **base), ""


def record_pairing(ctx: SyncContext, p: Pairing, contractor_code: str = "") -> None:
    """Store a pairing and queue its status (and the contractor's price lists) for the shop."""
    before = ctx.binder.pairing(p.shop_customer_id)
    ctx.binder.set_pairing(p)
    out: list[msg.QueueMessage] = [msg.CustomerStatus(p.shop_customer_id, _status_payload(p, contractor_code))]
    new_contractor = before is None or before.erp_contractor_id != p.erp_contractor_id
    if p.status == PAIRED and p.erp_contractor_id and new_contractor:
        out += contractor_prices(ctx, [p.erp_contractor_id])
    msg.enqueue(ctx.store, out)


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


class CustomerStatusExport:
    """outbox `customer_status` -> the shop's customer records."""

    def handle(self, ctx: SyncContext, batch: Sequence[msg.CustomerStatus]) -> list[Outcome]:
        if CAP_PAIRING_STATUS not in ctx.shop.capabilities:
            log.warning("%d pairing statuses not sent: this shop (%s) cannot hold them; see `shopsync customers "
                        "list`", len(batch), type(ctx.shop).__name__)
            return [Outcome.done()] * len(batch)
        try:
            results = ctx.shop.set_customer_pairing([(m.shop_customer_id, m.status) for m in batch])
        except ShopError as exc:
            return [Outcome.of_shop_error(exc)] * len(batch)
        outcomes = []
        for m, res in zip(batch, results):
            if res.ok or res.kind == ITEM_GONE:  # a customer deleted in the shop needs no status
                outcomes.append(Outcome.done())
            else:
                reason = f"customer {m.shop_customer_id}: {res.error}"
                outcomes.append(Outcome.retry(reason) if res.retryable else Outcome.dead(reason))
        return outcomes


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
