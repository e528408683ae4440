"""erp-hook: tell the shopsync server that something changed in Symfonia.

    erp-hook EVENT ID [--config FILE]     EVENT: item-saved, note-edited,
                                          stock-changed, reservation-made,
                                          price-list-saved, image-changed
    erp-hook flush [--config FILE]        send what the spool holds
    erp-hook image show|set|delete ID [FILE]   the image report's actions (erp-hook image -h)

Exit codes: 0 the server took the event, or it was spooled because the server
is unreachable; 2 bad arguments or settings; 3 the event could not even be
spooled (it is lost unless the ERP runs the hook again); 4 spooled, but the
server refused the call (token or settings): a person must fix the settings;
1 (flush only) events are still waiting in the spool.
"""

from __future__ import annotations

import os
import sys
import time
import tomllib
import uuid
from pathlib import Path
from typing import Any

import grpc

from erp_hooks.spool import Spool, SpoolLocked
from shopsync.v1 import erp_events_pb2, erp_events_pb2_grpc

# The event names are the proto enum's value names, lower case with dashes (ITEM_SAVED: item-saved).
EVENT_KINDS = {name.removeprefix("ERP_EVENT_KIND_").lower().replace("_", "-"): value
               for name, value in erp_events_pb2.ErpEventKind.items() if value}
USAGE = "usage: erp-hook EVENT ID [--config FILE] | erp-hook flush [--config FILE]"
# The keys of the settings sections a hook reads, as the server defines them (a test keeps
# these equal to server/settings.py; the hook does not import the server, to start fast).
KNOWN_KEYS = {
    "grpc": {"address", "max_message_bytes", "workers", "allow_insecure_remote", "tls_cert", "tls_key"},
    "auth": {"token"},
    "hooks": {"spool", "timeout_seconds", "tls_ca"},
}
# One hook run inside an ERP user's save replays at most this much of an old spool.
REPLAY_MAX_EVENTS = 100


class HelpAsked(Exception):
    """-h / --help: print the usage and succeed."""


class UsageError(Exception):
    pass


class Refused(Exception):
    """The server answered, and said no (not a matter of waiting)."""


def _fail(code: int, message: str) -> int:
    print(f"erp-hook: {message}", file=sys.stderr)
    return code


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
        "token": env.get("SHOPSYNC_AUTH_TOKEN") or env.get("SHOPSYNC_TOKEN") or auth_s.get("token", ""),
        "tls_ca": env.get("SHOPSYNC_HOOKS_TLS_CA") or hooks_s.get("tls_ca", ""),
    }


def parse_args(argv: list[str]) -> tuple[str, int, str | None]:
    args = list(argv)
    config = None
    if "--config" in args:
        i = args.index("--config")
        if i + 1 >= len(args):
            raise UsageError("--config needs a file path")
        config = args[i + 1]
        del args[i:i + 2]
    if args in (["-h"], ["--help"]):
        raise HelpAsked()
    if args[:1] == ["flush"]:
        if len(args) > 1:
            raise UsageError(f"flush takes no ID or other argument, got {' '.join(args[1:])!r} ({USAGE})")
        return "flush", 0, config
    if len(args) != 2:
        raise UsageError(f"expected EVENT and ID ({USAGE})")
    event, raw_id = args
    if event not in EVENT_KINDS:
        raise UsageError(f"unknown event {event!r}; expected one of {', '.join(EVENT_KINDS)}")
    try:
        erp_id = int(raw_id)
    except ValueError:
        raise UsageError(f"ID must be a whole number (the ERP record id), got {raw_id!r}") from None
    if erp_id <= 0 or erp_id > 2**31 - 1:
        raise UsageError(f"ID must be a positive ERP record id, got {erp_id}")
    return event, erp_id, config


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
        from erp_hooks import images

        self.dropped = ""
        try:
            if event["event"] == "image-set":
                self.stub.SetProductImage(images.set_request(event), timeout=max(self.timeout, 10.0),
                                          metadata=self.metadata, wait_for_ready=False)
            elif event["event"] == "image-delete":
                self.stub.DeleteProductImage(images.delete_request(event), timeout=self.timeout,
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["image"]:  # the image report's actions (erp_hooks/images.py)
        from erp_hooks.images import main as image_main

        return image_main(argv[1:])
    try:
        event_name, erp_id, config = parse_args(argv)
        settings = load_hook_settings(config)
    except HelpAsked:
        print(__doc__)
        return 0
    except UsageError as exc:
        return _fail(2, str(exc))
    spool = Spool(settings["spool"])
    sender = Sender(settings)
    try:
        spooled_before = spool.has_events()
        if spooled_before:
            # A hook run replays a bounded slice (the user's save waits for nothing
            # more); `flush` sends everything.
            bounded = event_name != "flush"
            try:
                _, left = spool.replay(sender.send, max_events=REPLAY_MAX_EVENTS if bounded else None,
                                       max_seconds=settings["timeout"] if bounded else None)
            except SpoolLocked:
                left = 1
        else:
            left = 0
        if event_name == "flush":
            if sender.refused:
                return _fail(4, f"server refused the call: {sender.refused}")
            if left:
                return _fail(1, f"{left} event(s) still waiting in {spool.path}")
            return 0
        event = {"event": event_name, "erp_id": erp_id, "request_id": uuid.uuid4().hex,
                 "occurred_unix_ms": int(time.time() * 1000)}
        # Keep order: while older events wait in the spool, the new one waits behind them.
        if left == 0 and sender.send(event):
            return 0
        try:
            spool.append(event)
        except (OSError, SpoolLocked) as exc:
            return _fail(3, f"server unreachable and spool {spool.path} not writable: {exc}")
        if sender.refused:
            return _fail(4, f"event spooled; server refused the call: {sender.refused}")
        return 0
    finally:
        sender.channel.close()


if __name__ == "__main__":
    sys.exit(main())
