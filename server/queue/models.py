"""The queue's tables, bound to a database handed in by the caller.

Ids come from a sequence that is never reused (SQLite AUTOINCREMENT, PostgreSQL
SERIAL), so "ORDER BY id" is the order in which messages were first enqueued.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import peewee

PENDING, LEASED, DEAD = 0, 1, 2


class SequenceIdField(peewee.AutoField):
    """Primary key from a never-reused sequence on every backend."""

    def ddl(self, ctx: Any) -> Any:
        node = super().ddl(ctx)
        db = self.model._meta.database
        if isinstance(db, peewee.SqliteDatabase):
            # Plain INTEGER PRIMARY KEY may reuse the id of a deleted last row,
            # which would break FIFO by id.
            return peewee.NodeList((node, peewee.SQL("AUTOINCREMENT")))
        return node


def add_missing_columns(db: peewee.Database, model: type[peewee.Model]) -> None:
    """Columns a newer shopsync added to an existing table (nullable ones only), added in place."""
    from playhouse.migrate import SchemaMigrator, migrate

    table = model._meta.table_name
    if not db.table_exists(table):
        return
    have = {c.name for c in db.get_columns(table)}
    missing = [f for f in model._meta.sorted_fields if f.column_name not in have and f.null]
    if missing:
        migrator = SchemaMigrator.from_database(db)
        migrate(*(migrator.add_column(table, f.column_name, f) for f in missing))


@dataclass(frozen=True)
class Tables:
    message: type[peewee.Model]
    request: type[peewee.Model]
    reply: type[peewee.Model]

    def all(self) -> list[type[peewee.Model]]:
        return [self.message, self.request, self.reply]


def make_tables(db: peewee.Database) -> Tables:
    """Model classes bound to `db` (a fresh set per store, so tests can run side by side)."""

    class Message(peewee.Model):
        id = SequenceIdField()
        queue = peewee.CharField(max_length=32)
        kind = peewee.CharField(max_length=64)
        # Messages with the same entity key coalesce while pending and are
        # delivered one at a time, oldest first. NULL: independent message.
        entity_key = peewee.CharField(max_length=200, null=True)
        payload = peewee.TextField()
        status = peewee.SmallIntegerField(default=PENDING)
        attempts = peewee.IntegerField(default=0)
        created_at = peewee.DoubleField()
        available_at = peewee.DoubleField()
        lease_until = peewee.DoubleField(null=True)
        lease_token = peewee.CharField(max_length=64, null=True)
        last_error = peewee.TextField(null=True)
        # The last error as a code with parameters (server/reasons.py), for pages in the reader's language.
        why = peewee.TextField(null=True)
        dead_at = peewee.DoubleField(null=True)

        class Meta:
            database = db
            table_name = "queue_message"
            indexes = (
                (("queue", "status", "id"), False),
                (("queue", "entity_key", "status", "id"), False),
            )

    class Request(peewee.Model):
        """request_id -> the message it created, so a repeated request is acknowledged once."""

        request_id = peewee.CharField(max_length=128, primary_key=True)
        message_id = peewee.BigIntegerField()
        created_at = peewee.DoubleField(index=True)

        class Meta:
            database = db
            table_name = "queue_request"

    class Reply(peewee.Model):
        """An admin call's answer by its request_id, so a repeated call gets the first answer."""

        key = peewee.CharField(max_length=200, primary_key=True)
        reply = peewee.BlobField()
        created_at = peewee.DoubleField(index=True)

        class Meta:
            database = db
            table_name = "api_reply"

    return Tables(message=Message, request=Request, reply=Reply)
