"""ERP -> shop: events become snapshots of ERP state, snapshots become shop updates.

Two steps, each a queue:
1. erp_events (from hooks): read the products and price lists they name, as they
   are now, and queue one snapshot per product in the outbox (coalesced per
   product, so 10,000 stock changes of 1,000 products are 1,000 messages).
2. outbox: compare each snapshot with the last state sent (the binding) and send
   only what changed, in as few shop calls as the shop allows. A snapshot older
   than what was already sent is dropped: a stale message never overwrites newer data.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from decimal import Decimal
from typing import Any, Iterable, Iterator, Sequence

from server.erp.errors import ErpNotFound
from server.queue.store import Message
from server.sync.binder import Binding
from server.sync.context import SyncContext
from server.sync.events import EVENTS
from server.sync.mappers import changed_fields, image_url, product_state, to_change
from shop_client.errors import ShopConfigError, ShopError, ShopNotFound, ShopRejected, ShopUnavailable
from shop_client.interface import CAP_PAIRING_STATUS, CAP_PRICE_LISTS, ProductChange

log = logging.getLogger(__name__)


# -- step 1: events -> snapshots ----------------------------------------------
def product_snapshots(ctx: SyncContext, product_ids: Iterable[int], *,
                      only_changed: bool = False) -> list[tuple[str, dict[str, Any], str, None]]:
    """Outbox items (kind, payload, entity key, request id) for products the shop should know of.

    A product is sent when it carries the marker, or when the shop already has it
    (so losing the marker hides it). `only_changed` skips products whose state
    equals what was last sent (the catch-up pass).
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
    on_the_way = ctx.store.waiting_keys("outbox", [f"product:{pid}" for pid in sorted(unsold)])
    items = []
    for pid in ids:
        p = products.get(pid)
        if pid in unsold and f"product:{pid}" not in on_the_way:
            continue  # never sent, and not to be sent: the marker gates everything
        state = product_state(p, stock.get(pid, Decimal(0)), images.get(pid), prices.get(pid, {}))
        if only_changed and pid in bound and not changed_fields(state, bound[pid].state):
            continue
        items.append(("product", {"erp_id": pid, "state": state, "read_at": read_at}, f"product:{pid}", None))
    return items


def price_list_changes(ctx: SyncContext, list_id: int) -> tuple[set[int], set[int], Binding]:
    """Products and contractors touched by a price list's change since it was last seen."""
    try:
        pl = ctx.erp.get_price_list(list_id)
        prices = {str(pid): format(price, "f") for pid, (price, _) in pl.prices.items()} if pl.active else {}
        whom = {"contractors": sorted(pl.contractors), "groups": sorted(pl.groups), "code": pl.code,
                "active": pl.active}
    except ErpNotFound:
        prices, whom = {}, {"contractors": [], "groups": [], "code": "", "active": False}
    old = ctx.binder.get("price_list", list_id)
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
    return products, contractors, Binding("price_list", list_id, None, state, time.time_ns())


def contractor_price_list_items(ctx: SyncContext,
                                contractor_ids: Iterable[int]) -> list[tuple[str, dict[str, Any], str, None]]:
    ids = sorted(set(contractor_ids))
    if not ids:
        return []
    codes = ctx.erp.price_list_codes_for_contractors(ids)
    return [("customer_prices", {"contractor_id": kid, "lists": codes.get(kid, [])}, f"contractor_prices:{kid}", None)
            for kid in ids]


def process_events(ctx: SyncContext, messages: Sequence[Message]) -> None:
    """Turn a batch of ERP events into outbox snapshots (one transaction), then ack them."""
    product_ids = {m.payload["erp_id"] for m in messages if EVENTS.get(m.payload.get("event")) == "product"}
    list_ids = sorted({m.payload["erp_id"] for m in messages if EVENTS.get(m.payload.get("event")) == "price_list"})
    contractors: set[int] = set()
    list_bindings = []
    for list_id in list_ids:
        products, kids, binding = price_list_changes(ctx, list_id)
        product_ids |= products
        contractors |= kids
        list_bindings.append(binding)
    items = product_snapshots(ctx, product_ids) + contractor_price_list_items(ctx, contractors)
    if items:
        ctx.store.enqueue_many("outbox", items)
    ctx.binder.save(list_bindings)
    ctx.store.ack(messages)
    log.debug("events %d -> outbox %d", len(messages), len(items))


# -- step 2: outbox -> shop ----------------------------------------------------
class Outcome:
    """Per-message results of one delivery batch, applied to the queue at the end."""

    def __init__(self) -> None:
        self.done: list[Message] = []
        self.failed: list[tuple[Message, str, bool]] = []
        self.unavailable: list[Message] = []
        self.unavailable_error: ShopUnavailable | None = None

    def ok(self, m: Message) -> None:
        self.done.append(m)

    def fail(self, m: Message, reason: str, retryable: bool) -> None:
        self.failed.append((m, reason, retryable))

    def apply(self, ctx: SyncContext) -> None:
        ctx.store.ack(self.done)
        for m, reason, retryable in self.failed:
            ctx.store.fail(m, reason, retryable=retryable)


