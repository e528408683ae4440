"""OAuth 1.0a one-legged signing, as WooCommerce takes it over plain HTTP.

The signature maths is oauthlib's (RFC 5849); this module only decides which
parameters go in: consumer key, timestamp, nonce, signature method, and the
request's own query parameters, all in the query string; no token, no
oauth_version, body not signed.
"""

from __future__ import annotations

import secrets
import time
from typing import Generator
from urllib.parse import parse_qsl, urlencode

import httpx
from oauthlib.oauth1.rfc5849 import signature as rfc5849

SIGNERS = {"HMAC-SHA1": rfc5849.sign_hmac_sha1_with_client,
           "HMAC-SHA256": rfc5849.sign_hmac_sha256_with_client}


class _Secrets:
    """What oauthlib's signers read: the consumer secret, and no token secret (one-legged)."""

    def __init__(self, client_secret: str) -> None:
        self.client_secret = client_secret
        self.resource_owner_secret = None


def sign_query(method: str, url: str, params: list[tuple[str, str]], consumer_key: str,
               consumer_secret: str, *, signature_method: str = "HMAC-SHA256",
               timestamp: str | None = None, nonce: str | None = None,
               extra_oauth: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """The query parameters (the request's plus oauth_*) with oauth_signature added.

    `url` is the request URL without its query string.
    """
    oauth = {
        "oauth_consumer_key": consumer_key,
        "oauth_timestamp": timestamp or str(int(time.time())),
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": signature_method,
        **(extra_oauth or {}),
    }
    all_params = [*params, *oauth.items()]
    base = rfc5849.signature_base_string(method.upper(), rfc5849.base_string_uri(url),
                                         rfc5849.normalize_parameters(all_params))
    sig = SIGNERS[signature_method](base, _Secrets(consumer_secret))
    return [*all_params, ("oauth_signature", sig)]


class OAuth1QueryAuth(httpx.Auth):
    """httpx auth that signs each request's URL (the WooCommerce over-HTTP way)."""

    def __init__(self, consumer_key: str, consumer_secret: str, signature_method: str = "HMAC-SHA256") -> None:
        self._key = consumer_key
        self._secret = consumer_secret
        self._method = signature_method

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        url = request.url
        params = parse_qsl(url.query.decode("ascii"), keep_blank_values=True)
        bare = str(url.copy_with(query=None))
        signed = sign_query(request.method, bare, params, self._key, self._secret,
                            signature_method=self._method)
        request.url = url.copy_with(query=urlencode(signed).encode("ascii"))
        yield request
