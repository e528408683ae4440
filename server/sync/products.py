"""Products, ERP -> shop: what the shop should show of each ERP product, and sending it.

1. product_snapshots: the products named (by an ERP event, the catch-up or the
   reconciliation) as the ERP holds them now, one ProductSnapshot each.
2. ProductExport (outbox `product`): compare each snapshot with the last state sent
   (the binding) and send only what changed, in as few shop calls as the shop
   allows. A snapshot older than what was already sent is dropped: a stale message
   never overwrites newer data.

The marker gates everything: a product is sent when it carries the marker, or when
the shop already has it (so losing the marker hides it). Which products an ERP event
touches is decided in fanout.py; images in product_images.py.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import Iterable, Iterator, Sequence

from shop_client.errors import ShopError
from shop_client.interface import CAP_PRICE_LISTS, ITEM_GONE, ProductChange

from ..queue.bindings import Binding, Kind
from . import messages as msg
from .context import SyncContext
from .mappers import changed_fields, product_state, to_change
from .outcome import Outcome, outcome_of, outcome_of_item
from .families import add_family_states, export_families
from .product_images import image_for_shop, settle_image

log = logging.getLogger(__name__)
CONFLICT = "conflict"  # binding state key: why the shop's product is left alone, for a person


def product_snapshots(ctx: SyncContext, product_ids: Iterable[int], *,
                      only_changed: bool = False) -> list[msg.ProductSnapshot]:
    """Snapshots of the products the shop should know of, as the ERP holds them now.

    `only_changed` skips products whose state equals what was last sent (catch-up).
    """
    ids = sorted({int(i) for i in product_ids})
    if not ids:
        return []
    read_at = time.time_ns()
    products = ctx.erp.get_products(ids)
    stock = ctx.erp.commercial_stock(ids)
    images = ctx.erp.image_digests(ids)
    prices = ctx.erp.prices_for_products(ids)
    bound = ctx.bindings.many(Kind.PRODUCT, ids)
    # A product not in the shop yet may still be on its way there (its first snapshot
    # waits in the outbox, e.g. while the shop is down): losing the marker must reach it too.
    unsold = {pid for pid in ids if pid not in bound and not getattr(products.get(pid), "marked", False)}
    on_the_way = ctx.store.waiting_keys("outbox", [msg.ProductSnapshot(pid, {}, 0).key for pid in sorted(unsold)])
    states = {pid: product_state(products.get(pid), stock.get(pid, Decimal(0)), images.get(pid),
                                 prices.get(pid, {})) for pid in ids}
    # never sent, and not to be sent: the marker gates everything
    skipped = {pid for pid in unsold if msg.ProductSnapshot(pid, {}, 0).key not in on_the_way}
    add_family_states(ctx, {pid: st for pid, st in states.items() if pid not in skipped}, products)
    out = []
    for pid in ids:
        snapshot = msg.ProductSnapshot(pid, states[pid], read_at)
        if pid in skipped:
            continue
        if only_changed and pid in bound and not changed_fields(snapshot.state, bound[pid].state):
            continue
        out.append(snapshot)
    return out


class ProductExport:
    """outbox `product` -> the shop: only what changed since the last state sent, in batches."""

    def handle(self, ctx: SyncContext, batch: Sequence[msg.ProductSnapshot]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(batch)
        bindings = ctx.bindings.many(Kind.PRODUCT, [s.erp_id for s in batch])
        unsupported = set() if CAP_PRICE_LISTS in ctx.shop.capabilities else {"price_lists"}
        plans = []  # (index, snapshot, changed fields, binding, sku, change or None)
        members = []  # a family's cards (or ones that were): variations of a variable product (families.py)
        for i, s in enumerate(batch):
            b = bindings.get(s.erp_id)
            if s.state.get("family") or (b is not None and b.state.get("family")):
                members.append((i, s, b))
                continue
            if b is not None and b.state_time >= s.read_at:
                log.debug("product %s: snapshot read %d is older than what was sent (%d): skipped", s.erp_id,
                          s.read_at, b.state_time)
                outcomes[i] = Outcome.done()  # stale: newer data was already sent
                continue
            if b is not None and CONFLICT in b.state:
                # Trashed or deleted in the shop by a person, reported (sync.removed_in_shop = "report"):
                # left alone until a person restores it there (the next reconciliation sees it back).
                log.debug("product %s left alone: %s", s.erp_id, b.state[CONFLICT])
                outcomes[i] = Outcome.done()
                continue
            if (b is None or b.shop_id is None and not b.state) and not s.state.get("published"):
                outcomes[i] = Outcome.done()  # a hidden product the shop never had: nothing to do
                continue
            fields = changed_fields(s.state, b.state if b else None)
            sku = s.state.get("sku") or (b.state.get("sku") if b else "") or ""
            change = to_change(sku, b.shop_id if b else None, {k: v for k, v in fields.items()
                                                                 if k not in unsupported})
            if change is not None and change.shop_id is None and s.state.get("image"):
                # An image known at creation goes into the create itself: no second call per product.
                image = image_for_shop(ctx, s)
                if image is not None:
                    change = ProductChange(change.sku, {**change.fields, "image": image}, None)
            plans.append((i, s, fields, b, sku, change))
        if members:
            for i, outcome in export_families(ctx, members).items():
                outcomes[i] = outcome
        changes = [p[5] for p in plans if p[5] is not None]
        for _, s, fields, b, sku, change in plans:
            if change is not None:
                log.debug("product %s (%s) -> shop %s: %s (read %d, last sent %s)", s.erp_id, sku,
                          change.shop_id or "new", ", ".join(sorted(change.fields)), s.read_at,
                          b.state_time if b else "never")
        try:
            results = iter(ctx.shop.upsert_products(changes) if changes else [])
        except ShopError as exc:
            for i, *_ in plans:
                outcomes[i] = outcome_of(exc)
            return _filled(outcomes)
        saved: list[Binding] = []
        for i, s, fields, b, sku, change in plans:
            shop_id = b.shop_id if b else None
            sent = dict(s.state)
            for kept in ("shop_images", "shop_media"):
                if b is not None and kept in b.state:
                    sent[kept] = b.state[kept]
            res = next(results) if change is not None else None
            if res is not None and res.kind == ITEM_GONE and shop_id is not None:
                # Deleted in the shop by a person: forget the binding; the retry creates it again.
                saved.append(Binding(Kind.PRODUCT, s.erp_id, None, {}, 0))
                outcomes[i] = Outcome.retry(f"product {sku} was deleted in the shop; creating it again")
                continue
            if res is not None and not res.ok:
                outcomes[i] = outcome_of_item(res, ("product", sku))
                continue
            shop_id = res.shop_id if res is not None else shop_id
            image = change.fields.get("image") if change is not None else None
            failed = settle_image(ctx, s, b, shop_id, res, sent,  # type: ignore[arg-type]
                                  created=change is not None and change.shop_id is None,
                                  uploaded=bool(image is not None and image.data), image_changed="image" in fields)
            if failed is not None:
                saved.append(Binding(Kind.PRODUCT, s.erp_id, shop_id, sent, s.read_at - 1))
                outcomes[i] = failed
                continue
            saved.append(Binding(Kind.PRODUCT, s.erp_id, shop_id, sent, s.read_at))
            outcomes[i] = Outcome.done()
        ctx.bindings.save(saved)
        return _filled(outcomes)


def stock_drift(ctx: SyncContext, page: int = 1000) -> set[int]:
    """Products the shop has whose ERP commercial stock differs from what the shop was last sent
    (one stock read per page of bound products: cheap, unlike a whole catch-up)."""
    out: set[int] = set()
    for ids in in_pages(ctx.bindings.all_ids(Kind.PRODUCT, page), page):
        bound = ctx.bindings.many(Kind.PRODUCT, ids)
        stock = ctx.erp.commercial_stock(ids)
        for pid, b in bound.items():
            sent = b.state.get("stock")
            if sent is not None and Decimal(sent) != max(Decimal(0), stock.get(pid, Decimal(0))):
                out.add(pid)
    return out


def in_pages(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _filled(outcomes: list[Outcome | None]) -> list[Outcome]:
    return [o if o is not None else Outcome.retry("not handled (a bug): tried again") for o in outcomes]


