"""What the sync needs from a shop, in the domain's words (not any shop's).

An adapter implements ShopClient for one shop (WooCommerce first). Money is
Decimal, quantities Decimal, ids int, category paths tuples of names.
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterator, Mapping, Sequence

from shop_client.errors import CapabilityMissing

# Optional features an adapter declares; the sync checks before relying on one.
CAP_PRICE_LISTS = "price_lists"
CAP_CUSTOMER_TAX_ID = "customer_tax_id"
CAP_PAIRING_STATUS = "pairing_status"
CAP_IMAGES = "images"
CAP_ORDER_STATUS = "order_status"  # set an order's status and add notes to it
CAP_INVOICES = "invoices"  # invoice printouts kept on the shop order (the companion plugin serves them)
CAP_REFUNDS = "refunds"  # an order's refunds, line by line (get_refunds)
CAP_IMAGE_UPLOAD = "image_upload"  # takes image bytes (the shop needs no route to us)
CAP_VARIATIONS = "variations"  # variable products and their variations (upsert_variations, iter_variations)

# ShopProduct.kind
SIMPLE, VARIABLE, VARIATION = "simple", "variable", "variation"


@dataclass(frozen=True)
class ShopProduct:
    id: int
    sku: str
    name: str
    price: Decimal | None
    description: str
    category_path: tuple[str, ...]
    published: bool
    stock: Decimal | None
    ean: str = ""
    image_url: str = ""
    modified: str = ""
    trashed: bool = False  # in the shop's trash (deleted by a person, still readable by id)
    tax_class: str = ""  # the shop's tax class ("" = standard; WooCommerce: "reduced-rate", "zero-rate", ...)
    kind: str = SIMPLE  # SIMPLE | VARIABLE (sold as its variations) | VARIATION (one of them)
    parent_id: int = 0  # a variation's variable product
    # A variable product's attributes that make its variations (name -> its options), a variation's own
    # (name -> its option).
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageRef:
    """A main image for the shop: its bytes (shops that take uploads: nothing needs to reach us)
    and/or a URL the shop downloads it from (shops that can reach the sync server)."""

    filename: str
    content_type: str
    data: bytes = b""
    url: str = ""


@dataclass(frozen=True)
class ProductChange:
    """Create (shop_id None) or update a product; `fields` holds only what changes.

    Field names: name, price, description, category_path, published, stock, ean,
    price_lists ({list code: price}); and, on a create only, image (an ImageRef: the
    main image, so a new product needs no second call; later changes go through
    set_main_image, which keeps the rest of the gallery).
    A variable product: variable (True, on create) and attributes ({name: [options]}).
    A variation (upsert_variations): sku, price, stock, published, ean, price_lists,
    description, attributes ({name: option}) and image (an ImageRef, on create and on change).
    """

    sku: str
    fields: dict[str, Any]
    shop_id: int | None = None


# What became of one item of a batch (ItemResult.kind): decided by the adapter, once.
ITEM_OK = "ok"
ITEM_GONE = "gone"            # the record is not in the shop (deleted there by a person)
ITEM_REJECTED = "rejected"    # the shop refuses the item as it is: a person must act
ITEM_RETRYABLE = "retryable"  # the shop could not take it now: try again later


@dataclass(frozen=True)
class ItemResult:
    """The outcome for one item of a batch: its shop id, or the shop's error and its kind."""

    key: str
    shop_id: int | None = None
    error: str = ""
    kind: str = ITEM_OK
    image_error: str = ""  # the item was saved, but its image could not be taken
    image_src: str = ""  # where the shop serves the product's main image now (its own copy)
    image_media_id: int | None = None  # the shop's media record we uploaded for it (ours to delete later)

    @classmethod
    def failed(cls, key: str, error: str, kind: str = ITEM_REJECTED) -> "ItemResult":
        return cls(key=key, error=error, kind=kind)

    @property
    def ok(self) -> bool:
        return self.kind == ITEM_OK

    @property
    def retryable(self) -> bool:
        return self.kind == ITEM_RETRYABLE


@dataclass(frozen=True)
class Address:
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    address_1: str = ""
    address_2: str = ""
    city: str = ""
    postcode: str = ""
    country: str = ""
    email: str = ""
    phone: str = ""

    @property
    def name(self) -> str:
        person = f"{self.first_name} {self.last_name}".strip()
        return self.company or person


