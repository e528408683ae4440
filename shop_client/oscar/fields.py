"""How django-oscar takes a few of a product's fields, shared by both halves of the adapter."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Mapping


def slug(sku: str) -> str:
    """A product's slug from its SKU."""
    return re.sub(r"[^a-z0-9]+", "-", sku.lower()).strip("-") or "produkt"


def stock_record(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The stock record fields a change sets: its price and its stock (whole units, rounded down)."""
    record: dict[str, Any] = {}
    if "price" in fields and fields["price"] is not None:
        record["price"] = f"{Decimal(fields['price']):.2f}"
    if "stock" in fields:
        qty = fields["stock"] or 0
        record["num_in_stock"] = int(Decimal(qty).to_integral_value(rounding="ROUND_FLOOR")) if qty else 0
    return record
