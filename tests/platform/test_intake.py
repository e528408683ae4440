"""What comes in from the shop and the admins: signed webhooks only, precise gRPC errors."""

from __future__ import annotations

import grpc
import pytest

from shopsync.v1 import customers_pb2, customers_pb2_grpc


def test_unsigned_or_wrongly_signed_webhooks_are_refused_and_nothing_queued(local_stack):
    resource = {"id": 999, "number": "999", "status": "processing", "line_items": []}
    assert local_stack.post_webhook("order.created", resource, signature="").status_code == 401
    assert local_stack.post_webhook("order.created", resource, secret="wrong").status_code == 401
    assert local_stack.post_webhook("order.created", resource, signature="bm9wZQ==").status_code == 401
    stats = local_stack.queue_stats()
    assert stats["QUEUE_NAME_INBOX"].pending == 0 and stats["QUEUE_NAME_INBOX"].dead_letters == 0


def test_grpc_errors_are_precise(local_stack):
    with local_stack.channel() as ch:
        stub = customers_pb2_grpc.CustomerServiceStub(ch)
        with pytest.raises(grpc.RpcError) as err:
            stub.PairCustomer(customers_pb2.PairCustomerRequest(shop_customer_id=0, erp_contractor_id=1),
                              metadata=local_stack.metadata)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "shop_customer_id" in err.value.details()
        with pytest.raises(grpc.RpcError) as err:
            stub.UnpairCustomer(customers_pb2.UnpairCustomerRequest(shop_customer_id=12345),
                                metadata=local_stack.metadata)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_our_own_pairing_status_coming_back_as_a_webhook_is_not_queued_again(local_stack):
    from shopsync.demo import data as demo_data
    from tests.helpers.stack import wait_until

    firm = demo_data.contractors()[5]
    with local_stack.shop_api() as api:
        customer = api.post("/customers", json={"email": "echo@example.pl", "first_name": "Ala", "last_name": "Echo",
                                                "meta_data": [{"key": "_billing_nip", "value": firm.nip10}]}).json()

    def shown() -> dict:
        body = local_stack.shop_api().get(f"/customers/{customer['id']}").json()
        return {m["key"]: m["value"] for m in body["meta_data"]}.get("_shopsync_pairing") or {}
    wait_until(lambda: shown().get("status") == "paired", timeout=30, message="the shop shows the pairing")
    wait_until(lambda: "customer.updated for customer" in local_stack.log.read_text(), timeout=30,
               message="our status write came back as a webhook")
    log = local_stack.log.read_text()
    queued = [line for line in log.splitlines() if "webhook customer." in line and "queued as inbox" in line]
    assert len(queued) == 1 and "customer.created" in queued[0], queued
    # a change the pairing reads is queued as before
    with local_stack.shop_api() as api:
        api.put(f"/customers/{customer['id']}", json={"first_name": "Alicja"}).raise_for_status()
    wait_until(lambda: "webhook customer.updated queued" in local_stack.log.read_text(), timeout=30,
               message="a real change queued")
