"""Change tracking of the local Symfonia WebAPI: what its configurator's "Synchronizacja" tab switches on.

Reference §6: the WebAPI logs that a product, contractor, price list, order or stock
level changed, with a timestamp and without saying which field; any save of a card
marks it changed (an edit or not). The feeds read that log:
`{Products,Contractors,Orders,PriceLists}/IncrementalSync?dateFrom=` answer
IncrementalSyncListElement {Id, ModifyType 1 InsertOrUpdate / 2 Delete, ModifiedAt,
Object}, `InventoryStates/Changes?date=` answers the states that changed.

The demo company has no such log, so the simulator keeps one: it reads what each
kind of record consists of (a product's card, note and features; a warehouse's stock
row; a contractor with its addresses; a price list with its prices and contractors;
an order with its reservations and linked documents), and stamps a record changed
when that differs from what it saw last. It looks every `interval` seconds and
before every feed answer, so a change is in the log within a fraction of a second,
as in the ERP. A card saved without an edit still counts as changed: the demo's
`save-item` action touches the card's modifiedDate, which is part of what is read.

GUESSES (reference §7.5 leaves them open): ModifiedAt is local time without an
offset, to the millisecond; dateFrom is inclusive; there is no paging; a deleted
record comes with Object = null.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, Callable

import pyodbc

INSERT_OR_UPDATE, DELETE = 1, 2  # enumIncrementalSyncModifyType
STARTED = "2000-01-01T00:00:00.000"  # the stamp of records that were there when tracking was switched on

# What each tracked kind of record is made of: (entity, [(query whose first column is the record id), ...]).
SOURCES: dict[str, list[str]] = {
    "Products": [
        "SELECT id, kod, nazwa, kodpaskowy, jm, vatsp, katalog, znacznik, aktywny, modifiedDate FROM HM.TW",
        "SELECT super, typ, subtyp, opis FROM HM.NT WHERE baza = 1",
        "SELECT * FROM SSCommon.ProductClassification",
    ],
    "InventoryStates": ["SELECT id, idtw, magazyn, stan, stanHandl FROM HM.SM"],
    "Contractors": [
        "SELECT id, kod, nazwa, nip, ulica, dom, lokal, kodpocz, miejscowosc, email, tel1, katalog, grupacen, "
        "znacznik, aktywny, modifiedDate FROM HM.KH",
        "SELECT idkh, id, nazwaAdr, nazwa, ulica, dom, lokal, kodpocz, miejscowosc FROM HM.AD",
    ],
    "PriceLists": [
        "SELECT id, kod, opis, dataod, datado, aktywny, kontrah, cenowy FROM HM.CK",
        "SELECT idck, idpoz, kod, cena, waluta FROM HM.CP",
        "SELECT idck, idpd, typpd FROM HM.KP",
    ],
    "Orders": [
        "SELECT id, kod, bufor, anulowany, khid, netto, vat, modifiedDate FROM HM.ZO",
        "SELECT iddokrz, id, idtw, iloscrz, iloscrl FROM HM.RZ WHERE iddokrz IS NOT NULL",
        "SELECT id1, id2, typ FROM HM.PO",
    ],
}


def local_now() -> str:
    """The ERP's clock as the feeds give it: local time, no offset, milliseconds (GUESS)."""
    return dt.datetime.now().isoformat(timespec="milliseconds")


def parse_local(text: str) -> dt.datetime:
    """A feed's date parameter: ISO 8601 local time without an offset (e.g. 2025-09-29T16:00:00)."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", ""))
    return value.replace(tzinfo=None)


class ChangeLog:
    """The log: per (entity, id) the digest last seen, when it last changed, and whether it is gone."""

    TABLE = "HM.WebApiChanges"

    def __init__(self, transaction: Callable[[Callable[[pyodbc.Cursor], Any]], Any],
                 clock: Callable[[], str] = local_now) -> None:
        self.transaction = transaction
        self.clock = clock
        self.transaction(lambda cur: cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.TABLE} (entity varchar(20), id int, digest varchar(40), "
            "modifiedAt varchar(30), deleted smallint DEFAULT 0, PRIMARY KEY (entity, id))"))

    def _digests(self, cur: pyodbc.Cursor, entity: str) -> dict[int, str]:
        parts: dict[int, list[str]] = {}
        for n, query in enumerate(SOURCES[entity]):
            try:
                rows = cur.execute(query).fetchall()
            except pyodbc.Error:
                if n == 0:
                    raise
                continue  # an optional part (the features table) this company does not have
            for row in rows:
                if row[0] is not None:
                    parts.setdefault(int(row[0]), []).append(f"{n}:{tuple(row)!r}")
        return {rid: hashlib.sha1("\n".join(sorted(p)).encode()).hexdigest() for rid, p in parts.items()}

    def track(self) -> int:
        """Stamp what changed since the last look; the number of records stamped."""
        return int(self.transaction(self._track))

    def _track(self, cur: pyodbc.Cursor) -> int:
        stamped = 0
        for entity in SOURCES:
            current = self._digests(cur, entity)
            known = {int(r[0]): (r[1], int(r[2] or 0)) for r in cur.execute(
                f"SELECT id, digest, deleted FROM {self.TABLE} WHERE entity = ?", entity).fetchall()}
            # The first look is the log's start: what exists then was not changed then.
            now = self.clock() if known or not current else STARTED
            for rid, digest in current.items():
                seen = known.get(rid)
                if seen is None:
                    cur.execute(f"INSERT INTO {self.TABLE} (entity, id, digest, modifiedAt, deleted) "
                                "VALUES (?, ?, ?, ?, 0)", entity, rid, digest, now)
                elif seen != (digest, 0):
                    cur.execute(f"UPDATE {self.TABLE} SET digest = ?, modifiedAt = ?, deleted = 0 "
                                "WHERE entity = ? AND id = ?", digest, now, entity, rid)
                else:
                    continue
                stamped += 1
            for rid, (_, deleted) in known.items():
                if rid not in current and not deleted:
                    cur.execute(f"UPDATE {self.TABLE} SET modifiedAt = ?, deleted = 1 WHERE entity = ? AND id = ?",
                                now, entity, rid)
                    stamped += 1
        return stamped

    def since(self, cur: pyodbc.Cursor, entity: str, date_from: dt.datetime) -> list[tuple[int, str, bool]]:
        """(id, ModifiedAt, deleted) of the records of `entity` changed at or after date_from, oldest first."""
        rows = cur.execute(f"SELECT id, modifiedAt, deleted FROM {self.TABLE} WHERE entity = ? AND modifiedAt >= ? "
                           "ORDER BY modifiedAt, id", entity,
                           date_from.isoformat(timespec="milliseconds")).fetchall()
        return [(int(r[0]), str(r[1]), bool(r[2])) for r in rows]
