"""The order's money over SQL: nothing. Receipts, invoices and payments are numbered and booked by Symfonia
itself, and KSeF numbers come through its KSeF module; only its WebAPI can ask it to. Writing them into the
company database directly would make documents Symfonia never numbered or sent, so over SQL every one of
these says so plainly (a setting check refuses orders.invoice, orders.document and orders.payment_registries
without erp.mode = "webapi" before any order arrives)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..errors import ErpConfigError
from ..records import SaleDocument
from .base import SqlBase

WEBAPI_ONLY = ("{what} needs Symfonia WebAPI: over SQL shopsync cannot make Symfonia number, book or send a "
               "document; set erp.mode = \"webapi\" (docs/symfonia.md), or orders.invoice = \"never\" and no "
               "orders.payment_registries")


class SqlMoney(SqlBase):
    """What the order's money needs, refused over SQL with the reason and the setting."""

    def sale_document(self, document_id: int, kind: str = "") -> SaleDocument:
        raise ErpConfigError(WEBAPI_ONLY.format(what="reading a sale document's KSeF status"))

    def refresh_ksef(self, document_id: int, kind: str = "") -> SaleDocument:
        raise ErpConfigError(WEBAPI_ONLY.format(what="asking for a KSeF number"))

    def order_invoices(self, order_id: int) -> list[SaleDocument]:
        raise ErpConfigError(WEBAPI_ONLY.format(what="following an order's invoices"))

    def order_receipt(self, order_id: int) -> SaleDocument | None:
        raise ErpConfigError(WEBAPI_ONLY.format(what="following an order's receipt"))

    def issue_receipt(self, order_id: int) -> SaleDocument:
        raise ErpConfigError(WEBAPI_ONLY.format(what="issuing a receipt"))

    def payment_registries(self) -> dict[str, str]:
        raise ErpConfigError(WEBAPI_ONLY.format(what="reading the payment registers"))

    def paid_of(self, document_id: int) -> tuple[Decimal, Decimal]:
        raise ErpConfigError(WEBAPI_ONLY.format(what="reading what a document has been paid"))

    def find_correction(self, master_id: int, key: str) -> SaleDocument | None:
        raise ErpConfigError(WEBAPI_ONLY.format(what="following a document's corrections"))

    def issue_correction(self, master: SaleDocument, key: str, reason: str,
                         returned: dict[str, tuple[Decimal, Decimal, Decimal]], restock: bool) -> SaleDocument:
        raise ErpConfigError(WEBAPI_ONLY.format(what="issuing a correction"))

    def record_payment(self, doc: SaleDocument, paid: Decimal, registry: str, paid_on: dt.date, note: str) -> str:
        raise ErpConfigError(WEBAPI_ONLY.format(what="recording a payment"))
