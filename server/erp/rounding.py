"""How a document position is valued: our model of Symfonia's rule, used to predict an order's total.

A guess (not in the public API description, not checked on a real Symfonia; see
docs/symfonia.md): each position is valued on its own and rounded to the grosz,
from its net value (VAT = net x rate) or, for documents priced gross, from its gross
value (net = gross / (1 + rate), VAT = gross - net); the document's totals are the
sums of its positions. The WebAPI's answer carries per-position NetValue and
GrossValue, which fits this reading; the WebAPI writer compares the ERP's own
GrossValue with the shop's total after writing, so a wrong guess shows as a dead
letter, never as a silently different order.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

GROSZ = Decimal("0.01")
UNIT = Decimal("0.0001")  # unit prices are kept to four places (numeric(18,4))


def grosz(value: Decimal) -> Decimal:
    return value.quantize(GROSZ, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PositionValue:
    net: Decimal
    vat: Decimal
    gross: Decimal


def position_value(quantity: Decimal, unit_price: Decimal, vat_rate: int | Decimal, *, gross: bool) -> PositionValue:
    """The values of one position: quantity x unit price, priced gross or net, at a VAT rate in percent."""
    value = grosz(quantity * unit_price)
    rate = Decimal(vat_rate)
    if gross:
        net = grosz(value * 100 / (100 + rate))
        return PositionValue(net, value - net, value)
    vat = grosz(value * rate / 100)
    return PositionValue(value, vat, value + vat)


def unit_price(line_value: Decimal, quantity: Decimal) -> Decimal:
    """A unit price (four places) whose position value rounds back to line_value for sane quantities."""
    return (line_value / quantity).quantize(UNIT, rounding=ROUND_HALF_UP)


def money(value: Any) -> Decimal:
    """A number the ERP answered (a database column, a JSON number) as an exact Decimal with 2-4 places."""
    if value is None:
        return Decimal("0")
    if isinstance(value, Decimal):
        return value
    return Decimal(str(round(float(value), 4))).normalize() if isinstance(value, float) else Decimal(value)
