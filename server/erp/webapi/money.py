"""The order's money through the WebAPI: the receipt issued from an order, the sale documents' KSeF status and
number, and the shop's payment recorded against a document.

Every call as SymfWebAPI 2.0.26.20 defines it (tests/orders/test_webapi_contract.py):

    GET  Sales?id=                                SaleDocument: TypeCode, GrossValue, StatusKSeF, NumberKSeF...
    GET  /v2026.2/Sales/Status/Refresh/{id}       asks Symfonia to refresh the document's KSeF status
    GET  Sales/Filter?buyerId&dateFrom&dateTo     a receipt found again by the shop's number (Id2External)
    POST SalesIssue/New?issue=true                the receipt (Sales_ViewModels_SaleDocumentIssue)
    DELETE Reservations/Delete?id=                the order's reservations, once its receipt issued the goods
    GET  Settlements?documentId=                  what is paid of a document, and what is left
    POST Payments/Payment                         a payment of one document (PaymentKPIssue)
    GET  PaymentRegistries, Sales/PARDocumentTypes  the dictionaries the settings are checked against

Nothing is issued or paid twice: a receipt is looked up by the shop's number before it is issued, a payment
is what the document's settlement still lacks of what the shop says was paid, and a request that timed out
is held, then resolved by the same lookup.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from decimal import Decimal
from typing import Any

from ..errors import ErpNotFound, ErpPermanent
from ..records import SaleDocument
from ..rounding import money
from .client import WebApiSentUnknown
from .shapes import CANCELLED, CENT, PRICE_KIND_GROSS, _num, _reserved_by_order

log = logging.getLogger(__name__)
REGISTRY_KINDS = {0: "cash", 1: "bank", 2: "other"}  # enumPaymentRegistryType


def _dec(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else 0)).quantize(CENT)


class WebApiMoney:
    """The order's money through the WebAPI (docs/symfonia.md, "The order's money")."""

    # -- reading ---------------------------------------------------------------------------------
    def sale_document(self, document_id: int, kind: str = "") -> SaleDocument:
        """`GET /api/Sales?id=`: the document as the sync follows it."""
        d = self.webapi.call("GET", "/Sales", params={"id": int(document_id)})
        type_code = str(d.get("TypeCode") or "")
        if not kind:
            kind = "receipt" if type_code.upper().startswith(("PA", "PAR")) else "invoice"
        return SaleDocument(id=int(d["Id"]), number=str(d.get("DocumentNumber") or ""), kind=kind,
                            type_code=type_code, gross=_dec(d.get("GrossValue")), currency=str(d.get("Currency")
                                                                                             or "PLN"),
                            rate=Decimal(str(d.get("CurrencyRate") or 1)), buyer_id=int(d.get("BuyerId") or 0),
                            ksef_status=d.get("StatusKSeF"), ksef_number=str(d.get("NumberKSeF") or ""),
                            ksef_date=str(d.get("IssueDateKSeF") or ""), issued=str(d.get("IssueDate") or ""))

    def refresh_ksef(self, document_id: int, kind: str = "") -> SaleDocument:
        """Ask Symfonia to refresh the document's KSeF status (`GET /api/v2026.2/Sales/Status/Refresh/{id}`,
        the library declares no answer), then read the document. A WebAPI older than 2026.2 has no such call:
        the document is read as it is (its status as Symfonia last refreshed it itself)."""
        try:
            self.webapi.call("GET", f"/v2026.2/Sales/Status/Refresh/{int(document_id)}")
        except ErpNotFound:
            pass  # GUESS: the document is not a KSeF one (a receipt); its reading below says what it is
        return self.sale_document(document_id, kind)

    def order_invoices(self, order_id: int) -> list[SaleDocument]:
        """The invoices issued from an order (`GET /api/Orders/FV`), each read whole (KSeF, value)."""
        return [self.sale_document(int(f["Id"]), "invoice")
                for f in self.webapi.call("GET", "/Orders/FV", params={"orderId": int(order_id)}) or []
                if isinstance(f, dict) and f.get("Id")]

    def order_receipt(self, order_id: int) -> SaleDocument | None:
        """The receipt issued for an order, found by the shop's number it carries (Id2External) among its
        buyer's sale documents since the order's day (`GET /api/Sales/Filter?buyerId&dateFrom&dateTo`)."""
        o = self.webapi.call("GET", "/Orders", params={"id": int(order_id)})
        return self._find_receipt(o)

    def _find_receipt(self, o: dict[str, Any]) -> SaleDocument | None:
        shop_number, buyer = str(o.get("Id2External") or ""), int(o.get("BuyerId") or 0)
        if not shop_number or not buyer:
            return None
        since = str(o.get("IssueDate") or "")[:10] or \
            (dt.date.today() - dt.timedelta(days=self.lookup_days)).isoformat()
        until = (dt.date.today() + dt.timedelta(days=1)).isoformat()
        receipt_type = self._receipt_type().upper()
        for d in self.webapi.call("GET", "/Sales/Filter", params={"buyerId": buyer, "dateFrom": since,
                                                                   "dateTo": until}) or []:
            if (isinstance(d, dict) and str(d.get("Id2External") or "") == shop_number
                    and str(d.get("TypeCode") or "").upper() == receipt_type and d.get("Canceled") not in CANCELLED
                    and not d.get("Buffer")):
                return self.sale_document(int(d["Id"]), "receipt")
        return None

    def payment_registries(self) -> dict[str, str]:
        """The company's payment registers: code -> "cash" | "bank" | "other" (`GET /api/PaymentRegistries`)."""
        return {str(r.get("Code") or ""): REGISTRY_KINDS.get(int(r.get("Type") or 0), "other")
                for r in self.webapi.call("GET", "/PaymentRegistries") or [] if isinstance(r, dict)}

    def paid_of(self, document_id: int) -> tuple[Decimal, Decimal]:
        """(paid, left to pay) of a document, from its settlement (`GET /api/Settlements?documentId=`)."""
        s = self.webapi.call("GET", "/Settlements", params={"documentId": int(document_id)}) or {}
        return _dec(s.get("PaidValue")), _dec(s.get("LeftToPayValue"))

    # -- writing ---------------------------------------------------------------------------------
    def _receipt_type(self) -> str:
        return str(getattr(self.settings.orders, "receipt_type", "PA") if self.settings is not None else "PA")

    def issue_receipt(self, order_id: int) -> SaleDocument:
        """The receipt (paragon) of an ERP order, once: `POST /api/SalesIssue/New?issue=true` with the order's
        lines at their gross values, its buyer, payment form, currency and the shop's number (Id2External, by
        which it is found again); then the order's reservations are released (`DELETE Reservations/Delete`),
        the receipt having issued the goods. GUESS: the WebAPI has no call that issues a receipt *from* an
        order (OrdersIssue has FV and WZ only), so the ZMO stays, its goods issued by the receipt."""
        o = self.webapi.call("GET", "/Orders", params={"id": int(order_id)})
        found = self._find_receipt(o)
        if found is not None:
            self._release_reservations(o)
            return found
        key = f"webapi.receipt.{order_id}"
        self._refuse_if_held(key, f"the receipt of ERP order {order_id}")
        positions = [p for p in o.get("Positions") or [] if isinstance(p, dict) and p.get("ProductId")]
        if not positions:
            raise ErpPermanent(f"ERP order {o.get('DocumentNumber') or order_id} has no lines to put on a receipt")
        today = dt.date.today().isoformat()
        settings = self.settings.orders if self.settings is not None else None
        body: dict[str, Any] = {
            "TypeCode": self._receipt_type(), "Series": str(getattr(settings, "receipt_series", "") or ""),
            "NumberInSeries": None, "Department": self.department, "Warehouse": self.warehouse_code(),
            "IssueDate": today, "SaleDate": str(o.get("SaleDate") or today)[:10],
            "Buyer": {"Id": int(o["BuyerId"])}, "Recipient": {"Id": int(o.get("RecipientId") or o["BuyerId"])},
            "Currency": str(o.get("Currency") or "PLN"), "CurrencyRate": _num(Decimal(str(o.get("CurrencyRate")
                                                                                            or 1))),
            "PriceKind": PRICE_KIND_GROSS, "SalePriceType": self.sale_price_type,
            "PaymentFormId": int(o.get("PaymentFormId") or 0) or None,
            "Id2External": str(o.get("Id2External") or ""), "IdExternal": o.get("IdExternal"),
            "Description": f"Paragon do zamówienia {o.get('DocumentNumber') or order_id}"[:80],
            "Positions": [{"Code": str(p.get("ProductCode") or ""), "Quantity": _num(_dec(p.get("Quantity"))),
                           "UnitOfMeasurement": str(p.get("UnitOfMeasurement") or "szt."),
                           "Value": _num(_dec(p.get("GrossValue")))} for p in positions],
        }
        if body["PaymentFormId"] is None:
            del body["PaymentFormId"]
        sent = time.monotonic()
        try:
            doc = self.webapi.call("POST", "/SalesIssue/New", params={"issue": "true"}, body=body)
        except WebApiSentUnknown:
            self.holds.hold(key, 3 * self.webapi.timeout - (time.monotonic() - sent))
            raise
        log.info("ERP order %s: receipt %s issued through the WebAPI", o.get("DocumentNumber") or order_id,
                 doc.get("DocumentNumber"))
        self._release_reservations(o)
        return self.sale_document(int(doc["Id"]), "receipt")

    def _release_reservations(self, o: dict[str, Any]) -> None:
        order_id = int(o["Id"])
        for pid in sorted({int(p["ProductId"]) for p in o.get("Positions") or [] if isinstance(p, dict)
                           and p.get("ProductId")}):
            for r in self.webapi.call("GET", "/Reservations/Filter", params={"productId": pid}) or []:
                if _reserved_by_order(r, order_id):
                    try:
                        self.webapi.call("DELETE", "/Reservations/Delete", params={"id": int(r["Id"])})
                    except ErpNotFound:
                        pass  # released meanwhile

    def find_correction(self, master_id: int, key: str) -> SaleDocument | None:
        """A correction of a document made for `key` (a shop refund), by the key in its reason: the document's
        corrections (`GET Sales/CorrectionSequence?documentId=`), each read (`GET Sales/Correction?id=`)."""
        for c in self.webapi.call("GET", "/Sales/CorrectionSequence", params={"documentId": int(master_id)}) or []:
            if not isinstance(c, dict) or not c.get("Id"):
                continue
            full = self.webapi.call("GET", "/Sales/Correction", params={"id": int(c["Id"])}) or {}
            if f"[{key}]" in str(full.get("CorrectionReason") or ""):
                return SaleDocument(id=int(full["Id"]), number=str(full.get("DocumentNumber") or ""),
                                    kind="correction", type_code=str(full.get("TypeCode") or ""),
                                    gross=_dec(full.get("GrossValue")), currency=str(full.get("Currency") or "PLN"),
                                    buyer_id=int(full.get("BuyerId") or 0), ksef_status=full.get("StatusKSeF"),
                                    ksef_number=str(full.get("NumberKSeF") or ""),
                                    issued=str(full.get("IssueDate") or ""))
        return None

    def issue_correction(self, master: SaleDocument, key: str, reason: str,
                         returned: dict[str, tuple[Decimal, Decimal, Decimal]], restock: bool) -> SaleDocument:
        """A correction of a sale document for a shop refund, once (found again by `key` in its reason):
        `returned` = product code -> (quantity, net, gross) given back. `POST /api/SalesIssue/NewCorrection
        ?issue=true` with each corrected position's number (No) and its quantity and value after the correction
        (GUESS, docs/symfonia.md: the model holds one Quantity and Value per position) in the master's PriceKind;
        then, when the shop put the goods back in stock, `PUT SalesIssue/IssueWZCorrection` brings them back
        into the ERP's. The correction type by what it corrects: orders.correction_types (FKS, PRK)."""
        found = self.find_correction(master.id, key)
        if found is not None:
            return found
        hold = f"webapi.correction.{master.id}.{key}"
        self._refuse_if_held(hold, f"the correction of {master.number} for {key}")
        doc = self.webapi.call("GET", "/Sales", params={"id": int(master.id)})
        gross_kind = int(doc.get("PriceKind") or 0) == PRICE_KIND_GROSS
        left = dict(returned)
        positions = []
        for p in doc.get("Positions") or []:
            code = str(p.get("ProductCode") or "")
            if code not in left or not isinstance(p, dict):
                continue
            qty, net, gross = left.pop(code)
            before = _dec(p.get("GrossValue") if gross_kind else p.get("NetValue"))
            after_qty = Decimal(str(p.get("Quantity") or 0)) - qty
            after_value = before - (gross if gross_kind else net)
            if after_qty < 0 or after_value < 0:
                raise ErpPermanent(f"document {master.number}: the refund gives back more of {code} than it holds "
                                   f"({qty} for {gross}): correct it in Symfonia by hand")
            positions.append({"No": int(p.get("No") or 0), "Code": code, "Quantity": _num(after_qty),
                              "UnitOfMeasurement": str(p.get("UnitOfMeasurement") or "szt."),
                              "Value": _num(after_value)})
        if left:
            raise ErpPermanent(f"document {master.number} has no position of {', '.join(sorted(left))}: the refund "
                               "cannot be a correction of it; correct it in Symfonia by hand")
        types = (self.settings.orders.correction_types if self.settings is not None
                 else {"invoice": "FKS", "receipt": "PRK"})
        body = {"MasterDocumentId": master.id, "TypeCode": str(types.get(master.kind) or "FKS"), "Series": "",
                "NumberInSeries": None, "IssueDate": dt.date.today().isoformat(),
                "CorrectionReason": f"{reason} [{key}]"[:250], "DocumentExternalMetadata": key,
                "Positions": positions}
        sent = time.monotonic()
        try:
            corr = self.webapi.call("POST", "/SalesIssue/NewCorrection", params={"issue": "true"}, body=body) or {}
        except WebApiSentUnknown:
            self.holds.hold(hold, 3 * self.webapi.timeout - (time.monotonic() - sent))
            raise
        log.info("document %s: correction %s issued through the WebAPI for %s", master.number,
                 corr.get("DocumentNumber"), key)
        if restock:
            self.webapi.call("PUT", "/SalesIssue/IssueWZCorrection", params={"documentId": int(corr["Id"]),
                                                                             "issue": "true"})
        return SaleDocument(id=int(corr["Id"]), number=str(corr.get("DocumentNumber") or ""), kind="correction",
                            type_code=str(corr.get("TypeCode") or ""), gross=_dec(corr.get("GrossValue")),
                            currency=str(corr.get("Currency") or "PLN"), buyer_id=int(corr.get("BuyerId") or 0),
                            ksef_status=corr.get("StatusKSeF"), ksef_number=str(corr.get("NumberKSeF") or ""),
                            issued=str(corr.get("IssueDate") or ""))

    def record_payment(self, doc: SaleDocument, paid: Decimal, registry: str, paid_on: dt.date, note: str) -> str:
        """The shop's payment of `paid` (in the document's currency) against a document, in the payment register
        `registry` (its code): `POST /api/Payments/Payment`. Once: what the document's settlement already
        shows paid is not paid again (a replay, a restart, a second look), so only the difference is recorded,
        never more than is left to pay. Returns the payment's number ("" when nothing was left to record)."""
        already, left = self.paid_of(doc.id)
        owed = min(money(paid) - already, left)
        if owed <= 0:
            return ""
        key = f"webapi.payment.{doc.id}"
        self._refuse_if_held(key, f"the payment of {doc.number}")
        kinds = self.payment_registries()
        if registry not in kinds:
            raise ErpPermanent(f"payment register {registry!r} is not in the ERP (orders.payment_registries)")
        types = self.settings.orders.payment_types if self.settings is not None else {"cash": "KP", "bank": "BP",
                                                                                         "other": "BP"}
        body = {"Series": "", "TypeCode": str(types.get(kinds[registry]) or "KP"), "Currency": doc.currency,
                "CurrencyRate": _num(doc.rate), "Note": note[:250], "TotalValue": _num(owed),
                "PaymentDate": paid_on.isoformat(), "Contractor": {"Id": doc.buyer_id or None},
                "PaymentRegistry": {"Code": registry},
                "Invoices": [{"Id": doc.id, "DocumentNumber": doc.number, "Value": _num(owed)}]}
        sent = time.monotonic()
        try:
            payment = self.webapi.call("POST", "/Payments/Payment", body=body) or {}
        except WebApiSentUnknown:
            self.holds.hold(key, 3 * self.webapi.timeout - (time.monotonic() - sent))
            raise
        log.info("document %s: payment %s of %s %s recorded in %s", doc.number, payment.get("DocumentNumber"),
                 owed, doc.currency, registry)
        return str(payment.get("DocumentNumber") or "")
