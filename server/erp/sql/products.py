"""Products and their commercial stock in the company database (HM.TW, HM.SM, groups, the marker).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any, Sequence

import pyodbc

from ..errors import ErpNotFound, ErpPermanent
from ..records import Product, ProductDraft
from ..rounding import money
from .base import SqlBase
from .tables import NAME_MAX, _chunks, _like_contains, _now, vat_percent_of

log = logging.getLogger(__name__)


class SqlProducts(SqlBase):
    """Products over SQL."""

    # -- products ------------------------------------------------------------
    def _group_paths(self, cur: pyodbc.Cursor) -> dict[int, tuple[str, ...]]:
        rows = cur.execute("SELECT id, super, nazwa FROM HM.XT").fetchall()
        parent = {r[0]: r[1] for r in rows}
        name = {r[0]: r[2] for r in rows}
        paths: dict[int, tuple[str, ...]] = {}
        for gid in name:
            path, seen, cur_id = [], set(), gid
            while cur_id in name and cur_id not in seen:
                seen.add(cur_id)
                path.append(name[cur_id])
                cur_id = parent.get(cur_id)
            paths[gid] = tuple(reversed(path))
        return paths

    @staticmethod
    def _features(cur: Any, chunk: Sequence[int], marks: str) -> dict[int, dict[str, str]]:
        """Each card's features with a value, from SSCommon.ProductClassification (a CDim_<name>_Val column per
        feature the company defined; the columns as the table has them)."""
        rows = cur.execute(f"SELECT * FROM SSCommon.ProductClassification WHERE ElementId IN ({marks})",
                           list(chunk)).fetchall()
        names = [str(d[0]) for d in cur.description or ()]
        out: dict[int, dict[str, str]] = {}
        for r in rows:
            values = dict(zip(names, r))
            element = next((v for k, v in values.items() if k.lower() == "elementid"), None)
            if element is None:
                continue
            out[int(element)] = {k[5:-4]: str(v) for k, v in values.items()
                                 if k.startswith("CDim_") and k.endswith("_Val") and v not in (None, "")}
        return out

    def _marker_field(self) -> str:
        """The product's marker field in the products query (erp.marker)."""
        return "t.znacznik" if self.marker.native else f"c.{self.marker.column}"

    def _marker_join(self) -> str:
        return "" if self.marker.native else \
            "LEFT JOIN SSCommon.ProductClassification c ON c.ElementId = t.id "

    def get_products(self, ids: Sequence[int]) -> dict[int, Product]:
        """Products by id (missing ids are simply absent), with note, marker, group and base price."""
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        out: dict[int, Product] = {}
        with self.unit_of_work() as cur:
            paths = self._group_paths(cur)
            for chunk in _chunks(ids, 500):
                marks = self._in(chunk)
                rows = cur.execute(
                    "SELECT t.id, t.kod, t.nazwa, t.kodpaskowy, t.jm, t.vatsp, t.katalog, t.aktywny, "
                    f"t.modifiedDate, {self._marker_field()} FROM HM.TW t {self._marker_join()}"
                    f"WHERE t.id IN ({marks})", chunk).fetchall()
                notes = dict(cur.execute(
                    f"SELECT super, opis FROM HM.NT WHERE baza = ? AND super IN ({marks}) ORDER BY id",
                    [self.note_baza, *chunk]).fetchall())
                prices = dict(cur.execute(
                    "SELECT p.idpoz, p.cena FROM HM.CP p JOIN HM.CK k ON k.id = p.idck "
                    f"WHERE k.kod = ? AND p.idpoz IN ({marks})",
                    [self.base_price_list, *chunk]).fetchall())
                features = self._features(cur, chunk, marks)
                for r in rows:
                    pid = int(r[0])
                    out[pid] = Product(
                        id=pid, code=r[1] or "", name=r[2] or "", ean=r[3] or "", unit=r[4] or "",
                        vat=int(r[5] or 0), group_path=paths.get(r[6], ()) if r[6] is not None else (),
                        marked=self.marker.is_marked(r[9]), note=notes.get(pid) or "",
                        active=bool(r[7]), modified=str(r[8] or ""),
                        base_price=money(prices[pid]) if pid in prices else None,
                        features=features.get(pid, {}))
        return out

    def get_product(self, product_id: int) -> Product:
        found = self.get_products([product_id]).get(product_id)
        if found is None:
            raise ErpNotFound.of("erp.not_found", what="product id", id=product_id)
        return found

    def commercial_stock(self, ids: Sequence[int]) -> dict[int, Decimal]:
        """Commercial stock (stanHandl) summed over the configured warehouses; 0 when none."""
        ids = [int(i) for i in ids]
        out = {i: Decimal("0") for i in ids}
        with self.unit_of_work() as cur:
            for chunk in _chunks(ids, 500):
                rows = cur.execute(
                    f"SELECT idtw, SUM(stanHandl) FROM HM.SM WHERE idtw IN ({self._in(chunk)}) "
                    f"AND magazyn IN ({self._in(self.warehouses)}) GROUP BY idtw",
                    [*chunk, *self.warehouses]).fetchall()
                for pid, qty in rows:
                    out[int(pid)] = money(qty)
        return out

    def marked_product_ids(self, after_id: int = 0, limit: int = 1000) -> list[int]:
        """Ids of products carrying the marker, in id order, paged by `after_id`."""
        with self.unit_of_work() as cur:
            if self.marker.native:
                cur.execute("SELECT id FROM HM.TW WHERE znacznik = ? AND id > ? ORDER BY id", self.marker.number,
                            after_id)
            else:
                cur.execute(f"SELECT ElementId FROM SSCommon.ProductClassification WHERE {self.marker.column} = ? "
                            "AND ElementId > ? ORDER BY ElementId", self.marker.value, after_id)
            return [int(r[0]) for r in cur.fetchmany(limit)]

    def products_changed_since(self, since: str) -> list[int]:
        """Ids of products whose card changed after `since` (HM.TW.modifiedDate, as text)."""
        with self.unit_of_work() as cur:
            cur.execute("SELECT id FROM HM.TW WHERE modifiedDate > ? ORDER BY id", since)
            return [int(r[0]) for r in cur.fetchall()]

    def find_products_by_codes(self, codes: Sequence[str]) -> dict[str, int]:
        """Product code (HM.TW.kod) -> id, for the codes that exist."""
        out: dict[str, int] = {}
        with self.unit_of_work() as cur:
            for chunk in _chunks(list(codes), 500):
                for pid, code in cur.execute(f"SELECT id, kod FROM HM.TW WHERE kod IN ({self._in(chunk)})",
                                             chunk).fetchall():
                    out[code] = int(pid)
        return out

    def missing_catalogs(self, paths: Sequence[tuple[str, ...]]) -> list[tuple[str, ...]]:
        """None: over SQL the import makes the groups it needs (HM.XT)."""
        return []

    def products_by_codes(self, codes: Sequence[str]) -> dict[str, Product]:
        """The products with these codes, read whole."""
        ids = self.find_products_by_codes(codes)
        products = self.get_products(list(ids.values()))
        return {code: products[pid] for code, pid in ids.items() if pid in products}

    def _ensure_group(self, cur: pyodbc.Cursor, path: Sequence[str]) -> int | None:
        parent: int | None = None
        for name in path:
            name = name[:NAME_MAX]
            if parent is None:
                row = cur.execute("SELECT id FROM HM.XT WHERE super IS NULL AND nazwa = ?", name).fetchone()
            else:
                row = cur.execute("SELECT id FROM HM.XT WHERE super = ? AND nazwa = ?", parent, name).fetchone()
            if row:
                parent = int(row[0])
            else:
                parent = self._insert(cur, "HM.XT", {"super": parent, "kod": name[:20], "nazwa": name})
        return parent

    def create_products(self, drafts: Sequence[ProductDraft]) -> dict[str, int]:
        """Create products (initial import) in one transaction; existing codes are left alone.

        Returns code -> id for every draft (new or already there).
        """
        for d in drafts:
            if not d.code or len(d.code) > self.max_code_length:
                raise ErpPermanent(f"product code {d.code!r}: must be 1..{self.max_code_length} characters")
        out: dict[str, int] = {}
        now = _now()
        with self.unit_of_work() as cur:
            base = cur.execute("SELECT id FROM HM.CK WHERE kod = ?", self.base_price_list).fetchone()
            codes = [d.code for d in drafts]
            for chunk in _chunks(codes, 500):
                for pid, code in cur.execute(f"SELECT id, kod FROM HM.TW WHERE kod IN ({self._in(chunk)})",
                                             chunk).fetchall():
                    out[code] = int(pid)
            for d in drafts:
                if d.code in out:
                    continue
                group = self._ensure_group(cur, d.group_path) if d.group_path else None
                pid = self._insert(cur, "HM.TW", {
                    "kod": d.code, "nazwa": d.name[:NAME_MAX], "kodpaskowy": d.ean[:150], "jm": d.unit[:8],
                    "vatsp": vat_percent_of(d.vat), "katalog": group, "aktywny": 1, "modifiedDate": now,
                    "znacznik": self.marker.number if self.marker.native and d.marked else 0})
                out[d.code] = pid
                values = {f"CDim_{name}_Val": value for name, value in d.features.items()}
                if not self.marker.native:
                    values[self.marker.column] = self.marker.value if d.marked else ""
                if values:
                    missing = sorted(set(values) - self._feature_columns(cur))
                    if missing:
                        raise ErpPermanent(f"product {d.code}: the company has no feature "
                                           f"{missing[0][5:-4]!r}: define it in Symfonia (Towary, Cechy), then "
                                           "run the import again")
                    cur.execute(f"INSERT INTO SSCommon.ProductClassification (ElementId, {', '.join(values)}) "
                                f"VALUES (?{', ?' * len(values)})", pid, *values.values())
                for w in sorted({*self.warehouses, self.order_warehouse}):
                    cur.execute("INSERT INTO HM.SM (idtw, magazyn, stan, stanHandl) VALUES (?, ?, 0, 0)", pid, w)
                if d.price is not None and base:
                    cur.execute("INSERT INTO HM.CP (idck, idpoz, bazapoz, kod, cena, waluta) "
                                "VALUES (?, ?, 1, ?, ?, 'PLN')", base[0], pid, d.code, d.price)
                if d.note:
                    cur.execute("INSERT INTO HM.NT (super, baza, typ, subtyp, opis) VALUES (?, ?, 0, 0, ?)",
                                pid, self.note_baza, d.note)
        return out

    @staticmethod
    def _feature_columns(cur: Any) -> set[str]:
        """The features the company has defined: SSCommon.ProductClassification's CDim_<name>_Val columns."""
        return {str(c[0]) for c in cur.execute("SELECT * FROM SSCommon.ProductClassification WHERE 1 = 0")
                .description}

    def search_products(self, text: str, limit: int = 50) -> list[int]:
        """Ids of products whose code or name contains `text` (or whose id it is), in code order. LIKE as the
        database compares (SQL Server's usual *_CI_AS collations ignore case, Polish letters too)."""
        text = text.strip()
        if not text:
            return []
        with self.unit_of_work() as cur:
            by_id = [int(r[0]) for r in cur.execute("SELECT id FROM HM.TW WHERE id = ?", int(text)).fetchall()] \
                if text.isdigit() and len(text) < 10 else []
            # No ORDER BY: sorting in the database walks the code index row by row (seven times slower on
            # 100,000 products); the first matches are sorted here instead.
            cur.execute("SELECT id, kod FROM HM.TW WHERE kod LIKE ? OR nazwa LIKE ?", _like_contains(text),
                        _like_contains(text))
            found = [int(r[0]) for r in sorted(cur.fetchmany(limit * 10), key=lambda r: (r[1] or ""))]
        return (by_id + [i for i in found if i not in by_id])[:limit]

    def product_codes(self, ids: Sequence[int]) -> dict[int, tuple[str, str, int]]:
        """Product id -> (code, unit, VAT rate)."""
        out: dict[int, tuple[str, str, int]] = {}
        with self.unit_of_work() as cur:
            for chunk in _chunks(sorted(set(ids)), 500):
                for r in cur.execute(f"SELECT id, kod, jm, vatsp FROM HM.TW WHERE id IN ({self._in(chunk)})", chunk):
                    out[int(r[0])] = (r[1], r[2] or "szt.", int(r[3] or 0))
        return out
