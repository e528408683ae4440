"""Families of sizes and colours: ERP cards sharing a feature's value as one variable product in the shop.

Symfonia Handel has no variant object: a site keeps each size or colour as its own card and groups the cards by
a feature (cecha; through the WebAPI, a dimension). With `products.variants_by = "feature:Rodzina"`, the marked
cards whose Rodzina is "KOSZ-BASIC" become one variable product (SKU "KOSZ-BASIC"), each card one variation
(SKU its code) told apart by the features `products.variant_attributes` names (Rozmiar, Kolor ...).

Where the variable product's data come from (docs/variants.md): its *lead* card, the family's lowest ERP id
among the cards sold online (among all of them while none is): its name without the attribute values
("Koszulka Basic M" -> "Koszulka Basic"), its note as the description, its group as the category, its image.
Published while any card of the family carries the marker; each variation's own price, stock, price lists,
note, EAN and image are its card's; a card losing the marker hides its variation (private); a card moving to
another family (or out of all) leaves its old variation (deleted) and becomes one of the new family.

Bindings: the card's `product` binding holds its variation's id and the state last sent (its family and
options among it); `family` (erp id = family_id(value)) the variable product's id and the state last sent;
`family_member` (card id -> family_id) which cards were sent as a family's. The variable product is made at
export of the family's cards as last sent plus the batch's newer ones, one export per family at a time, so it
converges on the whole family without asking the ERP (docs/variants.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Iterable, Iterator, Mapping, Sequence

from shop_client.errors import ShopError
from shop_client.interface import (CAP_PRICE_LISTS, CAP_VARIATIONS, ITEM_GONE, VARIABLE, ItemResult, ProductChange,
                                   ShopProduct)

from ..erp.records import Product
from ..queue.bindings import Binding, Kind
from ..reasons import Reason
from . import messages as msg
from .context import SyncContext
from .mappers import changed_fields, to_change
from .outcome import Outcome, Rejected, outcome_of, outcome_of_item
from .product_images import image_for_shop

log = logging.getLogger(__name__)
# What a variation takes of its card's state (the rest belongs to the variable product).
VARIATION_KEYS = ("sku", "price", "stock", "published", "ean", "price_lists", "description", "attributes",
                  "image", "image_type")
PARENT_KEYS = ("sku", "name", "description", "category_path", "published", "attributes", "image", "image_type")


def family_id(value: str) -> int:
    """A family's stable number (its bindings' key): 56 bits of the SHA-1 of its value."""
    return int.from_bytes(hashlib.sha1(value.encode("utf-8")).digest()[:7], "big")


def family_of(ctx: SyncContext, product: Product | None) -> tuple[str, dict[str, str]] | None:
    """(family value, {attribute: value}) of a card, or None when it belongs to no family."""
    p = ctx.settings.products
    if product is None or not p.family_feature:
        return None
    value = str(product.features.get(p.family_feature) or "").strip()
    if not value:
        return None
    return value, {a: str(product.features[a]).strip() for a in p.variant_attributes
                   if str(product.features.get(a) or "").strip()}


def base_name(name: str, values: Iterable[str]) -> str:
    """A card's name without its attribute values: "Koszulka Basic czerwona M" -> "Koszulka Basic"."""
    drop = {v.casefold() for v in values if v}
    words = [w for w in re.split(r"\s+", name.strip()) if w.strip(",;/-–()").casefold() not in drop]
    return " ".join(words).strip(" ,;/-–") or name.strip()


def add_family_states(ctx: SyncContext, states: dict[int, dict[str, Any]],
                      products: Mapping[int, Product | None]) -> None:
    """Give each card's state its family and attributes (the variable product is made at export, of all of them)."""
    for pid, state in states.items():
        fam = family_of(ctx, products.get(pid))
        if fam is not None:
            state["family"], state["attributes"] = fam


