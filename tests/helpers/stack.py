"""The whole product, for end-to-end tests: demo ERP, local shop and `shopsync serve`, all real.

ERP: the demo company on the SQLite3 ODBC driver (reached through pyodbc);
shop: the local WooCommerce-compatible shop process over HTTP on loopback;
server: `shopsync serve` as a process, reached over a real gRPC channel;
hooks: `erp-hook` processes.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import grpc
import httpx
from shopsync.demo.erp import ErpSimulator, init_sqlite_demo
from shopsync.server.erp.sql.dialects import make_dialect
from shopsync.server.erp.sql import ErpGateway

from tests.helpers.servers import bin_path, env_with, free_port, wait_port
from tests.helpers.shop import DemoShopProcess

WEBHOOK_SECRET = "whsec-test-0123456789"
TOKEN = "test-token-abcdef"
HOOK_TOKEN = "test-hook-token-123456"  # erp-hook's (auth.hook_token): it may only record events and images


def wait_until(condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.1,
               message: str = "condition") -> Any:
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = condition()
        except Exception as exc:  # noqa: BLE001 - keep polling until the deadline
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message} (last: {last!r})")


def wait_for_equal(read: Callable[[], Any], expected: Any, timeout: float = 20.0, interval: float = 0.1,
                   message: str = "value") -> Any:
    """Poll ``read()`` until it equals ``expected``; on timeout the last value read is in the message."""
    seen: list[Any] = [None]

    def matches() -> bool:
        seen[0] = read()
        return seen[0] == expected

    try:
        return wait_until(matches, timeout=timeout, interval=interval, message=message)
    except AssertionError:
        raise AssertionError(f"timed out waiting for {message}: expected {expected!r}, last read {seen[0]!r}") from None


class Stack:
    def __init__(self, tmp: Path, *, products: int = 60, shop_seed: bool = False, shop_kind: str = "woocommerce",
                 shop_process: Any = None, uploads: bool = False, erp_writer: str = "sql", ksef_delay: float = 1.0,
                 **settings: dict[str, Any]) -> None:
        self.tmp = tmp
        self.erp_db = init_sqlite_demo(tmp / "erp.db", product_count=products)
        self.erp_writer = erp_writer
        self.webapi = None
        if erp_writer == "webapi":  # Symfonia WebAPI (the local simulator over the same company)
            from tests.helpers.webapi import WebApiSimProcess

            # A server killed in a test leaves its session open, holding a seat until it expires (as on a real
            # WebAPI): room for the kills of the reliability tests; the seat limit has its own test.
            self.webapi = WebApiSimProcess(tmp, self.erp_db, seats=50, ksef_delay=ksef_delay).start()
        dialect = make_dialect("sqlite", database=self.erp_db)
        self.erp = ErpGateway(dialect.connection_string(), dialect, warehouses=(1, 2))
        self.shop_kind = shop_kind
        if shop_process is not None:  # a shop process made by the caller (e.g. a real WooCommerce)
            self.shop = shop_process.start()
        elif shop_kind == "oscar":
            from tests.helpers.oscar import OscarShopProcess, template_db

            self.shop = OscarShopProcess(tmp, template_db(Path(tempfile.gettempdir()) / "shopsync-oscar")).start()
        else:
            self.shop = DemoShopProcess(tmp, seed=shop_seed, uploads=uploads).start()
        self.woo = self.shop.adapter()  # the shop's own client, for assertions (any kind of shop)
        self.grpc_port = free_port()
        self.http_port = free_port()
        self.console_port = free_port()
        self.address = f"127.0.0.1:{self.grpc_port}"
        self.config = tmp / "shopsync.toml"
        self.sections: dict[str, dict[str, Any]] = {
            "grpc": {"address": self.address},
            "auth": {"token": TOKEN, "hook_token": HOOK_TOKEN},
            "queue": {"database": f"sqlite:///{tmp / 'queue.db'}", "backoff_base_seconds": 0.2,
                      "backoff_max_seconds": 1.0, "max_attempts": 50, "lease_seconds": 30},
            "erp": {"dialect": "sqlite", "database": str(self.erp_db), "warehouses": [1, 2],
                    **(self.webapi.settings() if self.webapi else {})},
            "shop": {**self.shop.settings(), "timeout_seconds": 5 if shop_kind == "woocommerce" else 60},
            "webhooks": {"enabled": True, "address": f"127.0.0.1:{self.http_port}", "secret": WEBHOOK_SECRET},
            "orders": {"poll_interval_seconds": 0, "fixed_rates": {"EUR": 4.25}, "shipping_code": "TRANSPORT",
                       "fee_code": "OPLATA", "ksef_check_seconds": 0.5},
            "sync": {"catch_up_interval_seconds": 0, "customer_pass_interval_seconds": 0,
                     "reconcile_interval_seconds": 0},
            "hooks": {"spool": str(tmp / "spool.jsonl"), "timeout_seconds": 2},
            "console": {"address": f"127.0.0.1:{self.console_port}"},
            "log": {"level": "DEBUG"},
        }
        if shop_kind == "oscar":  # Oscar has no webhooks: orders are polled; new orders are "new"
            self.sections["orders"].update({"poll_interval_seconds": 1, "statuses": ["new"]})
        if shop_kind == "real_woocommerce":  # its webhooks arrive 3-80 s late: orders and customers are polled
            self.sections["orders"].update({"poll_interval_seconds": 1})
            self.sections["sync"].update({"customer_pass_interval_seconds": 1})
        for name, values in settings.items():
            self.sections.setdefault(name, {}).update(values)
        # A Symfonia user in the demo company, flagging products as the site agreed (erp.marker).
        marker = {"marker": self.sections["erp"]["marker"]} if "marker" in self.sections["erp"] else {}
        self.sim = ErpSimulator(dialect.connect(dialect.connection_string()), dialect, **marker)
        self.write_config()
        self.server: subprocess.Popen[bytes] | None = None
        self.log = tmp / "server.log"

    def write_config(self) -> None:
        lines = []
        for name, values in self.sections.items():
            lines.append(f"[{name}]")
            for k, v in values.items():
                if isinstance(v, dict):
                    lines.append(f"{k} = {{ " + ", ".join(f"{kk} = {json.dumps(vv)}" for kk, vv in v.items()) + " }")
                else:
                    lines.append(f"{k} = {json.dumps(v)}")
        self.config.write_text("\n".join(lines) + "\n")

    # -- the server process ----------------------------------------------------
    def start_server(self) -> "Stack":
        """Start the server and wait until it listens. A port chosen free may be taken by another test's
        process before the server binds it (the server then exits saying it cannot listen there, while the
        port answers for the other process): new ports are chosen and the server started again."""
        for attempt in range(3):
            seen = self.log.stat().st_size if self.log.exists() else 0
            with open(self.log, "ab") as log:
                self.server = subprocess.Popen([bin_path("shopsync"), "--config", str(self.config), "serve"],
                                               cwd=self.tmp, env=env_with(), stdout=log, stderr=subprocess.STDOUT)
            wait_port("127.0.0.1", self.grpc_port, timeout=30)
            deadline = time.time() + 30
            while time.time() < deadline:
                new = self.log.read_bytes()[seen:].decode("utf-8", "replace")
                if "gRPC listening on" in new:
                    return self
                if self.server.poll() is not None:
                    break
                time.sleep(0.05)
            if self.server.poll() is None or "cannot listen there" not in new or attempt == 2:
                return self  # as before: the test sees what the server does
            self.server = None
            self.grpc_port, self.http_port, self.console_port = free_port(), free_port(), free_port()
            self.address = f"127.0.0.1:{self.grpc_port}"
            self.sections["grpc"]["address"] = self.address
            self.sections["webhooks"]["address"] = f"127.0.0.1:{self.http_port}"
            self.sections["console"]["address"] = f"127.0.0.1:{self.console_port}"
            self.write_config()
        return self

    def stop_server(self, kill: bool = False) -> None:
        if self.server is None:
            return
        if kill:
            self.server.kill()
        else:
            self.server.terminate()
        try:
            self.server.wait(30)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()
        self.server = None

    def close(self) -> None:
        self.stop_server()
        if self.webapi is not None:
            self.webapi.stop()
        self.shop.stop()
        self.woo.close()
        self.sim.close()
        self.erp.close()

    # -- acting ----------------------------------------------------------------
    def hook(self, event: str, erp_id: int, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run([bin_path("erp-hook"), event, str(erp_id), "--config", str(self.config)],
                              capture_output=True, text=True, timeout=timeout, env=env_with())

    def act(self, result: tuple[Any, ...]) -> subprocess.CompletedProcess[str]:
        """Run the hook a simulator action asks for (as Symfonia's automation would)."""
        done = self.hook(result[0], result[1])
        assert done.returncode == 0, done.stderr
        return done

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.address)

    @property
    def metadata(self) -> list[tuple[str, str]]:
        """The admin token: the stack's, or (auth.token empty, as with `make run`) the one the server made."""
        token = self.sections["auth"].get("token") or \
            (self.config.parent / "var" / "shopsync" / "admin-token").read_text().strip()
        return [("authorization", f"Bearer {token}")]

    def queue_stats(self) -> dict[str, Any]:
        from shopsync.v1 import queue_pb2, queue_pb2_grpc

        with self.channel() as ch:
            resp = queue_pb2_grpc.QueueServiceStub(ch).GetQueueStats(queue_pb2.GetQueueStatsRequest(), timeout=10,
                                                                     metadata=self.metadata)
        return {queue_pb2.QueueName.Name(q.queue): q for q in resp.queues}

    def queues_empty(self) -> bool:
        stats = self.queue_stats()
        return all(q.pending == 0 and q.in_flight == 0 for q in stats.values())

    def set_erp_image(self, product_id: int, data: bytes | None, filename: str = "image.png") -> None:
        """A person sets (or with None, removes) a product's main image in Symfonia, as the ERP mode has it: over
        SQL the image report writes HM.ShopsyncImages and the hook runs; with the WebAPI the report hands the file
        to the server (erp-hook image set|delete), which keeps it in its own store."""
        if self.erp_writer != "webapi":
            if data is None:
                self.act(self.sim.delete_image(product_id))
            else:
                self.act(self.sim.set_image(product_id, data, filename, "image/png" if data[:4] == b"\x89PNG"
                                            else "image/jpeg"))
            return
        args = ["delete", str(product_id)]
        if data is not None:
            path = self.tmp / f"erp-image-{product_id}-{filename}"
            path.write_bytes(data)
            args = ["set", str(product_id), str(path)]
        done = subprocess.run([bin_path("erp-hook"), "image", *args, "--config", str(self.config)],
                              capture_output=True, text=True, timeout=60, env=env_with())
        assert done.returncode == 0, done.stderr

    def erp_image(self, product_id: int) -> Any:
        """The product's main image where the ERP mode keeps it: the company database over SQL, the sync's own
        store (the queue database) with the WebAPI."""
        if self.erp_writer != "webapi":
            return self.erp.get_image(product_id)
        import sqlite3

        from shopsync.server.erp.records import Image

        with sqlite3.connect(self.tmp / "queue.db") as db:
            row = db.execute("SELECT product_id, filename, content_type, data, sha256 FROM sync_product_image "
                             "WHERE product_id = ?", (product_id,)).fetchone()
        return Image(int(row[0]), row[1], row[2], bytes(row[3]), row[4]) if row else None

    def shop_product(self, sku: str) -> Any:
        ids = self.woo.find_product_ids_by_sku([sku])
        return self.woo.get_product(ids[sku]) if sku in ids else None

    def post_webhook(self, topic: str, resource: dict[str, Any], delivery: str = "", secret: str = WEBHOOK_SECRET,
                     signature: str | None = None) -> httpx.Response:
        import base64
        import hashlib
        import hmac

        body = json.dumps(resource).encode()
        sig = signature if signature is not None else base64.b64encode(
            hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        headers = {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": sig, "Content-Type": "application/json"}
        if delivery:
            headers["X-WC-Webhook-Delivery-ID"] = delivery
        return httpx.post(f"http://127.0.0.1:{self.http_port}/webhooks/woocommerce", content=body, headers=headers,
                          timeout=10)

    def register_webhooks(self) -> None:
        if self.shop_kind != "woocommerce":
            return  # the real shop is polled (its webhooks are late); Oscar has none
        with self.shop.api() as api:  # WooCommerce's own route, which the local shop serves too
            for topic in ("order.created", "order.updated", "customer.created", "customer.updated",
                          "product.updated"):
                api.post("/webhooks", json={"topic": topic, "secret": WEBHOOK_SECRET, "delivery_url":
                                            f"http://127.0.0.1:{self.http_port}/webhooks/woocommerce"}
                         ).raise_for_status()

    def shop_api(self) -> httpx.Client:
        from shop_client.woocommerce.oauth import OAuth1QueryAuth

        return httpx.Client(base_url=self.shop.url + "/wp-json/wc/v3",
                            auth=OAuth1QueryAuth(self.shop.key, self.shop.secret), timeout=10)
