from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunCatchUpRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RunCatchUpResponse(_message.Message):
    __slots__ = ("products_checked", "products_queued", "products_total", "done")
    PRODUCTS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_QUEUED_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    products_checked: int
    products_queued: int
    products_total: int
    done: bool
    def __init__(self, products_checked: _Optional[int] = ..., products_queued: _Optional[int] = ..., products_total: _Optional[int] = ..., done: _Optional[bool] = ...) -> None: ...

class ImportCatalogRequest(_message.Message):
    __slots__ = ("dry_run",)
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    dry_run: bool
    def __init__(self, dry_run: _Optional[bool] = ...) -> None: ...

class ImportProblem(_message.Message):
    __slots__ = ("shop_product_id", "sku", "reason")
    SHOP_PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    shop_product_id: int
    sku: str
    reason: str
    def __init__(self, shop_product_id: _Optional[int] = ..., sku: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ImportCatalogResponse(_message.Message):
    __slots__ = ("seen", "created", "paired", "already_bound", "skipped", "total", "problems", "done")
    SEEN_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    PAIRED_FIELD_NUMBER: _ClassVar[int]
    ALREADY_BOUND_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    seen: int
    created: int
    paired: int
    already_bound: int
    skipped: int
    total: int
    problems: _containers.RepeatedCompositeFieldContainer[ImportProblem]
    done: bool
    def __init__(self, seen: _Optional[int] = ..., created: _Optional[int] = ..., paired: _Optional[int] = ..., already_bound: _Optional[int] = ..., skipped: _Optional[int] = ..., total: _Optional[int] = ..., problems: _Optional[_Iterable[_Union[ImportProblem, _Mapping]]] = ..., done: _Optional[bool] = ...) -> None: ...

class RunReconciliationRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RunReconciliationResponse(_message.Message):
    __slots__ = ("checked", "total", "corrections", "conflicts", "done")
    class CorrectionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    CORRECTIONS_FIELD_NUMBER: _ClassVar[int]
    CONFLICTS_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    checked: int
    total: int
    corrections: _containers.ScalarMap[str, int]
    conflicts: _containers.RepeatedScalarFieldContainer[str]
    done: bool
    def __init__(self, checked: _Optional[int] = ..., total: _Optional[int] = ..., corrections: _Optional[_Mapping[str, int]] = ..., conflicts: _Optional[_Iterable[str]] = ..., done: _Optional[bool] = ...) -> None: ...