def parent_of(ctx: SyncContext, value: str, states: Mapping[int, Mapping[str, Any]]) -> dict[str, Any] | None:
    """The variable product a family's cards make (`states`: each card's latest state), None when no card is left.
    A card without any attribute is no variation yet (its size comes next): not part of the family's face."""
    members = sorted(pid for pid, st in states.items() if st.get("family") == value)
    if not members:
        return None
    whole = [m for m in members if states[m].get("attributes")] or members
    sold = [m for m in whole if states[m].get("published") and states[m].get("attributes")]
    lead = (sold or whole)[0]
    options: dict[str, list[str]] = {a: [] for a in ctx.settings.products.variant_attributes}
    for m in members:
        for a, v in (states[m].get("attributes") or {}).items():
            if a in options and v not in options[a]:
                options[a].append(v)
    lead_state = states[lead]
    return {"sku": value, "lead": lead,
            "name": base_name(lead_state.get("name") or value, (lead_state.get("attributes") or {}).values()),
            "description": lead_state.get("description") or "",
            "category_path": list(lead_state.get("category_path") or []),
            "published": bool(sold), "attributes": {a: o for a, o in options.items() if o},
            "image": lead_state.get("image"), "image_type": lead_state.get("image_type")}


def family_states(ctx: SyncContext, value: str, fresh: Iterable[msg.ProductSnapshot] = ()
                  ) -> dict[int, dict[str, Any]]:
    """The family's cards: as last sent to the shop (their bindings), with the newer snapshots of `fresh` over
    them (a card of `fresh` now elsewhere is left out; one that is not sold and never was sent too)."""
    ids = [b.erp_id for b in ctx.bindings.with_shop_ids(Kind.FAMILY_MEMBER, [family_id(value)])]
    bound = ctx.bindings.many(Kind.PRODUCT, ids)
    out = {pid: dict(b.state) for pid, b in bound.items() if b.shop_id is not None and b.state.get("family") == value}
    times = {pid: b.state_time for pid, b in bound.items()}
    for s in fresh:
        if s.read_at <= times.get(s.erp_id, 0):
            continue  # what was sent is newer
        if s.state.get("family") != value:
            out.pop(s.erp_id, None)
        elif s.erp_id in out or s.state.get("published"):
            out[s.erp_id] = dict(s.state)
    return out


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def _families_locked(values: Iterable[str]) -> Iterator[None]:
    """One export at a time per family (in sorted order: no deadlock), so each makes the variable product of
    what the others saved: the last to finish sees every card, and the shop's variable product converges."""
    with _LOCKS_GUARD:
        locks = [_LOCKS.setdefault(v, threading.Lock()) for v in sorted(set(values))]
    with contextlib.ExitStack() as stack:
        for lock in locks:
            stack.enter_context(lock)
        yield


def export_families(ctx: SyncContext, items: list[tuple[int, msg.ProductSnapshot, Binding | None]]
                    ) -> dict[int, Outcome]:
    """The family members' snapshots of a batch -> the shop: the variable products first (one call for all,
    each made of its family's cards as they are now), then each family's variations (one call per family,
    side by side). Returns an outcome per batch index."""
    out: dict[int, Outcome] = {}
    if CAP_VARIATIONS not in ctx.shop.capabilities:
        for i, s, _ in items:
            out[i] = outcome_of(Rejected.of("variant.shop_cannot", sku=s.state.get("sku") or s.erp_id))
        return out
    values = {str(v) for _, s, b in items for v in (s.state.get("family"), b.state.get("family") if b else None)
              if v}
    with _families_locked(values):
        return _export_families(ctx, items, out)


