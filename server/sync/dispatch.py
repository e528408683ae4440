"""Which synchronizer handles which message, and one batch through them.

A claimed batch is decoded into typed messages, grouped by type (in order), and
each group handed to its synchronizer; what comes back is one Outcome per claimed
message, for the worker to settle (runtime.QueueWorker). Errors that concern a
whole group are turned into outcomes here, in one place, by their kind.
"""

from __future__ import annotations

import logging
from typing import Sequence

from ..queue.store import Message
from . import messages as msg
from .context import SyncContext
from .customers import CustomerImport, CustomerStatusExport, payer_for_order
from .fanout import ErpEventReader
from .money import settle_order
from .orders import OrderImport, OrderProgressExport
from .outcome import Outcome, Synchronizer, outcome_of
from .price_lists import ContractorPricesExport
from .product_images import ImageImport
from .products import ProductExport

log = logging.getLogger(__name__)

SYNCHRONIZERS: dict[type[msg.QueueMessage], Synchronizer] = {
    msg.ErpEvent: ErpEventReader(),
    msg.ProductSnapshot: ProductExport(),
    msg.CustomerStatus: CustomerStatusExport(),
    msg.ContractorPrices: ContractorPricesExport(),
    msg.OrderProgressChanged: OrderProgressExport(),
    msg.ShopOrderChanged: OrderImport(payer=payer_for_order, settle=settle_order),
    msg.ShopCustomerChanged: CustomerImport(),
    msg.ShopImageChanged: ImageImport(),
}


def run_batch(ctx: SyncContext, claimed: Sequence[Message]) -> list[tuple[Message, Outcome]]:
    """One outcome per claimed message, in the order claimed."""
    results: dict[int, Outcome] = {}
    groups: dict[type[msg.QueueMessage], list[tuple[Message, msg.QueueMessage]]] = {}
    for m in claimed:
        try:
            typed = msg.decode(m)
        except (msg.UnreadableMessage, KeyError, TypeError, ValueError) as exc:
            results[m.id] = Outcome.dead(f"unreadable {m.queue} message {m.kind!r}: {exc}")
            continue
        groups.setdefault(type(typed), []).append((m, typed))
    for kind, members in groups.items():
        batch = [typed for _, typed in members]
        try:
            outcomes = SYNCHRONIZERS[kind].handle(ctx, batch)
            if len(outcomes) != len(batch):
                raise RuntimeError(f"{kind.__name__}: {len(outcomes)} outcomes for {len(batch)} messages")
        except Exception as exc:  # noqa: BLE001 - a whole group failed: decided once, by the error's kind
            outcomes = [outcome_of(exc)] * len(batch)
        for (m, _), outcome in zip(members, outcomes):
            results[m.id] = outcome
    return [(m, results[m.id]) for m in claimed]
