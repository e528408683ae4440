"""ERP events from the hooks: validated, then queued durably (the vocabulary is messages.EVENT_KINDS)."""

from __future__ import annotations

from ..queue.store import EnqueueResult, QueueStore
from . import messages as msg


class BadEvent(ValueError):
    """An event that cannot be recorded; the message says which field is wrong."""


def validate_event(name: str, erp_id: int, request_id: str) -> msg.ErpEvent:
    if name not in msg.EVENT_KINDS:
        raise BadEvent(f"kind: unknown event {name!r}; expected one of {', '.join(msg.EVENT_KINDS)}")
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
    return msg.ErpEvent(name, erp_id)


def record_erp_event(store: QueueStore, event: msg.ErpEvent, request_id: str,
                     occurred_unix_ms: int = 0) -> EnqueueResult:
    """Durably queue an event; the ERP state is read later by the event worker.

    Events for one product coalesce: whatever happened, the worker reads the
    whole product as it is then.
    """
    stamped = msg.ErpEvent(event.event, event.erp_id, occurred_unix_ms or msg.now_ms())
    return msg.enqueue(store, [stamped], request_id=request_id)[0]