def _export_families(ctx: SyncContext, items: list[tuple[int, msg.ProductSnapshot, Binding | None]],
                     out: dict[int, Outcome]) -> dict[int, Outcome]:
    saved: list[Binding] = []
    live: list[tuple[int, msg.ProductSnapshot, Binding | None]] = []
    moves: list[tuple[int, msg.ProductSnapshot, Binding]] = []
    bound = ctx.bindings.many(Kind.PRODUCT, [s.erp_id for _, s, _ in items])  # (read again, under the lock)
    for i, s, _ in items:
        b = bound.get(s.erp_id)
        if b is not None and b.state_time >= s.read_at:
            out[i] = Outcome.done()  # stale: newer data was sent already
        elif b is not None and b.shop_id is not None and b.state.get("family") != s.state.get("family"):
            moves.append((i, s, b))
        else:
            live.append((i, s, b))
    left = {str(b.state["family"]) for _, _, b in moves if b.state.get("family")}
    if moves:
        # A card that moved (family to family, product of its own to family, family to none): its old shop
        # record goes first (its SKU is unique in the shop), then it is made anew where it belongs now.
        try:
            ctx.shop.remove_products([(int(b.state.get("parent_id") or 0), int(b.shop_id or 0))
                                      for _, _, b in moves])
        except ShopError as exc:
            for i, _, _ in moves:
                out[i] = outcome_of(exc)
            moves, left = [], set()
        for i, s, b in moves:
            log.info("product %s moved from %s to %s: its old shop record %s removed", s.state.get("sku"),
                     b.state.get("family") or "its own product", s.state.get("family") or "its own product", b.shop_id)
            saved.append(Binding(Kind.PRODUCT, s.erp_id, None, {}, 0))
            if s.state.get("family"):
                live.append((i, s, None))
            else:
                saved.append(Binding(Kind.FAMILY_MEMBER, s.erp_id, None, {}, 0))
                out[i] = Outcome.retry(f"product {s.state.get('sku')} left its family; made a product of its own next")
    by_family: dict[str, list[tuple[int, msg.ProductSnapshot, Binding | None]]] = {}
    for i, s, b in live:
        by_family.setdefault(str(s.state["family"]), []).append((i, s, b))
    fresh = [s for _, s, _ in live] + [s for _, s, _ in moves]
    wanted = {value: parent_of(ctx, value, family_states(ctx, value, fresh)) for value in set(by_family) | left}
    fams = ctx.bindings.many(Kind.FAMILY, [family_id(v) for v in wanted])
    began = time.perf_counter()
    parents = _send_parents(ctx, wanted, by_family, fams, out, saved)
    sent_parents = time.perf_counter()
    _send_variations(ctx, {parents[value]: ((wanted[value] or {}).get("description") or "", members)
                           for value, members in by_family.items() if value in parents}, out, saved)
    log.debug("families: %d variable products in %.2f s, %d of their cards in %.2f s", len(wanted),
              sent_parents - began, sum(len(m) for m in by_family.values()), time.perf_counter() - sent_parents)
    ctx.bindings.save(saved)
    return out


