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

from server.erp.errors import ErpError, ErpRetryable
from server.erp.gateway import ErpGateway
from server.queue.store import Backoff, Message, QueueStore
from erp_hooks import oslock
from server.settings import Settings, SettingsError, redact_url
from server.sync import erp_to_shop, shop_to_erp
from server.sync.binder import Binder
from server.sync.context import SyncContext
from server.sync.erp_to_shop import ShopDown
from shop_client.errors import ShopConfigError, ShopError, ShopUnavailable
from shop_client.interface import ShopClient

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5  # how often a worker looks for work enqueued by another process
CONFIG_RETRY_SECONDS = 10.0  # how often a paused worker checks whether the shop takes our settings now


def make_shop(settings: Settings) -> ShopClient:
    if settings.shop.kind == "woocommerce":
        from shop_client.woocommerce import WooCommerceShop

        return WooCommerceShop.from_settings(settings.shop)
    if settings.shop.kind == "oscar":
        from shop_client.oscar import OscarShop

        return OscarShop.from_settings(settings.shop)
    raise ValueError(f"shop.kind {settings.shop.kind!r} is not supported")


class QueueWorker(threading.Thread):
    """Claims batches from one queue and hands them to a flow; never dies of an error."""

    def __init__(self, runtime: "Runtime", queue: str, handler: Callable[[SyncContext, Sequence[Message]], None],
                 batch: int, number: int = 0) -> None:
        super().__init__(name=f"worker-{queue}" + (f"-{number}" if number else ""), daemon=True)
        self.rt, self.queue, self.handler, self.batch = runtime, queue, handler, batch

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
                self.handler(self.rt.ctx, msgs)
            except ShopDown as exc:
                self._shop_down(exc)
            except ShopConfigError as exc:
                self._misconfigured(msgs, exc)
            except (ErpRetryable, ShopUnavailable) as exc:
                log.warning("%s: %d message(s) wait for a retry: %s", self.name, len(msgs), exc)
                self._fail(msgs, str(exc))
            except (ErpError, ShopError) as exc:
                log.warning("%s: batch failed: %s", self.name, exc)
                self._fail(msgs, str(exc))
            except Exception as exc:  # noqa: BLE001 - a bug must not stop delivery of everything else
                log.exception("%s: unexpected error", self.name)
                self._fail(msgs, f"internal error: {type(exc).__name__}: {exc}")

    def _shop_down(self, exc: ShopDown) -> None:
        """A whole batch failed for want of the shop: is it down, or did only this batch fail?

        Down: the messages go back unchanged (no attempt counted, so an outage of any
        length dead-letters nothing) and delivery pauses, probing the shop every
        shop.probe_interval_seconds; it resumes the moment the shop answers.
        Up: the batch itself is the problem; its messages back off as usual.
        """
        shop, store = self.rt.ctx.shop, self.rt.store
        try:
            shop.ping()
        except ShopUnavailable:
            store.release(exc.messages)
            log.warning("shop unavailable (%s); %d message(s) wait, probing every %.1f s", exc,
                        len(exc.messages), self.rt.settings.shop.probe_interval_seconds)
            wait = max(self.rt.settings.shop.probe_interval_seconds, exc.retry_after or 0)
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
        self._fail(exc.messages, str(exc))

    def _misconfigured(self, msgs: Sequence[Message], exc: ShopConfigError) -> None:
        """The shop refuses us as configured (keys, permissions, URL): keep every message, say so once,
        and look again every CONFIG_RETRY_SECONDS; delivery resumes by itself once the shop takes us."""
        self.rt.store.release(msgs)
        log.error("%s: delivery paused, %d message(s) kept: %s", self.name, len(msgs), exc)
        while not self.rt.stopping.wait(CONFIG_RETRY_SECONDS):
            try:
                self.rt.ctx.shop.ping()
            except ShopConfigError:
                continue
            except ShopError:
                return  # another kind of trouble: the normal paths handle it
            log.info("%s: the shop takes our requests again; delivering", self.name)
            return

    def _fail(self, msgs: Sequence[Message], reason: str) -> None:
        for m in msgs:
            try:
                self.rt.store.fail(m, reason, retryable=True)
            except Exception:  # noqa: BLE001
                log.exception("cannot record failure of message %s (its lease will expire)", m.id)


