"""Contractors through the WebAPI: read by id, code and NIP, searched, created once from a first order, and
their delivery addresses.
"""

from __future__ import annotations

import logging
from typing import Sequence

from ...nip import normalize_nip
from ..errors import ErpNotFound, ErpPermanent, ErpRetryable
from ..records import Contractor, ContractorDraft, OrderDraft
from .shapes import SQL_LIKE, _contractor, contractor_body, delivery_address_body

log = logging.getLogger(__name__)


class WebApiContractors:
    """Contractors through the WebAPI."""

    def get_contractor(self, contractor_id: int) -> Contractor:
        """`GET /api/Contractors?id=` (404: ErpNotFound)."""
        return _contractor(self.webapi.call("GET", "/Contractors", params={"id": int(contractor_id)}))

    def find_contractor_by_code(self, code: str) -> int | None:
        """`GET /api/Contractors?code=`: the id of the contractor with this code, or None."""
        try:
            return int(self.webapi.call("GET", "/Contractors", params={"code": code})["Id"])
        except ErpNotFound:
            return None

    def find_contractors_by_nip(self, nip10: str) -> list[Contractor]:
        """Active contractors with this NIP: `GET /api/Contractors?nip=` (a list), kept only where the NIP,
        however typed on the card, is the same ten digits. GUESS: the ERP finds a NIP typed with dashes or a PL
        prefix when asked for the digits (not stated; the simulator does)."""
        nip10 = normalize_nip(nip10)
        found = self.webapi.call("GET", "/Contractors", params={"nip": nip10}) or []
        if isinstance(found, dict):
            found = [found]
        return [_contractor(k) for k in found
                if normalize_nip(k.get("NIP")) == nip10 and k.get("Active", True) is not False]

    def search_contractors(self, text: str, limit: int = 20) -> list[Contractor]:
        """Active contractors whose code, name or NIP contains `text`, for a person pairing: `PATCH
        Contractors/FilterSql` with Like on each (GUESS: `%` wildcards as SQL's LIKE), then each read whole."""
        text = text.strip()
        if not text:
            return []
        pattern = f"%{text.replace('%', '_')}%"
        ids: dict[int, str] = {}
        fields = ["Code", "Name"] + (["NIP"] if any(ch.isdigit() for ch in text) else [])
        for field in fields:
            for k in self.webapi.call("PATCH", "/Contractors/FilterSql",
                                      body={field: {"Value": pattern, "Mode": SQL_LIKE}, "Active": True}) or []:
                ids.setdefault(int(k["Id"]), k.get("Name") or "")
        ordered = sorted(ids, key=lambda i: (ids[i], i))[:limit]
        found = [self.get_contractor(i) for i in ordered]
        # A NIP typed as a person reads it ("5260250995", "PL 526 025 09 95") matches the card however the NIP
        # was typed there ("526-025-09-95"): asked for by its ten digits (Contractors?nip=), first.
        nip = normalize_nip(text)
        if len(nip) == 10 and nip.isdigit():
            by_nip = sorted(self.find_contractors_by_nip(nip), key=lambda k: (k.name, k.id))
            found = by_nip + [k for k in found if k.id not in {b.id for b in by_nip}]
        return found[:limit]

    def contractors_in_groups(self, groups: Sequence[int]) -> list[int]:
        """Contractors of these price groups (the API's contractor kinds, GUESS): `PATCH Contractors/FilterSql`
        by KindId."""
        out: set[int] = set()
        for g in sorted({int(x) for x in groups}):
            out.update(int(k["Id"]) for k in self.webapi.call("PATCH", "/Contractors/FilterSql",
                                                               body={"KindId": g}) or [])
        return sorted(out)

    def create_contractor(self, draft: ContractorDraft) -> int:
        """`POST /api/Contractors/Create` with the default address and the contact; returns the new id.

        Idempotent by code (the sync makes it from the shop's customer or order): a contractor with the code
        is the one an earlier attempt created, and is returned as it is (ERP data win); a request that went
        unanswered is held, then found by its code, never sent twice blindly."""
        code = draft.code[: self.max_code_length]
        if not draft.name.strip():
            raise ErpPermanent("contractor name: must not be empty")
        existing = self.find_contractor_by_code(code)
        if existing is not None:
            return existing
        key, what = f"webapi.contractor.{code}", f"contractor {code}"
        self._refuse_if_held(key, what)
        answer, found = self._send_once(key, what, lambda: self.webapi.call(
            # syncFk (required): also hand the new contractor to Symfonia's finance module (FK). GUESS: false,
            # a shop's new customer is booked in FK when its first invoice is, as a person's new card is.
            "POST", "/Contractors/Create", params={"syncFk": "false"}, body=contractor_body(draft, code)),
            lambda: self.find_contractor_by_code(code))
        if found is not None:
            return found
        if not isinstance(answer, dict) or not answer.get("Id"):
            raise ErpRetryable(f"contractor {code}: the WebAPI answered Contractors/Create without an id")
        log.info("contractor %s created through the WebAPI (id %s)", code, answer["Id"])
        return int(answer["Id"])

    def delivery_address_for(self, order: OrderDraft) -> None:
        """The order's delivery address on its contractor, created once (`ContractorDeliveryAddresses`, found by
        its Code, which the order names in Recipient.DeliveryAddressCode)."""
        if order.delivery is None:
            return
        label = order.delivery.label[:40]
        params = {"contractorId": order.contractor_id}
        if any(a.get("Code") == label for a in self.webapi.call("GET", "/ContractorDeliveryAddresses",
                                                                  params=params) or []):
            return
        # Unanswered: the next attempt finds an address made meanwhile by its Code.
        self.webapi.call("POST", "/ContractorDeliveryAddresses/Create", params=params,
                         body=delivery_address_body(order.delivery, label))
        log.info("order %s: delivery address %r created through the WebAPI", order.shop_number, label)
