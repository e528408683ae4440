"""Customer orders (HM.ZO, HM.ZP) and their reservations (HM.RZ) in the company database.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from decimal import Decimal
from typing import Sequence

from ..errors import ErpConfigError, ErpNotFound
from ..records import (
    ORDER_CANCELLED,
    ORDER_NEW,
    ORDER_PARTIAL,
    ORDER_REALISED,
    InvoicePrintout,
    OrderDraft,
    OrderProgress,
    OrderRecord,
    check_order_draft,
    order_description,
)
from ..rounding import grosz, money, position_value
from .base import SqlBase
from .tables import PO_ORDER_SALE, PO_ORDER_WAREHOUSE, ZO_BAZA, _like_prefix, _now

log = logging.getLogger(__name__)


class SqlOrders(SqlBase):
    """Orders over SQL."""

    # -- orders ----------------------------------------------------------------
    def find_order_by_shop_number(self, shop_number: str, since: dt.date | None = None) -> int | None:
        """The ERP order of a shop order: by kod_obcy or by the description that names it (an index finds it
        whatever its date: `since` is not needed here)."""
        description = order_description(shop_number)
        with self.unit_of_work() as cur:
            # Cancelled ones too: an order once imported is never imported again, even if the ERP
            # cancelled it (the first, not cancelled, comes first).
            row = cur.execute("SELECT id FROM HM.ZO WHERE kod_obcy = ? OR opis = ? OR opis LIKE ? "
                              "ORDER BY anulowany, id", shop_number, description,
                              _like_prefix(description + "\n")).fetchone()
        return int(row[0]) if row else None

    def create_order(self, order: OrderDraft, *, looked_up: bool = False) -> tuple[int, bool]:
        """One ZMO (ZO + ZP lines + one RZ reservation per line) in one transaction, over SQL.

        Into the ERP's buffer unless erp.order_buffer is off (then numbered by us, which Symfonia's
        own counters do not know). Idempotent by shop number: returns (order id, created?).
        Nothing is written when any part fails.
        """
        check_order_draft(order)
        now = _now()
        with self.unit_of_work() as cur:
            row = cur.execute("SELECT id FROM HM.ZO WHERE kod_obcy = ? ORDER BY anulowany, id",
                              order.shop_number).fetchone()
            if row:  # imported before (even if cancelled since): never a second order
                return int(row[0]), False
            if not cur.execute("SELECT id FROM HM.KH WHERE id = ?", order.contractor_id).fetchone():
                raise ErpNotFound.of("erp.order_contractor_gone", order=order.shop_number, id=order.contractor_id)
            address_id = None
            if order.delivery is not None:
                address_id = self.ensure_delivery_address(cur, order.contractor_id, order.delivery)
            description = order.note + (f"\nUwagi klienta: {order.customer_note}" if order.customer_note else "")
            zo = self._insert(cur, "HM.ZO", {
                "kod": "", "seria": self.order_series, "typ_dk": "ZMO", "data": order.date or now.date(),
                "khid": order.contractor_id, "khadid": address_id, "odid": order.contractor_id,
                "magazyn": self.order_warehouse, "waluta": order.currency, "kurs": order.rate,
                "netto": Decimal(0), "vat": Decimal("0"), "bufor": 1 if self.order_buffer else 0, "anulowany": 0,
                "opis": description[:500], "kod_obcy": order.shop_number, "guid": str(uuid.uuid4()),
                "modifiedDate": now})
            if not self.order_buffer:
                cur.execute("UPDATE HM.ZO SET kod = ? WHERE id = ?", f"ZMO {zo}/{self.order_series}/{now.year}", zo)
            net_total = vat_total = Decimal("0")
            for lp, line in enumerate(order.lines, start=1):
                p = cur.execute("SELECT kod, jm, vatsp FROM HM.TW WHERE id = ?", line.product_id).fetchone()
                if p is None:
                    raise ErpNotFound.of("erp.order_product_gone", order=order.shop_number, line=lp,
                                         id=line.product_id)
                v = position_value(line.quantity, line.price, int(p[2] or 0), gross=order.prices_gross)
                net_pln, vat_pln = grosz(v.net * order.rate), grosz(v.vat * order.rate)
                net_total += net_pln
                vat_total += vat_pln
                unit_net = (v.net / line.quantity).quantize(Decimal("0.0001"))
                self._insert(cur, "HM.ZP", {
                    "super": zo, "lp": lp, "idtw": line.product_id, "kod": p[0], "ilosc": line.quantity,
                    "jm": p[1], "cena": (unit_net * order.rate).quantize(Decimal("0.0001")),
                    "cenawal": unit_net, "wartNetto": net_pln, "wartVat": vat_pln, "stvat": int(p[2] or 0),
                    "magazyn": self.order_warehouse, "waluta": order.currency})
                self._insert(cur, "HM.RZ", {
                    "idtw": line.product_id, "idkh": order.contractor_id, "magazyn": self.order_warehouse,
                    "iddokrz": zo, "bazadokrz": ZO_BAZA, "iloscrz": line.quantity, "iloscrl": 0,
                    "data": now, "termin": now + dt.timedelta(days=14)})
            cur.execute("UPDATE HM.ZO SET netto = ?, vat = ? WHERE id = ?", net_total, vat_total, zo)
            return zo, True

    def get_order(self, order_id: int) -> OrderRecord:
        with self.unit_of_work() as cur:
            h = cur.execute("SELECT id, kod, kod_obcy, khid, khadid, waluta, kurs, netto, vat, bufor, opis "
                            "FROM HM.ZO WHERE id = ?", order_id).fetchone()
            if h is None:
                raise ErpNotFound.of("erp.not_found", what="order id", id=order_id)
            lines = cur.execute("SELECT idtw, ilosc, cenawal FROM HM.ZP WHERE super = ? ORDER BY lp",
                                order_id).fetchall()
            rz = cur.execute("SELECT idtw, iloscrz, magazyn FROM HM.RZ WHERE iddokrz = ? AND bazadokrz = ? "
                             "ORDER BY id", order_id, ZO_BAZA).fetchall()
        return OrderRecord(id=int(h[0]), code=h[1] or "", shop_number=h[2] or "", contractor_id=int(h[3]),
                           delivery_address_id=int(h[4]) if h[4] is not None else None, currency=h[5],
                           rate=money(h[6]), net=money(h[7]),
                           lines=[(int(r[0]), money(r[1]), money(r[2])) for r in lines],
                           reservations=[(int(r[0]), money(r[1]), int(r[2])) for r in rz],
                           vat=money(h[8]), buffered=bool(int(h[9] or 0)), description=h[10] or "")

    def order_progress(self, order_ids: Sequence[int]) -> dict[int, OrderProgress]:
        """Where each customer order stands (our reading of the ERP, see docs/symfonia.md):
        cancelled (ZO.anulowany), realised in part or in full (its reservations' realised
        quantity, RZ.iloscrl), and the documents linked to it in HM.PO (invoices in HM.DK,
        warehouse issues in HM.MG)."""
        ids = sorted({int(i) for i in order_ids})
        out: dict[int, OrderProgress] = {}
        if not ids:
            return out
        with self.unit_of_work() as cur:
            marks = self._in(ids)
            heads = {int(r[0]): (r[1] or "", int(r[2] or 0)) for r in cur.execute(
                f"SELECT id, kod, anulowany FROM HM.ZO WHERE id IN ({marks})", ids).fetchall()}
            reserved = {int(r[0]): (Decimal(str(r[1] or 0)), Decimal(str(r[2] or 0))) for r in cur.execute(
                f"SELECT iddokrz, SUM(iloscrz), SUM(iloscrl) FROM HM.RZ WHERE bazadokrz = ? AND iddokrz IN ({marks}) "
                "GROUP BY iddokrz", [ZO_BAZA, *ids]).fetchall()}
            invoices: dict[int, list[str]] = {}
            for zo, kod in cur.execute(
                    f"SELECT po.id1, dk.kod FROM HM.PO po JOIN HM.DK dk ON dk.id = po.id2 WHERE po.typ = ? "
                    f"AND po.id1 IN ({marks}) AND dk.anulowany = 0 AND dk.bufor = 0 ORDER BY dk.id",
                    [PO_ORDER_SALE, *ids]).fetchall():
                invoices.setdefault(int(zo), []).append(kod or "")
            documents: dict[int, list[str]] = {}
            for zo, kod in cur.execute(
                    f"SELECT po.id1, mg.kod FROM HM.PO po JOIN HM.MG mg ON mg.id = po.id2 WHERE po.typ = ? "
                    f"AND po.id1 IN ({marks}) AND mg.anulowany = 0 AND mg.bufor = 0 ORDER BY mg.id",
                    [PO_ORDER_WAREHOUSE, *ids]).fetchall():
                documents.setdefault(int(zo), []).append(kod or "")
        for zo, (code, cancelled) in heads.items():
            total, done = reserved.get(zo, (Decimal(0), Decimal(0)))
            if cancelled:
                state = ORDER_CANCELLED
            elif total > 0 and done >= total:
                state = ORDER_REALISED
            elif done > 0:
                state = ORDER_PARTIAL
            else:
                state = ORDER_NEW
            out[zo] = OrderProgress(zo, code, state, tuple(invoices.get(zo, ())), tuple(documents.get(zo, ())))
        return out

    def cancel_order(self, order_id: int) -> bool:
        """Cancel a customer order that nothing has realised yet: marked cancelled, its reservations
        deleted (the ERP gives their quantity back to commercial stock). False when already cancelled."""
        with self.unit_of_work() as cur:
            row = cur.execute("SELECT anulowany FROM HM.ZO WHERE id = ?", order_id).fetchone()
            if row is None:
                raise ErpNotFound.of("erp.not_found", what="order id", id=order_id)
            if int(row[0] or 0):
                return False
            cur.execute("UPDATE HM.ZO SET anulowany = 1, modifiedDate = ? WHERE id = ?", _now(), order_id)
            cur.execute("DELETE FROM HM.RZ WHERE iddokrz = ? AND bazadokrz = ?", order_id, ZO_BAZA)
        return True

    def reservation_product(self, reservation_id: int) -> int | None:
        """The product a reservation reserves (None: it was deleted)."""
        with self.unit_of_work() as cur:
            row = cur.execute("SELECT idtw FROM HM.RZ WHERE id = ?", reservation_id).fetchone()
        return int(row[0]) if row else None

    def order_products(self, order_id: int) -> list[int]:
        with self.unit_of_work() as cur:
            rows = cur.execute("SELECT idtw FROM HM.ZP WHERE super = ?", order_id).fetchall()
        return sorted({int(r[0]) for r in rows})

    def count_orders(self) -> tuple[int, int, int]:
        """(ZO, ZP, RZ) row counts, for tests and diagnostics."""
        with self.unit_of_work() as cur:
            return tuple(int(cur.execute(f"SELECT COUNT(*) FROM HM.{t}").fetchone()[0])  # type: ignore[return-value]
                         for t in ("ZO", "ZP", "RZ"))

    def issue_invoice(self, order_id: int) -> list[str]:
        """Over SQL the sync never issues invoices (Symfonia numbers them; only its WebAPI can): a setting
        check refuses orders.invoice without erp.mode = "webapi"."""
        raise ErpConfigError("issuing invoices needs Symfonia WebAPI: set erp.mode = \"webapi\" or "
                             "orders.invoice = \"never\"")

    def invoice_printouts(self, order_id: int) -> list[InvoicePrintout]:
        """No printouts over SQL: Symfonia renders invoices; the order's notes name them instead."""
        return []
