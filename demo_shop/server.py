"""Run the local shop on waitress: `shopsync demo-shop` or `python -m demo_shop.server`."""

from __future__ import annotations

import argparse
import os
import logging
import sys
from pathlib import Path

import waitress

from demo_shop.app import ShopApp
from demo_shop.store import ShopStore


def build(db: Path, key: str, secret: str, host: str, port: int, wp_user: str = "",
          wp_app_password: str = "") -> ShopApp:
    return ShopApp(ShopStore(db), key, secret, public_url=f"http://{host}:{port}", wp_user=wp_user,
                   wp_app_password=wp_app_password)


WEBHOOK_TOPICS = ("order.created", "order.updated", "customer.created", "customer.updated", "product.updated")


def ensure_webhooks(app: ShopApp, delivery_url: str, secret: str) -> int:
    """Webhooks for the topics shopsync takes, pointing at `delivery_url` (once: they persist)."""
    have = {(h["topic"], h["delivery_url"]) for h in app.webhooks.hooks}
    added = 0
    for topic in WEBHOOK_TOPICS:
        if (topic, delivery_url) not in have:
            app.webhooks.add(topic, delivery_url, secret)
            added += 1
    return added


def serve(host: str, port: int, db: Path, key: str, secret: str, *, seed: bool = False, threads: int = 8,
          webhook_url: str = "", webhook_secret: str = "", wp_user: str = "", wp_app_password: str = "") -> None:
    app = build(db, key, secret, host, port, wp_user, wp_app_password)
    if webhook_url:
        ensure_webhooks(app, webhook_url, webhook_secret)
    if seed:
        from demo_shop.seed import seed as seed_shop

        seed_shop(app)
    logging.getLogger("demo_shop").info("demo shop on http://%s:%d (db %s)", host, port, db)
    print(f"demo shop listening on http://{host}:{port}", flush=True)
    waitress.serve(app, host=host, port=port, threads=threads, ident="demo-shop", _quiet=True,
                   connection_limit=200, channel_timeout=60)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The local shop's options (also those of `shopsync demo-shop`)."""
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--db", default="var/demo/shop.db")
    # Secrets from the environment where given (a command line is readable by every local user).
    p.add_argument("--key", default=os.environ.get("DEMO_SHOP_KEY", "ck_demo"))
    p.add_argument("--secret", default=os.environ.get("DEMO_SHOP_SECRET", "cs_demo"))
    p.add_argument("--seed", action="store_true", help="fill an empty shop with sample data")
    p.add_argument("--webhook-url", default="", help="send webhooks of the topics shopsync takes here (kept in "
                   "the shop's database; also POST /wp-json/wc/v3/webhooks as in WooCommerce)")
    p.add_argument("--webhook-secret", default=os.environ.get("DEMO_SHOP_WEBHOOK_SECRET", ""),
                   help="the secret that signs them (webhooks.secret; or DEMO_SHOP_WEBHOOK_SECRET)")
    p.add_argument("--wp-user", default="admin", help="the WordPress user image uploads authenticate as")
    p.add_argument("--wp-app-password", default=os.environ.get("DEMO_SHOP_WP_APP_PASSWORD", ""),
                   help="its application password (empty: no uploads; or DEMO_SHOP_WP_APP_PASSWORD)")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO)
    serve(args.host, args.port, Path(args.db), args.key, args.secret, seed=args.seed,
          webhook_url=args.webhook_url, webhook_secret=args.webhook_secret, wp_user=args.wp_user,
          wp_app_password=args.wp_app_password)
    return 0


if __name__ == "__main__":
    # `python -m demo_shop.server ...` takes the same options as `shopsync demo-shop`.
    parser = argparse.ArgumentParser(prog="demo-shop", description="the local WooCommerce-compatible shop")
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
