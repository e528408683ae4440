"""Price lists, ERP -> shop: which products and contractors a price list's change touches,
and the contractors' list assignments delivered to their shop customers (own list first).

Product prices ride in the product snapshots (products.py); this module decides
which snapshots a price-list change needs, and delivers ContractorPrices.
"""

from __future__ import annotations

import logging
import time
from typing import Iterable, Sequence

from ..erp.errors import ErpNotFound
from . import messages as msg
from ..queue.bindings import Binding, Kind
from .context import SyncContext
from .outcome import Outcome, outcome_of, outcome_of_item
from shop_client.errors import ShopError
from shop_client.interface import CAP_PRICE_LISTS, ITEM_GONE

log = logging.getLogger(__name__)


def price_list_changes(ctx: SyncContext, list_id: int) -> tuple[set[int], set[int], Binding]:
    """Products and contractors touched by a price list's change since it was last seen,
    and the binding that remembers the list as it is now."""
    try:
        pl = ctx.erp.get_price_list(list_id)
        prices = {str(pid): format(price, "f") for pid, (price, _) in pl.prices.items()} if pl.active else {}
        whom = {"contractors": sorted(pl.contractors), "groups": sorted(pl.groups), "code": pl.code,
                "active": pl.active}
    except ErpNotFound:
        prices, whom = {}, {"contractors": [], "groups": [], "code": "", "active": False}
    old = ctx.bindings.get(Kind.PRICE_LIST, list_id)
    old_state = old.state if old else {"prices": {}, "contractors": [], "groups": [], "code": ""}
    old_prices: dict[str, str] = old_state.get("prices", {})
    products = {int(k) for k in set(prices) | set(old_prices) if prices.get(k) != old_prices.get(k)}
    if whom["code"] != old_state.get("code"):
        products |= {int(k) for k in set(prices) | set(old_prices)}
    contractors: set[int] = set()
    if (whom["contractors"], whom["groups"], whom["code"]) != (old_state.get("contractors"), old_state.get("groups"),
                                                             old_state.get("code")):
        contractors |= set(whom["contractors"]) | set(old_state.get("contractors", []))
        contractors |= set(ctx.erp.contractors_in_groups(sorted(set(whom["groups"]) |
                                                                set(old_state.get("groups", [])))))
    state = {"prices": prices, **whom}
    return products, contractors, Binding(Kind.PRICE_LIST, list_id, None, state, time.time_ns())


def contractor_prices(ctx: SyncContext, contractor_ids: Iterable[int]) -> list[msg.ContractorPrices]:
    """The list assignments of these contractors, as messages for the shop."""
    ids = sorted(set(contractor_ids))
    if not ids:
        return []
    codes = ctx.erp.price_list_codes_for_contractors(ids)
    return [msg.ContractorPrices(kid, codes.get(kid, [])) for kid in ids]


class ContractorPricesExport:
    """outbox `customer_prices` -> the shop customers paired with each contractor."""

    def handle(self, ctx: SyncContext, batch: Sequence[msg.ContractorPrices]) -> list[Outcome]:
        if CAP_PRICE_LISTS not in ctx.shop.capabilities:
            log.warning("%d customer price-list assignments not sent: this shop (%s) cannot hold them",
                        len(batch), type(getattr(ctx.shop, "target", ctx.shop)).__name__)
            return [Outcome.done()] * len(batch)
        updates, owners = [], []
        for i, m in enumerate(batch):
            for cid in ctx.pairings.customers_of_contractor(m.contractor_id):
                updates.append((cid, m.lists))
                owners.append(i)
        outcomes = [Outcome.done()] * len(batch)  # nobody paired with a contractor yet: pairing sends it later
        if not updates:
            return outcomes
        try:
            results = ctx.shop.set_customer_price_lists(updates)
        except ShopError as exc:
            for i in set(owners):
                outcomes[i] = outcome_of(exc)
            return outcomes
        for i, res in zip(owners, results):
            if not res.ok and res.kind != ITEM_GONE:  # a customer deleted in the shop needs no lists
                outcomes[i] = outcome_of_item(res, ("price_lists", batch[i].contractor_id))
        return outcomes
