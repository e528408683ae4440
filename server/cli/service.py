"""`shopsync console hash-password` and `shopsync service install|start|stop|remove` (Windows)."""

from __future__ import annotations

import argparse
import getpass
import sys

from .support import CliError


def cmd_hash_password(args: argparse.Namespace) -> int:
    """Read a password on stdin (hidden at a terminal) and print its argon2 hash for console.password_hash."""
    from ..web.console import hash_password

    if sys.stdin.isatty():
        first = getpass.getpass("console password: ")
        if getpass.getpass("again: ") != first:
            raise CliError("the two passwords differ", 2)
    else:
        first = sys.stdin.readline().rstrip("\r\n")
    if len(first) < 10:
        raise CliError("the password must have at least 10 characters", 2)
    print(hash_password(first))
    return 0


def cmd_service(args: argparse.Namespace) -> int:
    """The server as a Windows service next to Symfonia (pywin32: pip install "symfonia-shopsync[windows]")."""
    if sys.platform != "win32":
        raise CliError("`shopsync service` is Windows-only (Symfonia's machine); on Linux run `shopsync serve` "
                       "under systemd", 2)
    from .winservice import run  # pragma: no cover - Windows only (pywin32)

    return run(args.service_action, args.config)  # pragma: no cover


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("console", help="the operators' console")
    csub = p.add_subparsers(dest="console_action", required=True, metavar="ACTION")
    csub.add_parser("hash-password", help="read a password on stdin, print its hash for console.password_hash"
                    ).set_defaults(func=cmd_hash_password)
    p = sub.add_parser("service", help="run shopsync as a Windows service (install, start, stop, remove)")
    p.add_argument("service_action", choices=["install", "start", "stop", "remove"])
    p.set_defaults(func=cmd_service)
