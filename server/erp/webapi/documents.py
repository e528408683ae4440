"""Documents through the WebAPI: reservations, warehouse and sale documents, which orders a document touched,
and the invoices issued from an order with their printouts.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from typing import Any

from ..errors import ErpNotFound, ErpRetryable
from ..records import DOCUMENT_CANCELLED, DOCUMENT_DRAFT, DOCUMENT_ISSUED, DOCUMENT_MISSING, InvoicePrintout
from .client import WebApiSentUnknown
from .shapes import CANCELLED, _reserved_by_order

log = logging.getLogger(__name__)


class WebApiDocuments:
    """Documents through the WebAPI."""

    def reservation_product(self, reservation_id: int) -> int | None:
        """The product a reservation reserves (`GET /api/Reservations?id=`; None: it was deleted)."""
        try:
            return int(self.webapi.call("GET", "/Reservations", params={"id": int(reservation_id)})["ProductId"])
        except ErpNotFound:
            return None

    def _documents(self, document_id: int) -> list[dict[str, Any]]:
        """The warehouse document and the sale document with this id (a hook names only the id, and the two
        number their rows apart: both are asked, as over SQL)."""
        out = []
        for path in ("/WarehouseDocuments", "/Sales"):
            try:
                out.append(self.webapi.call("GET", path, params={"id": int(document_id)}))
            except ErpNotFound:
                continue
        return out

    def document_products(self, document_id: int) -> list[int]:
        return sorted({int(p["ProductId"]) for d in self._documents(document_id) for p in d.get("Positions") or []
                       if isinstance(p, dict) and p.get("ProductId")})

    def orders_of_document(self, document_id: int) -> list[int]:
        """The customer orders a document may have realised or invoiced. The WebAPI's documents do not name
        them, so these are the orders holding reservations of the document's products
        (`Reservations/Filter?productId=`, the DocumentId of those a customer order made): more than the document touched at worst, and the
        caller compares each order's progress with what the shop was last sent. GUESS: a realised reservation
        stays listed with its order (the Orders change feed catches an order whose reservation went)."""
        orders: set[int] = set()
        for pid in self.document_products(document_id):
            orders.update(int(r["DocumentId"]) for r in
                          self.webapi.call("GET", "/Reservations/Filter", params={"productId": pid}) or []
                          if _reserved_by_order(r))
        return sorted(orders)

    def document_state(self, document_id: int) -> str:
        docs = self._documents(document_id)
        if not docs:
            return DOCUMENT_MISSING
        if any(not d.get("Buffer") and d.get("Canceled") not in CANCELLED for d in docs):
            return DOCUMENT_ISSUED
        return DOCUMENT_CANCELLED if all(d.get("Canceled") in CANCELLED for d in docs) else DOCUMENT_DRAFT

    def issue_invoice(self, order_id: int) -> list[str]:
        """The invoice from an ERP order, through `PUT /api/OrdersIssue/FV` (the ERP numbers it in its series),
        once: an order that has invoices already is not invoiced again. Returns the invoices' numbers."""
        issued = self.webapi.call("GET", "/Orders/FV", params={"orderId": order_id}) or []
        if not issued:
            wait = self.holds.remaining(f"webapi.invoice.{order_id}")
            if wait > 0:
                raise ErpRetryable(f"ERP order {order_id}: the WebAPI did not answer the last invoice request; not "
                                   f"sent again for {wait:.0f} s more")
            sent = time.monotonic()
            try:
                issued = self.webapi.call("PUT", "/OrdersIssue/FV", params={"orderId": order_id}) or []
            except WebApiSentUnknown:
                self.holds.hold(f"webapi.invoice.{order_id}", 3 * self.webapi.timeout - (time.monotonic() - sent))
                raise
            log.info("ERP order %s invoiced through the WebAPI: %s", order_id,
                     ", ".join(str(f.get("DocumentNumber")) for f in issued))
        return [str(f.get("DocumentNumber") or "") for f in issued]

    def invoice_printouts(self, order_id: int) -> list[InvoicePrintout]:
        """The order's invoices as the ERP prints them (`GET /api/Orders/InvoicesPDF`), each named by its number
        from `Orders/FV` (GUESS: both list the invoices in the same order)."""
        numbers = [str(f.get("DocumentNumber") or "") for f in
                   (self.webapi.call("GET", "/Orders/FV", params={"orderId": order_id}) or [])]
        # printNote (required): print the invoice's note too. The customer's printout, as a person prints it.
        printouts = self.webapi.call("GET", "/Orders/InvoicesPDF",
                                     params={"orderId": order_id, "printNote": "true"}) or []
        out = []
        for n, p in enumerate(printouts):
            try:
                pdf = base64.b64decode(p.get("ContentFile_Base64") or "", validate=True)
            except ValueError:
                raise ErpRetryable(f"ERP order {order_id}: the WebAPI sent an invoice printout that is not base64"
                                   ) from None
            out.append(InvoicePrintout(number=numbers[n] if n < len(numbers) else "", created=str(p.get("CreateDate")
                                       or ""), sha1=str(p.get("Hash_SHA1") or hashlib.sha1(pdf).hexdigest()),
                                       pdf=pdf))
        return out
