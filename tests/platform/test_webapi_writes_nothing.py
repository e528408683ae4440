"""With erp.mode = "webapi" the sync does not touch the company database at all: every read and write goes
through Symfonia's own calls, and images into the sync's own store. Proven on what the server process really
ran (the SQL gateway's trace, SHOPSYNC_SQL_TRACE: not one statement), after a day's work: products and stock
to the shop, the feeds read, a first order (new contractor, delivery address, ZMO), its cancellation in the
shop, the shop's image, the initial import, a catch-up and a reconciliation."""

from __future__ import annotations

import os
from pathlib import Path

from shop_client.interface import ProductChange
from shopsync.v1 import sync_pb2, sync_pb2_grpc
from tests.helpers.images import png_host
from tests.helpers.stack import Stack, wait_until
from tests.helpers.sync_steps import shop_order, sync_products


def test_a_days_work_through_the_webapi_runs_no_sql_at_all(tmp_path):
    stack = Stack(tmp_path, products=30, erp_writer="webapi",
                  erp={"feed_interval_seconds": 0.5, "feed_overlap_seconds": 5}).start_server()
    try:
        with png_host() as url:
            stack.register_webhooks()
            pid = stack.server.pid
            codes = sync_products(stack, [1, 2])
            order = shop_order(stack, [(codes[0], 1)], email="nowa@example.pl")
            zo = wait_until(lambda: stack.erp.find_order_by_shop_number(order["number"]), message="the ZMO")
            assert stack.webapi.calls("POST /Contractors/Create") == 1
            with stack.shop_api() as api:
                api.put(f"/orders/{order['id']}", json={"status": "cancelled"}).raise_for_status()
                shop_id = stack.shop_product(codes[1]).id
                api.put(f"/products/{shop_id}", json={"images": [{"src": url}]})
            wait_until(lambda: stack.erp_image(2), message="the shop's image kept")
            assert all(r.ok for r in stack.woo.upsert_products([ProductChange(sku=f"NOWY-{i}", fields={
                "name": f"Nowy {i}", "published": True}) for i in range(3)]))
            with stack.channel() as ch:
                final = list(sync_pb2_grpc.SyncServiceStub(ch).ImportCatalog(sync_pb2.ImportCatalogRequest(),
                                                                             timeout=60, metadata=stack.metadata))[-1]
            assert final.created == 3
            stack.sim.approve_pz(2, 4)  # no hook: the feed brings it
            wait_until(lambda: stack.shop_product(codes[1]).stock == stack.erp.commercial_stock([2])[2],
                       message="stock by the feed")
            wait_until(stack.queues_empty, timeout=30, message="drained")
            assert stack.erp.order_progress([zo])[zo].state == "new", "the issued order is a person's to cancel"
            with stack.channel() as ch:  # the repair passes too
                stub = sync_pb2_grpc.SyncServiceStub(ch)
                assert list(stub.RunCatchUp(sync_pb2.RunCatchUpRequest(), timeout=60,
                                            metadata=stack.metadata))[-1].products_checked > 0
                list(stub.RunReconciliation(sync_pb2.RunReconciliationRequest(), timeout=60, metadata=stack.metadata))
            wait_until(stack.queues_empty, timeout=30, message="drained again")
            trace = Path(os.environ["SHOPSYNC_SQL_TRACE"]) / f"{pid}.sql"
            ran = trace.read_text("utf-8").splitlines() if trace.exists() else []
            assert not ran, "the server ran SQL against the company database:\n" + "\n".join(ran)
    finally:
        stack.close()
