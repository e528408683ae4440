"""The companion WordPress plugin (wp-plugin/) on a real WooCommerce 7.9.0, fed by the real sync.

The plugin is installed from the zip `make wp-plugin` builds and activated through WordPress's plugins
API. Shoppers act as shoppers do: log in through wp-login.php, open the product page, and buy through
WooCommerce's own Store API checkout; a headless Chromium (Debian's, with its driver) fills the classic
checkout form and opens the admin's Users screen.
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from shopsync.demo import data as demo_data

from tests.helpers.stack import Stack, wait_until
from tests.helpers.browser import chrome
from tests.helpers.sync_steps import sync_products

pytestmark = pytest.mark.real_woocommerce
PRODUCT = 4  # on K0003's own list, on the group list HURT (even ids) and on the base list
PASSWORD = "Klient-haslo-2026!"
ADMIN_PASSWORD = "admin-password-123"  # tests/wordpress/install.php


@pytest.fixture
def plugin_stack(real_woocommerce, tmp_path):
    s = Stack(tmp_path, products=30, shop_kind="real_woocommerce", shop_process=real_woocommerce)
    with s.erp.unit_of_work() as cur:  # K0003 also in price group 1: its own list must still win
        cur.execute("UPDATE HM.KH SET grupacen = 1 WHERE kod = 'K0003'")
    s.start_server()
    activated = real_woocommerce.activate_companion_plugin()
    assert activated["status"] == "active" and activated["version"] == "0.1.0"
    with s.shop_api() as api:
        api.put("/payment_gateways/cod", json={"enabled": True}).raise_for_status()
    yield s
    s.close()


def customer(stack: Stack, email: str, nip: str) -> dict:
    with stack.shop_api() as api:
        r = api.post("/customers", json={
            "email": email, "password": PASSWORD, "first_name": "Anna", "last_name": "Kowalska",
            "billing": {"first_name": "Anna", "last_name": "Kowalska", "address_1": "Długa 5", "city": "Kraków",
                        "postcode": "30-001", "country": "PL", "email": email, "phone": "+48 600 100 200"},
            "meta_data": [{"key": "_billing_nip", "value": nip}] if nip else []})
        r.raise_for_status()
        return r.json()


def customer_meta(stack: Stack, cid: int, key: str):
    with stack.shop_api() as api:
        for m in api.get(f"/customers/{cid}").json()["meta_data"]:
            if m["key"] == key:
                return m["value"]
    return None


class Shopper:
    """A browser-less shopper: cookies, the login form, pages, and WooCommerce's Store API."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=60, follow_redirects=False)
        self.store_nonce = ""
        self.rest_nonce = ""

    def login(self, user: str, password: str) -> None:
        self.http.cookies.set("wordpress_test_cookie", "WP Cookie check")
        r = self.http.post("/wp-login.php", data={"log": user, "pwd": password, "wp-submit": "Log In",
                                                  "testcookie": "1", "redirect_to": self.url + "/"})
        assert r.status_code == 302 and any(c.startswith("wordpress_logged_in") for c in self.http.cookies), r.text
        self.rest_nonce = self.http.get("/wp-admin/admin-ajax.php", params={"action": "rest-nonce"}).text.strip()

    def page_price(self, path: str) -> Decimal:
        page = self.http.get(path, follow_redirects=True)
        page.raise_for_status()
        # The classic template's <p class="price">, or the product-price block of a block theme (Debian's
        # WordPress ships Twenty Twenty-Three): both render the product's price HTML.
        block = re.search(r'<p class="price">(.*?)</p>', page.text, re.S) or re.search(
            r'class="wc-block-components-product-price[^"]*"[^>]*>(.*?)</div>', page.text, re.S)
        assert block, f"no price on {path}"
        return _price(block.group(1))

    def _headers(self) -> dict[str, str]:
        h = {"Nonce": self.store_nonce} if self.store_nonce else {}
        if self.rest_nonce:
            h["X-WP-Nonce"] = self.rest_nonce
        return h

    def store(self, method: str, path: str, **kw) -> httpx.Response:
        r = self.http.request(method, f"/wp-json/wc/store/v1{path}", headers=self._headers(), **kw)
        self.store_nonce = r.headers.get("Nonce", self.store_nonce)
        return r

    def buy(self, product_id: int, quantity: int, email: str) -> dict:
        self.store("GET", "/cart").raise_for_status()
        self.store("POST", "/cart/add-item", json={"id": product_id, "quantity": quantity}).raise_for_status()
        address = {"first_name": "Anna", "last_name": "Kowalska", "address_1": "Długa 5", "city": "Kraków",
                   "postcode": "30-001", "country": "PL", "email": email, "phone": "+48 600 100 200"}
        r = self.store("POST", "/checkout", json={"billing_address": address, "shipping_address": {
            k: v for k, v in address.items() if k not in ("email",)}, "payment_method": "cod"})
        assert r.status_code == 200, r.text
        return r.json()

    def close(self) -> None:
        self.http.close()


