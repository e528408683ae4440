"""Settings: embedded defaults, then a TOML file, then SHOPSYNC_* environment variables.

Every setting is `section.key` in the TOML file and `SHOPSYNC_SECTION_KEY` in the
environment (e.g. `grpc.address` <- `SHOPSYNC_GRPC_ADDRESS`). A few short aliases
exist for the variables people type most: `SHOPSYNC_TOKEN` (auth.token) and
`SHOPSYNC_SPOOL` (hooks.spool). The result is one frozen object.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Mapping

from .erp.records import MarkerSource


class SettingsError(ValueError):
    """A setting is missing, unknown or has a value of the wrong kind."""


@dataclass(frozen=True)
class GrpcSettings:
    address: str = "127.0.0.1:50051"
    max_message_bytes: int = 4 * 1024 * 1024
    workers: int = 16
    # Listening on a non-loopback address without a token needs this set to true.
    allow_insecure_remote: bool = False  # no longer used: every call needs a token (auth), wherever it comes from
    tls_cert: str = ""
    tls_key: str = ""


@dataclass(frozen=True)
class AuthSettings:
    # The admin token: every RPC but health and reflection needs a token, on loopback too (other users of the
    # office machine are not trusted). Empty: the server makes one into token_file (owner-only) and says where;
    # `shopsync` reads it from there.
    token: str = ""
    token_file: str = "var/shopsync/admin-token"
    # The hook token, for the Symfonia workstations' erp-hook: it may only record ERP events and make the image
    # report's calls (leaked, it can say "something changed" and do what the image report lets a Symfonia user
    # do). Empty: made into hook_token_file (owner-only) for IT to copy into the workstations' hook settings.
    hook_token: str = ""
    hook_token_file: str = "var/shopsync/hook-token"


@dataclass(frozen=True)
class QueueSettings:
    # sqlite:///relative/or/absolute/path.db or postgresql://user:pass@host:port/db
    database: str = "sqlite:///var/shopsync/queue.db"
    lease_seconds: float = 60.0
    max_attempts: int = 12
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 300.0
    # FULL survives power loss; NORMAL survives a crash of the process only.
    sqlite_synchronous: str = "FULL"
    batch_size: int = 100
    # While the shop or the ERP refuses us as configured (or a setting is missing), delivery pauses and
    # looks again this often; it resumes by itself once it works.
    pause_recheck_seconds: float = 10.0


@dataclass(frozen=True)
class ErpSettings:
    # sqlite | postgresql | sqlserver
    dialect: str = "sqlite"
    # ODBC connection string; for sqlite the demo default is built from `database`.
    odbc: str = ""
    # sqlite only: the company database file attached as HM.
    database: str = "var/demo/erp.db"
    # Warehouses (HM.SM.magazyn) whose commercial stock is summed for the shop.
    warehouses: tuple[int, ...] = (1,)
    # What means "sold in the shop": "marker:N" = Symfonia's native marker number N on the product card
    # (HM.TW.znacznik, the coloured flag ERP users see in the product list), or "feature:NAME=VALUE" =
    # a product feature and its value (SSCommon.ProductClassification.CDim_<NAME>_Val).
    marker: str = "marker:1"
    # HM.NT.baza code of notes that belong to products.
    note_baza: int = 1
    # HM.CK.kod of the price list holding the base (retail) price.
    base_price_list: str = "DETAL"
    # Warehouse and document series for orders from the shop.
    order_warehouse: int = 1
    order_series: str = "sklep"
    # Seconds to wait for a lock before giving up (retryable).
    lock_timeout_seconds: int = 5
    max_code_length: int = 40
    # How shopsync reaches Symfonia: "sql" (the company database over ODBC: reads, and orders INSERTed into
    # the buffer) or "webapi" (Symfonia WebAPI: every write through the ERP's own calls, products, stock and
    # orders read through it, its change feeds read; some reads still need a read-only SQL login).
    # (Earlier versions called this erp.writer; that name is still read.)
    mode: str = "sql"
    # SQL writer: orders go into the ERP's buffer (bufor = 1) for a person to approve and number in
    # Symfonia. false: written as approved, with a number of our own making (ZMO <id>/<series>/<year>).
    order_buffer: bool = True
    # Symfonia WebAPI (mode = "webapi"): its base URL, the application key registered in its
    # configuration (a secret: never logged), the device name sessions are opened for, the timeout.
    webapi_url: str = "http://127.0.0.1:9000/api"
    webapi_app_key: str = ""
    webapi_device: str = "shopsync"
    webapi_timeout_seconds: float = 30.0
    # Required by OrdersIssue/New (OrderIssue.Department, SalePriceType): the department (dział) the
    # shop's orders belong to, and the sale price type they are priced in (1-4 PriceA-D, 16-31 PriceE-T).
    webapi_department: str = ""
    webapi_sale_price_type: int = 1
    # The WebAPI's change feeds (mode = "webapi", with change tracking switched on in its configurator):
    # read this often (0: not read; the hooks alone then), each read starting this much before the last
    # change seen (workstation clocks differ). What changed is queued only if its content did.
    feed_interval_seconds: float = 10.0
    feed_overlap_seconds: float = 60.0


@dataclass(frozen=True)
class ShopSettings:
    # woocommerce or oscar
    kind: str = "woocommerce"
    url: str = "http://127.0.0.1:8090"
    consumer_key: str = ""
    consumer_secret: str = ""
    timeout_seconds: float = 15.0
    # While the shop is down, delivery pauses and probes it this often.
    probe_interval_seconds: float = 0.5
    # Batches in flight at once (never two touching the same product).
    concurrency: int = 2
    # How images reach the shop: "upload" (we send the bytes; the shop needs no route to us),
    # "url" (the shop downloads them from webhooks.public_url), or "auto": upload when the
    # shop takes uploads (WooCommerce: wp_user + wp_app_password set), else url.
    image_mode: str = "auto"
    # A WordPress user and its application password, for image uploads (WordPress media API).
    wp_user: str = ""
    wp_app_password: str = ""
    verify_tls: bool = True
    # Where the shop keeps a customer's tax id, and where we write pairing status.
    nip_meta_key: str = "_billing_nip"
    pairing_meta_key: str = "_shopsync_pairing"
    # Customer meta a shop manager's pairing choice is written to by the companion plugin.
    pairing_request_meta_key: str = "_shopsync_pairing_request"
    # Product meta holding the price lists' prices, customer meta holding which
    # price lists apply to the customer (first wins).
    price_list_meta_key: str = "_shopsync_prices"
    customer_price_lists_meta_key: str = "_shopsync_price_lists"
    # django-oscar: the partner whose stock records we keep, and the class of new products.
    oscar_partner: str = "sklep"
    oscar_product_class: str = "towar"
    # Whether the shop's prices are entered with tax (WooCommerce: "Prices entered with tax"): the initial
    # import makes the ERP card's price of that kind, and a card's price of the other kind is converted.
    prices_include_tax: bool = False
    # The shop's tax classes -> the ERP's VAT rate codes, for the initial import ("none": products the shop
    # does not tax). A class not listed stops the import of that product with a problem naming it.
    tax_classes: Mapping[str, str] = field(default_factory=lambda: {"": "23", "standard": "23",
                                                                     "reduced-rate": "8", "zero-rate": "0",
                                                                     "none": "zw"})
    # The shop's time zone (IANA name): an order placed at 00:30 in Warsaw is that day's order in the ERP,
    # with the exchange rate of the business day before it, though the shop reports it in UTC.
    time_zone: str = "Europe/Warsaw"


@dataclass(frozen=True)
class WebhookSettings:
    # Take shop webhooks (an optional accelerator: orders and customers are polled anyway,
    # and the shop usually cannot reach the office). Off: nothing listens for the shop,
    # unless images go by URL (shop.image_mode), which the shop then downloads from here.
    enabled: bool = False
    # HTTP address for shop webhooks and the image URLs the shop downloads.
    address: str = "127.0.0.1:8765"
    secret: str = ""
    # How the shop reaches this server, for image URLs; empty = http://address.
    public_url: str = ""
    max_body_bytes: int = 2 * 1024 * 1024


@dataclass(frozen=True)
class OrderSettings:
    statuses: tuple[str, ...] = ("processing", "on-hold")
    # Orders new or changed since the last poll (one modified_after page each time): the
    # outbound-only way in, webhooks or not.
    poll_interval_seconds: float = 5.0
    # fixed | nbp
    rate_source: str = "fixed"
    fixed_rates: Mapping[str, float] = field(default_factory=dict)
    nbp_url: str = "https://api.nbp.pl"
    max_image_bytes: int = 5 * 1024 * 1024
    # The shop status an order moves to when its ERP order is realised / cancelled
    # (ERP states: new, partial, realised, cancelled; a state not named changes no status).
    status_map: Mapping[str, str] = field(default_factory=lambda: {"realised": "completed",
                                                                    "cancelled": "cancelled"})
    # Change a status a person set in the shop after us (default: keep theirs).
    overwrite_shop_status: bool = False
    # Invoices issued by the sync from the ERP order through Symfonia WebAPI (erp.mode = "webapi"), once:
    # "never" (a person issues them in Symfonia, as usual), "paid" (the shop order is paid: processing or
    # completed) or "completed".
    invoice: str = "never"
    # Which sale document the sync issues when `invoice` says: "invoice" (always a VAT invoice), "receipt"
    # (always a receipt, paragon) or "by_buyer" (an invoice when the buyer gives a valid NIP or asks for one
    # at checkout, `invoice_request_meta_key`; a receipt otherwise). Through Symfonia WebAPI only.
    document: str = "invoice"
    # The receipt's document type (a code of Sales/PARDocumentTypes, checked at start-up) and series ("" =
    # the type's default series).
    receipt_type: str = "PA"
    receipt_series: str = ""
    # The order meta key the shop's checkout sets when the buyer asks for an invoice ("yes"/"1"/"true").
    invoice_request_meta_key: str = "_billing_want_invoice"
    # The shop's payment method id -> the code of the Symfonia payment register (kasa/bank) its payments
    # are recorded in (checked against PaymentRegistries at start-up), e.g. { bacs = "BANK", przelewy24 =
    # "P24" }. A method not listed: its payments are not recorded (a person settles them). Cash on
    # delivery stays open until the shop marks the order paid.
    payment_registries: Mapping[str, str] = field(default_factory=dict)
    # The payment documents' types (Payments/KPDocumentTypes, /BPDocumentTypes) by register kind.
    payment_types: Mapping[str, str] = field(default_factory=lambda: {"cash": "KP", "bank": "BP", "other": "BP"})
    # The correction's document type by what it corrects (Sales/FKSDocumentTypes, /PRKDocumentTypes): a refund in
    # the shop becomes a correction of the order's invoice or receipt.
    correction_types: Mapping[str, str] = field(default_factory=lambda: {"invoice": "FKS", "receipt": "PRK"})
    # A refund that put the goods back in the shop's stock brings them back into the ERP's (a warehouse
    # correction). WooCommerce does not say per refund whether it restocked (its REST API keeps that to
    # itself): "always" (the default: a return comes back to stock), or "never" (goods kept or written off).
    refund_restock: str = "always"
    # An invoice not numbered by KSeF this many hours after it was issued (or rejected) raises an alert.
    ksef_alert_hours: float = 24.0
    # How often the KSeF status of the invoices still waiting for their number is asked for.
    ksef_check_seconds: float = 60.0
    # Shop statuses that cancel the ERP order (if nothing realised it yet; else a person is told).
    cancel_statuses: tuple[str, ...] = ("cancelled", "refunded")
    # ERP product codes (services) for the shipping and fee lines of an order. Empty: an order
    # that has shipping or a fee to pay is a dead letter naming the setting to fill.
    shipping_code: str = ""
    fee_code: str = ""
    # The shop's payment method id -> the ERP's payment form id (e.g. { bacs = 3, cod = 1 });
    # a method not listed gets the ERP's default form.
    payment_forms: Mapping[str, int] = field(default_factory=dict)
    # The ERP payment form of an order whose method is not in payment_forms (Symfonia requires one on every
    # order: OrderIssue.PaymentFormId). 0: the contractor card's own payment form, as Symfonia fills it in
    # for a person; an order without either waits, naming this setting.
    default_payment_form: int = 0
    # erp.mode = "webapi": a guest's order (no shop account) whose NIP matches no contractor is issued to a
    # one-time contractor (kontrahent incydentalny) with its billing data, instead of a new contractor card.
    guests_as_one_time: bool = False


@dataclass(frozen=True)
class ProductSettings:
    # Families of sizes and colours (docs/variants.md): "" (every card its own product), "feature:NAME" (the cards
    # sharing a value of feature NAME, SSCommon.ProductClassification.CDim_<NAME>_Val, become one variable product
    # in the shop, each card a variation) or "dimension:NAME" (the same, named as the WebAPI names it: a card's
    # Dimension). The family's value is the variable product's SKU: it must not be any card's code.
    variants_by: str = ""
    # The features (dimensions) that become the variable product's attributes, each card's value its option.
    variant_attributes: tuple[str, ...] = ()

    @property
    def family_feature(self) -> str:
        """The feature (dimension) naming each card's family; "" when families are not used."""
        return self.variants_by.partition(":")[2].strip()


