"""Helpers shared by the thin servicers: turn domain errors into gRPC statuses."""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Callable, Iterable, Iterator, TypeVar

import sqlite3

import grpc
import peewee
import psycopg2

log = logging.getLogger(__name__)
Reply = TypeVar("Reply")
# The queue database went away (peewee wraps the drivers' errors, but not on every path).
_QUEUE_DB_DOWN = (peewee.OperationalError, sqlite3.OperationalError, psycopg2.OperationalError)

# Domain errors register here with the status they map to (checked in order:
# the more specific error first).
_MAPPING: list[tuple[type[BaseException], grpc.StatusCode]] = []


def _register_defaults() -> None:
    from ..erp.errors import ErpConfigError, ErpNotFound, ErpPermanent, ErpRetryable
    from shop_client.errors import ShopAuthError, ShopNotFound, ShopRejected, ShopUnavailable

    maps_to(grpc.StatusCode.NOT_FOUND, ErpNotFound, ShopNotFound)
    maps_to(grpc.StatusCode.UNAVAILABLE, ErpRetryable, ShopUnavailable)
    maps_to(grpc.StatusCode.FAILED_PRECONDITION, ShopAuthError, ErpConfigError, ErpPermanent, ShopRejected)


def maps_to(code: grpc.StatusCode, *errors: type[BaseException]) -> None:
    for err in errors:
        _MAPPING.append((err, code))


_register_defaults()


@contextlib.contextmanager
def grpc_errors(context: grpc.ServicerContext) -> Iterator[None]:
    """Abort with the right status for a known error; never leak a traceback."""
    try:
        yield
    except grpc.RpcError:
        raise
    except Exception as exc:  # noqa: BLE001 - translated here, in one place
        for err, code in _MAPPING:
            if isinstance(exc, err):
                context.abort(code, str(exc))
        if isinstance(exc, _QUEUE_DB_DOWN):
            log.warning("queue database unavailable: %s", exc)
            context.abort(grpc.StatusCode.UNAVAILABLE, "queue database unavailable; retry shortly")
        log.exception("unexpected error")
        context.abort(grpc.StatusCode.INTERNAL, f"internal error ({type(exc).__name__}); see server log")


def stream_progress(context: grpc.ServicerContext, progress: Iterable[dict[str, Any]],
                    reply: Callable[[dict[str, Any]], Reply]) -> Iterator[Reply]:
    """A long pass streamed as progress replies, stopped when the caller goes away; errors as statuses."""
    with grpc_errors(context):
        for p in progress:
            if not context.is_active():
                return
            yield reply(p)


def grpc_actor(context: grpc.ServicerContext) -> str:
    """Who made a call, for the log: the API's caller (the token holder) and where from."""
    return f"the gRPC API caller at {context.peer()}"


def page_token_to_int(token: str, field: str = "page_token") -> int:
    if not token:
        return 0
    try:
        value = int(token)
    except ValueError:
        raise ValueError(f"{field}: not a token this server issued") from None
    if value < 0:
        raise ValueError(f"{field}: not a token this server issued")
    return value


def page_size(value: int, default: int = 100, maximum: int = 1000) -> int:
    if value < 0:
        raise ValueError(f"page_size: must not be negative, got {value}")
    return min(value or default, maximum)


def once(store: Any, method: str, request_id: str, reply_type: Any, compute: Callable[[], Reply]) -> Reply:
    """Run a mutation once per request_id: a repeat gets the first answer (no request_id: always run)."""
    if not request_id:
        return compute()
    if len(request_id) > 128:
        raise ValueError("request_id: at most 128 characters")
    key = f"{method}:{request_id}"
    saved = store.reply_for(key)
    if saved is not None:
        return reply_type.FromString(saved)
    reply = compute()
    store.keep_reply(key, reply.SerializeToString())
    return reply
