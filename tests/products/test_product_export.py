"""The product synchronizer alone: typed messages in, one outcome per message out, against a shop in
memory (tests/helpers/fakes.py), the demo ERP on the SQLite ODBC driver and a real queue database."""

from __future__ import annotations

import pytest
from shopsync.server.erp.sql.dialects import make_dialect
from shopsync.server.queue.bindings import Kind
from shopsync.server.sync import messages as msg
from shopsync.server.sync.outcome import CONFIG_ERROR, DEAD, DONE, RETRY, SHOP_DOWN
from shopsync.server.sync.products import ProductExport, product_snapshots

from shop_client.errors import ShopAuthError, ShopUnavailable
from shop_client.interface import ITEM_REJECTED, ITEM_RETRYABLE


def marked(ctx, n: int = 1) -> list[int]:
    return [pid for pid, p in ctx.erp.get_products(range(1, 21)).items() if p.marked][:n]


def states(outcomes) -> list[str]:
    return [o.state for o in outcomes]


def test_a_marked_product_is_created_and_a_stale_snapshot_is_dropped(ctx):
    [pid] = marked(ctx)
    old, new = product_snapshots(ctx, [pid]), product_snapshots(ctx, [pid])
    assert states(ProductExport().handle(ctx, new)) == [DONE]
    assert ctx.bindings.get(Kind.PRODUCT, pid).shop_id in ctx.shop.products
    calls = len(ctx.shop.calls)
    assert states(ProductExport().handle(ctx, old)) == [DONE]
    assert len(ctx.shop.calls) == calls, "an older snapshot than what was sent is not sent"


def test_a_product_deleted_in_the_shop_is_forgotten_then_created_again(ctx):
    [pid] = marked(ctx)
    ProductExport().handle(ctx, product_snapshots(ctx, [pid]))
    first = ctx.bindings.get(Kind.PRODUCT, pid).shop_id
    del ctx.shop.products[first]  # a person deleted it in the shop
    later = product_snapshots(ctx, [pid])[0]
    again = [msg.ProductSnapshot(pid, {**later.state, "stock": "999"}, later.read_at)]  # and the ERP changed it
    assert states(ProductExport().handle(ctx, again)) == [RETRY]
    assert ctx.bindings.get(Kind.PRODUCT, pid).shop_id is None
    assert states(ProductExport().handle(ctx, product_snapshots(ctx, [pid]))) == [DONE]
    assert ctx.bindings.get(Kind.PRODUCT, pid).shop_id not in (None, first)


def test_per_item_kinds_become_outcomes(ctx):
    a, b, c = marked(ctx, 3)
    snaps = product_snapshots(ctx, [a, b, c])
    ctx.shop.item_kind[snaps[0].state["sku"]] = (ITEM_REJECTED, "Invalid SKU (product_invalid_sku)")
    ctx.shop.item_kind[snaps[1].state["sku"]] = (ITEM_RETRYABLE, "busy")
    outcomes = ProductExport().handle(ctx, snaps)
    assert states(outcomes) == [DEAD, RETRY, DONE]
    assert snaps[0].state["sku"] in outcomes[0].reason and "product_invalid_sku" in outcomes[0].reason


@pytest.mark.parametrize("error, state", [(ShopUnavailable("503"), SHOP_DOWN),
                                          (ShopAuthError("401: check shop.consumer_key"), CONFIG_ERROR)])
def test_a_whole_call_failing_keeps_every_message(ctx, error, state):
    snaps = product_snapshots(ctx, marked(ctx, 3))
    ctx.shop.fail_next = error
    assert states(ProductExport().handle(ctx, snaps)) == [state] * 3
    assert all(ctx.bindings.get(Kind.PRODUCT, s.erp_id) is None for s in snaps), "nothing recorded as sent"


def test_an_image_known_at_creation_rides_in_the_create(ctx, tmp_path):
    [pid] = marked(ctx)
    from shopsync.demo.erp import ErpSimulator

    dialect = make_dialect("sqlite", database=tmp_path / "erp.db")
    sim = ErpSimulator(dialect.connect(dialect.connection_string()), dialect)
    sim.set_image(pid, b"\x89PNG\r\n\x1a\n....", "a.png", "image/png")
    sim.close()
    assert states(ProductExport().handle(ctx, product_snapshots(ctx, [pid]))) == [DONE]
    assert ctx.shop.calls == ["upsert_products"], "no second call for the image"
    assert ctx.bindings.get(Kind.PRODUCT, pid).state["shop_images"], "the shop's copy is remembered (no echo)"
