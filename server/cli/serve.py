"""`shopsync serve`: the sync server in the foreground; `shopsync check-erp`: the settings against the ERP."""

from __future__ import annotations

import argparse

from .support import CliError, load_for_command, wait_for_signal


def cmd_serve(args: argparse.Namespace) -> int:
    from ..app import create_server

    settings = load_for_command(args)
    server, port = create_server(settings)
    wait_for_signal(lambda: server.stop(grace=10))
    return 0


def cmd_check_erp(args: argparse.Namespace) -> int:
    """Ask the ERP whether the settings fit the company: every problem listed, exit code 1 if any."""
    from ..erp.errors import ErpError
    from ..erp import make_erp

    settings = load_for_command(args)
    erp = make_erp(settings)
    try:
        erp.ping()
        problems = erp.check_settings(settings)
    except ErpError as exc:
        raise CliError(f"the ERP did not answer the check: {exc}") from None
    finally:
        erp.close()
    if not problems:
        print(f"the settings fit the ERP company (checked: {erp.settings_checked})")
        return 0
    print(f"{len(problems)} setting(s) do not fit the ERP company:")
    for p in problems:
        print(f"  {p}")
    return 1


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("serve", help="run the sync server in the foreground").set_defaults(func=cmd_serve)
    sub.add_parser("check-erp", help="check the settings against the ERP company (series, department, payment "
                   "forms, warehouses, currencies, service items); exit code 1 with every problem listed"
                   ).set_defaults(func=cmd_check_erp)
