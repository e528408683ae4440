"""Products: cards, lists and filters, the catalog tree, Products/Create.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pyodbc

from .company import SERVICES, VAT_RATES, ApiError, _dec, _feature_name

log = logging.getLogger("shopsync.demo.webapi")


class SimProducts:
    """Products, Products/FilterSql (+ /WithSalePrices), /Filter, /Catalogs, /Create."""

    def product(self, cur: pyodbc.Cursor, query: dict[str, str]) -> dict[str, Any]:
        """GET Products?id= / ?code=: one Product (404 when none)."""
        for key, column in (("id", "id"), ("code", "kod")):
            if query.get(key):
                row = cur.execute(f"SELECT id FROM HM.TW WHERE {column} = ?", query[key]).fetchone()
                if row is None:
                    raise ApiError(404, f"Nie znaleziono towaru {query[key]!r}")
                return self.products(cur, [int(row[0])])[int(row[0])]
        raise ApiError(400, "Podaj id lub code")

    def products(self, cur: pyodbc.Cursor, ids: list[int]) -> dict[int, dict[str, Any]]:
        """Products as the API shows them (the fields the demo company has). GUESSES: the catalog's FullPath
        joins the group names with a backslash; the card's sale price of type 1 (PriceA) is the demo's base
        price list (DETAL), net; a product feature is a Dimension coded by its name; the note is plain text."""
        paths = self._catalog_paths(cur)
        features = [c[0] for c in cur.execute("SELECT * FROM SSCommon.ProductClassification WHERE 0 = 1")
                    .description[1:]] if self._has_features(cur) else []
        out: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            prices = dict(cur.execute(f"SELECT p.idpoz, p.cena FROM HM.CP p JOIN HM.CK k ON k.id = p.idck WHERE "
                                      f"k.kod = 'DETAL' AND p.idpoz IN ({marks})", *chunk).fetchall())
            notes = dict(cur.execute(f"SELECT super, opis FROM HM.NT WHERE baza = 1 AND super IN ({marks}) "
                                     "ORDER BY id", *chunk).fetchall())
            dims: dict[int, list[dict[str, Any]]] = {}
            if features:
                for r in cur.execute(f"SELECT * FROM SSCommon.ProductClassification WHERE ElementId IN ({marks})",
                                     *chunk).fetchall():
                    dims[int(r[0])] = [{"Name": _feature_name(c), "Code": _feature_name(c), "Value": v,
                                        "DictionaryValue": None, "Type": "Tekst"}
                                       for c, v in zip(features, r[1:]) if v not in (None, "")]
            for r in cur.execute("SELECT id, kod, nazwa, kodpaskowy, aktywny, znacznik, jm, vatsp, katalog "
                                 f"FROM HM.TW WHERE id IN ({marks})", *chunk).fetchall():
                pid = int(r[0])
                out[pid] = {"Id": pid, "Code": r[1], "Name": r[2], "Barcode": r[3] or "", "Active": bool(r[4]),
                            "Marker": int(r[5] or 0), "Type": 1 if str(r[1]).upper() in SERVICES else 0,
                            "Note": notes.get(pid), "UnitsOfMeasurement": {"RecordUM": r[6] or "szt."},
                            "VatRate": {"Id": None, "Code": str(int(r[7] or 0))},
                            "Catalog": ({"Id": int(r[8]), "ParentId": int(paths[int(r[8])][1] or 0),
                                         "Name": paths[int(r[8])][0][-1], "FullPath": "\\".join(paths[int(r[8])][0])}
                                        if r[8] is not None and int(r[8]) in paths else  # no group (GUESS):
                                        {"Id": 0, "ParentId": 0, "Name": "", "FullPath": ""}),
                            "SalePrices": ([{"Type": 1, "Kind": 2, "Value": float(prices[pid]), "Currency": "PLN",
                                             "PriceParameter": 2}] if pid in prices else []),
                            "Dimensions": dims.get(pid, [])}
        return out

    # -- filters ---------------------------------------------------------------------------
    @staticmethod
    def _criteria(body: Any, fields: dict[str, str]) -> tuple[list[str], list[Any]]:
        """WHERE parts from criteria: StringCriteriaFilter {Value, Mode 1 Equals / 2 Like (SQL LIKE, % and _)}
        and IntCriteriaFilter {Value_From, Value_To, Mode 0 Within / 1 Equals}; a null criterion is no filter.
        GUESS: Within is both ends inclusive; Like matches as the database does (case as its collation)."""
        where, args = [], []
        if not isinstance(body, dict):
            raise ApiError(400, "Brak kryteriów filtrowania")
        for name, column in fields.items():
            c = body.get(name)
            if c is None:
                continue
            if not isinstance(c, dict):  # a plain value (Active, KindId, CatalogId)
                where.append(f"{column} = ?")
                args.append(int(c) if isinstance(c, bool) else c)
                continue
            mode = int(c.get("Mode") if c.get("Mode") is not None else 1)
            if "Value" in c:
                where.append(f"{column} LIKE ?" if mode == 2 else f"{column} = ?")
                args.append(str(c.get("Value") or ""))
            elif mode == 1:
                where.append(f"{column} = ?")
                args.append(int(c.get("Value_From") or 0))
            else:
                where.append(f"{column} BETWEEN ? AND ?")
                args += [int(c.get("Value_From") or 0), int(c.get("Value_To") or 0)]
        return where, args

    def products_filter(self, cur: pyodbc.Cursor, body: Any) -> list[dict[str, Any]]:
        """PATCH Products/FilterSql (ProductCriteriaFilter) and Products/Filter (its Dimensions): the products
        matching all criteria, as ProductListElement[]."""
        where, args = self._criteria(body, {"Active": "t.aktywny", "Marker": "t.znacznik", "Name": "t.nazwa",
                                            "Code": "t.kod", "Barcode": "t.kodpaskowy", "CatalogId": "t.katalog"})
        join = ""
        for n, d in enumerate(body.get("Dimensions") or []):  # GUESS: a feature is a dimension by its name
            column = f"CDim_{d.get('Code')}_Val"
            if not str(d.get("Code") or "").isidentifier():
                raise ApiError(400, f"Nieznany wymiar {d.get('Code')!r}")
            join = "JOIN SSCommon.ProductClassification c ON c.ElementId = t.id "
            where.append(f"c.{column} = ?")
            args.append(d.get("Value"))
        try:
            rows = cur.execute(f"SELECT t.id, t.kod, t.nazwa, t.aktywny, t.jm, t.vatsp, t.kodpaskowy FROM HM.TW t "
                               f"{join}{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY t.id",
                               *args).fetchall()
        except pyodbc.Error:
            raise ApiError(400, "Nieprawidłowe kryteria filtrowania") from None
        return [{"Id": int(r[0]), "Code": r[1], "Name": r[2], "Active": bool(r[3]), "Unit": r[4] or "szt.",
                 "DefaultUnit": r[4] or "szt.", "VatRate": str(int(r[5] or 0)), "Type": 0, "Barcode": r[6] or "",
                 "CN": "", "PKWiU": "", "FiscalName": ""} for r in rows]

    def products_with_prices(self, cur: pyodbc.Cursor, body: Any) -> list[dict[str, Any]]:
        """PATCH Products/FilterSql/WithSalePrices: ProductListElementWithSalePrices[], the list elements with
        each card's sale prices."""
        rows = self.products_filter(cur, body)
        views = self.products(cur, [r["Id"] for r in rows])
        return [{**r, "SalePrices": [{k: x[k] for k in ("Type", "Kind", "Value", "Currency")}
                                     for x in views[r["Id"]]["SalePrices"]]} for r in rows]

    def create_product(self, cur: pyodbc.Cursor, body: Any) -> dict[str, Any]:
        """POST Products/Create: a new product card. GUESSES: Code and Name are required and a Code in use is
        refused (400); the catalog is one the company has, by its Id; the sale price of type 1 goes to
        the demo's DETAL list (as it is read); a Dimension coded as a feature sets that feature."""
        # GUESS: a Dimension the company has not defined is refused (Symfonia's cechy are defined first).
        defined = {_feature_name(c[0]) for c in cur.execute(
            "SELECT * FROM SSCommon.ProductClassification WHERE 0 = 1").description[1:]} \
            if self._has_features(cur) else set()
        for d in body.get("Dimensions") or []:
            if isinstance(d, dict) and d.get("Code") not in defined:
                raise ApiError(400, f"Cecha {d.get('Code')!r} nie jest zdefiniowana w firmie")
        code, name = self._new_card(cur, body, "HM.TW", "towar", "Product")
        vat = str((body.get("VatRate") or {}).get("Code") or "23").lower()
        if vat not in VAT_RATES:
            raise ApiError(400, f"Nieznana stawka VAT {vat!r}")
        rate = Decimal(vat) if vat.isdigit() else Decimal(0)
        # GUESS: the card's Catalog is one the company has, named by its Id (the model has no AddIfNotExist and
        # the API no call that makes a catalog); an unknown one is refused, nothing written.
        catalog = body.get("Catalog") or {}
        group = int(catalog.get("Id") or 0) or None
        if group is not None and cur.execute("SELECT id FROM HM.XT WHERE id = ?", group).fetchone() is None:
            raise ApiError(400, f"Nie znaleziono katalogu {catalog.get('FullPath') or group!r}")
        pid = int(self.dialect.insert(cur, "HM.TW", {
            "kod": code, "nazwa": name[:100], "kodpaskowy": (body.get("Barcode") or "")[:150],
            "jm": ((body.get("UnitsOfMeasurement") or {}).get("RecordUM") or "szt.")[:8],
            # the demo's schema keeps a percentage: an exempt (zw) or not-subject (np) card is 0 there
            "vatsp": int(rate),
            "katalog": group, "znacznik": int(body.get("Marker") or 0), "aktywny": 0 if body.get("Active") is False
            else 1, "modifiedDate": dt.datetime.now().replace(microsecond=0)}))
        if body.get("Note"):
            cur.execute("INSERT INTO HM.NT (super, baza, typ, subtyp, opis) VALUES (?, 1, 0, 0, ?)", pid, body["Note"])
        for price in body.get("SalePrices") or []:
            if isinstance(price, dict) and price.get("Type") == 1 and price.get("Value") is not None:
                base = cur.execute("SELECT id FROM HM.CK WHERE kod = 'DETAL'").fetchone()
                value = _dec(price["Value"], "SalePrices.Value")
                if price.get("Kind") not in (None, 0, 1, 2):
                    raise ApiError(400, f"Nieznany rodzaj ceny Kind {price.get('Kind')!r}")
                if price.get("Kind") == 1:  # a gross price: the demo's DETAL list is net
                    value = (value / (1 + rate / 100)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
                if base:
                    cur.execute("INSERT INTO HM.CP (idck, idpoz, bazapoz, kod, cena, waluta) VALUES (?, ?, 1, ?, ?, "
                                "'PLN')", base[0], pid, code, value)
        if self._has_features(cur):
            columns = {_feature_name(c[0]): c[0] for c in cur.execute(
                "SELECT * FROM SSCommon.ProductClassification WHERE 0 = 1").description[1:]}
            values = {columns[d["Code"]]: d.get("Value") for d in body.get("Dimensions") or []
                      if isinstance(d, dict) and d.get("Code") in columns}
            if values:
                cur.execute(f"INSERT INTO SSCommon.ProductClassification (ElementId, {', '.join(values)}) VALUES "
                            f"(?{', ?' * len(values)})", pid, *values.values())
        return self.products(cur, [pid])[pid]

    @staticmethod
    def _has_features(cur: pyodbc.Cursor) -> bool:
        try:
            cur.execute("SELECT * FROM SSCommon.ProductClassification WHERE 0 = 1")
            return True
        except pyodbc.Error:
            return False

    def catalogs(self, cur: pyodbc.Cursor) -> list[dict[str, Any]]:
        """GET Products/Catalogs: the product catalogs (the demo's groups, HM.XT) as a tree: Id, ParentId (0 at
        the root), Name, FullPath (GUESS: the names joined by a backslash, root first)."""
        return [{"Id": gid, "ParentId": int(parent or 0), "Name": path[-1], "FullPath": "\\".join(path)}
                for gid, (path, parent) in sorted(self._catalog_paths(cur).items())]

    @staticmethod
    def _catalog_paths(cur: pyodbc.Cursor) -> dict[int, tuple[list[str], int | None]]:
        rows = {int(r[0]): (r[1], r[2]) for r in cur.execute("SELECT id, super, nazwa FROM HM.XT").fetchall()}
        out: dict[int, tuple[list[str], int | None]] = {}
        for gid, (parent, _) in rows.items():
            path, seen, at = [], set(), gid
            while at in rows and at not in seen:
                seen.add(at)
                path.append(rows[at][1])
                at = rows[at][0]
            out[gid] = (list(reversed(path)), parent)
        return out
