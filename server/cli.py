"""shopsync: the sync server and its admin commands.

    shopsync run-demo                      demo ERP + local shop + server (what `make run` runs)
    shopsync serve                         the sync server, in the foreground
    shopsync demo-shop [--port P ...]      the local WooCommerce-compatible shop
    shopsync erp init-demo PATH            a demo Symfonia company database (SQLite)
    shopsync erp ACTION ...                act as a Symfonia user, then run the hook
    shopsync import-catalog [--dry-run]    initial import of the shop's products into the ERP
    shopsync customers list|pair|unpair|run-pairing
    shopsync queue stats|dead-letters|retry|discard
    shopsync catch-up                      compare the ERP with what the shop was sent, queue differences

Exit codes: 0 done; 1 the command failed (one line on stderr says why);
2 bad arguments or settings; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable

from server.settings import SECRET_KEYS, Settings, SettingsError, load_settings

log = logging.getLogger("shopsync")


class CliError(Exception):
    """A problem to report in one line, with exit code 1 (or .code)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value in the settings, for the log redaction filter."""
    values = [getattr(getattr(settings, s), k) for s, k in SECRET_KEYS]
    url = settings.queue.database
    if "@" in url and ":" in url.split("://", 1)[-1].split("@")[0]:
        values.append(url.split("://", 1)[1].split("@")[0].split(":", 1)[1])
    for part in settings.erp.odbc.split(";"):
        k, _, v = part.partition("=")
        if k.strip().lower() in ("pwd", "password"):
            values.append(v.strip("{}"))
    return values


def _load(args: argparse.Namespace, **overrides: Any) -> Settings:
    from server.logs import setup_logging

    settings = load_settings(getattr(args, "config", None))
    if overrides:
        settings = settings.replace(**overrides)
    setup_logging(getattr(args, "log_level", None) or settings.log.level, secrets_of(settings))
    return settings


def wait_for_signal(stop: Callable[[], None]) -> None:
    """Block until Ctrl-C or SIGTERM, then call stop() once."""
    done = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        log.info("signal %s received, shutting down", signal.Signals(signum).name)
        done.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    while not done.wait(0.5):
        pass
    stop()


# -- server ------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    from server.app import create_server

    settings = _load(args)
    server, port = create_server(settings)
    wait_for_signal(lambda: server.stop(grace=10))
    return 0


def _demo_secrets(path: Path) -> dict[str, str]:
    if path.exists():
        return json.loads(path.read_text())
    values = {"shop_key": "ck_" + secrets.token_hex(16), "shop_secret": "cs_" + secrets.token_hex(16),
              "webhook_secret": secrets.token_urlsafe(24)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2))
    if os.name != "nt":
        path.chmod(0o600)
    return values


def cmd_run_demo(args: argparse.Namespace) -> int:
    """The whole demo: ERP database, local shop (seeded, webhooks on), and the server."""
    import httpx

    from server.app import create_server
    from server.erp.demo import init_sqlite_demo

    base = load_settings(getattr(args, "config", None))
    demo_dir = base.path("var/demo")
    keys = _demo_secrets(demo_dir / "secrets.json")
    settings = _load(args, shop={"consumer_key": keys["shop_key"], "consumer_secret": keys["shop_secret"]},
                     webhooks={"secret": keys["webhook_secret"]})
    erp_db = settings.path(settings.erp.database)
    if settings.erp.dialect == "sqlite" and not erp_db.exists():
        print(f"creating the demo ERP company database {erp_db} ...", flush=True)
        init_sqlite_demo(erp_db)
    shop_url = settings.shop.url.rstrip("/")
    host_port = shop_url.split("://", 1)[1]
    shop_host, _, shop_port = host_port.partition(":")
    shop_db = demo_dir / "shop.db"
    shop_log = demo_dir / "shop.log"
    webhook_url = f"http://{settings.webhooks.address}/webhooks/woocommerce"
    with open(shop_log, "ab") as log_file:
        shop = subprocess.Popen([sys.executable, "-m", "demo_shop.server", "--host", shop_host, "--port",
                                 shop_port or "80", "--db", str(shop_db), "--key", keys["shop_key"], "--secret",
                                 keys["shop_secret"], "--seed", "--webhook-url", webhook_url,
                                 "--webhook-secret", keys["webhook_secret"]],
                                stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while True:
            try:
                httpx.get(f"{shop_url}/_demo/stats", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if shop.poll() is not None or time.time() > deadline:
                    raise CliError(f"the demo shop did not start; see {shop_log}") from None
                time.sleep(0.2)
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
            "queue_database": settings.queue.database,
            "hook_example": "erp-hook stock-changed 1",
        }
        (demo_dir / "endpoints.json").write_text(json.dumps(endpoints, indent=2))
        print("\nshopsync demo is running (Ctrl-C stops it):", flush=True)
        for k, v in endpoints.items():
            print(f"  {k:22} {v}")
        print(f"  {'endpoints file':22} {demo_dir / 'endpoints.json'}")
        print(f"\ntry:  grpcurl -plaintext {grpc_address} shopsync.v1.QueueService/GetQueueStats")
        print("      shopsync erp approve-pz 1 10     (a goods receipt; the shop's stock follows)\n", flush=True)
        wait_for_signal(lambda: server.stop(grace=10))
    finally:
        shop.terminate()
        try:
            shop.wait(10)
        except subprocess.TimeoutExpired:
            shop.kill()
    return 0


def cmd_demo_shop(args: argparse.Namespace) -> int:
    from demo_shop.server import serve

    logging.basicConfig(level=logging.INFO)
    serve(args.host, args.port, Path(args.db), args.key, args.secret, seed=args.seed,
          webhook_url=args.webhook_url, webhook_secret=args.webhook_secret)
    return 0


# -- the ERP -----------------------------------------------------------------
def cmd_erp_init_demo(args: argparse.Namespace) -> int:
    from server.erp.demo import init_odbc_demo, init_sqlite_demo

    if args.odbc:
        init_odbc_demo(args.odbc, args.dialect, product_count=args.products)
        print(f"demo company created in the {args.dialect} database")
        return 0
    if not args.path:
        raise CliError("give a PATH for the SQLite company file, or --odbc for a PostgreSQL database", 2)
    try:
        path = init_sqlite_demo(Path(args.path), product_count=args.products, overwrite=args.force)
    except FileExistsError as exc:
        raise CliError(str(exc)) from None
    print(f"demo company created: {path} (+ {path.stem}.sscommon.db)")
    return 0


def hook_command() -> list[str]:
    found = shutil.which("erp-hook") or str(Path(sys.executable).parent / "erp-hook")
    return [found] if Path(found).exists() else [sys.executable, "-m", "erp_hooks.cli"]


def cmd_erp_action(args: argparse.Namespace) -> int:
    """Act in the demo ERP as a Symfonia user would, then run the hook as its automation would."""
    from server.erp.demo import ErpSimulator

    settings = _load(args)
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


# -- gRPC client commands ------------------------------------------------------
class Client:
    def __init__(self, settings: Settings) -> None:
        import grpc

        self.grpc = grpc
        self.address = settings.grpc.address
        ca = settings.hooks.tls_ca
        self.channel = (grpc.secure_channel(self.address,
                                            grpc.ssl_channel_credentials(settings.path(ca).read_bytes()))
                        if ca else grpc.insecure_channel(self.address))
        self.metadata = [("authorization", f"Bearer {settings.auth.token}")] if settings.auth.token else None

    def call(self, method: Callable[..., Any], request: Any, timeout: float = 60) -> Any:
        try:
            return method(request, timeout=timeout, metadata=self.metadata)
        except self.grpc.RpcError as exc:
            raise self.error(exc) from None

    def stream(self, responses: Any) -> Any:
        """The messages of a server-streaming call, with its errors as one-line CliErrors."""
        try:
            yield from responses
        except self.grpc.RpcError as exc:
            raise self.error(exc) from None

    def error(self, exc: Any) -> CliError:
        code = exc.code()
        if code == self.grpc.StatusCode.UNAVAILABLE and "connect" in (exc.details() or "").lower():
            return CliError(f"no server at {self.address}: start it with `shopsync serve` (or `make run`)")
        return CliError(f"{code.name}: {exc.details()}")


def _client_cmd(fn: Callable[[Client, argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        settings = load_settings(getattr(args, "config", None))
        client = Client(settings)
        try:
            return fn(client, args)
        finally:
            client.channel.close()
    return run


def _print_json(message: Any) -> None:
    from google.protobuf import json_format

    print(json.dumps(json_format.MessageToDict(message, preserving_proto_field_name=True), indent=2,
                     ensure_ascii=False))


def cmd_import_catalog(client: Client, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from shopsync.v1 import sync_pb2, sync_pb2_grpc

    stub = sync_pb2_grpc.SyncServiceStub(client.channel)
    last = None
    problems = []
    bar = tqdm(unit="product", desc="importing" if not args.dry_run else "checking", disable=args.quiet)
    try:
        for progress in stub.ImportCatalog(sync_pb2.ImportCatalogRequest(dry_run=args.dry_run),
                                           metadata=client.metadata):
            if progress.total and bar.total != progress.total:
                bar.total = progress.total
            bar.update(progress.seen - bar.n)
            bar.set_postfix(created=progress.created, paired=progress.paired, skipped=progress.skipped)
            problems += list(progress.problems)
            last = progress
    except client.grpc.RpcError as exc:
        bar.close()
        raise client.error(exc) from None
    bar.close()
    for p in problems:
        print(f"  skipped shop product {p.shop_product_id} (SKU {p.sku!r}): {p.reason}")
    if last is not None:
        verb = "would create" if args.dry_run else "created"
        print(f"{last.seen} products seen: {verb} {last.created}, paired {last.paired} by code, "
              f"{last.already_bound} already bound, {last.skipped} skipped")
    return 0


def cmd_customers(client: Client, args: argparse.Namespace) -> int:
    from shopsync.v1 import customers_pb2, customers_pb2_grpc

    stub = customers_pb2_grpc.CustomerServiceStub(client.channel)
    if args.customers_action == "list":
        token = ""
        rows = []
        while True:
            resp = client.call(stub.ListCustomers, customers_pb2.ListCustomersRequest(
                needs_person=args.needs_person, page_size=500, page_token=token))
            rows += resp.customers
            token = resp.next_page_token
            if not token:
                break
        for c in rows:
            status = customers_pb2.PairingStatus.Name(c.status).removeprefix("PAIRING_STATUS_").lower()
            who = f"-> contractor {c.erp_contractor_id}" if c.erp_contractor_id else ""
            print(f"{c.shop_customer_id:>8}  {status:13} {c.email:30} {c.nip:16} {who}  {c.detail}")
        print(f"{len(rows)} customer(s)")
    elif args.customers_action == "pair":
        resp = client.call(stub.PairCustomer, customers_pb2.PairCustomerRequest(
            request_id=secrets.token_hex(8), shop_customer_id=args.shop_customer_id,
            erp_contractor_id=args.erp_contractor_id))
        print(f"customer {resp.customer.shop_customer_id} paired with contractor {resp.customer.erp_contractor_id}")
    elif args.customers_action == "unpair":
        client.call(stub.UnpairCustomer, customers_pb2.UnpairCustomerRequest(
            request_id=secrets.token_hex(8), shop_customer_id=args.shop_customer_id))
        print(f"customer {args.shop_customer_id} unpaired; it now waits for a person")
    else:
        last = _follow(client, stub.RunCustomerPairing(customers_pb2.RunCustomerPairingRequest(),
                                                       metadata=client.metadata, timeout=3600),
                       "customers", lambda p: (p.seen, p.total))
        print(f"{last.seen} customers: {last.paired} paired, {last.needs_person} need a person")
    return 0


def cmd_queue(client: Client, args: argparse.Namespace) -> int:
    from shopsync.v1 import queue_pb2, queue_pb2_grpc

    stub = queue_pb2_grpc.QueueServiceStub(client.channel)
    if args.queue_action == "stats":
        _print_json(client.call(stub.GetQueueStats, queue_pb2.GetQueueStatsRequest()))
    elif args.queue_action == "dead-letters":
        _print_json(client.call(stub.ListDeadLetters, queue_pb2.ListDeadLettersRequest(page_size=1000)))
    elif args.queue_action == "retry":
        resp = client.call(stub.RetryDeadLetter, queue_pb2.RetryDeadLetterRequest(
            id=args.id, request_id=secrets.token_hex(8)))
        print(f"dead letter {args.id} queued again as message {resp.new_id}")
    else:
        client.call(stub.DiscardDeadLetter, queue_pb2.DiscardDeadLetterRequest(
            id=args.id, request_id=secrets.token_hex(8)))
        print(f"dead letter {args.id} discarded")
    return 0


def cmd_catch_up(client: Client, args: argparse.Namespace) -> int:
    from shopsync.v1 import sync_pb2, sync_pb2_grpc

    stream = sync_pb2_grpc.SyncServiceStub(client.channel).RunCatchUp(sync_pb2.RunCatchUpRequest(),
                                                                     metadata=client.metadata, timeout=3600)
    last = _follow(client, stream, "products", lambda p: (p.products_checked, p.products_total))
    print(f"{last.products_checked} products checked, {last.products_queued} queued for the shop")
    return 0


def _follow(client: "Client", stream: Any, unit: str, counts: Callable[[Any], tuple[int, int]]) -> Any:
    """Show a long pass's streamed progress as a bar (stderr); return its last message."""
    from tqdm import tqdm

    last = None
    with tqdm(unit=f" {unit}", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
        for last in client.stream(stream):
            done, total = counts(last)
            bar.total = total or None
            bar.n = done
            bar.refresh()
    if last is None:
        raise CliError("the server ended the pass without an answer")
    return last


# -- the parser ------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shopsync", description="Symfonia ERP Handel <-> online shop sync",
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--config", help="settings file (TOML); default $SHOPSYNC_CONFIG or embedded defaults")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("serve", help="run the sync server in the foreground").set_defaults(func=cmd_serve)
    sub.add_parser("run-demo", help="demo ERP + local shop + server (make run)").set_defaults(func=cmd_run_demo)

    p = sub.add_parser("demo-shop", help="run the local WooCommerce-compatible shop")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--db", default="var/demo/shop.db")
    p.add_argument("--key", default="ck_demo")
    p.add_argument("--secret", default="cs_demo")
    p.add_argument("--seed", action="store_true", help="fill an empty shop with sample data")
    p.add_argument("--webhook-url", default="", help="send webhooks of the topics shopsync takes here (kept in "
                   "the shop's database; also POST /wp-json/wc/v3/webhooks as in WooCommerce)")
    p.add_argument("--webhook-secret", default="", help="the secret that signs them (webhooks.secret)")
    p.set_defaults(func=cmd_demo_shop)

    erp = sub.add_parser("erp", help="the demo ERP: create it, or act in it as a Symfonia user")
    esub = erp.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = esub.add_parser("init-demo", help="create a demo company database")
    p.add_argument("path", nargs="?", help="SQLite company file to create")
    p.add_argument("--odbc", help="ODBC connection string of an empty PostgreSQL database instead")
    p.add_argument("--dialect", default="postgresql", choices=["postgresql"])
    p.add_argument("--products", type=int, default=300)
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(func=cmd_erp_init_demo)

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
    a = action("set-marker", "give (on) or take (off) the shop marker")
    a.add_argument("id", type=int)
    a.add_argument("state", choices=["on", "off"])
    a = action("edit-note", "replace a product's note")
    a.add_argument("id", type=int)
    a.add_argument("text")
    for name, help_text in (("approve-pz", "approve a goods receipt PZ"), ("reserve", "add a reservation")):
        a = action(name, help_text)
        a.add_argument("id", type=int)
        a.add_argument("quantity")
        a.add_argument("--warehouse", type=int, default=1)
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

    p = sub.add_parser("import-catalog", help="create the shop's products in the ERP and pair them")
    p.add_argument("--dry-run", action="store_true", help="report what would happen, write nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_client_cmd(cmd_import_catalog))

    p = sub.add_parser("customers", help="customer pairing with ERP contractors")
    csub = p.add_subparsers(dest="customers_action", required=True, metavar="ACTION")
    c = csub.add_parser("list", help="customers and their pairing")
    c.add_argument("--needs-person", action="store_true", help="only those waiting for a person")
    c = csub.add_parser("pair", help="pair a shop customer with an ERP contractor by hand")
    c.add_argument("shop_customer_id", type=int)
    c.add_argument("erp_contractor_id", type=int)
    c = csub.add_parser("unpair", help="remove a pairing")
    c.add_argument("shop_customer_id", type=int)
    csub.add_parser("run-pairing", help="run the automatic pairing pass now")
    p.set_defaults(func=_client_cmd(cmd_customers))

    p = sub.add_parser("queue", help="queue statistics and dead letters")
    qsub = p.add_subparsers(dest="queue_action", required=True, metavar="ACTION")
    qsub.add_parser("stats")
    qsub.add_parser("dead-letters")
    for name in ("retry", "discard"):
        q = qsub.add_parser(name)
        q.add_argument("id", type=int)
    p.set_defaults(func=_client_cmd(cmd_queue))

    sub.add_parser("catch-up", help="queue every product whose shop state is behind the ERP").set_defaults(
        func=_client_cmd(cmd_catch_up))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except SettingsError as exc:
        print(f"shopsync: settings: {exc}", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"shopsync: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`shopsync queue dead-letters | head`): that is not an error of ours.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        return 0
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        from server.erp.errors import ErpError
        from shop_client.errors import ShopError

        if isinstance(exc, (ErpError, ShopError, OSError, ValueError)):
            print(f"shopsync: {exc}", file=sys.stderr)
            return 1
        log.debug("unexpected error", exc_info=True)
        print(f"shopsync: internal error ({type(exc).__name__}: {exc}); run with --log-level DEBUG for details",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
