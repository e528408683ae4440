from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PairingStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAIRING_STATUS_UNSPECIFIED: _ClassVar[PairingStatus]
    PAIRING_STATUS_PAIRED: _ClassVar[PairingStatus]
    PAIRING_STATUS_NEEDS_PERSON: _ClassVar[PairingStatus]
    PAIRING_STATUS_INVALID_NIP: _ClassVar[PairingStatus]
    PAIRING_STATUS_NO_NIP: _ClassVar[PairingStatus]
PAIRING_STATUS_UNSPECIFIED: PairingStatus
PAIRING_STATUS_PAIRED: PairingStatus
PAIRING_STATUS_NEEDS_PERSON: PairingStatus
PAIRING_STATUS_INVALID_NIP: PairingStatus
PAIRING_STATUS_NO_NIP: PairingStatus

class Customer(_message.Message):
    __slots__ = ("shop_customer_id", "email", "name", "nip", "status", "erp_contractor_id", "detail", "manual")
    SHOP_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NIP_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERP_CONTRACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    MANUAL_FIELD_NUMBER: _ClassVar[int]
    shop_customer_id: int
    email: str
    name: str
    nip: str
    status: PairingStatus
    erp_contractor_id: int
    detail: str
    manual: bool
    def __init__(self, shop_customer_id: _Optional[int] = ..., email: _Optional[str] = ..., name: _Optional[str] = ..., nip: _Optional[str] = ..., status: _Optional[_Union[PairingStatus, str]] = ..., erp_contractor_id: _Optional[int] = ..., detail: _Optional[str] = ..., manual: _Optional[bool] = ...) -> None: ...

class ListCustomersRequest(_message.Message):
    __slots__ = ("status", "needs_person", "page_size", "page_token")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NEEDS_PERSON_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    status: PairingStatus
    needs_person: bool
    page_size: int
    page_token: str
    def __init__(self, status: _Optional[_Union[PairingStatus, str]] = ..., needs_person: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCustomersResponse(_message.Message):
    __slots__ = ("customers", "next_page_token")
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customers: _containers.RepeatedCompositeFieldContainer[Customer]
    next_page_token: str
    def __init__(self, customers: _Optional[_Iterable[_Union[Customer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PairCustomerRequest(_message.Message):
    __slots__ = ("request_id", "shop_customer_id", "erp_contractor_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SHOP_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ERP_CONTRACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    shop_customer_id: int
    erp_contractor_id: int
    def __init__(self, request_id: _Optional[str] = ..., shop_customer_id: _Optional[int] = ..., erp_contractor_id: _Optional[int] = ...) -> None: ...

class PairCustomerResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class UnpairCustomerRequest(_message.Message):
    __slots__ = ("request_id", "shop_customer_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SHOP_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    shop_customer_id: int
    def __init__(self, request_id: _Optional[str] = ..., shop_customer_id: _Optional[int] = ...) -> None: ...

class UnpairCustomerResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class RunCustomerPairingRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RunCustomerPairingResponse(_message.Message):
    __slots__ = ("seen", "paired", "needs_person", "total", "done")
    SEEN_FIELD_NUMBER: _ClassVar[int]
    PAIRED_FIELD_NUMBER: _ClassVar[int]
    NEEDS_PERSON_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    seen: int
    paired: int
    needs_person: int
    total: int
    done: bool
    def __init__(self, seen: _Optional[int] = ..., paired: _Optional[int] = ..., needs_person: _Optional[int] = ..., total: _Optional[int] = ..., done: _Optional[bool] = ...) -> None: ...
