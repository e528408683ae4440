"""What became of one message, and the one place where an error decides it.

    done          delivered or applied: acknowledged
    retry         try again after a back-off (counts an attempt)
    dead          cannot succeed as it is: a dead letter, with the reason a person acts on
    waiting       waits for something outside (a person): looked at again later, no attempt spent
    shop_down     the shop did not answer: kept as it is while delivery pauses and probes the shop
    config_error  the shop or the ERP refuses us as configured, or a setting is missing: kept as it
                  is while delivery pauses (one log line), resuming by itself once it works

A raw failure becomes a typed error once, where it is raised (shop_client/http.py,
the ODBC dialect, the WebAPI client); `outcome_of` turns any of them into an
outcome. Synchronizers never touch the queue; they return one Outcome per message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol, Sequence

from shop_client.errors import ShopConfigError, ShopError, ShopNotFound, ShopRejected, ShopUnavailable
from shop_client.interface import ITEM_GONE, ITEM_REJECTED, ItemResult

from ..erp.errors import ErpConfigError, ErpError, ErpPermanent
from ..reasons import Coded, Reason, reason_of
from .context import SyncContext
from .messages import QueueMessage

log = logging.getLogger(__name__)

DONE, RETRY, DEAD, WAITING, SHOP_DOWN, CONFIG_ERROR = "done", "retry", "dead", "waiting", "shop_down", "config_error"
SHOP, ERP = "shop", "erp"  # which side a pause is about


# -- the sync's own verdicts (what the data says, not what a side answered) ------------
class Rejected(Coded, Exception):
    """The message cannot succeed as it is; the text says what a person must fix (a dead letter)."""


class MustWait(Coded, Exception):
    """The message waits for a person (e.g. to pair its customer); looked at again later, without limit."""


class SettingMissing(Coded, Exception):
    """A setting the work needs is not set (or names nothing): delivery pauses until it is set."""


class TryLater(Coded, Exception):
    """A source other than the shop or the ERP (e.g. the exchange-rate service) is unavailable now."""


@dataclass(frozen=True)
class Outcome:
    state: str
    reason: str = ""
    error: BaseException | None = None
    side: str = ""  # SHOP or ERP, for shop_down and config_error
    delay: float | None = None  # waiting: when to look again (None: the usual recheck)
    why: Reason | None = None  # `reason` as a code with parameters, for pages in the reader's language

    def why_json(self) -> str | None:
        if self.why is None:
            return None
        return Reason("waiting", {"inner": self.why}).dumps() if self.state == WAITING else self.why.dumps()

    @classmethod
    def done(cls) -> "Outcome":
        return _DONE

    @classmethod
    def retry(cls, reason: str) -> "Outcome":
        return cls(RETRY, reason)

    @classmethod
    def dead(cls, reason: str) -> "Outcome":
        return cls(DEAD, reason)

    @classmethod
    def waiting(cls, reason: str, delay: float | None = None, why: Reason | None = None) -> "Outcome":
        return cls(WAITING, reason, delay=delay, why=why)


_DONE = Outcome(DONE)


def outcome_of(error: BaseException, about: tuple[str, object] | None = None) -> Outcome:
    """The outcome of a message whose work failed with `error`; `about` names the record for a person
    (("order", 3): "order 3: ..."; see server/reasons.py SUBJECTS).

    The one decision of retry, dead letter, waiting or pause, by the error's kind.
    """
    subject = (about[0], str(about[1])) if about else None

    def made(state: str, *, erp: bool = False, pause: str = "", why: Reason | None = None) -> Outcome:
        why = why or reason_of(error, about=subject, side="ERP" if erp else "")
        return Outcome(state, why.text("en"), error if pause else None, pause, why=why)

    if isinstance(error, ShopUnavailable):
        return made(SHOP_DOWN, pause=SHOP)
    if isinstance(error, ShopConfigError):
        return made(CONFIG_ERROR, pause=SHOP)
    if isinstance(error, (ErpConfigError, SettingMissing)):
        return made(CONFIG_ERROR, pause=ERP)
    if isinstance(error, MustWait):
        return made(WAITING)
    if isinstance(error, ShopRejected) and not getattr(error, "reason_code", "") and error.status:
        kind = "shop.not_found" if isinstance(error, ShopNotFound) else "shop.refused"
        return made(DEAD, why=Reason(kind, {"status": error.status, "text": str(error)}, subject))
    if isinstance(error, (ShopRejected, Rejected)):
        return made(DEAD)
    if isinstance(error, ErpPermanent):
        return made(DEAD, erp=True)
    if isinstance(error, ErpError):  # retryable (lock, lost connection) or not said: try again later
        return made(RETRY, erp=True)
    if isinstance(error, (ShopError, TryLater)):
        return made(RETRY)
    # A bug must not stop delivery of everything else: logged with its traceback, tried again.
    why = Reason("internal", {"kind": type(error).__name__, "text": str(error)}, subject)
    log.error("%s", why.text("en"), exc_info=error)
    return made(RETRY, why=why)


def outcome_of_item(result: ItemResult, about: tuple[str, object] | None) -> Outcome:
    """The outcome of one item of a shop batch, by the kind the adapter gave it."""
    if result.ok:
        return Outcome.done()
    error = {ITEM_GONE: ShopNotFound, ITEM_REJECTED: ShopRejected}.get(result.kind, ShopError)(result.error)
    return outcome_of(error, about)


class Synchronizer(Protocol):
    """One entity's sync: a batch of its typed messages in, one outcome per message out."""

    def handle(self, ctx: SyncContext, batch: Sequence[QueueMessage]) -> list[Outcome]: ...
