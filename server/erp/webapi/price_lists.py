"""Price lists through the WebAPI: lists, their prices and whom they are for.
"""

from __future__ import annotations

import functools
import logging
from decimal import Decimal
from decimal import ROUND_HALF_UP
from typing import Any, Callable, Sequence

from ..errors import ErpNotFound
from ..records import PriceList
from ..rounding import money
from .shapes import CENT, PRICE_FACTOR_DISCOUNT, PRICE_FACTOR_PRICE, PRICE_KIND_GROSS, price_as_shop, vat_percent

log = logging.getLogger(__name__)
# {product id: (VAT %, {sale price type: (value, kind)})}: every card's prices, as price lists need them
PriceBook = dict[int, tuple[int, dict[int, tuple[Any, Any]]]]


class WebApiPriceLists:
    """Price lists through the WebAPI."""

    def get_price_list(self, list_id: int, book: Callable[[], PriceBook] | None = None) -> PriceList:
        """`GET /api/PriceLists?id=`: the list's prices (of erp.webapi_sale_price_type where a product has
        several; else its first) as the shop enters prices, and whom it is for: contractors, and contractor kinds
        as groups (GUESS: the kind is Handel's price group). 404: ErpNotFound.

        Each entry as its model says: Type Price (1) is a price of its PriceKind (gross or net: converted at the
        product's VAT where the shop's kind differs); Type Discount (0) is a percentage off the card's price of
        its PriceType. Both need the cards' VAT and prices: `book()` (price_book), read once when needed."""
        p = self.webapi.call("GET", "/PriceLists", params={"id": int(list_id)})
        prices: dict[int, tuple[Decimal, str]] = {}
        for item in p.get("Products") or []:
            offers = [x for x in item.get("Prices") or [] if isinstance(x, dict) and x.get("Value") is not None]
            offers.sort(key=lambda x: x.get("PriceType") != self.sale_price_type)
            if not offers or not item.get("Id"):
                continue
            pid, offer, kind = int(item["Id"]), offers[0], offers[0].get("PriceKind")
            if offer.get("Type") == PRICE_FACTOR_PRICE and (kind in (None, 0) or
                                                            (kind == PRICE_KIND_GROSS) == self.prices_gross):
                prices[pid] = (money(float(offer["Value"])), offer.get("Currency") or "PLN")  # as the shop has it
                continue
            if book is None:
                book = functools.cache(self.price_book)
            vat, card = book().get(pid, (0, {}))
            if offer.get("Type") == PRICE_FACTOR_PRICE:
                price = price_as_shop(offer["Value"], offer.get("PriceKind"), vat, self.prices_gross)
            elif offer.get("Type") == PRICE_FACTOR_DISCOUNT and offer.get("PriceType") in card:
                value, kind = card[offer.get("PriceType")]
                before = price_as_shop(value, kind, vat, self.prices_gross)
                price = (before * (1 - money(float(offer["Value"])) / 100)).quantize(CENT, rounding=ROUND_HALF_UP)
            else:
                log.warning("price list %s: product %s has a %s the sync does not read (Type %r, PriceType %r); "
                            "left out", p.get("Code"), pid, "discount" if offer.get("Type") == 0 else "price",
                            offer.get("Type"), offer.get("PriceType"))
                continue
            prices[pid] = (price, offer.get("Currency") or "PLN")
        return PriceList(id=int(p["Id"]), code=p.get("Code") or "", individual=not p.get("ForAllContractors", True),
                         active=p.get("Active") is not False, prices=prices,
                         contractors=tuple(int(c["Id"]) for c in p.get("Contractors") or [] if c.get("Id")),
                         groups=tuple(int(k["Id"]) for k in p.get("ContractorKinds") or [] if k.get("Id")))

    def price_book(self) -> PriceBook:
        """Every card's VAT and sale prices in one call (`PATCH Products/FilterSql/WithSalePrices`):
        {product id: (VAT %, {price type: (value, kind)})}."""
        out: PriceBook = {}
        for p in self.webapi.call("PATCH", "/Products/FilterSql/WithSalePrices", body={}) or []:
            if isinstance(p, dict) and p.get("Id"):
                out[int(p["Id"])] = (vat_percent(p.get("VatRate")), {
                    x.get("Type"): (x.get("Value"), x.get("Kind")) for x in p.get("SalePrices") or []
                    if isinstance(x, dict) and x.get("Value") is not None})
        return out

    def price_list_ids(self) -> list[int]:
        """Every price list but the base one (`GET /api/PriceLists`)."""
        return [int(x["Id"]) for x in self.webapi.call("GET", "/PriceLists") or []
                if x.get("Code") != self.base_price_list]

    def _active_lists(self) -> list[PriceList]:
        book = functools.cache(self.price_book)  # read once for all the lists, and only if one needs it
        return [pl for pl in (self.get_price_list(i, book) for i in self.price_list_ids()) if pl.active]

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
