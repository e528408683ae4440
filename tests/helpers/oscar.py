"""A real django-oscar shop (with django-oscar-api) for the tests, in its own virtualenv.

Oscar and its API are test-only: they live in .venv-oscar, never in shopsync's
dependencies. The site (tests/oscar_site) is migrated once per test run into a
template database that each shop instance copies, then served on loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import httpx

from erp_hooks import oslock
from tests.helpers.servers import ROOT, free_port, stop_process, wait_port

VENV = ROOT / ".venv-oscar"
SITE = ROOT / "tests" / "oscar_site"
PINS = ["django-oscar==3.2.6", "django-oscar-api==3.3.0", "Django==4.2.30", "djangorestframework==3.17.2",
        "sorl-thumbnail==13.4.0"]
USER, PASSWORD = "shopsync-api", "oscar-api-password-123"
_lock = threading.Lock()
_template: Path | None = None


def _python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv() -> Path:
    """Create .venv-oscar with the pinned versions (once; later runs reuse it). Test workers running
    side by side (pytest-xdist) take turns through an OS file lock: one builds, the others wait."""
    stamp = VENV / ".pins"
    fd = oslock.acquire(ROOT / ".venv-oscar.lock", wait_seconds=900)
    try:
        if stamp.exists() and stamp.read_text() == "\n".join(PINS):
            return _python()
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(_python()), "-m", "pip", "install", "-q", *PINS], check=True)
        stamp.write_text("\n".join(PINS))
        return _python()
    finally:
        oslock.release(fd)


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update({"DJANGO_SETTINGS_MODULE": "settings", "PYTHONPATH": str(SITE), "OSCAR_SITE_DATA": str(data)})
    return env


def template_db(base: Path) -> Path:
    """Migrate and bootstrap the site once; later shops copy the database file."""
    global _template
    with _lock:
        if _template is None:
            python = ensure_venv()
            base.mkdir(parents=True, exist_ok=True)
            data = Path(tempfile.mkdtemp(prefix="oscar-template-", dir=base))  # one per test worker
            env = _env(data)
            subprocess.run([str(python), "-m", "django", "migrate", "-v0"], cwd=SITE, env=env, check=True)
            subprocess.run([str(python), str(SITE / "bootstrap.py"), USER, PASSWORD], cwd=SITE, env=env, check=True)
            _template = data / "oscar.db"
    return _template


class OscarShopProcess:
    """Same surface as DemoShopProcess: start, stop, url, key (user), secret (password), adapter()."""

    kind = "oscar"

    def __init__(self, tmp_path: Path, template: Path) -> None:
        self.data = tmp_path / "oscar"
        self.data.mkdir(parents=True, exist_ok=True)
        shutil.copy(template, self.data / "oscar.db")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key, self.secret = USER, PASSWORD
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tmp_path / "oscar.log"

    def start(self) -> "OscarShopProcess":
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([str(_python()), "-m", "django", "runserver", f"127.0.0.1:{self.port}",
                                          "--noreload", "--skip-checks"],
                                         cwd=SITE, env=_env(self.data), stdout=log, stderr=subprocess.STDOUT)
        wait_port("127.0.0.1", self.port, timeout=60)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def adapter(self, **kwargs: Any):
        from shop_client.oscar import OscarShop

        return OscarShop(self.url, self.key, self.secret, timeout_seconds=kwargs.pop("timeout", 20), **kwargs)

    def settings(self) -> dict[str, Any]:
        return {"kind": "oscar", "url": self.url, "consumer_key": self.key, "consumer_secret": self.secret}

    def place_order(self, lines: list[tuple[str, int]], email: str = "klient@example.pl") -> str:
        """A guest checkout through Oscar's own basket and checkout API; returns the order number."""
        api = self.url + "/api"
        admin = httpx.Client(auth=(self.key, self.secret), timeout=20)
        guest = httpx.Client(timeout=20)
        try:
            for sku, qty in lines:
                pid = admin.patch(f"{api}/admin/products/", json={"upc": sku}).json()["id"]
                r = guest.post(f"{api}/basket/add-product/", json={"url": f"{api}/products/{pid}/", "quantity": qty})
                r.raise_for_status()
            basket = guest.get(f"{api}/basket/").json()
            address = {"first_name": "Ewa", "last_name": "Wiśniewska", "line1": "Długa 5", "line4": "Kraków",
                       "postcode": "30-001", "country": f"{api}/countries/PL/", "phone_number": "+48600100200"}
            r = guest.post(f"{api}/checkout/", json={"basket": basket["url"], "guest_email": email,
                                                      "shipping_address": address, "billing_address": address})
            r.raise_for_status()
            return r.json()["number"]
        finally:
            admin.close()
            guest.close()
