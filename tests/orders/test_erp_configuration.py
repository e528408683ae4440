"""An ERP that refuses us as configured, or a setting the ERP work needs and the site has not set,
pauses delivery with one log line and keeps every message; fixed and restarted, everything flows.

Real server process, local shop over HTTP, the demo ERP (and the WebAPI simulator), webhooks.
"""

from __future__ import annotations

import pytest

from shopsync.v1 import queue_pb2, queue_pb2_grpc
from tests.helpers.stack import Stack, wait_until
from tests.helpers.sync_steps import sync_products


def inbox(stack: Stack):
    return stack.queue_stats()["QUEUE_NAME_INBOX"]


def dead_letters(stack: Stack) -> list[str]:
    with stack.channel() as ch:
        dead = queue_pb2_grpc.QueueServiceStub(ch).ListDeadLetters(queue_pb2.ListDeadLettersRequest(),
                                                                    metadata=stack.metadata).dead_letters
    return [d.reason for d in dead]


@pytest.mark.parametrize("wrong", ["shipping_code", "webapi_app_key"])
def test_an_erp_setting_pauses_orders_with_one_line_and_they_flow_once_it_is_set(tmp_path, wrong):
    writer = "webapi" if wrong == "webapi_app_key" else "sql"
    stack = Stack(tmp_path, products=20, erp_writer=writer, queue={"pause_recheck_seconds": 0.2})
    good = {"orders": dict(stack.sections["orders"]), "erp": dict(stack.sections["erp"])}
    stack.start_server()
    stack.register_webhooks()
    try:
        # The product reaches the shop first: with a wrong WebAPI key nothing is read from the ERP at all.
        [code] = sync_products(stack, [pid for pid in range(1, 21) if stack.erp.get_product(pid).marked][:1])
        stack.stop_server()
        if wrong == "shipping_code":
            stack.sections["orders"]["shipping_code"] = ""
        else:
            stack.sections["erp"]["webapi_app_key"] = "zly-klucz-aplikacji"
        stack.write_config()
        stack.start_server()
        with stack.shop_api() as api:
            placed = api.post("/orders", json={
                "status": "processing", "billing": {"first_name": "Ewa", "last_name": "Nowak", "email": "e@x.pl",
                                                    "address_1": "Długa 5", "city": "Kraków", "postcode": "30-001"},
                "line_items": [{"sku": code, "quantity": 1}],
                "shipping_lines": [{"method_id": "flat_rate", "method_title": "Kurier", "total": "15.00"}]})
            placed.raise_for_status()
        number = placed.json()["number"]
        # The worker looks again every pause_recheck_seconds; wait for several looks, then count the lines.
        wait_until(lambda: stack.log.read_text().count("still paused") >= 3, timeout=30, message="paused")
        log = stack.log.read_text()
        assert log.count("delivery paused") == 1, "said once, not at every look"
        assert f"orders.{wrong}" in log or f"erp.{wrong}" in log
        assert "zly-klucz-aplikacji" not in log
        assert inbox(stack).pending >= 1 and inbox(stack).dead_letters == 0
        assert stack.erp.find_order_by_shop_number(number) is None
        stack.stop_server()
        stack.sections.update({k: v for k, v in good.items()})
        stack.write_config()
        stack.start_server()
        wait_until(lambda: stack.erp.find_order_by_shop_number(number), timeout=30, message="order in the ERP")
        assert not dead_letters(stack)
    finally:
        stack.close()
