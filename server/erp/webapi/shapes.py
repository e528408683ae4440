"""Symfonia WebAPI's wire shapes: the enum values the sync uses (as SymfWebAPI declares them), the bodies it
builds and the answers it reads into the sync's records. No calls here.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pydantic

from ..errors import ErpRetryable
from ..records import AddressDraft, Contractor, ContractorDraft
from ..rounding import money

log = logging.getLogger(__name__)


PRICE_KIND_GROSS, PRICE_KIND_NET = 1, 2  # enumPriceKind


CENT = Decimal("0.01")


RESERVATION_BY_QUANTITY = 1  # enumDocumentReservationType


RESERVED_BY_ORDER = 45  # enumReservationDocumentType ForeignOrder: a customer order's reservation


PRODUCT_ARTICLE = 0  # enumProductType Article


PRICE_PARAMETER_MARKUP = 2  # enumPriceParameter; [PyS]: a price update failed without it


SETTINGS_RECHECK_SECONDS = 30.0  # while the settings do not fit, they are checked again this often


CHANGE_FEEDS = ("Products", "Contractors", "PriceLists", "Orders")


CONTRACTOR_FIRM, CONTRACTOR_PERSON = 0, 2  # enumContractorType (1 PersonFirm)


CANCELLED = (1, 2, 3)  # enumCancelationType Standard, ImportedFromArchive, CanceledReceipt (0 Other: GUESS live)


DOCUMENT_PARTIAL, DOCUMENT_REALIZED, DOCUMENT_CLOSED = 8, 16, 32  # enumDocumentStatus (4 New, 0 Other)


SQL_EQUALS, SQL_LIKE = 1, 2  # enumFilterSqlCriteriaMode (0 Within)


BY_PRODUCT_UP_TO = 20  # products (per warehouse) read one by one; more: the lists of every card (or stock) at once


BY_CODE_UP_TO = 20  # product codes looked up one by one; more: the whole product list at once


MODIFY_DELETE = 2  # enumIncrementalSyncModifyType: 1 InsertOrUpdate, 2 Delete


def _local(moment: dt.datetime) -> str:
    """A feed's date parameter: ISO 8601 in the ERP's local time, no offset (reference §6)."""
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def _naive_local(moment: dt.datetime) -> dt.datetime:
    """ModifiedAt in local time without an offset (reference §6: its zone is undocumented; one sent with an
    offset is turned into our local time, the office's)."""
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo is not None else moment


def _reserved_by_order(r: Any, order_id: int | None = None) -> bool:
    """A reservation made by a customer order (this one, when given): its DocumentId alone is not enough, the
    ids of different document tables collide; StandardDocumentType ForeignOrder (45) says it is a customer
    order's. GUESS: "foreign" orders are the customers' (the API names supplier orders OwnOrders)."""
    return isinstance(r, dict) and r.get("StandardDocumentType") == RESERVED_BY_ORDER and bool(r.get("DocumentId")) \
        and (order_id is None or r.get("DocumentId") == order_id)


def _form_setting(method: str) -> str:
    return "orders.default_payment_form" if method == "default" else f"orders.payment_forms.{method}"


def _listing(values: Any) -> str:
    items = [str(v) for v in values]
    return ", ".join(items) if items else "none"


def _first_error(exc: "pydantic.ValidationError") -> str:
    e = exc.errors()[0]
    return f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"


@functools.cache
def _changes_adapter() -> "pydantic.TypeAdapter[Any]":
    from SymfWebAPI.WebAPI.Interface.Common.ViewModels import IncrementalSyncListElement

    return pydantic.TypeAdapter(list[IncrementalSyncListElement])


@functools.cache
def _states_adapter() -> "pydantic.TypeAdapter[Any]":
    from SymfWebAPI.WebAPI.Interface.InventoryStates.ViewModels import InventoryState

    return pydantic.TypeAdapter(list[InventoryState])


def _one_time_data(name: str, nip: str, a: Any) -> dict[str, Any]:
    """OrderIssueContractorData: who a one-time contractor is."""
    return {"Name": name[:150], "NIP": nip or None, "Street": a.street[:60] or None, "HouseNo": a.house[:10] or None,
            "ApartmentNo": a.flat[:10] or None, "PostCode": a.postcode[:10] or None, "City": a.city[:60] or None,
            "Country": a.country[:3] or "PL"}


def contractor_body(d: ContractorDraft, code: str) -> dict[str, Any]:
    """A Contractor for Contractors/Create: what [PHP] sends (Active, Code, Name, Vies, VATTaxPayer, NIP,
    PriceNegotiation, Type, Note, Contact, DefaultAddress), from the shop's billing data."""
    company = bool(d.nip)
    return {
        "Active": True, "Code": code, "Name": d.name[:150], "NIP": d.nip or None, "Vies": False,
        "VATTaxPayer": company, "PriceNegotiation": False,
        "Type": CONTRACTOR_FIRM if company else CONTRACTOR_PERSON,
        "Note": "Założony przez shopsync z pierwszego zamówienia w sklepie",
        "Contact": {"Email": d.email[:100], "Phone1": d.phone[:30]},
        "DefaultAddress": {"Street": d.street[:60] or None, "HouseNo": d.house[:10] or None,
                           "ApartmentNo": d.flat[:10] or None, "PostCode": d.postcode[:10] or None,
                           "City": d.city[:60] or None, "Country": d.country[:3] or "PL"},
    }


def delivery_address_body(a: AddressDraft, code: str) -> dict[str, Any]:
    """A ContractorDeliveryAddress. GUESS: the model has no recipient name; the name leads FullAddress."""
    return {"Code": code, "Street": a.street[:60] or None, "HouseNo": a.house[:10] or None,
            "ApartmentNo": a.flat[:10] or None, "PostCode": a.postcode[:10] or None, "City": a.city[:60] or None,
            "Country": a.country[:3] or "PL", "Province": "",
            "FullAddress": ", ".join(x for x in (a.name,
                                                 f"{a.street} {a.house}{'/' + a.flat if a.flat else ''}".strip(),
                                                 f"{a.postcode} {a.city}".strip()) if x)}


def _contractor(k: Any) -> Contractor:
    """A Contractor answer as the sync's record (price groups are not in the WebAPI's model: none)."""
    if not isinstance(k, dict) or not k.get("Id"):
        raise ErpRetryable(f"Symfonia WebAPI answered a contractor without an id: {str(k)[:100]}")
    address = k.get("DefaultAddress") or {}
    contact = k.get("Contact") or {}
    return Contractor(id=int(k["Id"]), code=k.get("Code") or "", name=k.get("Name") or "", nip=k.get("NIP") or "",
                      street=address.get("Street") or "", house=address.get("HouseNo") or "",
                      flat=address.get("ApartmentNo") or "", postcode=address.get("PostCode") or "",
                      city=address.get("City") or "", email=contact.get("Email") or "",
                      phone=contact.get("Phone1") or "", price_group=None)


PRICE_FACTOR_DISCOUNT, PRICE_FACTOR_PRICE = 0, 1  # enumPriceFactorType: a price list entry's Type


def price_as_shop(value: Any, kind: Any, vat: int, gross: bool) -> Decimal:
    """A card's or a list's price of `kind` (enumPriceKind: 1 Gross, 2 Net, 0 Undefined: as it is) as the shop
    enters prices (`gross`: with tax), converted at the product's VAT rate and rounded to the grosz."""
    v = money(float(value))
    rate = Decimal(vat) / 100
    if kind == PRICE_KIND_GROSS and not gross:
        return (v / (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    if kind == PRICE_KIND_NET and gross:
        return (v * (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    return v


def vat_percent(code: Any) -> int:
    """A VAT rate's code as a percentage: "23" -> 23; "zw" (exempt), "np" (not subject) -> 0 (no tax)."""
    text = str(code or "").strip().rstrip("%")
    return int(text) if text.isdigit() else 0


def _num(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)