@dataclass(frozen=True)
class ShopCustomer:
    id: int
    email: str
    first_name: str
    last_name: str
    billing: Address
    tax_id: str
    pairing: dict[str, Any] = field(default_factory=dict)
    staff: bool = False  # the shop's own people (administrators, shop managers): never paired
    # A shop manager's choice made in the shop (the plugin's pairing box): {id, action: pair|unpair,
    # contractor_id or contractor_code, confirm_nip_differs, by, at}; the sync carries it out on its next look.
    pairing_request: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.billing.name or f"{self.first_name} {self.last_name}".strip() or self.email


@dataclass(frozen=True)
class ShopOrderLine:
    product_id: int
    sku: str
    name: str
    quantity: Decimal
    unit_price: Decimal  # net after discounts, in the order currency
    total: Decimal | None = None  # the line's net value after coupons (None: the shop does not say)
    tax: Decimal = Decimal(0)  # the tax the shop charged on the line
    variation_id: int = 0  # the variation ordered (product_id is then its variable product)


@dataclass(frozen=True)
class RefundLine:
    """What a refund gives back of one order line (positive numbers): quantity, net value and tax."""

    product_id: int
    sku: str
    quantity: Decimal
    total: Decimal
    tax: Decimal = Decimal(0)


@dataclass(frozen=True)
class ShopRefund:
    """A refund of a shop order (WooCommerce: /orders/{id}/refunds): its amount, the lines and shipping it gives
    back (positive numbers), and why."""

    id: int
    amount: Decimal
    reason: str = ""
    created: str = ""
    lines: tuple[RefundLine, ...] = ()
    shipping: Decimal = Decimal(0)  # net
    shipping_tax: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)  # net + tax of refunded fees


@dataclass(frozen=True)
class ShopCharge:
    """Something the customer paid besides goods: shipping or a fee (net value and its tax)."""
    kind: str  # "shipping" | "fee"
    name: str
    total: Decimal
    tax: Decimal = Decimal(0)


@dataclass(frozen=True)
class ShopOrder:
    id: int
    number: str
    status: str
    currency: str
    customer_id: int  # 0 = guest
    billing: Address
    shipping: Address
    lines: tuple[ShopOrderLine, ...]
    tax_id: str = ""
    created: str = ""
    modified: str = ""
    note: str = ""  # the customer's note
    charges: tuple[ShopCharge, ...] = ()
    prices_include_tax: bool = False  # the shop's prices were entered with tax (WooCommerce's setting)
    total: Decimal | None = None  # what the customer pays (None: the shop does not say)
    total_tax: Decimal = Decimal(0)
    payment_method: str = ""
    # When the shop says the order was paid (WooCommerce's date_paid_gmt: set as the payment completes; for
    # cash on delivery when the order is completed); "" not paid. `reports_date_paid`: the shop gives it at all.
    date_paid: str = ""
    reports_date_paid: bool = False
    # The order's own scalar meta (e.g. the checkout's "I want an invoice"), key -> text.
    meta: Mapping[str, str] = field(default_factory=dict)
    # The refunds made of it: (refund id, amount), read whole with ShopClient.get_refunds.
    refunds: tuple[tuple[int, Decimal], ...] = ()


@dataclass(frozen=True)
class ProductPage:
    items: list[ShopProduct]
    total: int | None
    page: int
    pages: int | None


@dataclass(frozen=True)
class CustomerPage:
    items: list[ShopCustomer]
    total: int | None


@dataclass(frozen=True)
class OrderPage:
    items: list[ShopOrder]
    total: int | None


