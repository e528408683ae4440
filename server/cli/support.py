"""What every shopsync command shares: one-line errors, settings with logging, the gRPC client."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from typing import Any, Callable

from ..settings import SECRET_KEYS, Settings, load_settings

log = logging.getLogger("shopsync")


class CliError(Exception):
    """A problem to report in one line, with exit code 1 (or .code)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value in the settings, for the log redaction filter."""
    values = [getattr(getattr(settings, s), k) for s, k in SECRET_KEYS]
    url = settings.queue.database
    if "@" in url and ":" in url.split("://", 1)[-1].split("@")[0]:
        values.append(url.split("://", 1)[1].split("@")[0].split(":", 1)[1])
    for part in settings.erp.odbc.split(";"):
        k, _, v = part.partition("=")
        if k.strip().lower() in ("pwd", "password"):
            values.append(v.strip("{}"))
    return values


def load_for_command(args: argparse.Namespace, **overrides: Any) -> Settings:
    from ..logs import setup_logging

    settings = load_settings(getattr(args, "config", None))
    if overrides:
        settings = settings.replace(**overrides)
    setup_logging(getattr(args, "log_level", None) or settings.log.level, secrets_of(settings),
                  str(settings.path(settings.log.file)) if settings.log.file else "")
    for notice in settings.notices:
        log.warning("%s", notice)
    return settings


def wait_for_signal(stop: Callable[[], None]) -> None:
    """Block until Ctrl-C or SIGTERM, then call stop() once."""
    done = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        log.info("signal %s received, shutting down", signal.Signals(signum).name)
        done.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    while not done.wait(0.5):
        pass
    stop()



class Client:
    def __init__(self, settings: Settings) -> None:
        import grpc

        self.grpc = grpc
        self.address = settings.grpc.address
        ca = settings.hooks.tls_ca
        self.channel = (grpc.secure_channel(self.address,
                                            grpc.ssl_channel_credentials(settings.path(ca).read_bytes()))
                        if ca else grpc.insecure_channel(self.address))
        from ..auth import TokenFileError, admin_token

        try:
            token = admin_token(settings)
        except (TokenFileError, OSError) as exc:
            raise CliError(f"auth: {exc}") from None
        if not token:
            raise CliError(f"no token: set auth.token, or start the server once (it makes "
                           f"{settings.path(settings.auth.token_file)}, readable by its account only)")
        self.metadata = [("authorization", f"Bearer {token}")]

    def call(self, method: Callable[..., Any], request: Any, timeout: float = 60) -> Any:
        try:
            return method(request, timeout=timeout, metadata=self.metadata)
        except self.grpc.RpcError as exc:
            raise self.error(exc) from None

    def stream(self, responses: Any) -> Any:
        """The messages of a server-streaming call, with its errors as one-line CliErrors."""
        try:
            yield from responses
        except self.grpc.RpcError as exc:
            raise self.error(exc) from None

    def error(self, exc: Any) -> CliError:
        code = exc.code()
        if code == self.grpc.StatusCode.UNAVAILABLE and "connect" in (exc.details() or "").lower():
            return CliError(f"no server at {self.address}: start it with `shopsync serve` (or `make run`)")
        return CliError(f"{code.name}: {exc.details()}")


def client_command(fn: Callable[[Client, argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        settings = load_settings(getattr(args, "config", None))
        client = Client(settings)
        try:
            return fn(client, args)
        finally:
            client.channel.close()
    return run


def print_json(message: Any) -> None:
    """A message as JSON for scripts: every field, zeros included, numbers as numbers (protobuf's JSON writes
    64-bit integers as strings)."""
    from google.protobuf import json_format

    data = json_format.MessageToDict(message, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True)
    print(json.dumps(_numbers(data, message.DESCRIPTOR), indent=2, ensure_ascii=False))


def _numbers(data: Any, descriptor: Any) -> Any:
    """64-bit integer fields back to JSON numbers, nested messages and lists too."""
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        field = descriptor.fields_by_name.get(key)
        if field is not None and field.message_type is not None:
            value = [_numbers(v, field.message_type) for v in value] if isinstance(value, list) else \
                _numbers(value, field.message_type)
        elif field is not None and field.cpp_type in (field.CPPTYPE_INT64, field.CPPTYPE_UINT64):
            value = [int(v) for v in value] if isinstance(value, list) else int(value)
        out[key] = value
    return out



def follow(client: "Client", stream: Any, unit: str, counts: Callable[[Any], tuple[int, int]]) -> Any:
    """Show a long pass's streamed progress as a bar (stderr); return its last message."""
    from tqdm import tqdm

    last = None
    with tqdm(unit=f" {unit}", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
        for last in client.stream(stream):
            done, total = counts(last)
            bar.total = total or None
            bar.n = done
            bar.refresh()
    if last is None:
        raise CliError("the server ended the pass without an answer")
    return last


