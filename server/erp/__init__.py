"""The ERP side of the sync: Symfonia Handel, reached one of two ways.

    interface.py   what the sync needs of the ERP (the ports), records.py its values, errors.py its errors
    sql/           the company database over ODBC (erp.mode = "sql"): every SQL statement lives there
    webapi/        Symfonia's WebAPI alone (erp.mode = "webapi"); it never imports sql/

`make_erp(settings)` builds the one the settings name; the sync sees only the interface.
"""

from __future__ import annotations

from typing import Any


def make_erp(settings: Any) -> Any:
    """The ERP as erp.mode says: the company database over SQL, or Symfonia's WebAPI (each imported only
    when chosen: a WebAPI site needs no ODBC driver)."""
    if settings.erp.mode == "webapi":
        from .webapi import WebApiErp

        return WebApiErp.from_settings(settings)
    from .sql import ErpGateway

    return ErpGateway.from_settings(settings)
