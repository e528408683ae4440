"""Shop-agnostic client interface and its adapters. Knows nothing of the server."""

from shop_client.errors import (ShopAuthError, ShopError, ShopNotFound, ShopRejected,  # noqa: F401
                                ShopUnavailable)
from shop_client.interface import (CustomerPage, ItemResult, OrderPage, ProductChange,  # noqa: F401
                                   ProductPage, ShopClient, ShopCustomer, ShopOrder, ShopOrderLine,
                                   ShopProduct, Address)
