"""Price lists through the WebAPI: lists, their prices and whom they are for.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Sequence

from ..errors import ErpNotFound
from ..records import PriceList
from ..rounding import money

log = logging.getLogger(__name__)


class WebApiPriceLists:
    """Price lists through the WebAPI."""

    def get_price_list(self, list_id: int) -> PriceList:
        """`GET /api/PriceLists?id=`: the list's prices (of erp.webapi_sale_price_type where a product has
        several; else its first) and whom it is for: contractors, and contractor kinds as groups (GUESS: the
        kind is Handel's price group). 404: ErpNotFound."""
        p = self.webapi.call("GET", "/PriceLists", params={"id": int(list_id)})
        prices: dict[int, tuple[Decimal, str]] = {}
        for item in p.get("Products") or []:
            offers = [x for x in item.get("Prices") or [] if isinstance(x, dict) and x.get("Value") is not None]
            offers.sort(key=lambda x: x.get("PriceType") != self.sale_price_type)
            if offers and item.get("Id"):
                prices[int(item["Id"])] = (money(float(offers[0]["Value"])), offers[0].get("Currency") or "PLN")
        return PriceList(id=int(p["Id"]), code=p.get("Code") or "", individual=not p.get("ForAllContractors", True),
                         active=p.get("Active") is not False, prices=prices,
                         contractors=tuple(int(c["Id"]) for c in p.get("Contractors") or [] if c.get("Id")),
                         groups=tuple(int(k["Id"]) for k in p.get("ContractorKinds") or [] if k.get("Id")))

    def price_list_ids(self) -> list[int]:
        """Every price list but the base one (`GET /api/PriceLists`)."""
        return [int(x["Id"]) for x in self.webapi.call("GET", "/PriceLists") or []
                if x.get("Code") != self.base_price_list]

    def _active_lists(self) -> list[PriceList]:
        return [pl for pl in (self.get_price_list(i) for i in self.price_list_ids()) if pl.active]

    def prices_for_products(self, ids: Sequence[int]) -> dict[int, dict[str, Decimal]]:
        """Each product's prices on the active price lists other than the base one: {id: {list code: price}}."""
        out: dict[int, dict[str, Decimal]] = {int(i): {} for i in ids}
        if out:
            for pl in self._active_lists():
                for pid, (price, _) in pl.prices.items():
                    if pid in out:
                        out[pid][pl.code] = price
        return out

    def price_list_codes_for_contractors(self, ids: Sequence[int]) -> dict[int, list[str]]:
        """Which active price lists apply to each contractor: its own lists first, then its kind's (its price
        group's), each in list order."""
        out: dict[int, list[str]] = {int(i): [] for i in ids}
        if not out:
            return out
        lists = self._active_lists()
        for kid in out:
            try:
                kind = ((self.webapi.call("GET", "/Contractors", params={"id": kid}) or {}).get("Kind") or {}).get("Id")
            except ErpNotFound:
                continue
            own = [pl.code for pl in lists if kid in pl.contractors]
            group = [pl.code for pl in lists if kind is not None and int(kind) in pl.groups]
            out[kid] = list(dict.fromkeys(own + group))
        return out
