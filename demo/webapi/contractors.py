"""Contractors and their delivery addresses.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pyodbc

from .company import ApiError, _digits

log = logging.getLogger("shopsync.demo.webapi")


class SimContractors:
    """Contractors (by id, code, NIP), Contractors/Create, FilterSql, ContractorDeliveryAddresses."""

    _KH = "id, kod, nazwa, nip, ulica, dom, lokal, kodpocz, miejscowosc, email, tel1, aktywny, pesel, regon, grupacen"

    def _contractor_view(self, r: Any) -> dict[str, Any]:
        """A Contractor as the API shows it (the fields the demo company has; GUESS: the rest left out)."""
        nip = r[3] or ""
        return {"Id": int(r[0]), "Code": r[1], "Name": r[2], "NIP": nip, "Active": bool(r[11]),
                "Pesel": r[12] or "", "Regon": r[13] or "", "Type": 0 if nip else 2,
                "Contact": {"Email": r[9] or "", "Phone1": r[10] or ""},
                # GUESS (demo data): every demo card's own payment form is Przelew (transfer)
                "PaymentForm": {"Id": 3, "Client": 1},
                "DefaultAddress": {"Street": r[4], "HouseNo": r[5], "ApartmentNo": r[6], "PostCode": r[7],
                                   "City": r[8], "Country": "PL", "Province": ""},
                # GUESS: the demo's price group (grupacen) is the contractor's kind (rodzaj) in the API
                "Kind": {"Id": int(r[14]), "Code": f"GRUPA{int(r[14])}", "Active": True} if r[14] is not None
                else {"Id": None, "Code": "", "Active": True}}

    def contractor(self, cur: pyodbc.Cursor, query: dict[str, str]) -> Any:
        """GET Contractors: id / code -> one Contractor (404 when none, as the reference declares); nip / pesel
        -> a list. GUESS: the NIP is matched without separators and a PL prefix."""
        for key, column in (("id", "id"), ("code", "kod")):
            if query.get(key):
                row = cur.execute(f"SELECT {self._KH} FROM HM.KH WHERE {column} = ?", query[key]).fetchone()
                if row is None:
                    raise ApiError(404, f"Nie znaleziono kontrahenta {query[key]!r}")
                return self._contractor_view(row)
        if query.get("nip"):
            want = _digits(query["nip"])
            return [self._contractor_view(r) for r in cur.execute(
                f"SELECT {self._KH} FROM HM.KH WHERE nip IS NOT NULL ORDER BY id").fetchall() if _digits(r[3]) == want]
        if query.get("pesel"):
            return [self._contractor_view(r) for r in cur.execute(
                f"SELECT {self._KH} FROM HM.KH WHERE pesel = ? ORDER BY id", query["pesel"]).fetchall()]
        raise ApiError(400, "Podaj id, code, nip lub pesel")

    @staticmethod
    def _new_card(cur: pyodbc.Cursor, body: Any, table: str, what: str, model: str) -> tuple[str, str]:
        """A new card's Code and Name, checked (GUESS: both required, a Code in use refused, 400)."""
        if not isinstance(body, dict):
            raise ApiError(400, f"Brak danych ({model})")
        code, name = str(body.get("Code") or "").strip(), str(body.get("Name") or "").strip()
        if not code:
            raise ApiError(400, "Pole Code jest wymagane")
        if not name:
            raise ApiError(400, "Pole Name jest wymagane")
        if len(code) > 40:
            raise ApiError(400, f"Kod {code!r} jest za długi (najwyżej 40 znaków)")
        if cur.execute(f"SELECT id FROM {table} WHERE kod = ?", code).fetchone():
            raise ApiError(400, f"Kod {code!r} ({what}) już istnieje")
        return code, name

    def create_contractor(self, cur: pyodbc.Cursor, body: Any) -> dict[str, Any]:
        """POST Contractors/Create: a new contractor with its default address and contact, and the delivery
        addresses it carries. GUESS: Code and Name are required and a Code in use is refused (400)."""
        code, name = self._new_card(cur, body, "HM.KH", "kontrahent", "Contractor")
        address = body.get("DefaultAddress") if isinstance(body.get("DefaultAddress"), dict) else {}
        contact = body.get("Contact") if isinstance(body.get("Contact"), dict) else {}
        kid = int(self.dialect.insert(cur, "HM.KH", {
            "kod": code, "nazwa": name[:150], "nip": (body.get("NIP") or "")[:20], "pesel": body.get("Pesel") or None,
            "ulica": (address.get("Street") or "")[:60], "dom": (address.get("HouseNo") or "")[:10],
            "lokal": (address.get("ApartmentNo") or "")[:10], "kodpocz": (address.get("PostCode") or "")[:10],
            "miejscowosc": (address.get("City") or "")[:60], "email": (contact.get("Email") or "")[:100],
            "tel1": (contact.get("Phone1") or "")[:30], "znacznik": int(body.get("Marker") or 0),
            "aktywny": 0 if body.get("Active") is False else 1,
            "modifiedDate": dt.datetime.now().replace(microsecond=0)}))
        for a in body.get("DeliveryAddresses") or []:
            self._add_delivery_address(cur, kid, a)
        row = cur.execute(f"SELECT {self._KH} FROM HM.KH WHERE id = ?", kid).fetchone()
        return {**self._contractor_view(row), "DeliveryAddresses": self._delivery_addresses(cur, kid)}

    def _contractor_of(self, cur: pyodbc.Cursor, query: dict[str, str]) -> int:
        if query.get("contractorId"):
            row = cur.execute("SELECT id FROM HM.KH WHERE id = ?", query["contractorId"]).fetchone()
        elif query.get("contractorCode"):
            row = cur.execute("SELECT id FROM HM.KH WHERE kod = ?", query["contractorCode"]).fetchone()
        else:
            raise ApiError(400, "Podaj contractorId lub contractorCode")
        if row is None:
            raise ApiError(404, "Nie znaleziono kontrahenta")
        return int(row[0])

    def _delivery_addresses(self, cur: pyodbc.Cursor, kid: int) -> list[dict[str, Any]]:
        return [{"Id": int(r[0]), "Code": r[1] or "", "Street": r[2], "HouseNo": r[3], "ApartmentNo": r[4],
                 "PostCode": r[5], "City": r[6], "Country": r[7] or "PL", "Province": "",
                 "FullAddress": f"{r[2] or ''} {r[3] or ''}{'/' + r[4] if r[4] else ''}, {r[5] or ''} {r[6] or ''}"}
                for r in cur.execute("SELECT id, nazwaAdr, ulica, dom, lokal, kodpocz, miejscowosc, idKraju "
                                     "FROM HM.AD WHERE idkh = ? ORDER BY id", kid).fetchall()]

    def _add_delivery_address(self, cur: pyodbc.Cursor, kid: int, a: Any) -> None:
        if not isinstance(a, dict) or not str(a.get("Code") or "").strip():
            raise ApiError(400, "Adres dostawy: pole Code jest wymagane")
        code = str(a["Code"]).strip()
        if len(code) > 40:
            raise ApiError(400, f"Adres dostawy: kod {code!r} jest za długi (najwyżej 40 znaków)")
        if cur.execute("SELECT id FROM HM.AD WHERE idkh = ? AND nazwaAdr = ?", kid, code).fetchone():
            raise ApiError(400, f"Kontrahent ma już adres dostawy {code!r}")
        self.dialect.insert(cur, "HM.AD", {
            "idkh": kid, "nazwaAdr": code, "nazwa": None, "ulica": (a.get("Street") or "")[:60],
            "dom": (a.get("HouseNo") or "")[:10], "lokal": (a.get("ApartmentNo") or "")[:10],
            "kodpocz": (a.get("PostCode") or "")[:10], "miejscowosc": (a.get("City") or "")[:60],
            "idKraju": (a.get("Country") or "PL")[:3]})

    def delivery_addresses(self, cur: pyodbc.Cursor, query: dict[str, str]) -> list[dict[str, Any]]:
        return self._delivery_addresses(cur, self._contractor_of(cur, query))

    def create_delivery_address(self, cur: pyodbc.Cursor, query: dict[str, str], body: Any) -> list[dict[str, Any]]:
        """POST ContractorDeliveryAddresses/Create: the contractor's addresses after adding this one."""
        kid = self._contractor_of(cur, query)
        self._add_delivery_address(cur, kid, body)
        cur.execute("UPDATE HM.KH SET modifiedDate = ? WHERE id = ?", dt.datetime.now().replace(microsecond=0), kid)
        return self._delivery_addresses(cur, kid)

    def contractors_filter(self, cur: pyodbc.Cursor, body: Any) -> list[dict[str, Any]]:
        """PATCH Contractors/FilterSql (ContractorCriteriaFilter): ContractorListElement[]."""
        where, args = self._criteria(body, {"Code": "kod", "Name": "nazwa", "NIP": "nip", "City": "miejscowosc",
                                            "Marker": "znacznik", "Active": "aktywny", "KindId": "grupacen"})
        rows = cur.execute(f"SELECT id, kod, nazwa, nip, pesel, aktywny, miejscowosc, kodpocz FROM HM.KH "
                           f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY id", *args).fetchall()
        return [{"Id": int(r[0]), "Code": r[1], "Name": r[2], "Type": 0 if r[3] else 2, "NIP": r[3], "Pesel": r[4] or "",
                 "Active": bool(r[5]), "PriceType": None, "PriceKind": None, "PaymentFormOid": 0,
                 "PaymentRegistryOid": 0, "Place": r[6] or "", "PostCode": r[7]} for r in rows]
