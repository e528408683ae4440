"""A local Symfonia WebAPI over the demo company: `shopsync erp webapi-sim --port P --db PATH --app-key KEY`.

The simulator itself is the package demo/webapi/ (by API area, one route table); this module serves it.
"""

from __future__ import annotations

import argparse
import os
import threading
from pathlib import Path

import waitress

from .webapi import WebApiSim

__all__ = ["WebApiSim", "add_arguments", "main", "serve"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--db", default="var/demo/erp.db", help="the demo company database (SQLite)")
    p.add_argument("--app-key", default=os.environ.get("SHOPSYNC_SIM_APP_KEY", ""),
                   help="the application key sessions are opened with (or SHOPSYNC_SIM_APP_KEY: a command line is "
                        "readable by every local user)")
    p.add_argument("--session-ttl", type=float, default=1200.0, help="seconds an idle session lives")
    p.add_argument("--seats", type=int, default=5, help="sessions the licence allows at once")
    p.add_argument("--no-tracking", action="store_true",
                   help="change tracking off (the configurator's Synchronizacja options unticked)")
    p.add_argument("--ksef-delay", type=float, default=5.0,
                   help="seconds until KSeF numbers an invoice by itself (`shopsync erp ksef accept|reject` at once)")
    p.add_argument("--tracking-interval", type=float, default=0.25,
                   help="seconds between looks at the company for changes (the feeds' log)")


def missing_extra() -> str:
    """What the simulator cannot do without the `demo` extra (invoice printouts need fpdf2), or ""."""
    import importlib.util

    if importlib.util.find_spec("fpdf") is None:
        return ("the WebAPI simulator prints invoices with fpdf2, which is not installed: "
                "pip install 'shopsync[demo]' (or make setup)")
    return ""


def serve(args: argparse.Namespace) -> int:
    if not args.app_key:
        print("shopsync: the WebAPI simulator needs an application key: --app-key or SHOPSYNC_SIM_APP_KEY")
        return 2
    missing = missing_extra()
    if missing:
        print(f"shopsync: {missing}")
        return 2
    db = Path(args.db)
    if not db.exists():
        print(f"shopsync: {db}: no demo company database (create it: shopsync erp init-demo {db})")
        return 2
    app = WebApiSim(db, args.app_key, session_ttl=args.session_ttl, seats=args.seats,
                    tracking=not args.no_tracking)
    app.ksef_delay = args.ksef_delay
    stop = threading.Event()
    if app.changes is not None:
        threading.Thread(target=app.track_forever, args=(args.tracking_interval, stop), daemon=True,
                         name="change-tracking").start()
    print(f"Symfonia WebAPI simulator listening on http://{args.host}:{args.port}/api (company {db}; change "
          f"tracking {'off' if app.changes is None else 'on'})", flush=True)
    try:
        waitress.serve(app, host=args.host, port=args.port, threads=8, ident="symfonia-webapi-sim", _quiet=True)
    finally:
        stop.set()
    return 0


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m shopsync.demo.webapi_sim", description="a local Symfonia WebAPI")
    add_arguments(p)
    return serve(p.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
