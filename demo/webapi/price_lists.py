"""Price lists.
"""

from __future__ import annotations

import logging
from typing import Any

import pyodbc
from shopsync.server.erp.sql import TYPPD_CONTRACTOR, TYPPD_GROUP

from .company import ApiError, _iso

log = logging.getLogger("shopsync.demo.webapi")


class SimPriceLists:
    """PriceLists (all, by id or code)."""

    def price_lists(self, cur: pyodbc.Cursor) -> list[dict[str, Any]]:
        """GET PriceLists: PriceListListElement[]."""
        return [{"Id": int(r[0]), "Code": r[1], "Active": bool(r[2]), "DateFrom": _iso(r[3]), "DateTo": _iso(r[4]),
                 "DepartmentId": None, "IsPriceListHistoryEnabled": False, "IsCurrencyPriceList": False,
                 "PriceListCurrency": "PLN"}
                for r in cur.execute("SELECT id, kod, aktywny, dataod, datado FROM HM.CK ORDER BY id").fetchall()]

    def price_list(self, cur: pyodbc.Cursor, query: dict[str, str]) -> dict[str, Any]:
        """GET PriceLists?id= / ?code=: the PriceList with its products' prices and whom it is for. GUESSES: a
        list for chosen contractors (CK.kontrah) is not ForAllContractors; its prices come as PriceType 1
        (PriceA), net; the demo's price groups are ContractorKinds."""
        column, value = ("id", query["id"]) if query.get("id") else ("kod", query.get("code", ""))
        h = cur.execute(f"SELECT id, kod, opis, aktywny, dataod, datado, kontrah FROM HM.CK WHERE {column} = ?",
                        value).fetchone()
        if h is None:
            raise ApiError(404, f"Nie znaleziono cennika {value!r}")
        products = [{"Id": int(r[0]), "Code": r[1] or "", "Name": r[2] or "",
                     "Prices": [{"Value": float(r[3]), "Currency": r[4] or "PLN", "PriceType": 1, "PriceKind": 2,
                                 "Type": 1}]}
                    for r in cur.execute("SELECT p.idpoz, t.kod, t.nazwa, p.cena, p.waluta FROM HM.CP p "
                                         "JOIN HM.TW t ON t.id = p.idpoz WHERE p.idck = ? ORDER BY p.id",
                                         int(h[0])).fetchall()]
        who = cur.execute("SELECT a.idpd, a.typpd, k.kod, k.nazwa FROM HM.KP a LEFT JOIN HM.KH k ON k.id = a.idpd "
                          "AND a.typpd = ? WHERE a.idck = ? ORDER BY a.id", TYPPD_CONTRACTOR, int(h[0])).fetchall()
        return {"Id": int(h[0]), "Code": h[1], "Description": h[2] or "", "Active": bool(h[3]),
                "DateFrom": _iso(h[4]), "DateTo": _iso(h[5]), "ForAllContractors": not bool(h[6]), "Priority": 0,
                "Products": products, "ProductKinds": [],
                "Contractors": [{"Id": int(r[0]), "Code": r[2] or "", "Name": r[3] or ""}
                                for r in who if int(r[1]) == TYPPD_CONTRACTOR],
                "ContractorKinds": [{"Id": int(r[0]), "Code": f"GRUPA{int(r[0])}", "Name": f"Grupa cenowa {r[0]}"}
                                    for r in who if int(r[1]) == TYPPD_GROUP]}
