"""ErpEventService: the hooks' door. Validate, queue durably, answer."""

from __future__ import annotations

import threading
import time

import grpc

from ..queue.store import QueueStore
from typing import Any

from ..erp.errors import ErpNotFound
from ..sync import product_images
from .grpc_status import grpc_errors, maps_to, once
from ..sync.events import BadEvent, record_erp_event, validate_event
from ..sync.messages import EVENT_NAMES
from shopsync.v1 import erp_events_pb2, erp_events_pb2_grpc

maps_to(grpc.StatusCode.INVALID_ARGUMENT, BadEvent, ValueError)



class ErpEventServicer(erp_events_pb2_grpc.ErpEventServiceServicer):
    def __init__(self, store: QueueStore, runtime: Any = None) -> None:
        self.store = store
        self.rt = runtime  # the ERP, for the image report's calls
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
            if self.rt is not None:  # the console's overview, /metrics and the no-hook alert
                self.rt.activity.hook(name, request.erp_id)
                if self.rt.metrics is not None:
                    self.rt.metrics.hooks.labels(name).inc()
            return erp_events_pb2.RecordErpEventResponse(message_id=result.id, duplicate=result.duplicate)

    def ListRecentEvents(self, request, context):  # noqa: N802
        with grpc_errors(context), self.recent_lock:
            return erp_events_pb2.ListRecentEventsResponse(
                events=[erp_events_pb2.RecentEvent(kind=kind, erp_id=erp_id, received_unix_ms=at, count=count)
                        for kind, (erp_id, at, count) in sorted(self.recent.items())],
                since_unix_ms=self.started_ms)

    def GetProductImage(self, request, context):  # noqa: N802
        with grpc_errors(context):
            pid = _product_id(request.product_id)
            image = self.rt.ctx.erp.get_image(pid)
            if image is None:
                raise ErpNotFound(f"product id {pid} has no main image")
            product = self.rt.ctx.erp.get_products([pid]).get(pid)
            return erp_events_pb2.GetProductImageResponse(
                filename=image.filename, content_type=image.content_type, data=image.data, sha256=image.sha256,
                product_code=product.code if product else "")

    def SetProductImage(self, request, context):  # noqa: N802
        with grpc_errors(context):
            pid = _product_id(request.product_id)
            _request_id(request.request_id)
            return once(self.store, "SetProductImage", request.request_id, erp_events_pb2.SetProductImageResponse,
                        lambda: _set_reply(*product_images.set_from_erp(
                            self.rt.ctx, pid, request.filename, request.content_type, request.data,
                            request.request_id)))

    def DeleteProductImage(self, request, context):  # noqa: N802
        with grpc_errors(context):
            pid = _product_id(request.product_id)
            _request_id(request.request_id)
            return once(self.store, "DeleteProductImage", request.request_id,
                        erp_events_pb2.DeleteProductImageResponse,
                        lambda: _delete_reply(*product_images.delete_from_erp(self.rt.ctx, pid, request.request_id)))


def _product_id(value: int) -> int:
    if value <= 0 or value > 2**31 - 1:
        raise BadEvent(f"product_id: must be a positive ERP product id (HM.TW.id), got {value}")
    return value


def _request_id(value: str) -> None:
    if not value or len(value) > 128 or not value.isprintable():
        raise BadEvent("request_id: required, printable, at most 128 characters (a fresh id per change)")


def _set_reply(sha256: str, message_id: int) -> erp_events_pb2.SetProductImageResponse:
    return erp_events_pb2.SetProductImageResponse(sha256=sha256, message_id=message_id)


def _delete_reply(deleted: bool, message_id: int) -> erp_events_pb2.DeleteProductImageResponse:
    return erp_events_pb2.DeleteProductImageResponse(deleted=deleted, message_id=message_id)
