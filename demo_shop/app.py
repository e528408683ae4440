"""A local WooCommerce-compatible shop: the REST API v3 subset shopsync uses.

Behaves as WooCommerce does where it matters to a client: /wp-json/wc/v3 routes,
page/per_page (max 100) with X-WP-Total, X-WP-TotalPages and Link headers,
batches of at most 100 objects (413 beyond), per-item batch errors, error JSON
{code, message, data.status}, 401 on bad keys, OAuth 1.0a one-legged over plain
HTTP (15-minute timestamps, single-use nonces), modified_after, images
downloaded from `src`, and webhooks signed base64(HMAC-SHA256(body, secret)).

For tests it has switchable faults (POST /_demo/faults): an HTTP status (503,
429 with Retry-After) for the next N calls, slow answers, dropped connections.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import queue
import re
import threading
import time
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlencode

import httpx
from oauthlib.oauth1.rfc5849 import signature as rfc5849

from demo_shop.store import ShopStore, now_gmt

log = logging.getLogger("demo_shop")
access_log = logging.getLogger("demo_shop.access")
PREFIX = "/wp-json/wc/v3"
MEDIA_PREFIX = "/wp-json/wp/v2/media"
BATCH_LIMIT = 100
NONCE_WINDOW = 15 * 60
PAID_STATUSES = ("processing", "on-hold", "completed")  # WooCommerce lowers stock on these


def _maybe_set_date_paid(order: dict[str, Any], now: str) -> None:
    """WooCommerce's WC_Order::maybe_set_date_paid: the payment is complete when the order reaches its
    payment-complete status (processing; for cash on delivery the COD gateway makes it completed), or passes it
    (completed); the date is set once and kept."""
    if order.get("date_paid_gmt"):
        return
    complete = "completed" if order.get("payment_method") == "cod" else "processing"
    if order["status"] == complete or (complete == "processing" and order["status"] == "completed"):
        order["date_paid_gmt"] = now
        order["date_paid"] = now


_TAG_LIKE = re.compile(r"<[^>]*>")
_BARE_AMPERSAND = re.compile(r"&(?!#\d+;|#x[0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")
DEFAULT_CATEGORY = {"name": "Uncategorized", "slug": "uncategorized", "parent": 0, "description": ""}


def kses(text: Any) -> str:
    """What WordPress's kses filters leave of a name or description: tag-like text cut, `&` as `&amp;`."""
    return _BARE_AMPERSAND.sub("&amp;", _TAG_LIKE.sub("", str(text or "")))


def wpautop(text: str) -> str:
    """WordPress's view of a stored description: paragraphs in <p>, single line breaks as <br />."""
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    return "".join("<p>" + p.replace("\n", "<br />\n") + "</p>\n" for p in paragraphs)


class _Secret:
    def __init__(self, secret: str) -> None:
        self.client_secret = secret
        self.resource_owner_secret = None


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data


def _money(value: Any) -> str:
    if value in (None, ""):
        return ""
    try:
        return f"{Decimal(str(value)):.2f}"
    except InvalidOperation:
        raise HttpError(400, "rest_invalid_param", f"Invalid parameter(s): regular_price ({value!r})") from None


