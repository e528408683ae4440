"""The shop client's errors, by what the caller should do next.

    ShopError
     +-- ShopUnavailable   retry later: connection error, timeout, 429 (retry_after), 5xx
     |    +-- ShopTimeout     no answer in time: the request may or may not have been applied
     +-- ShopRejected      a person must act: 400/403/404/409... with the shop's code and message
          +-- ShopConfigError the shop refuses us as configured (delivery pauses, nothing is dropped)
          |    +-- ShopAuthError   401/403: wrong keys or missing permission
          +-- ShopNotFound    404: no such resource

Low-level httpx errors are translated in one place (the adapter's _send), HTTP
statuses in one place for every adapter (shop_client/http.py).
"""

from __future__ import annotations


class ShopError(Exception):
    """Anything that went wrong talking to the shop."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class ShopUnavailable(ShopError):
    """Retryable: the shop is down, slow, overloaded or rate-limiting."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "",
                 retry_after: float | None = None) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class ShopTimeout(ShopUnavailable):
    """The shop did not answer in time; what was sent may have been applied."""


class ShopRejected(ShopError):
    """Permanent: the shop refused the request as it is."""


class ShopConfigError(ShopRejected):
    """The shop refuses every request as we are set up (keys, permissions, URL): a setting to fix.

    Not a verdict on any one message: delivery pauses and keeps them all until it works.
    """


class ShopAuthError(ShopConfigError):
    """The shop refused our keys (401) or their permissions (403)."""


class ShopNotFound(ShopRejected):
    """The resource does not exist in the shop (404)."""


class CapabilityMissing(ShopRejected):
    """This shop cannot hold what was asked (e.g. price lists)."""
