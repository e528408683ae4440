"""The ERP's change feeds (Symfonia WebAPI with change tracking on): the guarantee behind the hooks.

Every `erp.feed_interval_seconds` the server asks the WebAPI what changed:
`{Products,Contractors,PriceLists,Orders}/IncrementalSync?dateFrom=` and
`InventoryStates/Changes?date=`. Each change becomes the ERP event a hook would have
sent (item-saved, contractor-saved, price-list-saved, order-changed, stock-changed),
queued durably, so the same workers do the same work whichever way the change came.

- A cursor per feed lives in the queue database: for the IncrementalSync feeds the
  newest ModifiedAt seen (the ERP's own clock), for stock the time of the last
  read. Each read starts `erp.feed_overlap_seconds` earlier (workstation clocks
  differ; a change saved while we read must not fall between two reads).
- Content is compared before anything is queued: the digest of each record as the
  feed sent it, and each product's commercial stock summed over erp.warehouses, are
  kept (bindings of the feed kinds); a record whose content did not change (a card
  saved without an edit, or the overlap bringing a change back) queues nothing.
- Hooks stay the instant path; a change both a hook and a feed report is one queued
  message per entity (pending messages of one entity coalesce) and the workers
  compare with what the shop was last sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Protocol, Sequence

from ..erp.records import FeedChange, StockState
from ..queue.bindings import Binding, Kind
from . import messages as msg
from .context import SyncContext

log = logging.getLogger(__name__)

# Each IncrementalSync feed, the binding kind its digests are kept under, and the event a change makes.
_KIND = msg.erp_events_pb2
FEEDS: dict[str, tuple[Kind, str]] = {
    "Products": (Kind.FEED_PRODUCT, msg.EVENT_NAMES[_KIND.ERP_EVENT_KIND_ITEM_SAVED]),
    "Contractors": (Kind.FEED_CONTRACTOR, msg.EVENT_NAMES[_KIND.ERP_EVENT_KIND_CONTRACTOR_SAVED]),
    "PriceLists": (Kind.FEED_PRICE_LIST, msg.EVENT_NAMES[_KIND.ERP_EVENT_KIND_PRICE_LIST_SAVED]),
    "Orders": (Kind.FEED_ORDER, msg.EVENT_NAMES[_KIND.ERP_EVENT_KIND_ORDER_CHANGED]),
}
STOCK_CHANGED = msg.EVENT_NAMES[_KIND.ERP_EVENT_KIND_STOCK_CHANGED]
STOCK_FEED = "InventoryStates"
CURSOR = "erp_feed:{}"


class ChangeFeeds(Protocol):
    """What the ERP's WebAPI side answers (server.erp.webapi.WebApiErp)."""

    def feed_changes(self, feed: str, since: dt.datetime) -> list[FeedChange]: ...
    def stock_changes(self, since: dt.datetime) -> list[StockState]: ...


@dataclass
class FeedReport:
    """One read of every feed: changes read, events queued, per feed."""

    read: dict[str, int] = field(default_factory=dict)
    queued: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        return ", ".join(f"{f} {self.read.get(f, 0)} read/{self.queued.get(f, 0)} queued" for f in self.read) or "-"


def local_now() -> dt.datetime:
    """Our clock in the ERP's terms: local time, no offset."""
    return dt.datetime.now()


def read_feeds(ctx: SyncContext, feeds: ChangeFeeds, *, overlap_seconds: float,
               now: Callable[[], dt.datetime] = local_now) -> FeedReport:
    report = FeedReport()
    overlap = dt.timedelta(seconds=overlap_seconds)
    for feed, (kind, event) in FEEDS.items():
        since = _since(ctx, feed, overlap, now)
        changes = feeds.feed_changes(feed, since)
        report.read[feed] = len(changes)
        report.queued[feed] = _queue_changed(ctx, feed, kind, event, changes)
        newest = max((c.modified_at for c in changes), default="")
        if newest > ctx.cursors.get(CURSOR.format(feed)):
            ctx.cursors.set(CURSOR.format(feed), newest)
    started = now()
    since = _since(ctx, STOCK_FEED, overlap, now)
    states = feeds.stock_changes(since)
    report.read[STOCK_FEED] = len(states)
    report.queued[STOCK_FEED] = _queue_stock(ctx, states)
    ctx.cursors.set(CURSOR.format(STOCK_FEED), started.isoformat(timespec="milliseconds"))
    if any(report.queued.values()):
        log.info("ERP change feeds: %s", report)
    return report


