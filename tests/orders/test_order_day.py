"""The ERP order's date is the day the customer ordered in the shop's time zone, not UTC's."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from shop_client.interface import Address, ShopOrder
from shopsync.server.sync.order_pricing import order_day

WARSAW = zoneinfo.ZoneInfo("Europe/Warsaw")


def _order(created: str) -> ShopOrder:
    return ShopOrder(id=1, number="1", status="processing", currency="PLN", customer_id=0, billing=Address(),
                     shipping=Address(), lines=(), created=created)


def test_an_order_placed_after_midnight_in_warsaw_is_that_days_order():
    # 23:30 UTC on 2 December is 00:30 on 3 December in Warsaw (winter, UTC+1)
    assert order_day(_order("2026-12-02T23:30:00"), WARSAW) == dt.date(2026, 12, 3)
    assert order_day(_order("2026-07-01T22:30:00Z"), WARSAW) == dt.date(2026, 7, 2)  # summer, UTC+2
    assert order_day(_order("2026-12-02T21:00:00"), WARSAW) == dt.date(2026, 12, 2)


def test_a_moment_with_its_own_offset_and_a_bare_day_are_taken_as_they_are():
    assert order_day(_order("2026-12-02T23:30:00+01:00"), WARSAW) == dt.date(2026, 12, 2)
    assert order_day(_order("2026-12-02"), WARSAW) == dt.date(2026, 12, 2)
    assert order_day(_order(""), WARSAW) is None and order_day(_order("not a date"), WARSAW) is None
