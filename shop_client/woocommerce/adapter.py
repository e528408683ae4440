"""WooCommerce REST API v3 behind the ShopClient interface.

- Basic auth over HTTPS, OAuth 1.0a (query-signed) over plain HTTP.
- Lists page with per_page 100 and X-WP-TotalPages.
- Batches carry at most 100 objects; a 413 halves the batch and tries again.
- One pooled httpx.Client with explicit timeouts; every httpx error is
  translated in _send, the one place that talks to the wire.
"""

from __future__ import annotations

import datetime as dt
import dataclasses
from dataclasses import replace
import json
import logging
import time
from decimal import Decimal
from typing import Any, Iterable, Iterator, Sequence

import httpx

from shop_client.files import fetch_limited
from shop_client.values import decimal_or_none as _dec
from shop_client.errors import ShopError, ShopNotFound, ShopRejected, ShopTimeout, ShopUnavailable
from shop_client.http import error_for
from shop_client.options import ShopOptions
from shop_client.interface import (CAP_CUSTOMER_TAX_ID, CAP_IMAGE_UPLOAD, CAP_IMAGES, CAP_INVOICES, CAP_ORDER_STATUS,
                                   CAP_PAIRING_STATUS, CAP_PRICE_LISTS, CAP_REFUNDS, ImageRef, RefundLine, ShopRefund,
                                   ITEM_GONE, ITEM_REJECTED, ITEM_RETRYABLE,
                                   Address, CustomerPage, ItemResult, OrderPage, ProductChange, ProductPage,
                                   ShopCharge, ShopClient, ShopCustomer, ShopOrder, ShopOrderLine, ShopProduct,
                                   CAP_VARIATIONS, SIMPLE, VARIABLE, VARIATION)
from shop_client.text import to_html, to_plain
from shop_client.woocommerce.oauth import OAuth1QueryAuth
from shop_client.woocommerce.fields import money as _money, stock_fields
from shop_client.woocommerce.variations import Variations

log = logging.getLogger(__name__)

API_PREFIX = "/wp-json/wc/v3"
BATCH_LIMIT = 100  # WooCommerce's default limit of objects per batch call
MIN_BATCH = 5
PER_PAGE_MAX = 100
CATEGORY_SEPARATOR = " / "
IMAGE_UPLOAD_ERROR = "woocommerce_product_image_upload_error"  # the shop could not fetch images[].src
DEFAULT_CATEGORY_SLUG = "uncategorized"  # WordPress's default product category
# WordPress roles of people who buy; administrators, shop managers, editors... are the shop's staff.
BUYER_ROLES = frozenset({"customer", "subscriber"})


def _clean_path(path: Sequence[str]) -> tuple[str, ...]:
    return tuple(p.strip() for p in path if p.strip())


def _meta(obj: dict[str, Any], key: str) -> Any:
    for m in obj.get("meta_data") or ():
        if m.get("key") == key:
            return m.get("value")
    return None


def _address(raw: dict[str, Any] | None) -> Address:
    raw = raw or {}
    return Address(**{k: str(raw.get(k) or "") for k in Address.__dataclass_fields__})


