"""Fetching a file a shop serves (a product image), with a size limit, for any adapter."""

from __future__ import annotations

import httpx

from shop_client.errors import ShopRejected, ShopUnavailable


def fetch_limited(client: httpx.Client, url: str, max_bytes: int) -> tuple[bytes, str]:
    """GET `url` and return (bytes, content type); refuse more than `max_bytes`."""
    try:
        with client.stream("GET", url) as resp:
            if resp.status_code >= 400:
                raise (ShopUnavailable if resp.status_code >= 500 else ShopRejected)(
                    f"image {url} answered {resp.status_code}", status=resp.status_code)
            declared = int(resp.headers.get("Content-Length") or 0)
            if declared > max_bytes:
                raise ShopRejected(f"image {url} is {declared} bytes; the limit is {max_bytes}")
            data = bytearray()
            for chunk in resp.iter_bytes():
                data += chunk
                if len(data) > max_bytes:
                    raise ShopRejected(f"image {url} is larger than the limit of {max_bytes} bytes")
            return bytes(data), resp.headers.get("Content-Type", "").split(";")[0].strip()
    except httpx.TimeoutException as exc:
        raise ShopUnavailable(f"image {url} did not arrive in time") from exc
    except httpx.TransportError as exc:
        raise ShopUnavailable(f"cannot fetch image {url}: {type(exc).__name__}") from exc