@dataclass(frozen=True)
class SyncSettings:
    catch_up_interval_seconds: float = 300.0
    customer_pass_interval_seconds: float = 600.0
    # Compare what the shop really holds with the ERP and correct the difference (0 = off).
    reconcile_interval_seconds: float = 3600.0
    # A product the ERP sells online that a person deleted or trashed in the shop:
    # "recreate" (create or restore it) or "report" (leave it, tell a person; no updates meanwhile).
    removed_in_shop: str = "recreate"
    # A document hook can come before the document is issued (Symfonia's OnBeforeInsert) or for a draft
    # that never is: nothing is sent for it; it is looked at again, at growing intervals, this long.
    draft_document_wait_seconds: float = 900.0
    # Run the background workers (off only for tools and some tests).
    workers: bool = True


@dataclass(frozen=True)
class HookSettings:
    spool: str = "var/shopsync/hook-spool.jsonl"
    timeout_seconds: float = 2.0
    # CA certificate (PEM) that signed the server's TLS certificate; also used by the CLI.
    tls_ca: str = ""


@dataclass(frozen=True)
class LogSettings:
    level: str = "INFO"
    # Also log to this file, rotated at 10 MB, 5 kept (the Windows service logs under ProgramData).
    file: str = ""


@dataclass(frozen=True)
class ConsoleSettings:
    # The operators' console and /metrics (loopback unless set; TLS with grpc.tls_cert / grpc.tls_key).
    address: str = "127.0.0.1:8770"
    user: str = "admin"
    # A slow (argon2) hash from `shopsync console hash-password`, which reads the password on stdin.
    # Empty: the console stays off (the log says how to turn it on); /metrics is served all the same.
    password_hash: str = ""
    # Bearer token for /metrics from another machine (from loopback none is needed); empty: loopback only.
    metrics_token: str = ""
    # How people reach the console, for links in alerts (default http(s)://<address>).
    public_url: str = ""
    # Failed logins from one address per minute before it must wait.
    login_attempts_per_minute: int = 5


