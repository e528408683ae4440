"""SyncService: catch-up, reconciliation and the initial catalog import, on demand (streamed progress)."""

from __future__ import annotations

from shopsync.v1 import sync_pb2, sync_pb2_grpc

from ..runtime import Runtime
from ..sync import catalog, catchup, reconcile
from .grpc_status import stream_progress


BY_REQUEST = "a request (shopsync or the API)"  # who started a pass, as the console shows it


class SyncServicer(sync_pb2_grpc.SyncServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def RunCatchUp(self, request, context):  # noqa: N802
        passes = self.rt.activity.recording("catch-up", catchup.catch_up_pass(self.rt.ctx), by=BY_REQUEST)
        return stream_progress(context, passes, lambda p: sync_pb2.RunCatchUpResponse(
            products_checked=p["checked"], products_queued=p["queued"], products_total=p["total"], done=p["done"]))

    def ImportCatalog(self, request, context):  # noqa: N802
        return stream_progress(context, catalog.import_catalog(self.rt.ctx, dry_run=request.dry_run),
                               lambda p: sync_pb2.ImportCatalogResponse(
                                   seen=p["seen"], created=p["created"], paired=p["paired"],
                                   already_bound=p["already_bound"], skipped=p["skipped"], total=p["total"],
                                   problems=[sync_pb2.ImportProblem(**x) for x in p["problems"]], done=p["done"]))

    def RunReconciliation(self, request, context):  # noqa: N802
        passes = self.rt.activity.recording("reconciliation", reconcile.reconcile_pass(self.rt.ctx), by=BY_REQUEST)
        return stream_progress(context, passes,
                               lambda p: sync_pb2.RunReconciliationResponse(
                                   checked=p["checked"], total=p["total"], corrections=p["corrections"],
                                   conflicts=p["conflicts"], done=p["done"]))
