"""The server's long-lived parts, opened once and handed to the servicers."""

from __future__ import annotations

import logging
import threading

from server.queue.store import Backoff, QueueStore
from server.settings import Settings, redact_url

log = logging.getLogger(__name__)


class Runtime:
    """Queue store, ERP gateway, shop client and background workers of one server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store: QueueStore | None = None  # type: ignore[assignment]
        self._threads: list[threading.Thread] = []
        self.stopping = threading.Event()

    def open(self) -> None:
        """Open the queue database (the server is SERVING only after this)."""
        q = self.settings.queue
        url = q.database
        if url.startswith("sqlite:///"):
            url = "sqlite:///" + str(self.settings.path(url[len("sqlite:///"):]))
        self.store = QueueStore.from_url(
            url, sqlite_synchronous=q.sqlite_synchronous,
            backoff=Backoff(q.backoff_base_seconds, q.backoff_max_seconds, q.max_attempts))
        log.info("queue database open: %s", redact_url(url))

    def start(self) -> None:
        """Start the background workers (none yet in the foundation)."""

    def stop(self, grace: float) -> None:
        self.stopping.set()
        if self.store is not None:
            self.store.notify()
        for t in self._threads:
            t.join(grace)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