@dataclass(frozen=True)
class AlertSettings:
    # Mail over SMTP (STARTTLS unless smtp_starttls = false) to mail_to (comma-separated); and/or a JSON POST
    # ({"text", "state", "condition", "link"}) to webhook_url (chat webhooks). Nothing set: no alerts.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = ""
    mail_to: str = ""
    webhook_url: str = ""
    # How often conditions are looked at.
    check_seconds: float = 30.0
    # The shop or the ERP unreachable for longer than this (minutes).
    unreachable_minutes: float = 10.0
    # No hook for this long during working hours (minutes; 0 = off); working hours as "Mon-Fri 08:00-16:00".
    no_hook_minutes: float = 120.0
    working_hours: str = "Mon-Fri 08:00-16:00"
    # The oldest message waiting longer than this (minutes).
    oldest_message_minutes: float = 60.0
    # At most one message per condition this often (minutes): new dead letters meanwhile are grouped.
    min_interval_minutes: float = 15.0


@dataclass(frozen=True)
class Settings:
    grpc: GrpcSettings = GrpcSettings()
    auth: AuthSettings = AuthSettings()
    queue: QueueSettings = QueueSettings()
    erp: ErpSettings = ErpSettings()
    shop: ShopSettings = ShopSettings()
    webhooks: WebhookSettings = WebhookSettings()
    orders: OrderSettings = OrderSettings()
    products: ProductSettings = ProductSettings()
    sync: SyncSettings = SyncSettings()
    hooks: HookSettings = HookSettings()
    log: LogSettings = LogSettings()
    console: ConsoleSettings = ConsoleSettings()
    alerts: AlertSettings = AlertSettings()
    # Folder that relative paths are resolved against.
    base_dir: str = "."
    # What loading the settings has to tell a person (e.g. an old setting read under its new name).
    notices: tuple[str, ...] = ()

    def path(self, value: str) -> Path:
        """Resolve a path setting against base_dir."""
        p = Path(value)
        return p if p.is_absolute() else Path(self.base_dir) / p

    def replace(self, **sections: Any) -> "Settings":
        """A copy with whole sections or single keys changed: replace(grpc={'address': 'x'})."""
        changes: dict[str, Any] = {}
        for name, value in sections.items():
            if isinstance(value, dict):
                changes[name] = dataclasses.replace(getattr(self, name), **value)
            else:
                changes[name] = value
        return dataclasses.replace(self, **changes)


