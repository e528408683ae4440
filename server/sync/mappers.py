"""Mappers: an ERP product as the shop should show it, and the difference to what it shows.

The state is plain JSON (strings for money and quantities), so it can be stored
as the binding's "last state sent" and compared field by field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..erp.records import Product
from shop_client.interface import ProductChange



def _num(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(Decimal(value).normalize(), "f")


def product_state(product: Product | None, stock: Decimal, image: tuple[str, str] | None,
                  price_lists: dict[str, Decimal]) -> dict[str, Any]:
    """What the shop should hold for one ERP product (missing product: hidden)."""
    if product is None:
        return {"published": False}
    return {
        "sku": product.code,
        "name": product.name,
        "ean": product.ean,
        "price": _num(product.base_price),
        "description": product.note,
        "category_path": list(product.group_path),
        "published": bool(product.marked and product.active),
        "stock": _num(max(Decimal(0), stock)),
        "image": image[0] if image else None,
        "image_type": image[1] if image else None,
        "price_lists": {code: _num(p) for code, p in sorted(price_lists.items())},
    }


def changed_fields(new: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """The fields of `new` that differ from `old` (all of them when nothing was sent yet)."""
    if not old:
        return dict(new)
    return {k: v for k, v in new.items() if old.get(k) != v}


_SHOP_FIELDS = ("name", "price", "description", "category_path", "published", "stock", "ean", "price_lists", "sku")


def to_change(sku: str, shop_id: int | None, fields: dict[str, Any]) -> ProductChange | None:
    """The shop-side change for the changed state fields (None when only the image changed)."""
    out: dict[str, Any] = {}
    for k in _SHOP_FIELDS:
        if k not in fields:
            continue
        v = fields[k]
        if k in ("price", "stock"):
            out[k] = Decimal(v) if v is not None else None
        elif k == "category_path":
            out[k] = tuple(v)
        elif k == "price_lists":
            out[k] = {code: Decimal(p) for code, p in v.items() if p is not None}
        elif k == "sku":
            if shop_id is not None:
                out[k] = v
        else:
            out[k] = v
    if shop_id is None:
        out.pop("sku", None)
    return ProductChange(sku=sku, fields=out, shop_id=shop_id) if out else None