def _since(ctx: SyncContext, feed: str, overlap: dt.timedelta, now: Callable[[], dt.datetime]) -> dt.datetime:
    """Where a read of `feed` starts: its cursor less the overlap; the first read ever starts now (what
    changed before the sync ran is the initial import's and the catch-up's work, not the feed's)."""
    cursor = ctx.cursors.get(CURSOR.format(feed))
    if not cursor:
        start = now()
        ctx.cursors.set(CURSOR.format(feed), start.isoformat(timespec="milliseconds"))
        return start - overlap
    return dt.datetime.fromisoformat(cursor) - overlap


def _queue_changed(ctx: SyncContext, feed: str, kind: Kind, event: str, changes: Sequence[FeedChange]) -> int:
    """Queue an event for each record whose content differs from what the feed showed last."""
    latest: dict[int, FeedChange] = {}
    for c in changes:  # oldest first; a record changed twice in the window counts as its last state
        latest[c.id] = c
    if not latest:
        return 0
    seen = ctx.bindings.many(kind, list(latest))
    fresh = [c for c in latest.values()
             if c.id not in seen or seen[c.id].state.get("digest") != c.digest
             or bool(seen[c.id].state.get("deleted")) != c.deleted]
    if not fresh:
        return 0
    stamp = msg.now_ms()
    # Queued first, then remembered: a crash between the two queues the change again, never loses it.
    msg.enqueue(ctx.store, [msg.ErpEvent(event, c.id, stamp) for c in fresh])
    ctx.bindings.save([Binding(kind, c.id, None, {"digest": c.digest, "deleted": c.deleted,
                                                  "modified_at": c.modified_at}, 0) for c in fresh])
    log.debug("feed %s: %d changed (%s)", feed, len(fresh), ", ".join(str(c.id) for c in fresh[:20]))
    return len(fresh)


def _queue_stock(ctx: SyncContext, states: Sequence[StockState]) -> int:
    """Queue stock-changed for each product whose commercial stock over erp.warehouses differs from the last
    the feed showed (InventoryStates/Changes answers whole states per warehouse, not deltas)."""
    by_product: dict[int, dict[str, str]] = {}
    for s in states:
        by_product.setdefault(s.product_id, {})[str(s.warehouse_id)] = str(s.to_sale)
    if not by_product:
        return 0
    chosen = {str(w) for w in ctx.settings.erp.warehouses}
    seen = ctx.bindings.many(Kind.FEED_STOCK, list(by_product))
    remember: list[Binding] = []
    due: list[int] = []
    for pid, per_warehouse in by_product.items():
        before: dict[str, Any] = dict(seen[pid].state.get("warehouses", {})) if pid in seen else {}
        after = {**before, **per_warehouse}
        if after != before:
            remember.append(Binding(Kind.FEED_STOCK, pid, None, {"warehouses": after}, 0))
        if chosen.intersection(per_warehouse) and (pid not in seen or _total(before, chosen) != _total(after, chosen)):
            due.append(pid)  # another warehouse's move is remembered, and nothing goes to the shop
    if due:
        stamp = msg.now_ms()
        msg.enqueue(ctx.store, [msg.ErpEvent(STOCK_CHANGED, pid, stamp) for pid in due])
    if remember:
        ctx.bindings.save(remember)
    return len(due)


def _total(per_warehouse: dict[str, Any], chosen: set[str]) -> Decimal:
    return sum((Decimal(v) for w, v in per_warehouse.items() if w in chosen), Decimal(0))
