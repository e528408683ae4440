"""Symfonia reached through its WebAPI alone, the ERP's own door (`erp.mode = "webapi"`).

Every read and write is a WebAPI call; there is no database connection. `POST
/api/OrdersIssue/New` makes the ERP number the order in its series and reserve each line
itself (ReservationType 1); contractors, delivery addresses and the initial import go
through their Create calls; products, stock, price lists, orders, reservations and
documents are read through the API; the change feeds are read here too. What the API has
no call for is said where it matters: products' main images are kept in the sync's own
store, an issued order is cancelled by a person (docs/symfonia.md, section 5).

Shapes follow ../shared/reference/symfonia-webapi.md (the API's own names) and the
SymfWebAPI models (the contract test checks them). Guesses, marked GUESS below, are what
the public description leaves open.

Nothing is sent twice: before a create, the record is looked up by what we call it (an
order by the shop's number in Id2External, a contractor or product by its code); a
request that timed out after it was sent is held, then resolved by the same lookup,
never by sending it again blindly.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import logging
import threading
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Sequence

import httpx
import pydantic

from .errors import ErpConfigError, ErpNotFound, ErpPermanent, ErpRetryable
from .gateway import ErpGateway, money
from ..nip import normalize_nip
from .records import (DOCUMENT_CANCELLED, ONE_TIME_CONTRACTOR, MarkerSource, DOCUMENT_DRAFT, DOCUMENT_ISSUED, DOCUMENT_MISSING, ORDER_CANCELLED,
                      ORDER_NEW, ORDER_PARTIAL, ORDER_REALISED, AddressDraft, Contractor, ContractorDraft, FeedChange, Image, InvoicePrintout, OrderDraft, OrderProgress,
                      OrderRecord, PriceList, Product, ProductDraft, StockState)

log = logging.getLogger(__name__)

PRICE_KIND_GROSS, PRICE_KIND_NET = 1, 2  # enumPriceKind
CENT = Decimal("0.01")
# Reference §1: what an expired or unknown session answers (a client tests the text, not only the 401).
SESSION_EXPIRED = "sesja wygasła"
NO_ACTION = "No HTTP resource was found"  # ASP.NET Web API's 404 when no action takes the request
RESERVATION_BY_QUANTITY = 1  # enumDocumentReservationType
RESERVED_BY_ORDER = 45  # enumReservationDocumentType ForeignOrder: a customer order's reservation
PRODUCT_ARTICLE = 0  # enumProductType Article
PRICE_PARAMETER_MARKUP = 2  # enumPriceParameter; [PyS]: a price update failed without it
SETTINGS_RECHECK_SECONDS = 30.0  # while the settings do not fit, they are checked again this often


class WebApiSentUnknown(ErpRetryable):
    """The request was sent but no answer came: it may or may not have been applied."""


class MemoryHolds:
    """Holds of unanswered requests kept in memory (the server hands in queue.cursors.Holds, kept in the
    queue database, so a restarted server keeps holding them)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()
        self.clock = clock

    def remaining(self, key: str) -> float:
        with self._lock:
            return max(0.0, self._until.get(key, 0.0) - self.clock())

    def hold(self, key: str, seconds: float) -> None:
        with self._lock:
            self._until[key] = self.clock() + seconds


