"""What differs between SQL Server, PostgreSQL and SQLite, and nothing else.

Getting a new id, setting a lock timeout, attaching the company database (SQLite)
and sorting driver errors into retryable and permanent ones.

ODBC connection strings (erp.odbc), for reference:
- SQL Server, Microsoft ODBC Driver 18:
  `Driver={ODBC Driver 18 for SQL Server};Server=tcp:erp-host,1433;Database=CDN_Firma;
   Uid=shopsync;Pwd=...;Encrypt=yes;TrustServerCertificate=yes`
- SQL Server, FreeTDS (tdsodbc):
  `Driver={FreeTDS};Server=erp-host;Port=1433;Database=CDN_Firma;Uid=shopsync;Pwd=...;
   TDS_Version=7.4;ClientCharset=UTF-8`
- PostgreSQL (psqlODBC): `Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=5432;
   Database=firma;Uid=shopsync;Pwd=...`
- SQLite (SQLite3 ODBC driver): built from erp.database; the company file is
  attached as HM and its companion `*.sscommon.db` as SSCommon.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyodbc

from ..errors import ErpConfigError, ErpError, ErpPermanent, ErpRetryable

# SQLSTATEs (ODBC, SQL Server, PostgreSQL): the connection is gone; try again; we are not let in.
_CONNECTION_STATES = ("08", "HYT01", "57P01", "57P02", "57P03")  # PostgreSQL 57P0x: the server ended it
_RETRY_STATES = ("40001", "40P01", "55P03", "HYT00", "57P01", "57P03")
_CONFIG_STATES = ("28", "42501")  # invalid authorization; insufficient privilege (PostgreSQL)
# SQL Server's native error numbers (documented): 1222 lock request time out, 1205 deadlock victim,
# -2 query timeout, 233/10054 connection lost; 18456 login failed, 229/230/262/297 permission denied.
_SQLSERVER_RETRY = {1222, 1205, -2}
_SQLSERVER_CONNECTION = {233, 10053, 10054, 10060, 53, 40613}
_SQLSERVER_CONFIG = {18456, 229, 230, 262, 297, 916, 4060}
_NATIVE = re.compile(r"\((-?\d+)\) \(SQL")  # "...exceeded. (1222) (SQLExecDirectW)" as pyodbc reports it
# Only where a driver gives no state (the SQLite ODBC driver says HY000 for everything): its words.
_RETRY_WORDS = ("database is locked", "unable to open database")
_CONNECTION_WORDS = ("closed", "connect")


def sqlite_companion(path: Path) -> Path:
    """The SSCommon file that sits next to a SQLite company database."""
    return path.with_name(path.stem + ".sscommon.db")


class Dialect:
    name = "base"

    def __init__(self, lock_timeout_seconds: int = 5, query_timeout_seconds: int = 60) -> None:
        self.lock_timeout_seconds = lock_timeout_seconds
        self.query_timeout_seconds = query_timeout_seconds

    def connect(self, conn_str: str) -> pyodbc.Connection:
        try:
            conn = pyodbc.connect(conn_str, autocommit=False, timeout=self.lock_timeout_seconds)
        except pyodbc.Error as exc:
            raise self.translate(exc, connecting=True) from exc
        try:
            conn.timeout = self.query_timeout_seconds  # no statement waits forever...
        except pyodbc.Error:
            pass  # ...where the driver supports it (psqlODBC does not; lock_timeout covers waits there)
        try:
            self.on_connect(conn)
        except pyodbc.Error as exc:
            conn.close()
            raise self.translate(exc, connecting=True) from exc
        return conn

    def on_connect(self, conn: pyodbc.Connection) -> None:
        """Per-connection set-up (lock timeout, attached databases)."""

    def insert(self, cur: pyodbc.Cursor, table: str, values: dict[str, Any]) -> int:
        """INSERT one row and return its new id."""
        raise NotImplementedError

    # Transactions: the driver's own (autocommit off) except where a dialect knows better.
    def begin(self, conn: pyodbc.Connection) -> None:
        """Start a unit of work (the driver starts one implicitly)."""

    def commit(self, conn: pyodbc.Connection) -> None:
        conn.commit()

    def rollback(self, conn: pyodbc.Connection) -> None:
        conn.rollback()

    @staticmethod
    def _columns(values: dict[str, Any]) -> tuple[str, str, list[Any]]:
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        return cols, marks, list(values.values())

    def native_errors(self, text: str) -> set[int]:
        """The database's own error numbers in a driver message (only SQL Server's are read)."""
        return set()

    def translate(self, exc: BaseException, *, connecting: bool = False) -> ErpError:
        """The one translation of a driver error into the ERP error kinds (SQLSTATE and native error
        numbers first, a driver's words only where it gives nothing else). A retryable error says
        whether the connection is gone (`connection_lost`), so the gateway drops it."""
        state = exc.args[0] if exc.args and isinstance(exc.args[0], str) else ""
        text = str(exc.args[1] if len(exc.args) > 1 else exc)
        native = self.native_errors(text)
        low = text.lower()
        brief = text.split("\n")[0][:500]
        if state.startswith(_CONFIG_STATES) or native & _SQLSERVER_CONFIG:
            return ErpConfigError(f"the ERP database refused our login or a right ({state}): {brief}; check "
                                  "erp.odbc (user and password) and the rights in docs/symfonia.md")
        lost = (state.startswith(_CONNECTION_STATES) or bool(native & _SQLSERVER_CONNECTION)
                or (not native and state in ("", "HY000") and any(w in low for w in _CONNECTION_WORDS)))
        if (connecting or lost or state in _RETRY_STATES or native & _SQLSERVER_RETRY
                or isinstance(exc, pyodbc.OperationalError)
                or (not native and state in ("", "HY000") and any(w in low for w in _RETRY_WORDS))):
            error = ErpRetryable(f"ERP database busy or unreachable ({state or 'no state'}): {brief}")
            error.connection_lost = lost or connecting  # type: ignore[attr-defined]
            return error
        return ErpPermanent.of("erp.refused", state=state or "no state", text=brief)


class SqliteDialect(Dialect):
    name = "sqlite"

    def __init__(self, lock_timeout_seconds: int = 5, database: Path | None = None) -> None:
        super().__init__(lock_timeout_seconds)
        self.database = database

    def connection_string(self) -> str:
        # The main database is a scratch one; the company lives in the attached files.
        return f"Driver=SQLite3;Database=:memory:;Timeout={self.lock_timeout_seconds * 1000};"

    def on_connect(self, conn: pyodbc.Connection) -> None:
        if self.database is None:
            return
        if not self.database.exists():
            raise ErpRetryable(f"ERP database file {self.database} does not exist "
                               "(create the demo with `shopsync erp init-demo`)")
        conn.autocommit = True  # transactions are begun explicitly (see begin)
        conn.execute("ATTACH DATABASE ? AS HM", str(self.database))
        conn.execute("ATTACH DATABASE ? AS SSCommon", str(sqlite_companion(self.database)))

    # The driver begins DEFERRED transactions: one that reads, then writes, fails at
    # once with "database is locked" if another process wrote in between. IMMEDIATE
    # takes the write lock up front and waits (busy timeout) instead.
    def begin(self, conn: pyodbc.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")

    def commit(self, conn: pyodbc.Connection) -> None:
        conn.execute("COMMIT")

    def rollback(self, conn: pyodbc.Connection) -> None:
        try:
            conn.execute("ROLLBACK")
        except pyodbc.Error:
            pass  # nothing was begun, or SQLite already rolled back

    def insert(self, cur: pyodbc.Cursor, table: str, values: dict[str, Any]) -> int:
        cols, marks, params = self._columns(values)
        cur.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", params)
        return int(cur.execute("SELECT last_insert_rowid()").fetchone()[0])


class PostgresDialect(Dialect):
    name = "postgresql"

    def on_connect(self, conn: pyodbc.Connection) -> None:
        conn.setdecoding(pyodbc.SQL_CHAR, encoding="utf-8")
        conn.setdecoding(pyodbc.SQL_WCHAR, encoding="utf-8")
        conn.setencoding(encoding="utf-8")
        conn.execute(f"SET lock_timeout = '{int(self.lock_timeout_seconds)}s'")
        conn.commit()

    def insert(self, cur: pyodbc.Cursor, table: str, values: dict[str, Any]) -> int:
        cols, marks, params = self._columns(values)
        return int(cur.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks}) RETURNING id",
                               params).fetchone()[0])


class SqlServerDialect(Dialect):
    name = "sqlserver"

    def native_errors(self, text: str) -> set[int]:
        return {int(n) for n in _NATIVE.findall(text)}

    def on_connect(self, conn: pyodbc.Connection) -> None:
        conn.execute(f"SET LOCK_TIMEOUT {int(self.lock_timeout_seconds * 1000)}")
        conn.commit()

    @staticmethod
    def insert_sql(table: str, columns: list[str]) -> str:
        """One batch that inserts a row and answers its new id. OUTPUT INTO a table variable, because a
        bare OUTPUT clause is refused on a table with triggers (Symfonia's tables have them); NOCOUNT so
        the id is the batch's first result."""
        return (f"SET NOCOUNT ON; DECLARE @new TABLE (id int); INSERT INTO {table} ({', '.join(columns)}) "
                f"OUTPUT INSERTED.id INTO @new VALUES ({', '.join('?' for _ in columns)}); SELECT id FROM @new")

    def insert(self, cur: pyodbc.Cursor, table: str, values: dict[str, Any]) -> int:
        return int(cur.execute(self.insert_sql(table, list(values)), list(values.values())).fetchone()[0])


def make_dialect(name: str, *, lock_timeout_seconds: int = 5, database: Path | None = None) -> Dialect:
    if name == "sqlite":
        return SqliteDialect(lock_timeout_seconds, database)
    if name == "postgresql":
        return PostgresDialect(lock_timeout_seconds)
    if name == "sqlserver":
        return SqlServerDialect(lock_timeout_seconds)
    raise ValueError(f"erp.dialect: unknown dialect {name!r}")
