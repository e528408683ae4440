"""The local shop's data: WooCommerce-shaped JSON objects in SQLite.

A test and demo fixture, kept apart from the adapter (shop_client/): it knows
nothing of it, and the adapter cannot lean on it.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable

KINDS = ("products", "categories", "customers", "orders", "media", "coupons", "webhooks", "options", "taxes", "refunds")


def now_gmt() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds")


class ShopStore:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.lock = threading.RLock()
        for kind in KINDS:
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {kind} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                            "key TEXT, modified TEXT, body TEXT NOT NULL)")
            self.db.execute(f"CREATE INDEX IF NOT EXISTS {kind}_key ON {kind} (key)")
        self.db.execute("CREATE TABLE IF NOT EXISTS blobs (id INTEGER PRIMARY KEY, data BLOB, type TEXT)")

    def close(self) -> None:
        self.db.close()

    def insert(self, kind: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        with self.lock:
            cur = self.db.execute(f"INSERT INTO {kind} (key, modified, body) VALUES (?, ?, '{{}}')",
                                  (key, body.get("date_modified_gmt", "")))
            body = {**body, "id": cur.lastrowid}
            self.db.execute(f"UPDATE {kind} SET body = ? WHERE id = ?", (json.dumps(body), cur.lastrowid))
            return body

    def save(self, kind: str, body: dict[str, Any], key: str | None = None) -> None:
        with self.lock:
            self.db.execute(f"UPDATE {kind} SET key = ?, modified = ?, body = ? WHERE id = ?",
                            (key, body.get("date_modified_gmt", ""), json.dumps(body), body["id"]))

    def get(self, kind: str, obj_id: int) -> dict[str, Any] | None:
        with self.lock:
            row = self.db.execute(f"SELECT body FROM {kind} WHERE id = ?", (obj_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def delete(self, kind: str, obj_id: int) -> None:
        with self.lock:
            self.db.execute(f"DELETE FROM {kind} WHERE id = ?", (obj_id,))

    def by_key(self, kind: str, key: str) -> dict[str, Any] | None:
        with self.lock:
            row = self.db.execute(f"SELECT body FROM {kind} WHERE key = ? ORDER BY id LIMIT 1", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def all(self, kind: str) -> Iterable[dict[str, Any]]:
        with self.lock:
            rows = self.db.execute(f"SELECT body FROM {kind} ORDER BY id").fetchall()
        return [json.loads(r[0]) for r in rows]

    def query(self, kind: str, where: str = "1=1", params: tuple[Any, ...] = (), order: str = "id ASC",
              limit: int = 10, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        with self.lock:
            total = self.db.execute(f"SELECT COUNT(*) FROM {kind} WHERE {where}", params).fetchone()[0]
            rows = self.db.execute(f"SELECT body FROM {kind} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                                   (*params, limit, offset)).fetchall()
        return [json.loads(r[0]) for r in rows], total

    def put_blob(self, media_id: int, data: bytes, content_type: str) -> None:
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO blobs (id, data, type) VALUES (?, ?, ?)",
                            (media_id, data, content_type))

    def delete_blob(self, media_id: int) -> None:
        with self.lock:
            self.db.execute("DELETE FROM blobs WHERE id = ?", (media_id,))

    def get_blob(self, media_id: int) -> tuple[bytes, str] | None:
        with self.lock:
            row = self.db.execute("SELECT data, type FROM blobs WHERE id = ?", (media_id,)).fetchone()
        return (bytes(row[0]), row[1]) if row else None
