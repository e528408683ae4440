"""Products, ERP -> shop: the whole journey of a product in one place.

1. ErpEventReader (queue erp_events): an event only names what changed; read the
   products (and price lists) it names as they are now, and queue one
   ProductSnapshot per product (coalesced per product, so 10,000 stock changes of
   1,000 products are 1,000 messages).
2. ProductExport (outbox `product`): compare each snapshot with the last state sent
   (the binding) and send only what changed, in as few shop calls as the shop
   allows. A snapshot older than what was already sent is dropped: a stale message
   never overwrites newer data.
3. catch_up_pass: the safety net for missed hooks; snapshots of every product
   whose ERP state differs from what the shop was sent.

The marker gates everything: a product is sent when it carries the marker, or when
the shop already has it (so losing the marker hides it).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from decimal import Decimal
from typing import Any, Iterable, Iterator, Sequence

from server.sync import messages as msg
from server.sync.binder import Binding
from server.sync.context import SyncContext
from server.sync.mappers import changed_fields, image_url, product_state, to_change
from server.sync.orders import order_progress_messages
from server.sync.outcome import Outcome
from server.sync.price_lists import contractor_prices, price_list_changes
from shop_client.errors import ShopError
from shop_client.interface import CAP_IMAGE_UPLOAD, CAP_PRICE_LISTS, ITEM_GONE, ImageRef, ProductChange

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
    bound = ctx.binder.many("product", ids)
    # A product not in the shop yet may still be on its way there (its first snapshot
    # waits in the outbox, e.g. while the shop is down): losing the marker must reach it too.
    unsold = {pid for pid in ids if pid not in bound and not getattr(products.get(pid), "marked", False)}
    on_the_way = ctx.store.waiting_keys("outbox", [msg.ProductSnapshot(pid, {}, 0).key for pid in sorted(unsold)])
    out = []
    for pid in ids:
        snapshot = msg.ProductSnapshot(pid, product_state(products.get(pid), stock.get(pid, Decimal(0)),
                                                          images.get(pid), prices.get(pid, {})), read_at)
        if pid in unsold and snapshot.key not in on_the_way:
            continue  # never sent, and not to be sent: the marker gates everything
        if only_changed and pid in bound and not changed_fields(snapshot.state, bound[pid].state):
            continue
        out.append(snapshot)
    return out


class ErpEventReader:
    """erp_events -> outbox: read what the events name, queue snapshots (one commit), done."""

    def handle(self, ctx: SyncContext, batch: Sequence[msg.ErpEvent]) -> list[Outcome]:
        ids: dict[str, set[int]] = {}
        for e in batch:
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
        ctx.binder.save(list_bindings)
        log.debug("events %d -> outbox %d", len(batch), len(out))
        return [Outcome.done()] * len(batch)


class ProductExport:
    """outbox `product` -> the shop: only what changed since the last state sent, in batches."""

    def handle(self, ctx: SyncContext, batch: Sequence[msg.ProductSnapshot]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(batch)
        bindings = ctx.binder.many("product", [s.erp_id for s in batch])
        unsupported = set() if CAP_PRICE_LISTS in ctx.shop.capabilities else {"price_lists"}
        plans = []  # (index, snapshot, changed fields, binding, sku, change or None)
        for i, s in enumerate(batch):
            b = bindings.get(s.erp_id)
            if b is not None and b.state_time >= s.read_at:
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
        changes = [p[5] for p in plans if p[5] is not None]
        try:
            results = iter(ctx.shop.upsert_products(changes) if changes else [])
        except ShopError as exc:
            for i, *_ in plans:
                outcomes[i] = Outcome.of_shop_error(exc)
            return _filled(outcomes)
        saved: list[Binding] = []
        for i, s, fields, b, sku, change in plans:
            shop_id = b.shop_id if b else None
            sent = dict(s.state)
            for kept in ("shop_images", "shop_media"):
                if b is not None and kept in b.state:
                    sent[kept] = b.state[kept]
            if change is not None:
                res = next(results)
                if res.kind == ITEM_GONE and shop_id is not None:
                    # Deleted in the shop by a person: forget the binding; the retry creates it again.
                    saved.append(Binding("product", s.erp_id, None, {}, 0))
                    outcomes[i] = Outcome.retry(f"product {sku} was deleted in the shop; creating it again")
                    continue
                if not res.ok:
                    outcomes[i] = (Outcome.retry if res.retryable else Outcome.dead)(f"product {sku}: {res.error}")
                    continue
                shop_id = res.shop_id
                if res.image_error:
                    # Saved without its image: remember no image sent, so the next pass tries the image alone.
                    log.warning("product %s saved without its image: %s", sku, res.image_error)
                    sent["image"] = sent["image_type"] = None
                if res.image_src:
                    sent["shop_images"] = remember_image(b, res.image_src)
                if res.image_media_id and change.fields.get("image") is not None and change.fields["image"].data:
                    sent["shop_media"] = [res.image_media_id]  # uploaded by us: ours to delete when replaced
            created_now = change is not None and change.shop_id is None  # the create carried the image
            if "image" in fields and shop_id is not None and not created_now:
                try:
                    image = image_for_shop(ctx, s) if s.state.get("image") else None
                    ours = b.state.get("shop_media", []) if b else []
                    res = ctx.shop.set_main_image(shop_id, image, name=sku, discard_media=ours)
                    if res.image_src:
                        sent["shop_images"] = remember_image(b, res.image_src)
                    sent["shop_media"] = [res.image_media_id] if res.image_media_id and image and image.data else []
                except ShopError as exc:
                    # The product is up to date; keep the old image fields so the image is tried again.
                    sent["image"] = b.state.get("image") if b else None
                    sent["image_type"] = b.state.get("image_type") if b else None
                    saved.append(Binding("product", s.erp_id, shop_id, sent, s.read_at - 1))
                    outcomes[i] = Outcome.of_shop_error(exc, f"product {sku}: image: ")
                    continue
            saved.append(Binding("product", s.erp_id, shop_id, sent, s.read_at))
            outcomes[i] = Outcome.done()
        ctx.binder.save(saved)
        return _filled(outcomes)


def stock_drift(ctx: SyncContext, page: int = 1000) -> set[int]:
    """Products the shop has whose ERP commercial stock differs from what the shop was last sent
    (one stock read per page of bound products: cheap, unlike a whole catch-up)."""
    out: set[int] = set()
    for ids in in_pages(all_ids(lambda after, n: ctx.binder.ids("product", after_erp_id=after, limit=n), page), page):
        bound = ctx.binder.many("product", ids)
        stock = ctx.erp.commercial_stock(ids)
        for pid, b in bound.items():
            sent = b.state.get("stock")
            if sent is not None and Decimal(sent) != max(Decimal(0), stock.get(pid, Decimal(0))):
                out.add(pid)
    return out


def in_pages(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def image_mode(ctx: SyncContext) -> str:
    """"upload" or "url": shop.image_mode, with "auto" resolved by what the shop takes."""
    mode = ctx.settings.shop.image_mode
    if mode == "auto":
        return "upload" if CAP_IMAGE_UPLOAD in ctx.shop.capabilities else "url"
    return mode


def image_for_shop(ctx: SyncContext, s: msg.ProductSnapshot) -> ImageRef | None:
    """The product's main image as the shop takes it: its bytes (upload), or our image URL (pull)."""
    name = f"{s.state.get('sku') or s.erp_id}"
    ctype = s.state.get("image_type") or "application/octet-stream"
    if image_mode(ctx) == "upload":
        img = ctx.erp.get_image(s.erp_id)
        if img is None:
            return None  # deleted in the ERP since the snapshot: the next snapshot removes it
        return ImageRef(filename=img.filename or name, content_type=img.content_type, data=img.data)
    ext = image_url(ctx.public_url, s.erp_id, s.state["image"], ctype)
    return ImageRef(filename=name, content_type=ctype, url=ext)


