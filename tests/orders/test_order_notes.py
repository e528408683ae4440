"""The notes a customer reads on a shop order never show a blank where the ERP's number would be."""

from __future__ import annotations

from shopsync.server.erp.records import ORDER_CANCELLED, ORDER_REALISED
from shopsync.server.sync.orders import _notes


def test_an_unnumbered_order_gets_notes_without_a_blank():
    notes = _notes({"state": ORDER_REALISED, "code": "", "invoices": ["FV 1/sFV/2026"], "documents": ["WZ 3/2026"]})
    texts = [text for _, text, _ in notes]
    assert texts == ["Wystawiono fakturę FV 1/sFV/2026 do zamówienia.", "Wydanie z magazynu WZ 3/2026."]
    assert all("()" not in t and "ERP: )" not in t and "  " not in t for t in texts)
    cancelled = [text for _, text, _ in _notes({"state": ORDER_CANCELLED, "code": "", "invoices": [],
                                                "documents": []})]
    assert cancelled == ["Zamówienie anulowano w ERP."]


def test_a_numbered_order_is_named():
    notes = _notes({"state": ORDER_REALISED, "code": "ZMO 7/sklep/2026", "invoices": ["FV 2/sFV/2026"],
                    "documents": []})
    assert notes[0][1] == "Wystawiono fakturę FV 2/sFV/2026 do zamówienia (ERP: ZMO 7/sklep/2026)." and notes[0][2]
