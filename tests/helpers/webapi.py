"""The local Symfonia WebAPI (`shopsync erp webapi-sim`) as a real process on loopback."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx

from tests.helpers.servers import ROOT, bin_path, env_with, free_port, stop_process, wait_port


class WebApiSimProcess:
    APP_KEY = "6f1c2a9e-0d4b-4c3a-9b8e-5a7d2f1e3c40"

    def __init__(self, tmp_path: Path, db: Path, *, session_ttl: float = 1200.0, seats: int = 5,
                 ksef_delay: float = 1.0) -> None:
        self.db = db
        self.seats = seats
        self.ksef_delay = ksef_delay  # seconds until KSeF numbers an invoice by itself
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.session_ttl = session_ttl
        self.log = tmp_path / "webapi.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "WebApiSimProcess":
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [bin_path("shopsync"), "erp", "webapi-sim", "--port", str(self.port), "--db", str(self.db),
                 "--app-key", self.APP_KEY, "--session-ttl", str(self.session_ttl),
                 "--seats", str(self.seats), "--ksef-delay", str(self.ksef_delay)],
                cwd=ROOT, env=env_with(), stdout=log, stderr=subprocess.STDOUT)
        wait_port("127.0.0.1", self.port)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        r = httpx.request(method, f"http://127.0.0.1:{self.port}/_sim/{path}", json=body, timeout=10)
        r.raise_for_status()
        return r.json()

    def faults(self, **cfg: Any) -> None:
        self.admin("POST", "faults", cfg)

    def calls(self, route: str) -> int:
        return int(self.admin("GET", "stats")["calls"].get(route, 0))

    def settings(self) -> dict[str, Any]:
        return {"mode": "webapi", "webapi_url": self.url, "webapi_app_key": self.APP_KEY,
                "webapi_timeout_seconds": 2,
                "webapi_department": "Sklep internetowy",
                # The change feeds are read only where a test turns them on (tests/products/test_erp_feeds.py).
                "feed_interval_seconds": 0}


def webapi_erp_over_demo(tmp_path: Path, product_count: int, device: str = "test") -> tuple[Any, "WebApiSimProcess"]:
    """A demo company, its WebAPI simulator process, and our WebAPI ERP talking to it (its `sql` a gateway over
    the same company, for comparing answers). The caller closes the ERP and stops the simulator."""
    from shopsync.demo.erp import init_sqlite_demo
    from shopsync.server.erp.sql import ErpGateway
    from shopsync.server.erp.sql.dialects import make_dialect
    from shopsync.server.erp.webapi import WebApiClient, WebApiErp

    db = init_sqlite_demo(tmp_path / "erp.db", product_count=product_count)
    sim = WebApiSimProcess(tmp_path, db).start()
    dialect = make_dialect("sqlite", database=db)
    erp = WebApiErp(ErpGateway(dialect.connection_string(), dialect, warehouses=(1,)),
                    WebApiClient(sim.url, sim.APP_KEY, device, timeout=5.0), department="Sklep internetowy")
    return erp, sim
