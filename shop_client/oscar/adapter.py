"""django-oscar (with django-oscar-api's admin API) behind the ShopClient interface.

Where things live in Oscar:
- SKU: the product's `upc` and its stock record's `partner_sku` (one partner, shop.oscar_partner);
- price and stock: the stock record (`price`, `num_in_stock`);
- category: Oscar's breadcrumbs, `A > B` (created by Oscar on first use);
- published / hidden: `is_public`;
- main image: the first of `images` (Oscar downloads `original` from our URL).

Oscar has no batch API (one call per product), no webhooks (orders are polled) and
no place for a customer's tax id, a pairing status or price lists: those
capabilities are not declared, and the sync says so instead of sending them.
Auth: HTTP Basic with a staff user (shop.consumer_key = user name,
shop.consumer_secret = password), as the admin API takes it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from decimal import Decimal
from typing import Any, Iterator, Sequence

import httpx

from shop_client.files import fetch_limited
from shop_client.values import decimal_or_none as _dec
from shop_client.errors import ShopError, ShopNotFound, ShopRejected, ShopUnavailable
from shop_client.http import error_for
from shop_client.options import ShopOptions
from shop_client.oscar.fields import slug as _slug, stock_record
from shop_client.oscar.variations import OscarVariations
from shop_client.interface import (CAP_IMAGES, CAP_VARIATIONS, SIMPLE, VARIABLE, VARIATION, ITEM_GONE, Address,
                                   CustomerPage, ImageRef, ItemResult, OrderPage,
                                   ProductChange, ProductPage, ShopClient, ShopCustomer, ShopOrder, ShopOrderLine,
                                   ShopProduct)

log = logging.getLogger(__name__)
SEPARATOR = " > "
_ID_IN_URL = re.compile(r"/(\d+)/?$")


def _id_of(url: str | None) -> int:
    m = _ID_IN_URL.search(url or "")
    return int(m.group(1)) if m else 0


class OscarShop(OscarVariations, ShopClient):
    capabilities = frozenset({CAP_IMAGES, CAP_VARIATIONS})

    def __init__(self, url: str, username: str, password: str, options: ShopOptions | None = None, *,
                 transport: httpx.BaseTransport | None = None, **changes: Any) -> None:
        """`options` (defaults when None) with `changes` (fields to differ from them)."""
        o = dataclasses.replace(options or ShopOptions(), **changes)
        timeout, verify_tls = o.timeout_seconds, o.verify_tls
        base = url.rstrip("/")
        self.base_url = base
        self.api = base + "/api"
        self.partner_code = o.oscar_partner
        self.product_class = o.oscar_product_class
        self._partner_url: str | None = None
        self._ids_by_upc: dict[str, int] = {}  # ids found by upc (find_product_ids_by_sku), checked by GET
        self.http = httpx.Client(base_url=self.api, auth=httpx.BasicAuth(username, password), verify=verify_tls,
                                 transport=transport, timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
                                 headers={"Accept": "application/json", "Accept-Language": "en",
                                          "User-Agent": "shopsync/0.1"})
        self.files = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)), verify=verify_tls,
                                  transport=transport, follow_redirects=True)
        self._sku_by_product: dict[int, str] = {}

    @classmethod
    def from_settings(cls, shop: Any) -> "OscarShop":
        return cls(shop.url, shop.consumer_key, shop.consumer_secret, ShopOptions.of(shop))

    def close(self) -> None:
        self.http.close()
        self.files.close()

    # -- the wire ------------------------------------------------------------
    def _send(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        try:
            resp = self.http.request(method, path, params=params, json=body)
        except httpx.TimeoutException as exc:
            raise ShopUnavailable(f"shop did not answer {method} {path} in time") from exc
        except httpx.TransportError as exc:
            raise ShopUnavailable(f"cannot reach the shop at {self.base_url}: {type(exc).__name__}") from exc
        if resp.status_code >= 400:
            text = resp.text[:300].replace("\n", " ")
            # A 404 reading a list (no record id in the address) means the API is not where shop.url says.
            collection = method == "GET" and not any(part.isdigit() for part in path.split("/"))
            raise error_for(resp.status_code, f"shop answered {resp.status_code} to {method} {path}: {text}",
                            code=_invalid_fields(resp),
                            auth_hint="check shop.consumer_key (user) / shop.consumer_secret (password) and that "
                                      "the user is staff", no_such_route=collection)
        return resp.json() if resp.content else None

    def _list(self, path: str, page_size: int = 100) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        """Pages of a list endpoint, paginated (limit/offset) or not (one plain list)."""
        data = self._send("GET", path, params={"limit": page_size, "offset": 0})
        while True:
            if isinstance(data, list):
                yield data, len(data)
                return
            yield data.get("results", []), data.get("count")
            nxt = data.get("next")
            if not nxt:
                return
            try:
                resp = self.http.get(nxt)
            except httpx.TransportError as exc:
                raise ShopUnavailable(f"cannot reach the shop at {self.base_url}: {type(exc).__name__}") from exc
            if resp.status_code >= 400:
                raise ShopUnavailable(f"shop answered {resp.status_code} while paging {path}")
            data = resp.json()

    def ping(self) -> None:
        self._send("GET", "/admin/partners/")

    @property
    def partner_url(self) -> str:
        if self._partner_url is None:
            for items, _ in self._list("/admin/partners/"):
                for p in items:
                    if p.get("code") == self.partner_code:
                        self._partner_url = p["url"]
            if self._partner_url is None:
                raise ShopRejected(f"the shop has no partner with code {self.partner_code!r} (shop.oscar_partner)")
        return self._partner_url

    # -- products ------------------------------------------------------------
    def _product(self, raw: dict[str, Any]) -> ShopProduct:
        records = raw.get("stockrecords") or []
        record = next((r for r in records if r.get("partner") == self._partner_url), records[0] if records else {})
        cats = raw.get("categories") or []
        images = sorted(raw.get("images") or [], key=lambda i: i.get("display_order", 0))
        stock = None
        if record:
            stock = Decimal(record.get("num_in_stock") or 0) - Decimal(record.get("num_allocated") or 0)
        sku = raw.get("upc") or record.get("partner_sku") or ""
        self._sku_by_product[int(raw["id"])] = sku
        structure = raw.get("structure") or "standalone"
        kind = {"parent": VARIABLE, "child": VARIATION}.get(structure, SIMPLE)
        attributes = {str(a.get("name") or a.get("code")): a.get("value") for a in raw.get("attributes") or ()
                      if isinstance(a, dict)} if kind == VARIATION else {}
        return ShopProduct(id=int(raw["id"]), sku=sku, name=raw.get("title") or "", price=_dec(record.get("price")),
                           kind=kind, parent_id=int(raw.get("parent") or 0) if kind == VARIATION else 0,
                           attributes=attributes,
                           description=raw.get("description") or "",
                           category_path=tuple(cats[0].split(SEPARATOR)) if cats else (),
                           published=bool(raw.get("is_public")), stock=stock,
                           image_url=images[0].get("original", "") if images else "",
                           modified=raw.get("date_updated") or "")

    def iter_products(self, page_size: int = 100, start_page: int = 1) -> Iterator[ProductPage]:
        page = 0
        for items, total in self._list("/admin/products/", page_size):
            page += 1
            if page < start_page:
                continue
            # a parent's children are listed under it (iter_variations), as WooCommerce lists variations
            yield ProductPage(items=[self._product(p) for p in items if p.get("structure") != "child"], total=total,
                              page=page, pages=None)

    def get_product(self, shop_id: int) -> ShopProduct:
        return self._product(self._send("GET", f"/admin/products/{int(shop_id)}/"))

    def find_product_ids_by_sku(self, skus: Sequence[str]) -> dict[str, int]:
        """Ids by SKU (Oscar's upc). The admin list finds a product by its upc only through a PATCH that changes
        nothing but saves the whole row, so it could write back a title read a moment before another update
        (a lost update): an id found once is kept and checked with a plain GET from then on."""
        out = {}
        for sku in skus:
            known = self._ids_by_upc.get(sku)
            if known is not None:
                try:
                    if self._send("GET", f"/admin/products/{known}/").get("upc") == sku:
                        out[sku] = known
                        continue
                except ShopNotFound:
                    pass
                self._ids_by_upc.pop(sku, None)
            try:
                out[sku] = self._ids_by_upc[sku] = int(self._send("PATCH", "/admin/products/", body={"upc": sku})["id"])
            except ShopNotFound:
                continue
        return out

    def ensure_category(self, path: Sequence[str]) -> int:
        wanted = SEPARATOR.join(p.strip() for p in path if p.strip())
        for items, _ in self._list("/categories/"):
            for c in items:
                if c.get("breadcrumbs") == wanted:
                    return _id_of(c.get("url"))
        raise ShopNotFound(f"category {wanted!r} does not exist yet (Oscar creates it with the first product in it)")

    def _body(self, change: ProductChange) -> dict[str, Any]:
        f = change.fields
        body: dict[str, Any] = {}
        if change.shop_id is None:
            body.update({"upc": change.sku, "slug": _slug(change.sku), "product_class": self.product_class,
                         "title": f.get("name") or change.sku,
                         "structure": "parent" if f.get("variable") else "standalone"})
        if "sku" in f:
            body["upc"] = f["sku"]
        if "name" in f:
            body["title"] = f["name"]
        if "description" in f:
            body["description"] = f["description"]
        if "published" in f:
            body["is_public"] = bool(f["published"])
        if "category_path" in f:
            path = SEPARATOR.join(p.strip() for p in f["category_path"] if p.strip())
            body["categories"] = [path] if path else []
        if change.shop_id is None and f.get("image") and f["image"].url:
            body["images"] = [{"original": f["image"].url, "caption": change.sku, "display_order": 0}]
        record = stock_record(f)
        if (record or change.shop_id is None) and not f.get("variable"):  # a parent is never bought: no record
            body["stockrecords"] = [{"partner": self.partner_url, "partner_sku": f.get("sku", change.sku),
                                     "price_currency": "PLN", **record}]
        return body

    def _put(self, shop_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        """Update a product with PUT: Oscar's PATCH adds to categories and images instead of replacing them."""
        current = self._send("GET", f"/admin/products/{int(shop_id)}/")
        body = {k: current.get(k) for k in ("upc", "slug", "title", "product_class", "structure")}
        if current.get("structure") == "child":
            body["parent"] = current.get("parent")
        body.update({k: v for k, v in changes.items() if k != "stockrecords"})
        if "stockrecords" in changes:
            # Keep other partners' stock records; a PUT would delete what it does not name.
            ours = changes["stockrecords"][0]
            records = []
            for r in current.get("stockrecords") or []:
                keep = {k: r.get(k) for k in ("partner", "partner_sku", "price_currency", "price", "num_in_stock")}
                records.append({**keep, **ours} if r.get("partner") == ours["partner"] else keep)
            if not any(r.get("partner") == ours["partner"] for r in current.get("stockrecords") or []):
                records.append(ours)
            body["stockrecords"] = records
        return self._send("PUT", f"/admin/products/{int(shop_id)}/", body=body)

    def upsert_products(self, changes: Sequence[ProductChange]) -> list[ItemResult]:
        results = []
        for change in changes:
            try:
                body = self._body(change)
                if change.shop_id is not None:
                    raw = self._put(change.shop_id, body)
                else:
                    try:
                        raw = self._send("POST", "/admin/products/", body=body)
                    except ShopRejected as exc:
                        if not {"upc", "slug"} & set(exc.code.split(",")):
                            raise
                        # Already in the shop (e.g. created before a crash): update it, found by upc.
                        raw = self._send("PATCH", "/admin/products/", body=body)
                images = sorted(raw.get("images") or [], key=lambda i: i.get("display_order", 0))
                results.append(ItemResult(key=change.sku, shop_id=int(raw["id"]),
                                          image_src=str(images[0].get("original") or "") if images else ""))
            except ShopNotFound as exc:
                results.append(ItemResult.failed(change.sku, str(exc), ITEM_GONE))
            except ShopRejected as exc:
                results.append(ItemResult.failed(change.sku, str(exc)))
        return results

    def set_main_image(self, shop_id: int, image: ImageRef | None, name: str = "",
                       discard_media: Sequence[int] = ()) -> ItemResult:
        # Oscar downloads images from a URL (it takes no uploads through its API): image.url.
        url = image.url if image is not None else None
        current = self._send("GET", f"/admin/products/{int(shop_id)}/").get("images") or []
        rest = [{"original": i["original"], "caption": i.get("caption", ""), "display_order": n + 1}
                for n, i in enumerate(sorted(current, key=lambda i: i.get("display_order", 0))[1:])]
        images = ([{"original": url, "caption": name, "display_order": 0}] if url else []) + rest
        now = self._put(shop_id, {"images": images}).get("images") or []
        main = sorted(now, key=lambda i: i.get("display_order", 0))[:1]
        return ItemResult(key=str(shop_id), shop_id=shop_id,
                          image_src=str(main[0].get("original") or "") if url and main else "")

    def download(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        return fetch_limited(self.files, url, max_bytes)

    # -- customers -----------------------------------------------------------
    def _customer(self, raw: dict[str, Any]) -> ShopCustomer:
        return ShopCustomer(id=_id_of(raw.get("url")) or int(raw.get("id", 0)), email=raw.get("email") or "",
                            first_name=raw.get("first_name") or "", last_name=raw.get("last_name") or "",
                            billing=Address(email=raw.get("email") or ""), tax_id="",
                            staff=bool(raw.get("is_staff") or raw.get("is_superuser")))

    def iter_customers(self, page_size: int = 100) -> Iterator[CustomerPage]:
        for items, total in self._list("/admin/users/", page_size):
            yield CustomerPage(items=[self._customer(u) for u in items], total=total)

    def get_customer(self, customer_id: int) -> ShopCustomer:
        return self._customer(self._send("GET", f"/admin/users/{int(customer_id)}/"))

    def set_customer_pairing(self, statuses: Sequence[tuple[int, dict[str, Any]]]) -> list[ItemResult]:
        raise ShopError("this shop (django-oscar) has no place for a customer's pairing status")

    def set_customer_price_lists(self, lists: Sequence[tuple[int, list[str]]]) -> list[ItemResult]:
        raise ShopError("this shop (django-oscar) has no price lists")

    # -- orders --------------------------------------------------------------
    @staticmethod
    def _address(raw: dict[str, Any] | None, email: str = "") -> Address:
        raw = raw or {}
        country = raw.get("country") or ""
        return Address(first_name=raw.get("first_name") or "", last_name=raw.get("last_name") or "",
                       address_1=raw.get("line1") or "", address_2=raw.get("line2") or "",
                       city=raw.get("line4") or "", postcode=raw.get("postcode") or "",
                       country=country.rstrip("/").rsplit("/", 1)[-1] if country else "", email=email,
                       phone=raw.get("phone_number") or "")

    def _sku_of(self, product_id: int) -> str:
        if product_id not in self._sku_by_product:
            try:
                self.get_product(product_id)
            except ShopNotFound:
                self._sku_by_product[product_id] = ""
        return self._sku_by_product[product_id]

    def _order(self, raw: dict[str, Any]) -> ShopOrder:
        oid = _id_of(raw.get("url"))
        lines = []
        for items, _ in self._list(f"/admin/orders/{oid}/lines/"):
            for li in items:
                pid = _id_of(li.get("product"))
                qty = Decimal(li.get("quantity") or 0)
                total = _dec(li.get("price_excl_tax")) or Decimal(0)
                lines.append(ShopOrderLine(product_id=pid, sku=self._sku_of(pid), name="", quantity=qty,
                                           unit_price=(total / qty).quantize(Decimal("0.0001")) if qty else total))
        email = raw.get("email") or ""
        owner = raw.get("owner")
        return ShopOrder(id=oid, number=str(raw.get("number") or oid), status=raw.get("status") or "",
                         currency=raw.get("currency") or "PLN",
                         customer_id=_id_of(owner) if isinstance(owner, str) else 0,
                         billing=self._address(raw.get("billing_address"), email),
                         shipping=self._address(raw.get("shipping_address"), email), lines=tuple(lines),
                         created=raw.get("date_placed") or "", modified=raw.get("date_placed") or "")

    def iter_orders(self, modified_after: dt.datetime | None, statuses: Sequence[str],
                    page_size: int = 100) -> Iterator[OrderPage]:
        # The admin API cannot filter: filter here (orders change little after they are placed).
        for items, total in self._list("/admin/orders/", page_size):
            chosen = []
            for o in items:
                if statuses and o.get("status") not in statuses:
                    continue
                placed = o.get("date_placed") or ""
                if modified_after is not None and placed:
                    when = dt.datetime.fromisoformat(placed.replace("Z", "+00:00"))
                    if when <= modified_after.astimezone(dt.timezone.utc):
                        continue
                chosen.append(self._order(o))
            yield OrderPage(items=chosen, total=total)

    def get_order(self, order_id: int) -> ShopOrder:
        return self._order(self._send("GET", f"/admin/orders/{int(order_id)}/"))


def _invalid_fields(resp: httpx.Response) -> str:
    """The fields Django REST framework names in a 400 answer ({"upc": ["... already exists."]}), as the
    error's code ("upc,slug"): what was wrong, read from the answer's structure, not its words."""
    if resp.status_code != 400:
        return ""
    try:
        body = resp.json()
    except ValueError:
        return ""
    return ",".join(sorted(str(k) for k in body)) if isinstance(body, dict) else ""