ALIASES = {"SHOPSYNC_TOKEN": ("auth", "token"), "SHOPSYNC_SPOOL": ("hooks", "spool")}
# Settings an earlier version read, and what they are now: (section, old keys) -> how to rewrite them.
LEGACY_MARKER_KEYS = ("marker_feature", "marker_value")
SECRET_KEYS = {("auth", "token"), ("shop", "consumer_secret"), ("shop", "consumer_key"),
               ("shop", "wp_app_password"), ("webhooks", "secret"), ("erp", "webapi_app_key"),
               ("console", "password_hash"), ("console", "metrics_token"), ("alerts", "smtp_password")}


def _coerce(section: str, key: str, raw: Any, target: Any) -> Any:
    where = f"{section}.{key}"
    if isinstance(target, bool):
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return raw.lower() in ("1", "true", "yes", "on")
        raise SettingsError(f"{where}: expected true or false, got {raw!r}")
    if isinstance(target, int):
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"{where}: expected a whole number, got {raw!r}") from None
    if isinstance(target, float):
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"{where}: expected a number, got {raw!r}") from None
    if isinstance(target, tuple):
        items = raw
        if isinstance(raw, str):
            items = [s.strip() for s in raw.split(",") if s.strip()]
        if not isinstance(items, (list, tuple)):
            raise SettingsError(f"{where}: expected a list, got {raw!r}")
        kind = type(target[0]) if target else str
        try:
            return tuple(kind(i) for i in items)
        except (TypeError, ValueError):
            raise SettingsError(f"{where}: list items must be {kind.__name__}, got {raw!r}") from None
    if isinstance(target, Mapping):
        value = raw
        if isinstance(raw, str):
            try:
                value = json.loads(raw)
            except ValueError:
                raise SettingsError(f"{where}: expected a JSON object, got {raw!r}") from None
        if not isinstance(value, Mapping):
            raise SettingsError(f"{where}: expected a table, got {raw!r}")
        return dict(value)
    if not isinstance(raw, str):
        raise SettingsError(f"{where}: expected text, got {raw!r}")
    return raw


