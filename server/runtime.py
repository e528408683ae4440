"""The server's long-lived parts, opened once and handed to the servicers.

Workers (threads):
- events:  erp_events -> read the ERP -> outbox snapshots
- outbox:  outbox -> shop
- inbox:   inbox (webhooks, polling) -> ERP
- clock:   periodic catch-up, customer pairing pass, order polling, housekeeping
plus the HTTP service for webhooks and image URLs.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Sequence

from erp_hooks import oslock
from shop_client.errors import ShopConfigError, ShopError, ShopUnavailable
from shop_client.interface import ShopClient

from .erp.errors import ErpConfigError, ErpRetryable
from .erp.interface import Erp
from .erp import make_erp
from .queue.cursors import Holds
from .queue.images import ImageStore
from .queue.store import Backoff, Message, QueueStore
from .settings import Settings, SettingsError, redact_url
from .sync import catchup, customers, feeds, money, orders, reconcile
from .sync.context import SyncContext
from .sync.dispatch import run_batch
from .sync.orders import WAIT_RECHECK_SECONDS
from .sync.outcome import CONFIG_ERROR, DEAD, DONE, RETRY, SHOP, SHOP_DOWN, WAITING, Outcome
from .sync.product_images import image_mode
from .activity import Activity
from .alerts import Alerts
from .metrics import Metrics, Timed

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5  # how often a worker looks for work enqueued by another process


def make_shop(settings: Settings) -> ShopClient:
    if settings.shop.kind == "woocommerce":
        from shop_client.woocommerce import WooCommerceShop

        return WooCommerceShop.from_settings(settings.shop)
    if settings.shop.kind == "oscar":
        from shop_client.oscar import OscarShop

        return OscarShop.from_settings(settings.shop)
    raise ValueError(f"shop.kind {settings.shop.kind!r} is not supported")


class QueueWorker(threading.Thread):
    """Claims batches from one queue, runs them through the synchronizers, settles every outcome.

    The one place where messages are settled: acknowledged, retried after a back-off,
    made dead letters, parked while they wait for a person, or kept while the shop is
    down or refuses our settings (delivery then pauses and probes the shop).
    Never dies of an error.
    """

    def __init__(self, runtime: "Runtime", queue: str, batch: int, number: int = 0) -> None:
        super().__init__(name=f"worker-{queue}" + (f"-{number}" if number else ""), daemon=True)
        self.rt, self.queue, self.batch = runtime, queue, batch
        self._paused_for = ""  # the reason delivery was last paused for (said once, not every look)

    def run(self) -> None:
        store, stopping = self.rt.store, self.rt.stopping
        lease = self.rt.settings.queue.lease_seconds
        while not stopping.is_set():
            try:
                msgs = store.claim(self.queue, limit=self.batch, lease_seconds=lease)
            except Exception as exc:  # noqa: BLE001 - the queue database may be briefly unavailable
                log.warning("%s: cannot claim: %s", self.name, exc)
                stopping.wait(1.0)
                continue
            if not msgs:
                try:
                    nxt = store.next_available_in(self.queue)
                except Exception:  # noqa: BLE001
                    nxt = None
                store.wait(min(POLL_SECONDS, nxt) if nxt is not None else POLL_SECONDS)
                continue
            try:
                self.settle(run_batch(self.rt.ctx, msgs))
            except Exception:  # noqa: BLE001 - e.g. the queue database went away while settling
                log.exception("%s: cannot settle a batch (its leases will expire and it is tried again)", self.name)

    def settle(self, results: Sequence[tuple[Message, Outcome]]) -> None:
        store = self.rt.store
        by_state: dict[str, list[tuple[Message, Outcome]]] = {}
        for m, o in results:
            by_state.setdefault(o.state, []).append((m, o))
            if self.rt.metrics is not None:
                self.rt.metrics.settled.labels(m.queue, m.kind, o.state).inc()
            self.rt.activity.settled(m.kind, o.state)
        store.ack([m for m, _ in by_state.get(DONE, [])])
        if by_state.get(DONE) and self._paused_for:
            log.info("%s: delivering again (was paused: %s)", self.name, self._paused_for)
            self._paused_for = ""
        for m, o in by_state.get(RETRY, []):
            store.fail(m, o.reason, retryable=True, why=o.why_json())
        for m, o in by_state.get(DEAD, []):
            store.fail(m, o.reason, retryable=False, why=o.why_json())
        for m, o in by_state.get(WAITING, []):
            store.park(m, o.reason, o.delay if o.delay is not None else WAIT_RECHECK_SECONDS, why=o.why_json())
        if by_state.get(CONFIG_ERROR):
            kept = by_state[CONFIG_ERROR] + by_state.get(SHOP_DOWN, [])
            self._misconfigured([m for m, _ in kept], by_state[CONFIG_ERROR][0][1])
        elif by_state.get(SHOP_DOWN):
            self._shop_down(by_state[SHOP_DOWN])

    def _shop_down(self, held: list[tuple[Message, Outcome]]) -> None:
        """Messages the shop did not take: is it down, or did only this batch fail?

        Down: the messages go back unchanged (no attempt counted, so an outage of any
        length dead-letters nothing) and delivery pauses, probing the shop every
        shop.probe_interval_seconds; it resumes the moment the shop answers.
        Up: the batch itself is the problem; its messages back off as usual.
        """
        shop, store = self.rt.ctx.shop, self.rt.store
        msgs = [m for m, _ in held]
        first = held[0][1]
        try:
            shop.ping()
        except ShopUnavailable:
            store.release(msgs)
            log.warning("shop unavailable (%s); %d message(s) wait, probing every %.1f s", first.reason,
                        len(msgs), self.rt.settings.shop.probe_interval_seconds)
            retry_after = getattr(first.error, "retry_after", None) or 0
            wait = max(self.rt.settings.shop.probe_interval_seconds, retry_after)
            while not self.rt.stopping.wait(wait):
                try:
                    shop.ping()
                    log.info("shop is back; delivering")
                    return
                except ShopUnavailable:
                    wait = self.rt.settings.shop.probe_interval_seconds
                except ShopError:
                    return
            return
        except ShopError:
            pass
        for m, o in held:
            store.fail(m, o.reason, retryable=True, why=o.why_json())

    def _misconfigured(self, msgs: Sequence[Message], first: Outcome) -> None:
        """The shop or the ERP refuses us as configured (keys, rights, URL, a missing setting): keep every
        message, say so once, and look again every queue.pause_recheck_seconds; delivery resumes by itself
        once it works (the shop is probed; for the ERP the batch is simply tried again)."""
        self.rt.store.release(msgs)
        if first.reason != self._paused_for:
            log.error("%s: delivery paused, %d message(s) kept: %s", self.name, len(msgs), first.reason)
            self._paused_for = first.reason
        else:
            log.debug("%s: still paused (%s)", self.name, first.reason)
        while not self.rt.stopping.wait(self.rt.settings.queue.pause_recheck_seconds):
            if first.side != SHOP:
                return  # the next claim tries the batch again: it flows once the ERP or the setting is right
            try:
                self.rt.ctx.shop.ping()
            except ShopConfigError:
                log.debug("%s: still paused (%s)", self.name, first.reason)
                continue
            except ShopError:
                return  # another kind of trouble: the normal paths handle it
            log.info("%s: the shop takes our requests again; delivering", self.name)
            self._paused_for = ""
            return

FEEDS_CATCH_UP_SECONDS = 86400.0  # the periodic full catch-up while the ERP's change feeds are read


class Clock(threading.Thread):
    """Runs the periodic passes; each task's errors are logged and retried next time."""

    def __init__(self, runtime: "Runtime", tasks: list[tuple[str, float, Callable[[], Any]]],
                 name: str = "clock") -> None:
        super().__init__(name=name, daemon=True)
        self.rt = runtime
        self.tasks = tasks
        self.next_run = {name: time.monotonic() + 1.0 for name, _, _ in tasks}

    def run(self) -> None:
        while not self.rt.stopping.is_set():
            now = time.monotonic()
            for name, interval, fn in self.tasks:
                if interval <= 0 or now < self.next_run[name]:
                    continue
                self.next_run[name] = now + interval
                try:
                    if not self.rt.ctx.cursors.claim_turn(name, interval):
                        continue  # another server sharing the queue database ran it just now
                    result = fn()
                    log.debug("%s: %s", name, result)
                except (ShopUnavailable, ErpRetryable, ShopConfigError, ErpConfigError) as exc:
                    log.warning("%s postponed: %s", name, exc)
                except Exception:  # noqa: BLE001
                    log.exception("%s failed", name)
            self.rt.stopping.wait(0.5)


