"""The connection to the company database: one unit of work per call, in one transaction, reopened
after a lost connection; statements parameterised, columns read by position (PostgreSQL folds names).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from typing import Any, Iterator, Sequence

import pyodbc

from ...settings import ErpSettings, Settings
from ..records import MarkerSource
from .dialects import Dialect, SqlServerDialect
from .trace import StatementTrace, TracingCursor

log = logging.getLogger(__name__)


class SqlBase:
    """The connection and the site's ERP settings; the entity parts (products.py, orders.py, ...) build on it."""

    # The database has no change feeds (its hooks and the catch-up carry changes).
    change_feeds = False
    # Products read at once by a catch-up (one unit of work, IN lists of 500).
    read_page_size = 500

    # What check_settings checks: over SQL the company database has no dictionary of series or warehouses that
    # our reading of the schema knows.
    settings_checked = ("the shipping and fee items exist; over SQL the series, department and warehouses are not "
                        "checked (orders that do not fit become dead letters naming what is wrong)")

    def check_settings(self, settings: Any) -> list[str]:
        """The settings an order needs that the company database can answer for: the shipping and fee items
        (orders.shipping_code / fee_code) exist as products. Series, department and warehouses are not checked
        over SQL (settings_checked says so)."""
        o = settings.orders
        wanted = {name: code for name, code in (("orders.shipping_code", o.shipping_code),
                                                 ("orders.fee_code", o.fee_code)) if code}
        have = self.find_products_by_codes(list(wanted.values())) if wanted else {}
        return [f"{name} = {code!r}: no item with this code in the company (make it a service item in Symfonia, "
                "or set the code of the one that exists)" for name, code in wanted.items() if code not in have]

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

    def use_holds(self, holds: Any) -> None:
        """Over SQL an order is written in one transaction: nothing is ever left unanswered to hold."""

    def use_images(self, images: Any) -> None:
        """Over SQL images are kept in the company database (HM.ShopsyncImages, the install step's table)."""
