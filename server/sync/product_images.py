"""Main images, both ways: all of a product's image handling in one place.

- ERP -> shop: the image as the shop takes it (uploaded bytes, or our image URL) and
  the shop's copies we made (products.py sends it with the product's other fields).
- shop -> ERP (inbox `product`): the shop's main image goes into the ERP when the ERP
  has none. Only a real shop-side change imports an image: an image the shop shows
  because we sent it is our own change coming back (the binding remembers the shop's
  copies of what we sent).
"""

from __future__ import annotations

import logging
from typing import Sequence

from shop_client.errors import ShopError, ShopRejected
from shop_client.interface import CAP_IMAGE_UPLOAD, ImageRef

from ..queue.bindings import Binding, Kind
from . import messages as msg
from .context import SyncContext
from .mappers import image_url
from .outcome import Outcome, outcome_of

log = logging.getLogger(__name__)
ALLOWED_IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


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


def import_image(ctx: SyncContext, shop_product_id: int, image_url: str = "") -> bool:
    """Copy the shop's main image into the ERP when the paired product has none there."""
    bound = ctx.bindings.by_shop_ids(Kind.PRODUCT, [shop_product_id]).get(shop_product_id)
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
            ctx.bindings.save([Binding(Kind.PRODUCT, bound.erp_id, bound.shop_id,
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
                outcomes.append(outcome_of(exc, f"shop product {m.shop_product_id}: "))
        return outcomes
