"""What the shop may call (the intake door): signed WooCommerce webhooks into the inbox, our image URLs.

    POST /webhooks/woocommerce     X-WC-Webhook-Signature = base64(HMAC-SHA256(body, secret))
    GET  /images/<erp id>/<sha256>.<ext>   the product's main image (the hash makes it unguessable)
    GET  /healthz
"""

from __future__ import annotations

import hmac
import json
import logging
import re

from flask import Blueprint, Response, current_app, request

from ..erp.errors import ErpError
from ..sync import messages as msg
from ..sync.customers import changes_nothing
from ..webhooks import delivery_key, inbox_item, verify_signature
from .doors import INTAKE, at_door

log = logging.getLogger("shopsync.server.webhooks")
blueprint = Blueprint("intake", __name__)
_PING = re.compile(rb"^webhook_id=\d+$")


def _text(status: int, text: str) -> Response:
    return Response(text, status=status, content_type="text/plain; charset=utf-8")


@blueprint.route("/healthz", methods=["GET"])
def healthz() -> Response:
    return _text(200, "ok")


@blueprint.route("/webhooks/woocommerce", methods=["POST"])
@at_door(INTAKE)
def webhook() -> Response:
    rt = current_app.config["shopsync.runtime"]
    s = rt.settings.webhooks
    if not s.enabled:
        return _text(404, "webhooks are off here (webhooks.enabled = false)")
    if request.content_length is not None and request.content_length > s.max_body_bytes:
        return _text(413, f"body larger than {s.max_body_bytes} bytes")
    body = request.get_data(cache=False)
    if len(body) > s.max_body_bytes:
        return _text(413, f"body larger than {s.max_body_bytes} bytes")
    signature = request.headers.get("X-WC-Webhook-Signature", "")
    if not signature and _PING.match(body):
        return _text(200, "pong")  # WooCommerce's unsigned test delivery on creation
    if not s.secret:
        log.warning("webhook refused: webhooks.secret is not set")
        return _text(401, "webhooks are not configured (webhooks.secret)")
    if not verify_signature(body, signature, s.secret):
        log.warning("webhook refused: missing or wrong signature")
        return _text(401, "missing or wrong X-WC-Webhook-Signature")
    topic = request.headers.get("X-WC-Webhook-Topic", "")
    try:
        resource = json.loads(body)
        if not isinstance(resource, dict):
            raise ValueError("body is not a JSON object")
        item = inbox_item(topic, resource)
    except (ValueError, UnicodeDecodeError) as exc:
        return _text(400, f"bad webhook body: {exc}")
    if item is None:
        return _text(202, f"topic {topic or '(none)'} ignored")
    if isinstance(item, msg.ShopCustomerChanged) and changes_nothing(rt.ctx, resource):
        log.debug("webhook %s for customer %s changes nothing the pairing reads (e.g. our own status write): "
                  "not queued", topic, resource.get("id"))
        return _text(200, "nothing to do")
    [result] = msg.enqueue(rt.store, [item], request_id=delivery_key(topic, resource, body))
    log.info("webhook %s queued as inbox message %s%s", topic, result.id,
             " (coalesced)" if result.coalesced else " (repeat)" if result.duplicate else "")
    return _text(200, "queued")


@blueprint.route("/images/<int:product_id>/<digest>.<ext>", methods=["GET", "HEAD"])
@at_door(INTAKE)
def image(product_id: int, digest: str, ext: str) -> Response:
    rt = current_app.config["shopsync.runtime"]
    if not re.fullmatch(r"[0-9a-f]{64}", digest) or not re.fullmatch(r"[a-z]{2,4}", ext) or product_id > 2**31:
        return _text(404, "not found")
    try:
        img = rt.ctx.erp.get_image(product_id)
    except ErpError as exc:
        log.warning("image %s unavailable: %s", request.path, exc)
        return _text(503, "ERP unavailable")
    if img is None or not hmac.compare_digest(img.sha256, digest):
        return _text(404, "not found")
    return Response(img.data, content_type=img.content_type,
                    headers={"Cache-Control": "public, max-age=31536000, immutable"})
