"""What every part of the WebAPI ERP shares: the client, the site's ERP settings, the settings check's
cache, and creates sent once (held while unanswered, then looked up, never sent twice blindly).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from ..errors import ErpRetryable
from ..records import MarkerSource
from .client import MemoryHolds, WebApiClient, WebApiSentUnknown
from .images import MemoryImages
from .shapes import SETTINGS_RECHECK_SECONDS

log = logging.getLogger(__name__)


class WebApiBase:
    """The WebAPI ERP's common state; the entity parts (products.py, orders.py, ...) build on it."""

    def __init__(self, sql: Any, webapi: WebApiClient, *, order_series: str = "sklep",
                 department: str = "", sale_price_type: int = 1, options: Any = None) -> None:
        self.sql = sql
        self.webapi = webapi
        self.order_series = order_series
        self.department = department  # OrderIssue.Department (Req)
        self.sale_price_type = sale_price_type  # OrderIssue.SalePriceType (Req)
        if options is not None:
            self.marker = MarkerSource.parse(options.marker)
            self.max_code_length = int(options.max_code_length)
            self.warehouses = tuple(int(w) for w in options.warehouses)
            self.order_warehouse = int(options.order_warehouse)
            self.base_price_list = str(options.base_price_list)
        elif sql is not None:
            self.marker, self.max_code_length = sql.marker, sql.max_code_length
            self.warehouses, self.base_price_list = tuple(sql.warehouses), sql.base_price_list
            self.order_warehouse = int(sql.order_warehouse)
        else:
            raise ValueError("WebApiErp needs the ERP settings (options) or a gateway to take them from")
        # A request the ERP is still working on may yet be applied; sending it again now could make two.
        self.holds: Any = MemoryHolds()
        # The site's settings, checked against the company's dictionaries before orders are sent (None: the
        # caller checks nothing, as in tests of single calls); the last check's problems and its time.
        self.settings: Any = None
        self.settings_problems: list[str] | None = None
        self._checked_at = 0.0
        self._check_lock = threading.Lock()
        # Products' main images: the sync's own store once the server hands it in (use_images); until then
        # (single calls in tests) kept in memory.
        self.images: Any = MemoryImages()
        self.lookup_days = 62  # how far back an order is looked for by the shop's number
        self._warehouse_code: str | None = None
        # Cards read whole (their note and catalog are in no list), and when the Products feed was last asked.
        self._cards: dict[int, tuple[float, Any]] = {}
        self._cards_feed_at: Any = None
        self._code_index: tuple[float, dict[str, int]] | None = None  # (when, every code -> id)
        self._catalog_tree: tuple[float, dict[tuple[str, ...], Any]] | None = None
        # Whether the shop's prices include tax (shop.prices_include_tax): ERP prices are converted to that kind.
        self.prices_gross = False
        self._marked: tuple[float, list[int]] | None = None  # (when, ids) of the last marked-products list

    # The WebAPI's change feeds ({Products,Contractors,PriceLists,Orders}/IncrementalSync, InventoryStates/Changes).
    change_feeds = True
    settings_checked = ("department, series, payment forms, warehouses, currencies, shipping and fee items, receipt "
                        "type, payment registers")
    # Products read at once by a catch-up: the list calls answer every card, so one page holds them all.
    read_page_size = 10_000

    def settings_ok(self, max_age: float = SETTINGS_RECHECK_SECONDS) -> list[str]:
        """The problems of the last settings check, checking again when it is older than `max_age` seconds
        (only while there were problems, or never a check: a good check stands). Logged when they change."""
        if self.settings is None:
            return []
        with self._check_lock:
            stale = self.settings_problems is None or (self.settings_problems and
                                                       time.monotonic() - self._checked_at > max_age)
            if stale:
                problems = self.check_settings(self.settings)
                if problems != self.settings_problems:
                    if problems:
                        log.error("the ERP's settings do not fit the company (orders wait until they do):\n  %s",
                                  "\n  ".join(problems))
                    elif self.settings_problems:
                        log.info("the ERP's settings fit the company now: orders flow")
                self.settings_problems, self._checked_at = problems, time.monotonic()
            return list(self.settings_problems or [])

    def use_holds(self, holds: Any) -> None:
        self.holds = holds

    def close(self) -> None:
        if self.sql is not None:
            self.sql.close()
        self.webapi.close()

    def ping(self) -> None:
        """The ERP answers: its WebAPI's Ping (there is no database connection in this mode)."""
        self.webapi.ping()

    # -- creates sent once ---------------------------------------------------------------------------
    def _refuse_if_held(self, key: str, what: str) -> None:
        """An earlier request for `what` went unanswered and may still be applied: not sent again yet."""
        wait = self.holds.remaining(key)
        if wait > 0:
            raise ErpRetryable(f"{what}: the WebAPI did not answer its last request; not sent again for {wait:.0f} "
                               "s more, until the ERP has either written it or dropped it")

    def _send_once(self, key: str, what: str, send: Callable[[], Any],
                   lookup: Callable[[], int | None]) -> tuple[Any, int | None]:
        """Send a create; (its answer, None). Unanswered: held for three timeouts from sending (GUESS: enough for
        the ERP to settle), then looked up - (None, the id found), or WebApiSentUnknown to try again later."""
        sent = time.monotonic()
        try:
            return send(), None
        except WebApiSentUnknown as exc:
            self.holds.hold(key, 3 * self.webapi.timeout - (time.monotonic() - sent))
            found = lookup()
            if found is not None:
                log.info("%s: the WebAPI did not answer, but the ERP has it (id %s)", what, found)
                return None, found
            raise WebApiSentUnknown(f"{exc}; {what} is not in the ERP (yet): looked up again before the next "
                                    "attempt") from None
