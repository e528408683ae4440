"""The one door to Symfonia's WebAPI: a pooled HTTP client, the session, and the one translation of
HTTP answers into the ERP's error kinds.

    401 or "sesja wygasła"        a new session, the call once more
    404 "No HTTP resource..."     ErpConfigError: the WebAPI has no such action (its version; a parameter)
    404                           ErpNotFound: the record is not there
    400 ApiError                  ErpPermanent with the API's own Message
    5xx, refused, timeout before  ErpRetryable
    timeout or cut after sending  WebApiSentUnknown: it may have been applied (creates are looked up)

The transport is injectable (`transport=`), so the client is tested in-process too.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

import httpx

from ..errors import ErpConfigError, ErpNotFound, ErpPermanent, ErpRetryable

log = logging.getLogger(__name__)


# Reference §1: what an expired or unknown session answers (a client tests the text, not only the 401).
SESSION_EXPIRED = "sesja wygasła"


# SymfWebAPI's session manager opens a new session before this age (ClientConfig.max_session_age, 25 min):
# the WebAPI's own lifetime is undocumented (reference §1, §7.7).
MAX_SESSION_AGE_SECONDS = 25 * 60.0
NO_ACTION = "No HTTP resource was found"  # ASP.NET Web API's 404 when no action takes the request


class WebApiSentUnknown(ErpRetryable):
    """The request was sent but no answer came: it may or may not have been applied."""


class MemoryHolds:
    """Holds of unanswered requests kept in memory (the server hands in queue.cursors.Holds, kept in the
    queue database, so a restarted server keeps holding them)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()
        self.clock = clock

    def remaining(self, key: str) -> float:
        with self._lock:
            return max(0.0, self._until.get(key, 0.0) - self.clock())

    def hold(self, key: str, seconds: float) -> None:
        with self._lock:
            self._until[key] = self.clock() + seconds


