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


class _Undecodable:
    """A request body protobuf could not parse (e.g. a string field that is not UTF-8)."""

    def __init__(self, error: Exception) -> None:
        self.error = error


class DecodeGuard(grpc.ServerInterceptor):
    """Answer INVALID_ARGUMENT, not grpc's INTERNAL, to request bytes that do not parse."""

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        handler = continuation(details)
        if handler is None or handler.request_deserializer is None or handler.request_streaming:
            return handler
        decode = handler.request_deserializer
        method = details.method

        def safe_decode(data: bytes) -> Any:
            try:
                return decode(data)
            except Exception as exc:  # noqa: BLE001 - any parse failure is the caller's bad input
                return _Undecodable(exc)

        def guarded(behavior: Callable[..., Any]) -> Callable[..., Any]:
            def run(request: Any, context: grpc.ServicerContext) -> Any:
                if isinstance(request, _Undecodable):
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                  f"request to {method} is not a valid protobuf message "
                                  f"({type(request.error).__name__}); string fields must be UTF-8")
                return behavior(request, context)
            return run

        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(guarded(handler.unary_unary), request_deserializer=safe_decode,
                                                       response_serializer=handler.response_serializer)
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(guarded(handler.unary_stream),
                                                        request_deserializer=safe_decode,
                                                        response_serializer=handler.response_serializer)
        return handler
