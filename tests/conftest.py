"""Shared fixtures: a real PostgreSQL started once per run, fresh queues per test."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shopsync.server.queue.store import Backoff, QueueStore  # noqa: E402

from tests.helpers.postgres import PostgresServer  # noqa: E402

_db_counter = itertools.count()


# The suite's own switches (CI's, the real WooCommerce's cache); every other SHOPSYNC_* variable is a setting.
SUITE_VARIABLES = {"SHOPSYNC_SQL_TRACE", "SHOPSYNC_REQUIRE_REAL_WOOCOMMERCE", "SHOPSYNC_WP_CACHE",
                   "SHOPSYNC_WOOCOMMERCE_TARBALL"}


# -- every statement the SQL gateway runs in the suite, checked as T-SQL --------------------------
def pytest_configure(config):
    """The controller (or a run without xdist) picks the trace folder; workers and the server processes
    they start inherit it (SHOPSYNC_SQL_TRACE)."""
    import os
    import tempfile

    # The suite sets up every service and setting it needs: the caller's own SHOPSYNC_* settings (e.g. an
    # SHOPSYNC_ERP_DATABASE left in the shell) must not reach the servers and tools it starts.
    for name in [n for n in os.environ if n.startswith("SHOPSYNC_") and n not in SUITE_VARIABLES]:
        del os.environ[name]
    if not hasattr(config, "workerinput") and "SHOPSYNC_SQL_TRACE" not in os.environ:
        os.environ["SHOPSYNC_SQL_TRACE"] = tempfile.mkdtemp(prefix="shopsync-sql-trace-")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that ran a server shows the end of that server's log (CI keeps no temp folders)."""
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    for value in getattr(item, "funcargs", {}).values():
        log = getattr(value, "log", None)
        if isinstance(log, Path) and log.name == "server.log" and log.is_file():
            lines = log.read_text("utf-8", errors="replace").splitlines()[-120:]
            rep.sections.append((f"server log (last {len(lines)} lines)", "\n".join(lines)))


def pytest_sessionfinish(session, exitstatus):
    """On the controller, after every worker: each traced statement must be T-SQL, or the run fails."""
    import os

    from tests.helpers.tsql import tsql_problems

    folder = os.environ.get("SHOPSYNC_SQL_TRACE")
    if hasattr(session.config, "workerinput") or not folder or not Path(folder).is_dir():
        return
    statements = sorted({line for f in Path(folder).glob("*.sql") for line in f.read_text("utf-8").splitlines()
                         if line.strip()})
    bad = [(s, p) for s in statements for p in [tsql_problems(s)] if p]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    say = reporter.write_line if reporter else print
    say(f"T-SQL: {len(statements)} distinct statements of the SQL gateway checked, {len(bad)} not T-SQL")
    for s, problems in bad:
        say(f"  not T-SQL ({'; '.join(problems)}): {s}")
    if bad and session.exitstatus == 0:
        session.exitstatus = 1


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()


def new_pg_url(postgres: PostgresServer) -> str:
    return postgres.create_database(f"t{next(_db_counter)}")


@pytest.fixture(params=["sqlite", "postgres"])
def queue_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    return new_pg_url(request.getfixturevalue("postgres"))


class FakeClock:
    """A clock the test moves: leases, back-off and ages without sleeping."""

    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(queue_url, clock):
    s = QueueStore.from_url(queue_url, backoff=Backoff(base=0.2, cap=0.5, max_attempts=3), clock=clock)
    yield s
    s.close()


# -- the demo ERP, through pyodbc, on SQLite and on PostgreSQL -------------------
from shopsync.demo.erp import ErpSimulator, init_odbc_demo, init_sqlite_demo  # noqa: E402
from shopsync.server.erp.sql.dialects import make_dialect  # noqa: E402
from shopsync.server.erp.sql import ErpGateway  # noqa: E402


