"""Products' main images in the sync's own table of the company database (HM.ShopsyncImages).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Sequence

from ..errors import ErpNotFound
from ..records import Image
from .base import SqlBase
from .tables import _chunks, _now

log = logging.getLogger(__name__)


class SqlImages(SqlBase):
    """Main images over SQL."""

    # -- images (the integration's own table) --------------------------------
    def get_image(self, product_id: int) -> Image | None:
        with self.unit_of_work() as cur:
            r = cur.execute("SELECT idtw, filename, content_type, data, sha256 FROM HM.ShopsyncImages "
                            "WHERE idtw = ?", product_id).fetchone()
        if r is None:
            return None
        return Image(product_id=int(r[0]), filename=r[1], content_type=r[2], data=bytes(r[3]), sha256=r[4])

    def image_digests(self, product_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """Product id -> (sha256, content type) of its main image, for products that have one."""
        out: dict[int, tuple[str, str]] = {}
        with self.unit_of_work() as cur:
            for chunk in _chunks(list(product_ids), 500):
                for pid, digest, ctype in cur.execute(
                        f"SELECT idtw, sha256, content_type FROM HM.ShopsyncImages WHERE idtw IN ({self._in(chunk)})",
                        chunk).fetchall():
                    out[int(pid)] = (digest, ctype)
        return out

    def put_image(self, product_id: int, filename: str, content_type: str, data: bytes, *,
                  only_if_missing: bool = False) -> bool:
        """Store the product's main image; returns False when only_if_missing and one exists."""
        digest = hashlib.sha256(data).hexdigest()
        with self.unit_of_work() as cur:
            if not cur.execute("SELECT id FROM HM.TW WHERE id = ?", product_id).fetchone():
                raise ErpNotFound.of("erp.not_found", what="product id", id=product_id)
            exists = cur.execute("SELECT idtw FROM HM.ShopsyncImages WHERE idtw = ?", product_id).fetchone()
            if exists and only_if_missing:
                return False
            if exists:
                cur.execute("UPDATE HM.ShopsyncImages SET filename = ?, content_type = ?, data = ?, sha256 = ?, "
                            "modifiedDate = ? WHERE idtw = ?",
                            filename[:200], content_type[:100], data, digest, _now(), product_id)
            else:
                cur.execute("INSERT INTO HM.ShopsyncImages (idtw, filename, content_type, data, sha256, "
                            "modifiedDate) VALUES (?, ?, ?, ?, ?, ?)",
                            product_id, filename[:200], content_type[:100], data, digest, _now())
            return True

    def delete_image(self, product_id: int) -> bool:
        """Remove the product's main image; False when it had none."""
        with self.unit_of_work() as cur:
            return cur.execute("DELETE FROM HM.ShopsyncImages WHERE idtw = ?", product_id).rowcount > 0
