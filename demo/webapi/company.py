"""The demo company as the simulated WebAPI shows it: its dictionaries, the API's error, faults for tests,
small conversions and the invoice printout.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyodbc
from SymfWebAPI.WebAPI.Interface.Contractors.ViewModels import Contractor
from SymfWebAPI.WebAPI.Interface.Orders.ViewModels import Order
from SymfWebAPI.WebAPI.Interface.Products.ViewModels import Product
from SymfWebAPI.WebAPI.Interface.Products.ViewModels.PriceLists import PriceList

from .. import data as demo_data

log = logging.getLogger("shopsync.demo.webapi")


CENT = Decimal("0.01")


ONE_TIME_CODE = "!INCYDENTALNY"


SERVICES = {code for code, _ in demo_data.SERVICES}  # the demo company's service items (ProductType 1)


# The demo company's dictionaries (Departments, Orders/DocumentSeries, PaymentForms, Warehouses, Currencies).
DEPARTMENTS = [{"Id": 1, "Name": "Sklep internetowy", "Code": "SKLEP"}, {"Id": 2, "Name": "Centrala", "Code": "CEN"}]


DOCUMENT_TYPES = [{"Id": 86, "Code": "ZMO", "Name": "Zamówienie od odbiorcy"},
                  {"Id": 103, "Code": "ZWO", "Name": "Zamówienie wewnętrzne od odbiorcy"}]


SERIES = {"ZMO": ["sklep", "hurt"], "ZWO": ["sklep"]}


PAYMENT_FORMS = [{"Id": 1, "Name": "Gotówka", "Days": 0, "Type": 0, "Active": True, "Client": 1},
                 {"Id": 2, "Name": "Karta", "Days": 0, "Type": 0, "Active": True, "Client": 1},
                 {"Id": 3, "Name": "Przelew", "Days": 14, "Type": 1, "Active": True, "Client": 1},
                 {"Id": 4, "Name": "Pobranie", "Days": 7, "Type": 0, "Active": False, "Client": 1}]


WAREHOUSES = [{"Id": 1, "Name": "Magazyn główny", "Code": "MAG"}, {"Id": 2, "Name": "Magazyn zewnętrzny", "Code": "ZEW"}]


# The GET view each change feed's Object is (IncrementalSyncListElement.Object is Any in the library).
FEED_OBJECTS = {"Products": Product, "Contractors": Contractor, "PriceLists": PriceList, "Orders": Order}


RESERVED_BY_ORDER = 45  # enumReservationDocumentType.ForeignOrder


VAT_RATES = {"23", "8", "5", "0", "zw", "np"}  # the demo company's VatRates (codes)


DEFAULT_WAREHOUSE = 1  # where an order without Warehouse reserves (the company's default)


CURRENCIES = [{"Id": n, "Shortcut": c, "Name": c, "Active": True}
              for n, c in enumerate(("PLN", "EUR", "USD", "GBP", "CZK"), start=1)]


# SalePriceType (reference §5): 1-4 PriceA-D, 16-31 PriceE-T; 0 Undefined is not a price.
SALE_PRICE_TYPES = {*range(1, 5), *range(16, 32)}


class ApiError(Exception):
    def __init__(self, status: int, message: str, details: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details


class SimFaults:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.set({})

    def set(self, cfg: dict[str, Any]) -> None:
        with self.lock:
            self.slow = float(cfg.get("slow", 0))
            self.status = int(cfg.get("status", 0))
            self.locked = int(cfg.get("locked", 0))
            self.drop = int(cfg.get("drop", 0))
            self.slow_after_write = float(cfg.get("slow_after_write", 0))
            self.count = int(cfg.get("count", 1))
            self.path = str(cfg.get("path", "/OrdersIssue"))  # the calls it applies to (by path prefix)

    def take(self, path: str) -> dict[str, Any]:
        """The fault for this call (each kind spends its count)."""
        with self.lock:
            if not path.startswith(self.path):
                return {}
            if self.drop:
                self.drop -= 1
                return {"drop": True}
            if self.locked:
                self.locked -= 1
                return {"locked": True}
            out: dict[str, Any] = {}
            if self.count > 0 and (self.slow or self.status or self.slow_after_write):
                self.count -= 1
                out = {"slow": self.slow, "status": self.status, "slow_after_write": self.slow_after_write}
                if self.count == 0:
                    self.slow = self.slow_after_write = 0.0
                    self.status = 0
            return out


def _dec(value: Any, field: str) -> Decimal:
    try:
        out = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ApiError(400, f"Pole {field}: nieprawidłowa liczba {value!r}") from None
    if not out.is_finite():
        raise ApiError(400, f"Pole {field}: nieprawidłowa liczba {value!r}")
    return out


def _grosz(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _iso(value: Any) -> str | None:
    """A database date as the API's date-time (None stays None)."""
    return None if value in (None, "") else str(value)[:19].replace(" ", "T")


