"""Contractors and their delivery addresses in the company database (HM.KH, HM.AD).
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import pyodbc

from ...nip import normalize_nip
from ..errors import ErpNotFound, ErpPermanent
from ..records import AddressDraft, Contractor, ContractorDraft, OrderDraft
from .base import SqlBase
from .tables import _like_contains, _now

log = logging.getLogger(__name__)


class SqlContractors(SqlBase):
    """Contractors over SQL."""

    # -- contractors ---------------------------------------------------------
    _KH_COLUMNS = "id, kod, nazwa, nip, ulica, dom, lokal, kodpocz, miejscowosc, email, tel1, grupacen"

    @staticmethod
    def _contractor(r: Any) -> Contractor:
        return Contractor(id=int(r[0]), code=r[1] or "", name=r[2] or "", nip=r[3] or "", street=r[4] or "",
                          house=r[5] or "", flat=r[6] or "", postcode=r[7] or "", city=r[8] or "",
                          email=r[9] or "", phone=r[10] or "",
                          price_group=int(r[11]) if r[11] is not None else None)

    def get_contractor(self, contractor_id: int) -> Contractor:
        with self.unit_of_work() as cur:
            r = cur.execute(f"SELECT {self._KH_COLUMNS} FROM HM.KH WHERE id = ?", contractor_id).fetchone()
        if r is None:
            raise ErpNotFound.of("erp.not_found", what="contractor id", id=contractor_id)
        return self._contractor(r)

    def find_contractors_by_nip(self, nip10: str) -> list[Contractor]:
        """Active contractors whose NIP, however typed, normalises to `nip10`."""
        nip10 = normalize_nip(nip10)
        with self.unit_of_work() as cur:
            rows = cur.execute(
                f"SELECT {self._KH_COLUMNS} FROM HM.KH WHERE aktywny = 1 AND "
                "REPLACE(REPLACE(REPLACE(REPLACE(UPPER(nip), ' ', ''), '-', ''), '.', ''), 'PL', '') = ? "
                "ORDER BY id", nip10).fetchall()
        return [self._contractor(r) for r in rows if normalize_nip(r[3]) == nip10]

    def search_contractors(self, text: str, limit: int = 20) -> list[Contractor]:
        """Active contractors whose code, name or NIP (however typed) contains `text`, for a person pairing."""
        text = text.strip()
        if not text:
            return []
        digits = normalize_nip(text) if any(ch.isdigit() for ch in text) else ""
        with self.unit_of_work() as cur:
            cur.execute(f"SELECT {self._KH_COLUMNS} FROM HM.KH WHERE aktywny = 1 AND (kod LIKE ? OR nazwa LIKE ? OR "
                        "REPLACE(REPLACE(REPLACE(UPPER(nip), ' ', ''), '-', ''), 'PL', '') LIKE ?) ORDER BY nazwa, id",
                        _like_contains(text), _like_contains(text), _like_contains(digits) if digits else "-")
            return [self._contractor(r) for r in cur.fetchmany(limit)]

    def create_contractor(self, draft: ContractorDraft) -> int:
        """A new contractor (HM.KH) with its main address (HM.AD); returns its id."""
        if not draft.name.strip():
            raise ErpPermanent("contractor name: must not be empty")
        with self.unit_of_work() as cur:
            return self._create_contractor(cur, draft)

    def _create_contractor(self, cur: pyodbc.Cursor, d: ContractorDraft) -> int:
        code = d.code[: self.max_code_length]
        kid = self._insert(cur, "HM.KH", {
            "kod": code, "nazwa": d.name[:150], "nip": d.nip[:20], "ulica": d.street[:60], "dom": d.house[:10],
            "lokal": d.flat[:10], "kodpocz": d.postcode[:10], "miejscowosc": d.city[:60], "email": d.email[:100],
            "tel1": d.phone[:30], "znacznik": 0, "aktywny": 1, "modifiedDate": _now()})
        self._insert(cur, "HM.AD", {
            "idkh": kid, "nazwaAdr": "Główny", "nazwa": d.name[:150], "ulica": d.street[:60], "dom": d.house[:10],
            "lokal": d.flat[:10], "kodpocz": d.postcode[:10], "miejscowosc": d.city[:60], "nip": d.nip[:20],
            "idKraju": d.country[:3]})
        return kid

    def contractors_in_groups(self, groups: Sequence[int]) -> list[int]:
        if not groups:
            return []
        with self.unit_of_work() as cur:
            return [int(r[0]) for r in cur.execute(
                f"SELECT id FROM HM.KH WHERE grupacen IN ({self._in(groups)}) ORDER BY id", list(groups))]

    def ensure_delivery_address(self, cur: pyodbc.Cursor, contractor_id: int, a: AddressDraft) -> int:
        """The contractor's delivery address with this label (HM.AD), made once."""
        row = cur.execute("SELECT id FROM HM.AD WHERE idkh = ? AND nazwaAdr = ?", contractor_id,
                          a.label[:40]).fetchone()
        if row:
            return int(row[0])
        return self._insert(cur, "HM.AD", {
            "idkh": contractor_id, "nazwaAdr": a.label[:40], "nazwa": a.name[:150], "ulica": a.street[:60],
            "dom": a.house[:10], "lokal": a.flat[:10], "kodpocz": a.postcode[:10], "miejscowosc": a.city[:60],
            "nip": a.nip[:20], "idKraju": a.country[:3]})

    def delivery_address_for(self, order: OrderDraft) -> None:
        """The order's delivery address on its contractor (HM.AD), made once, in a unit of work of its own."""
        if order.delivery is None:
            return
        with self.unit_of_work() as cur:
            if not cur.execute("SELECT id FROM HM.KH WHERE id = ?", order.contractor_id).fetchone():
                raise ErpPermanent.of("erp.order_contractor_gone", order=order.shop_number, id=order.contractor_id)
            self.ensure_delivery_address(cur, order.contractor_id, order.delivery)
