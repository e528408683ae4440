"""The operators' console in a real browser (headless Debian Chromium), against a real server process, the demo
company and the local shop over HTTP: what office staff do there, and what it refuses. Screenshots of every
page are saved in the test's folder (screenshots/)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from shopsync.demo import data as demo_data
from shopsync.server.erp.records import ProductDraft
from shopsync.server.web.console import hash_password
from tests.helpers.browser import chrome
from tests.helpers.stack import Stack, wait_until
from tests.helpers.sync_steps import sync_products

PASSWORD = "biuro-haslo-2026"


@pytest.fixture
def stack(tmp_path):
    s = Stack(tmp_path, products=20, console={"password_hash": hash_password(PASSWORD), "login_attempts_per_minute": 5},
              alerts={"check_seconds": 0.5}, sync={"customer_pass_interval_seconds": 1}).start_server()
    s.register_webhooks()
    yield s
    s.close()


def console_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.console_port}"


class Console:
    """The browser, logged in, with a screenshot of every page it looks at."""

    def __init__(self, stack: Stack, tmp_path: Path, lang: str = "en-US") -> None:
        from selenium.webdriver.common.by import By

        self.By = By
        self.stack, self.url = stack, console_url(stack)
        self.driver = chrome(tmp_path, lang)
        self.shots = tmp_path / "screenshots"
        self.shots.mkdir()
        wait_until(lambda: httpx.get(self.url + "/login").status_code == 200, message="console up")
        self.open("/login", "login")
        self.driver.find_element(By.NAME, "user").send_keys("admin")
        self.driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        self.driver.find_element(By.CSS_SELECTOR, "form.login button").click()
        wait_until(lambda: "/login" not in self.driver.current_url, message="logged in")

    def open(self, path: str, shot: str) -> None:
        self.driver.get(self.url + path)
        self.driver.save_screenshot(str(self.shots / f"{shot}.png"))

    def text(self) -> str:
        return self.driver.find_element(self.By.TAG_NAME, "main").text

    def words(self) -> set[str]:
        """The words a person reads on the page (the whole body), but for identifiers shown as <code>."""
        text = self.driver.execute_script(
            "const b = document.body.cloneNode(true); b.querySelectorAll('code, pre, script, style')"
            ".forEach(e => e.remove()); return b.innerText;")
        return set(re.findall(r"[A-Za-ząćęłńóśźżĄĆĘŁŃÓŚŹŻ]+", text))

    def click(self, css: str) -> None:
        self.driver.find_element(self.By.CSS_SELECTOR, css).click()

    def confirm(self, shot: str) -> None:
        self.driver.save_screenshot(str(self.shots / f"{shot}-confirm.png"))
        self.click("button.primary")

    def close(self) -> None:
        self.driver.quit()


def shop_order_with(stack: Stack, sku: str) -> str:
    with stack.shop_api() as api:
        r = api.post("/orders", json={"status": "processing", "line_items": [{"sku": sku, "quantity": 1}],
                                      "billing": {"email": "konsola@example.pl", "first_name": "Ola",
                                                  "last_name": "Nowak"}})
        r.raise_for_status()
        return r.json()["number"]


def test_what_office_staff_do_in_the_console(stack, tmp_path):
    [code] = sync_products(stack, [1])
    c = Console(stack, tmp_path)
    try:
        # the overview: the shop, the ERP and the hooks
        wait_until(lambda: (c.open("/", "overview"), c.text().count("answers") >= 2)[1], timeout=30,
                   message="the shop and the ERP answer")
        assert "Shop" in c.text() and "ERP database" in c.text() and "Hooks" in c.text()

        # a dead letter from an SKU the ERP lacks; the SKU is created in the ERP; "retry" makes the ERP order
        with stack.shop_api() as api:
            api.post("/products", json={"sku": "NOWY-1", "name": "Nowy towar", "regular_price": "10.00",
                                        "manage_stock": True, "stock_quantity": 5}).raise_for_status()
        number = shop_order_with(stack, "NOWY-1")
        wait_until(lambda: (c.open("/dead-letters", "dead-letters"), "NOWY-1" in c.text())[1], timeout=30,
                   message="the dead letter in the console")
        c.open("/orders", "orders-failed")  # the failed shop order under Orders too, with its reason
        assert "Orders that did not reach the ERP" in c.text() and number in c.text() and "NOWY-1" in c.text()
        assert f"order {number}: order {number}" not in c.text(), "the reason names its order once"
        c.open("/dead-letters", "dead-letters")
        stack.erp.create_products([ProductDraft(code="NOWY-1", name="Nowy towar", price=Decimal("10.00"))])
        c.click("input[name=ids]")
        c.click("button[value=retry]")
        c.confirm("dead-letters-retry")
        wait_until(lambda: stack.erp.find_order_by_shop_number(number), timeout=30, message="the ERP order")

        # a customer whose NIP two contractors share, paired from the console; the shop shows it
        shared = demo_data.contractors()[0].nip10
        with stack.shop_api() as api:
            customer = api.post("/customers", json={"email": "wspolny@example.pl", "first_name": "Jan",
                                                    "last_name": "Wspólny",
                                                    "meta_data": [{"key": "_billing_nip", "value": shared}]}).json()
        wait_until(lambda: (c.open("/customers", "customers"), "wspolny@example.pl" in c.text())[1], timeout=30,
                   message="the customer waits for a person")
        c.open(f"/customers/{customer['id']}", "customer-candidates")
        assert "Firms with this NIP" in c.text() and "K0001" in c.text() and "K0002" in c.text(), \
            "the firms with the customer's NIP, each with a pair button"
        c.open(f"/customers/{customer['id']}?q=K0002", "customer")
        assert "K0001" in c.text() or "K0002" in c.text()
        c.click("button[aria-label='Pair K0002']")
        c.confirm("customer-pair")
        chosen = stack.erp.find_contractors_by_nip(shared)[1].id

        def shop_status() -> dict:
            body = stack.shop_api().get(f"/customers/{customer['id']}").json()
            return {m["key"]: m["value"] for m in body["meta_data"]}.get("_shopsync_pairing") or {}
        wait_until(lambda: shop_status().get("status") == "paired" and shop_status().get("erp_contractor_id")
                   == chosen, timeout=30, message="the shop shows the pairing")
        # a firm whose NIP differs needs its own tick, and the log says it was given
        http = login_session(stack)
        other = next(k for k in stack.erp.search_contractors("K0003") if k.code == "K0003")
        token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"/customers/{customer['id']}").text)[1]
        form = {"csrf_token": token, "contractor_id": str(other.id), "confirmed": "yes"}
        asked = http.post(f"/customers/{customer['id']}/pair", data=form)
        assert asked.status_code == 200 and "The NIPs differ" in asked.text, "not paired without the tick"
        assert shop_status().get("erp_contractor_id") == chosen
        assert http.post(f"/customers/{customer['id']}/pair", data={**form, "nip_differs": "yes"}).status_code == 302
        assert "the differing NIP was confirmed by admin" in stack.log.read_text()
        http.close()

        # a product's page: ERP and shop stock side by side after a PZ
        stack.act(stack.sim.approve_pz(1, 7))
        erp_stock = sum(stack.erp.commercial_stock([1]).values(), Decimal(0))
        wait_until(lambda: stack.shop_product(code).stock == erp_stock, message="the PZ in the shop")
        c.open("/products?q=" + code, "products")
        c.open("/products/1", "product")
        row = c.driver.find_element(c.By.CSS_SELECTOR, "tr[data-field=stock]").text.split()
        assert Decimal(row[-3]) == Decimal(row[-1]) == erp_stock, row

        # a reconciliation started from the console corrects a stock edited in the shop
        with stack.shop_api() as api:
            api.put(f"/products/{stack.shop_product(code).id}", json={"stock_quantity": 999}).raise_for_status()
        c.open("/products/1", "product-differs")  # the difference is marked where a person looks
        differing = [r.get_attribute("data-field") for r in c.driver.find_elements(c.By.CSS_SELECTOR, "tr.differs")]
        assert differing == ["stock"], differing
        c.open("/reconciliation", "reconciliation")
        c.click("button.primary")
        c.confirm("reconciliation")
        wait_until(lambda: stack.shop_product(code).stock == erp_stock, timeout=60, message="stock corrected")
        wait_until(lambda: (c.open("/reconciliation", "reconciliation-report"), "finished" in c.text())[1],
                   timeout=30, message="the report")
        assert "stock" in c.text()
        c.open("/orders", "orders")
        assert number in c.text()
        c.click("a[href^='/orders/']")
        c.driver.save_screenshot(str(c.shots / "order.png"))
        assert "ERP order" in c.text()
        # its lines as a person reads them: the product's code and name, prices to the grosz
        assert "NOWY-1" in c.text() and "Nowy towar" in c.text()
        assert not re.search(r"\b\d+\.\d{3,}\b", c.text()), "no unrounded price"
        log = stack.log.read_text()
        assert "by admin (console" in log, "every action is logged with the person"
    finally:
        c.close()


def test_strings_from_the_erp_and_the_shop_are_shown_as_text(stack, tmp_path):
    stack.act(stack.sim.save_item(2, name="<script>alert(1)</script>"))
    c = Console(stack, tmp_path)
    try:
        from selenium.common.exceptions import NoAlertPresentException

        c.open("/products/2", "product-script")
        assert "<script>alert(1)</script>" in c.text()
        with pytest.raises(NoAlertPresentException):
            c.driver.switch_to.alert.text  # noqa: B018 - nothing ran
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in c.driver.page_source
    finally:
        c.close()


def test_the_console_speaks_polish_when_the_browser_does(stack, tmp_path):
    with httpx.Client(base_url=console_url(stack)) as http:
        wait_until(lambda: http.get("/login").status_code == 200, message="console up")
        page = http.get("/login", headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"}).text
        assert "Zaloguj" in page and "Hasło" in page
        english = http.get("/lang/en?back=/login", follow_redirects=True)
        assert "Log in" in english.text


def login_session(stack: Stack) -> httpx.Client:
    http = httpx.Client(base_url=console_url(stack))
    wait_until(lambda: http.get("/login").status_code == 200, message="console up")
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/login").text).group(1)
    assert http.post("/login", data={"csrf_token": token, "user": "admin", "password": PASSWORD}).status_code == 302
    return http


def test_wrong_passwords_are_refused_and_then_rate_limited(stack):
    with httpx.Client(base_url=console_url(stack)) as http:
        wait_until(lambda: http.get("/login").status_code == 200, message="console up")
        token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/login").text).group(1)
        codes = [http.post("/login", data={"csrf_token": token, "user": "admin", "password": f"zle-{i}"}).status_code
                 for i in range(6)]
        assert codes == [401] * 5 + [429]
        right = http.post("/login", data={"csrf_token": token, "user": "admin", "password": PASSWORD})
        assert right.status_code == 429, "even the right password waits out the minute"
        assert http.get("/").status_code == 302, "nothing without a login"
    assert "failed login" in stack.log.read_text() and PASSWORD not in stack.log.read_text()


def test_a_form_without_its_cross_site_token_is_refused(stack):
    http = login_session(stack)
    with stack.shop_api() as api:
        api.post("/products", json={"sku": "BRAK-1", "name": "x", "regular_price": "1.00"}).raise_for_status()
    shop_order_with(stack, "BRAK-1")
    wait_until(lambda: stack.queue_stats()["QUEUE_NAME_INBOX"].dead_letters == 1, timeout=30, message="dead letter")
    refused = http.post("/dead-letters/apply", data={"action": "discard", "ids": "1"})
    assert refused.status_code == 400
    assert stack.queue_stats()["QUEUE_NAME_INBOX"].dead_letters == 1, "nothing was discarded"
    cookie = http.cookies.jar
    session_cookie = next(c for c in cookie if c.name == "shopsync_console")
    assert session_cookie.has_nonstandard_attr("HttpOnly") and "Strict" in str(
        session_cookie.get_nonstandard_attr("SameSite"))
    http.close()


def test_the_intake_door_serves_nothing_of_the_console(stack):
    intake = f"http://127.0.0.1:{stack.http_port}"
    wait_until(lambda: httpx.get(intake + "/healthz").status_code == 200, message="intake up")
    for path in ("/", "/login", "/metrics", "/dead-letters", "/static/console.css"):
        assert httpx.get(intake + path).status_code == 404, path
    assert httpx.get(console_url(stack) + "/webhooks/woocommerce").status_code in (404, 405)


# Words of our own English text (the console's labels and every coded reason) that a Polish page must not show.
SHARED = {"ERP", "NIP", "VAT", "SKU", "PLN", "WebAPI", "Symfonia", "shopsync", "TRANSPORT", "CONTRACTOR", "ID",
          "recreate", "mail", "id", "PNG", "JPEG", "GIF", "WebP"}


def english_words() -> set[str]:
    from shopsync.server.reasons import SUBJECTS, TEXTS
    from shopsync.server.web.i18n import POLISH

    english = " ".join(list(POLISH) + [en for en, _ in TEXTS.values()] + [en for en, _ in SUBJECTS.values()])
    polish = " ".join(list(POLISH.values()) + [pl for _, pl in TEXTS.values()] + [pl for _, pl in SUBJECTS.values()])
    english, polish = (re.sub(r"\{[a-z_]+\}|\w+[._]\w+(?:[._]\w+)*", " ", text) for text in (english, polish))
    words = set(re.findall(r"[A-Za-z]{2,}", english)) - set(re.findall(r"[A-Za-ząćęłńóśźż]{2,}", polish))
    return words - SHARED


def test_every_page_speaks_polish_with_reasons_in_polish_and_counts_that_match(stack, tmp_path):
    [code] = sync_products(stack, [1])
    with stack.shop_api() as api:  # a product only the shop has
        api.post("/products", json={"sku": "BRAK-W-ERP", "name": "Tylko w sklepie", "regular_price": "10.00",
                                    "manage_stock": True, "stock_quantity": 5}).raise_for_status()
    unknown = shop_order_with(stack, "BRAK-W-ERP")  # a dead letter: the SKU is not in the ERP
    number = shop_order_with(stack, code)  # an order that reaches the ERP
    with stack.shop_api() as api:
        customer = api.post("/customers", json={"email": "zly-nip@example.pl", "first_name": "Ewa",
                                                "last_name": "Zła", "meta_data": [{"key": "_billing_nip",
                                                                                   "value": "1234567890"}]}).json()
        api.put(f"/products/{stack.shop_product(code).id}", json={"stock_quantity": 999}).raise_for_status()
    wait_until(lambda: stack.erp.find_order_by_shop_number(number), timeout=30, message="the ERP order")
    english = english_words()
    assert {"order", "waiting", "reason", "paired", "description", "new"} <= english  # the check can see them
    c = Console(stack, tmp_path, lang="pl-PL")
    try:
        def page(path: str, shot: str, must: str = "") -> set[str]:
            c.open(path, shot)
            if must:
                assert must in c.text(), (path, must, c.text())
            seen = c.words() & english
            assert not seen, f"{path}: English on a Polish page: {sorted(seen)}\n{c.text()}"
            return seen

        wait_until(lambda: (c.open("/dead-letters", "pl-dead-letters"), "BRAK-W-ERP" in c.text())[1], timeout=30,
                   message="the dead letter")
        page("/dead-letters", "pl-dead-letters", "nie ma w ERP")
        rows = c.driver.find_elements(c.By.CSS_SELECTOR, "table.letters tbody tr")
        page("/", "pl-overview", "Przegląd")
        dead = sum(int(a.text) for a in c.driver.find_elements(c.By.CSS_SELECTOR, "td a.bad"))
        assert dead == len(rows), f"the overview counts {dead} dead letters, the list shows {len(rows)}"
        page("/orders", "pl-orders", f"zamówienie {unknown} pozycja 1")
        assert f"zamówienie {unknown}: zamówienie {unknown}" not in c.text(), "the order is named once"
        c.click("a[href^='/orders/']")
        page(c.driver.current_url.replace(c.url, ""), "pl-order", code)
        wait_until(lambda: (c.open("/customers", "pl-customers"), "zly-nip@example.pl" in c.text())[1], timeout=30,
                   message="the customer with a bad NIP")
        page("/customers", "pl-customers", "suma kontrolna")
        page(f"/customers/{customer['id']}", "pl-customer", "błędny NIP")
        page(f"/customers/{customer['id']}?q=K0001", "pl-customer-search", "K0001")
        page(f"/products?q={code}", "pl-products", "sprzedaż online")
        page("/products/1", "pl-product", "opis")
        c.open("/reconciliation", "pl-reconciliation")
        c.click("button.primary")
        c.confirm("pl-reconciliation")
        wait_until(lambda: (c.open("/reconciliation", "pl-reconciliation-report"), "zakończony" in c.text())[1],
                   timeout=60, message="the reconciliation's report")
        page("/reconciliation", "pl-reconciliation-report", "towarów sklepu odczytano")
        counts = c.driver.find_element(c.By.CSS_SELECTOR, "span.counts").text
        read, total = (int(n) for n in re.findall(r"\d+", counts)[:2])
        assert read == total, f"a finished reconciliation read every shop product it counted: {counts}"
        page("/", "pl-overview-after", "uzgadnianie")
    finally:
        c.close()
