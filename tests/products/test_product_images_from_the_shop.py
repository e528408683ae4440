"""The shop's main image into an ERP that has none, over the real pieces; an image deleted in the ERP
does not come back from the echo of our own change."""

from __future__ import annotations

import pytest

from tests.helpers.images import PNG, png_host
from tests.helpers.stack import Stack, wait_until
from tests.helpers.sync_steps import sync_products


@pytest.fixture(params=["sql", "webapi"])
def both_modes(request, tmp_path):
    s = Stack(tmp_path, products=30, erp_writer=request.param).start_server()
    s.register_webhooks()
    yield s
    s.close()


def test_shop_image_goes_to_the_erp_when_it_has_none(both_modes):
    local_stack = both_modes
    code = sync_products(local_stack, [2])[0]
    shop_id = local_stack.shop_product(code).id
    with png_host() as url, local_stack.shop_api() as api:
        api.put(f"/products/{shop_id}", json={"images": [{"src": url}]})
        img = wait_until(lambda: local_stack.erp_image(2), message="image in the ERP")
    assert img.data == PNG and img.content_type == "image/png"


def test_an_image_deleted_in_the_erp_does_not_come_back_from_an_echo(local_stack):
    """A late shop webhook carrying the image we sent earlier is our own change, not a person's."""
    stack = local_stack
    code = sync_products(stack, [5])[0]
    stack.act(stack.sim.set_image(5, PNG, "a.png", "image/png"))
    src = wait_until(lambda: stack.shop_product(code).image_url, message="image in the shop")
    stack.act(stack.sim.delete_image(5))
    wait_until(lambda: stack.shop_product(code).image_url == "", message="image removed in the shop")
    shop_id = stack.shop_product(code).id
    echo = {"id": shop_id, "sku": code, "images": [{"id": 1, "src": src}], "date_modified_gmt": "2026-01-01T00:00:00"}
    assert stack.post_webhook("product.updated", echo).status_code == 200
    wait_until(stack.queues_empty, message="drained")
    assert stack.erp.get_image(5) is None, "our own earlier image came back into the ERP"
    assert stack.shop_product(code).image_url == ""
