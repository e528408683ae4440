"""Exchange rates to PLN for orders in other currencies.

Sources: a fixed table from the settings, or the Polish central bank's (NBP)
table A mid rate of the previous business day (the rate Polish accounting uses
for a document), fetched from NBP's JSON API and cached.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Mapping

import httpx

from .outcome import TryLater


class RateUnavailable(Exception):
    """No rate for this currency (permanent: a person must add one)."""


class RateSourceDown(TryLater):
    """The rate source could not be reached (retry later)."""


class FixedRates:
    def __init__(self, table: Mapping[str, float | str]) -> None:
        self.table = {k.upper(): Decimal(str(v)) for k, v in table.items()}

    def rate(self, currency: str, on: dt.date) -> Decimal:
        currency = currency.upper()
        if currency == "PLN":
            return Decimal(1)
        if currency not in self.table:
            raise RateUnavailable(f"currency {currency} has no rate: add it to orders.fixed_rates "
                                  "or set orders.rate_source = \"nbp\"")
        return self.table[currency]


class NbpRates:
    """Table A mid rates from NBP (https://api.nbp.pl), previous business day, cached per day."""

    def __init__(self, base_url: str = "https://api.nbp.pl", timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
                                 headers={"Accept": "application/json"})
        self._cache: dict[tuple[str, dt.date], Decimal] = {}
        self._lock = threading.Lock()

    def rate(self, currency: str, on: dt.date) -> Decimal:
        currency = currency.upper()
        if currency == "PLN":
            return Decimal(1)
        key = (currency, on)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        # The previous business day: look back up to 10 days (weekends, holidays), take the last.
        end = on - dt.timedelta(days=1)
        start = on - dt.timedelta(days=10)
        path = f"/api/exchangerates/rates/a/{currency.lower()}/{start.isoformat()}/{end.isoformat()}/"
        try:
            resp = self.http.get(path, params={"format": "json"})
        except httpx.HTTPError as exc:
            raise RateSourceDown(f"NBP rates unreachable: {type(exc).__name__}") from exc
        if resp.status_code == 404:
            raise RateUnavailable(f"NBP table A has no rate for {currency} before {on.isoformat()}")
        if resp.status_code >= 400:
            raise RateSourceDown(f"NBP answered {resp.status_code} for {currency}")
        try:
            rates = resp.json()["rates"]
            mid = Decimal(str(sorted(rates, key=lambda r: r["effectiveDate"])[-1]["mid"]))
        except (ValueError, KeyError, IndexError) as exc:
            raise RateSourceDown(f"NBP answer for {currency} not understood: {exc}") from exc
        with self._lock:
            self._cache[key] = mid
        return mid


def make_rates(orders_settings: object) -> FixedRates | NbpRates:
    if orders_settings.rate_source == "nbp":
        return NbpRates(orders_settings.nbp_url)
    return FixedRates(orders_settings.fixed_rates)
