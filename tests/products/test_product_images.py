"""Main images both ways, over the real pieces: set, replaced and removed in the ERP; the shop's image
into an ERP that has none; no echo of our own change."""

from __future__ import annotations

import pytest

from tests.conftest import ERP_STACKS, make_stack
from tests.helpers.images import PNG, make_png
from tests.helpers.stack import wait_until


@pytest.fixture(params=ERP_STACKS)
def stack(request, tmp_path):
    s = make_stack(request, tmp_path).start_server()
    yield s
    s.close()


def test_main_image_replaced_and_removed(stack):
    import httpx

    code = stack.erp.get_product(5).code
    stack.act(stack.sim.save_item(5))
    wait_until(lambda: stack.shop_product(code), message="created")
    stack.set_erp_image(5, PNG, "wiertlo.png")
    url = wait_until(lambda: stack.shop_product(code).image_url, message="image in the shop")
    assert httpx.get(url).content == PNG  # the shop downloaded it from our image URL
    second = make_png((20, 20, 220), size=3)
    stack.set_erp_image(5, second, "nowe.png")
    wait_until(lambda: httpx.get(stack.shop_product(code).image_url).content == second, message="replaced")
    stack.set_erp_image(5, None)
    wait_until(lambda: stack.shop_product(code).image_url == "", message="image removed")