def _send_parents(ctx: SyncContext, wanted: dict[str, dict[str, Any] | None],
                  by_family: dict[str, list[tuple[int, msg.ProductSnapshot, Binding | None]]],
                  fams: dict[int, Binding], out: dict[int, Outcome], saved: list[Binding]) -> dict[str, int]:
    """Create or update the families' variable products (a family no card is left in: hidden); returns
    value -> its shop id for the families whose variations go on."""
    plans: list[tuple[str, dict[str, Any], Binding | None, ProductChange | None]] = []
    ready: dict[str, int] = {}
    for value, made in wanted.items():
        members = by_family.get(value, [])
        fb = fams.get(family_id(value))
        if made is None:  # every card moved away: no variation left to sell
            made = {**(fb.state if fb else {}), "published": False}
        parent = {k: made.get(k) for k in PARENT_KEYS}
        if (fb is None or fb.shop_id is None) and not parent["published"]:
            for i, *_ in members:
                out[i] = Outcome.done()  # a hidden family the shop never had: nothing to do
            continue
        fields = changed_fields(parent, fb.state if fb and fb.shop_id else None)
        shop_id = fb.shop_id if fb else None
        change = to_change(value, shop_id, fields)
        extra: dict[str, Any] = {}
        if "attributes" in fields:
            extra["attributes"] = fields["attributes"]
        if shop_id is None:
            extra["variable"] = True
            if parent.get("image") and made.get("lead"):
                image = image_for_shop(ctx, msg.ProductSnapshot(int(made["lead"]), parent, 0))
                if image is not None:
                    extra["image"] = image
        if change is not None or extra:
            change = ProductChange(value, {**(change.fields if change else {}), **extra}, shop_id)
        plans.append((value, {**parent, "lead": made.get("lead")}, fb, change))
    changes = [p[3] for p in plans if p[3] is not None]
    try:
        results = iter(ctx.shop.upsert_products(changes) if changes else [])
    except ShopError as exc:
        for value, *_ in plans:
            for i, *_ in by_family.get(value, []):
                out[i] = outcome_of(exc)
        return ready
    now = time.time_ns()
    for value, parent, fb, change in plans:
        res = next(results) if change is not None else None
        shop_id = fb.shop_id if fb else None
        if res is not None and res.kind == ITEM_GONE:
            saved.append(Binding(Kind.FAMILY, family_id(value), None, {}, 0))
            for i, s, _ in by_family.get(value, []):
                saved.append(Binding(Kind.PRODUCT, s.erp_id, None, {}, 0))
                out[i] = Outcome.retry(f"the variable product {value} was deleted in the shop; making it again")
            continue
        if res is not None and not res.ok:
            for i, *_ in by_family.get(value, []):
                out[i] = outcome_of_item(res, ("product", value))
            continue
        shop_id = res.shop_id if res is not None and res.shop_id else shop_id
        lead = parent.pop("lead", None)
        sent = dict(parent)
        if fb is not None and fb.shop_id is not None and shop_id == fb.shop_id and \
                "image" in changed_fields(parent, fb.state):
            try:  # a new lead image for a variable product the shop has
                image = image_for_shop(ctx, msg.ProductSnapshot(int(lead), parent, 0)) \
                    if parent.get("image") and lead else None
                ctx.shop.set_main_image(int(shop_id), image, name=value)  # type: ignore[arg-type]
            except ShopError as exc:
                log.warning("variable product %s: image not set (%s); tried again with the next change", value, exc)
                sent["image"] = fb.state.get("image")
        saved.append(Binding(Kind.FAMILY, family_id(value), shop_id, sent, now))
        if value in by_family and shop_id is not None:
            ready[value] = int(shop_id)
    return ready


def variation_view(state: Mapping[str, Any], family_description: str) -> dict[str, Any]:
    """What a variation shows of its card's state. Its description is the card's note only where that differs from
    the family's (the variable product shows the lead's note; the same text under every size is left out)."""
    view = {k: state.get(k) for k in VARIATION_KEYS}
    if (view.get("description") or "") == (family_description or ""):
        view["description"] = ""
    return view


def family_description(ctx: SyncContext, value: str | None) -> str:
    """The description the family's variable product was last sent."""
    fb = ctx.bindings.get(Kind.FAMILY, family_id(value)) if value else None
    return str(fb.state.get("description") or "") if fb else ""


def sent_view(state: Mapping[str, Any], family_description: str) -> dict[str, Any]:
    """What a variation's binding says was sent (its view, kept with it; worked out for an imported one)."""
    return dict(state["view"]) if isinstance(state.get("view"), dict) else variation_view(state, family_description)


Plan = tuple[int, msg.ProductSnapshot, "Binding | None", "ProductChange | None", dict[str, Any]]
Members = list[tuple[int, msg.ProductSnapshot, Binding | None]]


