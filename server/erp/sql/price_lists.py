"""Price lists in the company database (HM.KP and its prices).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Sequence

from ..errors import ErpNotFound
from ..records import PriceList
from ..rounding import money
from .base import SqlBase
from .tables import TYPPD_CONTRACTOR, TYPPD_GROUP, _chunks

log = logging.getLogger(__name__)


class SqlPriceLists(SqlBase):
    """Price lists over SQL."""

    # -- price lists ---------------------------------------------------------
    def get_price_list(self, list_id: int) -> PriceList:
        """A price list with its lines and whom it applies to."""
        with self.unit_of_work() as cur:
            h = cur.execute("SELECT id, kod, kontrah, aktywny FROM HM.CK WHERE id = ?", list_id).fetchone()
            if h is None:
                raise ErpNotFound.of("erp.not_found", what="price list id", id=list_id)
            lines = cur.execute("SELECT idpoz, cena, waluta FROM HM.CP WHERE idck = ? ORDER BY id",
                                list_id).fetchall()
            who = cur.execute("SELECT idpd, typpd FROM HM.KP WHERE idck = ? ORDER BY id", list_id).fetchall()
        return PriceList(id=int(h[0]), code=h[1], individual=bool(h[2]), active=bool(h[3]),
                         prices={int(r[0]): (money(r[1]), r[2] or "PLN") for r in lines},
                         contractors=tuple(int(r[0]) for r in who if int(r[1]) == TYPPD_CONTRACTOR),
                         groups=tuple(int(r[0]) for r in who if int(r[1]) == TYPPD_GROUP))

    def prices_for_products(self, ids: Sequence[int]) -> dict[int, dict[str, Decimal]]:
        """Each product's prices on the active price lists other than the base one: {id: {list code: price}}."""
        out: dict[int, dict[str, Decimal]] = {int(i): {} for i in ids}
        with self.unit_of_work() as cur:
            for chunk in _chunks(list(out), 500):
                for pid, code, price in cur.execute(
                        "SELECT p.idpoz, k.kod, p.cena FROM HM.CP p JOIN HM.CK k ON k.id = p.idck "
                        f"WHERE k.kod <> ? AND k.aktywny = 1 AND p.idpoz IN ({self._in(chunk)}) ORDER BY p.id",
                        [self.base_price_list, *chunk]).fetchall():
                    out[int(pid)][code] = money(price)
        return out

    def price_list_codes_for_contractors(self, ids: Sequence[int]) -> dict[int, list[str]]:
        """Which active price lists apply to each contractor: its own lists first, then its group's."""
        out: dict[int, list[str]] = {int(i): [] for i in ids}
        if not out:
            return out
        with self.unit_of_work() as cur:
            for chunk in _chunks(list(out), 500):
                own = cur.execute(
                    "SELECT a.idpd, k.kod FROM HM.KP a JOIN HM.CK k ON k.id = a.idck "
                    f"WHERE a.typpd = ? AND k.aktywny = 1 AND a.idpd IN ({self._in(chunk)}) ORDER BY k.id",
                    [TYPPD_CONTRACTOR, *chunk]).fetchall()
                group = cur.execute(
                    "SELECT h.id, k.kod FROM HM.KH h JOIN HM.KP a ON a.idpd = h.grupacen AND a.typpd = ? "
                    f"JOIN HM.CK k ON k.id = a.idck WHERE k.aktywny = 1 AND h.id IN ({self._in(chunk)}) ORDER BY k.id",
                    [TYPPD_GROUP, *chunk]).fetchall()
                for kid, code in [*own, *group]:
                    if code not in out[int(kid)]:
                        out[int(kid)].append(code)
        return out

    def price_list_ids(self) -> list[int]:
        """Every price list except the base one."""
        with self.unit_of_work() as cur:
            return [int(r[0]) for r in cur.execute("SELECT id FROM HM.CK WHERE kod <> ? ORDER BY id",
                                                   self.base_price_list).fetchall()]
