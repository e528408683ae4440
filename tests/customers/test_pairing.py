"""Customer pairing alone (customers.py): by normalised NIP, the statuses a person acts on, a person's
choice kept, the payer of an order, against the demo ERP's contractors and a shop in memory."""

from __future__ import annotations

from shop_client.interface import Address, ShopCustomer, ShopOrder
from shopsync.demo import data as demo_data
from shopsync.server.queue.bindings import Kind
from shopsync.server.queue.pairings import PairingStatus
from shopsync.server.sync import messages as msg
from shopsync.server.sync.customers import pair_all_customers, pair_by_hand, pair_customer, payer_for_order, unpair
from shopsync.server.sync.outcome import MustWait

import pytest

KS = demo_data.contractors()  # K0001 and K0002 share a NIP; the rest are unique


def customer(cid: int, nip: str, email: str = "") -> ShopCustomer:
    return ShopCustomer(id=cid, email=email or f"c{cid}@example.pl", first_name="Jan", last_name="Nowak",
                        billing=Address(), tax_id=nip)


def queued(ctx, kind: type) -> list:
    return [m for m in (msg.decode(r) for r in ctx.store.claim("outbox", limit=100) +
                        ctx.store.claim("erp_events", limit=100)) if isinstance(m, kind)]


def test_a_nip_typed_any_way_pairs_with_its_one_contractor_and_the_shop_is_told(ctx):
    k = KS[4]
    p = pair_customer(ctx, customer(1, demo_data.typed_nip(k.nip10, 3)))
    assert p.status is PairingStatus.PAIRED and ctx.erp.get_contractor(p.erp_contractor_id).code == k.code
    [status] = queued(ctx, msg.CustomerStatus)
    assert status.status["status"] == "paired" and status.status["erp_contractor_code"] == k.code


def test_the_reasons_a_person_is_needed(ctx):
    shared = pair_customer(ctx, customer(1, KS[0].nip10))
    assert shared.status is PairingStatus.NEEDS_PERSON and shared.ambiguous
    assert "K0001" in shared.detail and "K0002" in shared.detail, "the candidates are named"
    assert pair_customer(ctx, customer(2, "")).status is PairingStatus.NO_NIP
    assert pair_customer(ctx, customer(3, "123-456-78-90")).status is PairingStatus.INVALID_NIP
    assert pair_customer(ctx, customer(4, "5260250274")).status is PairingStatus.NEEDS_PERSON  # no such firm


def test_a_persons_choice_stays_until_they_unpair(ctx):
    ctx.shop.customers[1] = {"customer": customer(1, KS[0].nip10)}
    chosen = ctx.erp.find_contractors_by_nip(KS[0].nip10)[1]
    assert pair_by_hand(ctx, 1, chosen.id).manual
    assert pair_customer(ctx, customer(1, KS[0].nip10)).erp_contractor_id == chosen.id, "the pass keeps it"
    assert unpair(ctx, 1).status is PairingStatus.NEEDS_PERSON
    assert ctx.pairings.get(1).erp_contractor_id is None


def test_the_pass_counts_and_skips_the_shops_staff(ctx):
    ctx.shop.customers = {i: {"customer": customer(i, KS[i + 3].nip10)} for i in (1, 2)}
    ctx.shop.customers[3] = {"customer": customer(3, "")}
    staff = customer(4, KS[9].nip10)
    ctx.shop.customers[4] = {"customer": ShopCustomer(**{**staff.__dict__, "staff": True})}
    assert pair_all_customers(ctx) == (3, 2, 1)
    assert ctx.pairings.get(4) is None


def test_pairing_with_a_contractor_sends_its_price_lists_through_the_fan_out(ctx):
    p = pair_customer(ctx, customer(1, KS[2].nip10))  # K0003 has an individual price list
    [event] = queued(ctx, msg.ErpEvent)
    assert (event.subject, event.erp_id) == (msg.CONTRACTOR, p.erp_contractor_id)


