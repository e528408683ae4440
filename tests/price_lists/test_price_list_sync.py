"""Price lists, ERP -> shop, over the real pieces: only what changed is sent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import ERP_STACKS, make_stack
from tests.helpers.stack import wait_until


@pytest.fixture(params=ERP_STACKS)
def stack(request, tmp_path):
    s = make_stack(request, tmp_path).start_server()
    yield s
    s.close()


def test_price_list_change_delivers_only_what_changed(stack):
    ids = [2, 4, 5]
    for pid in ids:
        stack.act(stack.sim.save_item(pid))
    codes = {pid: stack.erp.get_product(pid).code for pid in ids}
    wait_until(lambda: all(stack.shop_product(c) for c in codes.values()), message="created")
    wait_until(stack.queues_empty, message="drained")
    api = stack.shop_api()
    hurt = stack.sim.price_list_id("HURT")
    before = {pid: api.get(f"/products/{stack.shop_product(c).id}").json()["date_modified_gmt"]
              for pid, c in codes.items()}
    stack.act(stack.sim.set_price(hurt, 4, Decimal("77.70")))

    def meta(pid: int) -> dict:
        body = api.get(f"/products/{stack.shop_product(codes[pid]).id}").json()
        return {m["key"]: m["value"] for m in body["meta_data"]}.get("_shopsync_prices", {})

    wait_until(lambda: meta(4).get("HURT") == "77.70", message="price list in the shop")
    wait_until(stack.queues_empty, message="drained")
    after = {pid: api.get(f"/products/{stack.shop_product(c).id}").json()["date_modified_gmt"]
             for pid, c in codes.items()}
    assert after[2] == before[2] and after[5] == before[5], "untouched products were not sent again"
    assert after[4] != before[4]
    api.close()
