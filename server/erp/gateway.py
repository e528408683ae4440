"""The server's only door into Symfonia ERP Handel: every SQL statement lives here.

Each public method is one unit of work in one transaction; all statements are
parameterised; result columns are read by position (PostgreSQL folds names to
lower case). Driver errors become ErpRetryable / ErpPermanent, and a lost
connection is reopened on the next unit of work.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import logging
import threading
import uuid
from decimal import Decimal
from typing import Any, Iterator, Sequence

import pyodbc

from .dialects import Dialect, SqlServerDialect
from .errors import ErpConfigError, ErpError, ErpNotFound, ErpPermanent
from .records import (DOCUMENT_CANCELLED, DOCUMENT_DRAFT, DOCUMENT_ISSUED, DOCUMENT_MISSING, ORDER_CANCELLED,
                      ORDER_NEW, ORDER_PARTIAL, ORDER_REALISED, AddressDraft, Contractor, ContractorDraft, Image,
                      InvoicePrintout, MarkerSource, OrderDraft, OrderLineDraft, OrderProgress, OrderRecord,
                      PriceList, Product, ProductDraft, order_description)
from .rounding import grosz, position_value
from .trace import StatementTrace, TracingCursor
from ..nip import normalize_nip
from ..settings import ErpSettings, Settings

log = logging.getLogger(__name__)

# HM.KP.typpd: whom a price list applies to (our reading of the schema).
TYPPD_CONTRACTOR = 1
TYPPD_GROUP = 2
ZO_BAZA = 16  # bazadokrz of a reservation made by a customer order (ZO)
# HM.PO link types, our reading (a guess until checked on a real company, see docs/symfonia.md):
PO_ORDER_SALE = 1       # id1 = HM.ZO.id, id2 = HM.DK.id of a sale document issued from the order
PO_ORDER_WAREHOUSE = 2  # id1 = HM.ZO.id, id2 = HM.MG.id of a warehouse issue that realised it
NAME_MAX = 100


def money(value: Any) -> Decimal:
    """A database number as an exact Decimal with 2-4 places."""
    if value is None:
        return Decimal("0")
    if isinstance(value, Decimal):
        return value
    return Decimal(str(round(float(value), 4))).normalize() if isinstance(value, float) else Decimal(value)


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class ErpGateway:
    """Reads and writes the HM.* tables of one Symfonia company."""

    # The database has no change feeds (its hooks and the catch-up carry changes).
    change_feeds = False

    def settings_ok(self) -> list[str]:
        """Problems of the settings against the ERP's own dictionaries: over SQL none are read (empty)."""
        return []

    def __init__(self, conn_str: str, dialect: Dialect, options: ErpSettings | None = None, **changes: Any) -> None:
        """`options`: the [erp] settings (defaults when None); `changes`: fields to differ from them."""
        o = dataclasses.replace(options or ErpSettings(), **changes)
        self.conn_str = conn_str
        self.dialect = dialect
        self.warehouses = tuple(int(w) for w in o.warehouses)
        self.marker = MarkerSource.parse(o.marker)
        self.note_baza = o.note_baza
        self.base_price_list = o.base_price_list
        self.order_warehouse = o.order_warehouse
        self.order_series = o.order_series
        self.max_code_length = o.max_code_length
        self.order_buffer = o.order_buffer
        self._local = threading.local()
        self._trace = StatementTrace.from_env()  # SHOPSYNC_SQL_TRACE: every distinct statement, for review

    @classmethod
    def from_settings(cls, settings: Settings) -> "ErpGateway":
        return cls(*cls.connection_of(settings), settings.erp)

    @staticmethod
    def connection_of(settings: Settings) -> tuple[str, Dialect]:
        """(ODBC connection string, dialect) of the company database the settings describe."""
        from .dialects import make_dialect

        e = settings.erp
        database = settings.path(e.database) if e.dialect == "sqlite" else None
        dialect = make_dialect(e.dialect, lock_timeout_seconds=e.lock_timeout_seconds, database=database)
        conn_str = e.odbc or (dialect.connection_string() if e.dialect == "sqlite" else "")
        if not conn_str:
            raise ValueError("erp.odbc: an ODBC connection string is required for "
                             f"dialect {e.dialect}")
        return conn_str, dialect

    # -- connections and units of work ---------------------------------------
    def _conn(self) -> pyodbc.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.dialect.connect(self.conn_str)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        self._drop_connection()

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with contextlib.suppress(pyodbc.Error):
                conn.close()

    @contextlib.contextmanager
    def unit_of_work(self) -> Iterator[pyodbc.Cursor]:
        """One transaction: commit on success, roll back on any error."""
        conn = self._conn()
        cur = None
        try:
            self.dialect.begin(conn)
            cur = conn.cursor() if self._trace is None else TracingCursor(conn.cursor(), self._trace)
            yield cur
            self.dialect.commit(conn)
        except pyodbc.Error as exc:
            error = self.dialect.translate(exc)
            with contextlib.suppress(pyodbc.Error):
                self.dialect.rollback(conn)
            if getattr(error, "connection_lost", False):
                self._drop_connection()
            raise error from exc
        except BaseException:
            with contextlib.suppress(pyodbc.Error):
                self.dialect.rollback(conn)
            raise
        finally:
            if cur is not None:
                with contextlib.suppress(pyodbc.Error):
                    cur.close()

    def _insert(self, cur: Any, table: str, values: dict[str, Any]) -> int:
        """INSERT one row and return its new id, as the dialect does it (traced in SQL Server's form)."""
        if not isinstance(cur, TracingCursor):
            return self.dialect.insert(cur, table, values)
        cur._trace.record(SqlServerDialect.insert_sql(table, list(values)))
        cur.paused = True
        try:
            return self.dialect.insert(cur, table, values)
        finally:
            cur.paused = False

    def ping(self) -> None:
        with self.unit_of_work() as cur:
            cur.execute("SELECT COUNT(*) FROM HM.TW WHERE id = ?", 0).fetchone()

    def _in(self, values: Sequence[Any]) -> str:
        return ", ".join("?" for _ in values)

    # -- products ------------------------------------------------------------
    def _group_paths(self, cur: pyodbc.Cursor) -> dict[int, tuple[str, ...]]:
        rows = cur.execute("SELECT id, super, nazwa FROM HM.XT").fetchall()
        parent = {r[0]: r[1] for r in rows}
        name = {r[0]: r[2] for r in rows}
        paths: dict[int, tuple[str, ...]] = {}
        for gid in name:
            path, seen, cur_id = [], set(), gid
            while cur_id in name and cur_id not in seen:
                seen.add(cur_id)
                path.append(name[cur_id])
                cur_id = parent.get(cur_id)
            paths[gid] = tuple(reversed(path))
        return paths

    def _marker_field(self) -> str:
        """The product's marker field in the products query (erp.marker)."""
        return "t.znacznik" if self.marker.native else f"c.{self.marker.column}"

    def _marker_join(self) -> str:
        return "" if self.marker.native else \
            "LEFT JOIN SSCommon.ProductClassification c ON c.ElementId = t.id "

    def get_products(self, ids: Sequence[int]) -> dict[int, Product]:
        """Products by id (missing ids are simply absent), with note, marker, group and base price."""
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        out: dict[int, Product] = {}
        with self.unit_of_work() as cur:
            paths = self._group_paths(cur)
            for chunk in _chunks(ids, 500):
                marks = self._in(chunk)
                rows = cur.execute(
                    "SELECT t.id, t.kod, t.nazwa, t.kodpaskowy, t.jm, t.vatsp, t.katalog, t.aktywny, "
                    f"t.modifiedDate, {self._marker_field()} FROM HM.TW t {self._marker_join()}"
                    f"WHERE t.id IN ({marks})", chunk).fetchall()
                notes = dict(cur.execute(
                    f"SELECT super, opis FROM HM.NT WHERE baza = ? AND super IN ({marks}) ORDER BY id",
                    [self.note_baza, *chunk]).fetchall())
                prices = dict(cur.execute(
                    "SELECT p.idpoz, p.cena FROM HM.CP p JOIN HM.CK k ON k.id = p.idck "
                    f"WHERE k.kod = ? AND p.idpoz IN ({marks})",
                    [self.base_price_list, *chunk]).fetchall())
                for r in rows:
                    pid = int(r[0])
                    out[pid] = Product(
                        id=pid, code=r[1] or "", name=r[2] or "", ean=r[3] or "", unit=r[4] or "",
                        vat=int(r[5] or 0), group_path=paths.get(r[6], ()) if r[6] is not None else (),
                        marked=self.marker.is_marked(r[9]), note=notes.get(pid) or "",
                        active=bool(r[7]), modified=str(r[8] or ""),
                        base_price=money(prices[pid]) if pid in prices else None)
        return out

    def get_product(self, product_id: int) -> Product:
        found = self.get_products([product_id]).get(product_id)
        if found is None:
            raise ErpNotFound(f"product id {product_id} is not in HM.TW")
        return found

    def commercial_stock(self, ids: Sequence[int]) -> dict[int, Decimal]:
        """Commercial stock (stanHandl) summed over the configured warehouses; 0 when none."""
        ids = [int(i) for i in ids]
        out = {i: Decimal("0") for i in ids}
        with self.unit_of_work() as cur:
            for chunk in _chunks(ids, 500):
                rows = cur.execute(
                    f"SELECT idtw, SUM(stanHandl) FROM HM.SM WHERE idtw IN ({self._in(chunk)}) "
                    f"AND magazyn IN ({self._in(self.warehouses)}) GROUP BY idtw",
                    [*chunk, *self.warehouses]).fetchall()
                for pid, qty in rows:
                    out[int(pid)] = money(qty)
        return out

    def marked_product_ids(self, after_id: int = 0, limit: int = 1000) -> list[int]:
        """Ids of products carrying the marker, in id order, paged by `after_id`."""
        with self.unit_of_work() as cur:
            if self.marker.native:
                cur.execute("SELECT id FROM HM.TW WHERE znacznik = ? AND id > ? ORDER BY id", self.marker.number,
                            after_id)
            else:
                cur.execute(f"SELECT ElementId FROM SSCommon.ProductClassification WHERE {self.marker.column} = ? "
                            "AND ElementId > ? ORDER BY ElementId", self.marker.value, after_id)
            return [int(r[0]) for r in cur.fetchmany(limit)]

    def products_changed_since(self, since: str) -> list[int]:
        """Ids of products whose card changed after `since` (HM.TW.modifiedDate, as text)."""
        with self.unit_of_work() as cur:
            cur.execute("SELECT id FROM HM.TW WHERE modifiedDate > ? ORDER BY id", since)
            return [int(r[0]) for r in cur.fetchall()]

    def find_products_by_codes(self, codes: Sequence[str]) -> dict[str, int]:
        """Product code (HM.TW.kod) -> id, for the codes that exist."""
        out: dict[str, int] = {}
        with self.unit_of_work() as cur:
            for chunk in _chunks(list(codes), 500):
                for pid, code in cur.execute(f"SELECT id, kod FROM HM.TW WHERE kod IN ({self._in(chunk)})",
                                             chunk).fetchall():
                    out[code] = int(pid)
        return out

    def _ensure_group(self, cur: pyodbc.Cursor, path: Sequence[str]) -> int | None:
        parent: int | None = None
        for name in path:
            name = name[:NAME_MAX]
            if parent is None:
                row = cur.execute("SELECT id FROM HM.XT WHERE super IS NULL AND nazwa = ?", name).fetchone()
            else:
                row = cur.execute("SELECT id FROM HM.XT WHERE super = ? AND nazwa = ?", parent, name).fetchone()
            if row:
                parent = int(row[0])
            else:
                parent = self._insert(cur, "HM.XT", {"super": parent, "kod": name[:20], "nazwa": name})
        return parent

    def create_products(self, drafts: Sequence[ProductDraft]) -> dict[str, int]:
        """Create products (initial import) in one transaction; existing codes are left alone.

        Returns code -> id for every draft (new or already there).
        """
        for d in drafts:
            if not d.code or len(d.code) > self.max_code_length:
                raise ErpPermanent(f"product code {d.code!r}: must be 1..{self.max_code_length} characters")
        out: dict[str, int] = {}
        now = _now()
        with self.unit_of_work() as cur:
            base = cur.execute("SELECT id FROM HM.CK WHERE kod = ?", self.base_price_list).fetchone()
            codes = [d.code for d in drafts]
            for chunk in _chunks(codes, 500):
                for pid, code in cur.execute(f"SELECT id, kod FROM HM.TW WHERE kod IN ({self._in(chunk)})",
                                             chunk).fetchall():
                    out[code] = int(pid)
            for d in drafts:
                if d.code in out:
                    continue
                group = self._ensure_group(cur, d.group_path) if d.group_path else None
                pid = self._insert(cur, "HM.TW", {
                    "kod": d.code, "nazwa": d.name[:NAME_MAX], "kodpaskowy": d.ean[:150], "jm": d.unit[:8],
                    "vatsp": d.vat, "katalog": group, "aktywny": 1, "modifiedDate": now,
                    "znacznik": self.marker.number if self.marker.native and d.marked else 0})
                out[d.code] = pid
                if not self.marker.native:
                    cur.execute(f"INSERT INTO SSCommon.ProductClassification (ElementId, {self.marker.column}) "
                                "VALUES (?, ?)", pid, self.marker.value if d.marked else "")
                for w in sorted({*self.warehouses, self.order_warehouse}):
                    cur.execute("INSERT INTO HM.SM (idtw, magazyn, stan, stanHandl) VALUES (?, ?, 0, 0)", pid, w)
                if d.price is not None and base:
                    cur.execute("INSERT INTO HM.CP (idck, idpoz, bazapoz, kod, cena, waluta) "
                                "VALUES (?, ?, 1, ?, ?, 'PLN')", base[0], pid, d.code, d.price)
                if d.note:
                    cur.execute("INSERT INTO HM.NT (super, baza, typ, subtyp, opis) VALUES (?, ?, 0, 0, ?)",
                                pid, self.note_baza, d.note)
        return out

    # -- contractors ---------------------------------------------------------
    _KH_COLUMNS = "id, kod, nazwa, nip, ulica, dom, lokal, kodpocz, miejscowosc, email, tel1, grupacen"

    @staticmethod
    def _contractor(r: Any) -> Contractor:
        return Contractor(id=int(r[0]), code=r[1] or "", name=r[2] or "", nip=r[3] or "", street=r[4] or "",
                          house=r[5] or "", flat=r[6] or "", postcode=r[7] or "", city=r[8] or "",
                          email=r[9] or "", phone=r[10] or "",
                          price_group=int(r[11]) if r[11] is not None else None)

    def get_contractor(self, contractor_id: int) -> Contractor:
        with self.unit_of_work() as cur:
            r = cur.execute(f"SELECT {self._KH_COLUMNS} FROM HM.KH WHERE id = ?", contractor_id).fetchone()
        if r is None:
            raise ErpNotFound(f"contractor id {contractor_id} is not in HM.KH")
        return self._contractor(r)

    def find_contractors_by_nip(self, nip10: str) -> list[Contractor]:
        """Active contractors whose NIP, however typed, normalises to `nip10`."""
        nip10 = normalize_nip(nip10)
        with self.unit_of_work() as cur:
            rows = cur.execute(
                f"SELECT {self._KH_COLUMNS} FROM HM.KH WHERE aktywny = 1 AND "
                "REPLACE(REPLACE(REPLACE(REPLACE(UPPER(nip), ' ', ''), '-', ''), '.', ''), 'PL', '') = ? "
                "ORDER BY id", nip10).fetchall()
        return [self._contractor(r) for r in rows if normalize_nip(r[3]) == nip10]

    def search_contractors(self, text: str, limit: int = 20) -> list[Contractor]:
        """Active contractors whose code, name or NIP (however typed) contains `text`, for a person pairing."""
        text = text.strip()
        if not text:
            return []
        digits = normalize_nip(text) if any(ch.isdigit() for ch in text) else ""
        with self.unit_of_work() as cur:
            cur.execute(f"SELECT {self._KH_COLUMNS} FROM HM.KH WHERE aktywny = 1 AND (kod LIKE ? OR nazwa LIKE ? OR "
                        "REPLACE(REPLACE(REPLACE(UPPER(nip), ' ', ''), '-', ''), 'PL', '') LIKE ?) ORDER BY nazwa, id",
                        _like_contains(text), _like_contains(text), _like_contains(digits) if digits else "-")
            return [self._contractor(r) for r in cur.fetchmany(limit)]

    def search_products(self, text: str, limit: int = 50) -> list[int]:
        """Ids of products whose code or name contains `text` (or whose id it is), in code order. LIKE as the
        database compares (SQL Server's usual *_CI_AS collations ignore case, Polish letters too)."""
        text = text.strip()
        if not text:
            return []
        with self.unit_of_work() as cur:
            by_id = [int(r[0]) for r in cur.execute("SELECT id FROM HM.TW WHERE id = ?", int(text)).fetchall()] \
                if text.isdigit() and len(text) < 10 else []
            # No ORDER BY: sorting in the database walks the code index row by row (seven times slower on
            # 100,000 products); the first matches are sorted here instead.
            cur.execute("SELECT id, kod FROM HM.TW WHERE kod LIKE ? OR nazwa LIKE ?", _like_contains(text),
                        _like_contains(text))
            found = [int(r[0]) for r in sorted(cur.fetchmany(limit * 10), key=lambda r: (r[1] or ""))]
        return (by_id + [i for i in found if i not in by_id])[:limit]

    def create_contractor(self, draft: ContractorDraft) -> int:
        """A new contractor (HM.KH) with its main address (HM.AD); returns its id."""
        if not draft.name.strip():
            raise ErpPermanent("contractor name: must not be empty")
        with self.unit_of_work() as cur:
            return self._create_contractor(cur, draft)

    def _create_contractor(self, cur: pyodbc.Cursor, d: ContractorDraft) -> int:
        code = d.code[: self.max_code_length]
        kid = self._insert(cur, "HM.KH", {
            "kod": code, "nazwa": d.name[:150], "nip": d.nip[:20], "ulica": d.street[:60], "dom": d.house[:10],
            "lokal": d.flat[:10], "kodpocz": d.postcode[:10], "miejscowosc": d.city[:60], "email": d.email[:100],
            "tel1": d.phone[:30], "znacznik": 0, "aktywny": 1, "modifiedDate": _now()})
        self._insert(cur, "HM.AD", {
            "idkh": kid, "nazwaAdr": "Główny", "nazwa": d.name[:150], "ulica": d.street[:60], "dom": d.house[:10],
            "lokal": d.flat[:10], "kodpocz": d.postcode[:10], "miejscowosc": d.city[:60], "nip": d.nip[:20],
            "idKraju": d.country[:3]})
        return kid

    def contractors_in_groups(self, groups: Sequence[int]) -> list[int]:
        if not groups:
            return []
        with self.unit_of_work() as cur:
            return [int(r[0]) for r in cur.execute(
                f"SELECT id FROM HM.KH WHERE grupacen IN ({self._in(groups)}) ORDER BY id", list(groups))]

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

    def ensure_delivery_address(self, cur: pyodbc.Cursor, contractor_id: int, a: AddressDraft) -> int:
        """The contractor's delivery address with this label (HM.AD), made once."""
        row = cur.execute("SELECT id FROM HM.AD WHERE idkh = ? AND nazwaAdr = ?", contractor_id,
                          a.label[:40]).fetchone()
        if row:
            return int(row[0])
        return self._insert(cur, "HM.AD", {
            "idkh": contractor_id, "nazwaAdr": a.label[:40], "nazwa": a.name[:150], "ulica": a.street[:60],
            "dom": a.house[:10], "lokal": a.flat[:10], "kodpocz": a.postcode[:10], "miejscowosc": a.city[:60],
            "nip": a.nip[:20], "idKraju": a.country[:3]})

    def delivery_address_for(self, order: OrderDraft) -> None:
        """The order's delivery address on its contractor (HM.AD), made once, in a unit of work of its own."""
        if order.delivery is None:
            return
        with self.unit_of_work() as cur:
            if not cur.execute("SELECT id FROM HM.KH WHERE id = ?", order.contractor_id).fetchone():
                raise ErpPermanent(f"order {order.shop_number}: contractor id {order.contractor_id} is not in HM.KH")
            self.ensure_delivery_address(cur, order.contractor_id, order.delivery)

    def use_holds(self, holds: Any) -> None:
        """Over SQL an order is written in one transaction: nothing is ever left unanswered to hold."""

    def use_images(self, images: Any) -> None:
        """Over SQL images are kept in the company database (HM.ShopsyncImages, the install step's table)."""

    def product_codes(self, ids: Sequence[int]) -> dict[int, tuple[str, str, int]]:
        """Product id -> (code, unit, VAT rate)."""
        out: dict[int, tuple[str, str, int]] = {}
        with self.unit_of_work() as cur:
            for chunk in _chunks(sorted(set(ids)), 500):
                for r in cur.execute(f"SELECT id, kod, jm, vatsp FROM HM.TW WHERE id IN ({self._in(chunk)})", chunk):
                    out[int(r[0])] = (r[1], r[2] or "szt.", int(r[3] or 0))
        return out

    @staticmethod
    def check_order(order: OrderDraft) -> None:
        if not order.lines:
            raise ErpPermanent(f"order {order.shop_number}: has no lines")
        if not order.shop_number or len(order.shop_number) > 40:
            raise ErpPermanent(f"order number {order.shop_number!r}: must be 1..40 characters (kod_obcy)")
        for lp, line in enumerate(order.lines, start=1):
            if line.quantity <= 0:
                raise ErpPermanent(f"order {order.shop_number} line {lp}: quantity must be positive")

    def create_order(self, order: OrderDraft) -> tuple[int, bool]:
        """One ZMO (ZO + ZP lines + one RZ reservation per line) in one transaction, over SQL.

        Into the ERP's buffer unless erp.order_buffer is off (then numbered by us, which Symfonia's
        own counters do not know). Idempotent by shop number: returns (order id, created?).
        Nothing is written when any part fails.
        """
        self.check_order(order)
        now = _now()
        with self.unit_of_work() as cur:
            row = cur.execute("SELECT id FROM HM.ZO WHERE kod_obcy = ? ORDER BY anulowany, id",
                              order.shop_number).fetchone()
            if row:  # imported before (even if cancelled since): never a second order
                return int(row[0]), False
            if not cur.execute("SELECT id FROM HM.KH WHERE id = ?", order.contractor_id).fetchone():
                raise ErpNotFound(f"order {order.shop_number}: contractor id {order.contractor_id} is not in HM.KH")
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
                    raise ErpNotFound(f"order {order.shop_number} line {lp}: product id {line.product_id} "
                                      "is not in HM.TW")
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
                raise ErpNotFound(f"order id {order_id} is not in HM.ZO")
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

    def document_products(self, document_id: int) -> list[int]:
        """Products on the lines of a warehouse document (HM.MZ) or a sale document (HM.DP) with this id.

        The two tables number their rows apart; a hook names only the id, so both are read
        (a coincidence costs a needless refresh, never a wrong one)."""
        with self.unit_of_work() as cur:
            rows = cur.execute("SELECT idtw FROM HM.MZ WHERE super = ? UNION SELECT idtw FROM HM.DP WHERE super = ?",
                               document_id, document_id).fetchall()
        return sorted({int(r[0]) for r in rows})

    def document_state(self, document_id: int) -> str:
        """Whether a warehouse (HM.MG) or sale (HM.DK) document with this id is issued, still a draft in the
        buffer (bufor = 1), cancelled, or not there (yet: a hook from OnBeforeInsert can come first)."""
        with self.unit_of_work() as cur:
            rows = cur.execute("SELECT bufor, anulowany FROM HM.MG WHERE id = ? "
                               "UNION ALL SELECT bufor, anulowany FROM HM.DK WHERE id = ?",
                               document_id, document_id).fetchall()
        if not rows:
            return DOCUMENT_MISSING
        if any(not int(r[0] or 0) and not int(r[1] or 0) for r in rows):
            return DOCUMENT_ISSUED
        return DOCUMENT_CANCELLED if all(int(r[1] or 0) for r in rows) else DOCUMENT_DRAFT

    def orders_of_document(self, document_id: int) -> list[int]:
        """Customer orders a document realised or invoiced (HM.PO links, our reading)."""
        with self.unit_of_work() as cur:
            rows = cur.execute("SELECT id1 FROM HM.PO WHERE id2 = ? AND typ IN (?, ?)", document_id,
                               PO_ORDER_SALE, PO_ORDER_WAREHOUSE).fetchall()
        return sorted({int(r[0]) for r in rows})

    def cancel_order(self, order_id: int) -> bool:
        """Cancel a customer order that nothing has realised yet: marked cancelled, its reservations
        deleted (the ERP gives their quantity back to commercial stock). False when already cancelled."""
        with self.unit_of_work() as cur:
            row = cur.execute("SELECT anulowany FROM HM.ZO WHERE id = ?", order_id).fetchone()
            if row is None:
                raise ErpNotFound(f"customer order id {order_id} is not in HM.ZO")
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

    # -- price lists ---------------------------------------------------------
    def get_price_list(self, list_id: int) -> PriceList:
        """A price list with its lines and whom it applies to."""
        with self.unit_of_work() as cur:
            h = cur.execute("SELECT id, kod, kontrah, aktywny FROM HM.CK WHERE id = ?", list_id).fetchone()
            if h is None:
                raise ErpNotFound(f"price list id {list_id} is not in HM.CK")
            lines = cur.execute("SELECT idpoz, cena, waluta FROM HM.CP WHERE idck = ? ORDER BY id",
                                list_id).fetchall()
            who = cur.execute("SELECT idpd, typpd FROM HM.KP WHERE idck = ? ORDER BY id", list_id).fetchall()
        return PriceList(id=int(h[0]), code=h[1], individual=bool(h[2]), active=bool(h[3]),
                         prices={int(r[0]): (money(r[1]), r[2] or "PLN") for r in lines},
                         contractors=tuple(int(r[0]) for r in who if int(r[1]) == TYPPD_CONTRACTOR),
                         groups=tuple(int(r[0]) for r in who if int(r[1]) == TYPPD_GROUP))

    def prices_for_products(self, ids: Sequence[int]) -> dict[int, dict[str, Decimal]]:
        """Each product's prices on the active price lists other than the base one: {id: {list code: price}}."""
        out: dict[int, dict[str, Decimal]] = {int(i): {} for i in ids}
        with self.unit_of_work() as cur:
            for chunk in _chunks(list(out), 500):
                for pid, code, price in cur.execute(
                        "SELECT p.idpoz, k.kod, p.cena FROM HM.CP p JOIN HM.CK k ON k.id = p.idck "
                        f"WHERE k.kod <> ? AND k.aktywny = 1 AND p.idpoz IN ({self._in(chunk)}) ORDER BY p.id",
                        [self.base_price_list, *chunk]).fetchall():
                    out[int(pid)][code] = money(price)
        return out

    def price_list_codes_for_contractors(self, ids: Sequence[int]) -> dict[int, list[str]]:
        """Which active price lists apply to each contractor: its own lists first, then its group's."""
        out: dict[int, list[str]] = {int(i): [] for i in ids}
        if not out:
            return out
        with self.unit_of_work() as cur:
            for chunk in _chunks(list(out), 500):
                own = cur.execute(
                    "SELECT a.idpd, k.kod FROM HM.KP a JOIN HM.CK k ON k.id = a.idck "
                    f"WHERE a.typpd = ? AND k.aktywny = 1 AND a.idpd IN ({self._in(chunk)}) ORDER BY k.id",
                    [TYPPD_CONTRACTOR, *chunk]).fetchall()
                group = cur.execute(
                    "SELECT h.id, k.kod FROM HM.KH h JOIN HM.KP a ON a.idpd = h.grupacen AND a.typpd = ? "
                    f"JOIN HM.CK k ON k.id = a.idck WHERE k.aktywny = 1 AND h.id IN ({self._in(chunk)}) ORDER BY k.id",
                    [TYPPD_GROUP, *chunk]).fetchall()
                for kid, code in [*own, *group]:
                    if code not in out[int(kid)]:
                        out[int(kid)].append(code)
        return out

    def price_list_ids(self) -> list[int]:
        """Every price list except the base one."""
        with self.unit_of_work() as cur:
            return [int(r[0]) for r in cur.execute("SELECT id FROM HM.CK WHERE kod <> ? ORDER BY id",
                                                   self.base_price_list).fetchall()]

    # -- images (the integration's own table) --------------------------------
    def get_image(self, product_id: int) -> Image | None:
        with self.unit_of_work() as cur:
            r = cur.execute("SELECT idtw, filename, content_type, data, sha256 FROM HM.ShopsyncImages "
                            "WHERE idtw = ?", product_id).fetchone()
        if r is None:
            return None
        return Image(product_id=int(r[0]), filename=r[1], content_type=r[2], data=bytes(r[3]), sha256=r[4])

    def image_digests(self, product_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """Product id -> (sha256, content type) of its main image, for products that have one."""
        out: dict[int, tuple[str, str]] = {}
        with self.unit_of_work() as cur:
            for chunk in _chunks(list(product_ids), 500):
                for pid, digest, ctype in cur.execute(
                        f"SELECT idtw, sha256, content_type FROM HM.ShopsyncImages WHERE idtw IN ({self._in(chunk)})",
                        chunk).fetchall():
                    out[int(pid)] = (digest, ctype)
        return out

    def put_image(self, product_id: int, filename: str, content_type: str, data: bytes, *,
                  only_if_missing: bool = False) -> bool:
        """Store the product's main image; returns False when only_if_missing and one exists."""
        digest = hashlib.sha256(data).hexdigest()
        with self.unit_of_work() as cur:
            if not cur.execute("SELECT id FROM HM.TW WHERE id = ?", product_id).fetchone():
                raise ErpNotFound(f"product id {product_id} is not in HM.TW")
            exists = cur.execute("SELECT idtw FROM HM.ShopsyncImages WHERE idtw = ?", product_id).fetchone()
            if exists and only_if_missing:
                return False
            if exists:
                cur.execute("UPDATE HM.ShopsyncImages SET filename = ?, content_type = ?, data = ?, sha256 = ?, "
                            "modifiedDate = ? WHERE idtw = ?",
                            filename[:200], content_type[:100], data, digest, _now(), product_id)
            else:
                cur.execute("INSERT INTO HM.ShopsyncImages (idtw, filename, content_type, data, sha256, "
                            "modifiedDate) VALUES (?, ?, ?, ?, ?, ?)",
                            product_id, filename[:200], content_type[:100], data, digest, _now())
            return True

    def issue_invoice(self, order_id: int) -> list[str]:
        """Over SQL the sync never issues invoices (Symfonia numbers them; only its WebAPI can): a setting
        check refuses orders.invoice without erp.mode = "webapi"."""
        raise ErpConfigError("issuing invoices needs Symfonia WebAPI: set erp.mode = \"webapi\" or "
                             "orders.invoice = \"never\"")

    def invoice_printouts(self, order_id: int) -> list[InvoicePrintout]:
        """No printouts over SQL: Symfonia renders invoices; the order's notes name them instead."""
        return []

    def delete_image(self, product_id: int) -> bool:
        """Remove the product's main image; False when it had none."""
        with self.unit_of_work() as cur:
            return cur.execute("DELETE FROM HM.ShopsyncImages WHERE idtw = ?", product_id).rowcount > 0


def _like_prefix(text: str) -> str:
    """A LIKE pattern matching text followed by anything. LIKE's `%` and `[` in text become `_` (one
    character): at worst a description differing in that character also matches, never one fewer."""
    return text.replace("[", "_").replace("%", "_") + "%"


def _like_contains(text: str) -> str:
    """A LIKE pattern matching text anywhere (LIKE's `%` and `[` in it become `_`, one character)."""
    return "%" + text.replace("[", "_").replace("%", "_") + "%"


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


__all__ = ["ErpGateway", "ErpError", "Product", "Contractor", "ContractorDraft", "AddressDraft",
           "OrderDraft", "OrderLineDraft", "ProductDraft", "PriceList", "Image", "OrderRecord"]