def _feature_name(column: str) -> str:
    """CDim_Sklep_Val -> Sklep (the demo company's feature columns)."""
    return column.removeprefix("CDim_").removesuffix("_Val")


def _digits(nip: Any) -> str:
    text = str(nip or "").upper().replace("PL", "")
    return "".join(ch for ch in text if ch.isdigit())


def _bare(key: str) -> str:
    """A key or token as sent: bare or inside literal braces (both seen in working clients)."""
    key = key.strip()
    return key[1:-1].strip() if key.startswith("{") and key.endswith("}") else key


FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian's fonts-dejavu-core: Polish letters


def render_invoice(cur: pyodbc.Cursor, dk_id: int) -> bytes:
    """A plain, deterministic printout of a sale invoice (the same document gives the same bytes)."""
    try:
        from fpdf import FPDF
    except ImportError:
        raise ApiError(501, "this WebAPI simulator cannot print: install the demo extra (pip install "
                            "'shopsync[demo]')") from None

    head = cur.execute("SELECT kod, data, khid, netto, vat, waluta FROM HM.DK WHERE id = ?", dk_id).fetchone()
    buyer = cur.execute("SELECT nazwa, nip, ulica, dom, kodpocz, miejscowosc FROM HM.KH WHERE id = ?",
                        head[2]).fetchone()
    lines = cur.execute("SELECT lp, kod, ilosc, cena, wartNetto FROM HM.DP WHERE super = ? ORDER BY lp",
                        dk_id).fetchall()
    pdf = FPDF()
    pdf.set_creation_date(dt.datetime.fromisoformat(str(head[1])[:19]).replace(tzinfo=dt.timezone.utc))
    pdf.set_title(f"Faktura VAT {head[0]}")
    pdf.add_page()
    if FONT.exists():
        pdf.add_font("DejaVu", fname=str(FONT))
        pdf.set_font("DejaVu", size=11)
    else:  # pragma: no cover - without the font, Polish letters are simplified
        pdf.set_font("Helvetica", size=11)
    text = (lambda s: s) if FONT.exists() else (lambda s: s.encode("latin-1", "replace").decode("latin-1"))
    pdf.cell(0, 10, text(f"Faktura VAT {head[0]}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, text(f"Data wystawienia: {str(head[1])[:10]}"), new_x="LMARGIN", new_y="NEXT")
    if buyer:
        pdf.cell(0, 7, text(f"Nabywca: {buyer[0]}" + (f", NIP {buyer[1]}" if buyer[1] else "")),
                 new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 7, text(f"{buyer[2] or ''} {buyer[3] or ''}, {buyer[4] or ''} {buyer[5] or ''}"),
                 new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for lp, kod, qty, price, net in lines:
        pdf.cell(0, 7, text(f"{lp}. {kod}  {qty} x {price}  netto {net}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.cell(0, 7, text(f"Razem netto {head[3]} {head[5]}, VAT {head[4]}, brutto {(head[3] or 0) + (head[4] or 0)}"),
             new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
