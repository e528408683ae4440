"""The sync's own tables beside the queue's: bindings, customer pairings, named cursors, and the products'
main images when the ERP is reached through its WebAPI (nothing is written to the company database then).

Kept in the queue's database, so a binding and the queue agree after a crash (one
transaction can settle a message and record what it did).
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee


@dataclass(frozen=True)
class SyncTables:
    binding: type[peewee.Model]
    pairing: type[peewee.Model]
    cursor: type[peewee.Model]
    image: type[peewee.Model]

    def all(self) -> list[type[peewee.Model]]:
        return [self.binding, self.pairing, self.cursor, self.image]


def make_sync_tables(db: peewee.Database) -> SyncTables:
    """Model classes bound to `db` (a fresh set per store, so tests can run side by side)."""

    class BindingRow(peewee.Model):
        kind = peewee.CharField(max_length=32)
        erp_id = peewee.BigIntegerField()
        shop_id = peewee.BigIntegerField(null=True)
        state = peewee.TextField(default="{}")
        state_time = peewee.BigIntegerField(default=0)
        updated_at = peewee.DoubleField()

        class Meta:
            database = db
            table_name = "sync_binding"
            primary_key = peewee.CompositeKey("kind", "erp_id")
            indexes = ((("kind", "shop_id"), False),)

    class PairingRow(peewee.Model):
        shop_customer_id = peewee.BigIntegerField(primary_key=True)
        erp_contractor_id = peewee.BigIntegerField(null=True)
        status = peewee.CharField(max_length=20)
        detail = peewee.TextField(default="")
        manual = peewee.BooleanField(default=False)
        nip = peewee.CharField(max_length=40, default="")
        email = peewee.CharField(max_length=200, default="")
        name = peewee.CharField(max_length=200, default="")
        updated_at = peewee.DoubleField()

        class Meta:
            database = db
            table_name = "sync_customer_pairing"
            indexes = ((("status",), False),)

    class CursorRow(peewee.Model):
        key = peewee.CharField(max_length=64, primary_key=True)
        value = peewee.TextField()

        class Meta:
            database = db
            table_name = "sync_cursor"

    class ImageRow(peewee.Model):
        product_id = peewee.BigIntegerField(primary_key=True)  # the ERP product (HM.TW.id)
        filename = peewee.CharField(max_length=200)
        content_type = peewee.CharField(max_length=100)
        data = peewee.BlobField()
        sha256 = peewee.CharField(max_length=64)
        updated_at = peewee.DoubleField()

        class Meta:
            database = db
            table_name = "sync_product_image"

    return SyncTables(binding=BindingRow, pairing=PairingRow, cursor=CursorRow, image=ImageRow)
