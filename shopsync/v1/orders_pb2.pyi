from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class KsefState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KSEF_STATE_UNSPECIFIED: _ClassVar[KsefState]
    KSEF_STATE_NONE: _ClassVar[KsefState]
    KSEF_STATE_WAITING: _ClassVar[KsefState]
    KSEF_STATE_APPROVED: _ClassVar[KsefState]
    KSEF_STATE_REJECTED: _ClassVar[KsefState]
    KSEF_STATE_FAILED: _ClassVar[KsefState]
KSEF_STATE_UNSPECIFIED: KsefState
KSEF_STATE_NONE: KsefState
KSEF_STATE_WAITING: KsefState
KSEF_STATE_APPROVED: KsefState
KSEF_STATE_REJECTED: KsefState
KSEF_STATE_FAILED: KsefState

class GetOrderLedgerRequest(_message.Message):
    __slots__ = ("shop_order_id", "erp_order_id")
    SHOP_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ERP_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    shop_order_id: int
    erp_order_id: int
    def __init__(self, shop_order_id: _Optional[int] = ..., erp_order_id: _Optional[int] = ...) -> None: ...

class SaleDocument(_message.Message):
    __slots__ = ("id", "number", "kind", "gross", "currency", "ksef", "ksef_number")
    ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    GROSS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    KSEF_FIELD_NUMBER: _ClassVar[int]
    KSEF_NUMBER_FIELD_NUMBER: _ClassVar[int]
    id: int
    number: str
    kind: str
    gross: str
    currency: str
    ksef: KsefState
    ksef_number: str
    def __init__(self, id: _Optional[int] = ..., number: _Optional[str] = ..., kind: _Optional[str] = ..., gross: _Optional[str] = ..., currency: _Optional[str] = ..., ksef: _Optional[_Union[KsefState, str]] = ..., ksef_number: _Optional[str] = ...) -> None: ...

class Payment(_message.Message):
    __slots__ = ("number", "amount", "currency", "registry", "date", "document")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    number: str
    amount: str
    currency: str
    registry: str
    date: str
    document: str
    def __init__(self, number: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., registry: _Optional[str] = ..., date: _Optional[str] = ..., document: _Optional[str] = ...) -> None: ...

class GetOrderLedgerResponse(_message.Message):
    __slots__ = ("shop_order_id", "erp_order_id", "documents", "payments", "problems")
    SHOP_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ERP_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    PAYMENTS_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    shop_order_id: int
    erp_order_id: int
    documents: _containers.RepeatedCompositeFieldContainer[SaleDocument]
    payments: _containers.RepeatedCompositeFieldContainer[Payment]
    problems: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, shop_order_id: _Optional[int] = ..., erp_order_id: _Optional[int] = ..., documents: _Optional[_Iterable[_Union[SaleDocument, _Mapping]]] = ..., payments: _Optional[_Iterable[_Union[Payment, _Mapping]]] = ..., problems: _Optional[_Iterable[str]] = ...) -> None: ...
