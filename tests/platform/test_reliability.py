"""Faults a real site meets: the server SIGKILLed, the shop failing, the ERP locked; secrets kept out of logs."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections import Counter
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import pytest
from shopsync.server.erp.records import order_description

from shopsync.v1 import erp_events_pb2, erp_events_pb2_grpc
from tests.helpers.stack import TOKEN, WEBHOOK_SECRET, Stack, wait_until

KINDS = {"stock-changed": erp_events_pb2.ERP_EVENT_KIND_STOCK_CHANGED,
         "reservation-made": erp_events_pb2.ERP_EVENT_KIND_RESERVATION_MADE,
         "item-saved": erp_events_pb2.ERP_EVENT_KIND_ITEM_SAVED,
         "note-edited": erp_events_pb2.ERP_EVENT_KIND_NOTE_EDITED}


class HookClient:
    """Sends events as the hook does; what the server did not take is kept and sent again (the spool)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.pending: list[tuple[str, str, int]] = []
        self.n = 0

    def send(self, event: str, erp_id: int) -> None:
        self.n += 1
        self.pending.append((f"ev-{self.n}", event, erp_id))
        self.flush()

    def flush(self) -> bool:
        try:
            with grpc.insecure_channel(self.stack.address) as ch:
                stub = erp_events_pb2_grpc.ErpEventServiceStub(ch)
                while self.pending:
                    rid, event, erp_id = self.pending[0]
                    stub.RecordErpEvent(erp_events_pb2.RecordErpEventRequest(request_id=rid, kind=KINDS[event],
                                                                             erp_id=erp_id),
                                        timeout=5, metadata=self.stack.metadata)
                    self.pending.pop(0)
            return True
        except grpc.RpcError:
            return False


def assert_shop_equals_erp(stack: Stack, pids: list[int]) -> None:
    products = stack.erp.get_products(pids)
    stock = stack.erp.commercial_stock(pids)
    shop = {p.sku: p for page in stack.woo.iter_products() for p in page.items}
    for pid in pids:
        p = products[pid]
        s = shop.get(p.code)
        assert s is not None, f"{p.code} missing in the shop"
        assert (s.name, s.description, s.published) == (p.name, p.note, p.marked), p.code
        assert s.stock == max(Decimal(0), stock[pid]).to_integral_value(rounding="ROUND_FLOOR"), p.code


@pytest.mark.slow
@pytest.mark.parametrize("writer", ["sql", "webapi"])
def test_server_sigkilled_five_times_nothing_lost_nothing_doubled(tmp_path, writer):
    """Killed mid-import too: with either ERP writer every order is in the ERP exactly once."""
    stack = Stack(tmp_path, products=150, orders={"poll_interval_seconds": 1}, erp_writer=writer,
                  queue={"lease_seconds": 3}).start_server()
    stack.register_webhooks()
    try:
        rng = random.Random(5)
        marked = [pid for pid, p in stack.erp.get_products(range(1, 151)).items() if p.marked][:60]
        hooks = HookClient(stack)
        for pid in marked:
            hooks.send("item-saved", pid)
        codes = {pid: stack.erp.get_product(pid).code for pid in marked}
        wait_until(lambda: all(stack.shop_product(codes[pid]) for pid in marked[:5]), timeout=60,
                   message="first products in the shop")
        api = stack.shop_api()
        orders: list[str] = []
        stop = threading.Event()

        def killer() -> None:
            for _ in range(5):
                time.sleep(rng.uniform(1.0, 2.5))
                stack.stop_server(kill=True)
                time.sleep(rng.uniform(0.2, 0.8))
                stack.start_server()
            stop.set()

        t = threading.Thread(target=killer)
        t.start()
        events = 0
        while not stop.is_set() or events < 5000:
            pid = rng.choice(marked)
            r = rng.random()
            if r < 0.04 and len(orders) < 200:
                resp = api.post("/orders", json={"status": "processing", "billing": {
                    "first_name": "Jan", "last_name": f"Klient{len(orders) % 7}", "email": f"k{len(orders) % 7}@x.pl"},
                    "line_items": [{"sku": codes[pid], "quantity": 1}]})
                if resp.status_code == 201:
                    orders.append(resp.json()["number"])
                continue
            if r < 0.6:
                event = stack.sim.approve_pz(pid, rng.randint(1, 4), warehouse=rng.choice([1, 2]))
            elif r < 0.8:
                e, p, _ = stack.sim.add_reservation(pid, 1, warehouse=1)
                event = (e, p)
            else:
                event = stack.sim.save_item(pid, name=f"Produkt {pid} v{events}")
            hooks.send(*event)
            events += 1
        t.join()
        while len(orders) < 200:
            pid = rng.choice(marked)
            orders.append(api.post("/orders", json={"status": "processing", "billing": {"email": "late@x.pl"},
                                                    "line_items": [{"sku": codes[pid], "quantity": 1}]}
                                   ).json()["number"])
        api.close()
        wait_until(hooks.flush, timeout=30, message="spooled events sent")
        wait_until(lambda: all(stack.erp.find_order_by_shop_number(n) for n in orders), timeout=180,
                   message="every order in the ERP")
        wait_until(stack.queues_empty, timeout=180, message="queues empty")
        with stack.erp.unit_of_work() as cur:  # both writers name the shop order in the description's first line
            described = Counter(str(r[0]).split("\n")[0] for r in cur.execute("SELECT opis FROM HM.ZO").fetchall())
        assert described == Counter(order_description(n) for n in orders), "each order exactly once"
        assert_shop_equals_erp(stack, marked)
        assert all(q.dead_letters == 0 for q in stack.queue_stats().values())
        assert events >= 5000 and len(orders) == 200
    finally:
        stack.close()


