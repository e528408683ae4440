"""What a person does to the sync, whichever door they use (the gRPC API or the console): one
implementation each, every one logged with who did it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from .queue.bindings import Binding, Kind
from .queue.pairings import Pairing
from .queue.store import QueueStore
from .sync import customers, messages as msg, money
from .sync.context import SyncContext
from .sync.products import product_snapshots

log = logging.getLogger("shopsync.actions")


def retry_dead_letter(store: QueueStore, dead_id: int, *, actor: str) -> int:
    """Queue a dead letter again (at the end of its queue, attempts from zero); its new message id."""
    new_id = store.retry_dead(dead_id)
    log.info("dead letter %s queued again as message %s by %s", dead_id, new_id, actor)
    return new_id


def discard_dead_letter(store: QueueStore, dead_id: int, *, actor: str) -> None:
    store.discard_dead(dead_id)
    log.info("dead letter %s discarded by %s", dead_id, actor)


def pair_customer(ctx: SyncContext, shop_customer_id: int, contractor_id: int, *, actor: str) -> Pairing:
    p = customers.pair_by_hand(ctx, shop_customer_id, contractor_id)
    log.info("shop customer %s paired with ERP contractor %s by %s", shop_customer_id, contractor_id, actor)
    return p


def unpair_customer(ctx: SyncContext, shop_customer_id: int, *, actor: str) -> Pairing:
    p = customers.unpair(ctx, shop_customer_id)
    log.info("shop customer %s unpaired by %s", shop_customer_id, actor)
    return p


def send_product_again(ctx: SyncContext, product_id: int, *, actor: str) -> bool:
    """Send every field of a product to the shop again (what was sent is forgotten, the shop id kept).
    False when the ERP has no such product or it is not one the shop should have."""
    b = ctx.bindings.get(Kind.PRODUCT, product_id)
    if b is not None:
        kept = {k: v for k, v in b.state.items() if k in ("shop_images", "shop_media")}
        ctx.bindings.save([Binding(Kind.PRODUCT, product_id, b.shop_id, kept, 0)])
    snapshots = product_snapshots(ctx, [product_id])
    msg.enqueue(ctx.store, snapshots)
    log.info("product %s sent to the shop again by %s (%s)", product_id, actor,
             "queued" if snapshots else "not sold online: nothing to send")
    return bool(snapshots)


def start_reconciliation(rt: Any, *, actor: str) -> bool:
    """Start a reconciliation pass in the background (progress in rt.activity); False when one runs."""
    from .sync import reconcile

    if not rt.activity.pass_started("reconciliation", by=actor):
        return False
    log.info("reconciliation started by %s", actor)

    def run() -> None:
        try:
            for progress in reconcile.reconcile_pass(rt.ctx):
                rt.activity.pass_progress("reconciliation", progress)
        except Exception as exc:  # noqa: BLE001 - a pass that fails is reported, never kills the server
            log.warning("reconciliation failed: %s", exc)
            rt.activity.pass_failed("reconciliation", f"{type(exc).__name__}: {exc}")

    threading.Thread(target=run, name="reconciliation", daemon=True).start()
    return True


def refund_corrected_by_hand(ctx: SyncContext, erp_order_id: int, refund_id: int, *, actor: str) -> bool:
    done = money.refund_corrected_by_hand(ctx, erp_order_id, refund_id)
    if done:
        log.info("refund %s of ERP order %s marked corrected by hand in Symfonia by %s", refund_id, erp_order_id,
                 actor)
    return done