def _send_variations(ctx: SyncContext, families: dict[int, tuple[str, Members]],
                     out: dict[int, Outcome], saved: list[Binding]) -> None:
    """Each family's variations in one call of its own; the families' calls run side by side
    (shop.concurrency at once), as each is a small call the shop spends most of its time on."""
    plans = {parent_id: _plan_variations(ctx, parent_id, description, members, out, saved)
             for parent_id, (description, members) in families.items()}

    def send(parent_id: int) -> list[ItemResult] | ShopError:
        changes = [p[3] for p in plans[parent_id] if p[3] is not None]
        try:
            return ctx.shop.upsert_variations(parent_id, changes) if changes else []
        except ShopError as exc:
            return exc

    ids = [pid for pid in plans if plans[pid]]
    workers = max(1, min(len(ids), 2 * ctx.settings.shop.concurrency))
    if workers > 1:
        with ThreadPoolExecutor(workers, thread_name_prefix="variations") as pool:
            answers = dict(zip(ids, pool.map(send, ids)))
    else:
        answers = {pid: send(pid) for pid in ids}
    for parent_id in ids:
        _settle_variations(parent_id, plans[parent_id], answers[parent_id], out, saved)


def _plan_variations(ctx: SyncContext, parent_id: int, description: str, members: Members,
                     out: dict[int, Outcome], saved: list[Binding]) -> list[Plan]:
    unsupported = set() if CAP_PRICE_LISTS in ctx.shop.capabilities else {"price_lists"}
    plans: list[Plan] = []
    for i, s, b in members:
        sku = str(s.state.get("sku") or "")
        if not s.state.get("attributes"):
            # Not yet a variation (a person gives the card its family first, its size next): nothing is sent
            # until it has one; the product page says why it is not in the shop.
            log.warning("%s", Reason("variant.no_attributes", {
                "sku": sku, "family": s.state["family"],
                "attributes": ", ".join(ctx.settings.products.variant_attributes)}).text("en"))
            out[i] = Outcome.done()
            saved.append(Binding(Kind.FAMILY_MEMBER, s.erp_id, family_id(s.state["family"]),
                                 {"family": s.state["family"]}, s.read_at))
            continue
        mine = b if b is not None and b.shop_id is not None and b.state.get("parent_id") == parent_id else None
        if mine is None and not s.state.get("published"):
            out[i] = Outcome.done()  # a hidden variation the shop never had
            saved.append(Binding(Kind.FAMILY_MEMBER, s.erp_id, family_id(s.state["family"]),
                                 {"family": s.state["family"]}, s.read_at))
            continue
        view = variation_view(s.state, description)
        fields = changed_fields(view, sent_view(mine.state, description) if mine else None)
        shop_id = mine.shop_id if mine else None
        change = to_change(sku, shop_id, {k: v for k, v in fields.items() if k not in unsupported})
        extra: dict[str, Any] = {}
        if "attributes" in fields:
            extra["attributes"] = fields["attributes"]
        if shop_id is None:
            extra["sku"] = sku
        if "image" in fields and s.state.get("image"):
            image = image_for_shop(ctx, s)
            if image is not None:
                extra["image"] = image
        if change is not None or extra:
            change = ProductChange(sku, {**(change.fields if change else {}), **extra}, shop_id)
        plans.append((i, s, mine, change, view))
    return plans


def _settle_variations(parent_id: int, plans: list[Plan], answer: list[ItemResult] | ShopError,
                       out: dict[int, Outcome], saved: list[Binding]) -> None:
    if isinstance(answer, ShopError):
        for i, *_ in plans:
            out[i] = outcome_of(answer)
        return
    results = iter(answer)
    for i, s, mine, change, view in plans:
        res = next(results) if change is not None else None
        sku = str(s.state.get("sku") or "")
        if res is not None and res.kind == ITEM_GONE:
            saved.append(Binding(Kind.PRODUCT, s.erp_id, None, {}, 0))
            out[i] = Outcome.retry(f"variation {sku} was deleted in the shop; making it again")
            continue
        if res is not None and not res.ok:
            out[i] = outcome_of_item(res, ("product", sku))
            continue
        shop_id = res.shop_id if res is not None and res.shop_id else (mine.shop_id if mine else None)
        sent = {**s.state, "parent_id": parent_id, "view": view}
        if res is not None and res.image_error:
            sent["image"] = sent["image_type"] = None
            sent["view"] = {**view, "image": None, "image_type": None}
        saved.append(Binding(Kind.PRODUCT, s.erp_id, shop_id, sent, s.read_at))
        saved.append(Binding(Kind.FAMILY_MEMBER, s.erp_id, family_id(s.state["family"]),
                             {"family": s.state["family"]}, s.read_at))
        out[i] = Outcome.done()


