"""CustomerService: who is paired with which contractor, and pairing by hand."""

from __future__ import annotations

from ..runtime import Runtime
from .. import actions
from .grpc_status import grpc_actor, grpc_errors, once, page_size, page_token_to_int, stream_progress
from ..sync import customers
from ..queue.pairings import Pairing, PairingStatus
from shopsync.v1 import customers_pb2, customers_pb2_grpc

STATUS_TO_PROTO = {PairingStatus.PAIRED: customers_pb2.PAIRING_STATUS_PAIRED,
                   PairingStatus.NEEDS_PERSON: customers_pb2.PAIRING_STATUS_NEEDS_PERSON,
                   PairingStatus.INVALID_NIP: customers_pb2.PAIRING_STATUS_INVALID_NIP,
                   PairingStatus.NO_NIP: customers_pb2.PAIRING_STATUS_NO_NIP}
PROTO_TO_STATUS = {v: k for k, v in STATUS_TO_PROTO.items()}


def to_proto(p: Pairing) -> customers_pb2.Customer:
    return customers_pb2.Customer(shop_customer_id=p.shop_customer_id, email=p.email, name=p.name, nip=p.nip,
                                  status=STATUS_TO_PROTO.get(p.status, 0), erp_contractor_id=p.erp_contractor_id or 0,
                                  detail=p.detail, manual=p.manual)


class CustomerServicer(customers_pb2_grpc.CustomerServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def ListCustomers(self, request, context):  # noqa: N802
        with grpc_errors(context):
            if request.status and request.status not in PROTO_TO_STATUS:
                raise ValueError(f"status: unknown pairing status {request.status}")
            statuses = ([PROTO_TO_STATUS[request.status]] if request.status else
                        [PairingStatus.NEEDS_PERSON, PairingStatus.INVALID_NIP, PairingStatus.NO_NIP]
                        if request.needs_person else None)
            size = page_size(request.page_size)
            rows = self.rt.ctx.pairings.list(statuses, after_id=page_token_to_int(request.page_token), limit=size + 1)
            more = len(rows) > size
            rows = rows[:size]
            return customers_pb2.ListCustomersResponse(
                customers=[to_proto(p) for p in rows],
                next_page_token=str(rows[-1].shop_customer_id) if more else "")

    def PairCustomer(self, request, context):  # noqa: N802
        with grpc_errors(context):
            if request.shop_customer_id <= 0:
                raise ValueError("shop_customer_id: the shop's customer id (positive) is required")
            if request.erp_contractor_id <= 0:
                raise ValueError("erp_contractor_id: the ERP contractor id (HM.KH.id, positive) is required")
            return once(self.rt.store, "PairCustomer", request.request_id, customers_pb2.PairCustomerResponse,
                        lambda: customers_pb2.PairCustomerResponse(customer=to_proto(actions.pair_customer(
                            self.rt.ctx, request.shop_customer_id, request.erp_contractor_id,
                            actor=grpc_actor(context)))))

    def UnpairCustomer(self, request, context):  # noqa: N802
        with grpc_errors(context):
            if request.shop_customer_id <= 0:
                raise ValueError("shop_customer_id: the shop's customer id (positive) is required")
            return once(self.rt.store, "UnpairCustomer", request.request_id, customers_pb2.UnpairCustomerResponse,
                        lambda: customers_pb2.UnpairCustomerResponse(
                            customer=to_proto(actions.unpair_customer(self.rt.ctx, request.shop_customer_id,
                                                                      actor=grpc_actor(context)))))

    def RunCustomerPairing(self, request, context):  # noqa: N802
        return stream_progress(context, customers.pairing_pass(self.rt.ctx),
                               lambda p: customers_pb2.RunCustomerPairingResponse(**p))
