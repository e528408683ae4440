"""Who may call the gRPC API: a bearer token on every RPC but health and reflection, loopback included.

Two tokens: the admin token (auth.token: every call) and the hook token (auth.hook_token: only what
erp-hook calls, HOOK_METHODS). A token the settings do not give is made once into an owner-only file
(auth.token_file, auth.hook_token_file) and read from there afterwards: by the server, by `shopsync`.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import stat
from pathlib import Path
from typing import Any, Callable

import grpc
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection

from shopsync.v1 import erp_events_pb2

log = logging.getLogger(__name__)

_OPEN_PREFIXES = (f"/{health_pb2.DESCRIPTOR.services_by_name['Health'].full_name}/",
                  f"/{reflection.SERVICE_NAME}/", "/grpc.reflection.v1.ServerReflection/")
_EVENTS = erp_events_pb2.DESCRIPTOR.services_by_name["ErpEventService"].full_name
# What erp-hook calls: an ERP event, and the image report's three calls.
HOOK_METHODS = frozenset(f"/{_EVENTS}/{m}" for m in ("RecordErpEvent", "GetProductImage", "SetProductImage",
                                                      "DeleteProductImage"))


class TokenFileError(Exception):
    """A token file that cannot be trusted or made: the message says which and why."""


def token_from_file(path: Path, *, create: bool) -> str:
    """The token kept in `path`; made (32 random bytes, owner-only) when missing and `create`. A file another
    user owns, or that others may read or write, is refused: another local user could have planted or read it."""
    if not path.exists():
        if not create:
            return ""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        token = secrets.token_urlsafe(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made meanwhile by another server of ours: read that one
            return token_from_file(path, create=False)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(token + "\n")
        log.info("made a token in %s (readable by this account only)", path)
        return token
    if os.name == "posix":
        st = path.stat()
        if st.st_uid != os.getuid():
            raise TokenFileError(f"{path} belongs to another user: remove it (another local account may have "
                                 "planted a token it knows), then start the server again")
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise TokenFileError(f"{path} may be read or changed by other users (mode {stat.S_IMODE(st.st_mode):o}): "
                                 f"chmod 600 {path}, or remove it for a new token")
    return path.read_text(encoding="utf-8").strip()


def admin_token(settings: Any, *, create: bool = False) -> str:
    """auth.token, or the one kept in auth.token_file (made there when `create`)."""
    return settings.auth.token or token_from_file(settings.path(settings.auth.token_file), create=create)


def hook_token(settings: Any, *, create: bool = False) -> str:
    """auth.hook_token, or the one kept in auth.hook_token_file (made there when `create`)."""
    return settings.auth.hook_token or token_from_file(settings.path(settings.auth.hook_token_file), create=create)


def _deny(code: grpc.StatusCode, message: str) -> grpc.RpcMethodHandler:
    def handler(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(code, message)

    return grpc.unary_unary_rpc_method_handler(handler)


class TokenInterceptor(grpc.ServerInterceptor):
    """Refuse calls without `authorization: Bearer <token>` (constant-time compares); the hook token only on
    HOOK_METHODS (PERMISSION_DENIED elsewhere)."""

    def __init__(self, token: str, hook: str = "") -> None:
        self._admin = f"Bearer {token}".encode()
        self._hook = f"Bearer {hook}".encode() if hook else b""

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        if details.method.startswith(_OPEN_PREFIXES):
            return continuation(details)
        got = ""
        for key, value in details.invocation_metadata or ():
            if key == "authorization":
                got = value if isinstance(value, str) else value.decode("latin-1")
                break
        if not got:
            return _deny(grpc.StatusCode.UNAUTHENTICATED,
                         "missing token: send metadata 'authorization: Bearer <token>' (auth.token, or the file "
                         "auth.token_file the server made)")
        given = got.encode("utf-8", "replace")
        if hmac.compare_digest(given, self._admin):
            return continuation(details)
        if self._hook and hmac.compare_digest(given, self._hook):
            if details.method in HOOK_METHODS:
                return continuation(details)
            return _deny(grpc.StatusCode.PERMISSION_DENIED,
                         f"the hook token may only record ERP events and make the image report's calls, not "
                         f"{details.method}: use the admin token (auth.token)")
        return _deny(grpc.StatusCode.UNAUTHENTICATED, "wrong token: check auth.token / SHOPSYNC_TOKEN")


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