def remember_image(b: Binding | None, src: str) -> list[str]:
    """The shop's copies of images we sent, newest last (a few): a shop event showing one of
    them is our own change coming back, not a person's new image."""
    known = [s for s in (b.state.get("shop_images", []) if b else []) if s != src]
    return (known + [src])[-5:]


def _filled(outcomes: list[Outcome | None]) -> list[Outcome]:
    return [o if o is not None else Outcome.retry("not handled (a bug): tried again") for o in outcomes]


# -- catch-up ------------------------------------------------------------------------
def all_ids(fetch: Any, page: int) -> list[int]:
    ids, after = [], 0
    while chunk := fetch(after, page):
        ids += chunk
        after = chunk[-1]
    return ids


def catch_up(ctx: SyncContext, page: int = 500) -> tuple[int, int]:
    """The whole catch-up pass; returns (products checked, products queued)."""
    last = deque(catch_up_pass(ctx, page), maxlen=1)[0]
    return last["checked"], last["queued"]


def catch_up_pass(ctx: SyncContext, page: int = 500) -> Iterator[dict[str, Any]]:
    """Queue every marked or bound product whose ERP state differs from what was sent.

    Bound products that lost the marker (or vanished from the ERP) are checked too,
    so they get hidden. Yields progress after each page ({checked, queued, total,
    done}); the last has done = True.
    """
    marked = all_ids(lambda after, n: ctx.erp.marked_product_ids(after_id=after, limit=n), page)
    bound = all_ids(lambda after, n: ctx.binder.ids("product", after_erp_id=after, limit=n), page)
    ids = sorted(set(marked) | set(bound))
    queued = 0
    for start in range(0, len(ids), page):
        snapshots = product_snapshots(ctx, ids[start:start + page], only_changed=True)
        msg.enqueue(ctx.store, snapshots)
        queued += len(snapshots)
        yield {"checked": min(start + page, len(ids)), "queued": queued, "total": len(ids), "done": False}
    for list_id in ctx.erp.price_list_ids():
        products, contractors, binding = price_list_changes(ctx, list_id)
        items: list[msg.QueueMessage] = [*product_snapshots(ctx, products, only_changed=True),
                                         *contractor_prices(ctx, contractors)]
        msg.enqueue(ctx.store, items)
        queued += len(items)
        ctx.binder.save([binding])
    # The shop's orders: whatever the ERP did to them since (a missed hook is caught here).
    orders = all_ids(lambda after, n: ctx.binder.ids("order", after_erp_id=after, limit=n), page)
    for start in range(0, len(orders), page):
        progress = order_progress_messages(ctx, orders[start:start + page], only_changed=True)
        msg.enqueue(ctx.store, progress)
        queued += len(progress)
    yield {"checked": len(ids), "queued": queued, "total": len(ids), "done": True}
