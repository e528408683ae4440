"""Commercial stock (AmountToSale) through the WebAPI's InventoryStates, and its change list.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any, Sequence

import pydantic

from ..errors import ErpRetryable
from ..records import StockState
from ..rounding import money
from .shapes import BY_PRODUCT_UP_TO, _first_error, _local, _states_adapter

log = logging.getLogger(__name__)


class WebApiStock:
    """Stock through the WebAPI."""

    def commercial_stock(self, ids: Sequence[int]) -> dict[int, Decimal]:
        """Commercial stock (`AmountToSale`) summed over erp.warehouses: `InventoryStates/ByProduct?id=` for a
        few products, `InventoryStates/ByWarehouse?id=` (every product at once) for many; 0 when none."""
        ids = sorted({int(i) for i in ids})
        out = {i: Decimal(0) for i in ids}
        if len(ids) <= len(self.warehouses) * BY_PRODUCT_UP_TO:
            states = [st for pid in ids for st in self._states("ByProduct", pid)]
        else:
            states = [st for w in self.warehouses for st in self._states("ByWarehouse", w)]
        chosen = set(self.warehouses)
        for st in states:
            if st.product_id in out and st.warehouse_id in chosen:
                out[st.product_id] += st.to_sale
        return {pid: money(q) for pid, q in out.items()}

    def _states(self, by: str, key: Any, param: str = "id") -> list[StockState]:
        """`GET /api/InventoryStates/{by}` (ByProduct, ByWarehouse, Changes), read with SymfWebAPI's model."""
        answer = self.webapi.call("GET", f"/InventoryStates/{by}", params={param: key})
        try:
            states = _states_adapter().validate_python(answer or [])
        except pydantic.ValidationError as exc:
            raise ErpRetryable(f"Symfonia WebAPI InventoryStates/{by} answered what its model does not describe "
                               f"({exc.error_count()} problems, first: {_first_error(exc)})") from None
        return [StockState(int(x.ProductId), int(x.WarehouseId), Decimal(str(x.AmountToSale))) for x in states]

    def stock_changes(self, since: dt.datetime) -> list[StockState]:
        """`GET /api/InventoryStates/Changes?date=`: the states (not deltas) that changed at or after `since`."""
        return self._states("Changes", _local(since), "date")
