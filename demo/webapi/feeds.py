"""The change feeds (reference §6) over the simulator's own change log (webapi_tracking.py).
"""

from __future__ import annotations

import logging
from typing import Any

import pyodbc

from ..webapi_operations import complete
from ..webapi_tracking import DELETE, INSERT_OR_UPDATE, parse_local
from .company import FEED_OBJECTS, ApiError

log = logging.getLogger("shopsync.demo.webapi")


class SimFeeds:
    """{Products,Contractors,PriceLists,Orders}/IncrementalSync and InventoryStates/Changes."""

    # -- change feeds (reference §6) ------------------------------------------------------
    def _since(self, entity: str, raw: str | None, name: str) -> list[tuple[int, str, bool]]:
        if not raw:
            raise ApiError(400, f"Parametr {name} jest wymagany")
        try:
            since = parse_local(raw)
        except ValueError:
            raise ApiError(400, f"Nieprawidłowa data {raw!r} (oczekiwano np. 2025-09-29T16:00:00)") from None
        if self.changes is None:  # GUESS: with tracking off the feeds are empty (nothing is logged)
            return []
        self.changes.track()
        return self.transaction(lambda cur: self.changes.since(cur, entity, since))  # type: ignore[union-attr]

    def incremental_sync(self, entity: str, query: dict[str, str]) -> list[dict[str, Any]]:
        """IncrementalSyncListElement[]: {Id, ModifyType, ModifiedAt, Object}. The Object is the record as
        its GET gives it, in part (GUESS: the fields the demo company has; null for a deleted record)."""
        changed = self._since(entity, query.get("dateFrom"), "dateFrom")
        objects = self.transaction(lambda cur: self._objects(cur, entity, [i for i, _, gone in changed if not gone]))
        model = FEED_OBJECTS[entity]  # the Object as the real API writes it: the whole GET view
        return [{"Id": rid, "ModifyType": DELETE if gone else INSERT_OR_UPDATE, "ModifiedAt": at,
                 "Object": None if gone else complete(objects.get(rid), model)} for rid, at, gone in changed]

    def _objects(self, cur: pyodbc.Cursor, entity: str, ids: list[int]) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            if entity == "Products":
                out.update(self.products(cur, chunk))
            elif entity == "Contractors":
                for r in cur.execute(f"SELECT {self._KH} FROM HM.KH WHERE id IN ({marks})", *chunk).fetchall():
                    out[int(r[0])] = self._contractor_view(r)
            elif entity == "PriceLists":
                for pid in chunk:
                    out[pid] = self.price_list(cur, {"id": str(pid)})
            elif entity == "Orders":
                for zo in chunk:
                    out[zo] = self.order(cur, {"id": str(zo)})
        return out

    def inventory_changes(self, query: dict[str, str]) -> list[dict[str, Any]]:
        """InventoryState[] of the stock rows that changed at or after `date` (states, not deltas)."""
        changed = [rid for rid, _, gone in self._since("InventoryStates", query.get("date"), "date") if not gone]

        def read(cur: pyodbc.Cursor) -> list[dict[str, Any]]:
            out = []
            for start in range(0, len(changed), 500):
                chunk = changed[start:start + 500]
                out += [{"ProductId": int(r[0]), "WarehouseId": int(r[1]), "AmountInStore": float(r[2] or 0),
                         "AmountToSale": float(r[3] or 0)}
                        for r in cur.execute(f"SELECT idtw, magazyn, stan, stanHandl FROM HM.SM WHERE id IN "
                                             f"({', '.join('?' * len(chunk))}) ORDER BY idtw, magazyn",
                                             *chunk).fetchall()]
            return out

        return self.transaction(read)