def load_settings(path: str | os.PathLike[str] | None = None,
                  env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from defaults, an optional TOML file and the environment.

    `path` falls back to SHOPSYNC_CONFIG; no file at all is fine (embedded defaults).
    """
    env = os.environ if env is None else env
    path = path or env.get("SHOPSYNC_CONFIG") or None
    data: dict[str, dict[str, Any]] = {}
    base_dir = Path.cwd()
    if path:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"settings file {p} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"settings file {p} is not valid TOML: {exc}") from None
        base_dir = p.resolve().parent
    notices = _migrate_legacy(data, env)
    defaults = Settings()
    sections: dict[str, Any] = {}
    known = {f.name for f in dataclasses.fields(Settings)} - {"base_dir", "notices"}
    for name in data:
        if name not in known:
            raise SettingsError(f"unknown settings section [{name}] (known: {', '.join(sorted(known))})")
    for name in known:
        section = getattr(defaults, name)
        values = dict(data.get(name, {}))
        field_names = {f.name for f in dataclasses.fields(section)}
        for key in values:
            if key not in field_names:
                raise SettingsError(f"unknown setting {name}.{key}")
        for key in field_names:
            var = f"SHOPSYNC_{name.upper()}_{key.upper()}"
            if var in env:
                values[key] = env[var]
        for alias, (sec, key) in ALIASES.items():
            if sec == name and alias in env and f"SHOPSYNC_{sec.upper()}_{key.upper()}" not in env:
                values[key] = env[alias]
        coerced = {k: _coerce(name, k, v, getattr(section, k)) for k, v in values.items()}
        sections[name] = dataclasses.replace(section, **coerced)
    settings = Settings(**sections, base_dir=str(base_dir), notices=tuple(notices))
    validate(settings)
    return settings


def _migrate_legacy(data: dict[str, dict[str, Any]], env: Mapping[str, str]) -> list[str]:
    """Rewrite settings an earlier version read into today's (in `data`); say what was rewritten."""
    erp = data.setdefault("erp", {})
    notices = []
    writer = erp.pop("writer", None) if "writer" in erp else env.get("SHOPSYNC_ERP_WRITER")
    if writer is not None:
        mode = erp.get("mode", env.get("SHOPSYNC_ERP_MODE"))
        if mode is not None and mode != writer:
            raise SettingsError(f"erp.writer = {writer!r} and erp.mode = {mode!r} disagree: erp.writer is now "
                                "erp.mode; remove erp.writer")
        erp["mode"] = writer
        notices.append(f"erp.writer is read as erp.mode = \"{writer}\"; write that in the settings file instead "
                       "(erp.writer will not be read by a later version)")
    old = {k: erp.pop(k) for k in LEGACY_MARKER_KEYS if k in erp}
    old.update({k: env[f"SHOPSYNC_ERP_{k.upper()}"] for k in LEGACY_MARKER_KEYS if f"SHOPSYNC_ERP_{k.upper()}" in env})
    if not old:
        return notices
    if "marker" in erp or "SHOPSYNC_ERP_MARKER" in env:
        raise SettingsError("erp.marker_feature / erp.marker_value are replaced by erp.marker: remove them "
                            "(erp.marker is set)")
    erp["marker"] = f"feature:{old.get('marker_feature', 'Sklep')}={old.get('marker_value', 'TAK')}"
    return notices + [f"erp.marker_feature / erp.marker_value are read as erp.marker = \"{erp['marker']}\"; "
                      "write that in the settings file instead (they will not be read by a later version)"]


# (section, key, lowest, highest): numbers outside these cannot work.
RANGES: tuple[tuple[str, str, float, float], ...] = (
    ("grpc", "max_message_bytes", 1024, 2**31 - 1), ("grpc", "workers", 1, 256),
    ("queue", "lease_seconds", 1, 86400), ("queue", "max_attempts", 1, 1000),
    ("queue", "backoff_base_seconds", 0, 86400), ("queue", "backoff_max_seconds", 0, 86400),
    ("queue", "batch_size", 1, 100), ("queue", "pause_recheck_seconds", 0.05, 3600),
    ("erp", "lock_timeout_seconds", 1, 3600), ("erp", "max_code_length", 1, 1000),
    ("erp", "webapi_timeout_seconds", 0.1, 3600),
    ("erp", "feed_interval_seconds", 0, 86400),
    ("erp", "feed_overlap_seconds", 0, 86400),
    ("shop", "timeout_seconds", 0.1, 3600), ("shop", "probe_interval_seconds", 0.05, 3600),
    ("shop", "concurrency", 1, 16),
    ("webhooks", "max_body_bytes", 1024, 2**31 - 1),
    ("orders", "poll_interval_seconds", 0, 86400), ("orders", "max_image_bytes", 1024, 2**31 - 1),
    ("sync", "catch_up_interval_seconds", 0, 86400 * 7), ("sync", "customer_pass_interval_seconds", 0, 86400 * 7),
    ("sync", "reconcile_interval_seconds", 0, 86400 * 7),
    ("console", "login_attempts_per_minute", 1, 1000), ("alerts", "check_seconds", 0.1, 86400),
    ("alerts", "smtp_port", 1, 65535), ("alerts", "unreachable_minutes", 0, 10080),
    ("alerts", "no_hook_minutes", 0, 10080), ("alerts", "oldest_message_minutes", 0, 10080),
    ("alerts", "min_interval_minutes", 0, 10080), ("sync", "draft_document_wait_seconds", 1, 86400 * 7),
    ("hooks", "timeout_seconds", 0.1, 600),
)


def validate(settings: Settings) -> None:
    """Refuse settings that cannot work, with the setting's name in the message."""
    for section, key, low, high in RANGES:
        value = getattr(getattr(settings, section), key)
        if not low <= value <= high:
            raise SettingsError(f"{section}.{key} must be between {low:g} and {high:g}, got {value!r}")
    if settings.shop.image_mode not in ("auto", "upload", "url"):
        raise SettingsError(f"shop.image_mode must be auto, upload or url, not {settings.shop.image_mode!r}")
    if settings.sync.removed_in_shop not in ("recreate", "report"):
        raise SettingsError(f"sync.removed_in_shop must be recreate or report, not {settings.sync.removed_in_shop!r}")
    unknown = set(settings.orders.status_map) - {"new", "partial", "realised", "cancelled"}
    if unknown:
        raise SettingsError(f"orders.status_map: unknown ERP state {sorted(unknown)[0]!r} "
                            "(known: new, partial, realised, cancelled)")
    for currency, rate in settings.orders.fixed_rates.items():
        try:
            ok = Decimal(str(rate)) > 0 and not isinstance(rate, bool)
        except InvalidOperation:
            ok = False
        if not ok:
            raise SettingsError(f"orders.fixed_rates.{currency} must be a positive number, got {rate!r}")
    variants = settings.products
    if variants.variants_by and (variants.variants_by.partition(":")[0] not in ("feature", "dimension")
                                 or not variants.family_feature):
        raise SettingsError(f"products.variants_by must be \"feature:NAME\" or \"dimension:NAME\" (or empty), not "
                            f"{variants.variants_by!r}")
    if variants.variants_by and not variants.variant_attributes:
        raise SettingsError("products.variant_attributes: name the features that tell a family's cards apart (e.g. "
                            "[\"Rozmiar\", \"Kolor\"]); products.variants_by is set")
    for name in (variants.family_feature, *variants.variant_attributes):
        if name and not MarkerSource.feature_name_ok(name):
            raise SettingsError(f"products.variants_by / variant_attributes: feature name {name!r}: letters, digits "
                                "and _ only, as Symfonia names features")
    if variants.family_feature in variants.variant_attributes:
        raise SettingsError(f"products.variant_attributes: {variants.family_feature!r} names the family "
                            "(products.variants_by), it cannot also be an attribute")
    if settings.erp.dialect not in ("sqlite", "postgresql", "sqlserver"):
        raise SettingsError(f"erp.dialect must be sqlite, postgresql or sqlserver, not {settings.erp.dialect!r}")
    try:
        MarkerSource.parse(settings.erp.marker)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    from .alerts import validate_working_hours

    try:
        validate_working_hours(settings.alerts.working_hours)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    if settings.orders.invoice not in ("never", "paid", "completed"):
        raise SettingsError(f"orders.invoice must be never, paid or completed, not {settings.orders.invoice!r}")
    if settings.orders.invoice != "never" and settings.erp.mode != "webapi":
        raise SettingsError("orders.invoice: invoices are issued through Symfonia WebAPI only; set erp.mode = "
                            "\"webapi\" (and erp.webapi_app_key), or orders.invoice = \"never\"")
    if settings.orders.document not in ("invoice", "receipt", "by_buyer"):
        raise SettingsError(f"orders.document must be invoice, receipt or by_buyer, not {settings.orders.document!r}")
    if settings.orders.payment_registries and settings.erp.mode != "webapi":
        raise SettingsError("orders.payment_registries: payments are recorded through Symfonia WebAPI only; set "
                            "erp.mode = \"webapi\", or leave orders.payment_registries empty")
    for kind in ("cash", "bank", "other"):
        if not str(settings.orders.payment_types.get(kind) or "").strip():
            raise SettingsError(f"orders.payment_types.{kind}: the payment document type for a {kind} register "
                                "(e.g. KP, BP) must be set")
    if settings.orders.refund_restock not in ("always", "never"):
        raise SettingsError(f"orders.refund_restock must be always or never, not {settings.orders.refund_restock!r}")
    if settings.orders.ksef_alert_hours <= 0 or settings.orders.ksef_check_seconds <= 0:
        raise SettingsError("orders.ksef_alert_hours and orders.ksef_check_seconds must be positive")
    if settings.orders.guests_as_one_time and settings.erp.mode != "webapi":
        raise SettingsError("orders.guests_as_one_time: one-time contractors are made by Symfonia WebAPI only; set "
                            "erp.mode = \"webapi\", or orders.guests_as_one_time = false")
    if settings.erp.mode not in ("sql", "webapi"):
        raise SettingsError(f"erp.mode must be sql or webapi, not {settings.erp.mode!r}")
    if settings.erp.mode == "webapi" and not settings.erp.webapi_app_key:
        raise SettingsError("erp.webapi_app_key: erp.mode = \"webapi\" needs the application key registered in "
                            "Symfonia WebAPI's configuration")
    if settings.erp.mode == "webapi" and not settings.erp.webapi_department.strip():
        raise SettingsError("erp.webapi_department: Symfonia requires the department (dział) of every order "
                            "issued through the WebAPI; write the department the shop's orders belong to")
    if settings.erp.mode == "webapi" and settings.erp.webapi_sale_price_type not in (*range(1, 5), *range(16, 32)):
        raise SettingsError(f"erp.webapi_sale_price_type must be 1-4 (PriceA-D) or 16-31 (PriceE-T), "
                            f"got {settings.erp.webapi_sale_price_type!r}")
    if settings.erp.mode == "webapi" and not settings.erp.webapi_url.startswith(("http://", "https://")):
        raise SettingsError(f"erp.webapi_url must start with http:// or https://, got {settings.erp.webapi_url!r}")
    for method, form in settings.orders.payment_forms.items():
        if isinstance(form, bool) or not isinstance(form, int) or form <= 0:
            raise SettingsError(f"orders.payment_forms.{method} must be a positive ERP payment form id, got {form!r}")
    form = settings.orders.default_payment_form
    if isinstance(form, bool) or not isinstance(form, int) or form < 0:
        raise SettingsError(f"orders.default_payment_form must be an ERP payment form id (0: the contractor's "
                            f"own), got {form!r}")
    try:
        zoneinfo.ZoneInfo(str(settings.shop.time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"shop.time_zone must be a time zone name such as Europe/Warsaw, got "
                            f"{settings.shop.time_zone!r}") from None
    if not settings.erp.warehouses:
        raise SettingsError("erp.warehouses must name at least one warehouse")
    if settings.shop.kind not in ("woocommerce", "oscar"):
        raise SettingsError(f"shop.kind {settings.shop.kind!r} is not supported (woocommerce, oscar)")
    if settings.orders.rate_source not in ("fixed", "nbp"):
        raise SettingsError(f"orders.rate_source must be fixed or nbp, not {settings.orders.rate_source!r}")
    if settings.queue.sqlite_synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
        raise SettingsError("queue.sqlite_synchronous must be FULL, NORMAL or EXTRA")
    if not settings.queue.database.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise SettingsError("queue.database must start with sqlite:/// or postgresql://")


def redacted(settings: Settings) -> dict[str, Any]:
    """The settings as a dict with every secret (and database password) replaced."""
    out = dataclasses.asdict(settings)
    for sec, key in SECRET_KEYS:
        if out[sec][key]:
            out[sec][key] = "***"
    out["queue"]["database"] = redact_url(settings.queue.database)
    out["erp"]["odbc"] = redact_odbc(settings.erp.odbc)
    return out


def redact_url(url: str) -> str:
    """postgresql://user:secret@host/db -> postgresql://user:***@host/db."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def redact_odbc(conn: str) -> str:
    """Hide PWD=/Password= values in an ODBC connection string."""
    parts = []
    for part in conn.split(";"):
        k, sep, _ = part.partition("=")
        parts.append(f"{k}=***" if sep and k.strip().lower() in ("pwd", "password") else part)
    return ";".join(parts)
