"""Binder: ERP id <-> shop id per entity kind, with the last state sent.

Kept in the queue's database, so a binding and the queue agree after a crash.
Also holds customer pairings and small cursors (last order poll, ...).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import peewee

from server.queue.store import QueueStore

# Pairing statuses (the API's PairingStatus, in words).
PAIRED, NEEDS_PERSON, INVALID_NIP, NO_NIP = "paired", "needs_person", "invalid_nip", "no_nip"


@dataclass(frozen=True)
class Binding:
    kind: str
    erp_id: int
    shop_id: int | None
    state: dict[str, Any]
    state_time: int  # when the ERP state that `state` shows was read (ns), 0 unknown


@dataclass(frozen=True)
class Pairing:
    shop_customer_id: int
    erp_contractor_id: int | None
    status: str
    detail: str
    manual: bool
    nip: str
    email: str
    name: str
    # The NIP matches several ERP contractors (known when decided, not stored): an order of
    # this customer waits for a person rather than creating yet another contractor.
    ambiguous: bool = False


class Binder:
    def __init__(self, store: QueueStore) -> None:
        self.db = store.db
        self._tx = store._tx
        self._connect = store._ensure_connected
        db = self.db

        class BindingRow(peewee.Model):
            kind = peewee.CharField(max_length=32)
            erp_id = peewee.BigIntegerField()
            shop_id = peewee.BigIntegerField(null=True)
            state = peewee.TextField(default="{}")
            state_time = peewee.BigIntegerField(default=0)
            updated_at = peewee.DoubleField()

            class Meta:
                database = db
                table_name = "sync_binding"
                primary_key = peewee.CompositeKey("kind", "erp_id")
                indexes = ((("kind", "shop_id"), False),)

        class PairingRow(peewee.Model):
            shop_customer_id = peewee.BigIntegerField(primary_key=True)
            erp_contractor_id = peewee.BigIntegerField(null=True)
            status = peewee.CharField(max_length=20)
            detail = peewee.TextField(default="")
            manual = peewee.BooleanField(default=False)
            nip = peewee.CharField(max_length=40, default="")
            email = peewee.CharField(max_length=200, default="")
            name = peewee.CharField(max_length=200, default="")
            updated_at = peewee.DoubleField()

            class Meta:
                database = db
                table_name = "sync_customer_pairing"
                indexes = ((("status",), False),)

        class CursorRow(peewee.Model):
            key = peewee.CharField(max_length=64, primary_key=True)
            value = peewee.TextField()

            class Meta:
                database = db
                table_name = "sync_cursor"

        self.B, self.P, self.C = BindingRow, PairingRow, CursorRow
        self._connect()
        db.create_tables([BindingRow, PairingRow, CursorRow], safe=True)

    # -- bindings ------------------------------------------------------------
    def _binding(self, r: Any) -> Binding:
        return Binding(kind=r.kind, erp_id=int(r.erp_id), shop_id=int(r.shop_id) if r.shop_id is not None else None,
                       state=json.loads(r.state or "{}"), state_time=int(r.state_time or 0))

    def get(self, kind: str, erp_id: int) -> Binding | None:
        return self.many(kind, [erp_id]).get(int(erp_id))

    def many(self, kind: str, erp_ids: Sequence[int]) -> dict[int, Binding]:
        self._connect()
        out: dict[int, Binding] = {}
        ids = [int(i) for i in erp_ids]
        for start in range(0, len(ids), 500):
            for r in self.B.select().where((self.B.kind == kind) & (self.B.erp_id.in_(ids[start:start + 500]))):
                out[int(r.erp_id)] = self._binding(r)
        return out

    def by_shop_ids(self, kind: str, shop_ids: Sequence[int]) -> dict[int, Binding]:
        self._connect()
        out: dict[int, Binding] = {}
        ids = [int(i) for i in shop_ids]
        for start in range(0, len(ids), 500):
            for r in self.B.select().where((self.B.kind == kind) & (self.B.shop_id.in_(ids[start:start + 500]))):
                out[int(r.shop_id)] = self._binding(r)
        return out

    def save(self, bindings: Iterable[Binding]) -> None:
        """Insert or replace bindings in one transaction."""
        rows = [{"kind": b.kind, "erp_id": b.erp_id, "shop_id": b.shop_id,
                 "state": json.dumps(b.state, sort_keys=True, default=str), "state_time": b.state_time,
                 "updated_at": time.time()} for b in bindings]
        if not rows:
            return
        self._connect()
        with self._tx():
            for start in range(0, len(rows), 200):
                (self.B.insert_many(rows[start:start + 200])
                 .on_conflict(conflict_target=[self.B.kind, self.B.erp_id],
                              update={self.B.shop_id: peewee.EXCLUDED.shop_id, self.B.state: peewee.EXCLUDED.state,
                                      self.B.state_time: peewee.EXCLUDED.state_time,
                                      self.B.updated_at: peewee.EXCLUDED.updated_at})
                 .execute())

    def forget(self, kind: str, erp_ids: Sequence[int]) -> None:
        """Drop bindings: the shop no longer has these records, and should not get them back."""
        ids = list(erp_ids)
        if not ids:
            return
        self._connect()
        with self._tx():
            for start in range(0, len(ids), 500):
                self.B.delete().where((self.B.kind == kind) & self.B.erp_id.in_(ids[start:start + 500])).execute()

    def ids(self, kind: str, after_erp_id: int = 0, limit: int = 1000) -> list[int]:
        self._connect()
        return [int(r[0]) for r in self.B.select(self.B.erp_id)
                .where((self.B.kind == kind) & (self.B.erp_id > after_erp_id))
                .order_by(self.B.erp_id).limit(limit).tuples()]

    # -- customer pairings ---------------------------------------------------
    def _pairing(self, r: Any) -> Pairing:
        return Pairing(shop_customer_id=int(r.shop_customer_id),
                       erp_contractor_id=int(r.erp_contractor_id) if r.erp_contractor_id is not None else None,
                       status=r.status, detail=r.detail, manual=bool(r.manual), nip=r.nip, email=r.email,
                       name=r.name)

    def pairing(self, shop_customer_id: int) -> Pairing | None:
        self._connect()
        r = self.P.get_or_none(self.P.shop_customer_id == shop_customer_id)
        return self._pairing(r) if r else None

    def set_pairing(self, p: Pairing) -> None:
        self._connect()
        row = {"shop_customer_id": p.shop_customer_id, "erp_contractor_id": p.erp_contractor_id,
               "status": p.status, "detail": p.detail[:1000], "manual": p.manual, "nip": p.nip[:40],
               "email": p.email[:200], "name": p.name[:200], "updated_at": time.time()}
        with self._tx():
            (self.P.insert(row).on_conflict(conflict_target=[self.P.shop_customer_id],
                                            update={k: v for k, v in row.items() if k != "shop_customer_id"})
             .execute())

    def pairings(self, statuses: Sequence[str] | None = None, after_id: int = 0, limit: int = 100) -> list[Pairing]:
        self._connect()
        q = self.P.select().where(self.P.shop_customer_id > after_id)
        if statuses:
            q = q.where(self.P.status.in_(list(statuses)))
        return [self._pairing(r) for r in q.order_by(self.P.shop_customer_id).limit(limit)]

    def customers_of_contractor(self, contractor_id: int) -> list[int]:
        self._connect()
        return [int(r[0]) for r in self.P.select(self.P.shop_customer_id)
                .where((self.P.erp_contractor_id == contractor_id) & (self.P.status == PAIRED)).tuples()]

    # -- cursors -------------------------------------------------------------
    def cursor(self, key: str, default: str = "") -> str:
        self._connect()
        r = self.C.get_or_none(self.C.key == key)
        return r.value if r else default

    def claim_turn(self, task: str, interval: float, now: float | None = None) -> bool:
        """True for exactly one caller per `interval`, across every server sharing this database.

        Periodic passes (catch-up, order polling, pairing) call this first, so several
        servers on one PostgreSQL queue do not all run the same pass at once.
        """
        now = time.time() if now is None else now
        key = f"clock:{task}"
        stamp = f"{int(now * 1000):015d}"  # fixed width: text order is time order
        due = f"{int((now - interval * 0.9) * 1000):015d}"
        self._connect()
        with self._tx():
            updated = (self.C.update(value=stamp)
                       .where((self.C.key == key) & (self.C.value <= due)).execute())
            if updated:
                return True
            p = self.db.param
            inserted = self.db.execute_sql(f"INSERT INTO sync_cursor (key, value) VALUES ({p}, {p}) "
                                           "ON CONFLICT (key) DO NOTHING", (key, stamp)).rowcount
            return inserted == 1

    def set_cursor(self, key: str, value: str) -> None:
        self._connect()
        with self._tx():
            self.C.insert(key=key, value=value).on_conflict(conflict_target=[self.C.key],
                                                            update={self.C.value: value}).execute()
