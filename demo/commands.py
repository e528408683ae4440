"""Demo commands of `shopsync`: run-demo, demo-shop, and `erp ...` (the demo ERP and its simulator).

Registered through the `shopsync.commands` entry point (pyproject.toml), so the
product's CLI never imports the demo.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path

from shopsync.server.cli.support import CliError, load_for_command, wait_for_signal
from shopsync.server.settings import load_settings


def _demo_secrets(path: Path) -> dict[str, str]:
    values = json.loads(path.read_text()) if path.exists() else {}
    if "wp_app_password" in values and "webapi_app_key" in values and "console_password" in values:
        return values
    values = {"shop_key": "ck_" + secrets.token_hex(16), "shop_secret": "cs_" + secrets.token_hex(16),
              "webhook_secret": secrets.token_urlsafe(24), "webapi_app_key": str(uuid.uuid4()),
              "console_password": secrets.token_urlsafe(12), **values,
              "wp_app_password": " ".join(secrets.token_hex(2) for _ in range(6))}
    private_write(path, json.dumps(values, indent=2))
    return values


def private_write(path: Path, text: str) -> None:
    """A file only this account reads: made owner-only from the start (no moment where others can read it)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    if os.name != "nt":
        path.chmod(0o600)  # a file that was there before keeps its old mode otherwise


