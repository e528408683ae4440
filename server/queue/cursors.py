"""Named cursors in the queue's database: where a poll got to, whose turn a periodic pass is,
and which unanswered ERP requests are held back. Every time comes from the store's clock.
"""

from __future__ import annotations

from .store import QueueStore
from .sync_tables import make_sync_tables


class Cursors:
    def __init__(self, store: QueueStore) -> None:
        self.store = store
        self.t = make_sync_tables(store.db)
        store.ensure_connected()
        store.db.create_tables([self.t.cursor], safe=True)

    def get(self, key: str, default: str = "") -> str:
        self.store.ensure_connected()
        C = self.t.cursor
        r = C.get_or_none(C.key == key)
        return r.value if r else default

    def set(self, key: str, value: str) -> None:
        self.store.ensure_connected()
        C = self.t.cursor
        with self.store.transaction():
            C.insert(key=key, value=value).on_conflict(conflict_target=[C.key], update={C.value: value}).execute()

    def claim_turn(self, task: str, interval: float) -> bool:
        """True for exactly one caller per `interval`, across every server sharing this database.

        Periodic passes (catch-up, order polling, pairing) call this first, so several
        servers on one PostgreSQL queue do not all run the same pass at once.
        """
        now = self.store.clock()
        key = f"clock:{task}"
        stamp = f"{int(now * 1000):015d}"  # fixed width: text order is time order
        due = f"{int((now - interval * 0.9) * 1000):015d}"
        C = self.t.cursor
        self.store.ensure_connected()
        with self.store.transaction():
            if C.update(value=stamp).where((C.key == key) & (C.value <= due)).execute():
                return True
            return C.insert(key=key, value=stamp).on_conflict_ignore().as_rowcount().execute() == 1


class Holds:
    """ERP requests sent without an answer: a key -> the time before which it is not sent again.

    Kept as cursors, so a restarted server keeps holding them.
    """

    def __init__(self, cursors: Cursors) -> None:
        self.cursors = cursors

    def remaining(self, key: str) -> float:
        """Seconds the request stays held (0: free to send)."""
        try:
            until = float(self.cursors.get(f"hold:{key}", "0") or 0)
        except ValueError:
            return 0.0
        return max(0.0, until - self.cursors.store.clock())

    def hold(self, key: str, seconds: float) -> None:
        self.cursors.set(f"hold:{key}", f"{self.cursors.store.clock() + seconds:.3f}")
