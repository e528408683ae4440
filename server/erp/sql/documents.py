"""Warehouse and sale documents in the company database, and the orders they realised (HM.PO).
"""

from __future__ import annotations

import logging

from ..records import DOCUMENT_CANCELLED, DOCUMENT_DRAFT, DOCUMENT_ISSUED, DOCUMENT_MISSING
from .base import SqlBase
from .tables import PO_ORDER_SALE, PO_ORDER_WAREHOUSE

log = logging.getLogger(__name__)


class SqlDocuments(SqlBase):
    """Documents over SQL."""

    def document_products(self, document_id: int) -> list[int]:
        """Products on the lines of a warehouse document (HM.MZ) or a sale document (HM.DP) with this id.

        The two tables number their rows apart; a hook names only the id, so both are read
        (a coincidence costs a needless refresh, never a wrong one)."""
        with self.unit_of_work() as cur:
            rows = cur.execute("SELECT idtw FROM HM.MZ WHERE super = ? UNION SELECT idtw FROM HM.DP WHERE super = ?",
                               document_id, document_id).fetchall()
        return sorted({int(r[0]) for r in rows})

    def document_state(self, document_id: int) -> str:
        """Whether a warehouse (HM.MG) or sale (HM.DK) document with this id is issued, still a draft in the
        buffer (bufor = 1), cancelled, or not there (yet: a hook from OnBeforeInsert can come first)."""
        with self.unit_of_work() as cur:
            rows = cur.execute("SELECT bufor, anulowany FROM HM.MG WHERE id = ? "
                               "UNION ALL SELECT bufor, anulowany FROM HM.DK WHERE id = ?",
                               document_id, document_id).fetchall()
        if not rows:
            return DOCUMENT_MISSING
        if any(not int(r[0] or 0) and not int(r[1] or 0) for r in rows):
            return DOCUMENT_ISSUED
        return DOCUMENT_CANCELLED if all(int(r[1] or 0) for r in rows) else DOCUMENT_DRAFT

    def orders_of_document(self, document_id: int) -> list[int]:
        """Customer orders a document realised or invoiced (HM.PO links, our reading)."""
        with self.unit_of_work() as cur:
            rows = cur.execute("SELECT id1 FROM HM.PO WHERE id2 = ? AND typ IN (?, ?)", document_id,
                               PO_ORDER_SALE, PO_ORDER_WAREHOUSE).fetchall()
        return sorted({int(r[0]) for r in rows})
