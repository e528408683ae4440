"""ERP events -> what each touches, across entities (queue erp_events).

An event only names what changed; read what it names as it is now and queue, per
entity, what the shop must be told: one ProductSnapshot per product (coalesced per
product, so 10,000 stock changes of 1,000 products are 1,000 messages), the price
lists of contractors, and the progress of the shop's orders. The entity modules stand
side by side; this room is the one that knows an event can touch several of them.
"""

from __future__ import annotations

import logging
import time
from typing import Sequence

from ..erp.records import DOCUMENT_CANCELLED, DOCUMENT_ISSUED
from . import messages as msg
from .context import SyncContext
from .orders import order_progress_messages
from .outcome import Outcome
from .price_lists import contractor_prices, price_list_changes
from .products import product_snapshots, stock_drift

log = logging.getLogger(__name__)


def document_outcome(ctx: SyncContext, e: msg.ErpEvent, state: str) -> Outcome | None:
    """A document hook for a document not issued (yet): look again at growing intervals (the event's age
    doubles between looks), and forget it with one line once sync.draft_document_wait_seconds have passed.
    None: issued, act on it now."""
    if state == DOCUMENT_ISSUED:
        return None
    wait = ctx.settings.sync.draft_document_wait_seconds
    age = max(0.0, time.time() - e.occurred_unix_ms / 1000) if e.occurred_unix_ms else 0.0
    if state == DOCUMENT_CANCELLED or age >= wait:
        log.info("document %s named by a hook is %s after %.0f s: nothing sent, forgotten", e.erp_id,
                 "cancelled" if state == DOCUMENT_CANCELLED else f"still {state}", age)
        return Outcome.done()
    delay = min(max(wait / 64, age), wait - age)
    return Outcome.waiting(f"document {e.erp_id} is {state} (not issued yet): nothing sent; looked at again in "
                           f"{delay:.0f} s", delay=delay)


class ErpEventReader:
    """erp_events -> outbox: read what the events name, queue snapshots (one commit), done."""

    def handle(self, ctx: SyncContext, batch: Sequence[msg.ErpEvent]) -> list[Outcome]:
        outcomes = [Outcome.done()] * len(batch)
        ids: dict[str, set[int]] = {}
        for n, e in enumerate(batch):
            if e.subject == msg.DOCUMENT:
                later = document_outcome(ctx, e, ctx.erp.document_state(e.erp_id))
                if later is not None:
                    outcomes[n] = later  # a draft: nothing of it is read or sent
                    continue
            ids.setdefault(e.subject, set()).add(e.erp_id)
        product_ids = set(ids.get(msg.PRODUCT, ()))
        contractors = set(ids.get(msg.CONTRACTOR, ()))
        erp_orders = set(ids.get(msg.ERP_ORDER, ()))
        list_bindings = []
        for list_id in sorted(ids.get(msg.PRICE_LIST, ())):
            products, kids, binding = price_list_changes(ctx, list_id)
            product_ids |= products
            contractors |= kids
            list_bindings.append(binding)
        for document_id in sorted(ids.get(msg.DOCUMENT, ())):
            # One hook for a whole document: its lines' products, and the orders it realised or invoiced.
            product_ids |= set(ctx.erp.document_products(document_id))
            erp_orders |= set(ctx.erp.orders_of_document(document_id))
        for order_id in sorted(erp_orders):
            product_ids |= set(ctx.erp.order_products(order_id))
        gone = False
        for reservation_id in sorted(ids.get(msg.RESERVATION, ())):
            pid = ctx.erp.reservation_product(reservation_id)
            if pid is None:
                gone = True  # deleted: it no longer says which product it freed
            else:
                product_ids.add(pid)
        if gone:
            product_ids |= stock_drift(ctx)
        out: list[msg.QueueMessage] = [*product_snapshots(ctx, product_ids), *contractor_prices(ctx, contractors),
                                       *order_progress_messages(ctx, erp_orders)]
        msg.enqueue(ctx.store, out)
        ctx.bindings.save(list_bindings)
        log.debug("events %d -> outbox %d", len(batch), len(out))
        return outcomes