def _price(fragment: str) -> Decimal:
    """WooCommerce's price HTML (PLN, 1,234.56) -> Decimal."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", fragment))
    amount = re.search(r"\d[\d,]*\.\d{2}", text)
    assert amount, text
    return Decimal(amount.group(0).replace(",", ""))


def test_each_customer_sees_and_pays_their_erp_price(plugin_stack):
    stack = plugin_stack
    k3, k4 = demo_data.contractors()[2], demo_data.contractors()[3]
    assert (k3.code, k4.code, k4.price_group) == ("K0003", "K0004", 1)
    [code] = sync_products(stack, [PRODUCT])
    lists = stack.erp.prices_for_products([PRODUCT])[PRODUCT]
    base = stack.erp.get_product(PRODUCT).base_price
    own, group = lists["IND-K0003"], lists["HURT"]
    assert len({own, group, base}) == 3, "three different prices, or the test cannot tell them apart"
    own_customer = customer(stack, "wlasny@example.pl", k3.nip_typed)
    group_customer = customer(stack, "grupa@example.pl", k4.nip_typed)
    for c, expected in ((own_customer, ["IND-K0003", "HURT"]), (group_customer, ["HURT"])):
        wait_until(lambda c=c, e=expected: customer_meta(stack, c["id"], "_shopsync_price_lists") == e, timeout=60,
                   message=f"price lists of {c['email']} in the shop")
    product = stack.shop_product(code)
    with stack.shop_api() as api:
        permalink = api.get(f"/products/{product.id}").json()["permalink"]
    path = "/" + permalink.split("/", 3)[3]
    for email, expected in (("wlasny@example.pl", own), ("grupa@example.pl", group), (None, base)):
        shopper = Shopper(stack.shop.url)
        try:
            if email:
                shopper.login(email, PASSWORD)
            assert shopper.page_price(path) == expected, f"{email or 'guest'} sees the wrong price"
            placed = shopper.buy(product.id, 2, email or "gosc@example.pl")
        finally:
            shopper.close()
        with stack.shop_api() as api:
            order = api.get(f"/orders/{placed['order_id']}").json()
        assert Decimal(order["line_items"][0]["total"]) == expected * 2, (email, order["line_items"][0])
        assert Decimal(order["total"]) == expected * 2


def test_erp_prices_add_no_query_per_product_on_a_catalog_page(plugin_stack):
    """A customer with price lists costs a few queries more than a guest (their lists, their session), the same
    with 3 products on the catalog page as with 16: the product meta is loaded with the products."""
    stack = plugin_stack
    k3 = demo_data.contractors()[2]
    marked = [pid for pid, p in stack.erp.get_products(range(1, 31)).items() if p.marked]
    c = customer(stack, "katalog@example.pl", k3.nip_typed)
    wait_until(lambda: customer_meta(stack, c["id"], "_shopsync_price_lists"), timeout=60, message="lists")

    def queries(shopper: Shopper, expected_prices: int) -> int:
        page = shopper.http.get("/", params={"post_type": "product"}, follow_redirects=True)
        page.raise_for_status()
        shown = len(re.findall(r'class="wc-block-components-product-price|<span class="price">', page.text))
        assert shown == expected_prices, f"the catalog shows {shown} prices, not {expected_prices}"
        return int(re.search(r"shopsync-queries: (\d+)", page.text).group(1))

    guest, buyer = Shopper(stack.shop.url), Shopper(stack.shop.url)
    try:
        buyer.login("katalog@example.pl", PASSWORD)
        extra = []
        for count in (3, 16):  # the block theme's catalog shows 16 a page
            sync_products(stack, marked[:count])
            for shopper in (guest, buyer):  # warm: sessions and caches made on the first visit
                queries(shopper, count)
            extra.append(queries(buyer, count) - queries(guest, count))
    finally:
        guest.close()
        buyer.close()
    assert extra[1] - extra[0] <= 2, f"extra queries for the customer: {extra[0]} with 3 products, {extra[1]} with 16"


def test_a_price_sent_by_the_browser_is_ignored(plugin_stack):
    stack = plugin_stack
    [code] = sync_products(stack, [PRODUCT])
    base = stack.erp.get_product(PRODUCT).base_price
    product = stack.shop_product(code)
    shopper = Shopper(stack.shop.url)
    try:
        shopper.store("GET", "/cart").raise_for_status()
        shopper.store("POST", "/cart/add-item", json={"id": product.id, "quantity": 1, "price": "0.01",
                                                      "prices": {"price": "1"}})
        cart = shopper.store("GET", "/cart").json()
    finally:
        shopper.close()
    assert Decimal(cart["totals"]["total_price"]) / 10 ** cart["totals"]["currency_minor_unit"] == base


def _chrome(tmp_path: Path):
    return chrome(tmp_path)


def _login(driver, url: str, user: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(url + "/wp-login.php")
    # wp-login.php focuses and selects the user field 200 ms after loading: keys typed meanwhile can land in
    # the wrong field, so the form is filled without focus, then checked
    driver.execute_script("document.getElementById('user_login').value = arguments[0];"
                          "document.getElementById('user_pass').value = arguments[1];", user, password)
    assert driver.find_element(By.ID, "user_login").get_attribute("value") == user
    driver.find_element(By.ID, "wp-submit").click()
    wait_until(lambda: "wp-login.php" not in driver.current_url, timeout=30, message=f"{user} logged in")


def test_in_a_real_browser_prices_nip_at_checkout_and_the_pairing_column(plugin_stack, tmp_path):
    from selenium.webdriver.common.by import By

    stack = plugin_stack
    k3 = demo_data.contractors()[2]
    [code] = sync_products(stack, [PRODUCT])
    own = stack.erp.prices_for_products([PRODUCT])[PRODUCT]["IND-K0003"]
    buyer = customer(stack, "przegladarka@example.pl", k3.nip_typed)
    wait_until(lambda: customer_meta(stack, buyer["id"], "_shopsync_price_lists"), timeout=60,
               message="the customer's price lists in the shop")
    product = stack.shop_product(code)
    url = stack.shop.url
    shots = tmp_path / "screenshots"
    shots.mkdir()
    driver = _chrome(tmp_path)
    try:
        _login(driver, url, "przegladarka@example.pl", PASSWORD)
        with stack.shop_api() as api:
            driver.get(api.get(f"/products/{product.id}").json()["permalink"])
        shown = _price(driver.find_element(By.CSS_SELECTOR, "p.price, .wc-block-components-product-price")
                       .get_attribute("innerHTML"))
        driver.save_screenshot(str(shots / "product-page.png"))
        assert shown == own, "the product page shows the customer's own ERP price"
        driver.get(f"{url}/?add-to-cart={product.id}")
        driver.get(f"{url}/checkout/")

        def fill(field: str, value: str) -> None:
            el = wait_until(lambda: driver.find_element(By.ID, field), timeout=30, message=field)
            el.clear()
            el.send_keys(value)

        for field, value in (("billing_first_name", "Anna"), ("billing_last_name", "Kowalska"),
                             ("billing_address_1", "Długa 5"), ("billing_city", "Kraków"),
                             ("billing_postcode", "30-001"), ("billing_phone", "600100200")):
            fill(field, value)
        fill("billing_nip", "123-456-78-90")  # checksum wrong

        def place() -> None:
            from selenium.common.exceptions import StaleElementReferenceException

            def clicked() -> bool:
                # WooCommerce re-renders the order review (and its button) after each checkout update: the
                # button is found after the update settles, and found again if it was replaced meanwhile
                if driver.find_elements(By.CSS_SELECTOR, ".blockUI"):
                    return False
                try:
                    driver.execute_script("arguments[0].click();", driver.find_element(By.ID, "place_order"))
                except StaleElementReferenceException:
                    return False
                return True
            wait_until(clicked, timeout=30, message="the order button clicked once the checkout is ready")

        place()
        error = wait_until(lambda: driver.find_element(By.CSS_SELECTOR, ".woocommerce-error").text, timeout=30,
                           message="the checkout refuses the NIP")
        driver.save_screenshot(str(shots / "checkout-invalid-nip.png"))
        assert "NIP" in error and "not valid" in error, error
        fill("billing_nip", "PL " + k3.nip10[:3] + "-" + k3.nip10[3:6] + "-" + k3.nip10[6:8] + "-" + k3.nip10[8:])
        driver.execute_script("arguments[0].click();", driver.find_element(By.ID, "billing_want_invoice"))
        place()
        wait_until(lambda: "order-received" in driver.current_url, timeout=60, message="order placed")
        driver.save_screenshot(str(shots / "order-received.png"))
        order_id = int(re.search(r"order-received/(\d+)", driver.current_url).group(1))
        with stack.shop_api() as api:
            order = api.get(f"/orders/{order_id}").json()
        meta = {m["key"]: m["value"] for m in order["meta_data"]}
        assert meta.get("_billing_nip") == k3.nip10, "stored, normalised, under the key the sync reads"
        assert meta.get("_billing_want_invoice") == "yes", "the buyer asked for an invoice (orders.document by_buyer)"
        assert Decimal(order["line_items"][0]["total"]) == own
        assert customer_meta(stack, buyer["id"], "_billing_nip") == k3.nip10
        # The customer sees in My Account that their company account is recognised.
        wait_until(lambda: (customer_meta(stack, buyer["id"], "_shopsync_pairing") or {}).get("status") == "paired",
                   timeout=60, message="paired")
        driver.get(f"{url}/my-account/")
        notice = driver.find_element(By.CSS_SELECTOR, ".shopsync-account-status").text
        assert "company account is recognised" in notice, notice
        # The shop's admin sees the pairing on the Users screen and on the user's own screen.
        _login(driver, url, "admin", ADMIN_PASSWORD)
        driver.get(f"{url}/wp-admin/users.php")
        header = driver.find_element(By.ID, "shopsync_pairing").text
        row = driver.find_element(By.ID, f"user-{buyer['id']}").text
        driver.save_screenshot(str(shots / "admin-users.png"))
        assert header == "ERP pairing" and "Paired with contractor K0003" in row, row
        driver.get(f"{url}/wp-admin/user-edit.php?user_id={buyer['id']}")
        assert driver.find_element(By.ID, "shopsync-pairing").text == "Paired with contractor K0003"
        driver.get(f"{url}/wp-admin/admin.php?page=wc-settings&tab=advanced&section=shopsync")
        for option in ("shopsync_apply_prices", "shopsync_nip_field", "shopsync_nip_meta_key"):
            assert driver.find_element(By.ID, option), option
        assert driver.find_element(By.ID, "shopsync_nip_meta_key").get_attribute("value") == "_billing_nip"
        driver.save_screenshot(str(shots / "settings.png"))
        # ... and the ERP order on the order screen, once the sync has imported it.
        wait_until(lambda: stack.erp.find_order_by_shop_number(order["number"]), timeout=60, message="imported")

        def erp_box() -> str:
            driver.get(f"{url}/wp-admin/post.php?post={order_id}&action=edit")
            return driver.find_element(By.ID, "shopsync-erp-order-info").text

        box = wait_until(lambda: "ERP order:" in erp_box() and erp_box(), timeout=60, message="ERP order box")
        assert "in the ERP buffer" in box and "new" in box, box
    finally:
        driver.quit()
    assert all((shots / f).stat().st_size > 10_000 for f in ("product-page.png", "checkout-invalid-nip.png",
                                                               "admin-users.png"))


@pytest.mark.parametrize("prices_include_tax", ["yes", "no"])
def test_list_prices_are_taxed_as_the_shop_is_configured(plugin_stack, prices_include_tax):
    """The list price is the price as the shop enters prices: with tax it is what the customer pays, without it
    VAT is added at checkout, exactly as for the base price."""
    stack = plugin_stack
    k3 = demo_data.contractors()[2]
    with stack.shop_api() as api:
        api.put("/settings/general/woocommerce_calc_taxes", json={"value": "yes"}).raise_for_status()
        api.put("/settings/tax/woocommerce_prices_include_tax", json={"value": prices_include_tax}).raise_for_status()
        api.post("/taxes", json={"country": "PL", "rate": "23.0000", "name": "VAT", "shipping": True}
                 ).raise_for_status()
    [code] = sync_products(stack, [PRODUCT])
    own = stack.erp.prices_for_products([PRODUCT])[PRODUCT]["IND-K0003"]
    c = customer(stack, "vat-klient@example.pl", k3.nip_typed)
    wait_until(lambda: customer_meta(stack, c["id"], "_shopsync_price_lists"), timeout=60, message="lists")
    shopper = Shopper(stack.shop.url)
    try:
        shopper.login("vat-klient@example.pl", PASSWORD)
        placed = shopper.buy(stack.shop_product(code).id, 2, "vat-klient@example.pl")
    finally:
        shopper.close()
    with stack.shop_api() as api:
        order = api.get(f"/orders/{placed['order_id']}").json()
    line = order["line_items"][0]
    paid = Decimal(line["total"]) + Decimal(line["total_tax"])
    if prices_include_tax == "yes":
        assert paid == own * 2 and Decimal(line["total_tax"]) > 0, line
    else:
        assert Decimal(line["total"]) == own * 2 and paid == (own * 2 * Decimal("1.23")).quantize(Decimal("0.01"))


def test_a_shop_manager_pairs_a_customer_in_wordpress_and_a_customer_cannot(plugin_stack, tmp_path):
    """The candidates the sync found (two contractors share the NIP) in the user's box; a shop manager picks one;
    on the sync's next customer look the box and the Users column say paired, and the ERP pairing is the choice.
    An ordinary customer sees none of it and cannot call it."""
    from selenium.webdriver.common.by import By

    from shopsync.v1 import customers_pb2, customers_pb2_grpc

    stack = plugin_stack
    url = stack.shop.url
    shared = demo_data.contractors()[0].nip10  # K0001 and K0002
    with stack.erp.unit_of_work() as cur:  # every ERP string the plugin shows is shown as text
        cur.execute("UPDATE HM.KH SET nazwa = ? WHERE kod = 'K0001'", "<b>X</b> sp. z o.o.")
    buyer = customer(stack, "wspolny-nip@example.pl", shared)
    pairing = wait_until(lambda: (customer_meta(stack, buyer["id"], "_shopsync_pairing") or {}).get("candidates"),
                         timeout=60, message="the candidates in the shop")
    assert {k["code"] for k in pairing} == {"K0001", "K0002"}
    chosen = next(k for k in pairing if k["code"] == "K0002")
    with stack.shop.wp_api() as wp:
        wp.post("/users", json={"username": "kierownik", "email": "kierownik@example.pl", "password": PASSWORD,
                                "roles": ["shop_manager"]}).raise_for_status()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    driver = _chrome(tmp_path)
    try:
        _login(driver, url, "kierownik", PASSWORD)
        driver.get(f"{url}/wp-admin/user-edit.php?user_id={buyer['id']}")
        table = driver.find_element(By.ID, "shopsync-candidates")
        assert "K0001" in table.text and "K0002" in table.text, table.text
        assert "<b>X</b> sp. z o.o." in table.text and not table.find_elements(By.TAG_NAME, "b"), "shown as text"
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", table)
        driver.save_screenshot(str(shots / "pairing-candidates.png"))
        driver.find_element(By.ID, f"shopsync-candidate-{chosen['id']}").click()
        driver.find_element(By.ID, "submit").click()
        wait_until(lambda: driver.find_elements(By.ID, "shopsync-pairing-waiting") or "Paired" in
                   driver.find_element(By.ID, "shopsync-pairing").text, timeout=30, message="saved")

        def box() -> str:
            driver.get(f"{url}/wp-admin/user-edit.php?user_id={buyer['id']}")
            return driver.find_element(By.ID, "shopsync-pairing").text
        wait_until(lambda: box() == "Paired with contractor K0002", timeout=60, message="paired, in the box")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})",
                              driver.find_element(By.ID, "shopsync-pairing"))
        driver.save_screenshot(str(shots / "pairing-paired.png"))
        driver.get(f"{url}/wp-admin/users.php?shopsync_pairing=needs_person")
        assert f"user-{buyer['id']}" not in driver.page_source, "no longer waiting for a person"
        driver.get(f"{url}/wp-admin/users.php")
        assert "Paired with contractor K0002" in driver.find_element(By.ID, f"user-{buyer['id']}").text
        with stack.channel() as ch:
            listed = customers_pb2_grpc.CustomerServiceStub(ch).ListCustomers(
                customers_pb2.ListCustomersRequest(), metadata=stack.metadata).customers
        mine = next(c for c in listed if c.shop_customer_id == buyer["id"])
        assert mine.erp_contractor_id == chosen["id"] and mine.manual
        assert "by kierownik (in the shop)" in stack.log.read_text(), "logged with who chose"
        # an ordinary customer: no candidates, no box to change, no API to call
        _login(driver, url, "wspolny-nip@example.pl", PASSWORD)
        driver.get(f"{url}/wp-admin/user-edit.php?user_id={buyer['id']}")
        assert "K0001" not in driver.page_source and not driver.find_elements(By.ID, "shopsync-candidates")
    finally:
        driver.quit()
    other = httpx.get(f"{url}/wp-json/wc/v3/customers/{buyer['id']}", auth=("wspolny-nip@example.pl", PASSWORD))
    assert other.status_code in (401, 403)


@pytest.fixture
def webapi_plugin_stack(real_woocommerce, tmp_path):
    """The plugin on a real WooCommerce, orders written through the Symfonia WebAPI simulator."""
    s = Stack(tmp_path, products=10, shop_kind="real_woocommerce", shop_process=real_woocommerce, erp_writer="webapi")
    s.start_server()
    assert real_woocommerce.activate_companion_plugin()["status"] == "active"
    yield s
    s.close()


def test_the_customer_downloads_the_erp_invoice_and_nobody_else_can(webapi_plugin_stack):
    import hashlib

    stack = webapi_plugin_stack
    [code] = sync_products(stack, [1])
    owner = customer(stack, "faktura-klient@example.pl", "")
    customer(stack, "inny-klient@example.pl", "")
    with stack.shop_api() as api:
        placed = api.post("/orders", json={
            "status": "processing", "customer_id": owner["id"], "line_items": [{"sku": code, "quantity": 1}],
            "billing": {"email": "faktura-klient@example.pl", "first_name": "Anna", "last_name": "Kowalska"}})
        placed.raise_for_status()
    order = placed.json()
    zo = wait_until(lambda: stack.erp.find_order_by_shop_number(order["number"]), timeout=90, message="ERP order")
    stack.act(stack.sim.issue_invoice(zo))
    number = stack.erp.order_progress([zo])[zo].invoices[0]
    with stack.shop_api() as api:
        def printouts() -> list:
            meta = {m["key"]: m["value"] for m in api.get(f"/orders/{order['id']}").json()["meta_data"]}
            return meta.get("_shopsync_invoices") or []
        [entry] = wait_until(printouts, timeout=90, message="the printout on the shop order")
    shopper = Shopper(stack.shop.url)
    try:
        shopper.login("faktura-klient@example.pl", PASSWORD)
        page = shopper.http.get("/my-account/orders/", follow_redirects=True).text
        assert f"Download invoice {number}" in html.unescape(page), "the action in My Account > Orders"
        link = html.unescape(re.search(r'href="([^"]*shopsync_invoice=[^"]*)"', page).group(1))
        pdf = shopper.http.get(link)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF") and hashlib.sha1(pdf.content).hexdigest() == entry["sha1"]
        assert number.replace("/", "") in pdf.headers["content-disposition"].replace("/", "").replace("-", " ") or \
            "faktura" in pdf.headers["content-disposition"]
        other = Shopper(stack.shop.url)
        other.login("inny-klient@example.pl", PASSWORD)
        assert other.http.get(link).status_code == 403, "another customer"
        assert httpx.get(stack.shop.url + link.removeprefix(stack.shop.url)).status_code == 403, "a guest"
    finally:
        shopper.http.close()


MONEY = {"invoice": "paid", "document": "by_buyer", "payment_registries": {"bacs": "BANK", "cod": "KASA"}}


@pytest.fixture
def money_plugin_stack(real_woocommerce, tmp_path):
    """The plugin on a real WooCommerce, the sync issuing documents and recording payments through the WebAPI
    simulator (KSeF numbers an invoice a second after it is issued)."""
    s = Stack(tmp_path, products=10, shop_kind="real_woocommerce", shop_process=real_woocommerce, erp_writer="webapi",
              orders=MONEY)
    s.start_server()
    assert real_woocommerce.activate_companion_plugin()["status"] == "active"
    yield s
    s.close()


def erp_rows(stack: Stack, sql: str, *args) -> list[tuple]:
    with stack.erp.unit_of_work() as cur:
        return [tuple(r) for r in cur.execute(sql, *args).fetchall()]


def test_the_orders_money_on_a_real_woocommerce(money_plugin_stack):
    """A consumer paying by transfer gets a receipt and a recorded payment (WooCommerce sets date_paid when the
    order is marked paid); a company with a NIP an invoice whose KSeF number reaches My Account with the printout;
    a partial refund with restock becomes a correction of that invoice and the stock comes back; every step
    replayed (restarts, order updates) creates nothing twice."""
    stack = money_plugin_stack
    [code] = sync_products(stack, [1])
    consumer = customer(stack, "konsument@example.pl", "")
    firm = customer(stack, "firma-ksef@example.pl", "5260250274")
    with stack.shop_api() as api:
        transfer = api.post("/orders", json={
            "status": "on-hold", "payment_method": "bacs", "customer_id": consumer["id"],
            "line_items": [{"sku": code, "quantity": 1}],
            "billing": {"email": "konsument@example.pl", "first_name": "Jan", "last_name": "Nowak"}}).json()
        company = api.post("/orders", json={
            "status": "processing", "set_paid": True, "payment_method": "bacs", "customer_id": firm["id"],
            "line_items": [{"sku": code, "quantity": 2}], "meta_data": [{"key": "_billing_nip", "value": "5260250274"}],
            "billing": {"email": "firma-ksef@example.pl", "first_name": "Anna", "last_name": "Kowalska",
                        "company": "Kowalska sp. z o.o."}}).json()
    zo = wait_until(lambda: stack.erp.find_order_by_shop_number(transfer["number"]), timeout=90, message="ERP order")
    assert not api_paid(stack, transfer["id"]), "on hold: WooCommerce says not paid"
    with stack.shop_api() as api:  # the transfer arrived
        api.put(f"/orders/{transfer['id']}", json={"status": "processing"}).raise_for_status()
    assert api_paid(stack, transfer["id"]), "WooCommerce sets date_paid when the order is paid"
    receipts = wait_until(lambda: erp_rows(stack, "SELECT kod FROM HM.DK WHERE typ_dk = 'PA' AND kod_obcy = ?",
                                           transfer["number"]), timeout=120, message="the receipt")
    paid = wait_until(lambda: erp_rows(stack, "SELECT w.kod, w.kwota FROM HM.WPL w JOIN HM.DK dk ON dk.id = w.dk "
                                              "WHERE dk.kod_obcy = ?", transfer["number"]), timeout=60,
                      message="the transfer recorded")
    assert Decimal(str(paid[0][1])) == Decimal(transfer["total"])
    assert stack.erp.get_order(zo).reservations == []
    # the company's invoice, numbered by KSeF, in My Account with its printout
    zo2 = wait_until(lambda: stack.erp.find_order_by_shop_number(company["number"]), timeout=90, message="ERP order")
    invoice = wait_until(lambda: stack.erp.order_progress([zo2])[zo2].invoices, timeout=120, message="invoice")[0]
    with stack.shop_api() as api:
        def printouts() -> list:
            meta = {m["key"]: m["value"] for m in api.get(f"/orders/{company['id']}").json()["meta_data"]}
            return meta.get("_shopsync_invoices") or []
        [entry] = wait_until(printouts, timeout=120, message="the printout, once KSeF numbered it")
    assert entry["number"] == invoice and entry["ksef_number"]
    shopper = Shopper(stack.shop.url)
    try:
        shopper.login("firma-ksef@example.pl", PASSWORD)
        page = html.unescape(shopper.http.get(f"/my-account/view-order/{company['id']}/", follow_redirects=True).text)
        assert invoice in page and entry["ksef_number"] in page, "My Account shows the invoice's KSeF number"
    finally:
        shopper.http.close()
    # a partial refund, restocked: a correction of the invoice, the goods back in the ERP
    stock_before = erp_rows(stack, "SELECT SUM(stan) FROM HM.SM WHERE idtw = 1")[0][0]
    with stack.shop_api() as api:
        order = api.get(f"/orders/{company['id']}").json()
        line = order["line_items"][0]
        one, tax = Decimal(line["total"]) / 2, Decimal(line["total_tax"]) / 2
        refund = api.post(f"/orders/{company['id']}/refunds", json={
            "amount": f"{one + tax:.2f}", "reason": "zwrot", "api_refund": False, "api_restock": True,
            "line_items": [{"id": line["id"], "quantity": 1, "refund_total": f"{one:.2f}",
                            "refund_tax": [{"id": t["id"], "refund_total": f"{Decimal(t['total']) / 2:.2f}"}
                                           for t in line.get("taxes") or []]}]})
        assert refund.status_code == 201, refund.text
    corrections = wait_until(lambda: erp_rows(
        stack, "SELECT c.kod, c.netto + c.vat FROM HM.PO po JOIN HM.DK c ON c.id = po.id2 JOIN HM.DK m ON "
               "m.id = po.id1 WHERE po.typ = 90 AND m.kod = ?", invoice), timeout=120, message="the correction")
    assert Decimal(str(corrections[0][1])).quantize(Decimal("0.01")) == -(one + tax).quantize(Decimal("0.01"))
    wait_until(lambda: erp_rows(stack, "SELECT SUM(stan) FROM HM.SM WHERE idtw = 1")[0][0] == stock_before + 1,
               timeout=60, message="the returned item back in the ERP's stock")
    for _ in range(3):  # replays: restarts look at every order again (polling), nothing is issued twice
        stack.stop_server()
        stack.start_server()
    wait_until(stack.queues_empty, timeout=120, message="drained")
    assert erp_rows(stack, "SELECT kod FROM HM.DK WHERE typ_dk = 'PA' AND kod_obcy = ?", transfer["number"]) == receipts
    assert len(erp_rows(stack, "SELECT w.kod FROM HM.WPL w JOIN HM.DK dk ON dk.id = w.dk WHERE dk.kod_obcy = ?",
                        transfer["number"])) == 1
    assert list(stack.erp.order_progress([zo2])[zo2].invoices) == [invoice]
    assert len(erp_rows(stack, "SELECT c.kod FROM HM.PO po JOIN HM.DK c ON c.id = po.id2 JOIN HM.DK m ON "
                               "m.id = po.id1 WHERE po.typ = 90 AND m.kod = ?", invoice)) == 1


def api_paid(stack: Stack, order_id: int) -> bool:
    with stack.shop_api() as api:
        return bool(api.get(f"/orders/{order_id}").json().get("date_paid_gmt"))


@pytest.fixture
def variant_plugin_stack(real_woocommerce, tmp_path):
    s = Stack(tmp_path, products=30, shop_kind="real_woocommerce", shop_process=real_woocommerce)
    s.sections["products"] = {"variants_by": "feature:Rodzina", "variant_attributes": ["Rozmiar"]}
    s.write_config()
    s.start_server()
    real_woocommerce.activate_companion_plugin()
    with s.shop_api() as api:
        api.put("/payment_gateways/cod", json={"enabled": True}).raise_for_status()
    yield s
    s.close()


def test_a_customers_price_list_applies_to_a_variation_at_checkout(variant_plugin_stack):
    stack = variant_plugin_stack
    k3 = demo_data.contractors()[2]
    for pid, size in ((PRODUCT, "M"), (PRODUCT + 2, "L")):  # both on K0003's own list
        stack.act(stack.sim.set_feature(pid, "Rodzina", "KOSZ-LISTA"))
        stack.act(stack.sim.set_feature(pid, "Rozmiar", size))
        stack.act(stack.sim.set_marker(pid, True))
    code = stack.erp.get_product(PRODUCT).code
    lists = stack.erp.prices_for_products([PRODUCT])[PRODUCT]
    own, base = lists["IND-K0003"], stack.erp.get_product(PRODUCT).base_price
    assert own != base, "the list price must differ from the base price, or the test cannot tell them apart"

    def variation():
        parent = stack.shop_product("KOSZ-LISTA")
        found = {v.sku: v for v in stack.woo.iter_variations(parent.id)} if parent else {}
        return found.get(code)

    v = wait_until(variation, timeout=60, message="the variation in the shop")
    wait_until(lambda: stack.woo.get_product(v.id).price == base, message="the variation's base price")
    c = customer(stack, "warianty@example.pl", k3.nip_typed)
    wait_until(lambda: (customer_meta(stack, c["id"], "_shopsync_price_lists") or [None])[0] == "IND-K0003",
               timeout=60, message="the customer's own price list in the shop")
    wait_until(lambda: (variation_meta(stack, v) or {}).get("IND-K0003") is not None, timeout=60,
               message="the variation's list prices in the shop")
    shopper = Shopper(stack.shop.url)
    try:
        shopper.login("warianty@example.pl", PASSWORD)
        placed = shopper.buy(v.id, 2, "warianty@example.pl")
    finally:
        shopper.close()
    with stack.shop_api() as api:
        order = api.get(f"/orders/{placed['order_id']}").json()
    line = order["line_items"][0]
    assert line["variation_id"] == v.id and Decimal(line["total"]) == own * 2, line
    # ... and the order reaches the variation's card
    zo = wait_until(lambda: stack.erp.find_order_by_shop_number(str(order["number"])), timeout=90, message="ERP order")
    assert list(stack.erp.order_products(zo)) == [PRODUCT]


def variation_meta(stack: Stack, v) -> dict | None:
    with stack.shop_api() as api:
        raw = api.get(f"/products/{v.parent_id}/variations/{v.id}").json()
    for m in raw.get("meta_data") or ():
        if m["key"] == "_shopsync_prices":
            return m["value"]
    return None