def order(cid: int, nip: str, email: str = "gosc@example.pl", number: str = "77") -> ShopOrder:
    b = Address(first_name="Ewa", last_name="Lis", address_1="Długa 5/3", city="Kraków", postcode="30-001",
                email=email)
    return ShopOrder(id=int(number), number=number, status="processing", currency="PLN", customer_id=cid,
                     billing=b, shipping=b, lines=(), tax_id=nip)


def test_the_payer_of_an_order(ctx):
    known = ctx.erp.find_contractors_by_nip(KS[6].nip10)[0]
    assert payer_for_order(ctx, order(0, KS[6].nip10)) == known.id, "a known contractor by NIP"
    new = payer_for_order(ctx, order(0, "", email="nowy@example.pl", number="78"))
    assert ctx.erp.get_contractor(new).code == "WWW-G78", "a guest's first order creates it"
    assert payer_for_order(ctx, order(0, "", email="NOWY@example.pl ", number="79")) == new, "then it is known"
    with pytest.raises(MustWait, match="several ERP contractors"):
        payer_for_order(ctx, order(0, KS[0].nip10, email="inny@example.pl", number="80"))
    assert ctx.bindings.get(Kind.GUEST, 0) is None


# -- a shop manager's choice made in the shop (the plugin's pairing box) ------------------------------
def last_status(ctx) -> dict:
    """The newest status queued for the shop (delivered: taken off the queue)."""
    claimed = ctx.store.claim("outbox", limit=100)
    ctx.store.ack(claimed)
    return [m for m in map(msg.decode, claimed) if isinstance(m, msg.CustomerStatus)][-1].status


def with_request(c: ShopCustomer, **request) -> ShopCustomer:
    return ShopCustomer(**{**c.__dict__, "pairing_request": {"by": "kierownik", **request}})


def test_the_candidates_go_to_the_shop_and_a_managers_choice_is_carried_out_once(ctx):
    shared = customer(1, KS[0].nip10)
    pair_customer(ctx, shared)
    waiting = last_status(ctx)
    assert waiting["status"] == "needs_person"
    assert {k["code"] for k in waiting["candidates"]} == {"K0001", "K0002"}
    chosen = next(k for k in waiting["candidates"] if k["code"] == "K0002")
    p = pair_customer(ctx, with_request(shared, id="r1", action="pair", contractor_id=chosen["id"]))
    assert p.paired and p.erp_contractor_id == chosen["id"] and p.manual
    done = last_status(ctx)
    assert done["status"] == "paired" and done["request_done"] == "r1" and "request_error" not in done
    again = pair_customer(ctx, with_request(shared, id="r1", action="pair", contractor_id=999))
    assert again.erp_contractor_id == chosen["id"], "a request is carried out once"


def test_a_choice_by_code_and_the_reasons_one_is_refused(ctx):
    c = customer(2, KS[5].nip10)  # unique NIP: paired automatically with K0006
    pair_customer(ctx, c)
    refused = pair_customer(ctx, with_request(c, id="a", action="pair", contractor_code="NIE-MA"))
    assert refused.erp_contractor_id == ctx.erp.find_contractors_by_nip(KS[5].nip10)[0].id
    assert "no active ERP contractor has the code 'NIE-MA'" in last_status(ctx)["request_error"]
    differs = pair_customer(ctx, with_request(c, id="b", action="pair", contractor_code="k0009"))
    assert "differs" in last_status(ctx)["request_error"] and differs.erp_contractor_id != \
        ctx.erp.find_contractors_by_nip(KS[8].nip10)[0].id
    confirmed = pair_customer(ctx, with_request(c, id="c", action="pair", contractor_code="K0009",
                                                confirm_nip_differs=True))
    assert confirmed.erp_contractor_id == ctx.erp.find_contractors_by_nip(KS[8].nip10)[0].id
    unpaired = pair_customer(ctx, with_request(c, id="d", action="unpair"))
    assert not unpaired.paired and last_status(ctx)["request_done"] == "d"
