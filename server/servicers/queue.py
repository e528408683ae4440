"""QueueService: queue statistics and dead-letter handling."""

from __future__ import annotations

import json

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from ..queue.store import NotFound, QueueStore
from .. import actions
from .grpc_status import grpc_actor, grpc_errors, maps_to, once, page_size, page_token_to_int
from shopsync.v1 import queue_pb2, queue_pb2_grpc

maps_to(grpc.StatusCode.NOT_FOUND, NotFound)
maps_to(grpc.StatusCode.INVALID_ARGUMENT, ValueError)

QUEUE_TO_PROTO = {
    "erp_events": queue_pb2.QUEUE_NAME_ERP_EVENTS,
    "outbox": queue_pb2.QUEUE_NAME_OUTBOX,
    "inbox": queue_pb2.QUEUE_NAME_INBOX,
}
PROTO_TO_QUEUE = {v: k for k, v in QUEUE_TO_PROTO.items()}


def _ts(seconds: float) -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


class QueueServicer(queue_pb2_grpc.QueueServiceServicer):
    def __init__(self, store: QueueStore) -> None:
        self.store = store

    def GetQueueStats(self, request, context):  # noqa: N802
        with grpc_errors(context):
            return queue_pb2.GetQueueStatsResponse(queues=[
                queue_pb2.QueueStats(queue=QUEUE_TO_PROTO[s.queue], pending=s.pending,
                                     in_flight=s.in_flight, dead_letters=s.dead,
                                     oldest_pending_age_seconds=round(s.oldest_age_seconds, 3))
                for s in self.store.stats()])

    def ListDeadLetters(self, request, context):  # noqa: N802
        with grpc_errors(context):
            if request.queue and request.queue not in PROTO_TO_QUEUE:
                raise ValueError(f"queue: unknown queue {request.queue}")
            size = page_size(request.page_size)
            after = page_token_to_int(request.page_token)
            letters = self.store.dead_letters(PROTO_TO_QUEUE.get(request.queue), after_id=after,
                                              limit=size + 1)
            more = len(letters) > size
            letters = letters[:size]
            return queue_pb2.ListDeadLettersResponse(
                dead_letters=[queue_pb2.DeadLetter(
                    id=d.id, queue=QUEUE_TO_PROTO[d.queue], kind=d.kind, entity_key=d.entity_key or "",
                    attempts=d.attempts, reason=d.reason, created_time=_ts(d.created_at),
                    dead_time=_ts(d.dead_at), payload_json=json.dumps(d.payload, ensure_ascii=False))
                    for d in letters],
                next_page_token=str(letters[-1].id) if more else "")

    def RetryDeadLetter(self, request, context):  # noqa: N802
        with grpc_errors(context):
            if request.id <= 0:
                raise ValueError("id: the dead letter's id (from ListDeadLetters) is required")
            return once(self.store, "RetryDeadLetter", request.request_id, queue_pb2.RetryDeadLetterResponse,
                        lambda: queue_pb2.RetryDeadLetterResponse(new_id=actions.retry_dead_letter(
                            self.store, request.id, actor=grpc_actor(context))))

    def DiscardDeadLetter(self, request, context):  # noqa: N802
        def discard() -> queue_pb2.DiscardDeadLetterResponse:
            actions.discard_dead_letter(self.store, request.id, actor=grpc_actor(context))
            return queue_pb2.DiscardDeadLetterResponse()

        with grpc_errors(context):
            if request.id <= 0:
                raise ValueError("id: the dead letter's id (from ListDeadLetters) is required")
            return once(self.store, "DiscardDeadLetter", request.request_id, queue_pb2.DiscardDeadLetterResponse,
                        discard)
