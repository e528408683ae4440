"""Reconciliation: what the shop really holds, compared with the ERP, and corrected.

The export trusts what it last sent (the binding); a change made in the shop behind
its back (stock edited by hand, an order cancelled that gave stock back, a product
trashed by a person, an image removed) leaves the two sides different. This pass
reads every product the shop has, in pages, compares it with the ERP's state now,
and for each difference records in the binding what the shop really holds, so the
normal export sends exactly the fields that differ, in batches. A second pass right
after finds nothing to correct.

Products bound to the ERP that the shop no longer lists were deleted or trashed by a
person: a product the ERP sells online is recreated (or restored), or reported for a
person, as `sync.removed_in_shop` says; a hidden product deleted in the shop stays
deleted. A reported product is not updated until a person restores it in the shop.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from decimal import Decimal
from typing import Any, Iterator

from . import messages as msg
from ..queue.bindings import Binding, Kind
from ..reasons import Reason
from .context import SyncContext
from .families import family_description, family_states, parent_of, variation_view
from .products import CONFLICT, in_pages, product_snapshots
from shop_client.errors import ShopNotFound
from shop_client.interface import CAP_VARIATIONS, VARIABLE, VARIATION, ShopProduct

log = logging.getLogger(__name__)


def _shop_state(p: ShopProduct) -> dict[str, Any]:
    """The shop's product in the binding's terms (only the fields the shop shows us)."""
    return {"name": p.name, "price": _num(p.price), "description": p.description,
            "category_path": list(p.category_path), "published": p.published,
            "stock": _num(p.stock) if p.stock is not None else None}


def _num(v: Decimal | None) -> str | None:
    return None if v is None else format(Decimal(v).normalize(), "f")


def _differs(key: str, want: Any, have: Any) -> bool:
    if key in ("price", "stock"):
        return (Decimal(want) if want is not None else None) != (Decimal(have) if have is not None else None)
    if key in ("name", "description"):
        return (want or "").strip() != (have or "").strip()
    return want != have


def reconcile(ctx: SyncContext) -> dict[str, Any]:
    """The whole pass; returns its last progress report."""
    return deque(reconcile_pass(ctx), maxlen=1)[0]


def reconcile_pass(ctx: SyncContext) -> Iterator[dict[str, Any]]:
    """Yields progress page by page: {read, total, checked, corrections {kind: n}, conflicts [text],
    conflicts_why [coded reasons, server/reasons.py], done}. `read` of `total` are the shop's products read so
    far; `checked` those of them paired with an ERP product, compared (the rest are the shop's own)."""
    corrections: Counter[str] = Counter()
    conflicts: list[str] = []
    conflicts_why: list[dict[str, Any]] = []
    checked = total = read = 0
    descriptions: dict[str, str] = {}  # a family's description as last sent, for its variations
    listed: set[int] = set()
    for page in ctx.shop.iter_products():
        total = page.total or total
        read += len(page.items)
        # A variable product's variations are each a card's (families.py): read and compared as products are.
        items = list(page.items)
        variable = [p for p in page.items if p.kind == VARIABLE]
        if variable and CAP_VARIATIONS in ctx.shop.capabilities:
            for p in variable:
                items += ctx.shop.iter_variations(p.id)
        bound = ctx.bindings.by_shop_ids(Kind.PRODUCT, [p.id for p in items])
        wanted = {s.erp_id: s for s in product_snapshots(ctx, [b.erp_id for b in bound.values()])}
        fixes, resend = [], []
        family_fixes = _families(ctx, variable, corrections)
        for fb in family_fixes:
            fixes.append(fb)
            members = ctx.bindings.with_shop_ids(Kind.FAMILY_MEMBER, [fb.erp_id])
            resend += product_snapshots(ctx, [members[0].erp_id]) if members else []
        for p in items:
            listed.add(p.id)
            b = bound.get(p.id)
            if b is None:
                continue  # not one of ours (a product only the shop sells)
            checked += 1
            snap = wanted.get(b.erp_id)
            if snap is None:
                continue
            have, want = _shop_state(p), snap.state
            if p.kind == VARIATION:  # what a variation shows of its card (families.py)
                have = {k: v for k, v in have.items() if k in ("price", "published", "stock", "description")}
                value = str(snap.state.get("family") or "")
                if value not in descriptions:  # (read once per family in a pass)
                    descriptions[value] = family_description(ctx, value)
                want = variation_view(snap.state, descriptions[value])
            diff = [k for k in have if k in want and _differs(k, want[k], have[k])]
            if snap.state.get("image") and not p.image_url:
                diff.append("image")  # removed in the shop
            state = {k: v for k, v in b.state.items() if k != CONFLICT}
            if diff or CONFLICT in b.state:
                corrections.update(diff)
                state.update({k: have[k] for k in diff if k in have})
                state.pop("view", None)  # a variation's sent view is worked out again from what the shop holds
                if "image" in diff:
                    state["image"] = state["image_type"] = None
                fixes.append(Binding(Kind.PRODUCT, b.erp_id, b.shop_id, state, b.state_time))
                resend.append(snap)
        ctx.bindings.save(fixes)
        msg.enqueue(ctx.store, resend)
        yield {"read": read, "checked": checked, "total": total, "corrections": dict(corrections),
               "conflicts": conflicts, "conflicts_why": conflicts_why, "done": False}
    removed = _removed_in_shop(ctx, listed, conflicts, conflicts_why)
    corrections.update(removed)
    report = {"read": read, "checked": checked, "total": max(total, read),
              "corrections": dict(corrections), "conflicts": conflicts, "conflicts_why": conflicts_why,
              "done": True}
    if corrections or conflicts:
        log.info("reconciliation: %d products checked; corrected %s; %d for a person", checked,
                 ", ".join(f"{k} {n}" for k, n in sorted(corrections.items())) or "nothing", len(conflicts))
        for c in conflicts:
            log.warning("reconciliation: %s", c)
    yield report


def _families(ctx: SyncContext, variable: list[ShopProduct], corrections: Counter[str]) -> list[Binding]:
    """The variable products of ours that differ from what their family's cards make (a person changed the
    name, description, category or status in the shop; an option left out): their bindings made to say what
    the shop holds, so the next send of a card of the family puts the right ones there."""
    fams = ctx.bindings.by_shop_ids(Kind.FAMILY, [p.id for p in variable])
    out = []
    for p in variable:
        fb = fams.get(p.id)
        if fb is None:
            continue
        value = str(fb.state.get("sku") or p.sku)
        want = parent_of(ctx, value, family_states(ctx, value))
        if want is None:
            continue
        have = {k: v for k, v in _shop_state(p).items() if k in ("name", "description", "category_path", "published")}
        have["attributes"] = {k: list(v) for k, v in p.attributes.items()}
        diff = [k for k in have if _differs(k, want.get(k), have[k])]
        if diff:
            corrections.update(diff)
            out.append(Binding(Kind.FAMILY, fb.erp_id, fb.shop_id, {**fb.state, **{k: have[k] for k in diff}},
                               fb.state_time - 1 if fb.state_time else 0))
    return out


def _removed_in_shop(ctx: SyncContext, listed: set[int], conflicts: list[str],
                     conflicts_why: list[dict[str, Any]]) -> Counter[str]:
    """Bound products the shop no longer lists: deleted or trashed there by a person."""
    out: Counter[str] = Counter()
    recreate = ctx.settings.sync.removed_in_shop == "recreate"
    for ids in in_pages(ctx.bindings.all_ids(Kind.PRODUCT, 500), 500):
        bound = ctx.bindings.many(Kind.PRODUCT, ids)
        gone = {pid: b for pid, b in bound.items() if b.shop_id is not None and b.shop_id not in listed}
        if not gone:
            continue
        wanted = {s.erp_id: s for s in product_snapshots(ctx, list(gone))}
        fixes, resend, forgotten = [], [], []
        for pid, b in gone.items():
            try:
                trashed = ctx.shop.get_product(int(b.shop_id)).trashed  # type: ignore[arg-type]
            except ShopNotFound:
                trashed = None  # deleted for good
            sells = bool(wanted.get(pid) and wanted[pid].state.get("published"))
            sku = b.state.get("sku", pid)
            if trashed is False:
                continue  # listed again by now (changed during the pass)
            if not sells:
                if trashed is None:  # a hidden product deleted in the shop stays deleted
                    forgotten.append(pid)
                continue
            if not recreate:
                why = f"product {sku} is sold online but was {'trashed' if trashed else 'deleted'} in the shop"
                coded = Reason("reconcile.removed_in_shop", {"sku": sku, "how": "trashed" if trashed else "deleted"})
                conflicts.append(coded.text("en"))
                conflicts_why.append(coded.to_json())
                fixes.append(Binding(Kind.PRODUCT, pid, b.shop_id, {**b.state, CONFLICT: why}, b.state_time))
                out["reported"] += 1
                continue
            if trashed:  # restore it: what we last sent is not what a trashed product shows
                fixes.append(Binding(Kind.PRODUCT, pid, b.shop_id, {**b.state, "published": None}, b.state_time))
                out["restored"] += 1
            else:  # deleted for good: create it again
                fixes.append(Binding(Kind.PRODUCT, pid, None, {}, 0))
                out["recreated"] += 1
            resend.append(wanted[pid])
        ctx.bindings.save(fixes)
        ctx.bindings.forget(Kind.PRODUCT, forgotten)
        msg.enqueue(ctx.store, resend)
    return out
