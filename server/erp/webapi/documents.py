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

    def _documents(self, document_id: int) -> list[tuple[str, dict[str, Any]]]:
        """The warehouse document and the sale document with this id, each with its kind ("warehouse",
        "sale"): a hook names only the id, and the two number their rows apart, so both are asked, as over SQL."""
        out = []
        for kind, path in (("warehouse", "/WarehouseDocuments"), ("sale", "/Sales")):
            try:
                out.append((kind, self.webapi.call("GET", path, params={"id": int(document_id)})))
            except ErpNotFound:
                continue
        return out

    def document_products(self, document_id: int) -> list[int]:
        return sorted({int(p["ProductId"]) for _, d in self._documents(document_id) for p in d.get("Positions") or []
                       if isinstance(p, dict) and p.get("ProductId")})

    def orders_of_document(self, document_id: int) -> list[int]:
        """The customer orders a document realised or invoiced, through the calls that say so: a sale
        document's orders from `GET /api/Sales/ZMO?documentId=`; a warehouse document's through its invoices
        (`GET /api/WarehouseDocuments/FV?documentId=`, then each one's Sales/ZMO).

        A warehouse issue (WZ) made straight from an order, with no invoice yet, names no order through any call:
        for it, the orders holding reservations of its products are taken (`Reservations/Filter?productId=`,
        a customer order's, GUESS: a realised reservation stays listed with its order), more than it touched
        at worst; the caller compares each order's progress with what the shop was last sent, and the Orders
        change feed catches the rest."""
        orders: set[int] = set()
        sales: set[int] = set()
        unnamed = False
        for kind, doc in self._documents(document_id):
            if kind == "sale":
                sales.add(int(document_id))
                continue
            invoices = {int(f["Id"]) for f in self.webapi.call("GET", "/WarehouseDocuments/FV",
                                                               params={"documentId": int(document_id)}) or []
                        if isinstance(f, dict) and f.get("Id")}
            sales |= invoices
            # only an issue to a customer (WZ) realises a customer order; a receipt (PZ) or a transfer does not
            unnamed = unnamed or (not invoices and str(doc.get("TypeCode") or "").upper().startswith("WZ"))
        for sale in sorted(sales):
            orders.update(int(o["Id"]) for o in self.webapi.call("GET", "/Sales/ZMO", params={"documentId": sale})
                          or [] if isinstance(o, dict) and o.get("Id"))
        if unnamed:
            for pid in self.document_products(document_id):
                orders.update(int(r["DocumentId"]) for r in
                              self.webapi.call("GET", "/Reservations/Filter", params={"productId": pid}) or []
                              if _reserved_by_order(r))
        return sorted(orders)

    def document_state(self, document_id: int) -> str:
        docs = [d for _, d in self._documents(document_id)]
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
