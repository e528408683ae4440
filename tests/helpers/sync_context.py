"""A SyncContext for testing one synchronizer alone."""

from __future__ import annotations

from shopsync.demo.erp import init_sqlite_demo
from shopsync.server.erp.sql.dialects import make_dialect
from shopsync.server.erp.sql import ErpGateway
from shopsync.server.queue.store import QueueStore
from shopsync.server.settings import Settings
from shopsync.server.sync.context import SyncContext

from tests.helpers.fakes import FakeShop


def sync_context(tmp_path, **sections):
    """A SyncContext over the demo ERP (SQLite ODBC), a real queue database and a shop in memory."""
    db = init_sqlite_demo(tmp_path / "erp.db", product_count=20)
    dialect = make_dialect("sqlite", database=db)
    erp = ErpGateway(dialect.connection_string(), dialect, warehouses=(1, 2))
    store = QueueStore.from_url(f"sqlite:///{tmp_path / 'queue.db'}")
    settings = Settings(base_dir=str(tmp_path)).replace(**sections)
    c = SyncContext.open(settings, store, erp, FakeShop())
    yield c
    erp.close()
    store.close()
