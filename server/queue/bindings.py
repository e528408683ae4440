"""Bindings: an ERP record and the shop record it became, per kind, with the last state sent.

    kind            erp_id               shop_id              state
    product         HM.TW.id             shop product id      the product state last sent (mappers.product_state)
    order           HM.ZO.id             shop order id        {"number"}
    order_progress  HM.ZO.id             shop order id        OrderProgressSent
    order_polled    shop order id        -                    {"modified", "status"} as last polled
    price_list      HM.CK.id             -                    the list as last seen
    guest           hash of an e-mail    HM.KH.id             {"email"}: a guest's contractor
    feed_product    HM.TW.id             -                    {"digest", "deleted", "modified_at"}: the record
    feed_contractor HM.KH.id             -                      as the ERP's change feed last showed it
    feed_price_list HM.CK.id             -                      (sync/feeds.py)
    feed_order      HM.ZO.id             -
    feed_stock      HM.TW.id             -                    {"warehouses": {id: AmountToSale}} as last shown
    family          family_id(value)     variable product id  the variable product last sent (sync/families.py)
    family_member   HM.TW.id             family_id(value)     {"family": value}: the card is a variation of it
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import peewee

from .store import QueueStore
from .sync_tables import make_sync_tables

_CHUNK = 500  # ids per IN (...) list


class Kind(str, enum.Enum):
    PRODUCT = "product"
    ORDER = "order"
    ORDER_PROGRESS = "order_progress"
    ORDER_POLLED = "order_polled"
    ORDER_MONEY = "order_money"  # the order's sale documents (KSeF) and payments (sync/money.py)
    PRICE_LIST = "price_list"
    GUEST = "guest"
    FEED_PRODUCT = "feed_product"
    FEED_CONTRACTOR = "feed_contractor"
    FEED_PRICE_LIST = "feed_price_list"
    FEED_ORDER = "feed_order"
    FEED_STOCK = "feed_stock"
    FAMILY = "family"
    FAMILY_MEMBER = "family_member"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Binding:
    kind: Kind
    erp_id: int
    shop_id: int | None
    state: dict[str, Any]
    state_time: int = 0  # when the ERP state that `state` shows was read (ns), 0 unknown


class Bindings:
    """ERP id <-> shop id per kind, in the queue's database."""

    def __init__(self, store: QueueStore) -> None:
        self.store = store
        self.t = make_sync_tables(store.db)
        store.ensure_connected()
        store.db.create_tables([self.t.binding], safe=True)

    def _binding(self, r: Any) -> Binding:
        return Binding(kind=Kind(r.kind), erp_id=int(r.erp_id),
                       shop_id=int(r.shop_id) if r.shop_id is not None else None,
                       state=json.loads(r.state or "{}"), state_time=int(r.state_time or 0))

    def get(self, kind: Kind, erp_id: int) -> Binding | None:
        return self.many(kind, [erp_id]).get(int(erp_id))

    def many(self, kind: Kind, erp_ids: Sequence[int]) -> dict[int, Binding]:
        return {b.erp_id: b for b in self._where(kind, self.t.binding.erp_id, erp_ids)}

    def by_shop_ids(self, kind: Kind, shop_ids: Sequence[int]) -> dict[int, Binding]:
        return {b.shop_id: b for b in self._where(kind, self.t.binding.shop_id, shop_ids)}  # type: ignore[misc]

    def _where(self, kind: Kind, column: Any, ids: Sequence[int]) -> list[Binding]:
        self.store.ensure_connected()
        B = self.t.binding
        wanted = [int(i) for i in ids]
        out = []
        for start in range(0, len(wanted), _CHUNK):
            out += [self._binding(r) for r in
                    B.select().where((B.kind == kind.value) & column.in_(wanted[start:start + _CHUNK]))]
        return out

    def with_shop_ids(self, kind: Kind, shop_ids: Sequence[int]) -> list[Binding]:
        """Every binding of a kind whose shop id is one of these (several may share one)."""
        return self._where(kind, self.t.binding.shop_id, shop_ids)

    def save(self, bindings: Iterable[Binding]) -> None:
        """Insert or replace bindings in one transaction."""
        now = self.store.clock()
        rows = [{"kind": Kind(b.kind).value, "erp_id": b.erp_id, "shop_id": b.shop_id,
                 "state": json.dumps(b.state, sort_keys=True, default=str), "state_time": b.state_time,
                 "updated_at": now} for b in bindings]
        if not rows:
            return
        B = self.t.binding
        self.store.ensure_connected()
        with self.store.transaction():
            for start in range(0, len(rows), 200):
                (B.insert_many(rows[start:start + 200])
                 .on_conflict(conflict_target=[B.kind, B.erp_id],
                              update={B.shop_id: peewee.EXCLUDED.shop_id, B.state: peewee.EXCLUDED.state,
                                      B.state_time: peewee.EXCLUDED.state_time,
                                      B.updated_at: peewee.EXCLUDED.updated_at})
                 .execute())

    def forget(self, kind: Kind, erp_ids: Sequence[int]) -> None:
        """Drop bindings: the shop no longer has these records, and should not get them back."""
        ids = [int(i) for i in erp_ids]
        if not ids:
            return
        B = self.t.binding
        self.store.ensure_connected()
        with self.store.transaction():
            for start in range(0, len(ids), _CHUNK):
                B.delete().where((B.kind == kind.value) & B.erp_id.in_(ids[start:start + _CHUNK])).execute()

    def ids(self, kind: Kind, after_erp_id: int = 0, limit: int = 1000) -> list[int]:
        self.store.ensure_connected()
        B = self.t.binding
        return [int(r[0]) for r in B.select(B.erp_id)
                .where((B.kind == kind.value) & (B.erp_id > after_erp_id))
                .order_by(B.erp_id).limit(limit).tuples()]

    def recent(self, kind: Kind, before_erp_id: int = 0, limit: int = 50) -> list[Binding]:
        """Bindings of a kind, newest ERP id first, a page before `before_erp_id` (0: from the newest)."""
        self.store.ensure_connected()
        B = self.t.binding
        q = B.select().where(B.kind == kind.value)
        if before_erp_id:
            q = q.where(B.erp_id < before_erp_id)
        return [self._binding(r) for r in q.order_by(B.erp_id.desc()).limit(limit)]

    def all_ids(self, kind: Kind, page: int = 1000) -> list[int]:
        """Every bound ERP id of a kind, read a page at a time."""
        out: list[int] = []
        while chunk := self.ids(kind, after_erp_id=out[-1] if out else 0, limit=page):
            out += chunk
        return out
