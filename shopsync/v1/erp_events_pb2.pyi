from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ErpEventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERP_EVENT_KIND_UNSPECIFIED: _ClassVar[ErpEventKind]
    ERP_EVENT_KIND_ITEM_SAVED: _ClassVar[ErpEventKind]
    ERP_EVENT_KIND_NOTE_EDITED: _ClassVar[ErpEventKind]
    ERP_EVENT_KIND_STOCK_CHANGED: _ClassVar[ErpEventKind]
    ERP_EVENT_KIND_RESERVATION_MADE: _ClassVar[ErpEventKind]
    ERP_EVENT_KIND_PRICE_LIST_SAVED: _ClassVar[ErpEventKind]
    ERP_EVENT_KIND_IMAGE_CHANGED: _ClassVar[ErpEventKind]
    ERP_EVENT_KIND_DOCUMENT_ISSUED: _ClassVar[ErpEventKind]
    ERP_EVENT_KIND_ORDER_CHANGED: _ClassVar[ErpEventKind]
    ERP_EVENT_KIND_CONTRACTOR_SAVED: _ClassVar[ErpEventKind]
    ERP_EVENT_KIND_RESERVATION_CHANGED: _ClassVar[ErpEventKind]
ERP_EVENT_KIND_UNSPECIFIED: ErpEventKind
ERP_EVENT_KIND_ITEM_SAVED: ErpEventKind
ERP_EVENT_KIND_NOTE_EDITED: ErpEventKind
ERP_EVENT_KIND_STOCK_CHANGED: ErpEventKind
ERP_EVENT_KIND_RESERVATION_MADE: ErpEventKind
ERP_EVENT_KIND_PRICE_LIST_SAVED: ErpEventKind
ERP_EVENT_KIND_IMAGE_CHANGED: ErpEventKind
ERP_EVENT_KIND_DOCUMENT_ISSUED: ErpEventKind
ERP_EVENT_KIND_ORDER_CHANGED: ErpEventKind
ERP_EVENT_KIND_CONTRACTOR_SAVED: ErpEventKind
ERP_EVENT_KIND_RESERVATION_CHANGED: ErpEventKind

class RecordErpEventRequest(_message.Message):
    __slots__ = ("request_id", "kind", "erp_id", "occurred_unix_ms")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ERP_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    kind: ErpEventKind
    erp_id: int
    occurred_unix_ms: int
    def __init__(self, request_id: _Optional[str] = ..., kind: _Optional[_Union[ErpEventKind, str]] = ..., erp_id: _Optional[int] = ..., occurred_unix_ms: _Optional[int] = ...) -> None: ...

class RecordErpEventResponse(_message.Message):
    __slots__ = ("message_id", "duplicate")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    message_id: int
    duplicate: bool
    def __init__(self, message_id: _Optional[int] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class ListRecentEventsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RecentEvent(_message.Message):
    __slots__ = ("kind", "erp_id", "received_unix_ms", "count")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ERP_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    kind: ErpEventKind
    erp_id: int
    received_unix_ms: int
    count: int
    def __init__(self, kind: _Optional[_Union[ErpEventKind, str]] = ..., erp_id: _Optional[int] = ..., received_unix_ms: _Optional[int] = ..., count: _Optional[int] = ...) -> None: ...

class ListRecentEventsResponse(_message.Message):
    __slots__ = ("events", "since_unix_ms")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    SINCE_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[RecentEvent]
    since_unix_ms: int
    def __init__(self, events: _Optional[_Iterable[_Union[RecentEvent, _Mapping]]] = ..., since_unix_ms: _Optional[int] = ...) -> None: ...

class GetProductImageRequest(_message.Message):
    __slots__ = ("product_id",)
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    product_id: int
    def __init__(self, product_id: _Optional[int] = ...) -> None: ...

class GetProductImageResponse(_message.Message):
    __slots__ = ("filename", "content_type", "data", "sha256", "product_code")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_CODE_FIELD_NUMBER: _ClassVar[int]
    filename: str
    content_type: str
    data: bytes
    sha256: str
    product_code: str
    def __init__(self, filename: _Optional[str] = ..., content_type: _Optional[str] = ..., data: _Optional[bytes] = ..., sha256: _Optional[str] = ..., product_code: _Optional[str] = ...) -> None: ...

class SetProductImageRequest(_message.Message):
    __slots__ = ("request_id", "product_id", "filename", "content_type", "data")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    product_id: int
    filename: str
    content_type: str
    data: bytes
    def __init__(self, request_id: _Optional[str] = ..., product_id: _Optional[int] = ..., filename: _Optional[str] = ..., content_type: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class SetProductImageResponse(_message.Message):
    __slots__ = ("sha256", "message_id")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    message_id: int
    def __init__(self, sha256: _Optional[str] = ..., message_id: _Optional[int] = ...) -> None: ...

class DeleteProductImageRequest(_message.Message):
    __slots__ = ("request_id", "product_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    product_id: int
    def __init__(self, request_id: _Optional[str] = ..., product_id: _Optional[int] = ...) -> None: ...

class DeleteProductImageResponse(_message.Message):
    __slots__ = ("deleted", "message_id")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    message_id: int
    def __init__(self, deleted: _Optional[bool] = ..., message_id: _Optional[int] = ...) -> None: ...
