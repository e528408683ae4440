"""Products through the WebAPI: cards read (one, or every card in a few list calls), codes looked up, the
marked list, the console's search, and the initial import's creates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from typing import Any, Sequence

from ..errors import ErpNotFound, ErpPermanent, ErpRetryable
from ..records import Product, ProductDraft
from .shapes import (BY_CODE_UP_TO, BY_PRODUCT_UP_TO, MODIFY_DELETE, PRICE_KIND_GROSS, PRICE_KIND_NET,
                     PRICE_PARAMETER_MARKUP, PRODUCT_ARTICLE, SQL_EQUALS, SQL_LIKE, _local, _num, price_as_shop,
                     vat_percent)

log = logging.getLogger(__name__)
CARD_MAX_AGE_SECONDS = 24 * 3600.0  # a card's note and catalog kept from its last whole read at most this long
CARD_FEED_OVERLAP = dt.timedelta(seconds=60)
# The list of every code and the catalog tree are kept this long between an import's pages: a code the ERP gets
# meanwhile from someone else is refused by Products/Create (a used code) and paired on the next run.
LIST_KEPT_SECONDS = 60.0
# A catch-up lists the marked products, then reads the cards: the list it made a moment ago serves both.
MARKED_FRESH_SECONDS = 5.0  # the feed is asked from a minute before the last ask (clocks)


def _no_catalogs(paths: Sequence[tuple[str, ...]]) -> str:
    names = ", ".join(" > ".join(p) for p in paths)
    return (f"Symfonia has no product catalog {names}, and its WebAPI cannot make one: create it in Symfonia "
            "(Towary, Katalogi), then run the import again")


class WebApiProducts:
    """Products through the WebAPI."""

    # -- reads -------------------------------------------------------------------------------------------
    def get_products(self, ids: Sequence[int]) -> dict[int, Product]:
        """Products by id (an id the ERP does not have is left out): the marker (`Marker`, or the feature as a
        `Dimensions` entry), the catalog's path as the group, the note, VAT, and the base price: the card's
        sale price of erp.webapi_sale_price_type. A few are read whole, one `GET /api/Products?id=` each; many
        (a catch-up, a reconciliation) in a few list calls (see _read_many)."""
        wanted = sorted({int(i) for i in ids})
        if len(wanted) <= BY_PRODUCT_UP_TO:
            return self._read_each(wanted)
        return self._read_many(wanted)

    def _read_each(self, ids: Sequence[int]) -> dict[int, Product]:
        out: dict[int, Product] = {}
        for pid in ids:
            try:
                out[pid] = self._remember(self._product(self.webapi.call("GET", "/Products", params={"id": pid})))
            except ErpNotFound:
                self._cards.pop(pid, None)
                continue
        return out

    def _remember(self, product: Product) -> Product:
        """A card read whole, kept for the list reads: its note and catalog are in no list the API has."""
        self._cards[product.id] = (time.monotonic(), product)
        return product

    def _read_many(self, ids: Sequence[int]) -> dict[int, Product]:
        """Many products in a few calls: every card's code, name, activity, unit, VAT and sale prices from one
        `PATCH Products/FilterSql/WithSalePrices`, the marked ones from one FilterSql by the marker, and what no
        list carries (the note, the catalog) from the card as last read whole. The Products change feed since
        the last such read (`Products/IncrementalSync`, one call, its objects whole cards) refreshes the cards
        that changed; a card never read, or read more than CARD_MAX_AGE ago, is read whole again.
        GUESS: every save of a card (its note, its catalog) appears in the Products feed, as the reference says
        of any save; where change tracking is off, notes and catalogs are at most CARD_MAX_AGE old here (the
        hooks carry a note edited in Symfonia at once either way)."""
        self._refresh_cards_from_feed()
        listed = {int(p["Id"]): p for p in self.webapi.call("PATCH", "/Products/FilterSql/WithSalePrices", body={})
                  or [] if isinstance(p, dict) and p.get("Id")}
        marked = set(self._marked_ids(max_age=MARKED_FRESH_SECONDS))
        now = time.monotonic()
        stale = [pid for pid in ids if pid in listed and (pid not in self._cards or
                                                          now - self._cards[pid][0] > CARD_MAX_AGE_SECONDS)]
        fresh = self._read_each(stale)
        out: dict[int, Product] = {}
        for pid in ids:
            if pid not in listed or pid not in self._cards:
                continue  # not in the ERP (any more)
            if pid in fresh:
                out[pid] = fresh[pid]
                continue
            card, p = self._cards[pid][1], listed[pid]
            prices = [x for x in p.get("SalePrices") or [] if isinstance(x, dict)
                      and x.get("Type") == self.sale_price_type and x.get("Value") is not None]
            vat = vat_percent(p.get("VatRate"))
            out[pid] = dataclasses.replace(
                card, code=p.get("Code") or card.code, name=p.get("Name") or "", ean=p.get("Barcode") or "",
                unit=p.get("Unit") or card.unit, vat=vat, active=p.get("Active") is not False,
                marked=pid in marked if self.marker.native else card.marked,
                base_price=price_as_shop(prices[0]["Value"], prices[0].get("Kind"), vat, self.prices_gross)
                if prices else None)
        return out

    def _refresh_cards_from_feed(self) -> None:
        """The cards the Products feed says changed since the last list read: kept whole from its objects."""
        now = dt.datetime.now()
        since, self._cards_feed_at = self._cards_feed_at, now
        if since is None or not self._cards:
            return
        for element in self.webapi.call("GET", "/Products/IncrementalSync",
                                        params={"dateFrom": _local(since - CARD_FEED_OVERLAP)}) or []:
            if not isinstance(element, dict) or not element.get("Id"):
                continue
            if element.get("ModifyType") == MODIFY_DELETE or not isinstance(element.get("Object"), dict):
                self._cards.pop(int(element["Id"]), None)
            else:
                self._remember(self._product(element["Object"]))

    def _product(self, p: Any) -> Product:
        if not isinstance(p, dict) or not p.get("Id"):
            raise ErpRetryable(f"Symfonia WebAPI answered a product without an id: {str(p)[:100]}")
        marker = self.marker
        if marker.native:
            raw: Any = p.get("Marker")
        else:  # GUESS: a product feature comes as a Dimension coded by the feature's name
            raw = next((d.get("Value") for d in p.get("Dimensions") or []
                        if isinstance(d, dict) and marker.feature in (d.get("Code"), d.get("Name"))), None)
        catalog = p.get("Catalog") or {}
        prices = [x for x in p.get("SalePrices") or [] if isinstance(x, dict)
                  and x.get("Type") == self.sale_price_type and x.get("Value") is not None]
        vat = vat_percent((p.get("VatRate") or {}).get("Code"))
        # The card's price as the shop enters prices: its Kind (gross or net) converted where they differ.
        base = price_as_shop(prices[0]["Value"], prices[0].get("Kind"), vat, self.prices_gross) if prices else None
        return Product(id=int(p["Id"]), code=p.get("Code") or "", name=p.get("Name") or "",
                       ean=p.get("Barcode") or "", unit=(p.get("UnitsOfMeasurement") or {}).get("RecordUM") or "",
                       vat=vat,
                       # GUESS: FullPath joins the catalog names with a backslash, root first
                       group_path=tuple(x for x in str(catalog.get("FullPath") or "").split("\\") if x),
                       marked=marker.is_marked(raw), note=p.get("Note") or "", active=p.get("Active") is not False,
                       # GUESS (as for the marker): a card's features are its Dimensions, coded by the feature's name
                       features={str(d.get("Code") or d.get("Name")): str(d.get("Value"))
                                 for d in p.get("Dimensions") or [] if isinstance(d, dict)
                                 and (d.get("Code") or d.get("Name")) and d.get("Value") not in (None, "")},
                       modified="", base_price=base)

    def find_products_by_codes(self, codes: Sequence[str]) -> dict[str, int]:
        """Code -> id for the codes the ERP has: `GET /api/Products?code=` for a few, one `PATCH
        Products/FilterSql` listing every product for many (the initial import asks for thousands)."""
        wanted = list(dict.fromkeys(codes))
        if len(wanted) > BY_CODE_UP_TO:
            now = time.monotonic()
            if self._code_index is None or now - self._code_index[0] > LIST_KEPT_SECONDS:
                listed = self.webapi.call("PATCH", "/Products/FilterSql", body={}) or []
                self._code_index = (now, {str(p.get("Code")): int(p["Id"]) for p in listed
                                          if isinstance(p, dict) and p.get("Id")})
            every = self._code_index[1]
            return {c: every[c] for c in wanted if c in every}
        out: dict[str, int] = {}
        for code in wanted:
            try:
                out[code] = int(self.webapi.call("GET", "/Products", params={"code": code})["Id"])
            except ErpNotFound:
                continue
        return out

    def products_by_codes(self, codes: Sequence[str]) -> dict[str, Product]:
        """The products with these codes, read whole: `GET /api/Products?code=` answers the whole card, so one
        call per code (an order's lines, its shipping and fee items)."""
        out: dict[str, Product] = {}
        for code in dict.fromkeys(c for c in codes if c):
            try:
                card = self.webapi.call("GET", "/Products", params={"code": code})
                out[code] = self._remember(self._product(card))
            except ErpNotFound:
                continue
        return out

    def marked_product_ids(self, after_id: int = 0, limit: int = 1000) -> list[int]:
        """Ids of products carrying the marker, in id order, paged by `after_id`: `PATCH Products/FilterSql`
        with Marker equal to the site's number, or (a feature) `PATCH Products/Filter` by that Dimension
        (GUESS). The whole list is asked for once per pass (the API does not page by id) and kept for a minute."""
        return [i for i in self._marked_ids(max_age=0.0 if after_id == 0 else 60.0) if i > after_id][:limit]

    def _marked_ids(self, max_age: float) -> list[int]:
        """Every marked id, asked again when the list kept is older than `max_age` seconds."""
        now = time.monotonic()
        if self._marked is None or now - self._marked[0] > max_age:
            marker = self.marker
            if marker.native:
                found = self.webapi.call("PATCH", "/Products/FilterSql", body={
                    "Marker": {"Value_From": marker.number, "Value_To": marker.number, "Mode": SQL_EQUALS}})
            else:
                found = self.webapi.call("PATCH", "/Products/Filter", params={"salePrices": "false"}, body={
                    # FilterDimensionCriteria: DictionaryValue is a string (not nullable) in the model
                    "Dimensions": [{"Code": marker.feature, "Value": marker.value, "Id": None,
                                    "DictionaryValue": ""}]})
            self._marked = (now, sorted(int(p["Id"]) for p in found or [] if p.get("Id")))
        return self._marked[1]

    def search_products(self, text: str, limit: int = 50) -> list[int]:
        """Ids of products whose code or name contains `text` (or whose id it is), in code order: `PATCH
        Products/FilterSql` with Like on the code and on the name."""
        text = text.strip()
        if not text:
            return []
        by_id = [int(text)] if text.isdigit() and len(text) < 10 and self.get_products([int(text)]) else []
        pattern = f"%{text.replace('%', '_')}%"
        found: dict[int, str] = {}
        for field in ("Code", "Name"):
            for p in self.webapi.call("PATCH", "/Products/FilterSql",
                                      body={field: {"Value": pattern, "Mode": SQL_LIKE}}) or []:
                found.setdefault(int(p["Id"]), p.get("Code") or "")
        ordered = sorted(found, key=lambda i: (found[i], i))
        return (by_id + [i for i in ordered if i not in by_id])[:limit]

    def create_products(self, drafts: Sequence[ProductDraft]) -> dict[str, int]:
        """The initial import through `POST /api/Products/Create`, one card per draft, plain text: a code the
        ERP has already is paired as it is (ERP data win); an unanswered request is found again by its code
        before anything is sent twice. Returns code -> id for every draft."""
        for d in drafts:
            if not d.code or len(d.code) > self.max_code_length:
                raise ErpPermanent(f"product code {d.code!r}: must be 1..{self.max_code_length} characters")
        out = self.find_products_by_codes([d.code for d in drafts])
        paths = [tuple(d.group_path) for d in drafts if d.group_path]
        catalogs = self.catalogs(paths) if paths else {}
        missing = sorted({d.group_path for d in drafts if d.group_path and d.group_path not in catalogs
                          and d.code not in out})
        if missing:
            raise ErpPermanent(_no_catalogs(missing))
        for d in drafts:
            if d.code in out:
                continue
            key, what = f"webapi.product.{d.code}", f"product {d.code}"
            self._refuse_if_held(key, what)
            answer, found = self._send_once(key, what, lambda: self.webapi.call(  # noqa: B023 - called at once
                "POST", "/Products/Create", body=self.product_body(d, catalogs)),
                lambda: self.find_products_by_codes([d.code]).get(d.code))  # noqa: B023
            if found is not None:
                answer = {"Id": found}
            out[d.code] = int(answer["Id"])
            if self._code_index is not None:
                self._code_index[1][d.code] = out[d.code]  # the list kept for the import's next page knows it
        return out

    def catalogs(self, wanted: Sequence[tuple[str, ...]] = ()) -> dict[tuple[str, ...], dict[str, Any]]:
        """The company's product catalogs by their path (`GET /api/Products/Catalogs`: the tree, each with its
        ParentId; GUESS: FullPath joins the names with a backslash, root first)."""
        now = time.monotonic()
        kept = self._catalog_tree
        # kept a minute, unless a path asked for is not in it (a person may have made it since)
        if kept is None or now - kept[0] > LIST_KEPT_SECONDS or any(p not in kept[1] for p in wanted):
            tree: dict[tuple[str, ...], dict[str, Any]] = {}
            for c in self.webapi.call("GET", "/Products/Catalogs") or []:
                if isinstance(c, dict) and c.get("Id"):
                    tree[tuple(x for x in str(c.get("FullPath") or "").split("\\") if x)] = c
            self._catalog_tree = (now, tree)
        return self._catalog_tree[1]

    def missing_catalogs(self, paths: Sequence[tuple[str, ...]]) -> list[tuple[str, ...]]:
        """The paths the company has no catalog for: the WebAPI has no call that makes one."""
        wanted = sorted({tuple(p) for p in paths if p})
        if not wanted:
            return []
        have = self.catalogs(wanted)
        return [p for p in wanted if p not in have]

    def product_body(self, d: ProductDraft, catalogs: dict[tuple[str, ...], dict[str, Any]] | None = None
                     ) -> dict[str, Any]:
        """A Product for Products/Create: the shop's product as a card. The marker as the site agreed (Marker,
        or the feature as a Dimension: GUESS), the catalog the company has at the product's path (by its Id;
        the WebAPI makes no catalogs), the price as the card's sale price of erp.webapi_sale_price_type."""
        marker = self.marker
        body: dict[str, Any] = {
            "Code": d.code, "Name": d.name[:100], "Active": True, "Type": PRODUCT_ARTICLE, "Barcode": d.ean[:150],
            "VatRate": {"Id": None, "Code": str(d.vat)}, "UnitsOfMeasurement": {"RecordUM": d.unit[:8]},
            "Note": d.note or None,
            "Marker": marker.number if marker.native and d.marked else 0,
        }
        if d.group_path:
            catalog = (catalogs if catalogs is not None else self.catalogs()).get(tuple(d.group_path))
            if catalog is None:
                raise ErpPermanent(_no_catalogs([tuple(d.group_path)]))
            body["Catalog"] = {k: catalog.get(k) for k in ("Id", "ParentId", "Name", "FullPath")}
        if d.price is not None:
            # The shop's price as the shop entered it: gross where its prices include tax, else net.
            kind = PRICE_KIND_GROSS if d.price_gross else PRICE_KIND_NET
            body["SalePrices"] = [{"Type": self.sale_price_type, "Kind": kind, "Value": _num(d.price),
                                   "Currency": "PLN", "PriceParameter": PRICE_PARAMETER_MARKUP}]
        dimensions = dict(d.features)
        if not marker.native:
            dimensions[marker.feature] = marker.value if d.marked else ""
        if dimensions:  # GUESS (as for the marker): a feature is a Dimension coded by its name
            body["Dimensions"] = [{"Name": name, "Code": name, "Type": "Tekst", "Value": value,
                                   "DictionaryValue": None} for name, value in dimensions.items()]
        return body
