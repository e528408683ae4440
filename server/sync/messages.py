"""Every queue message, as a typed value with its queue, kind, entity key and codec.

Nothing else builds message dicts, kind strings or entity keys: a flow makes one of
these values and calls `enqueue`; a worker turns a claimed row back into one with
`decode`. The ERP event vocabulary is the proto enum ErpEventKind, once: the hook's
event names (`stock-changed`) are its value names in lower case with dashes.

    queue       kind              value               entity key
    erp_events  <event name>      ErpEvent            <subject>:<id> (product, price_list, document, ...)
    outbox      product           ProductSnapshot     product:<erp id>
    outbox      customer_status   CustomerStatus      customer_status:<shop id>
    outbox      customer_prices   ContractorPrices    contractor_prices:<contractor id>
    outbox      order_status      OrderProgressChanged order_status:<shop order id>
    inbox       order             ShopOrderChanged    order:<shop id>
    inbox       customer          ShopCustomerChanged customer:<shop id>
    inbox       product           ShopImageChanged    shop_product:<shop id>
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Iterable

from ..queue.store import EnqueueResult, Message, QueueStore
from shopsync.v1 import erp_events_pb2

# -- the ERP event vocabulary, from the proto enum ------------------------------------
_PREFIX = "ERP_EVENT_KIND_"
EVENT_NAMES: dict[int, str] = {value: name.removeprefix(_PREFIX).lower().replace("_", "-")
                               for name, value in erp_events_pb2.ErpEventKind.items() if value}
EVENT_KINDS: dict[str, int] = {name: value for value, name in EVENT_NAMES.items()}
# What an event's id names (the subject of its entity key); a product (HM.TW.id) unless listed.
PRICE_LIST, DOCUMENT, ERP_ORDER, CONTRACTOR, RESERVATION, PRODUCT = (
    "price_list", "document", "erp_order", "contractor", "reservation", "product")
_SUBJECTS = {
    EVENT_NAMES[erp_events_pb2.ERP_EVENT_KIND_PRICE_LIST_SAVED]: PRICE_LIST,    # HM.CK.id
    EVENT_NAMES[erp_events_pb2.ERP_EVENT_KIND_DOCUMENT_ISSUED]: DOCUMENT,       # HM.MG.id or HM.DK.id
    EVENT_NAMES[erp_events_pb2.ERP_EVENT_KIND_ORDER_CHANGED]: ERP_ORDER,        # HM.ZO.id
    EVENT_NAMES[erp_events_pb2.ERP_EVENT_KIND_CONTRACTOR_SAVED]: CONTRACTOR,    # HM.KH.id
    EVENT_NAMES[erp_events_pb2.ERP_EVENT_KIND_RESERVATION_CHANGED]: RESERVATION,  # HM.RZ.id
}


def event_subject(event: str) -> str:
    return _SUBJECTS.get(event, PRODUCT)


class UnreadableMessage(ValueError):
    """A stored message that no type here reads (a bug or a foreign row): it becomes a dead letter."""


@dataclass(frozen=True)
class QueueMessage:
    """The shape every message shares; subclasses set `queue` and `kind` and define `key`."""

    queue: ClassVar[str]
    kind: ClassVar[str]

    @property
    def key(self) -> str:
        raise NotImplementedError

    @property
    def message_kind(self) -> str:
        return self.kind

    def payload(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def decode(cls, kind: str, payload: dict[str, Any]) -> "QueueMessage":
        names = {f for f in cls.__dataclass_fields__}
        try:
            return cls(**{k: v for k, v in payload.items() if k in names})
        except TypeError as exc:
            raise UnreadableMessage(f"{cls.__name__}: {exc}") from None


# -- erp_events -----------------------------------------------------------------------
@dataclass(frozen=True)
class ErpEvent(QueueMessage):
    """Something changed in the ERP (from a hook, or our own order's reservations)."""

    queue: ClassVar[str] = "erp_events"
    kind: ClassVar[str] = "erp_event"
    event: str
    erp_id: int
    occurred_unix_ms: int = 0

    @property
    def key(self) -> str:
        return f"{event_subject(self.event)}:{self.erp_id}"

    @property
    def message_kind(self) -> str:
        return self.event  # stored under the event's name, as the hooks say it

    @property
    def subject(self) -> str:
        return event_subject(self.event)

    @classmethod
    def decode(cls, kind: str, payload: dict[str, Any]) -> "ErpEvent":
        event = str(payload.get("event") or kind)
        if event not in EVENT_KINDS:
            raise UnreadableMessage(f"unknown ERP event {event!r}")
        return cls(event=event, erp_id=int(payload["erp_id"]), occurred_unix_ms=int(payload.get("occurred_unix_ms")
                                                                                    or 0))


# -- outbox ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ProductSnapshot(QueueMessage):
    """What the shop should show of one ERP product, read at `read_at` (ns)."""

    queue: ClassVar[str] = "outbox"
    kind: ClassVar[str] = "product"
    erp_id: int
    state: dict[str, Any]
    read_at: int

    @property
    def key(self) -> str:
        return f"product:{self.erp_id}"


@dataclass(frozen=True)
class CustomerStatus(QueueMessage):
    """A customer's pairing status, for the shop to show."""

    queue: ClassVar[str] = "outbox"
    kind: ClassVar[str] = "customer_status"
    shop_customer_id: int
    status: dict[str, Any]

    @property
    def key(self) -> str:
        return f"customer_status:{self.shop_customer_id}"


@dataclass(frozen=True)
class ContractorPrices(QueueMessage):
    """The price lists of an ERP contractor, own first, for its shop customers."""

    queue: ClassVar[str] = "outbox"
    kind: ClassVar[str] = "customer_prices"
    contractor_id: int
    lists: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"contractor_prices:{self.contractor_id}"


@dataclass(frozen=True)
class OrderProgressChanged(QueueMessage):
    """Where an ERP order stands now (realised, invoiced, cancelled), for its shop order."""

    queue: ClassVar[str] = "outbox"
    kind: ClassVar[str] = "order_status"
    shop_order_id: int
    erp_order_id: int
    state: dict[str, Any]  # {"state": "new|partial|realised|cancelled", "code", "invoices", "documents"}

    @property
    def key(self) -> str:
        return f"order_status:{self.shop_order_id}"


# -- inbox ----------------------------------------------------------------------------
def _id_and_body(payload: dict[str, Any], name: str) -> tuple[int, dict[str, Any] | None]:
    """A shop record's id and, from a webhook, its body: `<name>_id`, or the body's own id."""
    body = payload.get(name)
    rid = payload.get(f"{name}_id") or (body or {}).get("id")
    if not isinstance(rid, int):
        raise UnreadableMessage(f"{name} message without a {name} id")
    return rid, body


@dataclass(frozen=True)
class ShopRecordChanged(QueueMessage):
    """A shop record was created or changed: its id, where we heard of it, and its body (a webhook's)."""

    record: ClassVar[str]  # "order", "customer": the names of the id and body fields

    @property
    def key(self) -> str:
        return f"{self.record}:{getattr(self, self.record + '_id')}"

    @classmethod
    def decode(cls, kind: str, payload: dict[str, Any]) -> "ShopRecordChanged":
        rid, body = _id_and_body(payload, cls.record)
        return cls(rid, str(payload.get("source", "poll")), body)  # type: ignore[call-arg]


@dataclass(frozen=True)
class ShopOrderChanged(ShopRecordChanged):
    """A shop order was created or changed: its body (webhook) or only its id (polling)."""

    queue: ClassVar[str] = "inbox"
    kind: ClassVar[str] = "order"
    record: ClassVar[str] = "order"
    order_id: int
    source: str = "poll"
    order: dict[str, Any] | None = None


@dataclass(frozen=True)
class ShopCustomerChanged(ShopRecordChanged):
    """A shop customer was created or changed: its body (webhook) or only its id."""

    queue: ClassVar[str] = "inbox"
    kind: ClassVar[str] = "customer"
    record: ClassVar[str] = "customer"
    customer_id: int
    source: str = "poll"
    customer: dict[str, Any] | None = None


@dataclass(frozen=True)
class ShopImageChanged(QueueMessage):
    """A shop product's main image may be new (for the ERP when it has none)."""

    queue: ClassVar[str] = "inbox"
    kind: ClassVar[str] = "product"
    shop_product_id: int
    image_src: str = ""
    source: str = "poll"

    @property
    def key(self) -> str:
        return f"shop_product:{self.shop_product_id}"


TYPES: dict[tuple[str, str], type[QueueMessage]] = {
    (t.queue, t.kind): t for t in (ProductSnapshot, CustomerStatus, ContractorPrices, OrderProgressChanged,
                                   ShopOrderChanged, ShopCustomerChanged, ShopImageChanged)}


def decode(m: Message) -> QueueMessage:
    """The typed value of a claimed message (UnreadableMessage when none fits)."""
    if m.queue == ErpEvent.queue:
        return ErpEvent.decode(m.kind, m.payload)
    t = TYPES.get((m.queue, m.kind))
    if t is None:
        raise UnreadableMessage(f"no message type for {m.queue}/{m.kind}")
    return t.decode(m.kind, m.payload)


def enqueue(store: QueueStore, messages: Iterable[QueueMessage],
            request_id: str | None = None) -> list[EnqueueResult]:
    """Queue messages durably (one commit per queue); a pending message of the same entity is replaced."""
    by_queue: dict[str, list[QueueMessage]] = {}
    for m in messages:
        by_queue.setdefault(m.queue, []).append(m)
    results: list[EnqueueResult] = []
    for queue, items in by_queue.items():
        results += store.enqueue_many(queue, [(m.message_kind, m.payload(), m.key, request_id) for m in items])
    return results


def now_ms() -> int:
    return int(time.time() * 1000)
