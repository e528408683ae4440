"""A real WooCommerce 7.9.0 for the tests: Debian's WordPress and PHP, a private MariaDB.

The plugin comes from `../shared/vendor` (a test fixture, never shipped). Building a
site from nothing takes about 40 s, so it is done once per machine and cached under
the temporary directory: a WordPress tree (code shared by every site: wp-config.php
reads each site's database and address from its environment) and a MariaDB data
directory holding one installed, configured shop with a REST key. A test session
copies that data directory and starts one MariaDB on it; every shop a test asks for
is a fresh copy of the template database, served by `php -S` on its own port.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import signal
import subprocess
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from erp_hooks import oslock
from tests.helpers.servers import ROOT, free_port, stop_process, wait_port

HERE = ROOT / "tests" / "wordpress"
VENDOR_TARBALL = Path(os.environ.get("SHOPSYNC_WOOCOMMERCE_TARBALL",
                                     ROOT.parent / "shared" / "vendor" / "woocommerce-7.9.0.tar.xz"))
WORDPRESS_SOURCE = Path("/usr/share/wordpress")
CONSUMER_KEY = "ck_" + "5e" * 20
CONSUMER_SECRET = "cs_" + "7a" * 20
TEMPLATE_DB = "wordpress"
APT_PACKAGES = ["php-cli", "php-mysql", "php-xml", "php-mbstring", "php-curl", "php-gd", "php-intl", "php-zip",
                "mariadb-server", "mariadb-client", "wordpress"]
_lock = threading.Lock()
_counter = itertools.count()


def missing_reason() -> str:
    """Why a real WooCommerce cannot be started here ('' when it can)."""
    if not VENDOR_TARBALL.exists():
        return f"real WooCommerce tests need {VENDOR_TARBALL} (the vendored plugin); not found"
    for tool in ("php", "mariadbd", "mariadb-install-db", "mariadb"):
        if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
            return f"real WooCommerce tests need `{tool}` (apt: {' '.join(APT_PACKAGES)}; `make test` installs them)"
    if not (WORDPRESS_SOURCE / "wp-load.php").exists():
        return f"real WooCommerce tests need Debian's wordpress package ({WORDPRESS_SOURCE})"
    return ""


def _tool(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def _cache_key() -> str:
    h = hashlib.sha256()
    with open(VENDOR_TARBALL, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    for p in sorted(HERE.rglob("*.php")):
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _run(args: list[str], env: dict[str, str] | None = None, timeout: float = 300) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    return done.stdout


class MariaDB:
    """A private MariaDB server on a loopback port, without grant tables (a throw-away test server)."""

    def __init__(self, datadir: Path) -> None:
        self.datadir = datadir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def initialise(datadir: Path) -> None:
        datadir.mkdir(parents=True, exist_ok=True)
        args = [_tool("mariadb-install-db"), "--no-defaults", f"--datadir={datadir}",
                "--auth-root-authentication-method=normal", "--skip-test-db"]
        _run(args + (["--user=root"] if os.geteuid() == 0 else []))

    def start(self) -> "MariaDB":
        args = [_tool("mariadbd"), "--no-defaults", f"--datadir={self.datadir}", f"--socket={self.datadir}/sock",
                f"--port={self.port}", "--bind-address=127.0.0.1", "--skip-grant-tables", "--skip-name-resolve",
                "--innodb-buffer-pool-size=64M", "--innodb-flush-log-at-trx-commit=2", "--skip-log-bin",
                f"--pid-file={self.datadir}/mariadb.pid", f"--log-error={self.datadir}/error.log"]
        if os.geteuid() == 0:
            args.append("--user=root")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port("127.0.0.1", self.port, timeout=60)
        return self

    def sql(self, statements: str, database: str = "") -> str:
        return _run([_tool("mariadb"), "--no-defaults", "-h127.0.0.1", f"-P{self.port}", "-uroot", "-N", "-B",
                     *([database] if database else []), "-e", statements])

    def clone_database(self, source: str, target: str) -> None:
        tables = self.sql("SHOW TABLES", source).split()
        script = [f"CREATE DATABASE `{target}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"]
        for t in tables:
            script.append(f"CREATE TABLE `{target}`.`{t}` LIKE `{source}`.`{t}`;")
            script.append(f"INSERT INTO `{target}`.`{t}` SELECT * FROM `{source}`.`{t}`;")
        self.sql("SET SESSION foreign_key_checks=0; " + " ".join(script))

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None


def _build_template(base: Path) -> None:
    """WordPress tree + MariaDB data directory with WooCommerce installed (about 40 s)."""
    work = base.with_name(base.name + ".building")
    shutil.rmtree(work, ignore_errors=True)
    tree = work / "wordpress"
    shutil.copytree(WORDPRESS_SOURCE, tree, symlinks=False)
    shutil.copy(HERE / "wp-config.php", tree / "wp-config.php")
    plugins = tree / "wp-content" / "plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    with tarfile.open(VENDOR_TARBALL) as tar:
        tar.extractall(plugins, filter="data")
    shutil.copytree(HERE / "mu-plugins", tree / "wp-content" / "mu-plugins", dirs_exist_ok=True)
    datadir = work / "mysql"
    MariaDB.initialise(datadir)
    db = MariaDB(datadir).start()
    try:
        db.sql(f"CREATE DATABASE {TEMPLATE_DB} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        env = site_env(tree, db.port, TEMPLATE_DB, "http://127.0.0.1:8080")
        _run(["php", str(HERE / "install.php"), "install"], env=env)
        out = _run(["php", str(HERE / "install.php"), "configure", CONSUMER_KEY, CONSUMER_SECRET], env=env)
        password = next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("app-password:"))
        (work / "app-password.txt").write_text(password)
        db.sql("SET GLOBAL innodb_fast_shutdown=0")
    finally:
        db.stop()
    work.rename(base)


def site_env(tree: Path, db_port: int, db_name: str, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPSYNC_")}
    env.update({"SHOPSYNC_WP_ROOT": str(tree), "SHOPSYNC_WP_DB_PORT": str(db_port), "SHOPSYNC_WP_DB": db_name,
                "SHOPSYNC_WP_URL": url, "PHP_CLI_SERVER_WORKERS": "4", **extra})
    return env


PLUGIN_SLUG = "shopsync-woocommerce"


def install_companion_plugin(tree: Path, work: Path) -> None:
    """Our WordPress plugin as WordPress's "Upload plugin" installs it: the zip `make wp-plugin` builds,
    unpacked into wp-content/plugins (again whenever the zip differs from the one installed)."""
    import importlib.util
    import zipfile

    spec = importlib.util.spec_from_file_location("shopsync_wp_package", ROOT / "wp-plugin" / "package.py")
    package = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(package)  # type: ignore[union-attr]  # what `make wp-plugin` runs
    built = package.build(work / f"{PLUGIN_SLUG}.zip")
    digest = hashlib.sha256(built.read_bytes()).hexdigest()
    plugins = tree / "wp-content" / "plugins"
    marker = plugins / f".{PLUGIN_SLUG}.sha256"
    if marker.exists() and marker.read_text() == digest:
        return
    shutil.rmtree(plugins / PLUGIN_SLUG, ignore_errors=True)
    with zipfile.ZipFile(built) as z:
        z.extractall(plugins)
    marker.write_text(digest)


class WordPressSite:
    """One MariaDB for a test session, over a copy of the cached template; shops are databases in it."""

    def __init__(self, session_dir: Path) -> None:
        cache = Path(os.environ.get("SHOPSYNC_WP_CACHE", "/tmp/shopsync-wordpress"))
        self.base = cache / _cache_key()
        with _lock:
            cache.mkdir(parents=True, exist_ok=True)
            # Test workers side by side (pytest-xdist): one builds the site, the others wait for it.
            fd = oslock.acquire(cache / "build.lock", wait_seconds=600)
            try:
                if not self.base.exists():
                    _build_template(self.base)
            finally:
                oslock.release(fd)
        self.tree = self.base / "wordpress"
        self.app_password = (self.base / "app-password.txt").read_text().strip()
        with _lock:
            fd = oslock.acquire(cache / "build.lock", wait_seconds=600)
            try:
                install_companion_plugin(self.tree, session_dir)
            finally:
                oslock.release(fd)
        datadir = session_dir / "mysql"
        shutil.copytree(self.base / "mysql", datadir)
        self.db = MariaDB(datadir).start()

    def new_database(self) -> str:
        name = f"shop{next(_counter)}"
        self.db.clone_database(TEMPLATE_DB, name)
        return name

    def close(self) -> None:
        self.db.stop()


class RealWooCommerceProcess:
    """A real WooCommerce shop on loopback, with the same face as the local shop's test helper."""

    kind = "woocommerce"

    WP_USER = "admin"

    def __init__(self, site: WordPressSite, tmp_path: Path, *, strict_urls: bool = False,
                 image_uploads: bool = False) -> None:
        self.site = site
        self.image_uploads = image_uploads  # give the sync the application password (image uploads)
        self.database = site.new_database()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key, self.secret = CONSUMER_KEY, CONSUMER_SECRET
        self.strict_urls = strict_urls
        self.uploads = f"wp-content/uploads/{self.database}"
        self.log = tmp_path / "wordpress.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "RealWooCommerceProcess":
        extra = {"SHOPSYNC_WP_UPLOADS": self.uploads}
        if self.strict_urls:
            extra["SHOPSYNC_WP_STRICT_URLS"] = "1"
        env = site_env(self.site.tree, self.site.db.port, self.database, self.url, **extra)
        with open(self.log, "ab") as log:
            # Its own process group: PHP's server forks its workers, and stop() ends them all.
            self.proc = subprocess.Popen(["php", "-S", f"127.0.0.1:{self.port}", "-t", str(self.site.tree),
                                          str(HERE / "router.php")], env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        wait_port("127.0.0.1", self.port, timeout=30)
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def settings(self) -> dict[str, Any]:
        out = {"kind": "woocommerce", "url": self.url, "consumer_key": self.key, "consumer_secret": self.secret}
        if self.image_uploads:
            out.update({"wp_user": self.WP_USER, "wp_app_password": self.site.app_password})
        return out

    def adapter(self, **kwargs: Any):
        from shop_client.woocommerce import WooCommerceShop

        return WooCommerceShop(self.url, self.key, self.secret, timeout_seconds=kwargs.pop("timeout", 60), **kwargs)

    def api(self) -> httpx.Client:
        from shop_client.woocommerce.oauth import OAuth1QueryAuth

        return httpx.Client(base_url=self.url + "/wp-json/wc/v3", auth=OAuth1QueryAuth(self.key, self.secret),
                            timeout=60)

    def place_order(self, lines: list[tuple[str, int]], email: str = "klient@example.pl", **extra: Any) -> str:
        """An order created through the REST API (the shop prices the lines, lowers stock on 'processing')."""
        billing = {"first_name": "Ewa", "last_name": "Wiśniewska", "address_1": "Długa 5", "city": "Kraków",
                   "postcode": "30-001", "country": "PL", "email": email}
        with self.api() as api:
            r = api.post("/orders", json={"status": "processing", "billing": billing, "shipping": billing,
                                          "line_items": [{"sku": sku, "quantity": qty} for sku, qty in lines],
                                          **extra})
            r.raise_for_status()
            return r.json()["number"]

    def wp_api(self) -> httpx.Client:
        """WordPress's own REST API as the administrator (application password)."""
        return httpx.Client(base_url=self.url + "/wp-json/wp/v2", auth=(self.WP_USER, self.site.app_password),
                            timeout=60)

    def activate_companion_plugin(self) -> dict[str, Any]:
        """Activate our plugin through WordPress's plugins API (as the Plugins screen does)."""
        with self.wp_api() as wp:
            r = wp.post(f"/plugins/{PLUGIN_SLUG}/{PLUGIN_SLUG}", json={"status": "active"})
            r.raise_for_status()
            return r.json()

    def add_webhook(self, topic: str, delivery_url: str, secret: str) -> None:
        with self.api() as api:
            api.post("/webhooks", json={"topic": topic, "delivery_url": delivery_url, "secret": secret,
                                        "status": "active"}).raise_for_status()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        with self.api() as api:
            while True:
                try:
                    if api.get("/products", params={"per_page": 1}).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.time() > deadline:
                    raise TimeoutError(f"WooCommerce at {self.url} did not answer (log: {self.log})")
                time.sleep(0.2)
