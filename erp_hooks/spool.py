"""A local append-only spool for events the server could not take yet.

One JSON object per line. Every read or write holds a lock file created with
O_EXCL (works the same on Windows and Linux); a lock older than STALE_SECONDS is
taken over, since its owner must have died.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable

STALE_SECONDS = 30.0


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

    def _lock(self, wait_seconds: float) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                return os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    if time.time() - self.lock_path.stat().st_mtime > STALE_SECONDS:
                        self.lock_path.unlink(missing_ok=True)
                        continue
                except OSError:
                    continue
                if time.monotonic() >= deadline:
                    raise SpoolLocked(f"spool {self.path} is locked by another hook") from None
                time.sleep(0.01)

    def _unlock(self, fd: int) -> None:
        os.close(fd)
        try:
            self.lock_path.unlink()
        except OSError:
            pass

    def append(self, event: dict[str, Any], wait_seconds: float = 5.0) -> None:
        """Add one event durably (flushed and fsynced) at the end of the spool."""
        fd = self._lock(wait_seconds)
        try:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(event, separators=(",", ":")) + "\n")
                f.flush()
                os.fsync(f.fileno())
        finally:
            self._unlock(fd)

    def replay(self, send: Callable[[dict[str, Any]], bool], wait_seconds: float = 1.0) -> tuple[int, int]:
        """Send spooled events oldest first; stop at the first that fails.

        `send` returns True when the server took the event. Returns (sent, left).
        """
        fd = self._lock(wait_seconds)
        try:
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
            for event in events:
                if not send(event):
                    break
                sent += 1
            left = events[sent:]
            tmp = self.path.with_name(self.path.name + ".tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                for event in left:
                    f.write(json.dumps(event, separators=(",", ":")) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            return sent, len(left)
        finally:
            self._unlock(fd)
