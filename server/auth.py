"""Bearer-token check for every RPC except the health service."""

from __future__ import annotations

import hmac
from typing import Any, Callable

import grpc
from grpc_health.v1 import health_pb2

_OPEN_PREFIXES = (f"/{health_pb2.DESCRIPTOR.services_by_name['Health'].full_name}/",)


def _deny(message: str) -> grpc.RpcMethodHandler:
    def handler(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    return grpc.unary_unary_rpc_method_handler(handler)


class TokenInterceptor(grpc.ServerInterceptor):
    """Refuse calls without `authorization: Bearer <token>` (constant-time compare)."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        if details.method.startswith(_OPEN_PREFIXES):
            return continuation(details)
        got = ""
        for key, value in details.invocation_metadata or ():
            if key == "authorization":
                got = value if isinstance(value, str) else value.decode("latin-1")
                break
        if not got:
            return _deny("missing token: send metadata 'authorization: Bearer <auth.token>'")
        if not hmac.compare_digest(got.encode("utf-8", "replace"), self._expected):
            return _deny("wrong token: check auth.token / SHOPSYNC_TOKEN")
        return continuation(details)