class Monitor(threading.Thread):
    """Asks the shop and the ERP whether they answer, every alerts.check_seconds (at most 30 s), for the
    console's overview, /metrics and the alerts. The workers keep their own, faster, probing."""

    def __init__(self, runtime: "Runtime") -> None:
        super().__init__(name="monitor", daemon=True)
        self.rt = runtime

    def run(self) -> None:
        interval = min(30.0, self.rt.settings.alerts.check_seconds)
        while True:
            self.look()
            if self.rt.stopping.wait(interval):
                return

    def look(self) -> None:
        probes = [("shop", self.rt.ctx.shop.ping), ("erp", self.rt.ctx.erp.ping)]  # the ERP: its database or WebAPI
        for side, probe in probes:
            try:
                probe()
                self.rt.activity.reached(side, True)
            except Exception as exc:  # noqa: BLE001 - whatever it is, the side did not answer
                self.rt.activity.reached(side, False, f"{type(exc).__name__}: {exc}")
        try:  # the ERP's own dictionaries against our settings, where it has them (logged when they change)
            self.rt.ctx.erp.settings_ok()
        except (ErpRetryable, ErpConfigError) as exc:
            log.debug("the ERP's settings are checked when the ERP answers: %s", exc)


class Runtime:
    """Queue store, sync tables, ERP, shop client, HTTP service and workers of one server."""

    def __init__(self, settings: Settings, *, shop: ShopClient | None = None, erp: Erp | None = None) -> None:
        self.settings = settings
        self.store: QueueStore = None  # type: ignore[assignment]
        self._shop, self._erp = shop, erp
        self.ctx: SyncContext = None  # type: ignore[assignment]
        self.http: Any = None  # the intake door (webhooks, image URLs), when anything listens for the shop
        self.console_http: Any = None  # the console and /metrics
        self.activity = Activity()
        self.metrics: Metrics = None  # type: ignore[assignment]
        self._threads: list[threading.Thread] = []
        self.stopping = threading.Event()
        self._queue_lock: int | None = None

    def open(self) -> None:
        """Open the queue database (the server is SERVING only after this) and build the parts."""
        s = self.settings
        url = s.queue.database
        local = url.startswith("sqlite:///")
        if local:
            path = s.path(url[len("sqlite:///"):])
            url = "sqlite:///" + str(path)
            # A SQLite queue belongs to one server (PostgreSQL is for sharing): hold it for our lifetime.
            try:
                self._queue_lock = oslock.acquire(path.with_name(path.name + ".server-lock"))
            except oslock.LockBusy:
                raise SettingsError(f"queue.database {path} is in use by another shopsync server on this machine; "
                                    "stop it, or share a PostgreSQL queue (queue.database = postgresql://...)"
                                    ) from None
        self.store = QueueStore.from_url(
            url, sqlite_synchronous=s.queue.sqlite_synchronous,
            backoff=Backoff(s.queue.backoff_base_seconds, s.queue.backoff_max_seconds, s.queue.max_attempts))
        log.info("queue database open: %s", redact_url(url))
        if local:
            released = self.store.release_all_leases()
            if released:
                log.info("%d message(s) claimed by the previous run, which stopped before settling them, are "
                         "queued again", released)
        erp = self._erp or make_erp(s)
        shop = self._shop or make_shop(s)
        self.metrics = Metrics(self.store, self.activity)
        # Every shop and ERP call timed and its failures counted (/metrics).
        self.ctx = SyncContext.open(s, self.store, Timed(erp, "erp", self.metrics), Timed(shop, "shop", self.metrics))
        # Unanswered ERP requests are remembered in the queue database, across restarts.
        erp.use_holds(Holds(self.ctx.cursors))
        erp.use_images(ImageStore(self.store))

    def start(self) -> None:
        """Start the HTTP doors and, unless sync.workers is off, the workers."""
        from .web import CONSOLE, INTAKE, HttpService, create_app

        s = self.settings
        app = create_app(self)
        tls = (str(s.path(s.grpc.tls_cert)), str(s.path(s.grpc.tls_key))) if s.grpc.tls_cert and s.grpc.tls_key \
            else None
        images_by_url = image_mode(self.ctx) == "url"
        if s.webhooks.enabled or images_by_url:
            self.http = HttpService(app, s.webhooks.address, INTAKE)
            self.http.start()
            log.info("%s on http://%s (port %d)", " and ".join(
                w for w, on in (("webhooks", s.webhooks.enabled), ("image URLs", images_by_url)) if on),
                s.webhooks.address, self.http.port)
        else:
            log.info("outbound only: nothing listens for the shop (orders polled every %g s, images uploaded)",
                     s.orders.poll_interval_seconds)
        try:
            self.console_http = HttpService(app, s.console.address, CONSOLE, tls=tls)
        except OSError as exc:  # the sync matters more than its window: it runs on, and says why there is none
            log.error("operators' console and /metrics not started: console.address %s cannot be used (%s); "
                      "set another console.address", s.console.address, exc.strerror or exc)
        else:
            self.console_http.start()
            self._console_started(s)
        if not s.sync.workers:
            return
        self._start_workers(s)

    def _console_started(self, s: Settings) -> None:
        where = f"{self.console_http.scheme}://{s.console.address} (port {self.console_http.port})"
        if s.console.password_hash:
            log.info("operators' console on %s; /metrics there too", where)
        else:
            log.warning("operators' console is off: no console.password_hash (make one with `shopsync console "
                        "hash-password`, then set it and console.user); /metrics is on %s", where)

    def _start_workers(self, s: Settings) -> None:
        batch = s.queue.batch_size
        self._threads = [
            QueueWorker(self, "erp_events", batch),
            # Several batches in flight: the queue never leases two messages of one product at once.
            *[QueueWorker(self, "outbox", batch, n) for n in range(s.shop.concurrency)],
            QueueWorker(self, "inbox", 10),
            Clock(self, [
                ("catch-up", self.catch_up_interval(s, self.ctx.erp.change_feeds),
                 lambda: self.tracked("catch-up", catchup.catch_up_pass)),
                ("order poll", s.orders.poll_interval_seconds, self.poll_orders),
                ("customer pairing", s.sync.customer_pass_interval_seconds,
                 lambda: customers.pair_all_customers(self.ctx)),
                ("reconciliation", s.sync.reconcile_interval_seconds,
                 lambda: self.tracked("reconciliation", reconcile.reconcile_pass)),
                ("housekeeping", 3600.0, lambda: self.store.prune_requests()),
                # the invoices still waiting for their KSeF number (only when the sync issues documents)
                ("ksef", s.orders.ksef_check_seconds if s.orders.invoice != "never" else 0.0,
                 lambda: money.ksef_pass(self.ctx)),
            ]),
            Monitor(self),
            Alerts(self),
        ]
        if self.ctx.erp.change_feeds and s.erp.feed_interval_seconds > 0:
            # A thread of their own: a long catch-up or reconciliation pass must not hold the feeds back.
            self._threads.append(Clock(self, [("erp feeds", s.erp.feed_interval_seconds, self.read_feeds)],
                                       name="erp-feeds"))
            log.info("the ERP's change feeds are read every %g s (overlap %g s)", s.erp.feed_interval_seconds,
                     s.erp.feed_overlap_seconds)
        for t in self._threads:
            t.start()

    def tracked(self, name: str, make_pass: Callable[[SyncContext], Any]) -> Any:
        """Run a periodic pass recorded in the activity (the console shows its progress and result)."""
        if not self.activity.pass_started(name, by="the schedule"):
            return "running already"
        try:
            last = {}
            for last in make_pass(self.ctx):
                self.activity.pass_progress(name, last)
            return last
        except Exception as exc:
            self.activity.pass_failed(name, f"{type(exc).__name__}: {exc}")
            raise

    def ksef_problems(self, now: float) -> list[str]:
        """The invoices a person must look at in Symfonia's KSeF module (rejected, or late), for the alerts."""
        return money.ksef_problems(self.ctx, now)

    @staticmethod
    def catch_up_interval(s: Settings, change_feeds: bool) -> float:
        """The periodic catch-up's interval. With the ERP's change feeds read (`change_feeds`: the ERP has
        them), the full scan is a repair net: at most once a day, unless the settings ask for less often or off."""
        interval = s.sync.catch_up_interval_seconds
        if change_feeds and s.erp.feed_interval_seconds > 0 and 0 < interval < FEEDS_CATCH_UP_SECONDS:
            return FEEDS_CATCH_UP_SECONDS
        return interval

    def read_feeds(self) -> feeds.FeedReport:
        report = feeds.read_feeds(self.ctx, self.ctx.erp, overlap_seconds=self.settings.erp.feed_overlap_seconds)
        for feed, read in report.read.items():
            queued = report.queued.get(feed, 0)
            self.metrics.feed_changes.labels(feed, "queued").inc(queued)
            self.metrics.feed_changes.labels(feed, "unchanged").inc(read - queued)
        self.activity.feeds_read()
        return report

    def poll_orders(self) -> int:
        count = orders.poll_orders(self.ctx)
        self.activity.polled()
        return count

    def stop(self, grace: float) -> None:
        """Let in-flight batches finish; unfinished claims return to the queue when their lease ends."""
        self.stopping.set()
        if self.store is not None:
            self.store.notify()
        deadline = time.monotonic() + grace
        for t in self._threads:
            t.join(max(0.1, deadline - time.monotonic()))
        for door in (self.http, self.console_http):
            if door is not None:
                door.stop()

    def close(self) -> None:
        if self.ctx is not None:
            self.ctx.shop.close()
            self.ctx.erp.close()
        if self.store is not None:
            self.store.close()
        if self._queue_lock is not None:
            oslock.release(self._queue_lock)
            self._queue_lock = None
