"""How WooCommerce takes a few of a product's (or variation's) fields, shared by both halves of the adapter."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def money(value: Decimal | None) -> str:
    """A price as WooCommerce stores it ("" for none)."""
    return "" if value is None else f"{Decimal(value):.2f}"


def stock_fields(qty: Decimal | None) -> dict[str, Any]:
    """Managed stock of `qty`: the shop counts whole units, a fraction in the ERP (kg, m) rounds down."""
    return {"manage_stock": True,
            "stock_quantity": int(Decimal(qty).to_integral_value(rounding="ROUND_FLOOR")) if qty else 0}
