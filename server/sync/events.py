"""ERP events from the hooks: what each one means and where it is queued."""

from __future__ import annotations

import time
from dataclasses import dataclass

from server.queue.store import EnqueueResult, QueueStore

# Event name (as typed after erp-hook) -> what the id names.
EVENTS: dict[str, str] = {
    "item-saved": "product",
    "note-edited": "product",
    "stock-changed": "product",
    "reservation-made": "product",
    "image-changed": "product",
    "price-list-saved": "price_list",
}


class BadEvent(ValueError):
    """An event that cannot be recorded; the message says which field is wrong."""


@dataclass(frozen=True)
class ErpEvent:
    name: str
    erp_id: int
    occurred_unix_ms: int = 0

    @property
    def entity_key(self) -> str:
        return f"{EVENTS[self.name]}:{self.erp_id}"


def validate_event(name: str, erp_id: int, request_id: str) -> ErpEvent:
    if name not in EVENTS:
        raise BadEvent(f"kind: unknown event {name!r}; expected one of {', '.join(EVENTS)}")
    if erp_id <= 0:
        raise BadEvent(f"erp_id: must be a positive ERP record id, got {erp_id}")
    if erp_id > 2**31 - 1:
        raise BadEvent(f"erp_id: {erp_id} is larger than any ERP id (int)")
    if not request_id:
        raise BadEvent("request_id: required (a fresh unique id per event)")
    if len(request_id) > 128:
        raise BadEvent("request_id: at most 128 characters")
    if not request_id.isprintable():
        raise BadEvent("request_id: control characters are not allowed (use e.g. a UUID)")
    return ErpEvent(name, erp_id)


def record_erp_event(store: QueueStore, event: ErpEvent, request_id: str,
                     occurred_unix_ms: int = 0) -> EnqueueResult:
    """Durably queue an event; the ERP state is read later by the event worker.

    Events for one product coalesce: whatever happened, the worker reads the
    whole product as it is then.
    """
    payload = {"event": event.name, "erp_id": event.erp_id,
               "occurred_unix_ms": occurred_unix_ms or int(time.time() * 1000)}
    return store.enqueue("erp_events", event.name, payload, entity_key=event.entity_key,
                         request_id=request_id)
