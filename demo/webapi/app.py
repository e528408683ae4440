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

This module: the WSGI application, sessions, and the one route table.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl

import pyodbc
from shopsync.server.erp.sql.dialects import make_dialect

from ..webapi_operations import answer_type, complete, operations, select
from ..webapi_tracking import ChangeLog
from .money import BP_TYPES, FKS_TYPES, KP_TYPES, PAYMENT_REGISTRIES, PRK_TYPES, RECEIPT_TYPES
from .company import (
    CURRENCIES,
    DEPARTMENTS,
    DOCUMENT_TYPES,
    PAYMENT_FORMS,
    SERIES,
    WAREHOUSES,
    ApiError,
    SimFaults,
    _bare,
)

log = logging.getLogger("shopsync.demo.webapi")


class SimApp:
    """The WSGI application: routing through the library's table, sessions, faults."""

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
            # a demo company made before the money tables existed gets them (the schema makes them for new ones)
            conn.cursor().execute("CREATE TABLE IF NOT EXISTS HM.KSEF (id INTEGER PRIMARY KEY AUTOINCREMENT, dk int "
                                  "NOT NULL, status int, numer varchar(60), data datetime, wyslano datetime)")
            for table, column, kind in (("DP", "wartVat", "numeric(18,2)"), ("DK", "brutto", "smallint"),
                                        ("ZO", "brutto", "smallint")):
                if column not in {r[1] for r in conn.cursor().execute(f"PRAGMA HM.table_info({table})").fetchall()}:
                    conn.cursor().execute(f"ALTER TABLE HM.{table} ADD COLUMN {column} {kind} DEFAULT 0")
            conn.cursor().execute("CREATE TABLE IF NOT EXISTS HM.WPL (id INTEGER PRIMARY KEY AUTOINCREMENT, kod "
                                  "varchar(40), dk int NOT NULL, khid int NULL, kwota numeric(18,2), waluta "
                                  "varchar(3), rejestr varchar(20), data datetime)")
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
            ("ISalesController", "GetById"): lambda q, b: self.sale_document(q),
            ("ISalesController", "GetList"): lambda q, b: tx(lambda cur: self.sales_filter(cur, q)),
            ("ISalesController", "GetListByBuyer"): lambda q, b: tx(lambda cur: self.sales_filter(cur, q)),
            ("ISalesController", "RefreshKsefStatusAsync"): lambda q, b: self.refresh_ksef(q),
            ("ISalesController", "GetPARDocumentTypes"): dictionary(RECEIPT_TYPES),
            ("ISalesIssueController", "AddNew"): lambda q, b: self.issue_sale_document(q, b),
            ("ISalesIssueController", "AddNewByCorrectionIssue"): lambda q, b: self.issue_correction(q, b),
            ("ISalesIssueController", "IssueWZCorrection"): lambda q, b: self.issue_warehouse_correction(q),
            ("ISalesController", "GetCorrection"): lambda q, b: tx(lambda cur: self.correction(cur, q)),
            ("ISalesController", "GetCorrectionSequence"): lambda q, b: tx(lambda cur: self.correction_sequence(cur, q)),
            ("ISalesController", "GetFKSDocumentTypes"): dictionary(FKS_TYPES),
            ("ISalesController", "GetPRKDocumentTypes"): dictionary(PRK_TYPES),
            ("IPaymentRegistriesController", "Get"): dictionary(PAYMENT_REGISTRIES),
            ("IPaymentsController", "GetKPDocumentTypes"): dictionary(KP_TYPES),
            ("IPaymentsController", "GetBPDocumentTypes"): dictionary(BP_TYPES),
            ("IPaymentsController", "IssuePayment"): lambda q, b: self.issue_payment(b),
            ("ISettlementsController", "GetByDocument"): lambda q, b: tx(lambda cur: self.settlement(cur, q)),
            ("IReservationsController", "Delete"): lambda q, b: tx(lambda cur: self.delete_reservation(cur, q)),
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
