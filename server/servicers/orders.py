"""OrderService: what became of a shop order's money in the ERP (its ledger, sync/money.py)."""

from __future__ import annotations

from ..erp.records import SaleDocument
from ..queue.bindings import Kind
from ..runtime import Runtime
from ..sync.money import Ledger
from .grpc_status import grpc_errors, maps_to
from shopsync.v1 import orders_pb2, orders_pb2_grpc
import grpc

KSEF = {"none": orders_pb2.KSEF_STATE_NONE, "waiting": orders_pb2.KSEF_STATE_WAITING,
        "approved": orders_pb2.KSEF_STATE_APPROVED, "rejected": orders_pb2.KSEF_STATE_REJECTED,
        "failed": orders_pb2.KSEF_STATE_FAILED}


class NotFound(LookupError):
    """No such order (grpc_errors answers NOT_FOUND)."""


maps_to(grpc.StatusCode.NOT_FOUND, NotFound)
maps_to(grpc.StatusCode.INVALID_ARGUMENT, ValueError)


def _document(d: SaleDocument) -> orders_pb2.SaleDocument:
    return orders_pb2.SaleDocument(id=d.id, number=d.number, kind=d.kind, gross=str(d.gross), currency=d.currency,
                                   ksef=KSEF.get(d.ksef, 0), ksef_number=d.ksef_number)


class OrderServicer(orders_pb2_grpc.OrderServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def GetOrderLedger(self, request, context):  # noqa: N802
        with grpc_errors(context):
            ctx = self.rt.ctx
            if request.shop_order_id < 0 or request.erp_order_id < 0:
                raise ValueError("shop_order_id, erp_order_id: ids are positive")
            if bool(request.shop_order_id) == bool(request.erp_order_id):
                raise ValueError("shop_order_id or erp_order_id: give exactly one of them")
            if request.shop_order_id:
                bound = ctx.bindings.by_shop_ids(Kind.ORDER, [request.shop_order_id]).get(request.shop_order_id)
            else:
                bound = ctx.bindings.get(Kind.ORDER, request.erp_order_id)
            if bound is None:
                raise NotFound(f"order: no shop order {request.shop_order_id or ''} imported into the ERP"
                               if request.shop_order_id else f"order: ERP order {request.erp_order_id} did not "
                               "come from the shop")
            ledger = Ledger.of(ctx.bindings.get(Kind.ORDER_MONEY, bound.erp_id))
            documents = [_document(d) for d in ledger.docs()]
            documents += [_document(SaleDocument.from_json(c)) for c in ledger.corrections if not c.get("by_hand")]
            problems = [f"KSeF rejected invoice {d.number}" for d in ledger.docs() if d.ksef == "rejected"]
            problems += [f"refund {r} was told to a person (a dead letter): correct it in Symfonia"
                         for r in ledger.refused]
            return orders_pb2.GetOrderLedgerResponse(
                shop_order_id=int(bound.shop_id or 0), erp_order_id=bound.erp_id, documents=documents,
                payments=[orders_pb2.Payment(**{k: str(p.get(k, "")) for k in ("number", "amount", "currency",
                                                                               "registry", "date", "document")})
                          for p in ledger.payments], problems=problems)