def _wait_up(url: str, proc: subprocess.Popen[bytes], failure: str, seconds: float = 30) -> None:
    """Wait until a process we started answers at url (CliError with `failure` if it dies or never does)."""
    import httpx

    deadline = time.time() + seconds
    while True:
        try:
            httpx.get(url, timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            if proc.poll() is not None or time.time() > deadline:
                raise CliError(failure) from None
            time.sleep(0.2)


def cmd_run_demo(args: argparse.Namespace) -> int:
    """The whole demo: ERP database with its WebAPI (the local simulator: orders are written through it),
    local shop (seeded, webhooks on), and the server."""

    from shopsync.server.app import create_server
    from shopsync.server.web.console import hash_password
    from .erp import init_sqlite_demo
    from .webapi_sim import missing_extra

    if missing_extra():
        print(f"shopsync: {missing_extra()}")
        return 2
    base = load_settings(getattr(args, "config", None))
    demo_dir = base.path("var/demo")
    keys = _demo_secrets(demo_dir / "secrets.json")
    # The demo shows both ways in: webhooks (fast), and outbound-only polling and image uploads.
    settings = load_for_command(args, shop={"consumer_key": keys["shop_key"], "consumer_secret": keys["shop_secret"],
                                            "wp_user": "admin", "wp_app_password": keys["wp_app_password"]},
                                webhooks={"secret": keys["webhook_secret"], "enabled": True},
                                erp={"mode": "webapi", "webapi_app_key": keys["webapi_app_key"],
                                     "webapi_department": "Sklep internetowy"},
                                orders={"shipping_code": "TRANSPORT", "fee_code": "OPLATA"},
                                # the seeded T-shirt in S, M, L is one variable product (docs/variants.md)
                                products={} if base.products.variants_by else {
                                    "variants_by": "feature:Rodzina", "variant_attributes": ("Rozmiar",)},
                                # the site's own console password where it set one; else the demo's
                                console={"password_hash": base.console.password_hash or
                                         hash_password(keys["console_password"])})
    erp_db = settings.path(settings.erp.database)
    if settings.erp.dialect == "sqlite" and not erp_db.exists():
        print(f"creating the demo ERP company database {erp_db} ...", flush=True)
        init_sqlite_demo(erp_db, family=True)
    shop_url = settings.shop.url.rstrip("/")
    host_port = shop_url.split("://", 1)[1]
    shop_host, _, shop_port = host_port.partition(":")
    shop_db = demo_dir / "shop.db"
    shop_log = demo_dir / "shop.log"
    webapi_log = demo_dir / "webapi.log"
    webapi_port = settings.erp.webapi_url.split("://", 1)[1].split("/", 1)[0].rpartition(":")[2] or "9000"
    webhook_url = f"http://{settings.webhooks.address}/webhooks/woocommerce"
    with open(shop_log, "ab") as log_file:
        # secrets through the environment: a command line is readable by every local user (ps)
        shop = subprocess.Popen([sys.executable, "-m", "demo_shop.server", "--host", shop_host, "--port",
                                 shop_port or "80", "--db", str(shop_db), "--seed", "--webhook-url", webhook_url,
                                 "--wp-user", "admin"],
                                env={**os.environ, "DEMO_SHOP_KEY": keys["shop_key"],
                                     "DEMO_SHOP_SECRET": keys["shop_secret"],
                                     "DEMO_SHOP_WEBHOOK_SECRET": keys["webhook_secret"],
                                     "DEMO_SHOP_WP_APP_PASSWORD": keys["wp_app_password"]},
                                stdout=log_file, stderr=subprocess.STDOUT)
    with open(webapi_log, "ab") as log_file:
        webapi = subprocess.Popen([sys.executable, "-m", "shopsync.demo.webapi_sim", "--port", webapi_port,
                                   "--db", str(erp_db)],
                                  env={**os.environ, "SHOPSYNC_SIM_APP_KEY": keys["webapi_app_key"]},
                                  stdout=log_file, stderr=subprocess.STDOUT)
    try:
        _wait_up(f"{shop_url}/_demo/stats", shop, f"the demo shop did not start; see {shop_log}")
        _wait_up(f"{settings.erp.webapi_url.rstrip('/')}/Ping", webapi,
                 f"the demo Symfonia WebAPI did not start; see {webapi_log}")
        server, port = create_server(settings)
        grpc_address = f"{settings.grpc.address.rpartition(':')[0]}:{port}"  # the port actually bound
        endpoints = {
            "grpc_address": grpc_address,
            "webhook_url": webhook_url,
            "shop_url": shop_url,
            "shop_api": f"{shop_url}/wp-json/wc/v3",
            "shop_consumer_key": keys["shop_key"],
            "shop_consumer_secret": keys["shop_secret"],
            "webhook_secret": keys["webhook_secret"],
            "erp_database": str(erp_db),
            "erp_webapi": settings.erp.webapi_url,
            "queue_database": settings.queue.database,
            # a Symfonia workstation's hook holds the hook token (auth.hook_token in its settings)
            "hook_example": f"SHOPSYNC_AUTH_HOOK_TOKEN=$(cat {settings.path(settings.auth.hook_token_file)}) "
                            "erp-hook stock-changed 1",
            "console": f"http://{settings.console.address} (user {settings.console.user}, password "
                       + (f"{keys['console_password']})" if not base.console.password_hash else
                          "as console.password_hash in your settings)"),
            "metrics": f"http://{settings.console.address}/metrics",
        }
        private_write(demo_dir / "endpoints.json", json.dumps(endpoints, indent=2))
        print("\nshopsync demo is running (Ctrl-C stops it):", flush=True)
        for k, v in endpoints.items():
            print(f"  {k:22} {v}")
        print(f"  {'endpoints file':22} {demo_dir / 'endpoints.json'}")
        token_file = settings.path(settings.auth.token_file)
        print(f'\ntry:  grpcurl -plaintext -H "authorization: Bearer $(cat {token_file})" {grpc_address} '
              "shopsync.v1.QueueService/GetQueueStats")
        print("      shopsync erp approve-pz 1 10     (a goods receipt; the shop's stock follows)\n", flush=True)
        wait_for_signal(lambda: server.stop(grace=10))
    finally:
        for proc in (shop, webapi):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


def cmd_demo_shop(args: argparse.Namespace) -> int:
    from demo_shop.server import run

    return run(args)


# -- the ERP -----------------------------------------------------------------
def cmd_erp_init_demo(args: argparse.Namespace) -> int:
    from .erp import init_odbc_demo, init_sqlite_demo

    if args.odbc:
        init_odbc_demo(args.odbc, args.dialect, product_count=args.products, family=args.family)
        print(f"demo company created in the {args.dialect} database")
        return 0
    if not args.path:
        raise CliError("give a PATH for the SQLite company file, or --odbc for a PostgreSQL database", 2)
    try:
        path = init_sqlite_demo(Path(args.path), product_count=args.products, overwrite=args.force,
                                family=args.family)
    except FileExistsError as exc:
        raise CliError(str(exc)) from None
    print(f"demo company created: {path} (+ {path.stem}.sscommon.db)")
    return 0


def hook_command() -> list[str]:
    found = shutil.which("erp-hook") or str(Path(sys.executable).parent / "erp-hook")
    return [found] if Path(found).exists() else [sys.executable, "-m", "erp_hooks.cli"]


def cmd_erp_action(args: argparse.Namespace) -> int:
    """Act in the demo ERP as a Symfonia user would, then run the hook as its automation would."""
    from .erp import ErpSimulator

    settings = load_for_command(args)
    sim = ErpSimulator.from_settings(settings)
    try:
        a = args.action
        if a == "save-item":
            event = sim.save_item(args.id, name=args.name, ean=args.ean,
                                  group_path=args.group.split("/") if args.group else None)
        elif a == "set-marker":
            event = sim.set_marker(args.id, args.state == "on")
        elif a == "edit-note":
            event = sim.edit_note(args.id, args.text)
        elif a == "approve-pz":
            event = sim.approve_pz(args.id, _decimal(args.quantity), warehouse=args.warehouse)
        elif a == "draft-pz":
            event = sim.draft_pz(args.id, _decimal(args.quantity), warehouse=args.warehouse)
            print(f"PZ (HM.MG id {event[1]}) saved in the buffer, not issued")
        elif a == "issue-document":
            event = sim.issue_document(args.id)
        elif a == "reserve":
            event_name, pid, rz = sim.add_reservation(args.id, _decimal(args.quantity), warehouse=args.warehouse)
            print(f"reservation {rz} created")
            event = (event_name, pid)
        elif a == "unreserve":
            event = sim.delete_reservation(args.id)
        elif a == "set-price":
            list_id = sim.price_list_id(args.list)
            event = sim.set_price(list_id, args.id, None if args.price == "none" else _decimal(args.price))
        elif a == "set-image":
            data = Path(args.file).read_bytes()
            ctype = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
                     "webp": "image/webp"}.get(Path(args.file).suffix.lower().lstrip("."), "application/octet-stream")
            event = sim.set_image(args.id, data, Path(args.file).name, ctype)
        elif a == "delete-image":
            event = sim.delete_image(args.id)
        elif a == "realise-order":
            event = sim.realise_order(args.id, partial=args.partial)
            print(f"WZ (HM.MG id {event[1]}) issued for order {args.id}")
        elif a == "issue-invoice":
            event = sim.issue_invoice(args.id)
            print(f"invoice (HM.DK id {event[1]}) issued for order {args.id}")
        elif a == "cancel-order":
            event = sim.cancel_order(args.id)
        elif a == "set-feature":
            event = sim.set_feature(args.id, args.name, args.value)
        elif a == "ksef":
            event = sim.ksef_verdict(args.id, args.verdict == "accept")
            print(f"KSeF {'numbered' if args.verdict == 'accept' else 'rejected'} invoice {args.id}")
        else:  # pragma: no cover - argparse limits the choices
            raise CliError(f"unknown action {a}", 2)
    finally:
        sim.close()
    if args.no_hook:
        print(f"done; hook not run (would be: erp-hook {event[0]} {event[1]})")
        return 0
    cmd = [*hook_command(), event[0], str(event[1])]
    if args.config:
        cmd += ["--config", args.config]
    rc = subprocess.run(cmd).returncode
    print(f"done; erp-hook {event[0]} {event[1]} exited {rc}")
    return 0 if rc == 0 else 1


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CliError(f"not a number: {text!r}", 2) from None


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("run-demo", help="demo ERP + local shop + server (make run)").set_defaults(func=cmd_run_demo)

    from demo_shop.server import add_arguments

    p = sub.add_parser("demo-shop", help="run the local WooCommerce-compatible shop")
    add_arguments(p)
    p.set_defaults(func=cmd_demo_shop)

    erp = sub.add_parser("erp", help="the demo ERP: create it, or act in it as a Symfonia user")
    esub = erp.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = esub.add_parser("init-demo", help="create a demo company database")
    p.add_argument("path", nargs="?", help="SQLite company file to create")
    p.add_argument("--odbc", help="ODBC connection string of an empty PostgreSQL database instead")
    p.add_argument("--dialect", default="postgresql", choices=["postgresql"])
    p.add_argument("--products", type=int, default=300)
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.add_argument("--family", action="store_true", help="with a T-shirt in S, M, L: three cards of one family "
                   "(features Rodzina, Rozmiar; products.variants_by = \"feature:Rodzina\")")
    p.set_defaults(func=cmd_erp_init_demo)

    from . import webapi_sim

    p = esub.add_parser("webapi-sim", help="run a local Symfonia WebAPI over the demo company (for the "
                        "WebAPI mode, erp.mode = \"webapi\")")
    webapi_sim.add_arguments(p)
    p.set_defaults(func=webapi_sim.serve)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        a = esub.add_parser(name, help=help_text)
        a.add_argument("--no-hook", action="store_true", help="do not run erp-hook afterwards")
        a.set_defaults(func=cmd_erp_action)
        return a

    a = action("save-item", "save a product card (optionally changing fields)")
    a.add_argument("id", type=int)
    a.add_argument("--name")
    a.add_argument("--ean")
    a.add_argument("--group", help="group path, e.g. 'Narzędzia/Wiertarki'")
    a = action("set-marker", "give (on) or take (off) the marker the site agreed on (erp.marker: a native marker "
               "number or a feature and its value)")
    a.add_argument("id", type=int)
    a.add_argument("state", choices=["on", "off"])
    a = action("edit-note", "replace a product's note")
    a.add_argument("id", type=int)
    a.add_argument("text")
    for name, help_text in (("approve-pz", "approve a goods receipt PZ"), ("reserve", "add a reservation"),
                            ("draft-pz", "save a goods receipt PZ in the buffer, not issued (its hook names a "
                                         "draft)")):
        a = action(name, help_text)
        a.add_argument("id", type=int)
        a.add_argument("quantity")
        a.add_argument("--warehouse", type=int, default=1)
    a = action("issue-document", "issue a warehouse document from the buffer (ID = HM.MG.id)")
    a.add_argument("id", type=int)
    a = action("unreserve", "delete a reservation (by HM.RZ.id)")
    a.add_argument("id", type=int)
    a = action("set-price", "set a product's price on a price list (none removes it)")
    a.add_argument("list", help="price list code, e.g. HURT")
    a.add_argument("id", type=int)
    a.add_argument("price")
    a = action("set-image", "set a product's main image from a file")
    a.add_argument("id", type=int)
    a.add_argument("file")
    a = action("delete-image", "delete a product's main image")
    a.add_argument("id", type=int)
    a = action("realise-order", "issue the goods of a customer order on a WZ (ID = HM.ZO.id)")
    a.add_argument("id", type=int)
    a.add_argument("--partial", action="store_true", help="half of each line (at least 1)")
    a = action("issue-invoice", "issue a sale invoice FV from a customer order (ID = HM.ZO.id)")
    a.add_argument("id", type=int)
    a = action("cancel-order", "cancel a customer order and free its reservations (ID = HM.ZO.id)")
    a.add_argument("id", type=int)
    a = action("set-feature", "give a product a feature's value, e.g. Rozmiar M (the feature is defined if new)")
    a.add_argument("id", type=int)
    a.add_argument("name")
    a.add_argument("value")
    a = action("ksef", "answer for KSeF: number (accept) or reject an invoice sent to it (ID = HM.DK.id)")
    a.add_argument("verdict", choices=("accept", "reject"))
    a.add_argument("id", type=int)