# -- the initial import: a variable product of the shop -> one card per variation ------------------------------
def variations_of(ctx: SyncContext, products: Sequence[ShopProduct], problems: list[dict[str, Any]]
                  ) -> tuple[list[ShopProduct], dict[int, ShopProduct]]:
    """A page of the shop's products with each variable product replaced by its variations, each as a product
    of its own (named by the variable product and its options; its category, and its description and tax class
    where the variation has none); and variation id -> its variable product."""
    out: list[ShopProduct] = []
    parents: dict[int, ShopProduct] = {}
    wanted = ctx.settings.products.variant_attributes
    for p in products:
        if p.kind != VARIABLE:
            out.append(p)
            continue
        problem = ""
        unknown = sorted(set(p.attributes) - set(wanted))
        if not ctx.settings.products.family_feature:
            problem = ("a variable product: set products.variants_by and products.variant_attributes to import its "
                       "variations as a family of cards")
        elif not p.sku.strip():
            problem = "no SKU: give the variable product a SKU in the shop (it becomes the family's feature value)"
        elif unknown:
            problem = (f"attribute {unknown[0]!r} is not in products.variant_attributes: add it there (and define "
                       "the feature in Symfonia)")
        if problem:
            problems.append({"shop_product_id": p.id, "sku": p.sku, "reason": problem})
            continue
        for v in ctx.shop.iter_variations(p.id):
            if any(not str(o) for o in v.attributes.values()) or not v.attributes:
                problems.append({"shop_product_id": v.id, "sku": v.sku, "reason": "a variation for any value of an "
                                 "attribute: give it one value of each (a card has one size)"})
                continue
            options = [str(o) for o in v.attributes.values()]
            out.append(replace(v, name=" ".join([p.name, *options]).strip(), category_path=p.category_path,
                               description=v.description or p.description,
                               tax_class=p.tax_class if v.tax_class in ("parent",) else v.tax_class,
                               published=v.published and p.published))
            parents[v.id] = p
    return out, parents


def family_features(ctx: SyncContext, p: ShopProduct, parents: Mapping[int, ShopProduct]) -> dict[str, str]:
    """The features a variation's new card gets: its family's (the variable product's SKU) and its options."""
    parent = parents.get(p.id)
    if parent is None:
        return {}
    return {ctx.settings.products.family_feature: parent.sku, **{a: str(o) for a, o in p.attributes.items()}}


def member_state(p: ShopProduct, parents: Mapping[int, ShopProduct]) -> dict[str, Any]:
    """What an imported variation's binding remembers of its family (as a snapshot of its card will say)."""
    parent = parents.get(p.id)
    if parent is None:
        return {}
    return {"family": parent.sku, "attributes": {a: str(o) for a, o in p.attributes.items()}, "parent_id": parent.id}


def family_bindings(ctx: SyncContext, cards: Sequence[tuple[int, ShopProduct]], parents: Mapping[int, ShopProduct],
                    now: int) -> list[Binding]:
    """The families of imported variations: each card a member, each variable product bound as the shop has it."""
    out: list[Binding] = []
    done: set[int] = set()
    for erp_id, p in cards:
        parent = parents.get(p.id)
        if parent is None:
            continue
        out.append(Binding(Kind.FAMILY_MEMBER, erp_id, family_id(parent.sku), {"family": parent.sku}, now))
        if parent.id in done:
            continue
        done.add(parent.id)
        out.append(Binding(Kind.FAMILY, family_id(parent.sku), parent.id, {
            "sku": parent.sku, "name": parent.name, "description": parent.description,
            "category_path": list(parent.category_path), "published": parent.published,
            "attributes": {a: [str(o) for o in options] for a, options in parent.attributes.items()},
            "image": None, "image_type": None}, now))
    return out
