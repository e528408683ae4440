"""The server's HTTP side: signed shop webhooks -> inbox, and image URLs for the shop.

    POST /webhooks/woocommerce     X-WC-Webhook-Signature = base64(HMAC-SHA256(body, secret))
    GET  /images/<erp id>/<sha256>.<ext>   the product's main image (the hash makes it unguessable)
    GET  /healthz

Runs on waitress (production-grade, pure Python, also on Windows) in a thread
of the server process.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import threading
from typing import Any, Callable, Iterable

import waitress
from waitress import wasyncore

from .erp.errors import ErpError
from .erp.interface import ErpReader
from .queue.store import QueueStore
from .sync import messages as msg

log = logging.getLogger(__name__)
_IMAGE_PATH = re.compile(r"^/images/(\d{1,10})/([0-9a-f]{64})\.[a-z]{2,4}$")
_PING = re.compile(rb"^webhook_id=\d+$")


def verify_signature(body: bytes, signature: str, secret: str) -> bool:
    """True when `signature` is base64(HMAC-SHA256(body, secret)), compared in constant time."""
    if not secret or not signature:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.strip().encode("ascii", "replace"))


MAX_ID = 2**63 - 1  # shop ids are database integers; anything larger is not one
_OBJECT_FIELDS = ("billing", "shipping")
_LIST_FIELDS = ("line_items", "shipping_lines", "fee_lines", "coupon_lines", "meta_data")


def _check_shape(resource: dict[str, Any]) -> None:
    """Refuse (ValueError, so 400) a body whose fields have the wrong JSON type for a shop resource."""
    for name in _OBJECT_FIELDS:
        if name in resource and resource[name] is not None and not isinstance(resource[name], dict):
            raise ValueError(f"field {name!r} must be an object, got {type(resource[name]).__name__}")
    for name in _LIST_FIELDS:
        value = resource.get(name)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ValueError(f"field {name!r} must be a list of objects")


def delivery_key(topic: str, resource: dict[str, Any], body: bytes) -> str:
    """What makes two deliveries the same change: topic, resource and its exact content.

    WooCommerce's X-WC-Webhook-Delivery-ID is shared by all deliveries of one webhook in
    the same second, and its modification times are stamped to the second too (an order
    created and cancelled within one second keeps its date_modified): only the body tells
    the two apart. A redelivery of the same change has the same body.
    """
    return f"wc:{topic}:{resource.get('id')}:{hashlib.sha256(body).hexdigest()[:32]}"


def inbox_item(topic: str, resource: dict[str, Any]) -> msg.QueueMessage | None:
    """The inbox message for a webhook topic we act on; None for the rest."""
    rid = resource.get("id")
    if isinstance(rid, bool) or not isinstance(rid, int) or not 0 < rid <= MAX_ID:
        raise ValueError("body has no id that is a positive integer of at most 2^63-1")
    _check_shape(resource)
    if topic in ("order.created", "order.updated"):
        return msg.ShopOrderChanged(rid, "webhook", resource)
    if topic in ("customer.created", "customer.updated"):
        return msg.ShopCustomerChanged(rid, "webhook", resource)
    if topic in ("product.created", "product.updated"):
        images = resource.get("images") or []
        src = images[0].get("src", "") if images and isinstance(images[0], dict) else ""
        if not src:
            return None  # only the main image travels shop -> ERP
        return msg.ShopImageChanged(rid, str(src), "webhook")
    return None


class WebhookApp:
    def __init__(self, store: QueueStore, erp: ErpReader | None, secret: str, max_body_bytes: int, *,
                 webhooks: bool = True) -> None:
        self.webhooks_on = webhooks
        self.store = store
        self.erp = erp
        self.secret = secret
        self.max_body = max_body_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ["REQUEST_METHOD"]
        try:
            if path == "/healthz":
                return _text(start_response, 200, "ok")
            if path.startswith("/images/") and method in ("GET", "HEAD"):
                return self.image(path, start_response)
            if path == "/webhooks/woocommerce" and method == "POST":
                if not self.webhooks_on:
                    return _text(start_response, 404, "webhooks are off here (webhooks.enabled = false)")
                return self.webhook(environ, start_response)
            return _text(start_response, 404, "not found")
        except Exception:  # noqa: BLE001 - a request must never take the server down
            log.exception("webhook endpoint error")
            return _text(start_response, 500, "internal error")

    def webhook(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _text(start_response, 400, "bad Content-Length")
        if length > self.max_body:
            return _text(start_response, 413, f"body larger than {self.max_body} bytes")
        body = environ["wsgi.input"].read(length) if length else b""
        signature = environ.get("HTTP_X_WC_WEBHOOK_SIGNATURE", "")
        if not signature and _PING.match(body):
            return _text(start_response, 200, "pong")  # WooCommerce's unsigned test delivery on creation
        if not self.secret:
            log.warning("webhook refused: webhooks.secret is not set")
            return _text(start_response, 401, "webhooks are not configured (webhooks.secret)")
        if not verify_signature(body, signature, self.secret):
            log.warning("webhook refused: missing or wrong signature")
            return _text(start_response, 401, "missing or wrong X-WC-Webhook-Signature")
        topic = environ.get("HTTP_X_WC_WEBHOOK_TOPIC", "")
        try:
            resource = json.loads(body)
            if not isinstance(resource, dict):
                raise ValueError("body is not a JSON object")
            item = inbox_item(topic, resource)
        except (ValueError, UnicodeDecodeError) as exc:
            return _text(start_response, 400, f"bad webhook body: {exc}")
        if item is None:
            return _text(start_response, 202, f"topic {topic or '(none)'} ignored")
        [result] = msg.enqueue(self.store, [item], request_id=delivery_key(topic, resource, body))
        log.info("webhook %s queued as inbox message %s%s", topic, result.id,
                 " (coalesced)" if result.coalesced else " (repeat)" if result.duplicate else "")
        return _text(start_response, 200, "queued")

    def image(self, path: str, start_response: Callable[..., Any]) -> Iterable[bytes]:
        m = _IMAGE_PATH.match(path)
        if not m or self.erp is None:
            return _text(start_response, 404, "not found")
        try:
            img = self.erp.get_image(int(m.group(1)))
        except ErpError as exc:
            log.warning("image %s unavailable: %s", path, exc)
            return _text(start_response, 503, "ERP unavailable")
        if img is None or not hmac.compare_digest(img.sha256, m.group(2)):
            return _text(start_response, 404, "not found")
        start_response("200 OK", [("Content-Type", img.content_type), ("Content-Length", str(len(img.data))),
                                  ("Cache-Control", "public, max-age=31536000, immutable")])
        return [img.data]


def _text(start_response: Callable[..., Any], status: int, text: str) -> list[bytes]:
    reasons = {200: "OK", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
               413: "Payload Too Large", 500: "Internal Server Error", 503: "Service Unavailable"}
    data = text.encode()
    start_response(f"{status} {reasons.get(status, 'Error')}",
                   [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))])
    return [data]


class HttpService:
    """A waitress server in a background thread that can be stopped."""

    def __init__(self, app: Any, address: str, threads: int = 4) -> None:
        host, _, port = address.rpartition(":")
        self.server = waitress.create_server(app, host=host.strip("[]") or "127.0.0.1", port=int(port),
                                             threads=threads, ident="shopsync")
        self.port = int(self.server.effective_port)  # type: ignore[union-attr]
        self.thread = threading.Thread(target=self.server.run, name="http", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        # Close the sockets from the server's own loop thread (closing them from here
        # would pull them from under its select), then let the loop end.
        server = self.server
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))  # type: ignore[union-attr]
        except OSError:
            pass  # the loop has closed its trigger already: it is ending by itself
        self.thread.join(5)
        server.task_dispatcher.shutdown()  # type: ignore[union-attr]