class ShopDown(ShopUnavailable):
    """The shop did not take a whole batch; `messages` are settled by the worker (see runtime)."""

    def __init__(self, cause: ShopUnavailable, messages: list[Message]) -> None:
        super().__init__(str(cause), status=cause.status, code=cause.code, retry_after=cause.retry_after)
        self.messages = messages


def _shop_failure(out: Outcome, msgs: Iterable[Message], exc: ShopError) -> None:
    if isinstance(exc, ShopUnavailable):
        out.unavailable += list(msgs)
        out.unavailable_error = exc
        return
    if isinstance(exc, ShopConfigError):
        # Keys, permissions or the URL: a setting to fix, never a reason to drop the changes.
        # The worker pauses delivery and keeps every message (see runtime.QueueWorker).
        raise exc
    for m in msgs:
        out.fail(m, str(exc), False)


def deliver_products(ctx: SyncContext, messages: Sequence[Message], out: Outcome) -> None:
    bindings = ctx.binder.many("product", [m.payload["erp_id"] for m in messages])
    plans: list[tuple[Message, dict[str, Any], dict[str, Any], Binding | None]] = []
    for m in messages:
        pid, state, read_at = m.payload["erp_id"], m.payload["state"], int(m.payload["read_at"])
        b = bindings.get(pid)
        if b is not None and b.state_time >= read_at:
            out.ok(m)  # stale: newer data was already sent
            continue
        if b is None and not state.get("published"):
            out.ok(m)  # a hidden product the shop never had: nothing to do
            continue
        fields = changed_fields(state, b.state if b else None)
        plans.append((m, state, fields, b))
    if not plans:
        return
    planned = []
    unsupported = [] if CAP_PRICE_LISTS in ctx.shop.capabilities else ["price_lists"]
    for m, state, fields, b in plans:
        sku = state.get("sku") or (b.state.get("sku") if b else "") or ""
        sendable = {k: v for k, v in fields.items() if k not in unsupported}
        change = to_change(sku, b.shop_id if b else None, sendable)
        if b is None and change is not None and state.get("image"):
            # An image known at creation goes into the create itself: no second call per product.
            url = image_url(ctx.public_url, m.payload["erp_id"], state["image"], state.get("image_type"))
            change = ProductChange(change.sku, {**change.fields, "image_url": url}, None)
        planned.append((m, state, fields, b, sku, change))
    changes = [p[5] for p in planned if p[5] is not None]
    try:
        results = iter(ctx.shop.upsert_products(changes) if changes else [])
    except ShopError as exc:
        _shop_failure(out, [p[0] for p in plans], exc)
        return
    saved: list[Binding] = []
    for m, state, fields, b, sku, change in planned:
        pid, read_at = m.payload["erp_id"], int(m.payload["read_at"])
        shop_id = b.shop_id if b else None
        if change is not None:
            res = next(results)
            if not res.ok:
                if b is not None and "Invalid ID" in res.error:
                    # Deleted in the shop by a person: forget the binding; the retry creates it again.
                    saved.append(Binding("product", pid, None, {}, 0))
                    out.fail(m, f"product {sku} was deleted in the shop; creating it again", True)
                    continue
                out.fail(m, f"product {sku}: {res.error}", res.retryable)
                continue
            shop_id = res.shop_id
        sent_state = dict(state)
        if b is not None and "shop_images" in b.state:
            sent_state["shop_images"] = b.state["shop_images"]
        if change is not None and res.image_error:
            # Saved without its image: remember no image sent, so the next pass tries the image alone.
            log.warning("product %s saved without its image: %s", sku, res.image_error)
            sent_state["image"] = sent_state["image_type"] = None
        if change is not None and res.image_src:
            sent_state["shop_images"] = _remember_image(b, res.image_src)
        if "image" in fields and shop_id is not None and b is not None:  # a create already carried it
            try:
                url = image_url(ctx.public_url, pid, state["image"], state.get("image_type")) \
                    if state.get("image") else None
                src = ctx.shop.set_main_image(shop_id, url, name=sku)
                if src:
                    sent_state["shop_images"] = _remember_image(b, src)
            except ShopError as exc:
                # The product is up to date; keep the old image fields so the image is tried again.
                sent_state["image"] = b.state.get("image") if b else None
                sent_state["image_type"] = b.state.get("image_type") if b else None
                saved.append(Binding("product", pid, shop_id, sent_state, read_at - 1))
                if isinstance(exc, ShopConfigError):
                    raise
                out.fail(m, f"product {sku}: image: {exc}", not isinstance(exc, ShopRejected))
                continue
        saved.append(Binding("product", pid, shop_id, sent_state, read_at))
        out.ok(m)
    ctx.binder.save(saved)


