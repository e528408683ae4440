"""shopsync: the sync server and its admin commands.

    shopsync run-demo                      demo ERP + local shop + server (what `make run` runs)
    shopsync serve                         the sync server, in the foreground
    shopsync check-erp                     the settings against the ERP company, every problem listed
    shopsync demo-shop [--port P ...]      the local WooCommerce-compatible shop
    shopsync erp init-demo PATH            a demo Symfonia company database (SQLite)
    shopsync erp ACTION ...                act as a Symfonia user, then run the hook
    shopsync import-catalog [--dry-run]    initial import of the shop's products into the ERP
    shopsync customers list|pair|unpair|run-pairing
    shopsync queue stats|dead-letters|retry|discard
    shopsync catch-up                      compare the ERP with what the shop was sent, queue differences
    shopsync reconcile                     compare what the shop really holds with the ERP, correct it
    shopsync hooks last                    the last event of each kind the ERP's hooks sent
    shopsync console hash-password         the console's password hash (password read on stdin)
    shopsync service install|start|stop|remove   the server as a Windows service

Exit codes: 0 done; 1 the command failed (one line on stderr says why);
2 bad arguments or settings; 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from importlib.metadata import entry_points

from .admin import register as register_admin
from .serve import register as register_serve
from .service import register as register_service
from .support import CliError
from ..settings import SettingsError

log = logging.getLogger("shopsync")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shopsync", description="Symfonia ERP Handel <-> online shop sync",
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--config", help="settings file (TOML); default $SHOPSYNC_CONFIG or embedded defaults")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_serve(sub)
    register_admin(sub)
    register_service(sub)
    # Commands of installed add-ons (the demo: run-demo, demo-shop, erp ...), found by entry point.
    for ep in sorted(entry_points(group="shopsync.commands"), key=lambda e: e.name):
        ep.load()(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except SettingsError as exc:
        print(f"shopsync: settings: {exc}", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"shopsync: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`shopsync queue dead-letters | head`): that is not an error of ours.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        return 0
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        from ..erp.errors import ErpError
        from shop_client.errors import ShopError

        if isinstance(exc, (ErpError, ShopError, OSError, ValueError)):
            print(f"shopsync: {exc}", file=sys.stderr)
            return 1
        log.debug("unexpected error", exc_info=True)
        print(f"shopsync: internal error ({type(exc).__name__}: {exc}); run with --log-level DEBUG for details",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
