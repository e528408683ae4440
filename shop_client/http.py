"""One translation of a shop's HTTP answer into the shop error kinds (see errors.py).

Both adapters call `error_for`; nothing else decides from a status code whether to
retry, to pause for a person, or to give up on one item.
"""

from __future__ import annotations

from shop_client.errors import (ShopAuthError, ShopConfigError, ShopError, ShopNotFound, ShopRejected,
                                ShopUnavailable)


def error_for(status: int, text: str, *, code: str = "", retry_after: float | None = None,
              auth_hint: str = "", no_such_route: bool = False) -> ShopError:
    """The error for a 4xx/5xx answer.

    `no_such_route`: the adapter saw that the 404 is about the address itself (WooCommerce's
    `rest_no_route`, a page that is not the API's JSON, a collection that is not there),
    not about one record: the shop is configured wrongly (shop.url), not missing a product.
    """
    if status == 429:
        return ShopUnavailable(text, status=status, code=code, retry_after=retry_after)
    if status >= 500 or status == 408:
        return ShopUnavailable(text, status=status, code=code)
    if status in (401, 403):
        return ShopAuthError(f"{text}; {auth_hint}" if auth_hint else text, status=status, code=code)
    if status == 404 and no_such_route:
        return ShopConfigError(f"{text}; the shop has no such API address: check shop.url (and that the shop's "
                               "REST API is on)", status=status, code=code)
    if status == 404:
        return ShopNotFound(text, status=status, code=code)
    return ShopRejected(text, status=status, code=code)