class MemoryImages:
    """Images kept in memory (the server hands in server.queue.images.ImageStore, kept in the queue database)."""

    def __init__(self) -> None:
        self._images: dict[int, Image] = {}

    def get(self, product_id: int) -> Image | None:
        return self._images.get(int(product_id))

    def digests(self, product_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        return {int(p): (self._images[int(p)].sha256, self._images[int(p)].content_type)
                for p in product_ids if int(p) in self._images}

    def put(self, product_id: int, filename: str, content_type: str, data: bytes, *,
            only_if_missing: bool = False) -> bool:
        if only_if_missing and int(product_id) in self._images:
            return False
        self._images[int(product_id)] = Image(int(product_id), filename, content_type, data,
                                              hashlib.sha256(data).hexdigest())
        return True

    def delete(self, product_id: int) -> bool:
        return self._images.pop(int(product_id), None) is not None


def _api_message(resp: httpx.Response) -> str:
    """The ApiError's text: its Message (the reference's model; a Details some versions may add is shown
    too); any other JSON or text is shown as it is."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300] or resp.reason_phrase
    if isinstance(body, dict):
        parts = [str(body.get(k)) for k in ("Message", "message", "MessageDetail", "Details", "details") if body.get(k)]
        return "; ".join(parts) or str(body)[:300]
    return str(body)[:300]


class WebApiClient:
    """One pooled HTTP client to Symfonia WebAPI with a session opened on demand.

    Errors become the project's kinds: a refused connection, 5xx and timeouts before
    sending are retryable; a timeout or a cut connection after sending is
    WebApiSentUnknown; a 400 ApiError is permanent with the API's own message; a 401
    opens a new session and repeats the call once.
    """

    def __init__(self, url: str, app_key: str, device: str = "shopsync", timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._app_key = app_key
        self.device = device
        self.timeout = timeout
        self._http = httpx.Client(base_url=self.url, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                                  headers={"Accept": "application/json"})
        self._token = ""
        self._lock = threading.Lock()
        self.sessions_opened = 0

    def close(self) -> None:
        """Close the session (seats are limited: one left open holds a seat until it expires), then the pool."""
        with self._lock:
            token, self._token = self._token, ""
        if token:
            try:
                self._http.get("/Sessions/CloseSession", headers={"Authorization": f"Session {token}"},
                               timeout=min(self.timeout, 5.0))
                log.info("closed the Symfonia WebAPI session of device %s", self.device)
            except httpx.HTTPError as exc:
                log.info("could not close the Symfonia WebAPI session (%s); it ends when it expires",
                         type(exc).__name__)
        self._http.close()

    def _open_session(self) -> str:
        # GUESS: the application key goes in `Authorization: Application {key}` (the public description's
        # scheme) and the answer is the token as a JSON string (an object with Token is taken too).
        try:
            resp = self._http.get("/Sessions/OpenNewSession", params={"deviceName": self.device},
                                  headers={"Authorization": f"Application {self._app_key}"})
        except httpx.TransportError as exc:
            raise ErpRetryable(f"Symfonia WebAPI at {self.url} is unreachable ({type(exc).__name__})") from None
        if resp.status_code in (401, 403):
            raise ErpConfigError(f"Symfonia WebAPI at {self.url} refused to open a session for device "
                               f"{self.device!r}: check erp.webapi_app_key and the application's registration "
                               f"({resp.status_code}: {_api_message(resp)})")
        if resp.status_code >= 400:
            raise ErpRetryable(f"Symfonia WebAPI could not open a session ({resp.status_code}: {_api_message(resp)})")
        try:
            body = resp.json()
        except ValueError:
            body = resp.text.strip()
        if isinstance(body, dict):
            # Reference §1: over the licence's session limit the answer is an object, not a token.
            raise ErpRetryable(f"Symfonia WebAPI has no free session seat (the licence's session limit is "
                               f"reached: {_api_message(resp)}); sessions other programs left open end when "
                               "they expire, or close them in the WebAPI's configurator; trying again later")
        token = body.strip().strip('"').strip() if isinstance(body, str) else body
        if isinstance(token, str) and token.startswith("{") and token.endswith("}"):
            token = token[1:-1].strip()
        if not isinstance(token, str) or not token:
            raise ErpRetryable(f"Symfonia WebAPI answered OpenNewSession without a token: {str(body)[:100]}")
        self.sessions_opened += 1
        log.info("opened a Symfonia WebAPI session for device %s", self.device)
        return token

    def ping(self) -> None:
        """GET /Ping (needs no session): the service answers."""
        try:
            resp = self._http.get("/Ping")
        except httpx.TransportError as exc:
            raise ErpRetryable(f"Symfonia WebAPI at {self.url} is unreachable ({type(exc).__name__})") from None
        if resp.status_code >= 400:
            raise ErpRetryable(f"Symfonia WebAPI Ping: {resp.status_code} {_api_message(resp)}")

    def _session(self, stale: str = "") -> str:
        with self._lock:
            if not self._token or self._token == stale:
                self._token = self._open_session()
            return self._token

    def call(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        """One API call in a session; the JSON answer."""
        token = self._session()
        for attempt in (1, 2):
            try:
                resp = self._http.request(method, path, params=params, json=body,
                                          headers={"Authorization": f"Session {token}"})
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                raise ErpRetryable(f"Symfonia WebAPI at {self.url} is unreachable ({type(exc).__name__})") from None
            except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                raise WebApiSentUnknown(f"Symfonia WebAPI did not answer {method} {path} "
                                        f"({type(exc).__name__})") from None
            expired = resp.status_code == 401 or (resp.status_code >= 400 and SESSION_EXPIRED in resp.text)
            if expired and attempt == 1:
                token = self._session(stale=token)  # the session expired: a new one, the call once more
                continue
            if resp.status_code >= 500 or resp.status_code == 401:
                raise ErpRetryable(f"Symfonia WebAPI {method} {path}: {resp.status_code} {_api_message(resp)}")
            if resp.status_code == 404 and NO_ACTION in resp.text:
                # ASP.NET Web API found no action for the call: its version lacks it, or a required query
                # parameter is missing. Not a verdict on the record: a setting (the WebAPI's version) to fix.
                raise ErpConfigError(f"Symfonia WebAPI has no action for {method} {path} (is the WebAPI older "
                                     f"than the calls shopsync uses?): {_api_message(resp)}")
            if resp.status_code == 404:  # declared for Contractors, Products, Sales...: the record is not there
                raise ErpNotFound(f"Symfonia WebAPI {method} {path}: not found ({_api_message(resp)})")
            if resp.status_code >= 400:
                raise ErpPermanent(f"Symfonia WebAPI refused {method} {path}: {_api_message(resp)}")
            return resp.json() if resp.content else None
        raise AssertionError("unreachable")


CHANGE_FEEDS = ("Products", "Contractors", "PriceLists", "Orders")
CONTRACTOR_FIRM, CONTRACTOR_PERSON = 0, 2  # enumContractorType (1 PersonFirm)
CANCELLED = (1, 2, 3)  # enumCancelationType Standard, ImportedFromArchive, CanceledReceipt (0 Other: GUESS live)
DOCUMENT_PARTIAL, DOCUMENT_REALIZED, DOCUMENT_CLOSED = 8, 16, 32  # enumDocumentStatus (4 New, 0 Other)
SQL_EQUALS, SQL_LIKE = 1, 2  # enumFilterSqlCriteriaMode (0 Within)
BY_PRODUCT_UP_TO = 20
BY_CODE_UP_TO = 20  # product codes looked up one by one; more: the whole product list at once  # products per warehouse asked one by one; more: the whole warehouse at once
MODIFY_DELETE = 2  # enumIncrementalSyncModifyType: 1 InsertOrUpdate, 2 Delete


def _local(moment: dt.datetime) -> str:
    """A feed's date parameter: ISO 8601 in the ERP's local time, no offset (reference §6)."""
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def _naive_local(moment: dt.datetime) -> dt.datetime:
    """ModifiedAt in local time without an offset (reference §6: its zone is undocumented; one sent with an
    offset is turned into our local time, the office's)."""
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo is not None else moment


def _reserved_by_order(r: Any, order_id: int | None = None) -> bool:
    """A reservation made by a customer order (this one, when given): its DocumentId alone is not enough, the
    ids of different document tables collide; StandardDocumentType ForeignOrder (45) says it is a customer
    order's. GUESS: "foreign" orders are the customers' (the API names supplier orders OwnOrders)."""
    return isinstance(r, dict) and r.get("StandardDocumentType") == RESERVED_BY_ORDER and bool(r.get("DocumentId")) \
        and (order_id is None or r.get("DocumentId") == order_id)


def _form_setting(method: str) -> str:
    return "orders.default_payment_form" if method == "default" else f"orders.payment_forms.{method}"


def _listing(values: Any) -> str:
    items = [str(v) for v in values]
    return ", ".join(items) if items else "none"


def _first_error(exc: "pydantic.ValidationError") -> str:
    e = exc.errors()[0]
    return f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"


@functools.cache
def _changes_adapter() -> "pydantic.TypeAdapter[Any]":
    from SymfWebAPI.WebAPI.Interface.Common.ViewModels import IncrementalSyncListElement

    return pydantic.TypeAdapter(list[IncrementalSyncListElement])


@functools.cache
def _states_adapter() -> "pydantic.TypeAdapter[Any]":
    from SymfWebAPI.WebAPI.Interface.InventoryStates.ViewModels import InventoryState

    return pydantic.TypeAdapter(list[InventoryState])


def _one_time_data(name: str, nip: str, a: Any) -> dict[str, Any]:
    """OrderIssueContractorData: who a one-time contractor is."""
    return {"Name": name[:150], "NIP": nip or None, "Street": a.street[:60] or None, "HouseNo": a.house[:10] or None,
            "ApartmentNo": a.flat[:10] or None, "PostCode": a.postcode[:10] or None, "City": a.city[:60] or None,
            "Country": a.country[:3] or "PL"}


def contractor_body(d: ContractorDraft, code: str) -> dict[str, Any]:
    """A Contractor for Contractors/Create: what [PHP] sends (Active, Code, Name, Vies, VATTaxPayer, NIP,
    PriceNegotiation, Type, Note, Contact, DefaultAddress), from the shop's billing data."""
    company = bool(d.nip)
    return {
        "Active": True, "Code": code, "Name": d.name[:150], "NIP": d.nip or None, "Vies": False,
        "VATTaxPayer": company, "PriceNegotiation": False,
        "Type": CONTRACTOR_FIRM if company else CONTRACTOR_PERSON,
        "Note": "Założony przez shopsync z pierwszego zamówienia w sklepie",
        "Contact": {"Email": d.email[:100], "Phone1": d.phone[:30]},
        "DefaultAddress": {"Street": d.street[:60] or None, "HouseNo": d.house[:10] or None,
                           "ApartmentNo": d.flat[:10] or None, "PostCode": d.postcode[:10] or None,
                           "City": d.city[:60] or None, "Country": d.country[:3] or "PL"},
    }


def delivery_address_body(a: AddressDraft, code: str) -> dict[str, Any]:
    """A ContractorDeliveryAddress. GUESS: the model has no recipient name; the name leads FullAddress."""
    return {"Code": code, "Street": a.street[:60] or None, "HouseNo": a.house[:10] or None,
            "ApartmentNo": a.flat[:10] or None, "PostCode": a.postcode[:10] or None, "City": a.city[:60] or None,
            "Country": a.country[:3] or "PL", "Province": "",
            "FullAddress": ", ".join(x for x in (a.name, f"{a.street} {a.house}{'/' + a.flat if a.flat else ''}".strip(),
                                                 f"{a.postcode} {a.city}".strip()) if x)}


def _contractor(k: Any) -> Contractor:
    """A Contractor answer as the sync's record (price groups are not in the WebAPI's model: none)."""
    if not isinstance(k, dict) or not k.get("Id"):
        raise ErpRetryable(f"Symfonia WebAPI answered a contractor without an id: {str(k)[:100]}")
    address = k.get("DefaultAddress") or {}
    contact = k.get("Contact") or {}
    return Contractor(id=int(k["Id"]), code=k.get("Code") or "", name=k.get("Name") or "", nip=k.get("NIP") or "",
                      street=address.get("Street") or "", house=address.get("HouseNo") or "",
                      flat=address.get("ApartmentNo") or "", postcode=address.get("PostCode") or "",
                      city=address.get("City") or "", email=contact.get("Email") or "",
                      phone=contact.get("Phone1") or "", price_group=None)


def _num(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


class WebApiErp:
    """Symfonia through its WebAPI alone: every read and write is a WebAPI call (products' main images are
    kept in the sync's own store), with no database connection and no SQL login.

    `sql`, when given, is only where the site's ERP settings (marker, warehouses, base price list, code
    length) are taken from in tests that compare the WebAPI's answers with the company database's; the
    server builds it with `options` (settings.erp) and no database at all."""

    def __init__(self, sql: ErpGateway | None, webapi: WebApiClient, *, order_series: str = "sklep",
                 department: str = "", sale_price_type: int = 1, options: Any = None) -> None:
        self.sql = sql
        self.webapi = webapi
        self.order_series = order_series
        self.department = department  # OrderIssue.Department (Req)
        self.sale_price_type = sale_price_type  # OrderIssue.SalePriceType (Req)
        if options is not None:
            self.marker = MarkerSource.parse(options.marker)
            self.max_code_length = int(options.max_code_length)
            self.warehouses = tuple(int(w) for w in options.warehouses)
            self.order_warehouse = int(options.order_warehouse)
            self.base_price_list = str(options.base_price_list)
        elif sql is not None:
            self.marker, self.max_code_length = sql.marker, sql.max_code_length
            self.warehouses, self.base_price_list = tuple(sql.warehouses), sql.base_price_list
            self.order_warehouse = int(sql.order_warehouse)
        else:
            raise ValueError("WebApiErp needs the ERP settings (options) or a gateway to take them from")
        # A request the ERP is still working on may yet be applied; sending it again now could make two.
        self.holds: Any = MemoryHolds()
        # The site's settings, checked against the company's dictionaries before orders are sent (None: the
        # caller checks nothing, as in tests of single calls); the last check's problems and its time.
        self.settings: Any = None
        self.settings_problems: list[str] | None = None
        self._checked_at = 0.0
        self._check_lock = threading.Lock()
        # Products' main images: the sync's own store once the server hands it in (use_images); until then
        # (single calls in tests) kept in memory.
        self.images: Any = MemoryImages()
        self.lookup_days = 62  # how far back an order is looked for by the shop's number
        self._warehouse_code: str | None = None
        self._marked: tuple[float, list[int]] | None = None  # (when, ids) of the last marked-products list

    @classmethod
    def from_settings(cls, settings: Any) -> "WebApiErp":
        e = settings.erp
        client = WebApiClient(e.webapi_url, e.webapi_app_key, e.webapi_device, e.webapi_timeout_seconds)
        erp = cls(None, client, order_series=e.order_series, department=e.webapi_department,
                  sale_price_type=e.webapi_sale_price_type, options=e)
        erp.settings = settings
        return erp

    # The WebAPI's change feeds ({Products,Contractors,PriceLists,Orders}/IncrementalSync, InventoryStates/Changes).
    change_feeds = True

    def settings_ok(self, max_age: float = SETTINGS_RECHECK_SECONDS) -> list[str]:
        """The problems of the last settings check, checking again when it is older than `max_age` seconds
        (only while there were problems, or never a check: a good check stands). Logged when they change."""
        if self.settings is None:
            return []
        with self._check_lock:
            stale = self.settings_problems is None or (self.settings_problems and
                                                       time.monotonic() - self._checked_at > max_age)
            if stale:
                problems = self.check_settings(self.settings)
                if problems != self.settings_problems:
                    if problems:
                        log.error("the ERP's settings do not fit the company (orders wait until they do):\n  %s",
                                  "\n  ".join(problems))
                    elif self.settings_problems:
                        log.info("the ERP's settings fit the company now: orders flow")
                self.settings_problems, self._checked_at = problems, time.monotonic()
            return list(self.settings_problems or [])

    def use_holds(self, holds: Any) -> None:
        self.holds = holds

    def close(self) -> None:
        if self.sql is not None:
            self.sql.close()
        self.webapi.close()

    # -- reads -------------------------------------------------------------------------------------------
    def get_products(self, ids: Sequence[int]) -> dict[int, Product]:
        """Products by id through `GET /api/Products?id=` (an id the ERP does not have is left out): the
        marker (`Marker`, or the feature as a `Dimensions` entry), the catalog's path as the group, the note,
        VAT, and the base price: the card's sale price of erp.webapi_sale_price_type."""
        out: dict[int, Product] = {}
        for pid in sorted({int(i) for i in ids}):
            try:
                out[pid] = self._product(self.webapi.call("GET", "/Products", params={"id": pid}))
            except ErpNotFound:
                continue
        return out

    def _product(self, p: Any) -> Product:
        if not isinstance(p, dict) or not p.get("Id"):
            raise ErpRetryable(f"Symfonia WebAPI answered a product without an id: {str(p)[:100]}")
        marker = self.marker
        if marker.native:
            raw: Any = p.get("Marker")
        else:  # GUESS: a product feature comes as a Dimension coded by the feature's name
            raw = next((d.get("Value") for d in p.get("Dimensions") or []
                        if isinstance(d, dict) and marker.feature in (d.get("Code"), d.get("Name"))), None)
        catalog = p.get("Catalog") or {}
        prices = [x for x in p.get("SalePrices") or [] if isinstance(x, dict)
                  and x.get("Type") == self.sale_price_type and x.get("Value") is not None]
        vat = str((p.get("VatRate") or {}).get("Code") or "")
        return Product(id=int(p["Id"]), code=p.get("Code") or "", name=p.get("Name") or "",
                       ean=p.get("Barcode") or "", unit=(p.get("UnitsOfMeasurement") or {}).get("RecordUM") or "",
                       vat=int(vat) if vat.isdigit() else 0,
                       # GUESS: FullPath joins the catalog names with a backslash, root first
                       group_path=tuple(x for x in str(catalog.get("FullPath") or "").split("\\") if x),
                       marked=marker.is_marked(raw), note=p.get("Note") or "", active=p.get("Active") is not False,
                       modified="", base_price=money(float(prices[0]["Value"])) if prices else None)

    def find_products_by_codes(self, codes: Sequence[str]) -> dict[str, int]:
        """Code -> id for the codes the ERP has: `GET /api/Products?code=` for a few, one `PATCH
        Products/FilterSql` listing every product for many (the initial import asks for thousands)."""
        wanted = list(dict.fromkeys(codes))
        if len(wanted) > BY_CODE_UP_TO:
            listed = self.webapi.call("PATCH", "/Products/FilterSql", body={}) or []
            every = {str(p.get("Code")): int(p["Id"]) for p in listed if isinstance(p, dict) and p.get("Id")}
            return {c: every[c] for c in wanted if c in every}
        out: dict[str, int] = {}
        for code in wanted:
            try:
                out[code] = int(self.webapi.call("GET", "/Products", params={"code": code})["Id"])
            except ErpNotFound:
                continue
        return out

    def commercial_stock(self, ids: Sequence[int]) -> dict[int, Decimal]:
        """Commercial stock (`AmountToSale`) summed over erp.warehouses: `InventoryStates/ByProduct?id=` for a
        few products, `InventoryStates/ByWarehouse?id=` (every product at once) for many; 0 when none."""
        ids = sorted({int(i) for i in ids})
        out = {i: Decimal(0) for i in ids}
        if len(ids) <= len(self.warehouses) * BY_PRODUCT_UP_TO:
            states = [st for pid in ids for st in self._states("ByProduct", pid)]
        else:
            states = [st for w in self.warehouses for st in self._states("ByWarehouse", w)]
        chosen = set(self.warehouses)
        for st in states:
            if st.product_id in out and st.warehouse_id in chosen:
                out[st.product_id] += st.to_sale
        return {pid: money(q) for pid, q in out.items()}

    def _states(self, by: str, key: Any, param: str = "id") -> list[StockState]:
        """`GET /api/InventoryStates/{by}` (ByProduct, ByWarehouse, Changes), read with SymfWebAPI's model."""
        answer = self.webapi.call("GET", f"/InventoryStates/{by}", params={param: key})
        try:
            states = _states_adapter().validate_python(answer or [])
        except pydantic.ValidationError as exc:
            raise ErpRetryable(f"Symfonia WebAPI InventoryStates/{by} answered what its model does not describe "
                               f"({exc.error_count()} problems, first: {_first_error(exc)})") from None
        return [StockState(int(x.ProductId), int(x.WarehouseId), Decimal(str(x.AmountToSale))) for x in states]

    def marked_product_ids(self, after_id: int = 0, limit: int = 1000) -> list[int]:
        """Ids of products carrying the marker, in id order, paged by `after_id`: `PATCH Products/FilterSql`
        with Marker equal to the site's number, or (a feature) `PATCH Products/Filter` by that Dimension
        (GUESS). The whole list is asked for once per pass (the API does not page by id) and kept for a minute."""
        now = time.monotonic()
        if self._marked is None or now - self._marked[0] > 60 or after_id == 0:
            marker = self.marker
            if marker.native:
                found = self.webapi.call("PATCH", "/Products/FilterSql", body={
                    "Marker": {"Value_From": marker.number, "Value_To": marker.number, "Mode": SQL_EQUALS}})
            else:
                found = self.webapi.call("PATCH", "/Products/Filter", params={"salePrices": "false"}, body={
                    "Dimensions": [{"Code": marker.feature, "Value": marker.value, "Id": None,
                                    "DictionaryValue": None}]})
            self._marked = (now, sorted(int(p["Id"]) for p in found or [] if p.get("Id")))
        return [i for i in self._marked[1] if i > after_id][:limit]


    def use_images(self, images: Any) -> None:
        """Where products' main images are kept: the sync's own store (server.queue.images.ImageStore); the
        WebAPI has no call that stores a picture, and nothing is written to the company database."""
        self.images = images

    def image_digests(self, product_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        return self.images.digests(product_ids)

    def get_image(self, product_id: int) -> Image | None:
        return self.images.get(product_id)

    def get_contractor(self, contractor_id: int) -> Contractor:
        """`GET /api/Contractors?id=` (404: ErpNotFound)."""
        return _contractor(self.webapi.call("GET", "/Contractors", params={"id": int(contractor_id)}))

    def find_contractors_by_nip(self, nip10: str) -> list[Contractor]:
        """Active contractors with this NIP: `GET /api/Contractors?nip=` (a list), kept only where the NIP,
        however typed on the card, is the same ten digits. GUESS: the ERP finds a NIP typed with dashes or a PL
        prefix when asked for the digits (not stated; the simulator does)."""
        nip10 = normalize_nip(nip10)
        found = self.webapi.call("GET", "/Contractors", params={"nip": nip10}) or []
        if isinstance(found, dict):
            found = [found]
        return [_contractor(k) for k in found
                if normalize_nip(k.get("NIP")) == nip10 and k.get("Active", True) is not False]

    def search_contractors(self, text: str, limit: int = 20) -> list[Contractor]:
        """Active contractors whose code, name or NIP contains `text`, for a person pairing: `PATCH
        Contractors/FilterSql` with Like on each (GUESS: `%` wildcards as SQL's LIKE), then each read whole."""
        text = text.strip()
        if not text:
            return []
        pattern = f"%{text.replace('%', '_')}%"
        ids: dict[int, str] = {}
        fields = ["Code", "Name"] + (["NIP"] if any(ch.isdigit() for ch in text) else [])
        for field in fields:
            for k in self.webapi.call("PATCH", "/Contractors/FilterSql",
                                      body={field: {"Value": pattern, "Mode": SQL_LIKE}, "Active": True}) or []:
                ids.setdefault(int(k["Id"]), k.get("Name") or "")
        ordered = sorted(ids, key=lambda i: (ids[i], i))[:limit]
        return [self.get_contractor(i) for i in ordered]

    def search_products(self, text: str, limit: int = 50) -> list[int]:
        """Ids of products whose code or name contains `text` (or whose id it is), in code order: `PATCH
        Products/FilterSql` with Like on the code and on the name."""
        text = text.strip()
        if not text:
            return []
        by_id = [int(text)] if text.isdigit() and len(text) < 10 and self.get_products([int(text)]) else []
        pattern = f"%{text.replace('%', '_')}%"
        found: dict[int, str] = {}
        for field in ("Code", "Name"):
            for p in self.webapi.call("PATCH", "/Products/FilterSql",
                                      body={field: {"Value": pattern, "Mode": SQL_LIKE}}) or []:
                found.setdefault(int(p["Id"]), p.get("Code") or "")
        ordered = sorted(found, key=lambda i: (found[i], i))
        return (by_id + [i for i in ordered if i not in by_id])[:limit]

    def contractors_in_groups(self, groups: Sequence[int]) -> list[int]:
        """Contractors of these price groups (the API's contractor kinds, GUESS): `PATCH Contractors/FilterSql`
        by KindId."""
        out: set[int] = set()
        for g in sorted({int(x) for x in groups}):
            out.update(int(k["Id"]) for k in self.webapi.call("PATCH", "/Contractors/FilterSql",
                                                               body={"KindId": g}) or [])
        return sorted(out)

    def find_order_by_shop_number(self, shop_number: str, since: dt.date | None = None) -> int | None:
        """The ERP order of a shop order by the shop's number in `Id2External`, among the orders issued from
        the shop order's day (`since`, when the caller knows it; else the last 62 days) until today (`GET
        /api/Orders/Filter`; the WebAPI has no filter by it). A live one before a cancelled one."""
        today = dt.date.today()
        start = since - dt.timedelta(days=1) if since else today - dt.timedelta(days=self.lookup_days)
        found = self.webapi.call("GET", "/Orders/Filter", params={
            "dateFrom": f"{start}T00:00:00",
            "dateTo": f"{today + dt.timedelta(days=1)}T00:00:00"}) or []
        ours = [o for o in found if isinstance(o, dict) and o.get("Id2External") == shop_number]
        ours.sort(key=lambda o: (o.get("Canceled") in CANCELLED, int(o.get("Id") or 0)))
        return int(ours[0]["Id"]) if ours else None

    def get_order(self, order_id: int) -> OrderRecord:
        """An ERP order as the sync shows it: `GET /api/Orders?id=` (header and positions) and its reservations
        (`GET /api/Reservations/Filter?productId=` of its products, those made for this order)."""
        o = self.webapi.call("GET", "/Orders", params={"id": int(order_id)})
        positions = [p for p in o.get("Positions") or [] if isinstance(p, dict) and p.get("ProductId")]
        reservations = []
        for pid in sorted({int(p["ProductId"]) for p in positions}):
            reservations += [(int(r["ProductId"]), money(float(r.get("Quantity") or 0)), int(r.get("WarehouseId") or 0))
                             for r in self.webapi.call("GET", "/Reservations/Filter", params={"productId": pid}) or []
                             if _reserved_by_order(r, int(order_id))]
        return OrderRecord(
            id=int(o["Id"]), code=str(o.get("DocumentNumber") or ""), shop_number=str(o.get("Id2External") or ""),
            contractor_id=int(o.get("BuyerId") or 0), delivery_address_id=o.get("RecipientAddressId"),
            currency=str(o.get("Currency") or "PLN"), rate=money(float(o.get("CurrencyRate") or 1)),
            net=money(float(o.get("NetValuePLN") or 0)),
            lines=[(int(p["ProductId"]), money(float(p.get("Quantity") or 0)),
                    money(float(p.get("NetValue") or 0) / float(p.get("Quantity") or 1))) for p in positions],
            reservations=sorted(reservations), vat=money(float(o.get("VatValuePLN") or 0)),
            buffered=bool(o.get("Buffer")), description=str(o.get("Description") or ""))

    def order_progress(self, order_ids: Sequence[int]) -> dict[int, OrderProgress]:
        """Where each order stands, from the WebAPI: cancelled (`Orders?id=`, Canceled), realised in part or in
        full (`Orders/Status`, DocumentStatus 8 Partial / 16 Realized), its invoices (`Orders/FV`) and warehouse
        issues (`Orders/WZ`). An order the ERP no longer has is left out."""
        out: dict[int, OrderProgress] = {}
        for zo in sorted({int(i) for i in order_ids}):
            try:
                order = self.webapi.call("GET", "/Orders", params={"id": zo})
            except ErpNotFound:
                continue
            number = str(order.get("DocumentNumber") or "")
            invoices = tuple(str(f.get("DocumentNumber") or "") for f in
                             self.webapi.call("GET", "/Orders/FV", params={"orderId": zo}) or [])
            issues = tuple(str(w.get("DocumentNumber") or "") for w in
                           self.webapi.call("GET", "/Orders/WZ", params={"orderId": zo}) or [])
            if order.get("Canceled") in CANCELLED or order.get("Active") is False:
                state = ORDER_CANCELLED
            else:
                status = int((self.webapi.call("GET", "/Orders/Status", params={"orderId": zo}) or {})
                             .get("DocumentStatus") or 0)
                state = {DOCUMENT_PARTIAL: ORDER_PARTIAL, DOCUMENT_REALIZED: ORDER_REALISED,
                         DOCUMENT_CLOSED: ORDER_REALISED}.get(status, ORDER_NEW)
            out[zo] = OrderProgress(zo, number, state, invoices, issues)
        return out

    def order_products(self, order_id: int) -> list[int]:
        """The products on an order's lines (`GET /api/Orders?id=`, Positions); none when it is gone."""
        try:
            order = self.webapi.call("GET", "/Orders", params={"id": int(order_id)})
        except ErpNotFound:
            return []
        return sorted({int(p["ProductId"]) for p in order.get("Positions") or []
                       if isinstance(p, dict) and p.get("ProductId")})

    def reservation_product(self, reservation_id: int) -> int | None:
        """The product a reservation reserves (`GET /api/Reservations?id=`; None: it was deleted)."""
        try:
            return int(self.webapi.call("GET", "/Reservations", params={"id": int(reservation_id)})["ProductId"])
        except ErpNotFound:
            return None

    def _documents(self, document_id: int) -> list[dict[str, Any]]:
        """The warehouse document and the sale document with this id (a hook names only the id, and the two
        number their rows apart: both are asked, as over SQL)."""
        out = []
        for path in ("/WarehouseDocuments", "/Sales"):
            try:
                out.append(self.webapi.call("GET", path, params={"id": int(document_id)}))
            except ErpNotFound:
                continue
        return out

    def document_products(self, document_id: int) -> list[int]:
        return sorted({int(p["ProductId"]) for d in self._documents(document_id) for p in d.get("Positions") or []
                       if isinstance(p, dict) and p.get("ProductId")})

    def orders_of_document(self, document_id: int) -> list[int]:
        """The customer orders a document may have realised or invoiced. The WebAPI's documents do not name
        them, so these are the orders holding reservations of the document's products
        (`Reservations/Filter?productId=`, the DocumentId of those a customer order made): more than the document touched at worst, and the
        caller compares each order's progress with what the shop was last sent. GUESS: a realised reservation
        stays listed with its order (the Orders change feed catches an order whose reservation went)."""
        orders: set[int] = set()
        for pid in self.document_products(document_id):
            orders.update(int(r["DocumentId"]) for r in
                          self.webapi.call("GET", "/Reservations/Filter", params={"productId": pid}) or []
                          if _reserved_by_order(r))
        return sorted(orders)

    def document_state(self, document_id: int) -> str:
        docs = self._documents(document_id)
        if not docs:
            return DOCUMENT_MISSING
        if any(not d.get("Buffer") and d.get("Canceled") not in CANCELLED for d in docs):
            return DOCUMENT_ISSUED
        return DOCUMENT_CANCELLED if all(d.get("Canceled") in CANCELLED for d in docs) else DOCUMENT_DRAFT

    def get_price_list(self, list_id: int) -> PriceList:
        """`GET /api/PriceLists?id=`: the list's prices (of erp.webapi_sale_price_type where a product has
        several; else its first) and whom it is for: contractors, and contractor kinds as groups (GUESS: the
        kind is Handel's price group). 404: ErpNotFound."""
        p = self.webapi.call("GET", "/PriceLists", params={"id": int(list_id)})
        prices: dict[int, tuple[Decimal, str]] = {}
        for item in p.get("Products") or []:
            offers = [x for x in item.get("Prices") or [] if isinstance(x, dict) and x.get("Value") is not None]
            offers.sort(key=lambda x: x.get("PriceType") != self.sale_price_type)
            if offers and item.get("Id"):
                prices[int(item["Id"])] = (money(float(offers[0]["Value"])), offers[0].get("Currency") or "PLN")
        return PriceList(id=int(p["Id"]), code=p.get("Code") or "", individual=not p.get("ForAllContractors", True),
                         active=p.get("Active") is not False, prices=prices,
                         contractors=tuple(int(c["Id"]) for c in p.get("Contractors") or [] if c.get("Id")),
                         groups=tuple(int(k["Id"]) for k in p.get("ContractorKinds") or [] if k.get("Id")))

    def price_list_ids(self) -> list[int]:
        """Every price list but the base one (`GET /api/PriceLists`)."""
        return [int(x["Id"]) for x in self.webapi.call("GET", "/PriceLists") or []
                if x.get("Code") != self.base_price_list]

    def _active_lists(self) -> list[PriceList]:
        return [pl for pl in (self.get_price_list(i) for i in self.price_list_ids()) if pl.active]

    def prices_for_products(self, ids: Sequence[int]) -> dict[int, dict[str, Decimal]]:
        """Each product's prices on the active price lists other than the base one: {id: {list code: price}}."""
        out: dict[int, dict[str, Decimal]] = {int(i): {} for i in ids}
        if out:
            for pl in self._active_lists():
                for pid, (price, _) in pl.prices.items():
                    if pid in out:
                        out[pid][pl.code] = price
        return out

    def price_list_codes_for_contractors(self, ids: Sequence[int]) -> dict[int, list[str]]:
        """Which active price lists apply to each contractor: its own lists first, then its kind's (its price
        group's), each in list order."""
        out: dict[int, list[str]] = {int(i): [] for i in ids}
        if not out:
            return out
        lists = self._active_lists()
        for kid in out:
            try:
                kind = ((self.webapi.call("GET", "/Contractors", params={"id": kid}) or {}).get("Kind") or {}).get("Id")
            except ErpNotFound:
                continue
            own = [pl.code for pl in lists if kid in pl.contractors]
            group = [pl.code for pl in lists if kind is not None and int(kind) in pl.groups]
            out[kid] = list(dict.fromkeys(own + group))
        return out

    def cancel_order(self, order_id: int) -> bool:
        """Cancel an ERP order as far as the WebAPI allows: a buffered order is deleted
        (`DELETE /api/OrdersIssue/Delete?id=`, its reservations with it); the WebAPI has no call that cancels an
        issued one, so that is a person's work, said precisely (ErpPermanent: a dead letter). False when the
        order is cancelled already."""
        order = self.webapi.call("GET", "/Orders", params={"id": int(order_id)})
        number = order.get("DocumentNumber") or f"id {order_id}"
        if order.get("Canceled") in CANCELLED or order.get("Active") is False:
            return False
        if order.get("Buffer"):
            self.webapi.call("DELETE", "/OrdersIssue/Delete", params={"id": int(order_id)})
            log.info("ERP order %s was in the buffer: deleted through the WebAPI", number)
            return True
        raise ErpPermanent(f"ERP order {number} is issued, and Symfonia's WebAPI cannot cancel an issued order: in "
                           f"Symfonia open Customer orders (Zamówienia od odbiorców), find {number} and cancel it "
                           "(Anuluj), which releases its reservations (the shop's stock follows); then retry this "
                           "dead letter, which finds the order cancelled and does nothing more")

    # -- creates sent once ---------------------------------------------------------------------------
    def _refuse_if_held(self, key: str, what: str) -> None:
        """An earlier request for `what` went unanswered and may still be applied: not sent again yet."""
        wait = self.holds.remaining(key)
        if wait > 0:
            raise ErpRetryable(f"{what}: the WebAPI did not answer its last request; not sent again for {wait:.0f} "
                               "s more, until the ERP has either written it or dropped it")

    def _send_once(self, key: str, what: str, send: Callable[[], Any],
                   lookup: Callable[[], int | None]) -> tuple[Any, int | None]:
        """Send a create; (its answer, None). Unanswered: held for three timeouts from sending (GUESS: enough for
        the ERP to settle), then looked up - (None, the id found), or WebApiSentUnknown to try again later."""
        sent = time.monotonic()
        try:
            return send(), None
        except WebApiSentUnknown as exc:
            self.holds.hold(key, 3 * self.webapi.timeout - (time.monotonic() - sent))
            found = lookup()
            if found is not None:
                log.info("%s: the WebAPI did not answer, but the ERP has it (id %s)", what, found)
                return None, found
            raise WebApiSentUnknown(f"{exc}; {what} is not in the ERP (yet): looked up again before the next "
                                    "attempt") from None

    def find_contractor_by_code(self, code: str) -> int | None:
        """`GET /api/Contractors?code=`: the id of the contractor with this code, or None."""
        try:
            return int(self.webapi.call("GET", "/Contractors", params={"code": code})["Id"])
        except ErpNotFound:
            return None

    def create_contractor(self, draft: ContractorDraft) -> int:
        """`POST /api/Contractors/Create` with the default address and the contact; returns the new id.

        Idempotent by code (the sync makes it from the shop's customer or order): a contractor with the code
        is the one an earlier attempt created, and is returned as it is (ERP data win); a request that went
        unanswered is held, then found by its code, never sent twice blindly."""
        code = draft.code[: self.max_code_length]
        if not draft.name.strip():
            raise ErpPermanent("contractor name: must not be empty")
        existing = self.find_contractor_by_code(code)
        if existing is not None:
            return existing
        key, what = f"webapi.contractor.{code}", f"contractor {code}"
        self._refuse_if_held(key, what)
        answer, found = self._send_once(key, what, lambda: self.webapi.call(
            # syncFk (required): also hand the new contractor to Symfonia's finance module (FK). GUESS: false,
            # a shop's new customer is booked in FK when its first invoice is, as a person's new card is.
            "POST", "/Contractors/Create", params={"syncFk": "false"}, body=contractor_body(draft, code)), lambda: self.find_contractor_by_code(code))
        if found is not None:
            return found
        if not isinstance(answer, dict) or not answer.get("Id"):
            raise ErpRetryable(f"contractor {code}: the WebAPI answered Contractors/Create without an id")
        log.info("contractor %s created through the WebAPI (id %s)", code, answer["Id"])
        return int(answer["Id"])

    def delivery_address_for(self, order: OrderDraft) -> None:
        """The order's delivery address on its contractor, created once (`ContractorDeliveryAddresses`, found by
        its Code, which the order names in Recipient.DeliveryAddressCode)."""
        if order.delivery is None:
            return
        label = order.delivery.label[:40]
        params = {"contractorId": order.contractor_id}
        if any(a.get("Code") == label for a in self.webapi.call("GET", "/ContractorDeliveryAddresses",
                                                                  params=params) or []):
            return
        # Unanswered: the next attempt finds an address made meanwhile by its Code.
        self.webapi.call("POST", "/ContractorDeliveryAddresses/Create", params=params,
                         body=delivery_address_body(order.delivery, label))
        log.info("order %s: delivery address %r created through the WebAPI", order.shop_number, label)

    def create_products(self, drafts: Sequence[ProductDraft]) -> dict[str, int]:
        """The initial import through `POST /api/Products/Create`, one card per draft, plain text: a code the
        ERP has already is paired as it is (ERP data win); an unanswered request is found again by its code
        before anything is sent twice. Returns code -> id for every draft."""
        for d in drafts:
            if not d.code or len(d.code) > self.max_code_length:
                raise ErpPermanent(f"product code {d.code!r}: must be 1..{self.max_code_length} characters")
        out = self.find_products_by_codes([d.code for d in drafts])
        for d in drafts:
            if d.code in out:
                continue
            key, what = f"webapi.product.{d.code}", f"product {d.code}"
            self._refuse_if_held(key, what)
            answer, found = self._send_once(key, what, lambda: self.webapi.call(  # noqa: B023 - called at once
                "POST", "/Products/Create", body=self.product_body(d)),
                lambda: self.find_products_by_codes([d.code]).get(d.code))  # noqa: B023
            if found is not None:
                answer = {"Id": found}
            out[d.code] = int(answer["Id"])
        return out

    def product_body(self, d: ProductDraft) -> dict[str, Any]:
        """A Product for Products/Create: the shop's product as a card. The marker as the site agreed (Marker,
        or the feature as a Dimension: GUESS), the catalog by its FullPath (GUESS: backslash-joined; the ERP
        makes what is missing), the price as the card's sale price of erp.webapi_sale_price_type."""
        marker = self.marker
        body: dict[str, Any] = {
            "Code": d.code, "Name": d.name[:100], "Active": True, "Type": PRODUCT_ARTICLE, "Barcode": d.ean[:150],
            "VatRate": {"Id": None, "Code": str(d.vat)}, "UnitsOfMeasurement": {"RecordUM": d.unit[:8]},
            "Note": d.note or None,
            "Marker": marker.number if marker.native and d.marked else 0,
        }
        if d.group_path:
            body["Catalog"] = {"Id": 0, "ParentId": 0, "Name": d.group_path[-1][:100],
                               "FullPath": "\\".join(p[:100] for p in d.group_path)}
        if d.price is not None:
            body["SalePrices"] = [{"Type": self.sale_price_type, "Kind": PRICE_KIND_NET, "Value": _num(d.price),
                                   "Currency": "PLN", "PriceParameter": PRICE_PARAMETER_MARKUP}]
        if not marker.native:
            body["Dimensions"] = [{"Name": marker.feature, "Code": marker.feature, "Type": "Tekst",
                                   "Value": marker.value if d.marked else "", "DictionaryValue": None}]
        return body

    def put_image(self, product_id: int, filename: str, content_type: str, data: bytes, *,
                  only_if_missing: bool = False) -> bool:
        """Keep the product's main image in the sync's store; the product must exist in the ERP (ErpNotFound)."""
        try:
            self.webapi.call("GET", "/Products", params={"id": int(product_id)})
        except ErpNotFound:
            raise ErpNotFound(f"product id {product_id} is not in the ERP (Symfonia WebAPI has no such product)"
                              ) from None
        return self.images.put(product_id, filename, content_type, data, only_if_missing=only_if_missing)

    def delete_image(self, product_id: int) -> bool:
        return self.images.delete(product_id)

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

    def ping(self) -> None:
        """The ERP answers: its WebAPI's Ping (there is no database connection in this mode)."""
        self.webapi.ping()

    # -- the WebAPI side ----------------------------------------------------------------------------------
    def check_settings(self, settings: Any) -> list[str]:
        """Every setting an order needs, checked against the WebAPI's own dictionaries; all problems at once,
        each naming the setting and what the ERP has instead (empty: all good).

        Departments, the ZMO series (Orders/ZMODocumentTypes -> Orders/DocumentSeries), PaymentForms,
        Warehouses, Currencies, and the shipping and fee items (Products?code=). The sale price type has no
        dictionary: its range is checked with the settings."""
        e, o = settings.erp, settings.orders
        problems: list[str] = []

        def dictionary(path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
            answer = self.webapi.call("GET", path, params=params)
            return [x for x in (answer or []) if isinstance(x, dict)]

        departments = dictionary("/Departments")
        if not any(self.department in (d.get("Name"), d.get("Code")) for d in departments):
            problems.append(f"erp.webapi_department = {self.department!r} is not a department of the company "
                            f"(it has: {_listing(d.get('Name') for d in departments)})")
        series: list[str] = []
        for t in dictionary("/Orders/ZMODocumentTypes"):
            series += [str(x.get("Code")) for x in dictionary("/Orders/DocumentSeries",
                                                                  {"documentTypeId": t.get("Id")})]
        if self.order_series not in series:
            problems.append(f"erp.order_series = {self.order_series!r} is not a series of customer orders (ZMO) "
                            f"(the company has: {_listing(series)})")
        forms = {f.get("Id"): f for f in dictionary("/PaymentForms")}
        form_names = _listing(f"{i} {f.get('Name')}" for i, f in forms.items())
        mapped = sorted(o.payment_forms.items()) + ([("default", o.default_payment_form)]
                                                     if o.default_payment_form else [])
        for method, form in mapped:
            if form not in forms:
                problems.append(f"{_form_setting(method)} = {form}: no such payment form (the company has: "
                                f"{form_names})")
            elif forms[form].get("Active") is False:
                problems.append(f"{_form_setting(method)} = {form}: payment form {forms[form].get('Name')!r} "
                                "is inactive in the company")
        warehouses = {w.get("Id") for w in dictionary("/Warehouses")}
        for name, ids in (("erp.warehouses", list(e.warehouses)), ("erp.order_warehouse", [e.order_warehouse])):
            unknown = [w for w in ids if w not in warehouses]
            if unknown:
                problems.append(f"{name}: no warehouse {_listing(unknown)} in the company (it has: "
                                f"{_listing(sorted(warehouses))})")
        currencies = {str(c.get("Shortcut")).upper() for c in dictionary("/Currencies") if c.get("Active", True)}
        unknown_currencies = sorted(c for c in o.fixed_rates if c.upper() not in currencies)
        if unknown_currencies:
            problems.append(f"orders.fixed_rates: {_listing(unknown_currencies)} not a currency of the company "
                            f"(it has: {_listing(sorted(currencies))})")
        for name, code in (("orders.shipping_code", o.shipping_code), ("orders.fee_code", o.fee_code)):
            if not code:
                continue
            try:
                self.webapi.call("GET", "/Products", params={"code": code})
            except ErpNotFound:
                problems.append(f"{name} = {code!r}: no item with this code in the company (make it a service "
                                "item in Symfonia, or set the code of the one that exists)")
        return problems

    def feed_changes(self, feed: str, since: dt.datetime) -> list[FeedChange]:
        """`GET /api/{feed}/IncrementalSync?dateFrom=` (feed: Products, Contractors, PriceLists, Orders): what
        the ERP logged as changed at or after `since` (its local time)."""
        if feed not in CHANGE_FEEDS:
            raise ValueError(f"no change feed {feed!r}")
        answer = self.webapi.call("GET", f"/{feed}/IncrementalSync", params={"dateFrom": _local(since)})
        try:
            elements = _changes_adapter().validate_python(answer or [])
        except pydantic.ValidationError as exc:
            raise ErpRetryable(f"Symfonia WebAPI {feed}/IncrementalSync answered what its model does not "
                               f"describe ({exc.error_count()} problems, first: {_first_error(exc)})") from None
        return [FeedChange(id=int(e.Id), modified_at=_naive_local(e.ModifiedAt).isoformat(timespec="milliseconds"),
                           deleted=e.ModifyType.value == MODIFY_DELETE,
                           digest=hashlib.sha1(json.dumps(e.Object, sort_keys=True, default=str).encode())
                           .hexdigest()) for e in elements]

    def stock_changes(self, since: dt.datetime) -> list[StockState]:
        """`GET /api/InventoryStates/Changes?date=`: the states (not deltas) that changed at or after `since`."""
        return self._states("Changes", _local(since), "date")

    def warehouse_code(self) -> str:
        """OrderIssue.Warehouse: the code of erp.order_warehouse, from the company's Warehouses (read once).
        GUESS: the field (a string) takes the warehouse's Code (Handel's symbol), as a person picks it."""
        if self._warehouse_code is None:
            codes = {int(w["Id"]): str(w.get("Code") or "") for w in self.webapi.call("GET", "/Warehouses") or []
                     if isinstance(w, dict) and w.get("Id") is not None}
            if self.order_warehouse not in codes:
                raise ErpConfigError(f"erp.order_warehouse = {self.order_warehouse}: no such warehouse in the "
                                     f"company (it has: {_listing(sorted(codes))})")
            self._warehouse_code = codes[self.order_warehouse]
        return self._warehouse_code

    def order_body(self, order: OrderDraft, codes: dict[int, tuple[str, str, int]],
                   address_label: str | None, *, payment_form: int | None = None) -> dict[str, Any]:
        date = (order.date.isoformat() if order.date else None)
        buyer: dict[str, Any] = {"Id": order.contractor_id}
        recipient: dict[str, Any] = {"Id": order.contractor_id}
        if order.contractor_id == ONE_TIME_CONTRACTOR and order.one_time is not None:
            # The reference's rule: neither Id nor Code -> a one-time contractor, made of Data.
            buyer = {"Id": None, "Code": "", "Data": _one_time_data(order.one_time.name, order.one_time.nip,
                                                                      order.one_time)}
            where = order.delivery or order.one_time
            recipient = {"Id": None, "Code": "", "Data": _one_time_data(
                order.delivery.name if order.delivery else order.one_time.name, "", where)}
        elif address_label:
            # GUESS: a delivery address is named by its code (HM.AD.nazwaAdr) of the recipient.
            recipient["DeliveryAddressCode"] = address_label
        body: dict[str, Any] = {
            "TypeCode": "ZMO", "Series": self.order_series, "NumberInSeries": None, "Department": self.department,
            # Where the lines are reserved: left out, the ERP's default warehouse, which may not be one the
            # shop's stock is read from (erp.warehouses) - the shop would oversell.
            "Warehouse": self.warehouse_code(),
            "IssueDate": date, "SaleDate": date,
            "Buyer": buyer, "Recipient": recipient,
            "Currency": order.currency, "CurrencyRate": _num(order.rate),
            "PriceKind": PRICE_KIND_GROSS if order.prices_gross else PRICE_KIND_NET,
            "SalePriceType": self.sale_price_type,
            "ReservationType": RESERVATION_BY_QUANTITY,
            # The shop's number in the field meant for it (found again by it); the description keeps the text.
            "Id2External": order.shop_number, "IdExternal": order.shop_order_id,
            "Description": order.note, "Note": order.customer_note,
            # Value is "the value of the position" ([wartosc]): quantity x unit price, to the grosz, in the
            # document's PriceKind and currency (the reference; [PHP] sends the line's total_gross).
            "Positions": [{"Code": codes[ln.product_id][0], "Quantity": _num(ln.quantity),
                           "Value": _num((ln.quantity * ln.price).quantize(CENT, rounding=ROUND_HALF_UP)),
                           "UnitOfMeasurement": codes[ln.product_id][1]} for ln in order.lines],
        }
        form = payment_form or order.payment_form
        if form:
            body["PaymentFormId"] = int(form)
        return body

    def find_order(self, order: OrderDraft) -> int | None:
        """The ERP order written for this shop order, found by the shop's number in `Id2External` among the
        buyer's orders issued from the shop order's date until today (`GET /api/Orders/Filter?buyerId=`);
        cancelled ones too (an order once imported is never imported again). GUESS: the filter's dates are
        the orders' IssueDate, both ends inclusive. A one-time buyer has no id: all recent orders are asked."""
        if order.contractor_id == ONE_TIME_CONTRACTOR:
            return self.find_order_by_shop_number(order.shop_number, order.date)
        since = order.date or dt.date.today()
        found = self.webapi.call("GET", "/Orders/Filter", params={
            "buyerId": order.contractor_id, "dateFrom": f"{since - dt.timedelta(days=1)}T00:00:00",
            "dateTo": f"{max(since, dt.date.today()) + dt.timedelta(days=1)}T00:00:00"}) or []
        ours = [o for o in found if isinstance(o, dict) and o.get("Id2External") == order.shop_number]
        ours.sort(key=lambda o: (o.get("Canceled") in CANCELLED, int(o.get("Id") or 0)))  # a live one first
        return int(ours[0]["Id"]) if ours else None

    def create_order(self, order: OrderDraft) -> tuple[int, bool]:
        """One ZMO through `POST /api/OrdersIssue/New?issue=true`; (order id, created?)."""
        ErpGateway.check_order(order)
        existing = self.find_order(order)
        if existing is not None:
            return existing, False
        key, what = f"webapi.order.{order.shop_number}", f"order {order.shop_number}"
        self._refuse_if_held(key, what)
        if not self.department.strip():
            raise ErpConfigError("erp.webapi_department is not set: Symfonia requires the department (dział) of "
                                 "every order issued through the WebAPI")
        problems = self.settings_ok()
        if problems:
            raise ErpConfigError("the settings do not fit the ERP company: " + "; ".join(problems))
        one_time = order.contractor_id == ONE_TIME_CONTRACTOR
        if one_time and (order.one_time is None or self.settings is None or
                         not self.settings.orders.guests_as_one_time):
            raise ErpPermanent(f"order {order.shop_number}: no contractor, and one-time contractors are not allowed "
                               "(orders.guests_as_one_time)")
        card: dict[str, Any] = {}
        try:
            # An Id the ERP does not know silently becomes a one-time contractor: never send one.
            if not one_time:
                card = self.webapi.call("GET", "/Contractors", params={"id": int(order.contractor_id)}) or {}
        except ErpNotFound:
            raise ErpPermanent(f"order {order.shop_number}: contractor id {order.contractor_id} is no longer in "
                               "the ERP (deleted or merged?); pair the customer again, then retry this dead "
                               "letter") from None
        # PaymentFormId is required: the shop's method mapped, else the contractor card's own (as Symfonia
        # fills it in for a person).
        payment_form = order.payment_form or (card.get("PaymentForm") or {}).get("Id") or None
        if not payment_form:
            raise ErpConfigError(f"order {order.shop_number}: no payment form - the payment method is not in "
                                 "orders.payment_forms and the contractor has none; set orders.default_payment_form "
                                 "(an id from Symfonia's payment forms)")
        codes = {pid: (p.code, p.unit or "szt.", p.vat)
                 for pid, p in self.get_products([ln.product_id for ln in order.lines]).items()}
        for lp, ln in enumerate(order.lines, start=1):
            if ln.product_id not in codes:
                raise ErpPermanent(f"order {order.shop_number} line {lp}: product id {ln.product_id} is not in the ERP")
        if not one_time:  # a one-time recipient carries its address in the order itself
            self.delivery_address_for(order)
        label = order.delivery.label[:40] if order.delivery is not None and not one_time else None
        body = self.order_body(order, codes, label, payment_form=int(payment_form))
        answer, found = self._send_once(key, what, lambda: self.webapi.call(
            "POST", "/OrdersIssue/New", params={"issue": "true"}, body=body), lambda: self.find_order(order))
        if found is not None:
            return found, True
        if not isinstance(answer, dict) or not answer.get("Id"):
            raise ErpRetryable(f"order {order.shop_number}: the WebAPI answered without an order id")
        zo = int(answer["Id"])
        gross = answer.get("GrossValue")
        if order.expected_gross is not None and gross is not None and \
                Decimal(str(gross)).quantize(Decimal("0.01")) != order.expected_gross:
            raise ErpPermanent(f"order {order.shop_number}: ERP order {answer.get('DocumentNumber')} was created, "
                               f"but the ERP valued it at {gross} {order.currency} gross, the customer paid "
                               f"{order.expected_gross}: correct the order in Symfonia, then discard this dead "
                               "letter (retrying finds the order and writes nothing)")
        log.info("order %s written through the WebAPI as %s", order.shop_number, answer.get("DocumentNumber"))
        return zo, True


def make_erp(settings: Any) -> ErpGateway | WebApiErp:
    """The ERP as erp.mode says: the company database over SQL, or Symfonia's WebAPI."""
    if settings.erp.mode == "webapi":
        return WebApiErp.from_settings(settings)
    return ErpGateway.from_settings(settings)
