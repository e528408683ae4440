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

import sys
import time
import uuid


from erp_hooks.channel import (EVENT_KINDS, KNOWN_KEYS, HelpAsked, Sender, UsageError, load_hook_settings,
                               take_config)
from erp_hooks.spool import Spool, SpoolLocked

__all__ = ["EVENT_KINDS", "KNOWN_KEYS", "main"]

USAGE = "usage: erp-hook EVENT ID [--config FILE] | erp-hook flush [--config FILE]"
# One hook run inside an ERP user's save replays at most this much of an old spool.
REPLAY_MAX_EVENTS = 100


class Refused(Exception):
    """The server answered, and said no (not a matter of waiting)."""


def _fail(code: int, message: str) -> int:
    print(f"erp-hook: {message}", file=sys.stderr)
    return code


def parse_args(argv: list[str]) -> tuple[str, int, str | None]:
    args = list(argv)
    config = take_config(args)
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
