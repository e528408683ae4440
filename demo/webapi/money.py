"""The order's money in the simulated WebAPI: sale documents with their KSeF status, receipts issued as new
sale documents, payment registers and payments of documents, settlements.

KSeF (since 2026 an invoice counts as issued once KSeF numbers it): an invoice is sent at once (status 50,
pending validation) and KSeF approves it with a number after `ksef_delay` seconds, checked whenever the
document is read or refreshed; `shopsync erp ksef accept|reject DOC_ID` answers for KSeF at once.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pyodbc

from ..erp import ErpSimulator
from .company import ApiError, _dec, _grosz

# The company's payment registers (PaymentRegistry; Type: enumPaymentRegistryType 0 Cash, 1 Bank, 2 Other).
PAYMENT_REGISTRIES = [
    {"Id": 1, "Code": "KASA", "Name": "Kasa główna", "Type": 0, "DefaultPaymentFormId": 1, "BankName": None,
     "BankAccountId": 0, "AccountNumber": None},
    {"Id": 2, "Code": "BANK", "Name": "Rachunek bieżący", "Type": 1, "DefaultPaymentFormId": 3,
     "BankName": "Bank Demo", "BankAccountId": 1, "AccountNumber": "PL61109010140000071219812874"},
    {"Id": 3, "Code": "P24", "Name": "Przelewy24", "Type": 2, "DefaultPaymentFormId": 3, "BankName": None,
     "BankAccountId": 0, "AccountNumber": None},
]
RECEIPT_TYPES = [{"Id": 50, "Code": "PA", "Name": "Paragon"}]  # Sales/PARDocumentTypes
KP_TYPES = [{"Id": 120, "Code": "KP", "Name": "Kasa przyjmie"}]  # Payments/KPDocumentTypes
BP_TYPES = [{"Id": 122, "Code": "BP", "Name": "Bank przyjmie"}]  # Payments/BPDocumentTypes
_REFRESH = re.compile(r"/Sales/Status/Refresh/(-?\d+)$", re.IGNORECASE)


class SimMoney:
    """Sales (KSeF), SalesIssue/New (receipts), PaymentRegistries, Payments/Payment, Settlements."""

    ksef_delay: float = 5.0  # seconds until KSeF approves an invoice by itself (WebApiSim's --ksef-delay)

    def _ksef_tick(self) -> None:
        with self.lock:
            ErpSimulator(self.conn(), self.dialect).ksef_due(self.ksef_delay)

    def sale_document_view(self, cur: pyodbc.Cursor, document_id: int) -> dict[str, Any]:
        """SaleDocument: the head of HM.DK with its values, buyer, KSeF status and number, and positions."""
        row = cur.execute("SELECT id, kod, bufor, anulowany, typ_dk, khid, netto, vat, waluta, data, kod_obcy, "
                          "seria, serianr FROM HM.DK WHERE id = ?", document_id).fetchone()
        if row is None:
            raise ApiError(404, f"Nie znaleziono dokumentu {document_id}")
        ksef = cur.execute("SELECT status, numer, data FROM HM.KSEF WHERE dk = ?", document_id).fetchone()
        net, vat = Decimal(str(row[6] or 0)), Decimal(str(row[7] or 0))
        positions = [{"Id": int(r[0]), "No": n, "ProductId": int(r[1]), "ProductCode": r[2] or "",
                      "Quantity": float(r[3] or 0), "NetValue": float(r[4] or 0)}
                     for n, r in enumerate(cur.execute("SELECT id, idtw, kod, ilosc, wartNetto FROM HM.DP WHERE "
                                                       "super = ? ORDER BY lp", document_id).fetchall(), start=1)]
        return {"Id": int(row[0]), "DocumentNumber": row[1] or "", "Buffer": bool(row[2]), "Active": not row[3],
                "Canceled": 1 if row[3] else 0, "TypeCode": row[4] or "", "BuyerId": row[5], "RecipientId": row[5],
                "NetValue": float(net), "NetValuePLN": float(net), "VatValuePLN": float(vat),
                "GrossValue": float(net + vat), "Currency": row[8] or "PLN", "CurrencyRate": 1.0,
                "IssueDate": str(row[9])[:19], "SaleDate": str(row[9])[:19], "Id2External": row[10] or None,
                "Series": row[11] or "", "NumberInSeries": int(row[12] or 0),
                "StatusKSeF": int(ksef[0]) if ksef else 0, "NumberKSeF": ksef[1] if ksef else None,
                "IssueDateKSeF": str(ksef[2])[:19] if ksef and ksef[2] else None, "Positions": positions}

    def sale_document(self, query: dict[str, str]) -> dict[str, Any]:
        """GET Sales?id=: the document, KSeF having answered for the invoices that were due."""
        self._ksef_tick()
        return self.transaction(lambda cur: self.sale_document_view(cur, self._int(query, "id")))

    def refresh_ksef(self, query: dict[str, str]) -> None:
        """GET /api/v2026.2/Sales/Status/Refresh/{id}: Symfonia asks KSeF again; the library declares no answer
        (GUESS: an empty 200). A document that is not a sale document: 404."""
        m = _REFRESH.search(self._request.environ.get("PATH_INFO", ""))
        document_id = int(m.group(1)) if m else 0
        self._ksef_tick()
        if self.conn().cursor().execute("SELECT id FROM HM.DK WHERE id = ?", document_id).fetchone() is None:
            raise ApiError(404, f"Nie znaleziono dokumentu {document_id}")
        return None

    def sales_filter(self, cur: pyodbc.Cursor, query: dict[str, str]) -> list[dict[str, Any]]:
        """GET Sales/Filter?buyerId&dateFrom&dateTo: SaleDocumentListElement[] of a buyer, issued in the days."""
        buyer = self._int(query, "buyerId")
        start = query.get("dateFrom") or "1900-01-01"
        end = query.get("dateTo") or "2999-12-31"
        rows = cur.execute("SELECT id FROM HM.DK WHERE khid = ? AND substr(data, 1, 10) >= ? AND substr(data, 1, 10) "
                           "<= ? ORDER BY id", buyer, start[:10], end[:10]).fetchall()
        keep = ("Id", "DocumentNumber", "Active", "Canceled", "Buffer", "IssueDate", "SaleDate", "TypeCode", "Series",
                "NumberInSeries", "BuyerId", "RecipientId", "NetValuePLN", "VatValuePLN", "NetValue", "GrossValue",
                "Currency", "Id2External")
        return [{k: v for k, v in self.sale_document_view(cur, int(r[0])).items() if k in keep} for r in rows]

    def issue_sale_document(self, query: dict[str, str], body: Any) -> dict[str, Any]:
        """POST SalesIssue/New?issue=true: a receipt (a type of Sales/PARDocumentTypes) for goods a customer order
        holds; the simulator issues receipts only (invoices come from OrdersIssue/FV). Its positions name products
        by code; the buyer by Id; Id2External is kept (the shop's number)."""
        if not isinstance(body, dict):
            raise ApiError(400, "Brak danych dokumentu")
        if str(query.get("issue", "")).lower() != "true":
            raise ApiError(400, "Symulator wystawia dokumenty od razu (issue=true)")
        type_code = str(body.get("TypeCode") or "")
        if type_code not in {t["Code"] for t in RECEIPT_TYPES}:
            raise ApiError(400, f"Nieznany typ dokumentu sprzedaży {type_code!r} (symulator: paragon PA)")
        buyer = (body.get("Buyer") or {}).get("Id")
        shop_number = str(body.get("Id2External") or "")

        def act(cur: pyodbc.Cursor) -> tuple[int, list[tuple[int, str, Decimal, Decimal]]]:
            order = cur.execute("SELECT id FROM HM.ZO WHERE khid = ? AND kod_obcy = ? AND anulowany = 0 ORDER BY id",
                                buyer, shop_number).fetchone()
            if order is None:
                raise ApiError(400, f"Symulator: brak zamówienia kontrahenta {buyer} o numerze {shop_number!r}")
            lines = []
            for no, pos in enumerate(body.get("Positions") or [], start=1):
                code = str(pos.get("Code") or "")
                product = cur.execute("SELECT id FROM HM.TW WHERE kod = ?", code).fetchone()
                if product is None:
                    raise ApiError(400, f"Pozycja {no}: nie znaleziono towaru o kodzie {code!r}")
                lines.append((int(product[0]), code, _dec(pos.get("Quantity"), f"Positions[{no}].Quantity"),
                              _grosz(_dec(pos.get("Value") or 0, f"Positions[{no}].Value"))))
            if not lines:
                raise ApiError(400, "Dokument nie ma pozycji (Positions)")
            return int(order[0]), lines

        with self.lock:
            order_id, lines = act(self.conn().cursor())
            dk = ErpSimulator(self.conn(), self.dialect).issue_receipt(order_id, type_code=type_code,
                                                                       shop_number=shop_number, lines=lines)
        return self.transaction(lambda cur: self.sale_document_view(cur, dk))

    def settlement(self, cur: pyodbc.Cursor, query: dict[str, str]) -> dict[str, Any]:
        """GET Settlements?documentId=: what the document is owed and what was paid of it."""
        doc = self.sale_document_view(cur, self._int(query, "documentId"))
        paid = Decimal(str(cur.execute("SELECT COALESCE(SUM(kwota), 0) FROM HM.WPL WHERE dk = ?", doc["Id"])
                           .fetchone()[0]))
        gross = Decimal(str(doc["GrossValue"])).quantize(Decimal("0.01"))
        return {"Id": doc["Id"], "DocumentId": doc["Id"], "DocumentNumber": doc["DocumentNumber"],
                "Settled": paid >= gross, "ContractorId": doc["BuyerId"], "Currency": doc["Currency"],
                "CurrencyRate": 1.0, "TotalValue": float(gross), "PaidValue": float(paid),
                "PaidValuePLN": float(paid), "LeftToPayValue": float(max(gross - paid, Decimal(0))),
                "LeftToPayValuePLN": float(max(gross - paid, Decimal(0)))}

    def issue_payment(self, body: Any) -> dict[str, Any]:
        """POST Payments/Payment (PaymentKPIssue): a payment of the invoices it names, in a payment register."""
        if not isinstance(body, dict):
            raise ApiError(400, "Brak danych płatności")
        registry = str((body.get("PaymentRegistry") or {}).get("Code") or "")
        found = next((r for r in PAYMENT_REGISTRIES if r["Code"] == registry), None)
        if found is None:
            raise ApiError(400, f"Nie znaleziono rejestru płatności {registry!r}")
        kinds = {0: KP_TYPES, 1: BP_TYPES, 2: BP_TYPES}[found["Type"]]
        if str(body.get("TypeCode") or "") not in {t["Code"] for t in kinds}:
            raise ApiError(400, f"Typ dokumentu {body.get('TypeCode')!r} nie pasuje do rejestru {registry}")
        invoices = body.get("Invoices") or []
        if len(invoices) != 1:
            raise ApiError(400, "Symulator: jedna płatność rozlicza jeden dokument (Invoices)")
        doc_id = int(invoices[0].get("Id") or 0)
        amount = _grosz(_dec(invoices[0].get("Value"), "Invoices[0].Value"))
        when = dt.datetime.fromisoformat(str(body.get("PaymentDate") or dt.date.today().isoformat())[:19])
        with self.lock:  # the check and the payment at once: two payments never both take what is left
            left = self.settlement(self.conn().cursor(), {"documentId": str(doc_id)})["LeftToPayValue"]
            if amount <= 0 or amount > Decimal(str(left)):
                raise ApiError(400, f"Kwota {amount} przekracza pozostałą do zapłaty ({left})")
            code = ErpSimulator(self.conn(), self.dialect).record_payment(doc_id, amount, registry, when)
        return {"Id": doc_id, "DocumentNumber": code, "Active": True, "Canceled": 0, "Buffer": False,
                "Settled": True, "TypeCode": body.get("TypeCode"), "Series": "", "Currency": body.get("Currency"),
                "CurrencyRate": body.get("CurrencyRate") or 1, "TotalValue": float(amount),
                "SettledValue": float(amount), "SettledValuePLN": float(amount), "PaymentRegistryId": found["Id"],
                "Description": body.get("Note") or ""}

    def delete_reservation(self, cur: pyodbc.Cursor, query: dict[str, str]) -> None:
        """DELETE Reservations/Delete?id=: the reservation is gone, what it held is free again."""
        rid = self._int(query, "id")
        if cur.execute("SELECT id FROM HM.RZ WHERE id = ?", rid).fetchone() is None:
            raise ApiError(404, f"Nie znaleziono rezerwacji {rid}")
        cur.execute("DELETE FROM HM.RZ WHERE id = ?", rid)
        return None

    @staticmethod
    def _int(query: dict[str, str], name: str) -> int:
        try:
            return int(query.get(name) or "")
        except ValueError:
            raise ApiError(400, f"Nieprawidłowa wartość parametru {name}: {query.get(name)!r}") from None
