"""ErpEventService: the hooks' door. Validate, queue durably, answer."""

from __future__ import annotations

import grpc

from server.queue.store import QueueStore
from server.servicers.common import grpc_errors, maps_to
from server.sync.events import BadEvent, record_erp_event, validate_event
from server.sync.messages import EVENT_NAMES
from shopsync.v1 import erp_events_pb2, erp_events_pb2_grpc

maps_to(grpc.StatusCode.INVALID_ARGUMENT, BadEvent)



class ErpEventServicer(erp_events_pb2_grpc.ErpEventServiceServicer):
    def __init__(self, store: QueueStore) -> None:
        self.store = store

    def RecordErpEvent(self, request, context):  # noqa: N802
        with grpc_errors(context):
            name = EVENT_NAMES.get(request.kind)
            if name is None:
                raise BadEvent(f"kind: {request.kind} is not an event kind "
                               f"(use one of {', '.join(erp_events_pb2.ErpEventKind.keys()[1:])})")
            if request.occurred_unix_ms < 0:
                raise BadEvent("occurred_unix_ms: must not be negative")
            event = validate_event(name, request.erp_id, request.request_id)
            result = record_erp_event(self.store, event, request.request_id, request.occurred_unix_ms)
            return erp_events_pb2.RecordErpEventResponse(message_id=result.id, duplicate=result.duplicate)