def make_erp(kind: str, tmp_path: Path, request, product_count: int = 60):
    """(gateway, simulator, settings-overrides) for a fresh demo company."""
    if kind == "sqlite":
        db = init_sqlite_demo(tmp_path / "erp.db", product_count=product_count)
        dialect = make_dialect("sqlite", database=db)
        conn_str = dialect.connection_string()
        overrides = {"dialect": "sqlite", "database": str(db), "odbc": ""}
    else:
        pg = request.getfixturevalue("postgres")
        name = f"erp{next(_db_counter)}"
        pg.create_database(name)
        conn_str = pg.odbc(name)
        init_odbc_demo(conn_str, "postgresql", product_count=product_count)
        dialect = make_dialect("postgresql")
        overrides = {"dialect": "postgresql", "odbc": conn_str}
    gw = ErpGateway(conn_str, dialect, warehouses=(1, 2))
    sim = ErpSimulator(dialect.connect(conn_str), dialect)
    return gw, sim, overrides


@pytest.fixture(params=["sqlite", "postgres"])
def erp(request, tmp_path):
    gw, sim, _ = make_erp(request.param, tmp_path, request)
    yield gw, sim
    sim.close()
    gw.close()


# -- a real WooCommerce (Debian's WordPress + the vendored plugin), started once per session ----
@pytest.fixture(scope="session")
def wordpress_site(tmp_path_factory):
    import os

    from tests.helpers.wordpress import WordPressSite, missing_reason

    reason = missing_reason()
    if reason:
        if os.environ.get("SHOPSYNC_REQUIRE_REAL_WOOCOMMERCE") == "1":
            pytest.fail(reason + " (SHOPSYNC_REQUIRE_REAL_WOOCOMMERCE=1: CI must run these tests)")
        pytest.skip(reason)
    site = WordPressSite(tmp_path_factory.mktemp("wordpress"))
    yield site
    site.close()


@pytest.fixture
def real_woocommerce(wordpress_site, tmp_path):
    """A fresh real WooCommerce shop process (not started: Stack or the test starts it)."""
    from tests.helpers.wordpress import RealWooCommerceProcess

    shop = RealWooCommerceProcess(wordpress_site, tmp_path)
    yield shop
    shop.stop()


WOOCOMMERCE_KINDS = ["woocommerce", pytest.param("real_woocommerce", marks=pytest.mark.real_woocommerce)]
SHOP_KINDS = [*WOOCOMMERCE_KINDS, "oscar"]


# Orders through both ERP writers: SQL INSERTs (into the buffer) and Symfonia WebAPI (the local simulator).
# Each end-to-end scenario in both ERP modes (SQL, and Symfonia WebAPI through its simulator), against the local
# shop and a real WooCommerce.
ORDER_STACKS = [pytest.param(("woocommerce", "sql"), id="local-shop-sql"),
                pytest.param(("woocommerce", "webapi"), id="local-shop-webapi"),
                pytest.param(("real_woocommerce", "sql"), id="real-woocommerce-sql",
                             marks=pytest.mark.real_woocommerce),
                pytest.param(("real_woocommerce", "webapi"), id="real-woocommerce-webapi",
                             marks=pytest.mark.real_woocommerce)]


def make_stack(request, tmp_path, **kwargs):
    """A Stack over the shop kind in request.param (local shop, real WooCommerce or Oscar), or over a
    (shop kind, ERP writer) pair of ORDER_STACKS."""
    from tests.helpers.stack import Stack

    kind, writer = request.param if isinstance(request.param, tuple) else (request.param, "sql")
    shop = request.getfixturevalue("real_woocommerce") if kind == "real_woocommerce" else None
    return Stack(tmp_path, shop_kind=kind, shop_process=shop, erp_writer=writer, **kwargs)


@pytest.fixture
def local_stack(tmp_path):
    """The local shop only, webhooks registered: for what is about our webhook endpoint itself (a module may
    define its own local_stack for other needs)."""
    from tests.helpers.stack import Stack

    s = Stack(tmp_path, products=30).start_server()
    s.register_webhooks()
    yield s
    s.close()


# -- one synchronizer alone ------------------------------------------------------------------
@pytest.fixture
def ctx(tmp_path):
    """A SyncContext over the demo ERP (SQLite ODBC), a real queue database and a shop in memory."""
    from tests.helpers.sync_context import sync_context

    yield from sync_context(tmp_path, orders={"fixed_rates": {"EUR": 4.25}})

ERP_STACKS = ORDER_STACKS
