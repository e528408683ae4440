"""`shopsync serve`: the sync server in the foreground."""

from __future__ import annotations

import argparse

from .support import load_for_command, wait_for_signal


def cmd_serve(args: argparse.Namespace) -> int:
    from ..app import create_server

    settings = load_for_command(args)
    server, port = create_server(settings)
    wait_for_signal(lambda: server.stop(grace=10))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("serve", help="run the sync server in the foreground").set_defaults(func=cmd_serve)
