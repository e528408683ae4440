"""The company database's codes as the sync reads them (our reading of Handel's schema), and small SQL helpers.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Iterator, Sequence

log = logging.getLogger(__name__)


# HM.KP.typpd: whom a price list applies to (our reading of the schema).
TYPPD_CONTRACTOR = 1
TYPPD_GROUP = 2
ZO_BAZA = 16  # bazadokrz of a reservation made by a customer order (ZO)
# HM.PO link types, our reading (a guess until checked on a real company, see docs/symfonia.md):
PO_ORDER_SALE = 1       # id1 = HM.ZO.id, id2 = HM.DK.id of a sale document issued from the order
PO_ORDER_WAREHOUSE = 2  # id1 = HM.ZO.id, id2 = HM.MG.id of a warehouse issue that realised it
NAME_MAX = 100


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _like_prefix(text: str) -> str:
    """A LIKE pattern matching text followed by anything. LIKE's `%` and `[` in text become `_` (one
    character): at worst a description differing in that character also matches, never one fewer."""
    return text.replace("[", "_").replace("%", "_") + "%"


def _like_contains(text: str) -> str:
    """A LIKE pattern matching text anywhere (LIKE's `%` and `[` in it become `_`, one character)."""
    return "%" + text.replace("[", "_").replace("%", "_") + "%"


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


def vat_percent_of(code: Any) -> int:
    """HM.TW.vatsp as our reading of the schema has it: a percentage; an exempt (zw) or not-subject (np) rate
    is written as 0 (GUESS: the column's codes for those are not in the evidence; docs/symfonia.md)."""
    text = str(code or "").strip().rstrip("%")
    return int(text) if text.isdigit() else 0
