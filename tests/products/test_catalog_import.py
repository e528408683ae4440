"""The initial import over the real pieces: a shop's catalog created in a clean ERP, once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shop_client.interface import ProductChange
from shopsync.v1 import sync_pb2, sync_pb2_grpc
from tests.conftest import ERP_STACKS, make_stack
from tests.helpers.stack import Stack


@pytest.fixture(params=ERP_STACKS)
def stack(request, tmp_path):
    """The local shop (webhooks + polling) and a real WooCommerce (polling: its webhooks come late)."""
    s = make_stack(request, tmp_path, products=30).start_server()
    s.register_webhooks()
    yield s
    s.close()


def import_catalog(stack: Stack) -> list:
    with stack.channel() as ch:
        return list(sync_pb2_grpc.SyncServiceStub(ch).ImportCatalog(sync_pb2.ImportCatalogRequest(), timeout=120,
                                                                    metadata=stack.metadata))


def test_initial_import_creates_once_pairs_by_code_and_reports_bad_skus(stack):
    existing = stack.erp.get_product(1)
    changes = [ProductChange(sku=f"SHOP-{i:04d}", fields={"name": f"Towar {i} żółty", "price": Decimal("19.99"),
                                                           "category_path": ("Sklep", "Nowe"), "published": True,
                                                           "stock": Decimal(3), "description": "opis"})
               for i in range(230)]
    changes.append(ProductChange(sku=existing.code, fields={"name": "inna nazwa", "published": True}))
    changes.append(ProductChange(sku="X" * 41, fields={"name": "za długi SKU"}))
    assert all(r.ok for r in stack.woo.upsert_products(changes))
    api = stack.shop_api()
    api.post("/products", json={"name": "bez SKU"}).raise_for_status()
    if stack.erp_writer == "webapi":
        # the WebAPI makes no catalogs: the import says which to create and creates nothing of those products
        first = import_catalog(stack)
        reasons = [p.reason for msg in first for p in msg.problems]
        assert first[-1].created == 0 and first[-1].skipped == 232
        assert sum("ERP catalog Sklep > Nowe does not exist" in r for r in reasons) == 230
        assert stack.webapi.calls("POST /Products/Create") == 0
        stack.sim.add_catalog(("Sklep", "Nowe"))  # a person makes it in Symfonia
    progress = import_catalog(stack)
    final = progress[-1]
    assert final.done and final.seen == 233 and final.created == 230 and final.skipped == 2
    assert (final.paired, final.already_bound) == ((0, 1) if stack.erp_writer == "webapi" else (1, 0)), \
        "the code the ERP had is paired once (with the WebAPI: on the first run, which created nothing)"
    assert len(progress) >= 4, "streams page by page"
    reasons = [p.reason for msg in progress for p in msg.problems]
    assert any("no SKU" in r for r in reasons) and any("longer" in r for r in reasons)
    created = stack.erp.find_products_by_codes([f"SHOP-{i:04d}" for i in range(230)])
    assert len(created) == 230
    p = stack.erp.get_product(created["SHOP-0007"])
    assert p.name == "Towar 7 żółty" and p.base_price == Decimal("19.99") and p.group_path == ("Sklep", "Nowe")
    assert p.marked and p.note == "opis"
    assert stack.erp.get_product(1).name == existing.name, "an existing ERP product keeps its data"
    again = import_catalog(stack)[-1]
    assert again.created == 0 and again.already_bound == 231 and again.skipped == 2
    if stack.erp_writer == "webapi":  # each card made by the ERP's own call, once
        assert stack.webapi.calls("POST /Products/Create") == 230
    api.close()
