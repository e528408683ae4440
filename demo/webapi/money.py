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

from ..erp import PO_CORRECTION, ErpSimulator
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
# Sales/FKSDocumentTypes (corrections of sale invoices) and /PRKDocumentTypes (of receipts), by what they correct
FKS_TYPES = [{"Id": 41, "Code": "FKS", "Name": "Faktura korygująca sprzedaży"}]
PRK_TYPES = [{"Id": 51, "Code": "PRK", "Name": "Korekta paragonu"}]
CORRECTION_TYPES = {"FVS": FKS_TYPES, "PA": PRK_TYPES}
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
                          "seria, serianr, brutto FROM HM.DK WHERE id = ?", document_id).fetchone()
        if row is None:
            raise ApiError(404, f"Nie znaleziono dokumentu {document_id}")
        ksef = cur.execute("SELECT status, numer, data FROM HM.KSEF WHERE dk = ?", document_id).fetchone()
        net, vat = Decimal(str(row[6] or 0)), Decimal(str(row[7] or 0))
        positions = [{"Id": int(r[0]), "No": int(r[6] or n), "ProductId": int(r[1]), "ProductCode": r[2] or "",
                      "Quantity": float(r[3] or 0), "NetValue": float(r[4] or 0), "NetValuePLN": float(r[4] or 0),
                      "VatValuePLN": float(r[5] or 0), "GrossValue": float(Decimal(str(r[4] or 0))
                                                                          + Decimal(str(r[5] or 0))),
                      "UnitOfMeasurement": r[7] or "szt."}
                     for n, r in enumerate(cur.execute(
                         "SELECT dp.id, dp.idtw, dp.kod, dp.ilosc, dp.wartNetto, dp.wartVat, dp.lp, tw.jm FROM HM.DP "
                         "dp LEFT JOIN HM.TW tw ON tw.id = dp.idtw WHERE dp.super = ? ORDER BY dp.lp",
                         document_id).fetchall(), start=1)]
        # PriceKind: as the document was priced (a receipt gross, an invoice as its order, a correction as its master)
        return {"Id": int(row[0]), "DocumentNumber": row[1] or "", "Buffer": bool(row[2]), "Active": not row[3],
                "Canceled": 1 if row[3] else 0, "TypeCode": row[4] or "", "BuyerId": row[5], "RecipientId": row[5],
                "NetValue": float(net), "NetValuePLN": float(net), "VatValuePLN": float(vat),
                "GrossValue": float(net + vat), "Currency": row[8] or "PLN", "CurrencyRate": 1.0,
                "IssueDate": str(row[9])[:19], "SaleDate": str(row[9])[:19], "Id2External": row[10] or None,
                "Series": row[11] or "", "NumberInSeries": int(row[12] or 0),
                "PriceKind": 1 if row[13] else 2,
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

    # -- corrections (SalesIssue/NewCorrection, Sales/CorrectionSequence, Sales/Correction, IssueWZCorrection) --
    def issue_correction(self, query: dict[str, str], body: Any) -> dict[str, Any]:
        """POST SalesIssue/NewCorrection?issue=true: a correction of a sale document (MasterDocumentId) of a
        correction type (FKS for invoices, PRK for receipts). Each position names the master's position (No) and
        holds its quantity and value AFTER the correction (GUESS: the library's model has one Quantity and Value
        per position; Symfonia's correction shows the state after), the value in the master's PriceKind."""
        if not isinstance(body, dict):
            raise ApiError(400, "Brak danych korekty")
        if str(query.get("issue", "")).lower() != "true":
            raise ApiError(400, "Symulator wystawia korekty od razu (issue=true)")
        master_id = int(body.get("MasterDocumentId") or 0)
        with self.lock:
            cur = self.conn().cursor()
            master = self.sale_document_view(cur, master_id)
            allowed = CORRECTION_TYPES.get(master["TypeCode"], [])
            if str(body.get("TypeCode") or "") not in {t["Code"] for t in allowed}:
                raise ApiError(400, f"Typ korekty {body.get('TypeCode')!r} nie pasuje do dokumentu "
                                    f"{master['DocumentNumber']} ({master['TypeCode']})")
            by_no = {p["No"]: p for p in master["Positions"]}
            rates = {r[0]: Decimal(int(r[1] or 0)) for r in cur.execute("SELECT kod, vatsp FROM HM.TW").fetchall()}
            changes = []
            for n, pos in enumerate(body.get("Positions") or []):
                no = int(pos.get("No") or 0)
                if no not in by_no or str(pos.get("Code") or "") != by_no[no]["ProductCode"]:
                    raise ApiError(400, f"Positions[{n}]: dokument {master['DocumentNumber']} nie ma pozycji {no} z "
                                        f"towarem {pos.get('Code')!r}")
                qty = _dec(pos.get("Quantity"), f"Positions[{n}].Quantity")
                value = _grosz(_dec(pos.get("Value"), f"Positions[{n}].Value"))
                if qty < 0 or value < 0 or qty > Decimal(str(by_no[no]["Quantity"])):
                    raise ApiError(400, f"Positions[{n}]: ilość {qty} lub wartość {value} poza dokumentem")
                rate = rates.get(by_no[no]["ProductCode"], Decimal(0))
                if master["PriceKind"] == 1:
                    vat = _grosz(value * rate / (100 + rate))
                    changes.append((no, qty, value - vat, vat))
                else:
                    changes.append((no, qty, value, _grosz(value * rate / 100)))
            if not changes:
                raise ApiError(400, "Korekta nie ma pozycji (Positions)")
            reason = str(body.get("CorrectionReason") or "")
            dk = ErpSimulator(self.conn(), self.dialect).issue_correction(
                master_id, type_code=str(body["TypeCode"]), reason=reason, changes=changes)
            return self.correction_view(cur, dk)

    def correction_view(self, cur: pyodbc.Cursor, document_id: int) -> dict[str, Any]:
        """SaleCorrection: the head, its master and reason, and each corrected position before and after."""
        view = self.sale_document_view(cur, document_id)
        master = cur.execute("SELECT id1 FROM HM.PO WHERE id2 = ? AND typ = ?", view["Id"], PO_CORRECTION).fetchone()
        if master is None:
            raise ApiError(404, f"Dokument {view['DocumentNumber']} nie jest korektą")
        reason = cur.execute("SELECT opis FROM HM.DK WHERE id = ?", view["Id"]).fetchone()[0] or ""
        before = {(p["ProductCode"]): p for p in self.sale_document_view(cur, int(master[0]))["Positions"]}
        positions = []
        for delta in view["Positions"]:
            b = before.get(delta["ProductCode"], {})
            after = {k: (float(Decimal(str(b.get(k) or 0)) + Decimal(str(delta.get(k) or 0)))
                         if k in ("Quantity", "NetValue", "NetValuePLN", "VatValuePLN", "GrossValue") else b.get(k))
                     for k in ("Id", "ProductId", "ProductCode", "Quantity", "UnitOfMeasurement", "NetValue",
                               "NetValuePLN", "VatValuePLN", "GrossValue")}
            positions.append({"No": b.get("No") or delta["No"],
                              "BeforeCorrection": {k: v for k, v in b.items() if k != "No"}, "AfterCorrection": after})
        out = {k: v for k, v in view.items() if k not in ("Id2External", "Positions")}
        return {**out, "MasterDocumentOid": int(master[0]), "CorrectionReason": reason, "Positions": positions,
                "DocumentExternalMetadata": ""}

    def correction(self, cur: pyodbc.Cursor, query: dict[str, str]) -> dict[str, Any]:
        """GET Sales/Correction?id=: SaleCorrection, with its reason and master."""
        return self.correction_view(cur, self._int(query, "id"))

    def correction_sequence(self, cur: pyodbc.Cursor, query: dict[str, str]) -> list[dict[str, Any]]:
        """GET Sales/CorrectionSequence?documentId=: the corrections of a document, oldest first."""
        doc = self.sale_document_view(cur, self._int(query, "documentId"))
        rows = cur.execute("SELECT dk.id, dk.kod, dk.data FROM HM.PO po JOIN HM.DK dk ON dk.id = po.id2 WHERE "
                           "po.id1 = ? AND po.typ = ? ORDER BY dk.id", doc["Id"], PO_CORRECTION).fetchall()
        return [{"No": n, "Id": int(r[0]), "DocumentNumber": r[1], "IssueDate": str(r[2])[:19],
                 "SaleDate": str(r[2])[:19]} for n, r in enumerate(rows, start=1)]

    def issue_warehouse_correction(self, query: dict[str, str]) -> list[dict[str, Any]]:
        """PUT SalesIssue/IssueWZCorrection?documentId&issue: the goods a correction takes back return to stock
        (a warehouse correction), once; SaleDocumentWZ[]."""
        doc_id = self._int(query, "documentId")
        with self.lock:
            cur = self.conn().cursor()
            if cur.execute("SELECT id FROM HM.PO WHERE id2 = ? AND typ = ?", doc_id, PO_CORRECTION).fetchone() is None:
                raise ApiError(400, f"Dokument {doc_id} nie jest korektą sprzedaży")
            mg = ErpSimulator(self.conn(), self.dialect).return_goods(doc_id)
            row = cur.execute("SELECT id, kod, data FROM HM.MG WHERE id = ?", mg).fetchone()
        return [{"Id": int(row[0]), "DocumentNumber": row[1], "IssueDate": str(row[2])[:19]}]

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
