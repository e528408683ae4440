"""Main images, shop -> ERP: the shop's main image goes into the ERP when the ERP has none.

(ERP -> shop images ride in the product export, products.py.) Only a real shop-side
change imports an image: an image the shop shows because we sent it is our own
change coming back (the binding remembers the shop's copies of what we sent).
"""

from __future__ import annotations

import logging
from typing import Sequence

from server.sync import messages as msg
from server.sync.binder import Binding
from server.sync.context import SyncContext
from server.sync.outcome import Outcome
from shop_client.errors import ShopError, ShopRejected

log = logging.getLogger(__name__)
ALLOWED_IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def import_image(ctx: SyncContext, shop_product_id: int, image_url: str = "") -> bool:
    """Copy the shop's main image into the ERP when the paired product has none there."""
    bound = ctx.binder.by_shop_ids("product", [shop_product_id]).get(shop_product_id)
    if bound is None:
        return False
    if ctx.erp.image_digests([bound.erp_id]):
        return False
    if not image_url:
        image_url = ctx.shop.get_product(shop_product_id).image_url
    if not image_url:
        return False
    if image_url in bound.state.get("shop_images", []):
        return False  # an image we put there ourselves (an echo of our update): not a person's change
    sku = bound.state.get("sku", shop_product_id)
    data, ctype = ctx.shop.download(image_url, ctx.settings.orders.max_image_bytes)
    if ctype not in ALLOWED_IMAGE_TYPES or not _looks_like_image(data):
        raise ShopRejected(f"product {sku}: main image {image_url} is not a PNG/JPEG/GIF/WebP "
                           f"image (type {ctype or 'unknown'})")
    name = image_url.rsplit("/", 1)[-1][:200] or f"{sku}.img"
    stored = ctx.erp.put_image(bound.erp_id, name, ctype, data, only_if_missing=True)
    if stored:
        # The binding records the image as what the shop already shows: no echo back.
        digest = ctx.erp.image_digests([bound.erp_id]).get(bound.erp_id)
        if digest:
            ctx.binder.save([Binding("product", bound.erp_id, bound.shop_id,
                                     {**bound.state, "image": digest[0], "image_type": digest[1]}, bound.state_time)])
    return stored


def _looks_like_image(data: bytes) -> bool:
    return data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")) or \
        (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


class ImageImport:
    """inbox `product`: a shop product's main image, into the ERP when it has none."""

    def handle(self, ctx: SyncContext, batch: Sequence[msg.ShopImageChanged]) -> list[Outcome]:
        outcomes = []
        for m in batch:
            try:
                import_image(ctx, m.shop_product_id, m.image_src)
                outcomes.append(Outcome.done())
            except ShopError as exc:
                outcomes.append(Outcome.of_shop_error(exc, f"shop product {m.shop_product_id}: "))
        return outcomes
