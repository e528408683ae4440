"""An exclusive lock on a file, held through the operating system.

`msvcrt.locking` on Windows, `fcntl.flock` elsewhere. The system releases the lock
when its holder closes the file, exits or dies: there is never a stale lock to
guess about. Used by the hooks' spool, and by the server to hold its SQLite queue.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

if os.name == "nt":  # pragma: no cover - exercised on Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)  # msvcrt locks bytes from the current position
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _release(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _release(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class LockBusy(Exception):
    """Another process holds the lock for longer than we may wait."""


def acquire(path: Path, wait_seconds: float = 0.0) -> int:
    """Open `path` and lock it; returns the descriptor to pass to `release`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR)
    deadline = time.monotonic() + wait_seconds
    while not _try_lock(fd):
        if time.monotonic() >= deadline:
            os.close(fd)
            raise LockBusy(f"{path} is locked by another process")
        time.sleep(0.01)
    return fd


def release(fd: int) -> None:
    try:
        _release(fd)
    finally:
        os.close(fd)
