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
