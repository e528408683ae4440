"""The initial import: a shop's catalog created in a clean ERP, each product bound to its ERP twin."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, Iterator

from ..erp.records import ProductDraft
from .families import family_bindings, family_features, member_state, variations_of
from . import messages as msg
from ..queue.bindings import Binding, Kind
from .context import SyncContext


def import_catalog(ctx: SyncContext, *, dry_run: bool = False) -> Iterator[dict[str, Any]]:
    """Create the shop's products in the ERP and bind both; yields progress per page.

    Re-running creates nothing twice (existing codes are paired, bound products
    skipped), so an interrupted import is finished by running it again.
    """
    max_len = ctx.erp.max_code_length
    tax_classes = {str(k): str(v) for k, v in ctx.settings.shop.tax_classes.items()}
    totals = {"seen": 0, "created": 0, "paired": 0, "already_bound": 0, "skipped": 0, "total": 0}
    for page in ctx.shop.iter_products():
        problems: list[dict[str, Any]] = []
        totals["total"] = page.total or totals["total"]
        # A variable product is imported as its variations: one card each, of one family (families.py).
        items, parents = variations_of(ctx, page.items, problems)
        bound = ctx.bindings.by_shop_ids(Kind.PRODUCT, [p.id for p in items])
        candidates = []
        totals["seen"] += len(page.items)  # the shop's products (a variable product is one, its cards several)
        for p in items:
            if p.id in bound:
                totals["already_bound"] += 1
            elif not p.sku.strip():
                problems.append({"shop_product_id": p.id, "sku": "", "reason": "no SKU: give the product a SKU "
                                 "in the shop (it becomes the ERP code)"})
            elif len(p.sku) > max_len:
                problems.append({"shop_product_id": p.id, "sku": p.sku,
                                 "reason": f"SKU longer than the ERP's {max_len} characters"})
            elif p.tax_class not in tax_classes:
                problems.append({"shop_product_id": p.id, "sku": p.sku,
                                 "reason": f"tax class {p.tax_class or 'standard'!r} is not in shop.tax_classes: "
                                           "say which ERP VAT rate it is (e.g. \"reduced-rate\" = \"8\")"})
            else:
                candidates.append(p)
        totals["skipped"] += len(problems)
        skipped_before = len(problems)
        existing = ctx.erp.find_products_by_codes([p.sku for p in candidates]) if candidates else {}
        # Groups the ERP lacks and the sync cannot make (through the WebAPI): a person makes them first.
        missing = set(ctx.erp.missing_catalogs([p.category_path for p in candidates if p.sku not in existing]))
        for p in [p for p in candidates if p.sku not in existing and p.category_path in missing]:
            candidates.remove(p)
            problems.append({"shop_product_id": p.id, "sku": p.sku,
                             "reason": f"ERP catalog {' > '.join(p.category_path)} does not exist and Symfonia's "
                                       "WebAPI cannot make it: create it in Symfonia (Towary, Katalogi), then run "
                                       "the import again"})
        totals["skipped"] += len(problems) - skipped_before
        new = [p for p in candidates if p.sku not in existing]
        if dry_run:
            totals["paired"] += len(candidates) - len(new)
            totals["created"] += len(new)
            yield {**totals, "problems": problems, "done": False}
            continue
        # The card as the shop has the product: its VAT rate by its tax class, its price of the shop's kind.
        drafts = [ProductDraft(code=p.sku, name=p.name or p.sku, ean=p.ean, group_path=p.category_path,
                               price=p.price, marked=p.published, note=p.description,
                               vat=str(tax_classes[p.tax_class]), price_gross=ctx.settings.shop.prices_include_tax,
                               features=family_features(ctx, p, parents))
                  for p in new]
        ids = ctx.erp.create_products(drafts) if drafts else {}
        ids.update(existing)
        now = time.time_ns()
        bindings = []
        for p in candidates:
            # What the shop holds now; from here on the ERP is the master, and the
            # next event or catch-up pass sends whatever differs (e.g. ERP stock).
            state = {"sku": p.sku, "name": p.name, "ean": p.ean, "price": _num(p.price),
                     "description": p.description, "category_path": list(p.category_path),
                     "published": p.published, "stock": _num(p.stock) if p.stock is not None else None,
                     "image": None, "image_type": None, "price_lists": {}, **member_state(p, parents)}
            bindings.append(Binding(Kind.PRODUCT, ids[p.sku], p.id, state, now))
        bindings += family_bindings(ctx, [(ids[p.sku], p) for p in candidates], parents, now)
        ctx.bindings.save(bindings)
        totals["created"] += len(new)
        totals["paired"] += len(candidates) - len(new)
        msg.enqueue(ctx.store, [msg.ShopImageChanged(p.id, p.image_url, "import") for p in candidates
                                if p.image_url])
        yield {**totals, "problems": problems, "done": False}
    yield {**totals, "problems": [], "done": True}


def _num(v: Decimal | None) -> str | None:
    return None if v is None else format(Decimal(v).normalize(), "f")
