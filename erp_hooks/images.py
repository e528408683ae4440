"""erp-hook image: the actions of the image report installed in Symfonia ("Zdjęcie towaru").

    erp-hook image show ID [FILE]     the product's main image: into FILE, or into a temporary
                                      file opened with the system's image viewer
    erp-hook image set ID FILE        give the product FILE as its main image (also in the shop)
    erp-hook image delete ID          remove the product's main image (also from the shop)
    options: --config FILE; --dialog  also say the result in a window (Windows; for the report)

Every action goes to the shopsync server over gRPC, so it works the same in both ERP modes and
from any Symfonia workstation. With the server down, `set` and `delete` are spooled like every
hook event (nothing is lost; they are applied, in order, once it is back); `show` says the
server cannot be reached. Exit codes: 0 done (or spooled); 2 bad arguments, a file that is not
a PNG/JPEG/GIF/WebP image, or no such product; 3 could not even be spooled; 4 the server
refused the call (token or settings); 5 nothing to show (no image, or the server is down).
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import grpc

from erp_hooks.channel import HelpAsked, Sender, UsageError, load_hook_settings, take_config
from erp_hooks.spool import Spool, SpoolLocked
from shopsync.v1 import erp_events_pb2

EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}
MAX_IMAGE_BYTES = 5 * 1024 * 1024  # the server's default orders.max_image_bytes; it checks its own
USAGE = "usage: erp-hook image show ID [FILE] | image set ID FILE | image delete ID [--config FILE] [--dialog]"


def image_type(data: bytes) -> str | None:
    """PNG, JPEG, GIF or WebP, from the first bytes; None: not an image the shop takes."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class Person:
    """Where the result goes: one line on the console, and a window when the report asked (--dialog)."""

    def __init__(self, dialog: bool) -> None:
        self.dialog = dialog and sys.platform == "win32"

    def tell(self, code: int, message: str) -> int:
        print(f"erp-hook: {message}", file=sys.stderr if code else sys.stdout)
        if self.dialog:  # pragma: no cover - Windows only
            import ctypes

            icon = 0x10 if code else 0x40  # MB_ICONERROR / MB_ICONINFORMATION
            ctypes.windll.user32.MessageBoxW(None, message, "shopsync: zdjęcie towaru", icon)  # type: ignore
        return code


def parse(argv: list[str]) -> tuple[str, int, str, str | None, bool]:
    args = list(argv)
    if args in (["-h"], ["--help"]):
        raise HelpAsked()
    dialog = "--dialog" in args
    args = [a for a in args if a != "--dialog"]
    config = take_config(args)
    wanted = {"show": (2, 3), "set": (3, 3), "delete": (2, 2)}
    if not args or args[0] not in wanted or not wanted[args[0]][0] <= len(args) <= wanted[args[0]][1]:
        raise UsageError(USAGE)
    try:
        product_id = int(args[1])
    except ValueError:
        raise UsageError(f"ID must be the product's ERP id (HM.TW.id), a whole number, got {args[1]!r}") from None
    if not 0 < product_id <= 2**31 - 1:
        raise UsageError(f"ID must be a positive product id (HM.TW.id), got {product_id}")
    return args[0], product_id, args[2] if len(args) > 2 else "", config, dialog


def main(argv: list[str]) -> int:
    try:
        action, product_id, file, config, dialog = parse(argv)
        settings = load_hook_settings(config)
    except HelpAsked:
        print(__doc__)
        return 0
    except UsageError as exc:
        print(f"erp-hook: {exc}", file=sys.stderr)
        return 2
    person = Person(dialog)
    sender = Sender({**settings, "timeout": max(settings["timeout"], 10.0)})
    try:
        if action == "show":
            return show(sender, person, product_id, file)
        return change(sender, person, settings, action, product_id, file)
    finally:
        sender.channel.close()


def show(sender: Any, person: Person, product_id: int, file: str) -> int:
    try:
        image = sender.stub.GetProductImage(erp_events_pb2.GetProductImageRequest(product_id=product_id),
                                            timeout=sender.timeout, metadata=sender.metadata)
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return person.tell(5, f"product {product_id} has no main image ({exc.details()})")
        if exc.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
            return person.tell(4, f"the shopsync server refused the call: {exc.details()}")
        return person.tell(5, "the shopsync server cannot be reached (is its service running?); the image "
                              "cannot be shown now")
    if file:
        target = Path(file)
    else:
        name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in (image.product_code or str(product_id)))
        target = Path(tempfile.gettempdir()) / "shopsync-images" / f"{name}{EXTENSIONS.get(image.content_type, '')}"
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        target.write_bytes(image.data)
    except OSError as exc:
        return person.tell(2, f"cannot write {target}: {exc.strerror or exc}")
    if not file and hasattr(os, "startfile"):  # pragma: no cover - Windows: the system's image viewer
        os.startfile(str(target))  # type: ignore[attr-defined]
    return person.tell(0, f"the main image of product {image.product_code or product_id} is in {target}")


def change(sender: Any, person: Person, settings: dict[str, Any], action: str, product_id: int, file: str) -> int:
    event: dict[str, Any] = {"event": f"image-{action}", "erp_id": product_id, "request_id": uuid.uuid4().hex,
                             "occurred_unix_ms": int(time.time() * 1000)}
    if action == "set":
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            return person.tell(2, f"cannot read {path}: {exc.strerror or exc}")
        kind = image_type(data)
        if kind is None:
            return person.tell(2, f"{path.name} is not a PNG, JPEG, GIF or WebP image")
        if len(data) > MAX_IMAGE_BYTES:
            return person.tell(2, f"{path.name} has {len(data) // 1024} KB; the shop takes at most "
                                  f"{MAX_IMAGE_BYTES // 1024} KB")
        event.update(filename=path.name, content_type=kind, data=base64.b64encode(data).decode())
    spool = Spool(settings["spool"])
    # Keep order: while older events wait in the spool, this one waits behind them.
    left = 0
    if spool.has_events():
        try:
            _, left = spool.replay(sender.send, max_seconds=sender.timeout)
        except SpoolLocked:
            left = 1
    if left == 0 and sender.send(event):
        if sender.dropped:
            return person.tell(2, sender.dropped)
        done = "set" if action == "set" else "deleted"
        return person.tell(0, f"the main image of product {product_id} is {done}; the shop gets it shortly")
    try:
        spool.append(event)
    except (OSError, SpoolLocked) as exc:
        return person.tell(3, f"the shopsync server cannot be reached and the spool {spool.path} is not "
                              f"writable ({exc}): the change is lost, try again")
    if sender.refused:
        return person.tell(4, f"spooled; the shopsync server refused the call: {sender.refused}")
    return person.tell(0, "the shopsync server cannot be reached: the change is kept and will be applied as "
                          "soon as the server is back")
