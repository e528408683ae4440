"""What every flow needs: the queue, the binder, the ERP gateway and the shop."""

from __future__ import annotations

from dataclasses import dataclass

from server.erp.interface import Erp
from server.queue.store import QueueStore
from server.settings import Settings
from server.sync.binder import Binder
from shop_client.interface import ShopClient


@dataclass
class SyncContext:
    settings: Settings
    store: QueueStore
    binder: Binder
    erp: Erp  # ErpGateway, or anything else that implements the interface
    shop: ShopClient

    @property
    def public_url(self) -> str:
        w = self.settings.webhooks
        return (w.public_url or f"http://{w.address}").rstrip("/")