def _remember_image(b: Binding | None, src: str) -> list[str]:
    """The shop's copies of images we sent, newest last (a few): a shop event showing one of
    them is our own change coming back, not a person's new image."""
    known = [s for s in (b.state.get("shop_images", []) if b else []) if s != src]
    return (known + [src])[-5:]


def _unsupported(ctx: SyncContext, capability: str, what: str, messages: Sequence[Message], out: Outcome) -> bool:
    """True (and the messages settled) when the shop cannot hold this kind of data."""
    if capability in ctx.shop.capabilities:
        return False
    log.warning("%d %s not sent: this shop (%s) cannot hold them; see `shopsync customers list`",
                len(messages), what, type(ctx.shop).__name__)
    for m in messages:
        out.ok(m)
    return True


def deliver_customer_statuses(ctx: SyncContext, messages: Sequence[Message], out: Outcome) -> None:
    if _unsupported(ctx, CAP_PAIRING_STATUS, "pairing statuses", messages, out):
        return
    try:
        results = ctx.shop.set_customer_pairing([(m.payload["shop_customer_id"], m.payload["status"])
                                                 for m in messages])
    except ShopError as exc:
        _shop_failure(out, messages, exc)
        return
    for m, res in zip(messages, results):
        if res.ok or "Invalid" in res.error:  # a customer deleted in the shop needs no status
            out.ok(m)
        else:
            out.fail(m, f"customer {m.payload['shop_customer_id']}: {res.error}", res.retryable)


def deliver_customer_prices(ctx: SyncContext, messages: Sequence[Message], out: Outcome) -> None:
    if _unsupported(ctx, CAP_PRICE_LISTS, "customer price-list assignments", messages, out):
        return
    updates, owners = [], []
    for m in messages:
        customers = ctx.binder.customers_of_contractor(m.payload["contractor_id"])
        for cid in customers:
            updates.append((cid, m.payload["lists"]))
            owners.append(m)
        if not customers:
            out.ok(m)  # nobody in the shop is this contractor yet; pairing will send it
    if not updates:
        return
    try:
        results = ctx.shop.set_customer_price_lists(updates)
    except ShopError as exc:
        _shop_failure(out, {id(m): m for m in owners}.values(), exc)
        return
    failed = {}
    for m, res in zip(owners, results):
        if not res.ok and "Invalid" not in res.error:
            failed[id(m)] = (m, res)
    for m in {id(m): m for m in owners}.values():
        if id(m) in failed:
            out.fail(m, f"contractor {m.payload['contractor_id']} price lists: {failed[id(m)][1].error}",
                     failed[id(m)][1].retryable)
        else:
            out.ok(m)


def deliver_outbox(ctx: SyncContext, messages: Sequence[Message]) -> None:
    """Send one claimed batch to the shop and settle every message."""
    out = Outcome()
    by_kind: dict[str, list[Message]] = {}
    for m in messages:
        by_kind.setdefault(m.kind, []).append(m)
    handlers = {"product": deliver_products, "customer_status": deliver_customer_statuses,
                "customer_prices": deliver_customer_prices}
    for kind, msgs in by_kind.items():
        handler = handlers.get(kind)
        if handler is None:
            for m in msgs:
                out.fail(m, f"unknown outbox message kind {kind!r}", False)
            continue
        try:
            handler(ctx, msgs, out)
        except ShopNotFound as exc:
            for m in msgs:
                out.fail(m, str(exc), False)
    out.apply(ctx)
    if out.unavailable and out.unavailable_error is not None:
        raise ShopDown(out.unavailable_error, out.unavailable)


def _all_ids(fetch: Any, page: int) -> list[int]:
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
    marked = _all_ids(lambda after, n: ctx.erp.marked_product_ids(after_id=after, limit=n), page)
    bound = _all_ids(lambda after, n: ctx.binder.ids("product", after_erp_id=after, limit=n), page)
    ids = sorted(set(marked) | set(bound))
    queued = 0
    for start in range(0, len(ids), page):
        items = product_snapshots(ctx, ids[start:start + page], only_changed=True)
        if items:
            ctx.store.enqueue_many("outbox", items)
        queued += len(items)
        yield {"checked": min(start + page, len(ids)), "queued": queued, "total": len(ids), "done": False}
    for list_id in ctx.erp.price_list_ids():
        products, contractors, binding = price_list_changes(ctx, list_id)
        items = product_snapshots(ctx, products, only_changed=True) + contractor_price_list_items(ctx, contractors)
        if items:
            ctx.store.enqueue_many("outbox", items)
            queued += len(items)
        ctx.binder.save([binding])
    yield {"checked": len(ids), "queued": queued, "total": len(ids), "done": True}
