"""Another user logged in to the same office machine (a terminal server where every clerk has an account)
tries to get in: one test per attack. Real server process, the console over HTTP, gRPC over loopback."""

from __future__ import annotations

import re
import statistics
import time
import urllib.parse

import grpc
import httpx
import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from shopsync.server.queue.cursors import Cursors
from shopsync.server.queue.store import QueueStore
from shopsync.server.web.console import hash_password, safe_target
from shopsync.v1 import customers_pb2, customers_pb2_grpc, erp_events_pb2, erp_events_pb2_grpc
from tests.helpers.stack import HOOK_TOKEN, Stack, wait_until

PASSWORD = "biuro-haslo-2026"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("attacks"), products=5,
              console={"password_hash": hash_password(PASSWORD), "login_attempts_per_minute": 5},
              sync={"workers": False}).start_server()
    yield s
    s.close()


def console(stack: Stack) -> httpx.Client:
    http = httpx.Client(base_url=f"http://127.0.0.1:{stack.console_port}")
    wait_until(lambda: http.get("/login").status_code == 200, message="console up")
    return http


def csrf(http: httpx.Client, path: str = "/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', http.get(path).text).group(1)


def log_in(stack: Stack, user: str = "admin", password: str = PASSWORD, next_: str | None = None) -> httpx.Response:
    http = console(stack)
    url = "/login" + (f"?next={next_}" if next_ is not None else "")
    return http.post(url, data={"csrf_token": csrf(http), "user": user, "password": password})


def test_no_token_on_loopback_gets_nothing_and_the_hook_token_cannot_pair(stack):
    with grpc.insecure_channel(stack.address) as ch:
        customers = customers_pb2_grpc.CustomerServiceStub(ch)
        for metadata in (None, [("authorization", f"Bearer {HOOK_TOKEN}")]):
            with pytest.raises(grpc.RpcError) as err:
                customers.PairCustomer(customers_pb2.PairCustomerRequest(shop_customer_id=1, erp_contractor_id=2),
                                       timeout=5, metadata=metadata)
            assert err.value.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
        # what a Symfonia workstation's hook does still works with its token
        erp_events_pb2_grpc.ErpEventServiceStub(ch).RecordErpEvent(erp_events_pb2.RecordErpEventRequest(
            kind=erp_events_pb2.ERP_EVENT_KIND_STOCK_CHANGED, erp_id=1, request_id="attack-1"), timeout=5,
            metadata=[("authorization", f"Bearer {HOOK_TOKEN}")])


def test_the_queue_database_and_its_folder_are_the_servers_alone(stack):
    """The console's signing key lives in the queue database: other local users cannot read it."""
    db = stack.config.parent / "queue.db"
    for path in [db, *db.parent.glob("queue.db-*")]:
        assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"


def test_a_cookie_forged_for_another_user_or_kept_after_logout_opens_nothing(stack):
    http = console(stack)
    assert http.post("/login", data={"csrf_token": csrf(http), "user": "admin", "password": PASSWORD}
                     ).status_code == 302
    assert http.get("/dead-letters").status_code == 200
    copied = dict(http.cookies)
    # forged with the real signing key (as if it had leaked) for a user the settings do not name
    store = QueueStore.from_url(f"sqlite:///{stack.config.parent / 'queue.db'}")
    try:
        secret = Cursors(store).get("console.session_key")
    finally:
        store.close()
    assert secret
    app = Flask("forge")
    app.secret_key = secret
    forged = SecureCookieSessionInterface().get_signing_serializer(app).dumps({"user": "intruder"})
    with httpx.Client(base_url=http.base_url, cookies={"shopsync_console": forged}) as other:
        assert other.get("/dead-letters").status_code == 302
    # logging out ends the session, also for a copy of its cookie taken before
    assert http.post("/logout", data={"csrf_token": csrf(http, "/")}).status_code == 302
    with httpx.Client(base_url=http.base_url, cookies=copied) as thief:
        assert thief.get("/dead-letters").status_code == 302
    http.close()


@pytest.mark.parametrize("target", ["/%09/evil.example/phish", "//evil.example", "/\\evil.example",
                                    "https://evil.example", "/\t/evil.example", "javascript:alert(1)"])
def test_redirects_stay_on_the_console(stack, target):
    decoded = urllib.parse.unquote(target)  # what Flask hands the view
    assert safe_target(decoded) == "/"
    http = console(stack)
    r = http.get("/lang/en?back=" + (target if "%" in target else urllib.parse.quote(target, safe="/:")))
    assert r.status_code == 302 and r.headers["location"] == "/", r.headers["location"]
    http.close()
    r = log_in(stack, next_=target if "%" in target else urllib.parse.quote(target, safe="/:"))
    assert r.status_code == 302 and r.headers["location"] == "/"
    assert safe_target("/dead-letters?page=2") == "/dead-letters?page=2"


def test_every_page_carries_the_security_headers_and_signed_in_pages_are_not_cached(stack):
    http = console(stack)
    try:
        page = http.get("/login")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "same-origin"
        http.post("/login", data={"csrf_token": csrf(http), "user": "admin", "password": PASSWORD})
        assert http.get("/").headers["cache-control"] == "no-store"
    finally:
        http.close()


def test_a_wrong_user_name_takes_as_long_as_the_right_one(stack):
    def took(user: str) -> float:
        start = time.perf_counter()
        assert log_in(stack, user=user, password="zle-haslo").status_code == 401
        return time.perf_counter() - start

    # interleaved, so a busy machine slows both alike; without the dummy hash an unknown name answers in
    # milliseconds against the real hash's hundreds
    pairs = [(took(f"nikt-{n}"), took("admin")) for n in range(4)]
    unknown, known = (statistics.median(p[i] for p in pairs) for i in (0, 1))
    assert unknown > 0.3 * known, (unknown, known)


def test_a_burst_of_wrong_names_does_not_lock_the_real_user_out(stack):
    for n in range(12):
        log_in(stack, user=f"zgadywany-{n}", password="x")
    assert log_in(stack).status_code == 302, "the real user still gets in"


def test_a_password_change_ends_the_sessions_made_before(tmp_path):
    s = Stack(tmp_path, products=5, console={"password_hash": hash_password(PASSWORD)},
              sync={"workers": False}).start_server()
    try:
        http = console(s)
        assert http.post("/login", data={"csrf_token": csrf(http), "user": "admin", "password": PASSWORD}
                         ).status_code == 302
        assert http.get("/dead-letters").status_code == 200
        s.sections["console"]["password_hash"] = hash_password("nowe-haslo-2026")
        s.write_config()
        s.stop_server()
        s.start_server()
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{s.console_port}/login").status_code == 200,
                   message="console up again")
        assert http.get("/dead-letters").status_code == 302, "the old session ended with the old password"
        http.close()
    finally:
        s.close()
