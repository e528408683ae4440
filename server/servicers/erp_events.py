"""ErpEventService: the hooks' door. Validate, queue durably, answer."""

from __future__ import annotations

import threading
import time

import grpc

from ..queue.store import QueueStore
from .grpc_status import grpc_errors, maps_to
from ..sync.events import BadEvent, record_erp_event, validate_event
from ..sync.messages import EVENT_NAMES
from shopsync.v1 import erp_events_pb2, erp_events_pb2_grpc

maps_to(grpc.StatusCode.INVALID_ARGUMENT, BadEvent)



class ErpEventServicer(erp_events_pb2_grpc.ErpEventServiceServicer):
    def __init__(self, store: QueueStore) -> None:
        self.store = store
        # The last event of each kind since start, for `shopsync hooks last` (memory only: diagnostics).
        self.started_ms = int(time.time() * 1000)
        self.recent: dict[int, tuple[int, int, int]] = {}  # kind -> (erp id, received ms, count)
        self.recent_lock = threading.Lock()

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
            with self.recent_lock:
                count = self.recent.get(request.kind, (0, 0, 0))[2]
                self.recent[request.kind] = (request.erp_id, int(time.time() * 1000), count + 1)
            return erp_events_pb2.RecordErpEventResponse(message_id=result.id, duplicate=result.duplicate)

    def ListRecentEvents(self, request, context):  # noqa: N802
        with grpc_errors(context), self.recent_lock:
            return erp_events_pb2.ListRecentEventsResponse(
                events=[erp_events_pb2.RecentEvent(kind=kind, erp_id=erp_id, received_unix_ms=at, count=count)
                        for kind, (erp_id, at, count) in sorted(self.recent.items())],
                since_unix_ms=self.started_ms)
