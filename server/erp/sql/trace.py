"""A trace of the statements the SQL gateway runs: SHOPSYNC_SQL_TRACE=FOLDER appends each distinct
statement to FOLDER/<pid>.sql (inserts in the form SQL Server runs them).

For a DBA reviewing what shopsync sends to the company database, and for the test suite, which
checks every traced statement as T-SQL (tests/helpers/tsql.py).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any


class StatementTrace:
    """Appends each distinct statement the gateway runs to a file of this process in SHOPSYNC_SQL_TRACE
    (a folder), for the T-SQL check of the test suite and for a DBA reviewing what shopsync sends."""

    def __init__(self, folder: str) -> None:
        self.path = Path(folder) / f"{os.getpid()}.sql"
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    @classmethod
    def from_env(cls) -> "StatementTrace | None":
        folder = os.environ.get("SHOPSYNC_SQL_TRACE")
        return cls(folder) if folder else None

    def record(self, sql: str) -> None:
        one_line = " ".join(sql.split())
        with self.lock:
            if one_line in self.seen:
                return
            self.seen.add(one_line)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(one_line + "\n")


class TracingCursor:
    """A pyodbc cursor that records every statement it runs (and is otherwise the cursor)."""

    def __init__(self, cursor: Any, trace: StatementTrace) -> None:
        self._cursor = cursor
        self._trace = trace
        self.paused = False

    def execute(self, sql: str, *params: Any) -> Any:
        if not self.paused:
            self._trace.record(sql)
        self._cursor.execute(sql, *params)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __iter__(self) -> Any:
        return iter(self._cursor)
