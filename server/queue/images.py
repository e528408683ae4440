"""Products' main images kept in the queue's database: their home when the ERP is reached through its
WebAPI, which has no call to store a picture (its ProductPhotos are read-only), so that the sync writes
nothing to the company database. The same answers as the SQL side's HM.ShopsyncImages."""

from __future__ import annotations

import hashlib
from typing import Sequence

from ..erp.records import Image
from .store import QueueStore
from .sync_tables import make_sync_tables

_CHUNK = 500


class ImageStore:
    def __init__(self, store: QueueStore) -> None:
        self.store = store
        self.t = make_sync_tables(store.db)
        store.ensure_connected()
        store.db.create_tables([self.t.image], safe=True)

    def get(self, product_id: int) -> Image | None:
        self.store.ensure_connected()
        r = self.t.image.get_or_none(self.t.image.product_id == int(product_id))
        if r is None:
            return None
        return Image(product_id=int(r.product_id), filename=r.filename, content_type=r.content_type,
                     data=bytes(r.data), sha256=r.sha256)

    def digests(self, product_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """Product id -> (sha256, content type) of the products that have an image."""
        self.store.ensure_connected()
        I = self.t.image
        wanted = [int(i) for i in product_ids]
        out: dict[int, tuple[str, str]] = {}
        for start in range(0, len(wanted), _CHUNK):
            for r in I.select(I.product_id, I.sha256, I.content_type).where(
                    I.product_id.in_(wanted[start:start + _CHUNK])):
                out[int(r.product_id)] = (r.sha256, r.content_type)
        return out

    def put(self, product_id: int, filename: str, content_type: str, data: bytes, *,
            only_if_missing: bool = False) -> bool:
        """Keep the product's main image; False when only_if_missing and it has one."""
        self.store.ensure_connected()
        I = self.t.image
        row = {"filename": filename[:200], "content_type": content_type[:100], "data": data,
               "sha256": hashlib.sha256(data).hexdigest(), "updated_at": self.store.clock()}
        with self.store.transaction():
            if only_if_missing:
                return I.insert(product_id=int(product_id), **row).on_conflict_ignore().as_rowcount().execute() == 1
            I.insert(product_id=int(product_id), **row).on_conflict(conflict_target=[I.product_id],
                                                                     update=row).execute()
        return True

    def delete(self, product_id: int) -> bool:
        self.store.ensure_connected()
        with self.store.transaction():
            return self.t.image.delete().where(self.t.image.product_id == int(product_id)).execute() > 0