class Clock(threading.Thread):
    """Runs the periodic passes; each task's errors are logged and retried next time."""

    def __init__(self, runtime: "Runtime", tasks: list[tuple[str, float, Callable[[], Any]]]) -> None:
        super().__init__(name="clock", daemon=True)
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
                    if not self.rt.binder.claim_turn(name, interval):
                        continue  # another server sharing the queue database ran it just now
                    result = fn()
                    log.debug("%s: %s", name, result)
                except (ShopUnavailable, ErpRetryable, ShopConfigError) as exc:
                    log.warning("%s postponed: %s", name, exc)
                except Exception:  # noqa: BLE001
                    log.exception("%s failed", name)
            self.rt.stopping.wait(0.5)


class Runtime:
    """Queue store, binder, ERP gateway, shop client, HTTP service and workers of one server."""

    def __init__(self, settings: Settings, *, shop: ShopClient | None = None, erp: ErpGateway | None = None) -> None:
        self.settings = settings
        self.store: QueueStore = None  # type: ignore[assignment]
        self.binder: Binder = None  # type: ignore[assignment]
        self._shop, self._erp = shop, erp
        self.ctx: SyncContext = None  # type: ignore[assignment]
        self.http: Any = None
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
        self.binder = Binder(self.store)
        log.info("queue database open: %s", redact_url(url))
        if local:
            released = self.store.release_all_leases()
            if released:
                log.info("%d message(s) claimed by the previous run, which stopped before settling them, are "
                         "queued again", released)
        erp = self._erp or ErpGateway.from_settings(s)
        shop = self._shop or make_shop(s)
        self.ctx = SyncContext(settings=s, store=self.store, binder=self.binder, erp=erp, shop=shop)

    def start(self) -> None:
        """Start the HTTP service and, unless sync.workers is off, the workers."""
        from server.webhooks import HttpService, WebhookApp

        s = self.settings
        app = WebhookApp(self.store, self.ctx.erp, s.webhooks.secret, s.webhooks.max_body_bytes)
        self.http = HttpService(app, s.webhooks.address)
        self.http.start()
        log.info("webhooks and images on http://%s (port %d)", s.webhooks.address, self.http.port)
        if not s.sync.workers:
            return
        batch = s.queue.batch_size
        self._threads = [
            QueueWorker(self, "erp_events", erp_to_shop.process_events, batch),
            # Several batches in flight: the queue never leases two messages of one product at once.
            *[QueueWorker(self, "outbox", erp_to_shop.deliver_outbox, batch, n)
              for n in range(s.shop.concurrency)],
            QueueWorker(self, "inbox", shop_to_erp.process_inbox, 10),
            Clock(self, [
                ("catch-up", s.sync.catch_up_interval_seconds, lambda: erp_to_shop.catch_up(self.ctx)),
                ("order poll", s.orders.poll_interval_seconds, lambda: shop_to_erp.poll_orders(self.ctx)),
                ("customer pairing", s.sync.customer_pass_interval_seconds,
                 lambda: shop_to_erp.pair_all_customers(self.ctx)),
                ("housekeeping", 3600.0, lambda: self.store.prune_requests()),
            ]),
        ]
        for t in self._threads:
            t.start()

    def stop(self, grace: float) -> None:
        """Let in-flight batches finish; unfinished claims return to the queue when their lease ends."""
        self.stopping.set()
        if self.store is not None:
            self.store.notify()
        deadline = time.monotonic() + grace
        for t in self._threads:
            t.join(max(0.1, deadline - time.monotonic()))
        if self.http is not None:
            self.http.stop()

    def close(self) -> None:
        if self.ctx is not None:
            self.ctx.shop.close()
            self.ctx.erp.close()
        if self.store is not None:
            self.store.close()
        if self._queue_lock is not None:
            oslock.release(self._queue_lock)
            self._queue_lock = None
