"""The customer status synchronizer alone, against a shop in memory."""

from __future__ import annotations

from shopsync.server.sync import messages as msg
from shopsync.server.sync.customers import CustomerStatusExport
from shopsync.server.sync.outcome import DEAD, DONE

from shop_client.interface import ITEM_REJECTED


def states(outcomes) -> list[str]:
    return [o.state for o in outcomes]


def test_customer_status_outcomes(ctx):
    ctx.shop.customers[5] = {"customer": None}
    ctx.shop.customers[6] = {"customer": None}
    ctx.shop.item_kind["6"] = (ITEM_REJECTED, "bad meta")
    batch = [msg.CustomerStatus(5, {"status": "paired"}), msg.CustomerStatus(6, {"status": "paired"}),
             msg.CustomerStatus(7, {"status": "paired"})]  # 7 was deleted in the shop: nothing to show it on
    assert states(CustomerStatusExport().handle(ctx, batch)) == [DONE, DEAD, DONE]
