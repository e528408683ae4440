"""The catch-up pass: the safety net for missed ERP events, across entities.

Queues a snapshot of every marked or bound product whose ERP state differs from what
the shop was sent, the contractors of changed price lists, and the progress of the
shop's orders that changed in the ERP since it was last sent.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Iterator

from ..queue.bindings import Kind
from . import messages as msg
from .context import SyncContext
from .orders import order_progress_messages
from .price_lists import contractor_prices, price_list_changes
from .products import in_pages, product_snapshots


def catch_up(ctx: SyncContext, page: int | None = None) -> tuple[int, int]:
    """The whole catch-up pass; returns (products checked, products queued)."""
    last = deque(catch_up_pass(ctx, page), maxlen=1)[0]
    return last["checked"], last["queued"]


def marked_ids(ctx: SyncContext, page: int) -> list[int]:
    ids: list[int] = []
    while chunk := ctx.erp.marked_product_ids(after_id=ids[-1] if ids else 0, limit=page):
        ids += chunk
    return ids


def catch_up_pass(ctx: SyncContext, page: int | None = None) -> Iterator[dict[str, Any]]:
    """Queue every marked or bound product whose ERP state differs from what was sent.

    Bound products that lost the marker (or vanished from the ERP) are checked too,
    so they get hidden. Yields progress after each page ({checked, queued, total,
    done}); the last has done = True. A page is as many products as the ERP reads
    best at once (`read_page_size`: the WebAPI reads every card in one list call).
    """
    page = page or ctx.erp.read_page_size
    ids = sorted(set(marked_ids(ctx, page)) | set(ctx.bindings.all_ids(Kind.PRODUCT, page)))
    queued = 0
    for n, chunk in enumerate(in_pages(ids, page), start=1):
        snapshots = product_snapshots(ctx, chunk, only_changed=True)
        msg.enqueue(ctx.store, snapshots)
        queued += len(snapshots)
        yield {"checked": min(n * page, len(ids)), "queued": queued, "total": len(ids), "done": False}
    for list_id in ctx.erp.price_list_ids():
        products, contractors, binding = price_list_changes(ctx, list_id)
        items: list[msg.QueueMessage] = [*product_snapshots(ctx, products, only_changed=True),
                                         *contractor_prices(ctx, contractors)]
        msg.enqueue(ctx.store, items)
        queued += len(items)
        ctx.bindings.save([binding])
    # The shop's orders: whatever the ERP did to them since (a missed hook is caught here).
    for chunk in in_pages(ctx.bindings.all_ids(Kind.ORDER, page), page):
        progress = order_progress_messages(ctx, chunk, only_changed=True)
        msg.enqueue(ctx.store, progress)
        queued += len(progress)
    yield {"checked": len(ids), "queued": queued, "total": len(ids), "done": True}
