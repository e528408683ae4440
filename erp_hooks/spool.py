"""A local append-only spool for events the server could not take yet.

One JSON object per line. Every read or write holds an operating-system lock on
a lock file next to the spool (erp_hooks/oslock.py). The system releases it when
its holder exits or dies, so there is no stale lock to take over, and an event
appended while a replay runs is never overwritten: the replay rewrites the spool
under the same lock.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from erp_hooks import oslock


class SpoolLocked(Exception):
    """Another hook holds the spool lock for longer than we may wait."""


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")

    def has_events(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except OSError:
            return False

    @contextmanager
    def _locked(self, wait_seconds: float) -> Iterator[None]:
        try:
            fd = oslock.acquire(self.lock_path, wait_seconds)
        except oslock.LockBusy:
            raise SpoolLocked(f"spool {self.path} is locked by another hook") from None
        try:
            yield
        finally:
            oslock.release(fd)

    def append(self, event: dict[str, Any], wait_seconds: float = 5.0) -> None:
        """Add one event durably (flushed and fsynced) at the end of the spool."""
        with self._locked(wait_seconds):
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(event, separators=(",", ":")) + "\n")
                f.flush()
                os.fsync(f.fileno())

    def replay(self, send: Callable[[dict[str, Any]], bool], wait_seconds: float = 1.0,
               max_events: int | None = None, max_seconds: float | None = None) -> tuple[int, int]:
        """Send spooled events oldest first; stop at the first that fails, or at a bound.

        `send` returns True when the server took the event. `max_events` and
        `max_seconds` bound one replay (a hook inside the ERP user's save must not
        run long); what is left waits for the next hook or `erp-hook flush`.
        Returns (sent, left).
        """
        with self._locked(wait_seconds):
            try:
                lines = self.path.read_text(encoding="utf-8").splitlines()
            except FileNotFoundError:
                return 0, 0
            events = []
            for line in lines:
                try:
                    events.append(json.loads(line))
                except ValueError:
                    continue  # a torn line from a crash mid-write: nothing to send
            sent = 0
            deadline = None if max_seconds is None else time.monotonic() + max_seconds
            for event in events:
                if max_events is not None and sent >= max_events:
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    break
                if not send(event):
                    break
                sent += 1
            left = events[sent:]
            if sent:
                tmp = self.path.with_name(self.path.name + ".tmp")
                with open(tmp, "w", encoding="utf-8") as f:
                    for event in left:
                        f.write(json.dumps(event, separators=(",", ":")) + "\n")
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            return sent, len(left)
