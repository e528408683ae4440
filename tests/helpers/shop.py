"""The local WooCommerce-compatible shop as a real process on loopback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.helpers.servers import ROOT, env_with, free_port, stop_process, wait_port


class DemoShopProcess:
    WP_USER, WP_APP_PASSWORD = "admin", "abcd EFGH ijkl MNOP qrst UVWX"

    def __init__(self, tmp_path: Path, *, key: str = "ck_test", secret: str = "cs_test_secret_123",
                 port: int | None = None, seed: bool = False, uploads: bool = False) -> None:
        self.uploads = uploads  # give the sync the application password (image uploads)
        self.db = tmp_path / "shop.db"
        self.key, self.secret = key, secret
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.seed = seed
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tmp_path / "shop.log"

    def start(self) -> "DemoShopProcess":
        args = [sys.executable, "-m", "demo_shop.server", "--port", str(self.port), "--db", str(self.db),
                "--key", self.key, "--secret", self.secret, "--wp-user", self.WP_USER,
                "--wp-app-password", self.WP_APP_PASSWORD]
        if self.seed:
            args.append("--seed")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, cwd=ROOT, env=env_with(), stdout=log, stderr=subprocess.STDOUT)
        wait_port("127.0.0.1", self.port)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        r = httpx.request(method, f"{self.url}/_demo/{path}", json=body, timeout=10)
        r.raise_for_status()
        return r.json()

    def faults(self, **cfg: Any) -> None:
        self.admin("POST", "faults", cfg)

    def clear_faults(self) -> None:
        self.admin("DELETE", "faults")

    def stats(self) -> dict[str, Any]:
        return self.admin("GET", "stats")

    kind = "woocommerce"

    def settings(self) -> dict[str, Any]:
        out = {"kind": "woocommerce", "url": self.url, "consumer_key": self.key, "consumer_secret": self.secret}
        if self.uploads:
            out.update({"wp_user": self.WP_USER, "wp_app_password": self.WP_APP_PASSWORD})
        return out

    def place_order(self, lines: list[tuple[str, int]], email: str = "klient@example.pl") -> str:
        """An order as the shop's checkout makes it (REST create: lines priced, stock reduced, webhook fired)."""
        from shop_client.woocommerce.oauth import OAuth1QueryAuth

        billing = {"first_name": "Ewa", "last_name": "Wiśniewska", "address_1": "Długa 5", "city": "Kraków",
                   "postcode": "30-001", "country": "PL", "email": email}
        with httpx.Client(auth=OAuth1QueryAuth(self.key, self.secret), timeout=10) as api:
            r = api.post(f"{self.url}/wp-json/wc/v3/orders", json={
                "status": "processing", "billing": billing, "shipping": billing,
                "line_items": [{"sku": sku, "quantity": qty} for sku, qty in lines]})
            r.raise_for_status()
            return r.json()["number"]

    def api(self) -> httpx.Client:
        """A signed client of the shop's REST API (as tests of any WooCommerce use it)."""
        from shop_client.woocommerce.oauth import OAuth1QueryAuth

        return httpx.Client(base_url=self.url + "/wp-json/wc/v3", auth=OAuth1QueryAuth(self.key, self.secret),
                            timeout=10)

    def adapter(self, **kwargs: Any):
        from shop_client.woocommerce import WooCommerceShop

        return WooCommerceShop(self.url, self.key, self.secret, timeout_seconds=kwargs.pop("timeout", 10), **kwargs)
