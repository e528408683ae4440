"""Symfonia reached through its WebAPI alone, the ERP's own door (`erp.mode = "webapi"`).

Every read and write is a WebAPI call; there is no database connection, and nothing here
imports the SQL side. Cut by entity, as server/sync/ is:

    client.py          the HTTP door: session, the one translation of answers into error kinds
    shapes.py          wire shapes: enum values, bodies built, answers read
    base.py            shared state; creates sent once
    products.py  stock.py  contractors.py  orders.py  documents.py  money.py  price_lists.py  images.py
    feeds.py           (ability) the change feeds
    settings_check.py  (ability) the settings against the company's dictionaries

`POST /api/OrdersIssue/New` makes the ERP number the order in its series and reserve each
line itself (ReservationType 1, in erp.order_warehouse); contractors, delivery addresses
and the initial import go through their Create calls. What the API has no call for is said
where it matters: products' main images are kept in the sync's own store, an issued order
is cancelled by a person (docs/symfonia.md, section 5).

Every call is made as SymfWebAPI (generated from the real API) defines it: method, route,
required query parameters, body model (tests/orders/test_webapi_contract.py holds it).
Guesses, marked GUESS, are what the public evidence leaves open (listed in docs/symfonia.md).

Nothing is sent twice: before a create, the record is looked up by what we call it (an
order by the shop's number in Id2External, a contractor or product by its code); a request
that timed out after it was sent is held, then resolved by the same lookup, never by
sending it again blindly.
"""

from __future__ import annotations

from typing import Any

from .base import WebApiBase
from .client import MemoryHolds, WebApiClient, WebApiSentUnknown
from .contractors import WebApiContractors
from .documents import WebApiDocuments
from .feeds import WebApiFeeds
from .images import MemoryImages, WebApiImages
from .money import WebApiMoney
from .orders import WebApiOrders
from .price_lists import WebApiPriceLists
from .products import WebApiProducts
from .settings_check import WebApiSettingsCheck
from .shapes import CHANGE_FEEDS
from .stock import WebApiStock

__all__ = ["CHANGE_FEEDS", "MemoryHolds", "MemoryImages", "WebApiClient", "WebApiErp", "WebApiSentUnknown"]


class WebApiErp(WebApiProducts, WebApiStock, WebApiContractors, WebApiOrders, WebApiDocuments, WebApiMoney,
                WebApiPriceLists, WebApiImages, WebApiFeeds, WebApiSettingsCheck, WebApiBase):
    """Symfonia through its WebAPI alone: every read and write is a WebAPI call (products' main images are
    kept in the sync's own store), with no database connection and no SQL login.

    `sql`, when given, is only where the site's ERP settings (marker, warehouses, base price list, code
    length) are taken from in tests that compare the WebAPI's answers with the company database's; the
    server builds it with `options` (settings.erp) and no database at all."""

    @classmethod
    def from_settings(cls, settings: Any) -> "WebApiErp":
        e = settings.erp
        client = WebApiClient(e.webapi_url, e.webapi_app_key, e.webapi_device, e.webapi_timeout_seconds)
        erp = cls(None, client, order_series=e.order_series, department=e.webapi_department,
                  sale_price_type=e.webapi_sale_price_type, options=e)
        erp.settings = settings
        erp.prices_gross = bool(settings.shop.prices_include_tax)
        return erp
