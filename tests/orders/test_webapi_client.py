"""The WebAPI client alone, answered in-process (httpx.MockTransport): sessions and the one translation of
HTTP answers into the ERP's error kinds. The client against the real simulator is in test_webapi_writer.py."""

from __future__ import annotations

import json

import httpx
import pytest
from shopsync.server.erp.errors import ErpConfigError, ErpNotFound, ErpPermanent, ErpRetryable
from shopsync.server.erp.webapi import WebApiClient, WebApiSentUnknown

KEY = "6f1c2a9e-0d4b-4c3a-9b8e-5a7d2f1e3c40"


class Api:
    """A WebAPI answering as the reference says, recording what it was asked."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.tokens = 0
        self.answer: httpx.Response | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api")
        self.seen.append(f"{path} {request.headers.get('Authorization', '')}")
        if path == "/Sessions/OpenNewSession":
            self.tokens += 1
            return httpx.Response(200, text=json.dumps(f"token-{self.tokens}"))
        if path == "/Sessions/CloseSession":
            return httpx.Response(200)
        return self.answer or httpx.Response(200, json={"Id": 1})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client(api: Api, clock: Clock | None = None) -> WebApiClient:
    return WebApiClient("http://erp.test/api", KEY, "t", 5.0, transport=httpx.MockTransport(api),
                        clock=clock or Clock())


def test_a_session_is_reused_then_reopened_before_its_age_with_the_old_one_closed_first():
    api, clock = Api(), Clock()
    c = client(api, clock)
    c.call("GET", "/Products", params={"id": 1})
    c.call("GET", "/Products", params={"id": 2})
    assert c.sessions_opened == 1
    clock.now += 25 * 60
    c.call("GET", "/Products", params={"id": 3})
    assert c.sessions_opened == 2
    assert api.seen[-3:] == ["/Sessions/CloseSession Session token-1", "/Sessions/OpenNewSession Application " + KEY,
                             "/Products Session token-2"], "the old seat is given back before a new one is taken"
    c.close()
    assert api.seen[-1] == "/Sessions/CloseSession Session token-2"


@pytest.mark.parametrize("status, body, kind", [
    (404, {"Message": "No HTTP resource was found that matches the request URI 'x'."}, ErpConfigError),
    (404, {"Message": "Nie znaleziono towaru"}, ErpNotFound),
    (400, {"Message": "Pole jest wymagane: Series"}, ErpPermanent),
    (500, {"Message": "Wewnętrzny błąd"}, ErpRetryable),
])
def test_each_answer_is_one_kind_of_error(status, body, kind):
    api = Api()
    api.answer = httpx.Response(status, json=body)
    with pytest.raises(kind) as raised:
        client(api).call("GET", "/Products", params={"id": 1})
    assert body["Message"][:20] in str(raised.value)


def test_a_timeout_after_sending_is_sent_unknown_and_a_refused_connection_retryable():
    def timeout(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("OpenNewSession"):
            return httpx.Response(200, text='"t"')
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(WebApiSentUnknown):
        WebApiClient("http://erp.test/api", KEY, transport=httpx.MockTransport(timeout)).call("POST", "/X")

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(ErpRetryable) as raised:
        WebApiClient("http://erp.test/api", KEY, transport=httpx.MockTransport(refused)).call("GET", "/X")
    assert not isinstance(raised.value, WebApiSentUnknown)
