"""Customer pairings: a shop customer and the ERP contractor it buys as, with why."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Sequence

from .store import QueueStore
from .sync_tables import make_sync_tables


class PairingStatus(str, enum.Enum):
    """The API's PairingStatus, in words."""

    PAIRED = "paired"
    NEEDS_PERSON = "needs_person"
    INVALID_NIP = "invalid_nip"
    NO_NIP = "no_nip"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Pairing:
    shop_customer_id: int
    erp_contractor_id: int | None
    status: PairingStatus
    detail: str
    manual: bool
    nip: str
    email: str
    name: str
    # The NIP matches several ERP contractors (known when decided, not stored): an order of
    # this customer waits for a person rather than creating yet another contractor.
    ambiguous: bool = False
    # The contractors a person chooses from ({id, code, name, nip, city}; known when decided, not stored).
    candidates: tuple[dict[str, Any], ...] = ()

    @property
    def paired(self) -> bool:
        return self.status == PairingStatus.PAIRED and bool(self.erp_contractor_id)


class Pairings:
    def __init__(self, store: QueueStore) -> None:
        self.store = store
        self.t = make_sync_tables(store.db)
        store.ensure_connected()
        store.db.create_tables([self.t.pairing], safe=True)

    @staticmethod
    def _pairing(r: Any) -> Pairing:
        return Pairing(shop_customer_id=int(r.shop_customer_id),
                       erp_contractor_id=int(r.erp_contractor_id) if r.erp_contractor_id is not None else None,
                       status=PairingStatus(r.status), detail=r.detail, manual=bool(r.manual), nip=r.nip,
                       email=r.email, name=r.name)

    def get(self, shop_customer_id: int) -> Pairing | None:
        self.store.ensure_connected()
        P = self.t.pairing
        r = P.get_or_none(P.shop_customer_id == shop_customer_id)
        return self._pairing(r) if r else None

    def set(self, p: Pairing) -> None:
        self.store.ensure_connected()
        P = self.t.pairing
        row = {"shop_customer_id": p.shop_customer_id, "erp_contractor_id": p.erp_contractor_id,
               "status": PairingStatus(p.status).value, "detail": p.detail[:1000], "manual": p.manual,
               "nip": p.nip[:40], "email": p.email[:200], "name": p.name[:200], "updated_at": self.store.clock()}
        with self.store.transaction():
            (P.insert(row).on_conflict(conflict_target=[P.shop_customer_id],
                                       update={k: v for k, v in row.items() if k != "shop_customer_id"})
             .execute())

    def list(self, statuses: Sequence[PairingStatus | str] | None = None, after_id: int = 0,
             limit: int = 100) -> list[Pairing]:
        self.store.ensure_connected()
        P = self.t.pairing
        q = P.select().where(P.shop_customer_id > after_id)
        if statuses:
            q = q.where(P.status.in_([PairingStatus(s).value for s in statuses]))
        return [self._pairing(r) for r in q.order_by(P.shop_customer_id).limit(limit)]

    def customers_of_contractor(self, contractor_id: int) -> list[int]:
        self.store.ensure_connected()
        P = self.t.pairing
        return [int(r[0]) for r in P.select(P.shop_customer_id)
                .where((P.erp_contractor_id == contractor_id) & (P.status == PairingStatus.PAIRED.value)).tuples()]

    def count(self, statuses: Sequence[PairingStatus | str]) -> int:
        self.store.ensure_connected()
        P = self.t.pairing
        return P.select().where(P.status.in_([PairingStatus(s).value for s in statuses])).count()
