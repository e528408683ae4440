"""A local Symfonia WebAPI over the demo company: `shopsync erp webapi-sim --port P --db PATH --app-key KEY`.

Same paths, shapes and errors as ../shared/reference/symfonia-webapi.md, and it does
to the company database what the ERP would: documents numbered in their own series
(per type, series and year), VAT and values worked out by the ERP from the item's
rate, reservations made per line when ReservationType = 1 (they lower commercial
stock through the demo database's triggers, as in Symfonia), nothing written when a
request is refused (unknown product code or contractor, missing currency rate -> 400
ApiError). Sessions are opened with the application key and expire when idle.

Faults for tests (POST /_sim/faults, JSON; for /OrdersIssue... calls unless "path" names another
prefix, e.g. "/Contractors/Create"): {"slow": seconds, "count": n} answers
late; {"status": 500, "count": n} fails; {"drop": n} cuts the connection without
acting; {"locked": n} refuses as a document locked by another user (500 ApiError);
{"slow_after_write": seconds, "count": n} writes the order or contractor, then answers
late (a client that timed out must not write it twice). POST /_sim/expire-sessions ends
every session. GET /_sim/stats counts calls.

From the reference: ApiError is {"Message"}; OrdersIssue/New refuses a document
without Series, Department, PriceKind or SalePriceType (400, nothing written); a
position's Value is the value of the line; an Id that matches no contractor, or
neither Id nor Code, issues the order to a one-time contractor (no error).

GUESSES (not in the public description, to be checked on a real WebAPI; also in
docs/symfonia.md): the session token is answered as a JSON string; a locked document
is a 500; Id2External is kept in ZO.kod_obcy; a one-time contractor is an HM.KH row
coded !INCYDENTALNY; Description lands in ZO.opis and Note is appended to it; a delivery address is
named by HM.AD.nazwaAdr in DeliveryAddressCode; VAT is worked out per position.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import functools
import hashlib
import json
import logging
import secrets
import threading
import time
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl

import pyodbc
from SymfWebAPI.WebAPI.Interface.Contractors.ViewModels import Contractor
from SymfWebAPI.WebAPI.Interface.Orders.ViewModels import Order
from SymfWebAPI.WebAPI.Interface.Products.ViewModels import Product
from SymfWebAPI.WebAPI.Interface.Products.ViewModels.PriceLists import PriceList
import waitress

from shopsync.server.erp.sql.dialects import make_dialect
from shopsync.server.erp.errors import ErpPermanent
from shopsync.server.erp.sql import PO_ORDER_SALE, PO_ORDER_WAREHOUSE, TYPPD_CONTRACTOR, TYPPD_GROUP, ZO_BAZA

from . import data as demo_data
from .erp import ErpSimulator
from .webapi_operations import answer_type, complete, operations, select
from .webapi_tracking import DELETE, INSERT_OR_UPDATE, ChangeLog, parse_local

log = logging.getLogger("shopsync.demo.webapi_sim")
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


class WebApiSim:
    """The WSGI application."""

    def __init__(self, db: Path, app_key: str, *, session_ttl: float = 1200.0, seats: int = 5,
                 tracking: bool = True) -> None:
        self.dialect = make_dialect("sqlite", database=db)
        self.conn_str = self.dialect.connection_string()
        self.app_key = app_key
        self.session_ttl = session_ttl
        self.sessions: dict[str, float] = {}  # token -> last use
        self.seats = seats  # the licence's sessions at once
        self.faults = SimFaults()
        self.lock = threading.Lock()  # one writer at a time, as the ERP serialises a series' counter
        self.calls: dict[str, int] = {}
        self._request = threading.local()  # the WSGI environ of the request this thread serves
        self._conn: pyodbc.Connection | None = None
        self._ensure_tables()
        operations()  # the library's route table, read once before the first request (about a second)
        # Change tracking ("Synchronizacja" in the configurator): on unless the site left it off.
        self.changes = ChangeLog(self.transaction) if tracking else None
        if self.changes is not None:
            self.changes.track()  # the log starts when tracking is switched on

    def track_forever(self, interval: float, stop: threading.Event) -> None:
        """Keep the change log current, as the ERP logs a change when it is saved."""
        while self.changes is not None and not stop.wait(interval):
            try:
                self.changes.track()
            except pyodbc.Error as exc:  # a busy company database: the next look catches up
                log.debug("change tracking skipped a look: %s", exc)

    # -- database --------------------------------------------------------------
    def conn(self) -> pyodbc.Connection:
        if self._conn is None:
            self._conn = self.dialect.connect(self.conn_str)
        return self._conn

    def _ensure_tables(self) -> None:
        with self.lock:
            conn = self.conn()
            conn.cursor().execute("CREATE TABLE IF NOT EXISTS HM.WebApiSeries (typ varchar(5), seria varchar(20), "
                                  "rok int, ostatni int, PRIMARY KEY (typ, seria, rok))")
            conn.commit()

    def transaction(self, fn: Callable[[pyodbc.Cursor], Any]) -> Any:
        with self.lock:
            conn = self.conn()
            self.dialect.begin(conn)
            try:
                out = fn(conn.cursor())
                self.dialect.commit(conn)
                return out
            except BaseException:
                self.dialect.rollback(conn)
                raise

    # -- WSGI --------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ["REQUEST_METHOD"]
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        self._request.environ = environ
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            if path.startswith("/_sim/"):
                return self._json(start_response, 200, self.admin(method, path, raw))
            if not path.startswith("/api/"):
                raise ApiError(404, f"Nie znaleziono zasobu {path}")
            route = f"{method} {path[4:]}"
            self.calls[route] = self.calls.get(route, 0) + 1
            fault = self.faults.take(path[4:])  # order writes, unless the fault names other calls
            if fault.get("drop"):
                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "500")])
                return [b'{"Id": ']
            if fault.get("slow"):
                time.sleep(fault["slow"])
            if fault.get("status"):
                raise ApiError(fault["status"], "Wewnętrzny błąd serwera (symulowany)")
            if fault.get("locked"):
                raise ApiError(500, "Dokument jest zablokowany przez innego użytkownika",
                               "Spróbuj ponownie, gdy użytkownik zamknie dokument.")
            action = select(method, path, query)
            if action is None:
                # ASP.NET Web API's own answer when no action takes the request (a required query parameter
                # missing, or one no action takes): 404, nothing run.
                raise ApiError(404, f"No HTTP resource was found that matches the request URI '{path}'.",
                               f"No action was found on the controller that matches the request ({route}).")
            query = action.canonical(query)
            handler = self.routes.get((action.controller, action.name))
            if handler is None:
                raise ApiError(501, f"{action.describe()} is not simulated")
            if action.controller == "IPingController" or action.name == "OpenNewSession":
                return self._json(start_response, 200, handler(query, None))
            self.need_session(environ)
            body = json.loads(raw) if raw else None
            answer = complete(handler(query, body), answer_type(action))
            if fault.get("slow_after_write") and method == "POST":
                time.sleep(fault["slow_after_write"])
            return self._json(start_response, 200, answer)
        except ApiError as exc:
            error = {"Message": exc.message, **({"MessageDetail": exc.details} if exc.status == 404 and exc.details
                                                else {})}
            return self._json(start_response, exc.status, error)
        except ValueError as exc:
            return self._json(start_response, 400, {"Message": f"Nieprawidłowe dane: {exc}"})

    @functools.cached_property
    def routes(self) -> dict[tuple[str, str], Callable[[dict[str, str], Any], Any]]:
        """The one route table: (SymfWebAPI controller, operation) -> handler(query, body). The action is chosen
        by webapi_operations.select, as ASP.NET Web API chooses it."""
        tx = self.transaction

        def order_issue(q: dict[str, str], body: Any) -> Any:
            if not isinstance(body, dict):
                raise ApiError(400, "Brak danych zamówienia (OrderIssue)")
            return tx(lambda cur: self.issue_order(cur, body, q.get("issue", "true")))

        def dictionary(rows: list[dict[str, Any]]) -> Callable[[dict[str, str], Any], Any]:
            return lambda q, b: rows

        def series(q: dict[str, str], b: Any) -> Any:
            typ = next((t["Code"] for t in DOCUMENT_TYPES if str(t["Id"]) == q.get("documentTypeId")), None)
            if typ is None:
                raise ApiError(400, f"Nieznany typ dokumentu {q.get('documentTypeId')!r}")
            return [{"Id": n, "Code": c} for n, c in enumerate(SERIES[typ], 1)]

        def close_session(q: dict[str, str], b: Any) -> None:
            self.sessions.pop(_bare(self._request.environ.get("HTTP_AUTHORIZATION", "").partition(" ")[2]), None)

        def feed(entity: str) -> Callable[[dict[str, str], Any], Any]:
            return lambda q, b: self.incremental_sync(entity, q)

        products_filter = lambda q, b: tx(lambda cur: self.products_filter(cur, b))  # noqa: E731
        contractor = lambda q, b: tx(lambda cur: self.contractor(cur, q))  # noqa: E731
        product = lambda q, b: tx(lambda cur: self.product(cur, q))  # noqa: E731
        return {
            ("IPingController", "Get"): lambda q, b: {"OpenSessionsNumber": len(self.sessions),
                                                      "LoadedModuleInfo": [], "ActiveHMFInfo": []},
            ("ISessionController", "OpenNewSession"): lambda q, b: self.open_session(self._request.environ, q),
            ("ISessionController", "CloseSession"): close_session,
            ("ISessionController", "SessionInformationAsync"): lambda q, b: {"DeviceName": "", "Active": True},
            ("IOrdersIssueController", "AddNew"): order_issue,
            ("IOrdersIssueController", "Delete"): lambda q, b: tx(lambda cur: self.delete_order(cur, q)),
            ("IOrdersIssueController", "IssueFV"): lambda q, b: self.issue_invoice(q),
            ("IOrdersController", "GetById"): lambda q, b: tx(lambda cur: self.order(cur, q)),
            ("IOrdersController", "GetList"): lambda q, b: tx(lambda cur: self.orders_filter(cur, q)),
            ("IOrdersController", "GetListByBuyer"): lambda q, b: tx(lambda cur: self.orders_filter(cur, q)),
            ("IOrdersController", "GetFV"): lambda q, b: self.invoices(self._order_id(q)),
            ("IOrdersController", "GetWZ"): lambda q, b: self.warehouse_issues(self._order_id(q)),
            ("IOrdersController", "GetStatus"): lambda q, b: tx(lambda cur: self.order_status(cur, self._order_id(q))),
            ("IOrdersController", "GetInvoicesPDF"): lambda q, b: self.invoice_pdfs(self._order_id(q)),
            ("IOrdersController", "GetZMODocumentTypes"): dictionary(DOCUMENT_TYPES[:1]),
            ("IOrdersController", "GetDocumentSeries"): series,
            ("IOrdersController", "IncrementalSync"): feed("Orders"),
            ("IDepartmentsController", "Get"): dictionary(DEPARTMENTS),
            ("IPaymentFormsController", "Get"): dictionary(PAYMENT_FORMS),
            ("IWarehousesController", "Get"): dictionary(WAREHOUSES),
            ("ICurrenciesController", "Get"): dictionary(CURRENCIES),
            ("IContractorsController", "Get"): contractor,
            ("IContractorsController", "GetByCode"): contractor,
            ("IContractorsController", "GetByNIP"): contractor,
            ("IContractorsController", "AddNew"): lambda q, b: tx(lambda cur: self.create_contractor(cur, b)),
            ("IContractorsController", "FilterSql"): lambda q, b: tx(lambda cur: self.contractors_filter(cur, b)),
            ("IContractorsController", "IncrementalSync"): feed("Contractors"),
            ("IContractorDeliveryAddressesController", "Get"):
                lambda q, b: tx(lambda cur: self.delivery_addresses(cur, q)),
            ("IContractorDeliveryAddressesController", "AddNew"):
                lambda q, b: tx(lambda cur: self.create_delivery_address(cur, q, b)),
            ("IProductsController", "Get"): product,
            ("IProductsController", "GetByCode"): product,
            ("IProductsController", "AddNew"): lambda q, b: tx(lambda cur: self.create_product(cur, b)),
            ("IProductsController", "FilterSql"): products_filter,
            ("IProductsController", "GetCatalogs"): lambda q, b: tx(self.catalogs),
            ("IProductsController", "FilterSqlWthSalePrices"):
                lambda q, b: tx(lambda cur: self.products_with_prices(cur, b)),
            ("IProductsController", "Filter"): products_filter,
            ("IProductsController", "IncrementalSync"): feed("Products"),
            ("IPriceListsController", "GetGet"): lambda q, b: tx(self.price_lists),
            ("IPriceListsController", "Get"): lambda q, b: tx(lambda cur: self.price_list(cur, q)),
            ("IPriceListsController", "IncrementalSync"): feed("PriceLists"),
            ("IReservationsController", "GetById"): lambda q, b: tx(lambda cur: self.reservation(cur, q)),
            ("IReservationsController", "GetListByProduct"):
                lambda q, b: tx(lambda cur: self.reservations_filter(cur, q)),
            ("IWarehouseDocumentsController", "GetById"):
                lambda q, b: tx(lambda cur: self.document(cur, "warehouse", q)),
            ("ISalesController", "GetById"): lambda q, b: tx(lambda cur: self.document(cur, "sale", q)),
            ("ISalesController", "GetZMO"): lambda q, b: tx(lambda cur: self.sale_document_orders(cur, q)),
            ("IWarehouseDocumentsController", "GetFV"):
                lambda q, b: tx(lambda cur: self.warehouse_document_invoices(cur, q)),
            ("IInventoryStatesController", "GetChanges"): lambda q, b: self.inventory_changes(q),
            ("IInventoryStatesController", "GetByProductId"):
                lambda q, b: tx(lambda cur: self.inventory_states(cur, "idtw", q.get("id", ""))),
            ("IInventoryStatesController", "GetByWarehouseId"):
                lambda q, b: tx(lambda cur: self.inventory_states(cur, "magazyn", q.get("id", ""))),
        }

    @staticmethod
    def _json(start_response: Callable[..., Any], status: int, payload: Any) -> list[bytes]:
        data = json.dumps(payload, ensure_ascii=False, default=str).encode()
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}.get(status, "Error")
        start_response(f"{status} {reason}", [("Content-Type", "application/json; charset=utf-8"),
                                              ("Content-Length", str(len(data)))])
        return [data]

    def admin(self, method: str, path: str, raw: bytes) -> Any:
        if path == "/_sim/faults" and method == "POST":
            self.faults.set(json.loads(raw or b"{}"))
            return {"ok": True}
        if path == "/_sim/expire-sessions" and method == "POST":
            self.sessions.clear()
            return {"ok": True}
        if path == "/_sim/stats":
            return {"calls": self.calls, "sessions": len(self.sessions)}
        raise ApiError(404, f"no such admin path {path}")

    # -- sessions ----------------------------------------------------------------
    def open_session(self, environ: dict[str, Any], query: dict[str, str]) -> Any:
        """The token as a JSON string; over the seat limit a JSON object instead (reference §1: the status
        and text are unknown; GUESS: 200 with a Message)."""
        scheme, _, key = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme != "Application" or not secrets.compare_digest(_bare(key), self.app_key):
            raise ApiError(401, "Aplikacja nie jest zarejestrowana w konfiguracji WebAPI")
        if not query.get("deviceName"):
            raise ApiError(400, "Brak parametru deviceName")
        now = time.monotonic()
        for token, last in list(self.sessions.items()):
            if now - last > self.session_ttl:
                del self.sessions[token]
        if len(self.sessions) >= self.seats:
            return {"Message": f"Przekroczono limit użytkowników ({self.seats})"}
        token = str(uuid.uuid4())
        self.sessions[token] = now
        return token

    def need_session(self, environ: dict[str, Any]) -> None:
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        token = _bare(token)
        now = time.monotonic()
        last = self.sessions.get(token) if scheme == "Session" else None
        if last is None or now - last > self.session_ttl:
            self.sessions.pop(token, None)
            raise ApiError(401, "Nieprawidłowy klucz lub sesja wygasła.")
        self.sessions[token] = now

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
            "modifiedDate": now})
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

    def inventory_states(self, cur: pyodbc.Cursor, column: str, key: str) -> list[dict[str, Any]]:
        """InventoryState[] of one product (ByProduct) or one warehouse (ByWarehouse)."""
        if not key.isdigit():
            raise ApiError(400, f"Nieprawidłowy identyfikator {key!r}")
        return [{"ProductId": int(r[0]), "WarehouseId": int(r[1]), "AmountInStore": float(r[2] or 0),
                 "AmountToSale": float(r[3] or 0)}
                for r in cur.execute(f"SELECT idtw, magazyn, stan, stanHandl FROM HM.SM WHERE {column} = ? "
                                     "ORDER BY idtw, magazyn", int(key)).fetchall()]

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

    _KH = "id, kod, nazwa, nip, ulica, dom, lokal, kodpocz, miejscowosc, email, tel1, aktywny, pesel, regon, grupacen"

    def _contractor_view(self, r: Any) -> dict[str, Any]:
        """A Contractor as the API shows it (the fields the demo company has; GUESS: the rest left out)."""
        nip = r[3] or ""
        return {"Id": int(r[0]), "Code": r[1], "Name": r[2], "NIP": nip, "Active": bool(r[11]),
                "Pesel": r[12] or "", "Regon": r[13] or "", "Type": 0 if nip else 2,
                "Contact": {"Email": r[9] or "", "Phone1": r[10] or ""},
                # GUESS (demo data): every demo card's own payment form is Przelew (transfer)
                "PaymentForm": {"Id": 3, "Client": 1},
                "DefaultAddress": {"Street": r[4], "HouseNo": r[5], "ApartmentNo": r[6], "PostCode": r[7],
                                   "City": r[8], "Country": "PL", "Province": ""},
                # GUESS: the demo's price group (grupacen) is the contractor's kind (rodzaj) in the API
                "Kind": {"Id": int(r[14]), "Code": f"GRUPA{int(r[14])}", "Active": True} if r[14] is not None
                else {"Id": None, "Code": "", "Active": True}}

    def contractor(self, cur: pyodbc.Cursor, query: dict[str, str]) -> Any:
        """GET Contractors: id / code -> one Contractor (404 when none, as the reference declares); nip / pesel
        -> a list. GUESS: the NIP is matched without separators and a PL prefix."""
        for key, column in (("id", "id"), ("code", "kod")):
            if query.get(key):
                row = cur.execute(f"SELECT {self._KH} FROM HM.KH WHERE {column} = ?", query[key]).fetchone()
                if row is None:
                    raise ApiError(404, f"Nie znaleziono kontrahenta {query[key]!r}")
                return self._contractor_view(row)
        if query.get("nip"):
            want = _digits(query["nip"])
            return [self._contractor_view(r) for r in cur.execute(
                f"SELECT {self._KH} FROM HM.KH WHERE nip IS NOT NULL ORDER BY id").fetchall() if _digits(r[3]) == want]
        if query.get("pesel"):
            return [self._contractor_view(r) for r in cur.execute(
                f"SELECT {self._KH} FROM HM.KH WHERE pesel = ? ORDER BY id", query["pesel"]).fetchall()]
        raise ApiError(400, "Podaj id, code, nip lub pesel")

    @staticmethod
    def _new_card(cur: pyodbc.Cursor, body: Any, table: str, what: str, model: str) -> tuple[str, str]:
        """A new card's Code and Name, checked (GUESS: both required, a Code in use refused, 400)."""
        if not isinstance(body, dict):
            raise ApiError(400, f"Brak danych ({model})")
        code, name = str(body.get("Code") or "").strip(), str(body.get("Name") or "").strip()
        if not code:
            raise ApiError(400, "Pole Code jest wymagane")
        if not name:
            raise ApiError(400, "Pole Name jest wymagane")
        if len(code) > 40:
            raise ApiError(400, f"Kod {code!r} jest za długi (najwyżej 40 znaków)")
        if cur.execute(f"SELECT id FROM {table} WHERE kod = ?", code).fetchone():
            raise ApiError(400, f"Kod {code!r} ({what}) już istnieje")
        return code, name

    def create_contractor(self, cur: pyodbc.Cursor, body: Any) -> dict[str, Any]:
        """POST Contractors/Create: a new contractor with its default address and contact, and the delivery
        addresses it carries. GUESS: Code and Name are required and a Code in use is refused (400)."""
        code, name = self._new_card(cur, body, "HM.KH", "kontrahent", "Contractor")
        address = body.get("DefaultAddress") if isinstance(body.get("DefaultAddress"), dict) else {}
        contact = body.get("Contact") if isinstance(body.get("Contact"), dict) else {}
        kid = int(self.dialect.insert(cur, "HM.KH", {
            "kod": code, "nazwa": name[:150], "nip": (body.get("NIP") or "")[:20], "pesel": body.get("Pesel") or None,
            "ulica": (address.get("Street") or "")[:60], "dom": (address.get("HouseNo") or "")[:10],
            "lokal": (address.get("ApartmentNo") or "")[:10], "kodpocz": (address.get("PostCode") or "")[:10],
            "miejscowosc": (address.get("City") or "")[:60], "email": (contact.get("Email") or "")[:100],
            "tel1": (contact.get("Phone1") or "")[:30], "znacznik": int(body.get("Marker") or 0),
            "aktywny": 0 if body.get("Active") is False else 1,
            "modifiedDate": dt.datetime.now().replace(microsecond=0)}))
        for a in body.get("DeliveryAddresses") or []:
            self._add_delivery_address(cur, kid, a)
        row = cur.execute(f"SELECT {self._KH} FROM HM.KH WHERE id = ?", kid).fetchone()
        return {**self._contractor_view(row), "DeliveryAddresses": self._delivery_addresses(cur, kid)}

    def _contractor_of(self, cur: pyodbc.Cursor, query: dict[str, str]) -> int:
        if query.get("contractorId"):
            row = cur.execute("SELECT id FROM HM.KH WHERE id = ?", query["contractorId"]).fetchone()
        elif query.get("contractorCode"):
            row = cur.execute("SELECT id FROM HM.KH WHERE kod = ?", query["contractorCode"]).fetchone()
        else:
            raise ApiError(400, "Podaj contractorId lub contractorCode")
        if row is None:
            raise ApiError(404, "Nie znaleziono kontrahenta")
        return int(row[0])

    def _delivery_addresses(self, cur: pyodbc.Cursor, kid: int) -> list[dict[str, Any]]:
        return [{"Id": int(r[0]), "Code": r[1] or "", "Street": r[2], "HouseNo": r[3], "ApartmentNo": r[4],
                 "PostCode": r[5], "City": r[6], "Country": r[7] or "PL", "Province": "",
                 "FullAddress": f"{r[2] or ''} {r[3] or ''}{'/' + r[4] if r[4] else ''}, {r[5] or ''} {r[6] or ''}"}
                for r in cur.execute("SELECT id, nazwaAdr, ulica, dom, lokal, kodpocz, miejscowosc, idKraju "
                                     "FROM HM.AD WHERE idkh = ? ORDER BY id", kid).fetchall()]

    def _add_delivery_address(self, cur: pyodbc.Cursor, kid: int, a: Any) -> None:
        if not isinstance(a, dict) or not str(a.get("Code") or "").strip():
            raise ApiError(400, "Adres dostawy: pole Code jest wymagane")
        code = str(a["Code"]).strip()
        if len(code) > 40:
            raise ApiError(400, f"Adres dostawy: kod {code!r} jest za długi (najwyżej 40 znaków)")
        if cur.execute("SELECT id FROM HM.AD WHERE idkh = ? AND nazwaAdr = ?", kid, code).fetchone():
            raise ApiError(400, f"Kontrahent ma już adres dostawy {code!r}")
        self.dialect.insert(cur, "HM.AD", {
            "idkh": kid, "nazwaAdr": code, "nazwa": None, "ulica": (a.get("Street") or "")[:60],
            "dom": (a.get("HouseNo") or "")[:10], "lokal": (a.get("ApartmentNo") or "")[:10],
            "kodpocz": (a.get("PostCode") or "")[:10], "miejscowosc": (a.get("City") or "")[:60],
            "idKraju": (a.get("Country") or "PL")[:3]})

    def delivery_addresses(self, cur: pyodbc.Cursor, query: dict[str, str]) -> list[dict[str, Any]]:
        return self._delivery_addresses(cur, self._contractor_of(cur, query))

    def create_delivery_address(self, cur: pyodbc.Cursor, query: dict[str, str], body: Any) -> list[dict[str, Any]]:
        """POST ContractorDeliveryAddresses/Create: the contractor's addresses after adding this one."""
        kid = self._contractor_of(cur, query)
        self._add_delivery_address(cur, kid, body)
        cur.execute("UPDATE HM.KH SET modifiedDate = ? WHERE id = ?", dt.datetime.now().replace(microsecond=0), kid)
        return self._delivery_addresses(cur, kid)

    def product(self, cur: pyodbc.Cursor, query: dict[str, str]) -> dict[str, Any]:
        """GET Products?id= / ?code=: one Product (404 when none)."""
        for key, column in (("id", "id"), ("code", "kod")):
            if query.get(key):
                row = cur.execute(f"SELECT id FROM HM.TW WHERE {column} = ?", query[key]).fetchone()
                if row is None:
                    raise ApiError(404, f"Nie znaleziono towaru {query[key]!r}")
                return self.products(cur, [int(row[0])])[int(row[0])]
        raise ApiError(400, "Podaj id lub code")

    def products(self, cur: pyodbc.Cursor, ids: list[int]) -> dict[int, dict[str, Any]]:
        """Products as the API shows them (the fields the demo company has). GUESSES: the catalog's FullPath
        joins the group names with a backslash; the card's sale price of type 1 (PriceA) is the demo's base
        price list (DETAL), net; a product feature is a Dimension coded by its name; the note is plain text."""
        paths = self._catalog_paths(cur)
        features = [c[0] for c in cur.execute("SELECT * FROM SSCommon.ProductClassification WHERE 0 = 1")
                    .description[1:]] if self._has_features(cur) else []
        out: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            prices = dict(cur.execute(f"SELECT p.idpoz, p.cena FROM HM.CP p JOIN HM.CK k ON k.id = p.idck WHERE "
                                      f"k.kod = 'DETAL' AND p.idpoz IN ({marks})", *chunk).fetchall())
            notes = dict(cur.execute(f"SELECT super, opis FROM HM.NT WHERE baza = 1 AND super IN ({marks}) "
                                     "ORDER BY id", *chunk).fetchall())
            dims: dict[int, list[dict[str, Any]]] = {}
            if features:
                for r in cur.execute(f"SELECT * FROM SSCommon.ProductClassification WHERE ElementId IN ({marks})",
                                     *chunk).fetchall():
                    dims[int(r[0])] = [{"Name": _feature_name(c), "Code": _feature_name(c), "Value": v,
                                        "DictionaryValue": None, "Type": "Tekst"}
                                       for c, v in zip(features, r[1:]) if v not in (None, "")]
            for r in cur.execute("SELECT id, kod, nazwa, kodpaskowy, aktywny, znacznik, jm, vatsp, katalog "
                                 f"FROM HM.TW WHERE id IN ({marks})", *chunk).fetchall():
                pid = int(r[0])
                out[pid] = {"Id": pid, "Code": r[1], "Name": r[2], "Barcode": r[3] or "", "Active": bool(r[4]),
                            "Marker": int(r[5] or 0), "Type": 1 if str(r[1]).upper() in SERVICES else 0,
                            "Note": notes.get(pid), "UnitsOfMeasurement": {"RecordUM": r[6] or "szt."},
                            "VatRate": {"Id": None, "Code": str(int(r[7] or 0))},
                            "Catalog": ({"Id": int(r[8]), "ParentId": int(paths[int(r[8])][1] or 0),
                                         "Name": paths[int(r[8])][0][-1], "FullPath": "\\".join(paths[int(r[8])][0])}
                                        if r[8] is not None and int(r[8]) in paths else  # no group (GUESS):
                                        {"Id": 0, "ParentId": 0, "Name": "", "FullPath": ""}),
                            "SalePrices": ([{"Type": 1, "Kind": 2, "Value": float(prices[pid]), "Currency": "PLN",
                                             "PriceParameter": 2}] if pid in prices else []),
                            "Dimensions": dims.get(pid, [])}
        return out

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

    # -- filters ---------------------------------------------------------------------------
    @staticmethod
    def _criteria(body: Any, fields: dict[str, str]) -> tuple[list[str], list[Any]]:
        """WHERE parts from criteria: StringCriteriaFilter {Value, Mode 1 Equals / 2 Like (SQL LIKE, % and _)}
        and IntCriteriaFilter {Value_From, Value_To, Mode 0 Within / 1 Equals}; a null criterion is no filter.
        GUESS: Within is both ends inclusive; Like matches as the database does (case as its collation)."""
        where, args = [], []
        if not isinstance(body, dict):
            raise ApiError(400, "Brak kryteriów filtrowania")
        for name, column in fields.items():
            c = body.get(name)
            if c is None:
                continue
            if not isinstance(c, dict):  # a plain value (Active, KindId, CatalogId)
                where.append(f"{column} = ?")
                args.append(int(c) if isinstance(c, bool) else c)
                continue
            mode = int(c.get("Mode") if c.get("Mode") is not None else 1)
            if "Value" in c:
                where.append(f"{column} LIKE ?" if mode == 2 else f"{column} = ?")
                args.append(str(c.get("Value") or ""))
            elif mode == 1:
                where.append(f"{column} = ?")
                args.append(int(c.get("Value_From") or 0))
            else:
                where.append(f"{column} BETWEEN ? AND ?")
                args += [int(c.get("Value_From") or 0), int(c.get("Value_To") or 0)]
        return where, args

    def products_filter(self, cur: pyodbc.Cursor, body: Any) -> list[dict[str, Any]]:
        """PATCH Products/FilterSql (ProductCriteriaFilter) and Products/Filter (its Dimensions): the products
        matching all criteria, as ProductListElement[]."""
        where, args = self._criteria(body, {"Active": "t.aktywny", "Marker": "t.znacznik", "Name": "t.nazwa",
                                            "Code": "t.kod", "Barcode": "t.kodpaskowy", "CatalogId": "t.katalog"})
        join = ""
        for n, d in enumerate(body.get("Dimensions") or []):  # GUESS: a feature is a dimension by its name
            column = f"CDim_{d.get('Code')}_Val"
            if not str(d.get("Code") or "").isidentifier():
                raise ApiError(400, f"Nieznany wymiar {d.get('Code')!r}")
            join = "JOIN SSCommon.ProductClassification c ON c.ElementId = t.id "
            where.append(f"c.{column} = ?")
            args.append(d.get("Value"))
        try:
            rows = cur.execute(f"SELECT t.id, t.kod, t.nazwa, t.aktywny, t.jm, t.vatsp, t.kodpaskowy FROM HM.TW t "
                               f"{join}{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY t.id",
                               *args).fetchall()
        except pyodbc.Error:
            raise ApiError(400, "Nieprawidłowe kryteria filtrowania") from None
        return [{"Id": int(r[0]), "Code": r[1], "Name": r[2], "Active": bool(r[3]), "Unit": r[4] or "szt.",
                 "DefaultUnit": r[4] or "szt.", "VatRate": str(int(r[5] or 0)), "Type": 0, "Barcode": r[6] or "",
                 "CN": "", "PKWiU": "", "FiscalName": ""} for r in rows]

    def products_with_prices(self, cur: pyodbc.Cursor, body: Any) -> list[dict[str, Any]]:
        """PATCH Products/FilterSql/WithSalePrices: ProductListElementWithSalePrices[], the list elements with
        each card's sale prices."""
        rows = self.products_filter(cur, body)
        views = self.products(cur, [r["Id"] for r in rows])
        return [{**r, "SalePrices": [{k: x[k] for k in ("Type", "Kind", "Value", "Currency")}
                                     for x in views[r["Id"]]["SalePrices"]]} for r in rows]

    def contractors_filter(self, cur: pyodbc.Cursor, body: Any) -> list[dict[str, Any]]:
        """PATCH Contractors/FilterSql (ContractorCriteriaFilter): ContractorListElement[]."""
        where, args = self._criteria(body, {"Code": "kod", "Name": "nazwa", "NIP": "nip", "City": "miejscowosc",
                                            "Marker": "znacznik", "Active": "aktywny", "KindId": "grupacen"})
        rows = cur.execute(f"SELECT id, kod, nazwa, nip, pesel, aktywny, miejscowosc, kodpocz FROM HM.KH "
                           f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY id", *args).fetchall()
        return [{"Id": int(r[0]), "Code": r[1], "Name": r[2], "Type": 0 if r[3] else 2, "NIP": r[3], "Pesel": r[4] or "",
                 "Active": bool(r[5]), "PriceType": None, "PriceKind": None, "PaymentFormOid": 0,
                 "PaymentRegistryOid": 0, "Place": r[6] or "", "PostCode": r[7]} for r in rows]

    def price_lists(self, cur: pyodbc.Cursor) -> list[dict[str, Any]]:
        """GET PriceLists: PriceListListElement[]."""
        return [{"Id": int(r[0]), "Code": r[1], "Active": bool(r[2]), "DateFrom": _iso(r[3]), "DateTo": _iso(r[4]),
                 "DepartmentId": None, "IsPriceListHistoryEnabled": False, "IsCurrencyPriceList": False,
                 "PriceListCurrency": "PLN"}
                for r in cur.execute("SELECT id, kod, aktywny, dataod, datado FROM HM.CK ORDER BY id").fetchall()]

    def price_list(self, cur: pyodbc.Cursor, query: dict[str, str]) -> dict[str, Any]:
        """GET PriceLists?id= / ?code=: the PriceList with its products' prices and whom it is for. GUESSES: a
        list for chosen contractors (CK.kontrah) is not ForAllContractors; its prices come as PriceType 1
        (PriceA), net; the demo's price groups are ContractorKinds."""
        column, value = ("id", query["id"]) if query.get("id") else ("kod", query.get("code", ""))
        h = cur.execute(f"SELECT id, kod, opis, aktywny, dataod, datado, kontrah FROM HM.CK WHERE {column} = ?",
                        value).fetchone()
        if h is None:
            raise ApiError(404, f"Nie znaleziono cennika {value!r}")
        products = [{"Id": int(r[0]), "Code": r[1] or "", "Name": r[2] or "",
                     "Prices": [{"Value": float(r[3]), "Currency": r[4] or "PLN", "PriceType": 1, "PriceKind": 2,
                                 "Type": 1}]}
                    for r in cur.execute("SELECT p.idpoz, t.kod, t.nazwa, p.cena, p.waluta FROM HM.CP p "
                                         "JOIN HM.TW t ON t.id = p.idpoz WHERE p.idck = ? ORDER BY p.id",
                                         int(h[0])).fetchall()]
        who = cur.execute("SELECT a.idpd, a.typpd, k.kod, k.nazwa FROM HM.KP a LEFT JOIN HM.KH k ON k.id = a.idpd "
                          "AND a.typpd = ? WHERE a.idck = ? ORDER BY a.id", TYPPD_CONTRACTOR, int(h[0])).fetchall()
        return {"Id": int(h[0]), "Code": h[1], "Description": h[2] or "", "Active": bool(h[3]),
                "DateFrom": _iso(h[4]), "DateTo": _iso(h[5]), "ForAllContractors": not bool(h[6]), "Priority": 0,
                "Products": products, "ProductKinds": [],
                "Contractors": [{"Id": int(r[0]), "Code": r[2] or "", "Name": r[3] or ""}
                                for r in who if int(r[1]) == TYPPD_CONTRACTOR],
                "ContractorKinds": [{"Id": int(r[0]), "Code": f"GRUPA{int(r[0])}", "Name": f"Grupa cenowa {r[0]}"}
                                    for r in who if int(r[1]) == TYPPD_GROUP]}

    def create_product(self, cur: pyodbc.Cursor, body: Any) -> dict[str, Any]:
        """POST Products/Create: a new product card. GUESSES: Code and Name are required and a Code in use is
        refused (400); the catalog is one the company has, by its Id; the sale price of type 1 goes to
        the demo's DETAL list (as it is read); a Dimension coded as a feature sets that feature."""
        code, name = self._new_card(cur, body, "HM.TW", "towar", "Product")
        vat = str((body.get("VatRate") or {}).get("Code") or "23").lower()
        if vat not in VAT_RATES:
            raise ApiError(400, f"Nieznana stawka VAT {vat!r}")
        rate = Decimal(vat) if vat.isdigit() else Decimal(0)
        # GUESS: the card's Catalog is one the company has, named by its Id (the model has no AddIfNotExist and
        # the API no call that makes a catalog); an unknown one is refused, nothing written.
        catalog = body.get("Catalog") or {}
        group = int(catalog.get("Id") or 0) or None
        if group is not None and cur.execute("SELECT id FROM HM.XT WHERE id = ?", group).fetchone() is None:
            raise ApiError(400, f"Nie znaleziono katalogu {catalog.get('FullPath') or group!r}")
        pid = int(self.dialect.insert(cur, "HM.TW", {
            "kod": code, "nazwa": name[:100], "kodpaskowy": (body.get("Barcode") or "")[:150],
            "jm": ((body.get("UnitsOfMeasurement") or {}).get("RecordUM") or "szt.")[:8],
            # the demo's schema keeps a percentage: an exempt (zw) or not-subject (np) card is 0 there
            "vatsp": int(rate),
            "katalog": group, "znacznik": int(body.get("Marker") or 0), "aktywny": 0 if body.get("Active") is False
            else 1, "modifiedDate": dt.datetime.now().replace(microsecond=0)}))
        if body.get("Note"):
            cur.execute("INSERT INTO HM.NT (super, baza, typ, subtyp, opis) VALUES (?, 1, 0, 0, ?)", pid, body["Note"])
        for price in body.get("SalePrices") or []:
            if isinstance(price, dict) and price.get("Type") == 1 and price.get("Value") is not None:
                base = cur.execute("SELECT id FROM HM.CK WHERE kod = 'DETAL'").fetchone()
                value = _dec(price["Value"], "SalePrices.Value")
                if price.get("Kind") not in (None, 0, 1, 2):
                    raise ApiError(400, f"Nieznany rodzaj ceny Kind {price.get('Kind')!r}")
                if price.get("Kind") == 1:  # a gross price: the demo's DETAL list is net
                    value = (value / (1 + rate / 100)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
                if base:
                    cur.execute("INSERT INTO HM.CP (idck, idpoz, bazapoz, kod, cena, waluta) VALUES (?, ?, 1, ?, ?, "
                                "'PLN')", base[0], pid, code, value)
        if self._has_features(cur):
            columns = {_feature_name(c[0]): c[0] for c in cur.execute(
                "SELECT * FROM SSCommon.ProductClassification WHERE 0 = 1").description[1:]}
            values = {columns[d["Code"]]: d.get("Value") for d in body.get("Dimensions") or []
                      if isinstance(d, dict) and d.get("Code") in columns}
            if values:
                cur.execute(f"INSERT INTO SSCommon.ProductClassification (ElementId, {', '.join(values)}) VALUES "
                            f"(?{', ?' * len(values)})", pid, *values.values())
        return self.products(cur, [pid])[pid]

    @staticmethod
    def _has_features(cur: pyodbc.Cursor) -> bool:
        try:
            cur.execute("SELECT * FROM SSCommon.ProductClassification WHERE 0 = 1")
            return True
        except pyodbc.Error:
            return False

    def catalogs(self, cur: pyodbc.Cursor) -> list[dict[str, Any]]:
        """GET Products/Catalogs: the product catalogs (the demo's groups, HM.XT) as a tree: Id, ParentId (0 at
        the root), Name, FullPath (GUESS: the names joined by a backslash, root first)."""
        return [{"Id": gid, "ParentId": int(parent or 0), "Name": path[-1], "FullPath": "\\".join(path)}
                for gid, (path, parent) in sorted(self._catalog_paths(cur).items())]

    @staticmethod
    def _catalog_paths(cur: pyodbc.Cursor) -> dict[int, tuple[list[str], int | None]]:
        rows = {int(r[0]): (r[1], r[2]) for r in cur.execute("SELECT id, super, nazwa FROM HM.XT").fetchall()}
        out: dict[int, tuple[list[str], int | None]] = {}
        for gid, (parent, _) in rows.items():
            path, seen, at = [], set(), gid
            while at in rows and at not in seen:
                seen.add(at)
                path.append(rows[at][1])
                at = rows[at][0]
            out[gid] = (list(reversed(path)), parent)
        return out

    # -- change feeds (reference §6) ------------------------------------------------------
    def _since(self, entity: str, raw: str | None, name: str) -> list[tuple[int, str, bool]]:
        if not raw:
            raise ApiError(400, f"Parametr {name} jest wymagany")
        try:
            since = parse_local(raw)
        except ValueError:
            raise ApiError(400, f"Nieprawidłowa data {raw!r} (oczekiwano np. 2025-09-29T16:00:00)") from None
        if self.changes is None:  # GUESS: with tracking off the feeds are empty (nothing is logged)
            return []
        self.changes.track()
        return self.transaction(lambda cur: self.changes.since(cur, entity, since))  # type: ignore[union-attr]

    def incremental_sync(self, entity: str, query: dict[str, str]) -> list[dict[str, Any]]:
        """IncrementalSyncListElement[]: {Id, ModifyType, ModifiedAt, Object}. The Object is the record as
        its GET gives it, in part (GUESS: the fields the demo company has; null for a deleted record)."""
        changed = self._since(entity, query.get("dateFrom"), "dateFrom")
        objects = self.transaction(lambda cur: self._objects(cur, entity, [i for i, _, gone in changed if not gone]))
        model = FEED_OBJECTS[entity]  # the Object as the real API writes it: the whole GET view
        return [{"Id": rid, "ModifyType": DELETE if gone else INSERT_OR_UPDATE, "ModifiedAt": at,
                 "Object": None if gone else complete(objects.get(rid), model)} for rid, at, gone in changed]

    def _objects(self, cur: pyodbc.Cursor, entity: str, ids: list[int]) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            if entity == "Products":
                out.update(self.products(cur, chunk))
            elif entity == "Contractors":
                for r in cur.execute(f"SELECT {self._KH} FROM HM.KH WHERE id IN ({marks})", *chunk).fetchall():
                    out[int(r[0])] = self._contractor_view(r)
            elif entity == "PriceLists":
                for pid in chunk:
                    out[pid] = self.price_list(cur, {"id": str(pid)})
            elif entity == "Orders":
                for zo in chunk:
                    out[zo] = self.order(cur, {"id": str(zo)})
        return out

    def inventory_changes(self, query: dict[str, str]) -> list[dict[str, Any]]:
        """InventoryState[] of the stock rows that changed at or after `date` (states, not deltas)."""
        changed = [rid for rid, _, gone in self._since("InventoryStates", query.get("date"), "date") if not gone]

        def read(cur: pyodbc.Cursor) -> list[dict[str, Any]]:
            out = []
            for start in range(0, len(changed), 500):
                chunk = changed[start:start + 500]
                out += [{"ProductId": int(r[0]), "WarehouseId": int(r[1]), "AmountInStore": float(r[2] or 0),
                         "AmountToSale": float(r[3] or 0)}
                        for r in cur.execute(f"SELECT idtw, magazyn, stan, stanHandl FROM HM.SM WHERE id IN "
                                             f"({', '.join('?' * len(chunk))}) ORDER BY idtw, magazyn",
                                             *chunk).fetchall()]
            return out

        return self.transaction(read)


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


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--db", default="var/demo/erp.db", help="the demo company database (SQLite)")
    p.add_argument("--app-key", required=True, help="the application key sessions are opened with")
    p.add_argument("--session-ttl", type=float, default=1200.0, help="seconds an idle session lives")
    p.add_argument("--seats", type=int, default=5, help="sessions the licence allows at once")
    p.add_argument("--no-tracking", action="store_true",
                   help="change tracking off (the configurator's Synchronizacja options unticked)")
    p.add_argument("--tracking-interval", type=float, default=0.25,
                   help="seconds between looks at the company for changes (the feeds' log)")


def serve(args: argparse.Namespace) -> int:
    db = Path(args.db)
    if not db.exists():
        print(f"shopsync: {db}: no demo company database (create it: shopsync erp init-demo {db})")
        return 2
    app = WebApiSim(db, args.app_key, session_ttl=args.session_ttl, seats=args.seats,
                    tracking=not args.no_tracking)
    stop = threading.Event()
    if app.changes is not None:
        threading.Thread(target=app.track_forever, args=(args.tracking_interval, stop), daemon=True,
                         name="change-tracking").start()
    print(f"Symfonia WebAPI simulator listening on http://{args.host}:{args.port}/api (company {db}; change "
          f"tracking {'off' if app.changes is None else 'on'})", flush=True)
    try:
        waitress.serve(app, host=args.host, port=args.port, threads=8, ident="symfonia-webapi-sim", _quiet=True)
    finally:
        stop.set()
    return 0


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m demo.webapi_sim", description="a local Symfonia WebAPI")
    add_arguments(p)
    return serve(p.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())


FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian's fonts-dejavu-core: Polish letters


def render_invoice(cur: pyodbc.Cursor, dk_id: int) -> bytes:
    """A plain, deterministic printout of a sale invoice (the same document gives the same bytes)."""
    from fpdf import FPDF

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