class Faults:
    """What goes wrong on the next API calls (tests switch these on and off)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.status = 0
        self.count = 0
        self.retry_after: float | None = None
        self.delay = 0.0
        self.delay_count = 0
        self.drop_count = 0
        self.down = False
        self.batch_limit = BATCH_LIMIT

    def set(self, cfg: dict[str, Any]) -> None:
        with self.lock:
            self.clear()
            self.status = int(cfg.get("status", 0))
            self.count = int(cfg.get("count", 1 if self.status else 0))
            self.retry_after = cfg.get("retry_after")
            self.delay = float(cfg.get("delay", 0))
            self.delay_count = int(cfg.get("delay_count", 1 if self.delay else 0))
            self.drop_count = int(cfg.get("drop", 0))
            self.down = bool(cfg.get("down", False))
            self.batch_limit = int(cfg.get("batch_limit", BATCH_LIMIT))

    def take(self) -> tuple[str, Any]:
        with self.lock:
            if self.down:
                return "status", (503, None)
            if self.drop_count:
                self.drop_count -= 1
                return "drop", None
            if self.delay_count:
                self.delay_count -= 1
                return "delay", self.delay
            if self.count and self.status:
                self.count -= 1
                return "status", (self.status, self.retry_after)
        return "", None


class Webhooks:
    """Delivers webhooks in the background, signed as WooCommerce signs them."""

    def __init__(self, source: str, store: ShopStore) -> None:
        # Kept in the shop's database, as WooCommerce keeps them: they survive a restart.
        self.store = store
        self.hooks: list[dict[str, Any]] = list(store.all("webhooks"))
        self.source = source
        self.q: "queue.Queue[tuple[dict[str, Any], str, dict[str, Any]] | None]" = queue.Queue()
        self.client = httpx.Client(timeout=5.0)
        self.sent = 0
        self.thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self.thread.start()

    def add(self, topic: str, delivery_url: str, secret: str) -> dict[str, Any]:
        hook = self.store.insert("webhooks", {"topic": topic, "delivery_url": delivery_url, "secret": secret,
                                              "status": "active", "failures": 0})
        self.hooks.append(hook)
        return {k: v for k, v in hook.items() if k not in ("secret", "failures")}

    def fire(self, topic: str, resource: dict[str, Any]) -> None:
        for hook in self.hooks:
            if hook["topic"] == topic and hook["status"] == "active":
                self.q.put((hook, topic, resource))

    def _run(self) -> None:
        while True:
            item = self.q.get()
            if item is None:
                return
            hook, topic, resource = item
            body = json.dumps(resource).encode()
            sig = base64.b64encode(hmac.new(hook["secret"].encode(), body, hashlib.sha256).digest()).decode()
            resource_name, event = topic.split(".", 1)
            headers = {"Content-Type": "application/json", "X-WC-Webhook-Source": self.source,
                       "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": resource_name,
                       "X-WC-Webhook-Event": event, "X-WC-Webhook-Signature": sig,
                       "X-WC-Webhook-ID": str(hook["id"]),
                       # As WooCommerce: derived from the webhook and the current second, so shared
                       # by every delivery of this webhook in that second.
                       "X-WC-Webhook-Delivery-ID": hashlib.md5(f"{hook['id']}{int(time.time())}".encode()).hexdigest()}
            try:
                resp = self.client.post(hook["delivery_url"], content=body, headers=headers)
                ok = 200 <= resp.status_code < 300
                self.sent += 1
            except httpx.HTTPError as exc:
                log.info("webhook delivery to %s failed: %s", hook["delivery_url"], exc)
                ok = False
            failures = 0 if ok else hook["failures"] + 1
            if failures != hook["failures"]:
                hook["failures"] = failures
                if failures > 5:  # WooCommerce disables a webhook after 5 failures in a row
                    hook["status"] = "disabled"
                    log.warning("webhook %s disabled after repeated failures", hook["id"])
                self.store.save("webhooks", hook)

    def close(self) -> None:
        self.q.put(None)
        self.client.close()


class ShopApp:
    """The WSGI application."""

    def __init__(self, store: ShopStore, consumer_key: str, consumer_secret: str, *,
                 public_url: str = "http://127.0.0.1:8090", wp_user: str = "", wp_app_password: str = "") -> None:
        self.store = store
        self.key = consumer_key
        self.secret = consumer_secret
        self.trashed: set[int] = {int(r[0]) for r in store.db.execute(
            "SELECT id FROM products WHERE json_extract(body, '$.status') = 'trash'").fetchall()}
        # WordPress's media API (uploads) opens to a user's application password, not to the REST keys.
        self.wp_user, self.wp_app_password = wp_user, wp_app_password
        self.public_url = public_url.rstrip("/")
        self.faults = Faults()
        self.webhooks = Webhooks(self.public_url + "/", store)
        self.nonces: dict[int, str] = {}  # oauth_timestamp -> the last nonce used with it
        self.nonce_lock = threading.Lock()
        self.calls = 0
        self.route_calls: dict[str, int] = {}  # "GET /products/(\d+)" -> calls, for tests and the curious
        self.batch_sizes: list[int] = []
        self.fetch = httpx.Client(timeout=10.0, follow_redirects=True)
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Any]]] = []
        r = self._route
        r("GET", r"/products", self.list_products)
        r("POST", r"/products", self.create_product)
        r("POST", r"/products/batch", self.batch_products)
        r("GET", r"/products/categories", self.list_categories)
        r("POST", r"/products/categories", self.create_category)
        r("POST", r"/products/categories/batch", self.batch_categories)
        r("GET", r"/products/(\d+)/variations", self.list_variations)
        r("POST", r"/products/(\d+)/variations", self.create_variation)
        r("POST", r"/products/(\d+)/variations/batch", self.batch_variations)
        r("GET", r"/products/(\d+)/variations/(\d+)", self.get_variation)
        r("PUT", r"/products/(\d+)/variations/(\d+)", self.update_variation)
        r("DELETE", r"/products/(\d+)/variations/(\d+)", self.delete_variation)
        r("GET", r"/products/(\d+)", self.get_product)
        r("PUT", r"/products/(\d+)", self.update_product)
        r("DELETE", r"/products/(\d+)", self.delete_product)
        r("GET", r"/customers", self.list_customers)
        r("POST", r"/customers", self.create_customer)
        r("POST", r"/customers/batch", self.batch_customers)
        r("GET", r"/customers/(\d+)", self.get_customer)
        r("PUT", r"/customers/(\d+)", self.update_customer)
        r("GET", r"/orders", self.list_orders)
        r("POST", r"/orders", self.create_order)
        r("GET", r"/orders/(\d+)", self.get_order)
        r("PUT", r"/orders/(\d+)", self.update_order)
        r("GET", r"/orders/(\d+)/notes", self.list_order_notes)
        r("POST", r"/orders/(\d+)/notes", self.add_order_note)
        r("GET", r"/orders/(\d+)/refunds", self.list_refunds)
        r("POST", r"/orders/(\d+)/refunds", self.create_refund)
        r("POST", r"/coupons", self.create_coupon)
        r("GET", r"/taxes", self.list_taxes)
        r("POST", r"/taxes", self.create_tax)
        r("GET", r"/settings/(general|tax)/([a-z_]+)", self.get_setting)
        r("PUT", r"/settings/(general|tax)/([a-z_]+)", self.put_setting)
        r("GET", r"/webhooks", self.list_webhooks)
        r("POST", r"/webhooks", self.create_webhook)

    def _route(self, method: str, pattern: str, fn: Callable[..., Any]) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), fn))

    # -- WSGI ----------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Serve one request and write one access-log line (method, path, status, duration, batch size)."""
        started = time.perf_counter()
        seen: dict[str, Any] = {}

        def recording_start_response(status: str, headers: Any, *args: Any) -> Any:
            seen["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, *args)

        try:
            return self._serve(environ, recording_start_response, seen)
        finally:
            batch = f" batch={seen['batch']}" if "batch" in seen else ""
            access_log.info("%s %s %s %.1f ms%s", environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""),
                            seen.get("status", "-"), (time.perf_counter() - started) * 1000, batch)

    def _serve(self, environ: dict[str, Any], start_response: Callable[..., Any],
               seen: dict[str, Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ["REQUEST_METHOD"]
        try:
            if path.startswith("/_demo/"):
                return self._respond(start_response, 200, self.admin(method, path, environ))
            if path.startswith("/wp-content/uploads/"):
                return self.serve_media(path, start_response)
            if path.startswith(MEDIA_PREFIX):
                return self._respond(start_response, *self.media_api(environ, method, path))
            if not path.startswith(PREFIX):
                raise HttpError(404, "rest_no_route", "No route was found matching the URL and request method.")
            self.calls += 1
            fault, arg = self.faults.take()
            if fault == "drop":
                # Promise more than we send: the client sees the connection cut mid-answer.
                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "1000")])
                return [b'{"partial": ']
            if fault == "delay":
                time.sleep(arg)
            if fault == "status":
                status, retry_after = arg
                headers = [("Retry-After", str(retry_after))] if retry_after is not None else []
                return self._respond(start_response, status,
                                     {"code": "demo_fault", "message": f"injected fault {status}",
                                      "data": {"status": status}}, headers)
            query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            self.authenticate(environ, method, path, query)
            params = dict(query)
            body = self._body(environ)
            sub = path[len(PREFIX):]
            for m, pattern, fn in self.routes:
                match = pattern.match(sub)
                if match and m == method:
                    route = f"{method} {pattern.pattern.strip('^$')}"
                    self.route_calls[route] = self.route_calls.get(route, 0) + 1
                    if sub.endswith("/batch") and isinstance(body, dict):
                        seen["batch"] = sum(len(body.get(k) or []) for k in ("create", "update", "delete"))
                    result = fn(params, body, *match.groups())
                    if isinstance(result, tuple):
                        payload, headers = result
                        return self._respond(start_response, 200, payload, headers)
                    return self._respond(start_response, 201 if method == "POST" and "batch" not in sub else 200,
                                         result)
            raise HttpError(404, "rest_no_route", "No route was found matching the URL and request method.")
        except HttpError as exc:
            return self._respond(start_response, exc.status, {"code": exc.code, "message": exc.message,
                                                              "data": {"status": exc.status, **exc.data}})

    def _respond(self, start_response: Callable[..., Any], status: int, payload: Any,
                 headers: list[tuple[str, str]] | None = None) -> list[bytes]:
        data = json.dumps(payload).encode()
        reason = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
                  413: "Payload Too Large", 429: "Too Many Requests", 500: "Internal Server Error",
                  503: "Service Unavailable"}.get(status, "Error")
        start_response(f"{status} {reason}", [("Content-Type", "application/json; charset=UTF-8"),
                                              ("Content-Length", str(len(data))), *(headers or [])])
        return [data]

    @staticmethod
    def _body(environ: dict[str, Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if not length:
            return None
        raw = environ["wsgi.input"].read(length)
        try:
            return json.loads(raw)
        except ValueError:
            raise HttpError(400, "rest_invalid_json", "Invalid JSON body passed.") from None

    # -- auth ----------------------------------------------------------------
    def authenticate(self, environ: dict[str, Any], method: str, path: str, query: list[tuple[str, str]]) -> None:
        params = dict(query)
        https = environ.get("wsgi.url_scheme") == "https"
        if https:
            auth = environ.get("HTTP_AUTHORIZATION", "")
            if auth.startswith("Basic "):
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            else:
                user, pw = params.get("consumer_key", ""), params.get("consumer_secret", "")
            if not (hmac.compare_digest(user, self.key) and hmac.compare_digest(pw, self.secret)):
                raise HttpError(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
            return
        if "oauth_signature" not in params:
            raise HttpError(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if not hmac.compare_digest(params.get("oauth_consumer_key", ""), self.key):
            raise HttpError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        method_name = params.get("oauth_signature_method", "")
        if method_name not in ("HMAC-SHA1", "HMAC-SHA256"):
            raise HttpError(401, "woocommerce_rest_authentication_error", "Invalid signature method passed.")
        try:
            ts = int(params.get("oauth_timestamp", "0"))
        except ValueError:
            ts = 0
        if abs(time.time() - ts) > NONCE_WINDOW:
            raise HttpError(401, "woocommerce_rest_authentication_error", "Invalid timestamp.")
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        url = f"http://{host}{path}"
        # WooCommerce signs over PHP's $_GET: a parameter sent twice counts once (the last value).
        signed = [(k, v) for k, v in dict(query).items() if k != "oauth_signature"]
        base = rfc5849.signature_base_string(method, rfc5849.base_string_uri(url),
                                             rfc5849.normalize_parameters(signed))
        signer = (rfc5849.sign_hmac_sha1_with_client if method_name == "HMAC-SHA1"
                  else rfc5849.sign_hmac_sha256_with_client)
        expected = signer(base, _Secret(self.secret))
        if not hmac.compare_digest(expected, params["oauth_signature"]):
            raise HttpError(401, "woocommerce_rest_authentication_error", "Invalid signature - provided signature "
                            "does not match.")
        nonce = params.get("oauth_nonce", "")
        with self.nonce_lock:
            # As WooCommerce keeps them: the last nonce of each timestamp within the window
            # (used_nonces[timestamp] = nonce), and a nonce among them is refused.
            now = time.time()
            if nonce in self.nonces.values():
                raise HttpError(401, "woocommerce_rest_authentication_error", "Invalid nonce - nonce has already "
                                "been used.")
            self.nonces[ts] = nonce
            self.nonces = {t: n for t, n in self.nonces.items() if t >= now - NONCE_WINDOW}

    # -- admin (demo and tests only) ------------------------------------------
    def admin(self, method: str, path: str, environ: dict[str, Any]) -> Any:
        body = self._body(environ) or {}
        if path == "/_demo/faults":
            if method == "DELETE":
                self.faults.clear()
                self.batch_sizes.clear()
            else:
                self.faults.set(body)
            return {"ok": True}
        if path == "/_demo/webhooks" and method == "POST":  # the same as POST /wp-json/wc/v3/webhooks
            return self.create_webhook({}, body)
        if path == "/_demo/stats":
            return {"calls": self.calls, "webhooks_sent": self.webhooks.sent, "batch_sizes": self.batch_sizes,
                    "routes": self.route_calls}
        raise HttpError(404, "rest_no_route", "No such demo route.")

    # -- paging --------------------------------------------------------------
    def _page(self, kind: str, params: dict[str, str], where: str = "1=1", args: tuple[Any, ...] = (),
              order: str = "id ASC") -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
        try:
            page = int(params.get("page", 1))
            per_page = int(params.get("per_page", 10))
        except ValueError:
            raise HttpError(400, "rest_invalid_param", "Invalid parameter(s): page, per_page") from None
        if not 1 <= per_page <= 100:
            raise HttpError(400, "rest_invalid_param", "Invalid parameter(s): per_page",
                            params={"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"})
        if page < 1:
            raise HttpError(400, "rest_invalid_param", "Invalid parameter(s): page")
        offset = int(params.get("offset", (page - 1) * per_page))
        items, total = self.store.query(kind, where, args, order, per_page, offset)
        pages = max(1, -(-total // per_page)) if total else 0
        headers = [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(pages))]
        links = []
        base = f"{self.public_url}{PREFIX}/{kind if kind != 'categories' else 'products/categories'}"
        keep = {k: v for k, v in params.items() if not k.startswith("oauth_")}
        if page > 1:
            links.append(f'<{base}?{urlencode({**keep, "page": page - 1})}>; rel="prev"')
        if page < pages:
            links.append(f'<{base}?{urlencode({**keep, "page": page + 1})}>; rel="next"')
        if links:
            headers.append(("Link", ", ".join(links)))
        return items, headers

    # -- products ------------------------------------------------------------
    def list_products(self, params: dict[str, str], body: Any) -> Any:
        where, args = ["1=1"], []
        if params.get("sku"):  # WooCommerce looks a SKU up among products and their variations alike
            where.append("key = ?")
            args.append(params["sku"])
        else:  # variations are listed under their product (/products/{id}/variations)
            where.append("COALESCE(json_extract(body, '$.type'), 'simple') != 'variation'")
        if params.get("modified_after"):
            where.append("modified > ?")
            args.append(params["modified_after"])
        if params.get("status") and params["status"] != "any":
            statuses = params["status"].split(",")
            where.append(f"json_extract(body, '$.status') IN ({','.join('?' * len(statuses))})")
            args += statuses
        elif self.trashed:  # as WooCommerce: "any" status means any but the trash
            where.append(f"id NOT IN ({','.join('?' * len(self.trashed))})")
            args += sorted(self.trashed)
        if params.get("include"):
            ids = [int(i) for i in params["include"].split(",") if i.strip().isdigit()]
            where.append(f"id IN ({','.join('?' * len(ids)) or 'NULL'})")
            args += ids
        order = "id ASC" if params.get("order") == "asc" else "id DESC"
        items, headers = self._page("products", params, " AND ".join(where), tuple(args), order)
        return [self._view(p, params) for p in items], headers

    @staticmethod
    def _view(product: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        """context=view (the default) shows descriptions as WordPress renders them; context=edit as stored."""
        if params.get("context") == "edit":
            return product
        return {**product, "description": wpautop(product.get("description") or ""),
                "short_description": wpautop(product.get("short_description") or "")}

    def _default_category(self) -> dict[str, Any]:
        """WordPress files a product without a category under its default one."""
        with self.store.lock:
            for c in self.store.all("categories"):
                if c["slug"] == DEFAULT_CATEGORY["slug"]:
                    break
            else:
                c = self.store.insert("categories", dict(DEFAULT_CATEGORY))
        return {"id": c["id"], "name": c["name"], "slug": c["slug"]}

    def _category_refs(self, cats: Any) -> list[dict[str, Any]]:
        out = []
        for c in cats or []:
            cat = self.store.get("categories", int(c.get("id", 0)))
            if cat is None:
                raise HttpError(400, "woocommerce_rest_invalid_term", f"Invalid category id {c.get('id')}.")
            out.append({"id": cat["id"], "name": cat["name"], "slug": cat["slug"]})
        return out

    def _images(self, images: Any, current: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for img in images or []:
            if img.get("id"):
                found = [c for c in current if c.get("id") == img["id"]]
                if not found and (media := self.store.get("media", int(img["id"]))):
                    found = [media]
                if not found:
                    raise HttpError(400, "woocommerce_product_invalid_image_id",
                                    f"#{img['id']} is an invalid image ID.")
                out.append(found[0])
                continue
            src = img.get("src", "")
            try:
                resp = self.fetch.get(src)
            except httpx.HTTPError as exc:
                raise HttpError(400, "woocommerce_product_image_upload_error",
                                f"Error getting remote image {src}. Error: {exc}") from None
            if resp.status_code != 200:
                raise HttpError(400, "woocommerce_product_image_upload_error",
                                f"Error getting remote image {src}. Error: HTTP {resp.status_code}")
            name = img.get("name") or src.rsplit("/", 1)[-1] or "image"
            media = self.store.insert("media", {"name": name, "alt": img.get("alt", ""), "source": src})
            self.store.put_blob(media["id"], resp.content, resp.headers.get("Content-Type", "image/png"))
            filename = re.sub(r"[^A-Za-z0-9._-]", "-", src.rsplit("/", 1)[-1] or "image")
            media["src"] = f"{self.public_url}/wp-content/uploads/{media['id']}/{filename}"
            self.store.save("media", media)
            out.append({"id": media["id"], "src": media["src"], "name": name, "alt": media["alt"]})
        return out

    def _apply_product(self, product: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        if "sku" in data and data["sku"] != product.get("sku"):
            sku = data["sku"] or ""
            other = self.store.by_key("products", sku) if sku else None
            if other and other["id"] != product.get("id"):
                raise HttpError(400, "product_invalid_sku", "Invalid or duplicated SKU.",
                                resource_id=other["id"], unique_sku=sku)
            product["sku"] = sku
        for key in ("type", "status", "catalog_visibility"):
            if key in data:
                product[key] = data[key]
        for key in ("name", "description", "short_description"):
            if key in data:
                product[key] = kses(data[key])
        if "regular_price" in data:
            product["regular_price"] = _money(data["regular_price"])
            product["price"] = product["regular_price"]
        if "manage_stock" in data:
            product["manage_stock"] = bool(data["manage_stock"])
        if "stock_quantity" in data:
            try:
                product["stock_quantity"] = None if data["stock_quantity"] is None else int(data["stock_quantity"])
            except (TypeError, ValueError):
                raise HttpError(400, "rest_invalid_param", "Invalid parameter(s): stock_quantity") from None
        if product.get("manage_stock"):
            product["stock_status"] = "instock" if (product.get("stock_quantity") or 0) > 0 else "outofstock"
        if "categories" in data:
            product["categories"] = self._category_refs(data["categories"])
        if not product.get("categories"):
            product["categories"] = [self._default_category()]
        if "images" in data:
            product["images"] = self._images(data["images"], product.get("images") or [])
        if "meta_data" in data:
            product["meta_data"] = _merge_meta(product.get("meta_data"), data["meta_data"])
        if "attributes" in data:
            product["attributes"] = self._attributes(data["attributes"], product.get("type") == "variation")
        product["date_modified_gmt"] = now_gmt()
        return product

    @staticmethod
    def _attributes(attributes: Any, of_variation: bool) -> list[dict[str, Any]]:
        """A product's own (custom) attributes: {id 0, name, position, visible, variation, options}; a variation's
        {id 0, name, option}."""
        if not isinstance(attributes, list):
            raise HttpError(400, "rest_invalid_param", "Invalid parameter(s): attributes")
        out = []
        for n, a in enumerate(attributes):
            if not isinstance(a, dict) or not str(a.get("name") or "").strip():
                raise HttpError(400, "rest_invalid_param", f"Invalid parameter(s): attributes[{n}]")
            if of_variation:
                out.append({"id": 0, "name": str(a["name"]), "option": str(a.get("option") or "")})
            else:
                out.append({"id": 0, "name": str(a["name"]), "position": n, "visible": bool(a.get("visible", True)),
                            "variation": bool(a.get("variation", False)),
                            "options": [str(o) for o in a.get("options") or []]})
        return out

    def _new_product(self, data: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise HttpError(400, "rest_invalid_json", "Invalid product.")
        product = {"name": "Product", "type": "simple", "status": "publish", "catalog_visibility": "visible",
                   "description": "", "short_description": "", "sku": "", "regular_price": "", "price": "",
                   "manage_stock": False, "stock_quantity": None, "stock_status": "instock", "categories": [],
                   "images": [], "meta_data": [], "attributes": [], "parent_id": 0,
                   "date_created_gmt": now_gmt()}
        if data.get("type") == "variable":
            product["variations"] = []
        self._apply_product(product, data)
        saved = self.store.insert("products", product, product.get("sku") or None)
        return saved

    def create_product(self, params: dict[str, str], body: Any) -> Any:
        with self.store.lock:
            product = self._new_product(body or {})
        self.webhooks.fire("product.created", product)
        return product

    def _load_product(self, pid: str) -> dict[str, Any]:
        product = self.store.get("products", int(pid))
        if product is None:
            raise HttpError(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        return product

    def get_product(self, params: dict[str, str], body: Any, pid: str) -> Any:
        return self._view(self._load_product(pid), params)

    def update_product(self, params: dict[str, str], body: Any, pid: str) -> Any:
        with self.store.lock:
            product = self._load_product(pid)
            self._apply_product(product, body or {})
            self.store.save("products", product, product.get("sku") or None)
            self._note_trash(product)
        self.webhooks.fire("product.updated", product)
        return product

    # -- variations (/products/{id}/variations, as WC_REST_Product_Variations_Controller) ------------------------
    def _parent(self, pid: str) -> dict[str, Any]:
        parent = self._load_product(pid)
        if parent.get("type") != "variable":
            raise HttpError(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")  # not a variable product
        return parent

    def _load_variation(self, parent: dict[str, Any], vid: str) -> dict[str, Any]:
        variation = self.store.get("products", int(vid))
        if variation is None or variation.get("type") != "variation" or variation.get("parent_id") != parent["id"]:
            raise HttpError(404, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")
        return variation

    @staticmethod
    def _variation_view(v: dict[str, Any]) -> dict[str, Any]:
        """A variation as the variations endpoint shows it (no parent_id, type or name there)."""
        return {k: val for k, val in v.items() if k not in ("parent_id", "type", "name", "categories", "variations",
                                                           "catalog_visibility", "short_description")}

    def _reprice(self, parent: dict[str, Any]) -> None:
        """The parent's price is its cheapest variation's (WC_Product_Variable::sync), its own regular price none;
        in stock while any variation is."""
        variations = [self.store.get("products", v) for v in parent.get("variations") or []]
        prices = [Decimal(v["price"]) for v in variations if v and v.get("price") and v.get("status") == "publish"]
        parent["price"] = f"{min(prices):.2f}" if prices else ""
        parent["regular_price"] = ""
        parent["stock_status"] = "instock" if any(v and v.get("stock_status") == "instock" for v in variations) \
            else "outofstock"
        parent["date_modified_gmt"] = now_gmt()
        self.store.save("products", parent, parent.get("sku") or None)

    def _new_variation(self, parent: dict[str, Any], data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise HttpError(400, "rest_invalid_json", "Invalid variation.")
        variation = {"type": "variation", "parent_id": parent["id"], "status": "publish", "description": "",
                     "sku": "", "regular_price": "", "price": "", "manage_stock": False, "stock_quantity": None,
                     "stock_status": "instock", "images": [], "meta_data": [], "attributes": [],
                     "date_created_gmt": now_gmt()}
        self._apply_product(variation, {k: v for k, v in data.items() if k not in ("type", "categories")})
        options = ", ".join(a["option"] for a in variation["attributes"] if a.get("option"))
        variation["name"] = f"{parent.get('name')} - {options}" if options else parent.get("name")
        variation["categories"] = []
        saved = self.store.insert("products", variation, variation.get("sku") or None)
        parent.setdefault("variations", []).append(saved["id"])
        self._reprice(parent)
        return saved

    def list_variations(self, params: dict[str, str], body: Any, pid: str) -> Any:
        parent = self._parent(pid)
        where = "json_extract(body, '$.parent_id') = ? AND json_extract(body, '$.type') = 'variation'"
        items, headers = self._page("products", params, where, (parent["id"],), "id ASC")
        return [self._variation_view(v) for v in items], headers

    def create_variation(self, params: dict[str, str], body: Any, pid: str) -> Any:
        with self.store.lock:
            parent = self._parent(pid)
            variation = self._new_variation(parent, body or {})
        self.webhooks.fire("product.updated", parent)
        return self._variation_view(variation)

    def get_variation(self, params: dict[str, str], body: Any, pid: str, vid: str) -> Any:
        return self._variation_view(self._load_variation(self._parent(pid), vid))

    def _update_variation(self, parent: dict[str, Any], vid: Any, data: dict[str, Any]) -> dict[str, Any]:
        variation = self._load_variation(parent, str(vid))
        self._apply_product(variation, {k: v for k, v in data.items() if k not in ("id", "type", "categories")})
        self.store.save("products", variation, variation.get("sku") or None)
        self._reprice(parent)
        return variation

    def update_variation(self, params: dict[str, str], body: Any, pid: str, vid: str) -> Any:
        with self.store.lock:
            parent = self._parent(pid)
            variation = self._update_variation(parent, vid, body or {})
        self.webhooks.fire("product.updated", parent)
        return self._variation_view(variation)

    def delete_variation(self, params: dict[str, str], body: Any, pid: str, vid: str) -> Any:
        """Variations are deleted for good (WooCommerce has no trash for them: force=true is required)."""
        if params.get("force") not in ("true", "1"):
            raise HttpError(501, "woocommerce_rest_trash_not_supported", "Variations do not support trashing.")
        with self.store.lock:
            parent = self._parent(pid)
            variation = self._load_variation(parent, vid)
            self.store.delete("products", variation["id"])
            parent["variations"] = [v for v in parent.get("variations") or [] if v != variation["id"]]
            self._reprice(parent)
        return self._variation_view(variation)

    def batch_variations(self, params: dict[str, str], body: Any, pid: str) -> Any:
        with self.store.lock:
            parent = self._parent(pid)

            def update(item: dict[str, Any]) -> Any:
                if not item.get("id"):
                    raise HttpError(400, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")
                return self._variation_view(self._update_variation(parent, item["id"], item))

            def delete(vid: int) -> Any:
                variation = self._load_variation(parent, str(vid))
                self.store.delete("products", variation["id"])
                parent["variations"] = [v for v in parent.get("variations") or [] if v != variation["id"]]
                self._reprice(parent)
                return self._variation_view(variation)

            out = self._batch(body, lambda item: self._variation_view(self._new_variation(parent, item)), update,
                              delete)
        self.webhooks.fire("product.updated", parent)
        return out

    def _note_trash(self, product: dict[str, Any]) -> None:
        """Keep the set of trashed ids (lists leave them out) without scanning every product's JSON."""
        if product.get("status") == "trash":
            self.trashed.add(int(product["id"]))
        else:
            self.trashed.discard(int(product["id"]))

    def delete_product(self, params: dict[str, str], body: Any, pid: str) -> Any:
        product = self._load_product(pid)
        if params.get("force") in ("true", "1"):
            self.store.delete("products", int(pid))
            self.trashed.discard(int(pid))
        else:
            product["status"] = "trash"
            self.store.save("products", product, product.get("sku") or None)
            self._note_trash(product)
        return product

    def _batch(self, body: Any, create: Callable[[dict[str, Any]], Any],
               update: Callable[[dict[str, Any]], Any], delete: Callable[[int], Any] | None = None) -> Any:
        if not isinstance(body, dict):
            raise HttpError(400, "rest_invalid_json", "Invalid batch body.")
        total = sum(len(body.get(k) or []) for k in ("create", "update", "delete"))
        limit = self.faults.batch_limit
        if total > limit:
            raise HttpError(413, "woocommerce_rest_request_entity_too_large",
                            f"Unable to accept more than {limit} items for this request.")
        self.batch_sizes.append(total)
        out: dict[str, list[Any]] = {}
        for action, fn in (("create", create), ("update", update), ("delete", delete)):
            if action not in body:
                continue
            results = []
            for item in body[action] or []:
                try:
                    results.append(fn(item))  # type: ignore[misc]
                except HttpError as exc:
                    entry: dict[str, Any] = {"id": item.get("id", 0) if isinstance(item, dict) else item,
                                             "error": {"code": exc.code, "message": exc.message,
                                                       "data": {"status": exc.status, **exc.data}}}
                    results.append(entry)
            out[action] = results
        return out

    def batch_products(self, params: dict[str, str], body: Any) -> Any:
        def update(item: dict[str, Any]) -> Any:
            return self.update_product(params, item, str(item.get("id", 0)))

        def create(item: dict[str, Any]) -> Any:
            return self.create_product(params, item)

        return self._batch(body, create, update,
                           lambda i: self.delete_product({"force": "true"}, None, str(i)))

    # -- categories ----------------------------------------------------------
    def list_categories(self, params: dict[str, str], body: Any) -> Any:
        where, args = ["1=1"], []
        if "parent" in params:
            where.append("json_extract(body, '$.parent') = ?")
            args.append(int(params["parent"]))
        if params.get("search"):
            where.append("json_extract(body, '$.name') LIKE ?")
            args.append(f"%{params['search']}%")
        return self._page("categories", params, " AND ".join(where), tuple(args))

    def create_category(self, params: dict[str, str], body: Any) -> Any:
        body = body or {}
        name = kses(body.get("name") or "").strip()
        if not name:
            raise HttpError(400, "rest_missing_callback_param", "Missing parameter(s): name")
        parent = int(body.get("parent") or 0)
        with self.store.lock:
            for c in self.store.all("categories"):
                if c["name"] == name and c["parent"] == parent:
                    raise HttpError(400, "term_exists", "A term with the name provided already exists with this "
                                    "parent.", resource_id=c["id"])
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "cat"
            return self.store.insert("categories", {"name": name, "slug": slug, "parent": parent,
                                                    "description": body.get("description", "")})

    def batch_categories(self, params: dict[str, str], body: Any) -> Any:
        def update(item: dict[str, Any]) -> Any:
            raise HttpError(400, "rest_invalid_param", "the local shop does not update categories")

        return self._batch(body, lambda item: self.create_category(params, item), update)

    # -- customers -----------------------------------------------------------
    def list_customers(self, params: dict[str, str], body: Any) -> Any:
        where, args = ["1=1"], []
        if params.get("email"):
            where.append("key = ?")
            args.append(params["email"])
        return self._page("customers", params, " AND ".join(where), tuple(args))

    def _apply_customer(self, customer: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        for key in ("email", "first_name", "last_name", "username"):
            if key in data:
                customer[key] = data[key]
        for key in ("billing", "shipping"):
            if key in data:
                customer[key] = {**customer.get(key, {}), **(data[key] or {})}
        if "meta_data" in data:
            customer["meta_data"] = _merge_meta(customer.get("meta_data"), data["meta_data"])
        customer["date_modified_gmt"] = now_gmt()
        return customer

    def create_customer(self, params: dict[str, str], body: Any) -> Any:
        body = body or {}
        email = body.get("email", "")
        if not email or "@" not in email:
            raise HttpError(400, "rest_missing_callback_param", "Missing parameter(s): email")
        with self.store.lock:
            if self.store.by_key("customers", email):
                raise HttpError(400, "registration-error-email-exists",
                                "An account is already registered with your email address.")
            customer = self._apply_customer({"email": email, "first_name": "", "last_name": "", "role": "customer",
                                             "billing": {}, "shipping": {}, "meta_data": [],
                                             "date_created_gmt": now_gmt()}, body)
            saved = self.store.insert("customers", customer, email)
        self.webhooks.fire("customer.created", saved)
        return saved

    def get_customer(self, params: dict[str, str], body: Any, cid: str) -> Any:
        customer = self.store.get("customers", int(cid))
        if customer is None:
            raise HttpError(404, "woocommerce_rest_invalid_id", "Invalid resource ID.")
        return customer

    def update_customer(self, params: dict[str, str], body: Any, cid: str) -> Any:
        with self.store.lock:
            customer = self._apply_customer(self.get_customer(params, None, cid), body or {})
            self.store.save("customers", customer, customer["email"])
        self.webhooks.fire("customer.updated", customer)
        return customer

    def batch_customers(self, params: dict[str, str], body: Any) -> Any:
        return self._batch(body, lambda item: self.create_customer(params, item),
                           lambda item: self.update_customer(params, item, str(item.get("id", 0))))

    # -- orders --------------------------------------------------------------
    def list_orders(self, params: dict[str, str], body: Any) -> Any:
        where, args = ["1=1"], []
        if params.get("status") and params["status"] != "any":
            statuses = params["status"].split(",")
            where.append(f"json_extract(body, '$.status') IN ({','.join('?' * len(statuses))})")
            args += statuses
        if params.get("modified_after"):
            where.append("modified > ?")
            args.append(params["modified_after"])
        order = "modified ASC, id ASC" if params.get("orderby") == "modified" else "id DESC"
        if params.get("orderby") == "modified" and params.get("order") == "desc":
            order = "modified DESC, id DESC"
        items, headers = self._page("orders", params, " AND ".join(where), tuple(args), order)
        return [self._order_view(o) for o in items], headers

    def create_order(self, params: dict[str, str], body: Any) -> Any:
        """A checkout: lines priced from the products, totals as WooCommerce computes them (no taxes:
        goods - coupons + shipping + fees), stock reduced for a paid status, order.created fired."""
        body = body or {}
        lines = []
        status = body.get("status", "processing")
        if body.get("set_paid") and status in ("pending", "on-hold", "failed"):
            status = "processing"  # set_paid: the payment completes (WC_Order::payment_complete)
        with self.store.lock:
            for i, li in enumerate(body.get("line_items") or [], start=1):
                product = None
                if li.get("variation_id"):
                    product = self.store.get("products", int(li["variation_id"]))
                elif li.get("product_id"):
                    product = self.store.get("products", int(li["product_id"]))
                elif li.get("sku"):
                    product = self.store.by_key("products", li["sku"])
                if product is None:
                    raise HttpError(400, "woocommerce_rest_invalid_product_id", f"Line {i}: invalid product.")
                if product.get("type") == "variable":  # WooCommerce sells a variation, never its parent
                    raise HttpError(400, "woocommerce_rest_invalid_product_id",
                                    f"Line {i}: choose a variation of product {product['id']}.")
                qty = int(li.get("quantity", 1))
                price = Decimal(li.get("price") or product.get("regular_price") or "0")
                subtotal = price * qty
                variation = product.get("type") == "variation"
                lines.append({"id": i, "product_id": product["parent_id"] if variation else product["id"],
                              "variation_id": product["id"] if variation else 0, "sku": product.get("sku", ""),
                              "name": product.get("name", ""), "quantity": qty, "subtotal": f"{subtotal:.2f}",
                              "subtotal_tax": "0.00", "total": f"{subtotal:.2f}", "total_tax": "0.00",
                              "price": float(price)})
            coupons = self._apply_coupons(body.get("coupon_lines") or [], lines)
            shipping = [{"id": 100 + n, "method_id": s.get("method_id", ""), "method_title": s.get("method_title", ""),
                         "total": _money(s.get("total") or 0), "total_tax": "0.00"}
                        for n, s in enumerate(body.get("shipping_lines") or [])]
            fees = [{"id": 200 + n, "name": f.get("name", ""), "total": _money(f.get("total") or 0),
                     "total_tax": "0.00", "tax_status": f.get("tax_status", "taxable")}
                    for n, f in enumerate(body.get("fee_lines") or [])]
            include_tax, discount_tax = self._apply_taxes(body, lines, shipping, fees, coupons)
            total = sum(Decimal(x["total"]) + Decimal(x["total_tax"]) for x in (*lines, *shipping, *fees))
            now = now_gmt()
            order = {"status": status, "currency": body.get("currency", "PLN"),
                     "customer_id": int(body.get("customer_id") or 0), "billing": body.get("billing") or {},
                     "shipping": body.get("shipping") or {}, "payment_method": body.get("payment_method", "bacs"),
                     "payment_method_title": body.get("payment_method_title", ""),
                     "prices_include_tax": include_tax, "total": f"{total:.2f}",
                     "total_tax": f"{sum(Decimal(x['total_tax']) for x in (*lines, *shipping, *fees)):.2f}",
                     "discount_total": f"{sum(Decimal(li['subtotal']) - Decimal(li['total']) for li in lines):.2f}",
                     "discount_tax": f"{discount_tax:.2f}",
                     "shipping_total": f"{sum(Decimal(x['total']) for x in shipping):.2f}",
                     "shipping_tax": f"{sum(Decimal(x['total_tax']) for x in shipping):.2f}",
                     "line_items": lines, "shipping_lines": shipping, "fee_lines": fees, "coupon_lines": coupons,
                     "refunds": [],
                     "meta_data": body.get("meta_data") or [], "customer_note": body.get("customer_note", ""),
                     "date_created_gmt": now, "date_modified_gmt": now, "stock_reduced": False,
                     "date_paid": None, "date_paid_gmt": None}
            _maybe_set_date_paid(order, now)
            if status in PAID_STATUSES:
                self._move_stock(lines, -1)
                order["stock_reduced"] = True
            saved = self.store.insert("orders", order)
            saved["number"] = str(saved["id"])
            self.store.save("orders", saved, saved["number"])
        self.webhooks.fire("order.created", self._order_view(saved))
        return self._order_view(saved)

    def _apply_coupons(self, coupon_lines: list[Any], lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Coupons from /coupons, in cents as WooCommerce's WC_Discounts works: a percentage floored per line,
        or a fixed cart amount split per unit (not per line value); the cents left over go one per unit to
        the lines in order."""
        out = []
        for c in coupon_lines:
            code = str((c or {}).get("code", "")).strip().lower()
            coupon = next((x for x in self.store.all("coupons") if x["code"] == code), None)
            if coupon is None:
                raise HttpError(400, "woocommerce_rest_invalid_coupon", f'Coupon "{code}" does not exist!')
            amount = Decimal(coupon["amount"])
            cents = [int((Decimal(li["total"]) * 100).to_integral_value()) for li in lines]
            units = [int(li["quantity"]) for li in lines]
            if coupon["discount_type"] == "percent":
                cuts = [int(v * amount / 100) for v in cents]  # floored per line
                target = int((sum(cents) * amount / 100).to_integral_value(rounding="ROUND_HALF_UP"))
            else:
                target = min(int(amount * 100), sum(cents))
                per_unit = target // max(1, sum(units))
                cuts = [min(per_unit * q, v) for q, v in zip(units, cents)]
            left = target - sum(cuts)
            for n, (q, v) in enumerate(zip(units, cents)):
                extra = min(left, q, v - cuts[n])
                cuts[n] += extra
                left -= extra
            for li, v, cut in zip(lines, cents, cuts):
                li["total"] = f"{Decimal(v - cut) / 100:.2f}"
            out.append({"id": 300 + len(out), "code": code, "discount": f"{Decimal(sum(cuts)) / 100:.2f}",
                        "discount_tax": "0.00"})
        return out

    # -- taxes (WooCommerce's woocommerce_calc_taxes, woocommerce_prices_include_tax and /taxes) --------------
    def option(self, name: str, default: str) -> str:
        row = self.store.by_key("options", name)
        return str(row["value"]) if row else default

    def _rate(self, body: dict[str, Any]) -> tuple[Decimal, bool] | None:
        """The tax rate for the order's address (country match, else a rate for every country) and whether it
        applies to shipping; None when the shop calculates no taxes."""
        if self.option("woocommerce_calc_taxes", "no") != "yes":
            return None
        country = ((body.get("shipping") or {}).get("country") or (body.get("billing") or {}).get("country")
                   or "").upper()
        rates = sorted(self.store.all("taxes"), key=lambda t: (int(t.get("priority") or 1), t["id"]))
        for t in rates:
            if (t.get("country") or "").upper() in (country, ""):
                return Decimal(t["rate"]) / 100, bool(t.get("shipping", True))
        return None

    def _apply_taxes(self, body: dict[str, Any], lines: list[dict[str, Any]], shipping: list[dict[str, Any]],
                     fees: list[dict[str, Any]], coupons: list[dict[str, Any]]) -> tuple[bool, Decimal]:
        """Taxes as WooCommerce puts them on an order (rounded per line): with prices entered with tax, the
        line values so far are gross and the net is what is left after the tax; otherwise the tax is added.
        Shipping and fees are net. Returns (prices include tax, the tax part of the discounts)."""
        include = self.option("woocommerce_prices_include_tax", "no") == "yes"
        found = self._rate(body)
        cent = Decimal("0.01")
        if found is None:
            return include, Decimal(0)
        rate, on_shipping = found
        discount_tax = Decimal(0)  # from the taxes before rounding, as WooCommerce reports it
        for li in lines:
            sub, tot = Decimal(li["subtotal"]), Decimal(li["total"])
            discount_tax += (sub - tot) * rate / (1 + rate) if include else (sub - tot) * rate
            if include:
                sub_net, tot_net = (sub / (1 + rate)).quantize(cent), (tot / (1 + rate)).quantize(cent)
                li.update(subtotal=f"{sub_net:.2f}", subtotal_tax=f"{sub - sub_net:.2f}", total=f"{tot_net:.2f}",
                          total_tax=f"{tot - tot_net:.2f}")
            else:
                li.update(subtotal_tax=f"{(sub * rate).quantize(cent):.2f}",
                          total_tax=f"{(tot * rate).quantize(cent):.2f}")
        discount_tax = discount_tax.quantize(cent)
        if include and len(coupons) == 1:  # WooCommerce reports a discount net, its tax apart
            c = coupons[0]
            c["discount"], c["discount_tax"] = f"{Decimal(c['discount']) - discount_tax:.2f}", f"{discount_tax:.2f}"
        for x in shipping if on_shipping else ():
            x["total_tax"] = f"{(Decimal(x['total']) * rate).quantize(cent):.2f}"
        for x in fees:
            if x.get("tax_status", "taxable") == "taxable":
                x["total_tax"] = f"{(Decimal(x['total']) * rate).quantize(cent):.2f}"
        return include, discount_tax

    def list_taxes(self, params: dict[str, str], body: Any) -> Any:
        return list(self.store.all("taxes"))

    def create_tax(self, params: dict[str, str], body: Any) -> Any:
        body = body or {}
        try:
            rate = Decimal(str(body.get("rate", "")))
        except ArithmeticError:
            raise HttpError(400, "rest_invalid_param", "Invalid parameter(s): rate") from None
        return self.store.insert("taxes", {"country": str(body.get("country") or "").upper(), "rate": f"{rate:.4f}",
                                           "name": str(body.get("name") or "Tax"), "priority": int(body.get("priority")
                                                                                                   or 1),
                                           "shipping": bool(body.get("shipping", True)), "class": "standard"})

    _SETTINGS = {("general", "woocommerce_calc_taxes"): "no", ("tax", "woocommerce_prices_include_tax"): "no"}

    def get_setting(self, params: dict[str, str], body: Any, group: str, name: str) -> Any:
        if (group, name) not in self._SETTINGS:
            raise HttpError(404, "rest_setting_setting_invalid", "Invalid setting.")
        return {"id": name, "group_id": group, "value": self.option(name, self._SETTINGS[(group, name)])}

    def put_setting(self, params: dict[str, str], body: Any, group: str, name: str) -> Any:
        if (group, name) not in self._SETTINGS:
            raise HttpError(404, "rest_setting_setting_invalid", "Invalid setting.")
        value = str((body or {}).get("value", ""))
        if value not in ("yes", "no"):
            raise HttpError(400, "rest_setting_value_invalid", "An invalid setting value was passed.")
        with self.store.lock:
            row = self.store.by_key("options", name)
            if row:
                self.store.save("options", {**row, "value": value}, name)
            else:
                self.store.insert("options", {"value": value}, name)
        return {"id": name, "group_id": group, "value": value}

    def _move_stock(self, lines: list[dict[str, Any]], sign: int) -> None:
        for li in lines:
            product = self.store.get("products", int(li.get("variation_id") or li["product_id"]))
            if product and product.get("manage_stock"):
                product["stock_quantity"] = (product.get("stock_quantity") or 0) + sign * int(li["quantity"])
                product["date_modified_gmt"] = now_gmt()
                self.store.save("products", product, product.get("sku") or None)

    # -- refunds (WC_REST_Order_Refunds_Controller over wc_create_refund) ----------------------------------
    def create_refund(self, params: dict[str, str], body: Any, oid: str) -> Any:
        """A refund as WooCommerce makes one: `line_items` name order items (goods, shipping or fees) by id with
        the quantity and `refund_total` (net) and `refund_tax` [{id, refund_total}] given back; `amount` (else the
        lines' sum) at most what is left; `api_refund` (default true) asks the gateway, which bank transfer and
        cash on delivery cannot (an error, nothing made); `api_restock` (default true) puts the goods back in
        stock. A refund that leaves nothing refundable makes the order `refunded`. order.updated fires."""
        body = body or {}
        with self.store.lock:
            order = self._load_order(oid)
            goods = {int(li["id"]): li for li in order["line_items"]}
            shipping = {int(s["id"]): s for s in order.get("shipping_lines") or []}
            fees = {int(f["id"]): f for f in order.get("fee_lines") or []}
            out_lines, out_ship, out_fees, computed = [], [], [], Decimal(0)
            for n, x in enumerate(body.get("line_items") or []):
                item_id = int((x or {}).get("id") or 0)
                item = goods.get(item_id) or shipping.get(item_id) or fees.get(item_id)
                if item is None:
                    raise HttpError(400, "woocommerce_rest_invalid_order_item", f"line_items[{n}]: invalid ID.")
                qty = int(x.get("quantity") or 0)
                total = Decimal(str(x.get("refund_total") or 0))
                tax = sum((Decimal(str(t.get("refund_total") or 0)) for t in x.get("refund_tax") or []), Decimal(0))
                computed += total + tax
                row = {"id": 0, "name": item.get("name") or item.get("method_title") or "", "quantity": -qty,
                       "total": f"{-total:.2f}", "total_tax": f"{-tax:.2f}",
                       "meta_data": [{"key": "_refunded_item_id", "value": str(item_id)}]}
                if item_id in goods:
                    out_lines.append({**row, "product_id": item["product_id"],
                                      "variation_id": item.get("variation_id") or 0,
                                      "sku": item.get("sku", ""), "subtotal": f"{-total:.2f}",
                                      "subtotal_tax": f"{-tax:.2f}", "price": float(item.get("price") or 0)})
                elif item_id in shipping:
                    out_ship.append({**row, "method_id": item.get("method_id", ""),
                                     "method_title": item.get("method_title", "")})
                else:
                    out_fees.append(row)
            amount = Decimal(str(body["amount"])) if body.get("amount") not in (None, "") else computed
            already = sum((-Decimal(r["total"]) for r in order.get("refunds") or []), Decimal(0))
            left = Decimal(order["total"]) - already
            if amount <= 0 or amount > left:
                raise HttpError(500, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
            if body.get("api_refund", True) and order.get("payment_method") in ("bacs", "cod", "cheque", ""):
                raise HttpError(500, "woocommerce_rest_cannot_create_order_refund",
                                "The payment gateway for this order does not support automatic refunds.")
            if body.get("api_restock", True):
                self._move_stock([{"product_id": li["product_id"], "variation_id": li["variation_id"],
                                   "quantity": -li["quantity"]} for li in out_lines], +1)
            now = now_gmt()
            refund = self.store.insert("refunds", {
                "order_id": order["id"], "date_created": now, "date_created_gmt": now, "amount": f"{amount:.2f}",
                "reason": str(body.get("reason") or ""), "refunded_by": 1, "refunded_payment": False,
                "meta_data": [], "line_items": out_lines, "shipping_lines": out_ship, "fee_lines": out_fees,
                "tax_lines": []})
            order.setdefault("refunds", []).append({"id": refund["id"], "reason": refund["reason"],
                                                    "total": f"{-amount:.2f}"})
            if amount == left:  # wc_order_fully_refunded: the goods came back with the refunds (or stay out)
                order["status"] = "refunded"
                order["stock_reduced"] = False
            order["date_modified_gmt"] = now
            self.store.save("orders", order, order["number"])
        self.webhooks.fire("order.updated", self._order_view(order))
        return {k: v for k, v in refund.items() if k != "order_id"}

    def list_refunds(self, params: dict[str, str], body: Any, oid: str) -> Any:
        order = self._load_order(oid)
        return [{k: v for k, v in r.items() if k != "order_id"} for r in
                sorted((x for x in self.store.all("refunds") if x.get("order_id") == order["id"]),
                       key=lambda x: -x["id"])]  # newest first, as WooCommerce lists them

    def list_order_notes(self, params: dict[str, str], body: Any, oid: str) -> Any:
        return list(reversed(self._load_order(oid).get("notes") or []))  # newest first, as WooCommerce

    def add_order_note(self, params: dict[str, str], body: Any, oid: str) -> Any:
        body = body or {}
        text = kses(body.get("note") or "").strip()
        if not text:
            raise HttpError(400, "rest_missing_callback_param", "Missing parameter(s): note")
        with self.store.lock:
            order = self._load_order(oid)
            notes = order.setdefault("notes", [])
            note = {"id": len(notes) + 1, "note": text, "customer_note": bool(body.get("customer_note")),
                    "date_created_gmt": now_gmt(), "author": "WooCommerce"}
            notes.append(note)
            self.store.save("orders", order, order["number"])
        return note

    def create_coupon(self, params: dict[str, str], body: Any) -> Any:
        body = body or {}
        code = str(body.get("code", "")).strip().lower()
        if not code:
            raise HttpError(400, "rest_missing_callback_param", "Missing parameter(s): code")
        kind = body.get("discount_type", "fixed_cart")
        if kind not in ("percent", "fixed_cart"):
            raise HttpError(400, "rest_invalid_param", "the local shop knows percent and fixed_cart coupons")
        return self.store.insert("coupons", {"code": code, "discount_type": kind,
                                             "amount": _money(body.get("amount") or 0)})

    def _load_order(self, oid: str) -> dict[str, Any]:
        order = self.store.get("orders", int(oid))
        if order is None:
            raise HttpError(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return order

    @staticmethod
    def _order_view(order: dict[str, Any]) -> dict[str, Any]:
        """The order as the API shows it: notes have their own route; stock bookkeeping is internal."""
        return {k: v for k, v in order.items() if k not in ("notes", "stock_reduced")}

    def get_order(self, params: dict[str, str], body: Any, oid: str) -> Any:
        return self._order_view(self._load_order(oid))

    def update_order(self, params: dict[str, str], body: Any, oid: str) -> Any:
        """Status changes move stock as WooCommerce does: a paid status takes it, cancel or refund gives it back."""
        with self.store.lock:
            order = self._load_order(oid)
            for key in ("status", "customer_note"):
                if key in (body or {}):
                    order[key] = body[key]
            if (body or {}).get("set_paid") and order["status"] in ("pending", "on-hold", "failed"):
                order["status"] = "processing"
            _maybe_set_date_paid(order, now_gmt())
            if "meta_data" in (body or {}):
                order["meta_data"] = _merge_meta(order.get("meta_data"), body["meta_data"])
            if order["status"] in ("cancelled", "refunded") and order.get("stock_reduced"):
                self._move_stock(order["line_items"], +1)
                order["stock_reduced"] = False
            elif order["status"] in PAID_STATUSES and not order.get("stock_reduced"):
                self._move_stock(order["line_items"], -1)
                order["stock_reduced"] = True
            order["date_modified_gmt"] = now_gmt()
            self.store.save("orders", order, order["number"])
        self.webhooks.fire("order.updated", self._order_view(order))
        return self._order_view(order)

    # -- webhooks ------------------------------------------------------------
    def create_webhook(self, params: dict[str, str], body: Any) -> Any:
        body = body or {}
        missing = [k for k in ("topic", "delivery_url") if not body.get(k)]
        if missing:
            raise HttpError(400, "rest_missing_callback_param", f"Missing parameter(s): {', '.join(missing)}")
        return self.webhooks.add(str(body["topic"]), str(body["delivery_url"]), str(body.get("secret") or ""))

    def list_webhooks(self, params: dict[str, str], body: Any) -> Any:
        return [{k: v for k, v in h.items() if k not in ("secret", "failures")} for h in self.webhooks.hooks]

    # -- media ---------------------------------------------------------------
    def media_api(self, environ: dict[str, Any], method: str, path: str) -> tuple[int, Any]:
        """POST /wp-json/wp/v2/media (raw bytes, Content-Disposition filename) and DELETE .../media/ID?force=true,
        as WordPress answers them, for a user with an application password (HTTP Basic)."""
        auth = environ.get("HTTP_AUTHORIZATION", "")
        expected = "Basic " + base64.b64encode(f"{self.wp_user}:{self.wp_app_password}".encode()).decode()
        if not self.wp_app_password or not hmac.compare_digest(auth, expected):
            raise HttpError(401, "rest_not_logged_in", "You are not currently logged in.")
        sub = path[len(MEDIA_PREFIX):]
        if method == "GET" and sub in ("", "/"):
            return 200, [{"id": m["id"], "source_url": m.get("src", "")} for m in self.store.all("media")]
        if method == "POST" and sub in ("", "/"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            data = environ["wsgi.input"].read(length) if length else b""
            ctype = environ.get("CONTENT_TYPE", "")
            m = re.search(r'filename="?([^";]+)"?', environ.get("HTTP_CONTENT_DISPOSITION", ""))
            if not data or not m:
                raise HttpError(400, "rest_upload_no_data", "No data supplied.")
            if ctype not in ("image/png", "image/jpeg", "image/gif", "image/webp"):
                raise HttpError(400, "rest_upload_sideload_error", "Sorry, you are not allowed to upload this "
                                "file type.")
            filename = re.sub(r"[^A-Za-z0-9._-]", "-", m.group(1))
            media = self.store.insert("media", {"name": filename, "alt": "", "source": "upload"})
            self.store.put_blob(media["id"], data, ctype)
            media["src"] = f"{self.public_url}/wp-content/uploads/{media['id']}/{filename}"
            self.store.save("media", media)
            return 201, {"id": media["id"], "source_url": media["src"], "mime_type": ctype}
        m = re.match(r"^/(\d+)$", sub)
        if method == "DELETE" and m:
            if self.store.get("media", int(m.group(1))) is None:
                raise HttpError(404, "rest_post_invalid_id", "Invalid post ID.")
            if (dict(parse_qsl(environ.get("QUERY_STRING", ""))).get("force") or "") not in ("true", "1"):
                raise HttpError(501, "rest_trash_not_supported", "The post does not support trashing. Set "
                                "'force=true' to delete.")
            self.store.delete("media", int(m.group(1)))
            self.store.delete_blob(int(m.group(1)))
            return 200, {"deleted": True, "previous": {"id": int(m.group(1))}}
        raise HttpError(404, "rest_no_route", "No route was found matching the URL and request method.")

    def serve_media(self, path: str, start_response: Callable[..., Any]) -> list[bytes]:
        m = re.match(r"^/wp-content/uploads/(\d+)/", path)
        blob = self.store.get_blob(int(m.group(1))) if m else None
        if blob is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        data, ctype = blob
        start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(data)))])
        return [data]

    def close(self) -> None:
        self.webhooks.close()
        self.fetch.close()


def _merge_meta(current: Any, updates: Any) -> list[dict[str, Any]]:
    """WooCommerce's meta_data update: an item without an id replaces the value of the same key."""
    meta = {m["key"]: m for m in current or []}
    for m in updates or []:
        meta[m["key"]] = {"id": meta.get(m["key"], {}).get("id", len(meta) + 1), "key": m["key"],
                          "value": m.get("value")}
    return list(meta.values())
