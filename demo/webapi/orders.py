"""Customer orders (OrdersIssue, Orders) and the invoices issued from them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import uuid
from decimal import Decimal
from typing import Any

import pyodbc
from shopsync.server.erp.errors import ErpPermanent
from shopsync.server.erp.sql import PO_ORDER_SALE, PO_ORDER_WAREHOUSE, ZO_BAZA

from ..erp import ErpSimulator
from ..webapi_tracking import parse_local
from .company import (
    DEFAULT_WAREHOUSE,
    DEPARTMENTS,
    ONE_TIME_CODE,
    PAYMENT_FORMS,
    SALE_PRICE_TYPES,
    SERIES,
    WAREHOUSES,
    ApiError,
    _dec,
    _grosz,
    render_invoice,
)

log = logging.getLogger("shopsync.demo.webapi")


class SimOrders:
    """OrdersIssue/New, Orders, Orders/FV, /WZ, /Status, /InvoicesPDF, OrdersIssue/FV and /Delete."""

    # -- documents ---------------------------------------------------------------
    def _contractor_id(self, cur: pyodbc.Cursor, who: Any, role: str) -> int:
        """The reference's rule: an Id that matches no contractor, or neither Id nor Code, issues the
        document to a one-time contractor (no error). GUESS: an unknown Code is refused (not stated)."""
        if not isinstance(who, dict):
            return self._one_time_contractor(cur, {})
        if who.get("Id"):
            row = cur.execute("SELECT id FROM HM.KH WHERE id = ?", int(who["Id"])).fetchone()
            return int(row[0]) if row else self._one_time_contractor(cur, who)
        if not who.get("Code"):
            return self._one_time_contractor(cur, who)
        row = cur.execute("SELECT id FROM HM.KH WHERE kod = ?", str(who["Code"])).fetchone()
        if row is None:
            raise ApiError(400, f"Nie znaleziono kontrahenta ({role}) o kodzie {who.get('Code')!r}")
        return int(row[0])

    def _one_time_contractor(self, cur: pyodbc.Cursor, who: dict[str, Any]) -> int:
        """A one-time contractor (kontrahent incydentalny). GUESS: kept as an HM.KH row coded !INCYDENTALNY,
        named and addressed from Data when given."""
        data = who.get("Data") if isinstance(who.get("Data"), dict) else {}
        return int(self.dialect.insert(cur, "HM.KH", {
            "kod": ONE_TIME_CODE, "nazwa": str(data.get("Name") or "Kontrahent incydentalny")[:150],
            "nip": data.get("NIP"), "ulica": (data.get("Street") or "")[:60], "dom": (data.get("HouseNo") or "")[:10],
            "lokal": (data.get("ApartmentNo") or "")[:10], "kodpocz": (data.get("PostCode") or "")[:10],
            "miejscowosc": (data.get("City") or "")[:60], "aktywny": 0,
            "modifiedDate": dt.datetime.now().replace(microsecond=0)}))

    def _next_number(self, cur: pyodbc.Cursor, typ: str, series: str, year: int) -> int:
        row = cur.execute("SELECT ostatni FROM HM.WebApiSeries WHERE typ = ? AND seria = ? AND rok = ?",
                          typ, series, year).fetchone()
        if row is None:
            cur.execute("INSERT INTO HM.WebApiSeries (typ, seria, rok, ostatni) VALUES (?, ?, ?, 1)",
                        typ, series, year)
            return 1
        cur.execute("UPDATE HM.WebApiSeries SET ostatni = ostatni + 1 WHERE typ = ? AND seria = ? AND rok = ?",
                    typ, series, year)
        return int(row[0]) + 1

    def issue_order(self, cur: pyodbc.Cursor, body: dict[str, Any], issue: str = "true") -> dict[str, Any]:
        """OrdersIssue/New. `issue=false` leaves the order in the buffer, unnumbered (GUESS, reference §7.6)."""
        buffered = issue.strip().lower() == "false"
        typ = str(body.get("TypeCode") or "ZMO")
        if typ not in ("ZMO", "ZWO"):
            raise ApiError(400, f"Nieznany typ dokumentu {typ}")
        series = str(body.get("Series") or "")
        # Req in the model ([J] "Pole jest wymagane"), PaymentFormId too.
        missing = [f for f in ("Series", "Department", "PriceKind", "SalePriceType", "PaymentFormId")
                   if body.get(f) in (None, "", 0)]
        if missing:
            raise ApiError(400, "Pole jest wymagane: " + ", ".join(missing))
        # GUESS (reference §7.4: invalid references are presumably a 400, texts unknown): the company's own
        # dictionaries decide; nothing is written.
        if series not in SERIES[typ]:
            raise ApiError(400, f"Nieznana seria {series!r} dokumentu {typ}")
        if str(body["Department"]) not in {v for d in DEPARTMENTS for v in (d["Name"], d["Code"])}:
            raise ApiError(400, f"Nieznany dział {body['Department']!r}")
        warehouse = DEFAULT_WAREHOUSE
        if body.get("Warehouse"):  # GUESS: the warehouse's Code; left out, the company's default warehouse
            found = [w["Id"] for w in WAREHOUSES if str(body["Warehouse"]) in (w["Code"], w["Name"])]
            if not found:
                raise ApiError(400, f"Nieznany magazyn {body['Warehouse']!r}")
            warehouse = found[0]
        if body["PaymentFormId"] not in {f["Id"] for f in PAYMENT_FORMS}:
            raise ApiError(400, f"Nieznana forma płatności {body['PaymentFormId']!r}")
        try:
            price_type = int(body["SalePriceType"])
        except (TypeError, ValueError):
            price_type = -1
        if price_type not in SALE_PRICE_TYPES:
            raise ApiError(400, f"Nieznany typ ceny SalePriceType {body['SalePriceType']!r}")
        if body.get("NumberInSeries") not in (None, 0):
            raise ApiError(400, "Ręczna numeracja jest wyłączona dla tej serii")  # the sim numbers itself
        buyer = self._contractor_id(cur, body.get("Buyer"), "Buyer")
        recipient = self._contractor_id(cur, body.get("Recipient") or body.get("Buyer"), "Recipient")
        currency = str(body.get("Currency") or "PLN").upper()
        rate = Decimal(1)
        if currency != "PLN":
            if body.get("CurrencyRate") in (None, 0, "0"):
                raise ApiError(400, f"Brak kursu waluty {currency} (CurrencyRate)")
            rate = _dec(body["CurrencyRate"], "CurrencyRate")
            if rate <= 0:
                raise ApiError(400, "CurrencyRate musi być dodatni")
        kind = int(body.get("PriceKind") or 2)
        if kind not in (1, 2):
            raise ApiError(400, f"Nieznany rodzaj ceny PriceKind {kind}")
        positions = body.get("Positions")
        if not isinstance(positions, list) or not positions:
            raise ApiError(400, "Dokument nie ma pozycji (Positions)")
        address = None
        code = (body.get("Recipient") or {}).get("DeliveryAddressCode") if isinstance(body.get("Recipient"),
                                                                                      dict) else None
        if code:
            row = cur.execute("SELECT id FROM HM.AD WHERE idkh = ? AND nazwaAdr = ?", recipient, code).fetchone()
            if row is None:
                raise ApiError(400, f"Kontrahent {recipient} nie ma adresu dostawy {code!r}")
            address = int(row[0])
        lines = []
        for no, pos in enumerate(positions, start=1):
            if not isinstance(pos, dict) or not pos.get("Code"):
                raise ApiError(400, f"Pozycja {no}: brak kodu towaru (Code)")
            item = cur.execute("SELECT id, kod, jm, vatsp FROM HM.TW WHERE kod = ?", str(pos["Code"])).fetchone()
            if item is None:
                raise ApiError(400, f"Pozycja {no}: nie znaleziono towaru o kodzie {pos['Code']!r}")
            qty = _dec(pos.get("Quantity"), f"Positions[{no}].Quantity")
            if qty <= 0:
                raise ApiError(400, f"Pozycja {no}: ilość musi być większa od zera")
            # Value is the value of the position (reference §4, [wartosc]), in the document's PriceKind.
            value = _grosz(_dec(pos.get("Value") or 0, f"Positions[{no}].Value"))
            price = (value / qty).quantize(Decimal("0.0001"))
            vat_rate = Decimal(int(item[3] or 0))
            if kind == 1:  # priced gross: the net is what is left of the gross after VAT
                vat = _grosz(value * vat_rate / (100 + vat_rate))
                net, gross = value - vat, value
            else:
                net = value
                vat = _grosz(net * vat_rate / 100)
                gross = net + vat
            lines.append((int(item[0]), item[1], item[2], qty, price, net, vat, gross, int(vat_rate)))
        now = dt.datetime.now().replace(microsecond=0)
        issue_date = str(body.get("IssueDate") or now.date().isoformat())[:10]
        year = int(issue_date[:4])
        number = 0 if buffered else self._next_number(cur, typ, series, year)
        document = "" if buffered else f"{typ} {number}/{series}/{year}" if series else f"{typ} {number}/{year}"
        description = str(body.get("Description") or "")
        if body.get("Note"):
            description += f"\nUwagi klienta: {body['Note']}"
        net_pln = sum((_grosz(ln[5] * rate) for ln in lines), Decimal(0))
        vat_pln = sum((_grosz(ln[6] * rate) for ln in lines), Decimal(0))
        zo = self.dialect.insert(cur, "HM.ZO", {
            "kod": document, "seria": series, "typ_dk": typ, "data": issue_date, "khid": buyer, "khadid": address,
            "odid": recipient, "magazyn": warehouse, "waluta": currency, "kurs": rate, "netto": net_pln, "vat": vat_pln,
            "bufor": 1 if buffered else 0, "anulowany": 0, "opis": description[:500],
            # GUESS: where Handel keeps Id2External is not public; the sim keeps it in kod_obcy.
            "kod_obcy": (str(body["Id2External"])[:40] if body.get("Id2External") else None), "guid": str(uuid.uuid4()),
            "modifiedDate": now, "brutto": 1 if kind == 1 else 0})
        out_positions = []
        for lp, (pid, code_, unit, qty, price, net, vat, gross, rate_) in enumerate(lines, start=1):
            unit_net = (net / qty).quantize(Decimal("0.0001"))
            pos_id = self.dialect.insert(cur, "HM.ZP", {
                "super": zo, "lp": lp, "idtw": pid, "kod": code_, "ilosc": qty, "jm": unit,
                "cena": (unit_net * rate).quantize(Decimal("0.0001")), "cenawal": unit_net,
                "wartNetto": _grosz(net * rate), "wartVat": _grosz(vat * rate), "stvat": rate_, "magazyn": warehouse,
                "waluta": currency})
            if int(body.get("ReservationType") or 0) == 1:
                self.dialect.insert(cur, "HM.RZ", {
                    "idtw": pid, "idkh": buyer, "magazyn": warehouse, "iddokrz": zo, "bazadokrz": ZO_BAZA, "iloscrz": qty,
                    "iloscrl": 0, "data": now, "termin": now + dt.timedelta(days=14)})
            out_positions.append({"Id": pos_id, "No": lp, "ProductId": pid, "ProductCode": code_,
                                  "Quantity": float(qty), "PriceValue": float(price), "NetValue": float(net),
                                  "GrossValue": float(gross), "VatRate": {"Id": None, "Code": str(rate_)}})
        net_total = sum((ln[5] for ln in lines), Decimal(0))
        gross_total = sum((ln[7] for ln in lines), Decimal(0))
        return {"Id": zo, "DocumentNumber": document, "NumberInSeries": number, "Series": series, "Buffer": buffered,
                "Active": True, "Canceled": 0, "Settled": False, "NetValue": float(net_total),
                "GrossValue": float(gross_total), "NetValuePLN": float(net_pln), "VatValuePLN": float(vat_pln),
                "Currency": currency, "CurrencyRate": float(rate), "BuyerId": buyer, "RecipientId": recipient,
                "Positions": out_positions}

    # -- invoices from an order (OrdersIssue/FV, Orders/FV, Orders/InvoicesPDF) -----------------------------
    def _order_id(self, query: dict[str, str]) -> int:
        """orderId, or orderNumber (the order's document number)."""
        if query.get("orderId"):
            try:
                return int(query["orderId"])
            except ValueError:
                raise ApiError(400, f"Nieprawidłowy identyfikator zamówienia: {query['orderId']!r}") from None
        number = query.get("orderNumber", "")
        row = self.conn().cursor().execute("SELECT id FROM HM.ZO WHERE kod = ?", number).fetchone() if number else None
        if row is None:
            raise ApiError(400, "Nie znaleziono zamówienia (orderId lub orderNumber)")
        return int(row[0])

    def invoices(self, order_id: int) -> list[dict[str, Any]]:
        """OrderFV[]: the sale invoices issued from an order (HM.PO links), oldest first; drafts and cancelled
        ones are not issued documents."""
        rows = self.conn().cursor().execute(
            "SELECT dk.id, dk.kod, dk.khid, dk.khid, dk.data FROM HM.PO po JOIN HM.DK dk ON dk.id = po.id2 "
            "WHERE po.id1 = ? AND po.typ = ? AND dk.anulowany = 0 AND dk.bufor = 0 ORDER BY dk.id", order_id,
            PO_ORDER_SALE).fetchall()
        return [{"Id": int(r[0]), "DocumentNumber": r[1], "BuyerId": r[2], "RecipientId": r[3] or r[2],
                 "IssueDate": str(r[4]), "SaleDate": str(r[4])} for r in rows]

    def warehouse_issues(self, order_id: int) -> list[dict[str, Any]]:
        """OrderWZ[]: the warehouse issues that realised an order (HM.PO links), oldest first."""
        rows = self.conn().cursor().execute(
            "SELECT mg.id, mg.kod, mg.data, mg.khid FROM HM.PO po JOIN HM.MG mg ON mg.id = po.id2 "
            "WHERE po.id1 = ? AND po.typ = ? AND mg.anulowany = 0 AND mg.bufor = 0 ORDER BY mg.id", order_id,
            PO_ORDER_WAREHOUSE).fetchall()
        return [{"Id": int(r[0]), "DocumentNumber": r[1] or "", "IssueDate": str(r[2]), "OperationDate": str(r[2]),
                 "RecipientId": r[3]} for r in rows]

    def order_status(self, cur: pyodbc.Cursor, order_id: int) -> dict[str, Any]:
        """OrderStatus: DocumentStatus 4 New, 8 Partial, 16 Realized (its reservations realised), 32 Closed
        (GUESS: a cancelled order is closed), RDFStatus 0 NoInvoice / 2 InvoicePrinted."""
        row = cur.execute("SELECT id, kod, anulowany, bufor FROM HM.ZO WHERE id = ?", order_id).fetchone()
        if row is None:
            raise ApiError(404, f"Nie znaleziono zamówienia {order_id}")
        reserved = cur.execute("SELECT SUM(iloscrz), SUM(iloscrl) FROM HM.RZ WHERE iddokrz = ? AND bazadokrz = ?",
                               order_id, ZO_BAZA).fetchone()
        total, done = Decimal(str(reserved[0] or 0)), Decimal(str(reserved[1] or 0))
        status = 32 if row[2] else 16 if total and done >= total else 8 if done else 4
        invoiced = bool(self.invoices(order_id))
        return {"Id": int(row[0]), "DocumentNumber": row[1] or "", "Buffer": bool(row[3]), "DocumentStatus": status,
                "DocumentStatusText": {4: "Nowe", 8: "Częściowo zrealizowane", 16: "Zrealizowane",
                                       32: "Zamknięte"}[status],
                "RDFStatus": 2 if invoiced else 0, "WarehouseSettled": 1 if status == 16 else 0,
                "PaymentSettled": 0, "ManualSettled": 0}

    def issue_invoice(self, query: dict[str, str]) -> list[dict[str, Any]]:
        """PUT OrdersIssue/FV: an invoice from the order, numbered in its series. GUESS: an order already invoiced
        answers its invoices and issues no second one; a buyer without a NIP gets the same FV (Polish law allows
        an invoice to a person; the public description says nothing of a receipt here)."""
        order_id = self._order_id(query)
        with self.lock:
            if not self.conn().cursor().execute("SELECT id FROM HM.ZO WHERE id = ?", order_id).fetchone():
                raise ApiError(400, f"Nie znaleziono zamówienia o identyfikatorze {order_id}")
            if not self.invoices(order_id):
                try:
                    ErpSimulator(self.conn(), self.dialect).issue_invoice(order_id)
                except ErpPermanent as exc:
                    raise ApiError(400, str(exc)) from None
            return self.invoices(order_id)

    def invoice_pdfs(self, order_id: int) -> list[dict[str, Any]]:
        """Orders/InvoicesPDF: each invoice of the order as a PDF printout {Hash_SHA1, CreateDate, ContentFile_Base64},
        in the order of Orders/FV (GUESS: the description does not say which printout is which invoice)."""
        out = []
        for fv in self.invoices(order_id):
            pdf = render_invoice(self.conn().cursor(), fv["Id"])
            out.append({"Hash_SHA1": hashlib.sha1(pdf).hexdigest(), "CreateDate": fv["IssueDate"],
                        "ContentFile_Base64": base64.b64encode(pdf).decode()})
        return out

    def order(self, cur: pyodbc.Cursor, query: dict[str, str]) -> dict[str, Any]:
        """GET Orders?id= / ?number=: the Order (404 when none). GUESS: a cancelled order is Canceled 1
        (Standard) and not Active; a live one Canceled 0 (reference §7.9 leaves 0's meaning open)."""
        column, value = ("id", query["id"]) if query.get("id") else ("kod", query.get("number", ""))
        row = cur.execute(f"SELECT id, kod, anulowany, bufor, netto, vat, seria, khid, odid, waluta, kurs, opis, "
                          f"kod_obcy, khadid FROM HM.ZO WHERE {column} = ?", value).fetchone()
        if row is None:
            raise ApiError(404, f"Nie znaleziono zamówienia {value!r}")
        net, vat = Decimal(str(row[4] or 0)), Decimal(str(row[5] or 0))
        positions = [{"Id": int(r[0]), "No": int(r[1]), "ProductId": int(r[2]), "ProductCode": r[3] or "",
                      "Quantity": float(r[4]), "UnitOfMeasurement": r[5] or "szt.", "PriceValue": float(r[6] or 0),
                      "NetValue": float(r[7] or 0), "GrossValue": float((r[7] or 0) + (r[8] or 0)),
                      "VatRate": {"Id": None, "Code": str(int(r[9] or 0))}}
                     for r in cur.execute("SELECT id, lp, idtw, kod, ilosc, jm, cenawal, wartNetto, wartVat, stvat "
                                          "FROM HM.ZP WHERE super = ? ORDER BY lp", int(row[0])).fetchall()]
        return {"Id": int(row[0]), "DocumentNumber": row[1] or "", "Active": not row[2], "Positions": positions,
                "Canceled": 1 if row[2] else 0, "Buffer": bool(row[3]), "TypeCode": "ZMO", "Series": row[6] or "",
                "BuyerId": row[7], "RecipientId": row[8], "Currency": row[9] or "PLN",
                "CurrencyRate": float(row[10] or 1), "NetValuePLN": float(net), "VatValuePLN": float(vat),
                "Description": row[11] or "", "Id2External": row[12], "RecipientAddressId": row[13]}

    def orders_filter(self, cur: pyodbc.Cursor, query: dict[str, str]) -> list[dict[str, Any]]:
        """GET Orders/Filter?dateFrom&dateTo[&buyerId|buyerCode|recipientId|recipientCode]: OrderListElement[]
        issued in the dates (GUESS: by IssueDate, both ends inclusive, a date-time or a date)."""
        where, args = ["typ_dk IN ('ZMO', 'ZWO')"], []
        for key, column, days in (("dateFrom", "data >= ?", 0), ("dateTo", "data < ?", 1)):
            if query.get(key):
                try:
                    day = parse_local(query[key]).date()
                except ValueError:
                    raise ApiError(400, f"Nieprawidłowa data {query[key]!r}") from None
                where.append(column)
                args.append((day + dt.timedelta(days=days)).isoformat())
        for key, column in (("buyerId", "khid"), ("recipientId", "odid")):
            if query.get(key):
                where.append(f"{column} = ?")
                args.append(int(query[key]))
        for key, column in (("buyerCode", "khid"), ("recipientCode", "odid")):
            if query.get(key):
                where.append(f"{column} = (SELECT id FROM HM.KH WHERE kod = ?)")
                args.append(query[key])
        rows = cur.execute(f"SELECT id, kod, anulowany, bufor, data, seria, khid, odid, netto, vat, waluta, opis, "
                           f"kod_obcy FROM HM.ZO WHERE {' AND '.join(where)} ORDER BY id", *args).fetchall()
        return [{"Id": int(r[0]), "DocumentNumber": r[1] or "", "Active": not r[2], "Canceled": 1 if r[2] else 0,
                 "Buffer": bool(r[3]), "IssueDate": str(r[4])[:10] + "T00:00:00", "TypeCode": "ZMO",
                 "Series": r[5] or "", "BuyerId": r[6], "RecipientId": r[7], "NetValuePLN": float(r[8] or 0),
                 "VatValuePLN": float(r[9] or 0), "Currency": r[10] or "PLN", "Description": r[11] or "",
                 "Id2External": r[12]} for r in rows]

    def delete_order(self, cur: pyodbc.Cursor, query: dict[str, str]) -> None:
        """DELETE OrdersIssue/Delete?id=: a buffered order goes, with its reservations. GUESS (reference §7.3
        leaves it open): an issued one is refused (400), as Handel keeps issued documents."""
        order = self.order(cur, query)
        if not order["Buffer"]:
            raise ApiError(400, f"Dokument {order['DocumentNumber']} jest zatwierdzony; nie można go usunąć")
        cur.execute("DELETE FROM HM.RZ WHERE iddokrz = ? AND bazadokrz = ?", order["Id"], ZO_BAZA)
        cur.execute("DELETE FROM HM.ZP WHERE super = ?", order["Id"])
        cur.execute("DELETE FROM HM.ZO WHERE id = ?", order["Id"])
