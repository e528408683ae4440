"""A shop address as the ERP writes it: street split into street, house and flat, the country
defaulted, once for both a payer (contractor) and a delivery address."""

from __future__ import annotations

from typing import Any

from shop_client.interface import Address, ShopOrder

from ..erp.records import AddressDraft, ContractorDraft


def split_street(address_1: str) -> tuple[str, str, str]:
    """'Długa 5/3' -> ('Długa', '5', '3')."""
    parts = address_1.strip().rsplit(" ", 1)
    if len(parts) == 2 and any(ch.isdigit() for ch in parts[1]):
        house, _, flat = parts[1].partition("/")
        return parts[0], house, flat
    return address_1.strip(), "", ""


def address_fields(a: Address) -> dict[str, Any]:
    """The address fields every ERP address record shares."""
    street, house, flat = split_street(a.address_1)
    return {"street": street, "house": house, "flat": flat, "postcode": a.postcode, "city": a.city,
            "country": a.country or "PL"}


def delivery_address(order: ShopOrder) -> AddressDraft:
    """Where the order goes: the shipping address, or the billing one when the shop has none."""
    s = order.shipping if (order.shipping.address_1 or order.shipping.city) else order.billing
    return AddressDraft(label=f"Dostawa {order.number}"[:40], name=s.name or order.billing.name,
                        **address_fields(s))


def payer_draft(order: ShopOrder, code: str, nip: str) -> ContractorDraft:
    """The contractor a first order creates, from its billing address."""
    b = order.billing
    name = b.company or f"{b.first_name} {b.last_name}".strip() or b.email or f"Klient sklepu {order.number}"
    return ContractorDraft(code=code, name=name, nip=nip, email=b.email, phone=b.phone, **address_fields(b))
