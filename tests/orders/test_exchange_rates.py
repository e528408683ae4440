"""Exchange rates: a fixed table, and NBP table A (previous business day) from a local server speaking NBP's JSON."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from shopsync.server.sync.exchange_rates import FixedRates, NbpRates, RateSourceDown, RateUnavailable

# effective dates and mids as NBP publishes them (business days only)
TABLE = {"2026-11-20": 4.2311, "2026-11-23": 4.2402, "2026-11-24": 4.2455, "2026-11-25": 4.2512,
         "2026-11-26": 4.2499, "2026-11-27": 4.2530}


class Nbp(BaseHTTPRequestHandler):
    calls: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        Nbp.calls.append(self.path)
        m = re.match(r"^/api/exchangerates/rates/a/(\w{3})/(\d{4}-\d\d-\d\d)/(\d{4}-\d\d-\d\d)/\?format=json$",
                     self.path)
        if not m or m.group(1) != "eur":
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b"404 NotFound - Not Found - Brak danych")
            return
        start, end = m.group(2), m.group(3)
        rates = [{"no": f"{i:03d}/A/NBP/2026", "effectiveDate": d, "mid": mid}
                 for i, (d, mid) in enumerate(sorted(TABLE.items()), start=226) if start <= d <= end]
        body = json.dumps({"table": "A", "currency": "euro", "code": "EUR", "rates": rates}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def nbp():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Nbp)
    Nbp.calls = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_previous_business_day_mid_rate_and_cache(nbp):
    rates = NbpRates(nbp)
    # an order of Monday 30 Nov takes Friday's rate; Saturday's order too
    assert rates.rate("EUR", dt.date(2026, 11, 30)) == Decimal("4.2530")
    assert rates.rate("eur", dt.date(2026, 11, 28)) == Decimal("4.2530")
    # an order of Wednesday 25 Nov takes Tuesday's
    assert rates.rate("EUR", dt.date(2026, 11, 25)) == Decimal("4.2455")
    calls = len(Nbp.calls)
    assert rates.rate("EUR", dt.date(2026, 11, 30)) == Decimal("4.2530")
    assert len(Nbp.calls) == calls, "the same day's rate is cached"
    assert rates.rate("PLN", dt.date(2026, 11, 30)) == 1


def test_unknown_currency_is_permanent_and_a_dead_source_is_retryable(nbp):
    with pytest.raises(RateUnavailable, match="XYZ"):
        NbpRates(nbp).rate("XYZ", dt.date(2026, 11, 30))
    with pytest.raises(RateSourceDown):
        NbpRates("http://127.0.0.1:9", timeout=1).rate("EUR", dt.date(2026, 11, 30))


def test_fixed_rates():
    fixed = FixedRates({"EUR": 4.3, "usd": "3.95"})
    assert fixed.rate("EUR", dt.date.today()) == Decimal("4.3")
    assert fixed.rate("USD", dt.date.today()) == Decimal("3.95")
    with pytest.raises(RateUnavailable, match="fixed_rates"):
        fixed.rate("GBP", dt.date.today())
