"""outcome_of: the one function that turns an error into what happens to a message."""

from __future__ import annotations

import pytest
from shopsync.server.erp.errors import ErpConfigError, ErpNotFound, ErpPermanent, ErpRetryable
from shopsync.server.reasons import Reason
from shopsync.server.sync.exchange_rates import RateSourceDown
from shopsync.server.sync.outcome import (
    CONFIG_ERROR,
    DEAD,
    ERP,
    RETRY,
    SHOP,
    SHOP_DOWN,
    WAITING,
    MustWait,
    Rejected,
    SettingMissing,
    outcome_of,
    outcome_of_item,
)

from shop_client.errors import ShopAuthError, ShopConfigError, ShopError, ShopNotFound, ShopRejected, ShopTimeout
from shop_client.interface import ITEM_GONE, ITEM_REJECTED, ITEM_RETRYABLE, ItemResult


@pytest.mark.parametrize("error, state, side", [
    (ShopTimeout("no answer"), SHOP_DOWN, SHOP),
    (ShopAuthError("401"), CONFIG_ERROR, SHOP),
    (ShopConfigError("no API at shop.url"), CONFIG_ERROR, SHOP),
    (ShopNotFound("404"), DEAD, ""),
    (ShopRejected("400 bad sku"), DEAD, ""),
    (ShopError("odd answer"), RETRY, ""),
    (ErpConfigError("wrong key"), CONFIG_ERROR, ERP),
    (SettingMissing("set orders.shipping_code"), CONFIG_ERROR, ERP),
    (ErpRetryable("lock timeout"), RETRY, ""),
    (ErpPermanent("bad data"), DEAD, ""),
    (ErpNotFound("no such contractor"), DEAD, ""),
    (MustWait("pair by hand"), WAITING, ""),
    (Rejected("SKU not in the ERP"), DEAD, ""),
    (RateSourceDown("NBP down"), RETRY, ""),
    (KeyError("a bug"), RETRY, ""),
])
def test_each_error_kind_has_one_outcome(error, state, side):
    o = outcome_of(error, ("order", 5))
    assert (o.state, o.side) == (state, side)
    assert o.reason.startswith("order 5: ") and str(error).strip("'") in o.reason
    assert o.why is not None and o.why.text("pl").startswith("zamówienie 5: ")  # the same, for a Polish page


def test_the_syncs_own_verdicts_are_codes_rendered_in_each_language_naming_the_order_once():
    o = outcome_of(Rejected.of("order.unknown_sku", order="3", line=1, sku="KUB-9"))
    assert o.reason == ("order 3 line 1: SKU 'KUB-9' is not in the ERP (create or import the product, then retry "
                        "this dead letter)")
    stored = Reason.loads(o.why_json())
    assert stored.text("pl") == ("zamówienie 3 pozycja 1: SKU 'KUB-9' nie ma w ERP (utwórz albo zaimportuj towar, "
                                 "potem ponów ten błąd)")
    assert stored.text("en") == o.reason
    waiting = outcome_of(MustWait.of("customer.nip_ambiguous", nip="5260250995", order="4", codes="A, B"))
    assert Reason.loads(waiting.why_json()).text("pl").startswith("czeka: NIP 5260250995 zamówienia 4 pasuje")
    erp = outcome_of(ErpNotFound.of("erp.not_found", what="product id", id=7), ("product", "KUB-1"))
    assert erp.reason == "product KUB-1: ERP: product id 7 is not in the ERP"
    assert erp.why.text("pl") == "towar KUB-1: ERP: towar o id 7 nie ma w ERP"


def test_a_bug_is_retried_and_says_so_without_a_traceback_in_the_reason():
    o = outcome_of(ZeroDivisionError("division by zero"))
    assert o.state == RETRY and o.reason == "internal error: ZeroDivisionError: division by zero"


@pytest.mark.parametrize("kind, state", [(ITEM_REJECTED, DEAD), (ITEM_RETRYABLE, RETRY), (ITEM_GONE, DEAD)])
def test_a_batch_items_kind_goes_through_the_same_decision(kind, state):
    assert outcome_of_item(ItemResult.failed("SKU-1", "refused", kind), ("product", "SKU-1")).state == state
    assert outcome_of_item(ItemResult(key="SKU-1", shop_id=5), ("product", "SKU-1")).state == "done"

