"""The console's pages and /metrics at a large site's size: 100,000 products, 10,000 dead letters and 50,000
bound orders in the queue database (SQLite and PostgreSQL), the demo ERP with 100,000 products, the local shop.

Each page is asked 20 times through the application (Flask's test client: no network in the figure); the median
and p95 are reported. Aims: every page under 300 ms, /metrics under 50 ms.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path
from typing import Any, Callable

from decimal import Decimal

from shopsync.demo.erp import init_sqlite_demo
from shopsync.server.erp.records import OrderDraft, OrderLineDraft
from shopsync.server.queue.bindings import Binding, Kind
from shopsync.server.queue.models import DEAD
from shopsync.server.runtime import Runtime
from shopsync.server.settings import Settings
from shopsync.server.web import create_app
from shopsync.server.web.console import hash_password
from tests.helpers.shop import DemoShopProcess

PRODUCTS, DEAD_LETTERS, ORDERS, RUNS = 100_000, 10_000, 50_000, 20


def seed_queue(rt: Runtime, products: int, dead: int, orders: int) -> int:
    """The queue database at the size asked; one real ERP order among the bound ones (its id returned)."""
    now = time.time()
    M = rt.store.t.message
    rows = [{"queue": "inbox", "kind": "order", "entity_key": f"order:{900000 + i}", "status": DEAD, "attempts": 12,
             "payload": json.dumps({"order_id": 900000 + i, "source": "poll"}), "created_at": now - 3600,
             "available_at": now, "last_error": f"order {900000 + i}: SKU 'X-{i}' is not in the ERP", "dead_at": now}
            for i in range(dead)]
    with rt.store.transaction():
        for start in range(0, len(rows), 500):
            M.insert_many(rows[start:start + 500]).execute()
    rt.ctx.bindings.save(Binding(Kind.PRODUCT, pid, pid, {"sku": f"P{pid}", "stock": "1"}, 1)
                         for pid in range(1, products + 1))
    rt.ctx.bindings.save(Binding(Kind.ORDER, zo, 500000 + zo, {"number": str(500000 + zo)})
                         for zo in range(1, orders + 1))
    rt.ctx.bindings.save(Binding(Kind.ORDER_PROGRESS, zo, 500000 + zo, {"info": {"number": f"ZMO {zo}/sklep/2026",
                                                                                 "state": "new", "invoices": []}})
                         for zo in range(1, orders + 1))
    real, _ = rt.ctx.erp.create_order(OrderDraft(shop_number="B-1", contractor_id=1, currency="PLN", rate=Decimal(1),
                                                 delivery=None,
                                                 lines=[OrderLineDraft(1, Decimal(2), Decimal("9.99"))]))
    rt.ctx.bindings.save([Binding(Kind.ORDER, real, 999_999, {"number": "B-1"})])
    return real


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def bench_console(tmp: Path, record: Callable[..., None], queue_url: str, label: str, erp_db: Path,
                  products: int = PRODUCTS, dead: int = DEAD_LETTERS, orders: int = ORDERS, runs: int = RUNS) -> None:
    tmp.mkdir(parents=True, exist_ok=True)
    shop = DemoShopProcess(tmp, seed=False).start()
    settings = Settings(base_dir=str(tmp)).replace(
        queue={"database": queue_url}, erp={"dialect": "sqlite", "database": str(erp_db)},
        shop=shop.settings(), sync={"workers": False}, webhooks={"enabled": False},
        console={"password_hash": hash_password("bench-password-1")})
    rt = Runtime(settings)
    rt.open()
    try:
        real_order = seed_queue(rt, products, dead, orders)
        client = create_app(rt).test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(True)).group(1)
        assert client.post("/login", data={"csrf_token": token, "user": "admin",
                                           "password": "bench-password-1"}).status_code == 302
        pages = ["/", "/dead-letters", f"/dead-letters?after={dead // 2}", "/customers", "/products?q=WIE-0999",
                 f"/products/{products // 2}", "/orders", f"/orders?before={orders // 2}", f"/orders/{real_order}",
                 "/reconciliation"]
        for page in pages:
            status = client.get(page).status_code
            assert status == 200, (page, status)
            median, p95 = timed(lambda p=page: client.get(p), runs)
            record(f"console {page} ({label}: {products:,} products, {dead:,} dead letters, {orders:,} orders), "
                   "p95", p95, "ms", aim="< 300 ms", met=p95 < 300)
        median, p95 = timed(lambda: client.get("/metrics"), runs)
        record(f"console /metrics ({label}), p95", p95, "ms", aim="< 50 ms", met=p95 < 50)
    finally:
        rt.close()
        shop.stop()


def run(tmp: Path, record: Callable[..., None], quick: bool) -> None:
    from tests.helpers.postgres import PostgresServer

    size = (2_000, 500, 1_000) if quick else (PRODUCTS, DEAD_LETTERS, ORDERS)
    erp_db = init_sqlite_demo(tmp / "erp.db", product_count=size[0])
    bench_console(tmp / "sqlite", record, f"sqlite:///{tmp / 'queue.db'}", "SQLite queue", erp_db, *size,
                  runs=5 if quick else RUNS)
    pg = PostgresServer().start()
    try:
        url = pg.create_database("console_bench")
        bench_console(tmp / "postgres", record, url, "PostgreSQL queue", erp_db, *size, runs=5 if quick else RUNS)
    finally:
        pg.stop()
