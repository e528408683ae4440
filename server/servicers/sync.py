"""SyncService: catch-up on demand and the initial catalog import (streamed)."""

from __future__ import annotations

from ..runtime import Runtime
from .grpc_status import grpc_errors
from ..sync import catalog, catchup, reconcile
from shopsync.v1 import sync_pb2, sync_pb2_grpc


class SyncServicer(sync_pb2_grpc.SyncServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def RunCatchUp(self, request, context):  # noqa: N802
        with grpc_errors(context):
            for p in catchup.catch_up_pass(self.rt.ctx):
                if not context.is_active():
                    return
                yield sync_pb2.RunCatchUpResponse(products_checked=p["checked"], products_queued=p["queued"],
                                                  products_total=p["total"], done=p["done"])

    def ImportCatalog(self, request, context):  # noqa: N802
        with grpc_errors(context):
            for progress in catalog.import_catalog(self.rt.ctx, dry_run=request.dry_run):
                if not context.is_active():
                    return
                yield sync_pb2.ImportCatalogResponse(
                    seen=progress["seen"], created=progress["created"], paired=progress["paired"],
                    already_bound=progress["already_bound"], skipped=progress["skipped"], total=progress["total"],
                    problems=[sync_pb2.ImportProblem(**p) for p in progress["problems"]], done=progress["done"])

    def RunReconciliation(self, request, context):  # noqa: N802
        with grpc_errors(context):
            for p in reconcile.reconcile_pass(self.rt.ctx):
                if not context.is_active():
                    return
                yield sync_pb2.RunReconciliationResponse(checked=p["checked"], total=p["total"],
                                                         corrections=p["corrections"], conflicts=p["conflicts"],
                                                         done=p["done"])
