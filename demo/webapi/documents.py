"""Reservations, warehouse and sale documents, and the orders a document realised.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pyodbc
from shopsync.server.erp.sql import PO_ORDER_SALE, PO_ORDER_WAREHOUSE, ZO_BAZA

from .company import RESERVED_BY_ORDER, ApiError, _iso

log = logging.getLogger("shopsync.demo.webapi")


class SimDocuments:
    """Reservations, WarehouseDocuments, Sales, Sales/ZMO, WarehouseDocuments/FV."""

    # -- reservations and documents --------------------------------------------------------
    @staticmethod
    def _reservation_view(r: Any) -> dict[str, Any]:
        return {"Id": int(r[0]), "Type": 1, "Kind": 0, "ContractorId": r[1], "ProductId": int(r[2]),
                "WarehouseId": int(r[3]), "ReservationDate": _iso(r[4]), "MaturityDate": _iso(r[5]),
                "Quantity": float(Decimal(str(r[6] or 0)) - Decimal(str(r[7] or 0))), "Value": 0.0,
                # GUESS: a customer order's (ZMO's) reservation is StandardDocumentType ForeignOrder (45): the API
                # calls supplier orders OwnOrders, so "foreign" orders are the customers'
                "DocumentType": int(r[8] or 0), "PositionType": 0,
                "StandardDocumentType": RESERVED_BY_ORDER if int(r[8] or 0) == ZO_BAZA else 0,
                "StandardPositionType": None, "DocumentId": r[9], "PositionId": None}

    _RZ = "id, idkh, idtw, magazyn, data, termin, iloscrz, iloscrl, bazadokrz, iddokrz"

    def reservation(self, cur: pyodbc.Cursor, query: dict[str, str]) -> dict[str, Any]:
        """GET Reservations?id=: one Reservation (404 when none). GUESS: Quantity is what is still reserved;
        DocumentId the order it was made for."""
        row = cur.execute(f"SELECT {self._RZ} FROM HM.RZ WHERE id = ?", int(query.get("id") or 0)).fetchone()
        if row is None:
            raise ApiError(404, f"Nie znaleziono rezerwacji {query.get('id')!r}")
        return {**self._reservation_view(row), "Deliveries": []}

    def reservations_filter(self, cur: pyodbc.Cursor, query: dict[str, str]) -> list[dict[str, Any]]:
        """GET Reservations/Filter?productId= / ?contractorId=: ReservationListElement[]."""
        for key, column in (("productId", "idtw"), ("contractorId", "idkh")):
            if query.get(key):
                return [self._reservation_view(r) for r in cur.execute(
                    f"SELECT {self._RZ} FROM HM.RZ WHERE {column} = ? ORDER BY id", int(query[key])).fetchall()]
        raise ApiError(400, "Podaj productId lub contractorId")

    def document(self, cur: pyodbc.Cursor, kind: str, query: dict[str, str]) -> dict[str, Any]:
        """GET WarehouseDocuments?id= (HM.MG/MZ) and Sales?id= (HM.DK/DP): the document with its positions."""
        head, lines = ("HM.MG", "HM.MZ") if kind == "warehouse" else ("HM.DK", "HM.DP")
        row = cur.execute(f"SELECT id, kod, bufor, anulowany, typ_dk, khid FROM {head} WHERE id = ?",
                          int(query.get("id") or 0)).fetchone()
        if row is None:
            raise ApiError(404, f"Nie znaleziono dokumentu {query.get('id')!r}")
        positions = [{"Id": int(r[0]), "No": n, "ProductId": int(r[1]), "Quantity": float(r[2] or 0)}
                     for n, r in enumerate(cur.execute(f"SELECT id, idtw, ilosc FROM {lines} WHERE super = ? "
                                                       "ORDER BY id", int(row[0])).fetchall(), start=1)]
        return {"Id": int(row[0]), "DocumentNumber": row[1] or "", "Buffer": bool(row[2]),
                "Active": not row[3], "Canceled": 1 if row[3] else 0, "TypeCode": row[4] or "",
                ("ContractorId" if kind == "warehouse" else "BuyerId"): row[5], "Positions": positions}

    def sale_document_orders(self, cur: pyodbc.Cursor, query: dict[str, str]) -> list[dict[str, Any]]:
        """GET Sales/ZMO?documentId=: SaleDocumentZMO[], the customer orders a sale document was issued from
        (HM.PO links). A document id the company has no sale document of: 404."""
        doc = int(query.get("documentId") or 0)
        if cur.execute("SELECT id FROM HM.DK WHERE id = ?", doc).fetchone() is None:
            raise ApiError(404, f"Nie znaleziono dokumentu {doc}")
        rows = cur.execute("SELECT zo.id, zo.kod, zo.data, zo.khid, zo.odid FROM HM.PO po JOIN HM.ZO zo ON zo.id = "
                           "po.id1 WHERE po.id2 = ? AND po.typ = ? ORDER BY zo.id", doc, PO_ORDER_SALE).fetchall()
        return [{"Id": int(r[0]), "DocumentNumber": r[1] or "", "IssueDate": _iso(r[2]), "SaleDate": _iso(r[2]),
                 "BuyerId": int(r[3]), "RecipientId": int(r[4] or r[3])} for r in rows]

    def warehouse_document_invoices(self, cur: pyodbc.Cursor, query: dict[str, str]) -> list[dict[str, Any]]:
        """GET WarehouseDocuments/FV?documentId=: WarehouseDocumentFV[], the invoices of a warehouse document.
        GUESS (the demo company links documents only to orders): the issued invoices of the orders it realised."""
        doc = int(query.get("documentId") or 0)
        if cur.execute("SELECT id FROM HM.MG WHERE id = ?", doc).fetchone() is None:
            raise ApiError(404, f"Nie znaleziono dokumentu {doc}")
        rows = cur.execute(
            "SELECT DISTINCT dk.id, dk.kod, dk.data FROM HM.PO wz JOIN HM.PO fv ON fv.id1 = wz.id1 AND fv.typ = ? "
            "JOIN HM.DK dk ON dk.id = fv.id2 WHERE wz.id2 = ? AND wz.typ = ? AND dk.anulowany = 0 AND dk.bufor = 0 "
            "ORDER BY dk.id", PO_ORDER_SALE, doc, PO_ORDER_WAREHOUSE).fetchall()
        return [{"Id": int(r[0]), "DocumentNumber": r[1] or "", "IssueDate": _iso(r[2])} for r in rows]

    def inventory_states(self, cur: pyodbc.Cursor, column: str, key: str) -> list[dict[str, Any]]:
        """InventoryState[] of one product (ByProduct) or one warehouse (ByWarehouse)."""
        if not key.isdigit():
            raise ApiError(400, f"Nieprawidłowy identyfikator {key!r}")
        return [{"ProductId": int(r[0]), "WarehouseId": int(r[1]), "AmountInStore": float(r[2] or 0),
                 "AmountToSale": float(r[3] or 0)}
                for r in cur.execute(f"SELECT idtw, magazyn, stan, stanHandl FROM HM.SM WHERE {column} = ? "
                                     "ORDER BY idtw, magazyn", int(key)).fetchall()]
