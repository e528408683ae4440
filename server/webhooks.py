"""What a WooCommerce webhook means: its signature, which inbox message a topic becomes, and what makes
two deliveries the same change. Served by the intake door of the HTTP application (server/web/intake.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from .sync import messages as msg


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
