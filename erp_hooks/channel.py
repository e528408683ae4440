"""The hook's line to the server: the settings it reads, the event vocabulary, and one channel that
delivers an event or an image report's change (erp_hooks/cli.py and erp_hooks/images.py both use it).
Imports only grpc and the generated stubs, so a hook starts fast."""

from __future__ import annotations

import base64
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import grpc

from shopsync.v1 import erp_events_pb2, erp_events_pb2_grpc

# The event names are the proto enum's value names, lower case with dashes (ITEM_SAVED: item-saved).
EVENT_KINDS = {name.removeprefix("ERP_EVENT_KIND_").lower().replace("_", "-"): value
               for name, value in erp_events_pb2.ErpEventKind.items() if value}
# The keys of the settings sections a hook reads, as the server defines them (a test keeps
# these equal to server/settings.py; the hook does not import the server, to start fast).
KNOWN_KEYS = {
    "grpc": {"address", "max_message_bytes", "workers", "allow_insecure_remote", "tls_cert", "tls_key"},
    "auth": {"token", "token_file", "hook_token", "hook_token_file"},
    "hooks": {"spool", "timeout_seconds", "tls_ca"},
}


class HelpAsked(Exception):
    """-h / --help: print the usage and succeed."""


class UsageError(Exception):
    pass


def take_config(args: list[str]) -> str | None:
    """Remove `--config PATH` from `args` (in place); the path, or None when not given."""
    if "--config" not in args:
        return None
    i = args.index("--config")
    if i + 1 >= len(args):
        raise UsageError("--config needs a file path")
    config = args[i + 1]
    del args[i:i + 2]
    return config


def load_hook_settings(config: str | None) -> dict[str, Any]:
    """The few server settings a hook needs, from the TOML file and the environment."""
    path = config or os.environ.get("SHOPSYNC_CONFIG")
    data: dict[str, Any] = {}
    base = Path.cwd()
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"cannot read settings file {path}: {exc}") from None
        base = Path(path).resolve().parent
    for section, known in KNOWN_KEYS.items():
        values = data.get(section, {})
        if not isinstance(values, dict):
            raise UsageError(f"settings file {path}: [{section}] must be a table")
        unknown = sorted(set(values) - known)
        if unknown:  # the server refuses the same file; a hook must not quietly use defaults instead
            raise UsageError(f"settings file {path}: unknown setting {section}.{unknown[0]}")
    grpc_s, hooks_s, auth_s = data.get("grpc", {}), data.get("hooks", {}), data.get("auth", {})
    env = os.environ
    spool = Path(env.get("SHOPSYNC_HOOKS_SPOOL") or env.get("SHOPSYNC_SPOOL")
                 or hooks_s.get("spool", "var/shopsync/hook-spool.jsonl"))
    try:
        timeout = float(env.get("SHOPSYNC_HOOKS_TIMEOUT_SECONDS") or hooks_s.get("timeout_seconds", 2.0))
    except ValueError:
        raise UsageError("hooks.timeout_seconds must be a number") from None
    return {
        "address": env.get("SHOPSYNC_GRPC_ADDRESS") or grpc_s.get("address", "127.0.0.1:50051"),
        "spool": spool if spool.is_absolute() else base / spool,
        "timeout": timeout,
        # the hook token (auth.hook_token: only what a hook calls) before the admin token
        "token": (env.get("SHOPSYNC_AUTH_HOOK_TOKEN") or auth_s.get("hook_token", "") or env.get("SHOPSYNC_AUTH_TOKEN")
                  or env.get("SHOPSYNC_TOKEN") or auth_s.get("token", "")),
        "tls_ca": env.get("SHOPSYNC_HOOKS_TLS_CA") or hooks_s.get("tls_ca", ""),
    }


def set_request(event: dict[str, Any]) -> erp_events_pb2.SetProductImageRequest:
    return erp_events_pb2.SetProductImageRequest(
        request_id=event["request_id"], product_id=event["erp_id"], filename=event["filename"],
        content_type=event["content_type"], data=base64.b64decode(event["data"]))


def delete_request(event: dict[str, Any]) -> erp_events_pb2.DeleteProductImageRequest:
    return erp_events_pb2.DeleteProductImageRequest(request_id=event["request_id"], product_id=event["erp_id"])


class Sender:
    """One channel, one stub; `send` answers True once the server durably took the event."""

    def __init__(self, settings: dict[str, Any]) -> None:
        if settings["tls_ca"]:
            creds = grpc.ssl_channel_credentials(Path(settings["tls_ca"]).read_bytes())
            self.channel = grpc.secure_channel(settings["address"], creds)
        else:
            self.channel = grpc.insecure_channel(settings["address"])
        self.stub = erp_events_pb2_grpc.ErpEventServiceStub(self.channel)
        self.timeout = settings["timeout"]
        self.metadata = [("authorization", f"Bearer {settings['token']}")] if settings["token"] else None
        self.refused: str | None = None
        self.dropped = ""  # why the server refused the last event for good (it is not kept)

    def send(self, event: dict[str, Any]) -> bool:
        """Deliver one spooled or new event: an ERP event, or an image report's change."""
        self.dropped = ""
        try:
            if event["event"] == "image-set":
                self.stub.SetProductImage(set_request(event), timeout=max(self.timeout, 10.0),
                                          metadata=self.metadata, wait_for_ready=False)
            elif event["event"] == "image-delete":
                self.stub.DeleteProductImage(delete_request(event), timeout=self.timeout,
                                             metadata=self.metadata, wait_for_ready=False)
            else:
                self.stub.RecordErpEvent(erp_events_pb2.RecordErpEventRequest(
                    request_id=event["request_id"], kind=EVENT_KINDS[event["event"]], erp_id=event["erp_id"],
                    occurred_unix_ms=event["occurred_unix_ms"]), timeout=self.timeout, metadata=self.metadata,
                    wait_for_ready=False)
            return True
        except grpc.RpcError as exc:
            code = exc.code()
            if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND):
                # The server will never take this one; keeping it would block the spool.
                self.dropped = f"server refused {event['event']} {event['erp_id']}: {exc.details()}"
                print(f"erp-hook: {self.dropped}", file=sys.stderr)
                return True
            if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
                self.refused = exc.details() or code.name
            return False
