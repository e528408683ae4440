"""Run the local shop on waitress: `shopsync demo-shop` or `python -m demo_shop.server`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import waitress

from demo_shop.app import ShopApp
from demo_shop.store import ShopStore


def build(db: Path, key: str, secret: str, host: str, port: int) -> ShopApp:
    return ShopApp(ShopStore(db), key, secret, public_url=f"http://{host}:{port}")


def serve(host: str, port: int, db: Path, key: str, secret: str, *, seed: bool = False, threads: int = 8) -> None:
    app = build(db, key, secret, host, port)
    if seed:
        from demo_shop.seed import seed as seed_shop

        seed_shop(app)
    logging.getLogger("demo_shop").info("demo shop on http://%s:%d (db %s)", host, port, db)
    print(f"demo shop listening on http://{host}:{port}", flush=True)
    waitress.serve(app, host=host, port=port, threads=threads, ident="demo-shop", _quiet=True,
                   connection_limit=200, channel_timeout=60)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="demo-shop", description="local WooCommerce-compatible shop")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--db", default="var/demo/shop.db")
    p.add_argument("--key", default="ck_demo")
    p.add_argument("--secret", default="cs_demo")
    p.add_argument("--seed", action="store_true", help="fill an empty shop with sample data")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    serve(a.host, a.port, Path(a.db), a.key, a.secret, seed=a.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