class ShopClient(abc.ABC):
    """A shop as the sync sees it."""

    capabilities: frozenset[str] = frozenset()

    @abc.abstractmethod
    def ping(self) -> None:
        """One cheap call; raises ShopUnavailable while the shop cannot be reached."""

    @abc.abstractmethod
    def iter_products(self, page_size: int = 100, start_page: int = 1) -> Iterator[ProductPage]:
        """Every product, one page at a time (memory stays flat)."""

    @abc.abstractmethod
    def find_product_ids_by_sku(self, skus: Sequence[str]) -> dict[str, int]:
        """SKU -> shop id for the SKUs the shop has."""

    @abc.abstractmethod
    def get_product(self, shop_id: int) -> ShopProduct:
        """One product (raises ShopNotFound)."""

    @abc.abstractmethod
    def upsert_products(self, changes: Sequence[ProductChange]) -> list[ItemResult]:
        """Create or update products in as few calls as the shop allows.

        One result per change, in order, keyed by SKU. A create whose SKU already
        exists in the shop becomes an update of that product.
        """

    def set_stock(self, stock: Sequence[tuple[int, str, Decimal]]) -> list[ItemResult]:
        """Set the stock of many products: (shop id, sku, quantity)."""
        return self.upsert_products([ProductChange(sku=sku, shop_id=sid, fields={"stock": qty})
                                     for sid, sku, qty in stock])

    def upsert_variations(self, parent_id: int, changes: Sequence[ProductChange]) -> list[ItemResult]:
        """Create or update variations of the variable product `parent_id` (with CAP_VARIATIONS), one result
        per change, in order. A create whose SKU the shop has already becomes an update of it there (or, when it
        is a variation of another product or a product of its own, that one is removed first: the card moved)."""
        raise CapabilityMissing(f"this shop ({type(self).__name__}) has no variable products")

    def iter_variations(self, parent_id: int) -> list[ShopProduct]:
        """The variations of a variable product (with CAP_VARIATIONS)."""
        raise CapabilityMissing(f"this shop ({type(self).__name__}) has no variable products")

    def remove_products(self, refs: Sequence[tuple[int, int]]) -> None:
        """Delete products for good: (variable product id, variation id) for a variation, (0, id) for a product
        (a card that moved to another family, or out of one). Already gone is fine."""
        raise CapabilityMissing(f"this shop ({type(self).__name__}) has no variable products")

    @abc.abstractmethod
    def ensure_category(self, path: Sequence[str]) -> int:
        """The id of the category at `path`, creating missing levels."""

    @abc.abstractmethod
    def set_main_image(self, shop_id: int, image: ImageRef | None, name: str = "",
                       discard_media: Sequence[int] = ()) -> ItemResult:
        """Replace the main image (None removes it), keeping the rest of the gallery; `discard_media`
        are media records we uploaded before for it, deleted from the shop's library once replaced.
        Returns where the shop serves the image now (image_src) and the media record we made."""

    @abc.abstractmethod
    def download(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        """Fetch an image the shop serves: (bytes, content type)."""

    @abc.abstractmethod
    def iter_customers(self, page_size: int = 100) -> Iterator[CustomerPage]:
        """Every customer, one page at a time."""

    @abc.abstractmethod
    def get_customer(self, customer_id: int) -> ShopCustomer:
        """One customer (raises ShopNotFound)."""

    @abc.abstractmethod
    def set_customer_pairing(self, statuses: Sequence[tuple[int, dict[str, Any]]]) -> list[ItemResult]:
        """Record each customer's pairing status where the shop's admin sees it."""

    @abc.abstractmethod
    def set_customer_price_lists(self, lists: Sequence[tuple[int, list[str]]]) -> list[ItemResult]:
        """Which price lists apply to each customer, own list first (it wins)."""

    @abc.abstractmethod
    def iter_orders(self, modified_after: dt.datetime | None, statuses: Sequence[str],
                    page_size: int = 100) -> Iterator[OrderPage]:
        """Orders in the given statuses, new or changed after a moment (UTC), oldest first."""

    def set_order_status(self, order_id: int, status: str) -> None:
        """Move an order to a status of the shop's (with CAP_ORDER_STATUS)."""
        raise CapabilityMissing(f"this shop ({type(self).__name__}) cannot take order statuses")

    def add_order_note(self, order_id: int, note: str, *, customer_visible: bool) -> None:
        """Add a note to an order, shown to the customer or only to the shop's staff (with CAP_ORDER_STATUS)."""
        raise CapabilityMissing(f"this shop ({type(self).__name__}) cannot take order notes")

    def set_order_erp_info(self, order_id: int, info: dict[str, Any]) -> None:
        """Keep the ERP order's number and state on the shop order, for the shop's staff (with CAP_ORDER_STATUS):
        {"number", "state", "invoices", "buffered"}."""
        raise CapabilityMissing(f"this shop ({type(self).__name__}) cannot keep ERP order details")

    def set_order_invoices(self, order_id: int, invoices: list[dict[str, Any]]) -> None:
        """Keep the ERP's invoice printouts on the shop order, for its customer to download (with CAP_INVOICES):
        [{"number", "sha1", "created", "pdf" (base64), "replaced_by"}], newest last."""
        raise CapabilityMissing(f"this shop ({type(self).__name__}) cannot keep invoices")

    @abc.abstractmethod
    def get_order(self, order_id: int) -> ShopOrder:
        """One order (raises ShopNotFound)."""

    def get_refunds(self, order_id: int) -> list[ShopRefund]:
        """The refunds of an order, oldest first (with CAP_REFUNDS)."""
        raise CapabilityMissing(f"this shop ({type(self).__name__}) does not report refunds")

    def close(self) -> None:  # noqa: B027 - optional for adapters that hold no connections
        """Release connections."""
