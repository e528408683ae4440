"""shopsync: the server and its admin commands.

    shopsync serve [--config FILE]         run the sync server in the foreground
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any, Callable

from server.settings import Settings, SettingsError, load_settings

log = logging.getLogger("shopsync")


class CliError(Exception):
    """A problem to report in one line, with exit code 1 (or .code)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def secrets_of(settings: Settings) -> list[str]:
    from server.settings import SECRET_KEYS

    values = [getattr(getattr(settings, s), k) for s, k in SECRET_KEYS]
    url = settings.queue.database
    if "@" in url and ":" in url.split("://", 1)[-1].split("@")[0]:
        values.append(url.split("://", 1)[1].split("@")[0].split(":", 1)[1])
    for part in settings.erp.odbc.split(";"):
        k, _, v = part.partition("=")
        if k.strip().lower() in ("pwd", "password"):
            values.append(v)
    return values


def _load(args: argparse.Namespace) -> Settings:
    from server.logs import setup_logging

    settings = load_settings(getattr(args, "config", None))
    setup_logging(getattr(args, "log_level", None) or settings.log.level, secrets_of(settings))
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


def cmd_serve(args: argparse.Namespace) -> int:
    from server.app import create_server

    settings = _load(args)
    server, port = create_server(settings)
    wait_for_signal(lambda: server.stop(grace=10))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shopsync", description="Symfonia ERP <-> online shop sync server")
    parser.add_argument("--config", help="settings file (TOML); default $SHOPSYNC_CONFIG or embedded defaults")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING, ERROR")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the sync server in the foreground")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SettingsError as exc:
        print(f"shopsync: settings: {exc}", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"shopsync: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
