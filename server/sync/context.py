"""What every flow needs: settings, the queue and the sync's tables, the ERP and the shop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shop_client.interface import ShopClient

from ..erp.interface import Erp
from ..queue.bindings import Bindings
from ..queue.cursors import Cursors
from ..queue.pairings import Pairings
from ..queue.store import QueueStore
from ..settings import Settings


@dataclass
class SyncContext:
    settings: Settings
    store: QueueStore
    bindings: Bindings
    pairings: Pairings
    cursors: Cursors
    erp: Erp  # the SQL or the WebAPI side, or anything else that implements the interface
    shop: ShopClient
    services: dict[str, Any] = field(default_factory=dict)  # lazily built helpers (exchange rates)

    @classmethod
    def open(cls, settings: Settings, store: QueueStore, erp: Erp, shop: ShopClient) -> "SyncContext":
        cursors = Cursors(store)
        return cls(settings=settings, store=store, bindings=Bindings(store), pairings=Pairings(store),
                   cursors=cursors, erp=erp, shop=shop)

    @property
    def public_url(self) -> str:
        w = self.settings.webhooks
        return (w.public_url or f"http://{w.address}").rstrip("/")
