"""Price lists alone (price_lists.py): what a list's change touches, and the contractors' lists delivered to
the shop customers paired with them (own list first), against the demo ERP and a shop in memory."""

from __future__ import annotations

from decimal import Decimal

from shop_client.errors import ShopUnavailable
from shop_client.interface import ITEM_REJECTED, ItemResult
from shopsync.demo import data as demo_data
from shopsync.demo.erp import ErpSimulator
from shopsync.server.queue.pairings import Pairing, PairingStatus
from shopsync.server.sync import messages as msg
from shopsync.server.sync.outcome import DEAD, DONE, SHOP_DOWN
from shopsync.server.sync.price_lists import ContractorPricesExport, contractor_prices, price_list_changes

KS = demo_data.contractors()


def simulator(ctx) -> ErpSimulator:
    return ErpSimulator(ctx.erp.dialect.connect(ctx.erp.conn_str), ctx.erp.dialect)


def kid(ctx, index: int) -> int:
    return ctx.erp.find_contractors_by_nip(KS[index].nip10)[0].id


def test_a_first_look_touches_every_product_and_contractor_then_only_what_changed(ctx):
    sim = simulator(ctx)
    hurt = sim.price_list_id("HURT")
    products, contractors, binding = price_list_changes(ctx, hurt)
    assert products == set(ctx.erp.get_price_list(hurt).prices) and len(products) >= 5
    assert contractors == {kid(ctx, i) for i, k in enumerate(KS) if k.price_group == 1}
    ctx.bindings.save([binding])
    assert price_list_changes(ctx, hurt)[:2] == (set(), set()), "nothing changed since"
    pid = sorted(products)[0]
    sim.set_price(hurt, pid, Decimal("9.99"))
    assert price_list_changes(ctx, hurt)[:2] == ({pid}, set()), "one price: one product, no contractor"
    sim.close()


def test_a_contractors_own_list_comes_first(ctx):
    [prices] = contractor_prices(ctx, [kid(ctx, 2)])  # K0003: its own list; no group
    assert prices.lists == [f"IND-{KS[2].code}"]
    [group] = contractor_prices(ctx, [kid(ctx, 3)])  # K0004: price group 1 (HURT)
    assert group.lists == ["HURT"]


def test_lists_go_to_every_customer_paired_with_the_contractor(ctx):
    k = kid(ctx, 2)
    for cid in (11, 12):
        ctx.pairings.set(Pairing(cid, k, PairingStatus.PAIRED, "NIP", False, KS[2].nip10, f"{cid}@x", "A"))
    ctx.pairings.set(Pairing(13, k, PairingStatus.NEEDS_PERSON, "", False, "", "13@x", "B"))
    sent = []
    ctx.shop.set_customer_price_lists = lambda lists: sent.extend(lists) or [  # type: ignore[method-assign]
        ItemResult(key=str(c), shop_id=c)
        for c, _ in lists]
    outcomes = ContractorPricesExport().handle(ctx, [msg.ContractorPrices(k, ["IND-K0003"])])
    assert [o.state for o in outcomes] == [DONE]
    assert sorted(sent) == [(11, ["IND-K0003"]), (12, ["IND-K0003"])], "not the one still waiting for a person"


def test_nobody_paired_yet_is_done_and_a_shop_refusal_is_a_dead_letter(ctx):
    assert ContractorPricesExport().handle(ctx, [msg.ContractorPrices(kid(ctx, 5), ["HURT"])])[0].state == DONE
    k = kid(ctx, 3)
    ctx.pairings.set(Pairing(21, k, PairingStatus.PAIRED, "NIP", False, KS[3].nip10, "21@x", "C"))
    ctx.shop.fail_next = ShopUnavailable("down")
    assert ContractorPricesExport().handle(ctx, [msg.ContractorPrices(k, ["HURT"])])[0].state == SHOP_DOWN
    ctx.shop.item_kind["21"] = (ITEM_REJECTED, "no such meta")
    ctx.shop.set_customer_price_lists = lambda lists: [  # type: ignore[method-assign]
        ItemResult.failed("21", "refused", ITEM_REJECTED)]
    assert ContractorPricesExport().handle(ctx, [msg.ContractorPrices(k, ["HURT"])])[0].state == DEAD
