"""What became of one message, as a synchronizer reports it; the worker settles it (runtime.settle).

    done          delivered or applied: acknowledged
    retry         try again after a back-off (counts an attempt)
    dead          cannot succeed as it is: a dead letter, with the reason a person acts on
    waiting       waits for something outside (a person): looked at again later, no attempt spent
    shop_down     the shop did not answer: kept as it is while delivery pauses and probes the shop
    config_error  the shop refuses us as configured: kept as it is while delivery pauses

Synchronizers never touch the queue; they return one Outcome per message, in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from server.sync.context import SyncContext
from server.sync.messages import QueueMessage
from shop_client.errors import ShopConfigError, ShopError, ShopRejected, ShopUnavailable

DONE, RETRY, DEAD, WAITING, SHOP_DOWN, CONFIG_ERROR = "done", "retry", "dead", "waiting", "shop_down", "config_error"


@dataclass(frozen=True)
class Outcome:
    state: str
    reason: str = ""
    error: ShopError | None = None

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
    def waiting(cls, reason: str) -> "Outcome":
        return cls(WAITING, reason)

    @classmethod
    def shop_down(cls, error: ShopError) -> "Outcome":
        return cls(SHOP_DOWN, str(error), error)

    @classmethod
    def config_error(cls, error: ShopError) -> "Outcome":
        return cls(CONFIG_ERROR, str(error), error)

    @classmethod
    def of_shop_error(cls, error: ShopError, prefix: str = "") -> "Outcome":
        """The outcome of a shop call that failed as a whole, by the kind of its error."""
        if isinstance(error, ShopUnavailable):
            return cls.shop_down(error)
        if isinstance(error, ShopConfigError):
            return cls.config_error(error)
        if isinstance(error, ShopRejected):
            return cls.dead(f"{prefix}{error}")
        return cls.retry(f"{prefix}{error}")


_DONE = Outcome(DONE)


class Synchronizer(Protocol):
    """One entity's sync: a batch of its typed messages in, one outcome per message out."""

    def handle(self, ctx: SyncContext, batch: Sequence[QueueMessage]) -> list[Outcome]: ...
