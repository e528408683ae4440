"""A shop in memory, for unit tests of one synchronizer (end-to-end tests use real shops).

It answers as the ShopClient interface promises: per-item results with a kind, and
whole-call failures as the shop error kinds. A test scripts what goes wrong.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any, Iterator, Sequence

from shop_client.errors import ShopError
from shop_client.interface import (
    CAP_IMAGES,
    CAP_PAIRING_STATUS,
    CAP_PRICE_LISTS,
    ITEM_GONE,
    ITEM_OK,
    CustomerPage,
    ImageRef,
    ItemResult,
    OrderPage,
    ProductChange,
    ProductPage,
    ShopClient,
    ShopCustomer,
    ShopOrder,
    ShopProduct,
)


class FakeShop(ShopClient):
    capabilities = frozenset({CAP_PRICE_LISTS, CAP_PAIRING_STATUS, CAP_IMAGES})

    def __init__(self) -> None:
        self.products: dict[int, dict[str, Any]] = {}
        self.customers: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, ShopOrder] = {}
        self.calls: list[str] = []
        self.fail_next: ShopError | None = None  # the next call fails as a whole with this
        self.item_kind: dict[str, tuple[str, str]] = {}  # key -> (kind, error) for the next result of that key
        self._ids = itertools.count(1)

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc

    def _scripted(self, key: str) -> ItemResult | None:
        if key in self.item_kind:
            kind, error = self.item_kind.pop(key)
            return ItemResult.failed(key, error, kind)
        return None

    def ping(self) -> None:
        self._call("ping")

    def iter_products(self, page_size: int = 100, start_page: int = 1) -> Iterator[ProductPage]:
        self._call("iter_products")
        yield ProductPage(items=[self.get_product(i) for i in sorted(self.products)], total=len(self.products),
                          page=1, pages=1)

    def find_product_ids_by_sku(self, skus: Sequence[str]) -> dict[str, int]:
        return {p["sku"]: i for i, p in self.products.items() if p["sku"] in skus}

    def get_product(self, shop_id: int) -> ShopProduct:
        p = self.products[shop_id]
        return ShopProduct(id=shop_id, sku=p["sku"], name=p.get("name", ""), price=p.get("price"),
                           description=p.get("description", ""), category_path=tuple(p.get("category_path", ())),
                           published=bool(p.get("published")), stock=p.get("stock"), image_url=p.get("image", ""))

    def upsert_products(self, changes: Sequence[ProductChange]) -> list[ItemResult]:
        self._call("upsert_products")
        out = []
        for c in changes:
            scripted = self._scripted(c.sku)
            if scripted is not None:
                out.append(scripted)
                continue
            if c.shop_id is not None and c.shop_id not in self.products:
                out.append(ItemResult.failed(c.sku, "Invalid ID.", ITEM_GONE))
                continue
            shop_id = c.shop_id or next(self._ids)
            record = self.products.setdefault(shop_id, {"sku": c.sku})
            record.update({k: v for k, v in c.fields.items() if k != "image"})
            src = ""
            if c.fields.get("image"):
                record["image"] = src = f"https://shop.example/uploads/{shop_id}.png"
            out.append(ItemResult(key=c.sku, shop_id=shop_id, kind=ITEM_OK, image_src=src))
        return out

    def ensure_category(self, path: Sequence[str]) -> int:
        return 1

    def set_main_image(self, shop_id: int, image: ImageRef | None, name: str = "",
                       discard_media: Sequence[int] = ()) -> ItemResult:
        self._call("set_main_image")
        src = f"https://shop.example/uploads/{shop_id}-{next(self._ids)}.png" if image else ""
        self.products[shop_id]["image"] = src
        return ItemResult(key=str(shop_id), shop_id=shop_id, image_src=src)

    def download(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        raise AssertionError("no downloads in these tests")

    def iter_customers(self, page_size: int = 100) -> Iterator[CustomerPage]:
        yield CustomerPage(items=[self.get_customer(i) for i in sorted(self.customers)], total=len(self.customers))

    def get_customer(self, customer_id: int) -> ShopCustomer:
        self._call("get_customer")
        return self.customers[customer_id]["customer"]

    def set_customer_pairing(self, statuses: Sequence[tuple[int, dict[str, Any]]]) -> list[ItemResult]:
        self._call("set_customer_pairing")
        out = []
        for cid, status in statuses:
            scripted = self._scripted(str(cid))
            if scripted is not None:
                out.append(scripted)
            elif cid not in self.customers:
                out.append(ItemResult.failed(str(cid), "Invalid ID.", ITEM_GONE))
            else:
                self.customers[cid]["pairing"] = status
                out.append(ItemResult(key=str(cid), shop_id=cid))
        return out

    def set_customer_price_lists(self, lists: Sequence[tuple[int, list[str]]]) -> list[ItemResult]:
        self._call("set_customer_price_lists")
        return [ItemResult(key=str(cid), shop_id=cid) for cid, _ in lists]

    def iter_orders(self, modified_after: dt.datetime | None, statuses: Sequence[str],
                    page_size: int = 100) -> Iterator[OrderPage]:
        yield OrderPage(items=list(self.orders.values()), total=len(self.orders))

    def get_order(self, order_id: int) -> ShopOrder:
        self._call("get_order")
        return self.orders[order_id]

    def close(self) -> None:
        pass