class WooCommerceShop(Variations, ShopClient):
    capabilities = frozenset({CAP_PRICE_LISTS, CAP_CUSTOMER_TAX_ID, CAP_PAIRING_STATUS, CAP_IMAGES,
                              CAP_ORDER_STATUS, CAP_INVOICES, CAP_REFUNDS, CAP_VARIATIONS})

    def __init__(self, url: str, consumer_key: str, consumer_secret: str, options: ShopOptions | None = None, *,
                 transport: httpx.BaseTransport | None = None, **changes: Any) -> None:
        """`options` (defaults when None) with `changes` (fields to differ from them)."""
        o = dataclasses.replace(options or ShopOptions(), **changes)
        timeout, verify_tls = o.timeout_seconds, o.verify_tls
        base = url.rstrip("/")
        if base.startswith("https://"):
            auth: httpx.Auth = httpx.BasicAuth(consumer_key, consumer_secret)
        elif base.startswith("http://"):
            auth = OAuth1QueryAuth(consumer_key, consumer_secret)
        else:
            raise ValueError(f"shop.url must start with http:// or https://, got {url!r}")
        self.base_url = base
        self.nip_meta_key = o.nip_meta_key
        self.pairing_meta_key = o.pairing_meta_key
        self.pairing_request_meta_key = o.pairing_request_meta_key
        self.price_list_meta_key = o.price_list_meta_key
        self.customer_price_lists_meta_key = o.customer_price_lists_meta_key
        self.max_retry_after = o.max_retry_after
        self.timeout = timeout
        self.batch_limit = BATCH_LIMIT
        self._categories: dict[tuple[str, ...], int] = {}
        self._cat_tree: dict[int, tuple[int, str]] = {}
        self.http = httpx.Client(
            base_url=base + API_PREFIX, auth=auth, verify=verify_tls, transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
            headers={"User-Agent": "shopsync/0.1", "Accept": "application/json"})
        # Image uploads go to WordPress's media API, which WooCommerce keys do not open: a WordPress
        # application password does (Basic auth; WordPress offers them over HTTPS, or on sites whose
        # WP_ENVIRONMENT_TYPE is local).
        self.media: httpx.Client | None = None
        if o.wp_user and o.wp_app_password:
            self.media = httpx.Client(base_url=base + "/wp-json/wp/v2",
                                      auth=httpx.BasicAuth(o.wp_user, o.wp_app_password),
                                      verify=verify_tls, transport=transport,
                                      timeout=httpx.Timeout(max(timeout, 30.0), connect=min(5.0, timeout)),
                                      headers={"User-Agent": "shopsync/0.1", "Accept": "application/json"})
            self.capabilities = self.capabilities | {CAP_IMAGE_UPLOAD}
        # Images are fetched from wherever the shop serves them, without our API keys.
        self.files = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)), verify=verify_tls,
                                  transport=transport, follow_redirects=True)

    @classmethod
    def from_settings(cls, shop: Any) -> "WooCommerceShop":
        return cls(shop.url, shop.consumer_key, shop.consumer_secret, ShopOptions.of(shop))

    def close(self) -> None:
        self.http.close()
        self.files.close()
        if self.media is not None:
            self.media.close()

    # -- the wire ------------------------------------------------------------
    def _send(self, method: str, path: str, *, params: dict[str, Any] | None = None,
              body: Any = None, client: httpx.Client | None = None, raw: bytes | None = None,
              headers: dict[str, str] | None = None) -> httpx.Response:
        """One request, with 429 waited out when the shop asks for a short pause."""
        waited = 0.0
        http = client or self.http
        if raw is None and body is not None:
            raw, headers = json.dumps(body, default=str).encode(), {"Content-Type": "application/json"}
        while True:
            try:
                resp = http.request(method, path, params=params, content=raw, headers=headers)
            except httpx.TimeoutException as exc:
                raise ShopTimeout(f"shop did not answer {method} {path} in time ({type(exc).__name__})") from exc
            except httpx.TransportError as exc:
                raise ShopUnavailable(f"cannot reach the shop at {self.base_url}: {type(exc).__name__}: {exc}") from exc
            if resp.status_code == 429:
                retry_after = _retry_after(resp)
                if retry_after is not None and waited + retry_after <= self.max_retry_after:
                    log.info("shop asked to slow down; waiting %.1f s", retry_after)
                    time.sleep(retry_after)
                    waited += retry_after
                    continue
            if resp.status_code >= 400:
                raise self._error(method, path, resp)
            return resp

    def _error(self, method: str, path: str, resp: httpx.Response) -> ShopError:
        code, message, is_api = "", resp.reason_phrase, False
        try:
            data = resp.json()
            if isinstance(data, dict):
                code, message, is_api = str(data.get("code", "")), str(data.get("message", message)), True
        except ValueError:
            pass
        text = f"shop answered {resp.status_code} to {method} {path}: {message}" + (f" ({code})" if code else "")
        return error_for(resp.status_code, text, code=code, retry_after=_retry_after(resp),
                         auth_hint="check shop.consumer_key / shop.consumer_secret and the key's read/write "
                                   "permission",
                         no_such_route=code == "rest_no_route" or not is_api)

    def _pages(self, path: str, params: dict[str, Any], page_size: int,
               start_page: int = 1) -> Iterator[tuple[list[dict[str, Any]], int | None, int, int | None]]:
        page = start_page
        per_page = max(1, min(page_size, PER_PAGE_MAX))
        while True:
            resp = self._send("GET", path, params={**params, "page": page, "per_page": per_page})
            items = resp.json()
            total = _int_header(resp, "X-WP-Total")
            pages = _int_header(resp, "X-WP-TotalPages")
            yield items, total, page, pages
            if not items or (pages is not None and page >= pages) or (pages is None and len(items) < per_page):
                return
            page += 1

    def _batch(self, path: str, items: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """POST .../batch with ("create"|"update", key, object); one answer per item, in order.

        Splits into calls of at most `batch_limit` objects (100 at most, halving again
        on 413). The limit follows the shop's measured speed: a call that timed out
        halves it (the caller's retry re-reads nothing blindly: every item of ours is
        idempotent, a repeated create finds its SKU and updates), a call that took over
        a third of the timeout shrinks it, quick calls grow it back.
        """
        out: list[dict[str, Any]] = []
        start = 0
        while start < len(items):
            size = self.batch_limit
            chunk = items[start:start + size]
            began = time.monotonic()
            try:
                out += self._batch_call(path, chunk)
            except ShopTimeout:
                if len(chunk) > 1:
                    self.batch_limit = max(MIN_BATCH, len(chunk) // 2)
                    log.warning("a batch of %d timed out; batches of %d from now on", len(chunk), self.batch_limit)
                raise
            self._adapt(len(chunk), time.monotonic() - began)
            start += len(chunk)
        return out

    def _adapt(self, size: int, seconds: float) -> None:
        if seconds > self.timeout / 3 and size > MIN_BATCH:
            self.batch_limit = max(MIN_BATCH, int(size * 0.75))
            log.info("a batch of %d took %.1f s (timeout %.0f s); batches of %d from now on",
                     size, seconds, self.timeout, self.batch_limit)
        elif seconds < self.timeout / 10 and self.batch_limit < BATCH_LIMIT and size >= self.batch_limit:
            self.batch_limit = min(BATCH_LIMIT, self.batch_limit + 10)

    def _batch_call(self, path: str, items: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
        body: dict[str, list[Any]] = {"create": [], "update": []}
        for action, _, obj in items:
            body[action].append(obj)
        try:
            resp = self._send("POST", path, body={k: v for k, v in body.items() if v})
        except ShopRejected as exc:
            if exc.status == 413 and len(items) > 1:
                half = len(items) // 2
                log.info("shop refused a batch of %d as too large; splitting", len(items))
                return self._batch_call(path, items[:half]) + self._batch_call(path, items[half:])
            raise
        data = resp.json()
        created, updated = iter(data.get("create", [])), iter(data.get("update", []))
        return [next(created if action == "create" else updated, {"error": {"message": "missing in answer"}})
                for action, _, _ in items]

    # -- products ------------------------------------------------------------
    def _product(self, raw: dict[str, Any]) -> ShopProduct:
        # WordPress gives every product without a category its default one; that is no ERP group.
        cats = [c for c in raw.get("categories") or () if c.get("slug") != DEFAULT_CATEGORY_SLUG]
        path: tuple[str, ...] = ()
        if cats:
            path = self._category_path_of(int(cats[0]["id"])) or (to_plain(cats[0].get("name") or ""),)
        images = raw.get("images") or []
        kind = raw.get("type") or SIMPLE
        if kind == VARIABLE:
            attributes: dict[str, Any] = {to_plain(a.get("name") or ""): tuple(a.get("options") or ())
                                          for a in raw.get("attributes") or () if a.get("variation")}
        else:
            attributes = {to_plain(a.get("name") or ""): a.get("option") or ""
                          for a in raw.get("attributes") or () if "option" in a}
        return ShopProduct(
            kind=kind if kind in (VARIABLE, VARIATION) else SIMPLE, parent_id=int(raw.get("parent_id") or 0),
            attributes=attributes,
            id=int(raw["id"]), sku=raw.get("sku") or "", name=to_plain(raw.get("name") or ""),
            price=_dec(raw.get("regular_price")), description=to_plain(raw.get("description") or ""),
            category_path=path, published=raw.get("status") == "publish",
            stock=_dec(raw.get("stock_quantity")) if raw.get("manage_stock") else None,
            ean=str(_meta(raw, "_shopsync_ean") or ""), image_url=images[0].get("src", "") if images else "",
            modified=raw.get("date_modified_gmt") or "", trashed=raw.get("status") == "trash",
            tax_class="none" if raw.get("tax_status") == "none" else str(raw.get("tax_class") or ""))

    def _load_categories(self) -> None:
        """The whole category tree in pages of 100: id -> (parent, plain name), and path -> id."""
        tree: dict[int, tuple[int, str]] = {}
        for items, *_ in self._pages("/products/categories", {"orderby": "id", "order": "asc"}, PER_PAGE_MAX):
            for c in items:
                tree[int(c["id"])] = (int(c.get("parent") or 0), to_plain(c.get("name", "")))
        self._cat_tree = tree
        self._categories = {}
        for cat_id in tree:
            path = self._category_path_of(cat_id)
            self._categories.setdefault(tuple(p.strip() for p in path), cat_id)

    def _category_path_of(self, cat_id: int) -> tuple[str, ...]:
        if cat_id not in self._cat_tree:
            self._load_categories()
        path, seen = [], set()
        while cat_id in self._cat_tree and cat_id not in seen:
            seen.add(cat_id)
            parent, name = self._cat_tree[cat_id]
            path.append(name)
            cat_id = parent
        return tuple(reversed(path))

    def ping(self) -> None:
        self._send("GET", "/products", params={"per_page": 1, "_fields": "id"})

    def iter_products(self, page_size: int = 100, start_page: int = 1) -> Iterator[ProductPage]:
        self._load_categories()
        for items, total, page, pages in self._pages("/products", {"orderby": "id", "order": "asc",
                                                                   "context": "edit"}, page_size, start_page):
            yield ProductPage(items=[self._product(p) for p in items], total=total, page=page, pages=pages)

    def get_product(self, shop_id: int) -> ShopProduct:
        return self._product(self._send("GET", f"/products/{int(shop_id)}", params={"context": "edit"}).json())

    def find_product_ids_by_sku(self, skus: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for sku in skus:
            for p in self._send("GET", "/products", params={"sku": sku, "per_page": 1, "_fields": "id,sku"}).json():
                if p.get("sku") == sku:
                    out[sku] = int(p["id"])
        return out

    def ensure_category(self, path: Sequence[str]) -> int:
        return self.ensure_categories([path])[_clean_path(path)]

    def ensure_categories(self, paths: Iterable[Sequence[str]]) -> dict[tuple[str, ...], int]:
        """Ids of these category paths, creating missing levels: one tree read, one batch per depth.

        Names are compared as plain text (WordPress stores `&` as `&amp;`), so a
        category created earlier is found again after a restart.
        """
        wanted = {_clean_path(p) for p in paths}
        wanted.discard(())
        if any(p not in self._categories for p in wanted):
            self._load_categories()
        missing = sorted({p[:depth] for p in wanted for depth in range(1, len(p) + 1)} - set(self._categories),
                         key=len)
        for depth in sorted({len(p) for p in missing}):
            level = [p for p in missing if len(p) == depth]
            items = [("create", "/".join(p), {"name": to_html(p[-1]),
                                              "parent": self._categories[p[:-1]] if depth > 1 else 0})
                     for p in level]
            for p, answer in zip(level, self._batch("/products/categories/batch", items)):
                err = answer.get("error")
                if not err:
                    self._categories[p] = int(answer["id"])
                elif err.get("code") == "term_exists" and (err.get("data") or {}).get("resource_id"):
                    # Created by someone else meanwhile: the shop names the existing term's id.
                    self._categories[p] = int(err["data"]["resource_id"])
                else:
                    raise ShopRejected(f"category {' / '.join(p)!r}: {err.get('message', 'refused')} "
                                       f"({err.get('code', '')})", code=str(err.get("code", "")))
        return {p: self._categories[p] for p in wanted}

    def _product_body(self, change: ProductChange) -> dict[str, Any]:
        f = change.fields
        body: dict[str, Any] = {}
        if change.shop_id is None:
            body.update({"sku": change.sku, "type": VARIABLE if f.get("variable") else SIMPLE})
        else:
            body["id"] = change.shop_id
            if "sku" in f:
                body["sku"] = f["sku"]
        if "name" in f:
            body["name"] = to_html(f["name"])
        if "price" in f:
            body["regular_price"] = _money(f["price"])
        if "description" in f:
            body["description"] = to_html(f["description"])
        if "published" in f:
            body["status"] = "publish" if f["published"] else "draft"
            body["catalog_visibility"] = "visible" if f["published"] else "hidden"
        if "stock" in f:
            body.update(stock_fields(f["stock"]))
        if "category_path" in f:
            path = _clean_path(f["category_path"])
            body["categories"] = [{"id": self._categories[path]}] if path else []
        if f.get("image"):
            body["images"] = [self._image_entry(f["image"], change.sku)]
        if "attributes" in f:  # a variable product's: each attribute makes variations
            body["attributes"] = [{"name": to_html(name), "options": list(options), "visible": True,
                                   "variation": True} for name, options in f["attributes"].items()]
        meta = []
        if "ean" in f:
            meta.append({"key": "_shopsync_ean", "value": f["ean"]})
        if "price_lists" in f:
            meta.append({"key": self.price_list_meta_key,
                         "value": {k: _money(v) for k, v in f["price_lists"].items()}})
        if meta:
            body["meta_data"] = meta
        return body

    def upsert_products(self, changes: Sequence[ProductChange]) -> list[ItemResult]:
        self.ensure_categories(c.fields["category_path"] for c in changes if c.fields.get("category_path"))
        items = [("create" if c.shop_id is None else "update", c.sku, self._product_body(c)) for c in changes]
        answers = self._batch("/products/batch", items)
        results: list[ItemResult] = []
        retry_as_update: list[int] = []
        without_image: list[int] = []
        for i, (change, answer) in enumerate(zip(changes, answers)):
            err = answer.get("error")
            if err and err.get("code") == IMAGE_UPLOAD_ERROR and change.fields.get("image"):
                without_image.append(i)  # the shop could not fetch the image: save the product without it
                results.append(ItemResult(key=change.sku))
                continue
            if err and change.shop_id is None and err.get("code") in ("product_invalid_sku",
                                                                    "woocommerce_rest_product_not_created"):
                retry_as_update.append(i)
                results.append(ItemResult(key=change.sku))
                continue
            results.append(self._item(change.sku, answer))
        if retry_as_update:
            # The SKU is already in the shop (e.g. created before a crash): update that product.
            ids = self.find_product_ids_by_sku([changes[i].sku for i in retry_as_update])
            again = [(i, ProductChange(changes[i].sku, changes[i].fields, ids[changes[i].sku]))
                     for i in retry_as_update if changes[i].sku in ids]
            for i in retry_as_update:
                if changes[i].sku not in ids:
                    results[i] = ItemResult.failed(changes[i].sku, "shop refused the SKU as invalid or duplicated")
            if again:
                for (i, _), res in zip(again, self.upsert_products([c for _, c in again])):
                    results[i] = res
        if without_image:
            plain = [ProductChange(changes[i].sku, {k: v for k, v in changes[i].fields.items() if k != "image"},
                                   changes[i].shop_id) for i in without_image]
            for i, res in zip(without_image, self.upsert_products(plain)):
                error = answers[i].get("error") or {}
                results[i] = replace(res, image_error=str(error.get("message") or "image refused"))
        return results

    @staticmethod
    def _item(key: str, answer: dict[str, Any]) -> ItemResult:
        err = answer.get("error")
        if err:
            status = int((err.get("data") or {}).get("status") or 400)
            code = str(err.get("code", ""))
            kind = (ITEM_RETRYABLE if status >= 500 or status == 429 else
                    ITEM_GONE if status == 404 or code.endswith("_invalid_id") else ITEM_REJECTED)
            return ItemResult.failed(key, f"{err.get('message', 'error')} ({code})", kind)
        images = answer.get("images") or []
        return ItemResult(key=key, shop_id=int(answer["id"]), image_src=images[0].get("src", "") if images else "",
                          image_media_id=int(images[0]["id"]) if images and images[0].get("id") else None)

    def _image_entry(self, image: ImageRef, name: str) -> dict[str, Any]:
        """How a product refers to the image: an uploaded media record's id, or a URL to download."""
        if image.data and self.media is not None:
            return {"id": self.upload_media(image)}
        if not image.url:
            raise ShopRejected(f"image {image.filename}: no URL to give the shop and no uploads configured "
                               "(shop.wp_user / shop.wp_app_password)")
        return {"src": image.url, "name": name, "alt": name}

    def upload_media(self, image: ImageRef) -> int:
        """Upload bytes into WordPress's media library; returns the attachment id."""
        assert self.media is not None
        safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in image.filename) or "image"
        resp = self._send("POST", "/media", client=self.media, raw=image.data,
                          headers={"Content-Type": image.content_type,
                                   "Content-Disposition": f'attachment; filename="{safe}"'})
        return int(resp.json()["id"])

    def delete_media(self, media_ids: Sequence[int]) -> None:
        """Delete attachments we uploaded (replaced or removed images): no orphans in the library."""
        if self.media is None:
            return
        for media_id in media_ids:
            try:
                self._send("DELETE", f"/media/{int(media_id)}", params={"force": "true"}, client=self.media)
            except ShopNotFound:
                pass  # already gone (a person deleted it)

    def set_main_image(self, shop_id: int, image: ImageRef | None, name: str = "",
                       discard_media: Sequence[int] = ()) -> ItemResult:
        current = self._send("GET", f"/products/{int(shop_id)}").json().get("images") or []
        rest = [{"id": i["id"]} for i in current[1:] if "id" in i]
        if image is None and not current:
            self.delete_media(discard_media)
            return ItemResult(key=str(shop_id), shop_id=shop_id)  # nothing to remove
        images = ([self._image_entry(image, name)] if image is not None else []) + rest
        now = self._send("PUT", f"/products/{int(shop_id)}", body={"images": images}).json().get("images") or []
        self.delete_media([m for m in discard_media if not now or m != now[0].get("id")])
        if image is None or not now:
            return ItemResult(key=str(shop_id), shop_id=shop_id)
        return ItemResult(key=str(shop_id), shop_id=shop_id, image_src=now[0].get("src", ""),
                          image_media_id=int(now[0]["id"]) if now[0].get("id") else None)

    def download(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        return fetch_limited(self.files, url, max_bytes)

    # -- customers -----------------------------------------------------------
    def _customer(self, raw: dict[str, Any]) -> ShopCustomer:
        pairing = _meta(raw, self.pairing_meta_key)
        if isinstance(pairing, str):
            try:
                pairing = json.loads(pairing)
            except ValueError:
                pairing = {"status": pairing}
        request = _meta(raw, self.pairing_request_meta_key)
        if isinstance(request, str):
            try:
                request = json.loads(request)
            except ValueError:
                request = {}
        tax = _meta(raw, self.nip_meta_key) or (raw.get("billing") or {}).get(self.nip_meta_key.lstrip("_")) or ""
        return ShopCustomer(id=int(raw["id"]), email=raw.get("email") or "", first_name=raw.get("first_name") or "",
                            last_name=raw.get("last_name") or "", billing=_address(raw.get("billing")),
                            tax_id=str(tax), pairing=pairing if isinstance(pairing, dict) else {},
                            staff=str(raw.get("role") or "customer") not in BUYER_ROLES,
                            pairing_request=request if isinstance(request, dict) else {})

    def iter_customers(self, page_size: int = 100) -> Iterator[CustomerPage]:
        for items, total, *_ in self._pages("/customers", {"orderby": "id", "order": "asc", "role": "all"},
                                            page_size):
            yield CustomerPage(items=[self._customer(c) for c in items], total=total)

    def get_customer(self, customer_id: int) -> ShopCustomer:
        return self._customer(self._send("GET", f"/customers/{int(customer_id)}").json())

    def set_customer_pairing(self, statuses: Sequence[tuple[int, dict[str, Any]]]) -> list[ItemResult]:
        items = [("update", str(cid), {"id": cid, "meta_data": [{"key": self.pairing_meta_key, "value": status}]})
                 for cid, status in statuses]
        return [self._item(key, ans) for (_, key, _), ans in zip(items, self._batch("/customers/batch", items))]

    def set_customer_price_lists(self, lists: Sequence[tuple[int, list[str]]]) -> list[ItemResult]:
        items = [("update", str(cid), {"id": cid, "meta_data": [{"key": self.customer_price_lists_meta_key,
                                                                 "value": codes}]})
                 for cid, codes in lists]
        return [self._item(key, ans) for (_, key, _), ans in zip(items, self._batch("/customers/batch", items))]

    # -- orders --------------------------------------------------------------
    def _order(self, raw: dict[str, Any]) -> ShopOrder:
        lines = []
        for li in raw.get("line_items") or ():
            qty = _dec(li.get("quantity")) or Decimal(0)
            # `total` is after coupons (WooCommerce spreads a coupon over the lines it applies to),
            # `subtotal` before them; both without tax.
            total = _dec(li.get("total"))
            if total is None:
                total = _dec(li.get("subtotal"))
            unit = (total / qty).quantize(Decimal("0.0001")) if qty and total is not None \
                else (_dec(li.get("price")) or Decimal(0))
            lines.append(ShopOrderLine(product_id=int(li.get("product_id") or 0), sku=li.get("sku") or "",
                                       variation_id=int(li.get("variation_id") or 0),
                                       name=li.get("name") or "", quantity=qty, unit_price=unit, total=total,
                                       tax=_dec(li.get("total_tax")) or Decimal(0)))
        charges = [ShopCharge("shipping", s.get("method_title") or s.get("method_id") or "",
                              _dec(s.get("total")) or Decimal(0), _dec(s.get("total_tax")) or Decimal(0))
                   for s in raw.get("shipping_lines") or ()]
        charges += [ShopCharge("fee", f.get("name") or "", _dec(f.get("total")) or Decimal(0),
                               _dec(f.get("total_tax")) or Decimal(0)) for f in raw.get("fee_lines") or ()]
        tax = _meta(raw, self.nip_meta_key) or (raw.get("billing") or {}).get(self.nip_meta_key.lstrip("_")) or ""
        return ShopOrder(id=int(raw["id"]), number=str(raw.get("number") or raw["id"]),
                         status=raw.get("status") or "", currency=raw.get("currency") or "PLN",
                         customer_id=int(raw.get("customer_id") or 0), billing=_address(raw.get("billing")),
                         shipping=_address(raw.get("shipping")), lines=tuple(lines), tax_id=str(tax),
                         created=raw.get("date_created_gmt") or "", modified=raw.get("date_modified_gmt") or "",
                         note=raw.get("customer_note") or "", charges=tuple(charges),
                         prices_include_tax=bool(raw.get("prices_include_tax")), total=_dec(raw.get("total")),
                         total_tax=_dec(raw.get("total_tax")) or Decimal(0),
                         payment_method=raw.get("payment_method") or "",
                         date_paid=str(raw.get("date_paid_gmt") or raw.get("date_paid") or ""),
                         reports_date_paid="date_paid_gmt" in raw or "date_paid" in raw,
                         meta={str(m.get("key")): str(m.get("value")) for m in raw.get("meta_data") or ()
                               if isinstance(m, dict) and isinstance(m.get("value"), (str, int, float, bool))},
                         refunds=tuple((int(r["id"]), abs(_dec(r.get("total")) or Decimal(0)))
                                       for r in raw.get("refunds") or () if isinstance(r, dict) and r.get("id")))

    def parse_order(self, raw: dict[str, Any]) -> ShopOrder:
        """An order from a webhook body (the resource as the REST API returns it)."""
        return self._order(raw)

    def parse_customer(self, raw: dict[str, Any]) -> ShopCustomer:
        return self._customer(raw)

    def iter_orders(self, modified_after: dt.datetime | None, statuses: Sequence[str],
                    page_size: int = 100) -> Iterator[OrderPage]:
        params: dict[str, Any] = {"orderby": "modified", "order": "asc", "dates_are_gmt": "true"}
        if statuses:
            params["status"] = ",".join(statuses)
        if modified_after is not None:
            params["modified_after"] = modified_after.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(
                timespec="seconds")
        for items, total, *_ in self._pages("/orders", params, page_size):
            yield OrderPage(items=[self._order(o) for o in items], total=total)

    def get_order(self, order_id: int) -> ShopOrder:
        return self._order(self._send("GET", f"/orders/{int(order_id)}").json())

    def get_refunds(self, order_id: int) -> list[ShopRefund]:
        """`GET /orders/{id}/refunds`: WooCommerce writes a refund's lines with negative quantities and totals;
        shipping it gave back in shipping_lines, fees in fee_lines."""
        out = []
        for r in self._send("GET", f"/orders/{int(order_id)}/refunds").json() or []:
            lines = tuple(RefundLine(product_id=int(li.get("product_id") or 0), sku=str(li.get("sku") or ""),
                                     quantity=abs(_dec(li.get("quantity")) or Decimal(0)),
                                     total=abs(_dec(li.get("total")) or Decimal(0)),
                                     tax=abs(_dec(li.get("total_tax")) or Decimal(0)))
                          for li in r.get("line_items") or () if isinstance(li, dict))
            ship = [s for s in r.get("shipping_lines") or () if isinstance(s, dict)]
            fees = [f for f in r.get("fee_lines") or () if isinstance(f, dict)]
            out.append(ShopRefund(id=int(r["id"]), amount=abs(_dec(r.get("amount")) or Decimal(0)),
                                  reason=str(r.get("reason") or ""), created=str(r.get("date_created_gmt") or ""),
                                  lines=lines, shipping=sum((abs(_dec(s.get("total")) or Decimal(0)) for s in ship),
                                                            Decimal(0)),
                                  shipping_tax=sum((abs(_dec(s.get("total_tax")) or Decimal(0)) for s in ship),
                                                   Decimal(0)),
                                  fees=sum((abs(_dec(f.get("total")) or Decimal(0)) + abs(_dec(f.get("total_tax"))
                                                                                          or Decimal(0))
                                            for f in fees), Decimal(0))))
        return sorted(out, key=lambda r: r.id)

    def set_order_status(self, order_id: int, status: str) -> None:
        self._send("PUT", f"/orders/{int(order_id)}", body={"status": status})

    def add_order_note(self, order_id: int, note: str, *, customer_visible: bool) -> None:
        self._send("POST", f"/orders/{int(order_id)}/notes", body={"note": note, "customer_note": customer_visible})

    def set_order_invoices(self, order_id: int, invoices: list[dict[str, Any]]) -> None:
        """Order meta INVOICES_META_KEY: in the shop's database, never in its public uploads folder; the companion
        plugin serves each PDF only to the order's customer and the shop's managers."""
        self._send("PUT", f"/orders/{int(order_id)}", body={"meta_data": [{"key": INVOICES_META_KEY,
                                                                             "value": invoices}]})

    def set_order_erp_info(self, order_id: int, info: dict[str, Any]) -> None:
        """Order meta ERP_ORDER_META_KEY, which the companion plugin shows on the admin order screen."""
        self._send("PUT", f"/orders/{int(order_id)}", body={"meta_data": [{"key": ERP_ORDER_META_KEY,
                                                                             "value": info}]})


ERP_ORDER_META_KEY = "_shopsync_erp_order"  # read by the companion plugin (wp-plugin/)
INVOICES_META_KEY = "_shopsync_invoices"  # the invoice printouts the companion plugin serves to the order's customer


def _int_header(resp: httpx.Response, name: str) -> int | None:
    try:
        return int(resp.headers[name])
    except (KeyError, ValueError):
        return None


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