def _api_message(resp: httpx.Response) -> str:
    """The ApiError's text: its Message (the reference's model; a Details some versions may add is shown
    too); any other JSON or text is shown as it is."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300] or resp.reason_phrase
    if isinstance(body, dict):
        parts = [str(body.get(k)) for k in ("Message", "message", "MessageDetail", "Details", "details") if body.get(k)]
        return "; ".join(parts) or str(body)[:300]
    return str(body)[:300]


class WebApiClient:
    """One pooled HTTP client to Symfonia WebAPI with a session opened on demand.

    Errors become the project's kinds: a refused connection, 5xx and timeouts before
    sending are retryable; a timeout or a cut connection after sending is
    WebApiSentUnknown; a 400 ApiError is permanent with the API's own message; a 401
    opens a new session and repeats the call once.
    """

    def __init__(self, url: str, app_key: str, device: str = "shopsync", timeout: float = 30.0, *,
                 max_session_age: float = MAX_SESSION_AGE_SECONDS, transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url.rstrip("/")
        self._app_key = app_key
        self.device = device
        self.timeout = timeout
        self.max_session_age = max_session_age
        self.clock = clock
        # `transport`: an httpx transport of the caller's (tests answer in-process with httpx.MockTransport).
        self._http = httpx.Client(base_url=self.url, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                                  headers={"Accept": "application/json"}, transport=transport)
        self._token = ""
        self._opened_at = 0.0
        self._lock = threading.Lock()
        self.sessions_opened = 0

    def close(self) -> None:
        """Close the session (seats are limited: one left open holds a seat until it expires), then the pool."""
        with self._lock:
            token, self._token = self._token, ""
        self._close_session(token)
        self._http.close()

    def _close_session(self, token: str) -> None:
        if not token:
            return
        try:
            self._http.get("/Sessions/CloseSession", headers={"Authorization": f"Session {token}"},
                           timeout=min(self.timeout, 5.0))
            log.info("closed the Symfonia WebAPI session of device %s", self.device)
        except httpx.HTTPError as exc:
            log.info("could not close the Symfonia WebAPI session (%s); it ends when it expires",
                     type(exc).__name__)

    def _open_session(self) -> str:
        # GUESS: the application key goes in `Authorization: Application {key}` (the public description's
        # scheme) and the answer is the token as a JSON string (an object with Token is taken too).
        try:
            resp = self._http.get("/Sessions/OpenNewSession", params={"deviceName": self.device},
                                  headers={"Authorization": f"Application {self._app_key}"})
        except httpx.TransportError as exc:
            raise ErpRetryable(f"Symfonia WebAPI at {self.url} is unreachable ({type(exc).__name__})") from None
        if resp.status_code in (401, 403):
            raise ErpConfigError(f"Symfonia WebAPI at {self.url} refused to open a session for device "
                               f"{self.device!r}: check erp.webapi_app_key and the application's registration "
                               f"({resp.status_code}: {_api_message(resp)})")
        if resp.status_code >= 400:
            raise ErpRetryable(f"Symfonia WebAPI could not open a session ({resp.status_code}: {_api_message(resp)})")
        try:
            body = resp.json()
        except ValueError:
            body = resp.text.strip()
        if isinstance(body, dict):
            # Reference §1: over the licence's session limit the answer is an object, not a token.
            raise ErpRetryable(f"Symfonia WebAPI has no free session seat (the licence's session limit is "
                               f"reached: {_api_message(resp)}); sessions other programs left open end when "
                               "they expire, or close them in the WebAPI's configurator; trying again later")
        token = body.strip().strip('"').strip() if isinstance(body, str) else body
        if isinstance(token, str) and token.startswith("{") and token.endswith("}"):
            token = token[1:-1].strip()
        if not isinstance(token, str) or not token:
            raise ErpRetryable(f"Symfonia WebAPI answered OpenNewSession without a token: {str(body)[:100]}")
        self.sessions_opened += 1
        log.info("opened a Symfonia WebAPI session for device %s", self.device)
        return token

    def ping(self) -> None:
        """GET /Ping (needs no session): the service answers."""
        try:
            resp = self._http.get("/Ping")
        except httpx.TransportError as exc:
            raise ErpRetryable(f"Symfonia WebAPI at {self.url} is unreachable ({type(exc).__name__})") from None
        if resp.status_code >= 400:
            raise ErpRetryable(f"Symfonia WebAPI Ping: {resp.status_code} {_api_message(resp)}")

    def _session(self, stale: str = "") -> str:
        """The session's token: opened on first use; opened anew when the WebAPI said it expired (`stale`) or
        before it reaches max_session_age (as SymfWebAPI's own session manager does), the old one closed
        first, so a long-running server never holds two seats."""
        with self._lock:
            aged = self._token and self.clock() - self._opened_at >= self.max_session_age
            if aged:
                log.info("the Symfonia WebAPI session is %.0f min old: closing it and opening a new one",
                         (self.clock() - self._opened_at) / 60)
                self._close_session(self._token)
            if not self._token or self._token == stale or aged:
                self._token = ""
                self._token = self._open_session()
                self._opened_at = self.clock()
            return self._token

    def call(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        """One API call in a session; the JSON answer."""
        token = self._session()
        for attempt in (1, 2):
            try:
                resp = self._http.request(method, path, params=params, json=body,
                                          headers={"Authorization": f"Session {token}"})
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                raise ErpRetryable(f"Symfonia WebAPI at {self.url} is unreachable ({type(exc).__name__})") from None
            except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                raise WebApiSentUnknown(f"Symfonia WebAPI did not answer {method} {path} "
                                        f"({type(exc).__name__})") from None
            expired = resp.status_code == 401 or (resp.status_code >= 400 and SESSION_EXPIRED in resp.text)
            if expired and attempt == 1:
                token = self._session(stale=token)  # the session expired: a new one, the call once more
                continue
            if resp.status_code >= 500 or resp.status_code == 401:
                raise ErpRetryable(f"Symfonia WebAPI {method} {path}: {resp.status_code} {_api_message(resp)}")
            if resp.status_code == 404 and NO_ACTION in resp.text:
                # ASP.NET Web API found no action for the call: its version lacks it, or a required query
                # parameter is missing. Not a verdict on the record: a setting (the WebAPI's version) to fix.
                raise ErpConfigError(f"Symfonia WebAPI has no action for {method} {path} (is the WebAPI older "
                                     f"than the calls shopsync uses?): {_api_message(resp)}")
            if resp.status_code == 404:  # declared for Contractors, Products, Sales...: the record is not there
                raise ErpNotFound.of("erp.webapi_not_found", method=method, path=path, text=_api_message(resp))
            if resp.status_code >= 400:
                raise ErpPermanent.of("erp.webapi_refused", method=method, path=path, text=_api_message(resp))
            return resp.json() if resp.content else None
        raise AssertionError("unreachable")
