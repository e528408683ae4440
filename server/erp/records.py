"""The ERP's value types: what is read from Symfonia and what is written to it.

Plain frozen dataclasses, shared by the ERP interface (interface.py), the SQL gateway
(gateway.py) and the flows; none of them needs the others to use these.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping, Sequence

_FEATURE_NAME = re.compile(r"^[A-Za-z0-9_]{1,60}$")  # becomes part of a column name: CDim_<name>_Val


@dataclass(frozen=True)
class MarkerSource:
    """What "sold online" is in the ERP (erp.marker): Symfonia's native marker on the product card
    (`marker:3`: HM.TW.znacznik = 3, the coloured flag in the product list; the WebAPI's Product.Marker),
    or a product feature and its value (`feature:Sklep=TAK`: SSCommon.ProductClassification)."""

    native: bool
    number: int = 0
    feature: str = ""
    value: str = ""

    @classmethod
    def parse(cls, text: str) -> "MarkerSource":
        kind, _, rest = text.strip().partition(":")
        if kind == "marker":
            try:
                number = int(rest)
            except ValueError:
                number = -1
            if not 1 <= number <= 32767:
                raise ValueError(f"erp.marker {text!r}: marker:N needs the marker's number, 1 or more "
                                 "(Symfonia's marker catalogue; e.g. marker:3)")
            return cls(native=True, number=number)
        if kind == "feature":
            name, eq, value = rest.partition("=")
            if not eq or not _FEATURE_NAME.match(name) or not value.strip():
                raise ValueError(f"erp.marker {text!r}: feature:NAME=VALUE needs the feature's name (letters, "
                                 "digits, _) and the value meaning sold online, e.g. feature:Sklep=TAK")
            return cls(native=False, feature=name, value=value.strip())
        raise ValueError(f"erp.marker {text!r}: write marker:N (Symfonia's native marker number N) or "
                         "feature:NAME=VALUE (a product feature and its value)")

    @staticmethod
    def feature_name_ok(name: str) -> bool:
        """A feature name that can be part of a column name (CDim_<name>_Val)."""
        return bool(_FEATURE_NAME.match(name or ""))

    def is_marked(self, raw: Any) -> bool:
        """Whether a product's stored marker field (znacznik, or the feature's value) means sold online."""
        if self.native:
            return raw is not None and int(raw) == self.number
        return (raw or "") == self.value

    @property
    def column(self) -> str:
        """The feature's column in SSCommon.ProductClassification."""
        return f"CDim_{self.feature}_Val"

    def __str__(self) -> str:
        return f"marker:{self.number}" if self.native else f"feature:{self.feature}={self.value}"


@dataclass(frozen=True)
class Product:
    id: int
    code: str
    name: str
    ean: str
    unit: str
    vat: int
    group_path: tuple[str, ...]
    marked: bool
    note: str
    active: bool
    modified: str
    base_price: Decimal | None
    # The card's features (cechy) that have a value: name -> value (over SQL the CDim_<name>_Val columns of
    # SSCommon.ProductClassification; through the WebAPI the card's Dimensions). Sizes and colours of a family
    # of cards are features.
    features: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Contractor:
    id: int
    code: str
    name: str
    nip: str
    street: str
    house: str
    flat: str
    postcode: str
    city: str
    email: str
    phone: str
    price_group: int | None
    address_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class PostalAddress:
    """The address fields every ERP address record shares (HM.KH and HM.AD alike)."""

    street: str = ""
    house: str = ""
    flat: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "PL"


@dataclass(frozen=True, kw_only=True)
class ContractorDraft(PostalAddress):
    code: str
    name: str
    nip: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True, kw_only=True)
class AddressDraft(PostalAddress):
    label: str
    name: str
    nip: str = ""


# The payer of a guest's order issued to a one-time contractor (orders.guests_as_one_time).
ONE_TIME_CONTRACTOR = 0