class Watcher(BaseHTTPRequestHandler):
    """Receives the shop's product.updated webhooks: the order in which the shop took each state."""

    seen: dict[str, list[int]] = {}
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.lock:
            self.seen.setdefault(body.get("sku"), []).append(body.get("stock_quantity") or 0)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.slow
def test_shop_faults_same_end_state_fifo_per_product(tmp_path):
    stack = Stack(tmp_path, products=60, shop={"timeout_seconds": 2}).start_server()
    watcher = ThreadingHTTPServer(("127.0.0.1", 0), Watcher)
    Watcher.seen = {}
    threading.Thread(target=watcher.serve_forever, daemon=True).start()
    try:
        marked = [pid for pid, p in stack.erp.get_products(range(1, 61)).items() if p.marked][:20]
        hooks = HookClient(stack)
        for pid in marked:
            hooks.send("item-saved", pid)
        wait_until(stack.queues_empty, timeout=60, message="initial sync")
        stack.shop.admin("POST", "webhooks", {"topic": "product.updated", "secret": "x",
                                              "delivery_url": f"http://127.0.0.1:{watcher.server_port}/"})
        rng = random.Random(9)
        faults = [dict(status=503, count=4), dict(status=429, count=3, retry_after=1), dict(delay=3, delay_count=1),
                  dict(drop=2), dict(status=500, count=2)]
        for round_no in range(10):
            stack.shop.faults(**faults[round_no % len(faults)])
            for _ in range(15):  # receipts only: every product's stock only grows
                pid = rng.choice(marked)
                hooks.send(*stack.sim.approve_pz(pid, rng.randint(1, 3)))
            time.sleep(0.3)
        stack.shop.clear_faults()
        wait_until(stack.queues_empty, timeout=120, message="queues empty")
        assert_shop_equals_erp(stack, marked)
        for sku, values in Watcher.seen.items():
            assert values == sorted(values), f"{sku}: an older stock overwrote a newer one: {values}"
        assert all(q.dead_letters == 0 for q in stack.queue_stats().values())
    finally:
        watcher.shutdown()
        stack.close()


@pytest.mark.slow
def test_erp_locked_during_order_import_orders_wait_then_import_once(tmp_path):
    stack = Stack(tmp_path, products=20, erp={"lock_timeout_seconds": 1}).start_server()
    stack.register_webhooks()
    try:
        code = stack.erp.get_product(1).code
        stack.act(stack.sim.save_item(1))
        wait_until(lambda: stack.shop_product(code), message="product in the shop")
        locker = sqlite3.connect(stack.erp_db, timeout=1, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")  # another program holds the company database
        api = stack.shop_api()
        numbers = [api.post("/orders", json={"status": "processing", "billing": {"email": f"e{i}@x.pl"},
                                             "line_items": [{"sku": code, "quantity": 1}]}).json()["number"]
                   for i in range(5)]
        api.close()
        wait_until(lambda: stack.log.read_text().count("will be retried: ") >= 2, timeout=30,
                   message="orders tried while the ERP is locked")
        stats = stack.queue_stats()["QUEUE_NAME_INBOX"]
        assert stats.pending + stats.in_flight >= 1 and stats.dead_letters == 0, "orders wait in the inbox"
        locker.execute("ROLLBACK")
        locker.close()
        wait_until(lambda: all(stack.erp.find_order_by_shop_number(n) for n in numbers), timeout=60,
                   message="imported once the ERP is back")
        wait_until(stack.queues_empty, timeout=60, message="drained")
        assert stack.erp.count_orders()[0] == 5
    finally:
        stack.close()


@pytest.mark.slow
def test_no_secret_in_debug_logs_of_a_full_flow(tmp_path):
    stack = Stack(tmp_path, products=20, log={"level": "DEBUG"}).start_server()
    stack.register_webhooks()
    try:
        code = stack.erp.get_product(1).code
        stack.act(stack.sim.save_item(1))
        wait_until(lambda: stack.shop_product(code), message="product in the shop")
        api = stack.shop_api()
        number = api.post("/orders", json={"status": "processing", "billing": {"email": "s@x.pl"},
                                           "line_items": [{"sku": code, "quantity": 1}]}).json()["number"]
        api.close()
        wait_until(lambda: stack.erp.find_order_by_shop_number(number), message="order imported")
        stack.shop.stop()  # errors are logged too
        stack.act(stack.sim.approve_pz(1, 3))
        wait_until(lambda: "shop unavailable" in stack.log.read_text(), message="the outage logged")
        wrong = stack.hook("stock-changed", 1)
        assert wrong.returncode == 0
    finally:
        stack.close()
    log = stack.log.read_text()
    assert "DEBUG" in log and "shop unavailable" in log
    for secret in (TOKEN, WEBHOOK_SECRET, stack.shop.key, stack.shop.secret):
        assert secret not in log, "a secret reached the log"
