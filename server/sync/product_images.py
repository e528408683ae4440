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
from typing import Any, Sequence

from erp_hooks.images import image_type  # the same sniffing the image report's hook does
from shop_client.errors import ShopError, ShopRejected
from shop_client.interface import CAP_IMAGE_UPLOAD, ImageRef, ItemResult

from ..erp.errors import ErpNotFound
from ..reasons import Reason, coded
from ..queue.bindings import Binding, Kind
from . import messages as msg
from .context import SyncContext
from .outcome import Outcome, outcome_of

log = logging.getLogger(__name__)
ALLOWED_IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
IMAGE_CHANGED = msg.EVENT_NAMES[msg.erp_events_pb2.ERP_EVENT_KIND_IMAGE_CHANGED]
IMAGE_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


def image_url(public_url: str, product_id: int, sha256: str, content_type: str | None) -> str:
    """Where the shop downloads a product's image from us (shop.image_mode = url)."""
    ext = IMAGE_EXTENSIONS.get(content_type or "", "bin")
    return f"{public_url}/images/{product_id}/{sha256}.{ext}"


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


def settle_image(ctx: SyncContext, s: msg.ProductSnapshot, b: Binding | None, shop_id: int, saved: ItemResult | None,
                 sent: dict[str, Any], *, created: bool, uploaded: bool, image_changed: bool) -> Outcome | None:
    """The product's image once its fields are saved (`saved`: the upsert's result, None when no fields
    changed; `created`: it was a create, which carried the image; `uploaded`: with the image's bytes):
    what the shop took is remembered; a changed image of a product the shop had is set (or removed) on
    its own. `sent` (the state to remember) is updated; an Outcome when the image failed."""
    sku = s.state.get("sku") or s.erp_id
    if saved is not None:
        if saved.image_error:
            # Saved without its image: remember no image sent, so the next pass tries the image alone.
            log.warning("product %s saved without its image: %s", sku, saved.image_error)
            sent["image"] = sent["image_type"] = None
        if saved.image_src:
            sent["shop_images"] = remember_image(b, saved.image_src)
        if saved.image_media_id and uploaded:
            sent["shop_media"] = [saved.image_media_id]  # uploaded by us: ours to delete when replaced
    if not image_changed or created or shop_id is None:
        return None
    try:
        image = image_for_shop(ctx, s) if s.state.get("image") else None
        ours = b.state.get("shop_media", []) if b else []
        res = ctx.shop.set_main_image(shop_id, image, name=str(sku), discard_media=ours)
    except ShopError as exc:
        # The product is up to date; keep the old image fields so the image is tried again.
        sent["image"] = b.state.get("image") if b else None
        sent["image_type"] = b.state.get("image_type") if b else None
        return outcome_of(exc, ("product_image", sku))
    if res.image_src:
        sent["shop_images"] = remember_image(b, res.image_src)
    sent["shop_media"] = [res.image_media_id] if res.image_media_id and image and image.data else []
    return None


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
    if ctype not in ALLOWED_IMAGE_TYPES or image_type(data) is None:
        why = Reason("image.not_image", {"sku": sku, "url": image_url, "type": ctype or "unknown"})
        raise coded(ShopRejected(why.text("en")), why.code, **why.params)
    name = image_url.rsplit("/", 1)[-1][:200] or f"{sku}.img"
    stored = ctx.erp.put_image(bound.erp_id, name, ctype, data, only_if_missing=True)
    if stored:
        # The binding records the image as what the shop already shows: no echo back.
        digest = ctx.erp.image_digests([bound.erp_id]).get(bound.erp_id)
        if digest:
            ctx.bindings.save([Binding(Kind.PRODUCT, bound.erp_id, bound.shop_id,
                                     {**bound.state, "image": digest[0], "image_type": digest[1]}, bound.state_time)])
    return stored


# -- the ERP's image report (erp-hook image show|set|delete) -------------------------------
def set_from_erp(ctx: SyncContext, product_id: int, filename: str, content_type: str, data: bytes,
                 request_id: str) -> tuple[str, int]:
    """A person gave the product a new main image in Symfonia (the image report): keep it, and queue the
    change for the shop as any ERP change. Returns (sha256, queue message id)."""
    limit = ctx.settings.orders.max_image_bytes
    if not data:
        raise ValueError("data: the image is empty")
    if len(data) > limit:
        raise ValueError(f"data: the image has {len(data)} bytes, more than orders.max_image_bytes ({limit})")
    real = image_type(data)
    if real is None:
        raise ValueError("data: not a PNG, JPEG, GIF or WebP image")
    if content_type and content_type != real:
        raise ValueError(f"content_type: {content_type!r} but the bytes are {real}")
    name = (filename.replace("\\", "/").rsplit("/", 1)[-1] or f"{product_id}.img")[:200]
    ctx.erp.put_image(product_id, name, real, data)  # ErpNotFound: no such product
    digest = ctx.erp.image_digests([product_id]).get(product_id, ("", ""))[0]
    return digest, _image_changed(ctx, product_id, request_id)


def delete_from_erp(ctx: SyncContext, product_id: int, request_id: str) -> tuple[bool, int]:
    """A person removed the product's main image in Symfonia: remove it, and queue the change for the shop."""
    if not ctx.erp.get_products([product_id]):
        raise ErpNotFound.of("erp.not_found", what="product id", id=product_id)
    deleted = ctx.erp.delete_image(product_id)
    return deleted, _image_changed(ctx, product_id, request_id)


def _image_changed(ctx: SyncContext, product_id: int, request_id: str) -> int:
    event = msg.ErpEvent(IMAGE_CHANGED, product_id, msg.now_ms())
    return msg.enqueue(ctx.store, [event], request_id=f"image:{request_id}" if request_id else None)[0].id


class ImageImport:
    """inbox `product`: a shop product's main image, into the ERP when it has none."""

    def handle(self, ctx: SyncContext, batch: Sequence[msg.ShopImageChanged]) -> list[Outcome]:
        outcomes = []
        for m in batch:
            try:
                import_image(ctx, m.shop_product_id, m.image_src)
                outcomes.append(Outcome.done())
            except ShopError as exc:
                outcomes.append(outcome_of(exc, ("shop_product", m.shop_product_id)))
        return outcomes
