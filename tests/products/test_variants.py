"""Families of sizes and colours, over the real pieces (hook processes -> gRPC server -> outbox -> WooCommerce
adapter -> the local shop and a real WooCommerce, in both ERP modes): cards sharing a feature's value become one
variable product, each card a variation, both ways."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.conftest import ERP_STACKS, make_stack
from tests.helpers.stack import Stack, wait_until as _wait_until

def wait_until(condition, timeout: float = 60, **kw):
    """Waits of at least a minute: each step here is several hooks and shop calls, on a machine the whole suite
    shares (a real WooCommerce answers in seconds then)."""
    return _wait_until(condition, timeout=max(timeout, 60), **kw)


VARIANTS = {"variants_by": "feature:Rodzina", "variant_attributes": ["Rozmiar", "Kolor"]}
FAMILY = [(11, "S"), (12, "M"), (13, "L")]


@pytest.fixture(params=ERP_STACKS)
def stack(request, tmp_path):
    s = make_stack(request, tmp_path, products=30, orders={"poll_interval_seconds": 1})
    s.sections["products"] = dict(VARIANTS)  # (Stack's own `products` is the demo's size)
    s.write_config()
    s.start_server()
    s.register_webhooks()
    yield s
    s.close()


def family_of(stack: Stack, value: str, sizes=FAMILY) -> None:
    """A person groups cards into a family in Symfonia: Rodzina and Rozmiar features, and the marker."""
    for pid, size in sizes:
        stack.act(stack.sim.set_feature(pid, "Rodzina", value))
        stack.act(stack.sim.set_feature(pid, "Rozmiar", size))
        stack.act(stack.sim.set_marker(pid, True))


def variations(stack: Stack, value: str) -> dict[str, object]:
    parent = stack.shop_product(value)
    if parent is None:
        return {}
    return {v.sku: v for v in stack.woo.iter_variations(parent.id)}


def test_a_family_becomes_one_variable_product_that_follows_the_erp(stack):
    family_of(stack, "KOSZ-BASIC")
    codes = {pid: stack.erp.get_product(pid).code for pid, _ in FAMILY}
    lead = stack.erp.get_product(11)
    parent = wait_until(lambda: stack.shop_product("KOSZ-BASIC"), timeout=30, message="the variable product")
    wait_until(lambda: len(variations(stack, "KOSZ-BASIC")) == 3, timeout=30, message="three variations")
    parent = stack.shop_product("KOSZ-BASIC")
    assert parent.kind == "variable" and parent.published
    assert parent.category_path == lead.group_path and parent.description == lead.note
    assert dict(parent.attributes) == {"Rozmiar": ("S", "M", "L")}
    found = variations(stack, "KOSZ-BASIC")
    for pid, size in FAMILY:
        v = found[codes[pid]]
        p = stack.erp.get_product(pid)
        assert dict(v.attributes) == {"Rozmiar": size} and v.published
        assert v.price == p.base_price and v.stock == stack.erp.commercial_stock([pid])[pid]
    # stock and price of one variation follow its card
    stack.act(stack.sim.approve_pz(12, 7))
    want = stack.erp.commercial_stock([12])[12]
    wait_until(lambda: variations(stack, "KOSZ-BASIC")[codes[12]].stock == want, message="PZ on the variation")
    stack.act(stack.sim.set_price(stack.sim.price_list_id("DETAL"), 13, Decimal("77.50")))
    wait_until(lambda: variations(stack, "KOSZ-BASIC")[codes[13]].price == Decimal("77.50"),
               message="price of the variation")
    # a card losing the marker hides its variation, the family stays published
    stack.act(stack.sim.set_marker(13, False))
    wait_until(lambda: not variations(stack, "KOSZ-BASIC")[codes[13]].published, message="variation hidden")
    assert stack.shop_product("KOSZ-BASIC").published
    # a card moving to another family moves
    stack.act(stack.sim.set_feature(12, "Rodzina", "KOSZ-SLIM"))
    wait_until(lambda: codes[12] in variations(stack, "KOSZ-SLIM"), timeout=30, message="moved to KOSZ-SLIM")
    wait_until(lambda: codes[12] not in variations(stack, "KOSZ-BASIC"), message="gone from KOSZ-BASIC")
    wait_until(lambda: stack.shop_product("KOSZ-BASIC").attributes.get("Rozmiar") in (("S", "L"),),
               message="the family's options without M")
    # every card of the family losing the marker hides the variable product
    stack.act(stack.sim.set_marker(11, False))
    wait_until(lambda: not stack.shop_product("KOSZ-BASIC").published, message="family hidden")
    # a family whose every card moved away is hidden (no variations left to sell)
    stack.act(stack.sim.set_feature(12, "Rodzina", "KOSZ-BASIC"))
    wait_until(lambda: codes[12] in variations(stack, "KOSZ-BASIC"), timeout=30, message="moved back")
    wait_until(lambda: not stack.shop_product("KOSZ-SLIM").published, message="the emptied family hidden")


def test_an_order_of_a_variation_reaches_its_card_with_a_reservation(stack):
    family_of(stack, "KOSZ-BASIC")
    code = stack.erp.get_product(12).code
    wait_until(lambda: code in variations(stack, "KOSZ-BASIC"), timeout=30, message="the variation")
    before = stack.erp.commercial_stock([12])[12]
    number = stack.shop.place_order([(code, 2)], email="warianty@example.pl")
    zo = wait_until(lambda: stack.erp.find_order_by_shop_number(number), timeout=60, message="ERP order")
    lines = stack.erp.order_products(zo)
    assert list(lines) == [12], "the line is the card of the variation ordered"
    wait_until(lambda: stack.erp.commercial_stock([12])[12] == before - 2, message="reserved")
    wait_until(lambda: variations(stack, "KOSZ-BASIC")[code].stock == before - 2, message="stock back in the shop")
    # a variation whose SKU a person changed in the shop is still its card's: matched by the variation's id first
    v = variations(stack, "KOSZ-BASIC")[code]
    with stack.shop_api() as api:
        api.put(f"/products/{v.parent_id}/variations/{v.id}", json={"sku": "ZMIENIONY-W-SKLEPIE"}).raise_for_status()
    number = stack.shop.place_order([("ZMIENIONY-W-SKLEPIE", 1)], email="warianty@example.pl")
    zo = wait_until(lambda: stack.erp.find_order_by_shop_number(number), timeout=60, message="second ERP order")
    assert list(stack.erp.order_products(zo)) == [12]


def test_a_variable_product_of_the_shop_is_imported_as_a_family_of_cards(stack):
    from shopsync.v1 import sync_pb2, sync_pb2_grpc

    for name in ("Rodzina", "Rozmiar", "Kolor"):
        stack.sim.define_feature(name)  # defined in Symfonia (Towary, Cechy) before the import
    api = stack.shop_api()
    parent = api.post("/products", json={
        "name": "Bluza Polar", "type": "variable", "sku": "BLUZA-POLAR", "status": "publish",
        "description": "Ciepła bluza", "attributes": [{"name": "Rozmiar", "options": ["S", "M"], "visible": True,
                                                       "variation": True}]}).json()
    for size, price in (("S", "99.00"), ("M", "109.00")):
        api.post(f"/products/{parent['id']}/variations", json={
            "sku": f"BLUZA-POLAR-{size}", "regular_price": price, "manage_stock": True, "stock_quantity": 3,
            "attributes": [{"name": "Rozmiar", "option": size}]}).raise_for_status()
    with stack.channel() as ch:
        progress = list(sync_pb2_grpc.SyncServiceStub(ch).ImportCatalog(sync_pb2.ImportCatalogRequest(),
                                                                         timeout=120, metadata=stack.metadata))
    assert progress[-1].done and progress[-1].created == 2, [p.reason for m in progress for p in m.problems]
    ids = stack.erp.find_products_by_codes(["BLUZA-POLAR-S", "BLUZA-POLAR-M"])
    cards = stack.erp.get_products(list(ids.values()))
    s, m = cards[ids["BLUZA-POLAR-S"]], cards[ids["BLUZA-POLAR-M"]]
    assert {k: v for k, v in s.features.items() if k in ("Rodzina", "Rozmiar")} == {"Rodzina": "BLUZA-POLAR",
                                                                                   "Rozmiar": "S"}
    assert m.features.get("Rozmiar") == "M" and m.base_price == Decimal("109.00") and s.name == "Bluza Polar S"
    assert s.marked and m.marked
    # paired: the ERP's changes go to the same variations of the same variable product, nothing made twice
    before = {v.sku: v.id for v in stack.woo.iter_variations(parent["id"])}
    stack.act(stack.sim.approve_pz(ids["BLUZA-POLAR-S"], 5))
    want = stack.erp.commercial_stock([ids["BLUZA-POLAR-S"]])[ids["BLUZA-POLAR-S"]]
    wait_until(lambda: variations(stack, "BLUZA-POLAR")["BLUZA-POLAR-S"].stock == want, timeout=30,
               message="the imported variation follows its card")
    wait_until(stack.queues_empty, message="queues drained")
    assert {v.sku: v.id for v in stack.woo.iter_variations(parent["id"])} == before
    assert stack.shop_product("BLUZA-POLAR").id == parent["id"]
    assert [p.sku for p in stack.woo.iter_products().__next__().items].count("BLUZA-POLAR") == 1


def test_reconciliation_puts_back_what_a_person_changed_on_a_family_in_the_shop(stack):
    from shopsync.v1 import sync_pb2, sync_pb2_grpc

    family_of(stack, "KOSZ-BASIC")
    code = stack.erp.get_product(12).code
    wait_until(lambda: len(variations(stack, "KOSZ-BASIC")) == 3, timeout=30, message="three variations")
    wait_until(stack.queues_empty, message="queues drained")
    parent = stack.shop_product("KOSZ-BASIC")
    v = variations(stack, "KOSZ-BASIC")[code]
    with stack.shop_api() as api:  # a person edits the shop behind the sync's back
        api.put(f"/products/{parent.id}/variations/{v.id}", json={"stock_quantity": 999}).raise_for_status()
        api.put(f"/products/{parent.id}", json={"name": "Zmienione w sklepie", "attributes": [
            {"name": "Rozmiar", "options": ["S", "M"], "visible": True, "variation": True}]}).raise_for_status()
    with stack.channel() as ch:
        report = list(sync_pb2_grpc.SyncServiceStub(ch).RunReconciliation(sync_pb2.RunReconciliationRequest(),
                                                                           timeout=120, metadata=stack.metadata))[-1]
    assert report.done and report.checked >= 3
    want = stack.erp.commercial_stock([12])[12]
    wait_until(lambda: variations(stack, "KOSZ-BASIC")[code].stock == want, message="the variation's stock put back")
    wait_until(lambda: stack.shop_product("KOSZ-BASIC").name == parent.name, message="the family's name put back")
    wait_until(lambda: stack.shop_product("KOSZ-BASIC").attributes["Rozmiar"] == ("S", "M", "L"),
               message="the family's options put back")


def test_the_console_shows_a_variation_beside_its_card(tmp_path):

    from shopsync.server.web.console import hash_password
    from tests.platform.test_console import PASSWORD, login_session

    s = Stack(tmp_path, products=20, console={"password_hash": hash_password(PASSWORD)})
    s.sections["products"] = dict(VARIANTS)
    s.write_config()
    s.start_server()
    try:
        family_of(s, "KOSZ-BASIC")
        code = s.erp.get_product(12).code
        wait_until(lambda: code in variations(s, "KOSZ-BASIC"), timeout=30, message="the variation")
        wait_until(s.queues_empty, message="queues drained")
        http = login_session(s)
        page = http.get("/products/12").text
        rows = {m.group(1): m.group(0) for m in re.finditer(r'<tr data-field="(\w+)".*?</tr>', page, re.S)}
        assert rows["family"].count("KOSZ-BASIC · Rozmiar M") == 3, rows["family"]  # ERP, last sent, shop
        differs = [f for f, row in rows.items() if 'class="differs"' in row]
        assert differs == [], f"the variation shows as its card: {differs} {[rows[f] for f in differs]}"
        # a card given its family before its size is not sent, and the page says why
        s.act(s.sim.set_feature(15, "Rodzina", "KOSZ-BASIC"))
        s.act(s.sim.set_marker(15, True))
        wait_until(s.queues_empty, message="queues drained")
        assert "has none of the features Rozmiar, Kolor" in http.get("/products/15").text
        assert s.erp.get_product(15).code not in variations(s, "KOSZ-BASIC")
    finally:
        s.close()


@pytest.fixture
def oscar_stack(tmp_path):
    s = Stack(tmp_path, products=30, shop_kind="oscar")
    s.sections["products"] = dict(VARIANTS)
    s.write_config()
    s.start_server()
    yield s
    s.close()


def test_a_family_in_oscar_is_a_parent_with_children(oscar_stack):
    """django-oscar's form of a family: a parent product (never bought, no stock record) and a child per card with
    its attribute value, stock and price; an order of a child reaches its card."""
    stack = oscar_stack
    family_of(stack, "KOSZ-BASIC")
    codes = {pid: stack.erp.get_product(pid).code for pid, _ in FAMILY}
    wait_until(lambda: len(variations(stack, "KOSZ-BASIC")) == 3, timeout=60, message="three children")
    parent = stack.shop_product("KOSZ-BASIC")
    assert parent.kind == "variable" and parent.published
    assert parent.name == stack.erp.get_product(11).name, "the lead card's name (it holds no size to drop)"
    found = variations(stack, "KOSZ-BASIC")
    for pid, size in FAMILY:
        v = found[codes[pid]]
        assert v.kind == "variation" and v.parent_id == parent.id and dict(v.attributes) == {"Rozmiar": size}
        assert v.price == stack.erp.get_product(pid).base_price and v.stock == stack.erp.commercial_stock([pid])[pid]
    assert codes[12] not in {p.sku for page in stack.woo.iter_products() for p in page.items}, \
        "children are listed under their parent, not beside it"
    stack.act(stack.sim.approve_pz(12, 4))
    want = stack.erp.commercial_stock([12])[12]
    wait_until(lambda: variations(stack, "KOSZ-BASIC")[codes[12]].stock == want, timeout=60, message="child's stock")
    number = stack.shop.place_order([(codes[12], 1)], email="oscar-warianty@example.pl")
    zo = wait_until(lambda: stack.erp.find_order_by_shop_number(number), timeout=90, message="ERP order")
    assert list(stack.erp.order_products(zo)) == [12]


@pytest.mark.parametrize("toml, says", [
    ('variants_by = "Rodzina"\nvariant_attributes = ["Rozmiar"]', 'must be "feature:NAME" or "dimension:NAME"'),
    ('variants_by = "feature:Rodzina"', "products.variant_attributes: name the features"),
    ('variants_by = "feature:Rod zina"\nvariant_attributes = ["Rozmiar"]', "letters, digits and _ only"),
    ('variants_by = "feature:Rodzina"\nvariant_attributes = ["Rodzina"]', "cannot also be an attribute"),
])
def test_family_settings_that_cannot_work_are_refused_naming_the_setting(tmp_path, toml, says):
    from shopsync.server.settings import SettingsError, load_settings

    cfg = tmp_path / "s.toml"
    cfg.write_text(f"[products]\n{toml}\n")
    with pytest.raises(SettingsError, match=re.escape(says)):
        load_settings(cfg, env={})
    cfg.write_text('[products]\nvariants_by = "dimension:Rodzina"\nvariant_attributes = ["Rozmiar", "Kolor"]\n')
    assert load_settings(cfg, env={}).products.family_feature == "Rodzina"


def test_a_steady_catch_up_asks_the_erp_nothing_about_families(stack):
    """A family's variable product is made of its cards as sent (their bindings) and the newer ones: the ERP is
    not asked for a family's cards, so a catch-up that finds nothing changed makes no call by a Dimension."""
    from shopsync.v1 import sync_pb2, sync_pb2_grpc

    family_of(stack, "KOSZ-BASIC")
    wait_until(lambda: len(variations(stack, "KOSZ-BASIC")) == 3, timeout=30, message="three variations")
    wait_until(stack.queues_empty, message="queues drained")

    def catch_up() -> int:
        with stack.channel() as ch:
            return list(sync_pb2_grpc.SyncServiceStub(ch).RunCatchUp(sync_pb2.RunCatchUpRequest(), timeout=120,
                                                                     metadata=stack.metadata))[-1].products_queued

    catch_up()  # the demo's other products sold online, never sent by a hook
    wait_until(stack.queues_empty, timeout=30, message="queues drained")
    asked = stack.webapi.calls("PATCH /Products/Filter") if stack.webapi else 0
    assert catch_up() == 0, "nothing changed: nothing queued"
    if stack.webapi:
        assert stack.webapi.calls("PATCH /Products/Filter") == asked
    stack.act(stack.sim.set_feature(14, "Rodzina", "KOSZ-BASIC"))  # a card joins
    stack.act(stack.sim.set_feature(14, "Rozmiar", "XL"))
    stack.act(stack.sim.set_marker(14, True))
    wait_until(lambda: len(variations(stack, "KOSZ-BASIC")) == 4, timeout=30, message="the fourth size")
    wait_until(lambda: stack.shop_product("KOSZ-BASIC").attributes["Rozmiar"] == ("S", "M", "L", "XL"),
               message="the new size among the options")
    if stack.webapi:
        assert stack.webapi.calls("PATCH /Products/Filter") == asked