@dataclass(frozen=True)
class OrderLineDraft:
    product_id: int
    quantity: Decimal
    price: Decimal  # unit price in the order currency: gross or net as OrderDraft.prices_gross says
    # The product's code and unit as the ERP has them, when the caller read the product already (the order's
    # pricing does): the writer need not read it again. Empty: the writer reads them.
    code: str = ""
    unit: str = ""


@dataclass(frozen=True)
class OrderDraft:
    shop_number: str  # -> ZO.kod_obcy (SQL writer) and the document's description (both writers)
    contractor_id: int
    delivery: AddressDraft | None
    currency: str
    rate: Decimal
    lines: Sequence[OrderLineDraft]
    note: str = ""  # the document's description (names the shop order)
    date: dt.date | None = None
    prices_gross: bool = False  # line prices include VAT (the WebAPI's PriceKind 1 Gross; else 2 Net)
    payment_form: int | None = None  # the ERP's payment form id (WebAPI PaymentFormId)
    customer_note: str = ""  # what the customer wrote with the order
    expected_gross: Decimal | None = None  # what the customer paid: the ERP's gross total must equal it
    shop_order_id: int | None = None  # the shop's own id of the order (WebAPI IdExternal)
    # contractor_id == ONE_TIME_CONTRACTOR: the buyer's data for a one-time contractor (WebAPI only)
    one_time: "ContractorDraft | None" = None


def check_order_draft(order: OrderDraft) -> None:
    """What every ERP refuses of an order, refused before anything is written (ErpPermanent)."""
    from .errors import ErpPermanent

    if not order.lines:
        raise ErpPermanent(f"order {order.shop_number}: has no lines")
    if not order.shop_number or len(order.shop_number) > 40:
        raise ErpPermanent(f"order number {order.shop_number!r}: must be 1..40 characters (kod_obcy)")
    for lp, line in enumerate(order.lines, start=1):
        if line.quantity <= 0:
            raise ErpPermanent(f"order {order.shop_number} line {lp}: quantity must be positive")


def order_description(shop_number: str) -> str:
    """The description of an ERP order that names its shop order (both writers write it; the
    WebAPI offers no field for ZO.kod_obcy, so orders it wrote are found by this)."""
    return f"Zamówienie ze sklepu nr {shop_number}"


@dataclass(frozen=True)
class ProductDraft:
    code: str
    name: str
    ean: str = ""
    unit: str = "szt."
    vat: int | str = 23  # the ERP's VAT rate code: a percentage, or "zw" (exempt), "np" (not subject)
    group_path: tuple[str, ...] = ()
    price: Decimal | None = None
    price_gross: bool = False  # the price includes VAT (the shop's prices are entered with tax)
    marked: bool = True
    note: str = ""
    # Features (cechy) to give the card, name -> value: a family's and its attributes' (variable products).
    features: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PriceList:
    id: int
    code: str
    individual: bool
    active: bool
    prices: dict[int, tuple[Decimal, str]] = field(default_factory=dict)  # product id -> (price, currency)
    contractors: tuple[int, ...] = ()
    groups: tuple[int, ...] = ()


@dataclass(frozen=True)
class Image:
    product_id: int
    filename: str
    content_type: str
    data: bytes
    sha256: str


@dataclass(frozen=True)
class OrderRecord:
    id: int
    code: str
    shop_number: str
    contractor_id: int
    delivery_address_id: int | None
    currency: str
    rate: Decimal
    net: Decimal
    lines: list[tuple[int, Decimal, Decimal]]  # product id, quantity, net unit price in the order currency
    reservations: list[tuple[int, Decimal, int]]  # product id, quantity, warehouse
    vat: Decimal = Decimal(0)  # in PLN, as net
    buffered: bool = False  # in the ERP's buffer: a person approves (and numbers) it in Symfonia
    description: str = ""


# The progress of a customer order, as the ERP shows it.
ORDER_NEW, ORDER_PARTIAL, ORDER_REALISED, ORDER_CANCELLED = "new", "partial", "realised", "cancelled"


