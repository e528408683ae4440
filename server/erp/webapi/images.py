"""Products' main images with the WebAPI: it has no call that stores a picture, so they live in the sync's
own store (the queue database); the product is checked to exist in the ERP.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Sequence

from ..errors import ErpNotFound
from ..records import Image

log = logging.getLogger(__name__)


class MemoryImages:
    """Images kept in memory (the server hands in server.queue.images.ImageStore, kept in the queue database)."""

    def __init__(self) -> None:
        self._images: dict[int, Image] = {}

    def get(self, product_id: int) -> Image | None:
        return self._images.get(int(product_id))

    def digests(self, product_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        return {int(p): (self._images[int(p)].sha256, self._images[int(p)].content_type)
                for p in product_ids if int(p) in self._images}

    def put(self, product_id: int, filename: str, content_type: str, data: bytes, *,
            only_if_missing: bool = False) -> bool:
        if only_if_missing and int(product_id) in self._images:
            return False
        self._images[int(product_id)] = Image(int(product_id), filename, content_type, data,
                                              hashlib.sha256(data).hexdigest())
        return True

    def delete(self, product_id: int) -> bool:
        return self._images.pop(int(product_id), None) is not None


class WebApiImages:
    """Main images kept in the sync's store."""

    def use_images(self, images: Any) -> None:
        """Where products' main images are kept: the sync's own store (server.queue.images.ImageStore); the
        WebAPI has no call that stores a picture, and nothing is written to the company database."""
        self.images = images

    def image_digests(self, product_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        return self.images.digests(product_ids)

    def get_image(self, product_id: int) -> Image | None:
        return self.images.get(product_id)

    def put_image(self, product_id: int, filename: str, content_type: str, data: bytes, *,
                  only_if_missing: bool = False) -> bool:
        """Keep the product's main image in the sync's store; the product must exist in the ERP (ErpNotFound)."""
        try:
            self.webapi.call("GET", "/Products", params={"id": int(product_id)})
        except ErpNotFound:
            raise ErpNotFound(f"product id {product_id} is not in the ERP (Symfonia WebAPI has no such product)"
                              ) from None
        return self.images.put(product_id, filename, content_type, data, only_if_missing=only_if_missing)

    def delete_image(self, product_id: int) -> bool:
        return self.images.delete(product_id)