@dataclass(frozen=True)
class OrderProgress:
    order_id: int
    code: str  # the ERP's document number of the order (ZO.kod)
    state: str  # ORDER_NEW / ORDER_PARTIAL / ORDER_REALISED / ORDER_CANCELLED
    invoices: tuple[str, ...] = ()  # numbers of sale documents issued from it (FV...)
    documents: tuple[str, ...] = ()  # numbers of warehouse documents that realised it (WZ...)


# Where a document a hook named stands (ErpReader.document_state).
DOCUMENT_ISSUED, DOCUMENT_DRAFT, DOCUMENT_CANCELLED, DOCUMENT_MISSING = "issued", "draft", "cancelled", "missing"


# KSeF, as enumKSeFInvoiceStatus (SymfWebAPI 2.0.26.20) says of a sale document, and what the sync makes of it.
KSEF_NOT_KSEF, KSEF_APPROVED, KSEF_REJECTED = 0, 60, 70
KSEF_WAITING = (10, 25, 50)  # waiting to be sent, sending, pending validation by KSeF
KSEF_FAILED = (20, 30, 40)  # error sending to the KSeF module, not sent, error: a person must look


@dataclass(frozen=True)
class SaleDocument:
    """A sale document (invoice, receipt, correction) as the sync follows it: its KSeF status and number
    (a receipt is not a KSeF document: status 0 or none), its gross value and what was paid of it."""

    id: int
    number: str
    kind: str  # "invoice" | "receipt" | "correction"
    type_code: str = ""
    gross: Decimal = Decimal(0)
    currency: str = "PLN"
    rate: Decimal = Decimal(1)
    buyer_id: int = 0
    ksef_status: int | None = None
    ksef_number: str = ""
    ksef_date: str = ""
    issued: str = ""

    @property
    def ksef(self) -> str:
        """none (not a KSeF document) | waiting | approved | rejected | failed."""
        if self.ksef_status in (None, KSEF_NOT_KSEF):
            return "approved" if self.ksef_number else "none"
        if self.ksef_status == KSEF_APPROVED or self.ksef_number:
            return "approved"
        if self.ksef_status == KSEF_REJECTED:
            return "rejected"
        return "failed" if self.ksef_status in KSEF_FAILED else "waiting"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "number": self.number, "kind": self.kind, "type": self.type_code,
                "gross": str(self.gross), "currency": self.currency, "ksef_status": self.ksef_status,
                "ksef_number": self.ksef_number, "ksef_date": self.ksef_date, "issued": self.issued}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "SaleDocument":
        return cls(id=int(d["id"]), number=str(d.get("number") or ""), kind=str(d.get("kind") or "invoice"),
                   type_code=str(d.get("type") or ""), gross=Decimal(str(d.get("gross") or 0)),
                   currency=str(d.get("currency") or "PLN"), ksef_status=d.get("ksef_status"),
                   ksef_number=str(d.get("ksef_number") or ""), ksef_date=str(d.get("ksef_date") or ""),
                   issued=str(d.get("issued") or ""))


@dataclass(frozen=True)
class InvoicePrintout:
    """An invoice issued from an order, as the ERP prints it (the WebAPI's Orders/InvoicesPDF)."""

    number: str
    sha1: str
    created: str
    pdf: bytes


@dataclass(frozen=True)
class FeedChange:
    """One element of a WebAPI change feed ({Products,Contractors,PriceLists,Orders}/IncrementalSync):
    the record's id, when the ERP logged the change (its local time, no offset, as sent), whether it was
    deleted, and a digest of the record as sent (to tell a real change from a card saved unedited)."""

    id: int
    modified_at: str
    deleted: bool
    digest: str


@dataclass(frozen=True)
class StockState:
    """One state of InventoryStates/Changes: a product's stock in one warehouse."""

    product_id: int
    warehouse_id: int
    to_sale: Decimal  # AmountToSale: commercial stock, after reservations
