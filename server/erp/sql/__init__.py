"""The company database over ODBC (`erp.mode = "sql"`): every SQL statement for the ERP lives in this
package, cut by entity as server/sync/ is.

    base.py       the connection and one unit of work per call
    tables.py     Handel's codes as we read them; SQL helpers
    dialects.py   SQL Server, PostgreSQL, SQLite; trace.py the statement trace
    products.py  contractors.py  orders.py  documents.py  price_lists.py  images.py

Each public method is one unit of work in one transaction; all statements are parameterised;
result columns are read by position (PostgreSQL folds names to lower case). Driver errors
become ErpRetryable / ErpPermanent, and a lost connection is reopened on the next unit of work.
"""

from __future__ import annotations

from ...settings import Settings
from .base import SqlBase
from .contractors import SqlContractors
from .dialects import Dialect, make_dialect
from .documents import SqlDocuments
from .images import SqlImages
from .money import SqlMoney
from .orders import SqlOrders
from .price_lists import SqlPriceLists
from .products import SqlProducts
from .tables import PO_ORDER_SALE, PO_ORDER_WAREHOUSE, TYPPD_CONTRACTOR, TYPPD_GROUP, ZO_BAZA

__all__ = ["Dialect", "ErpGateway", "PO_ORDER_SALE", "PO_ORDER_WAREHOUSE", "TYPPD_CONTRACTOR", "TYPPD_GROUP",
           "ZO_BAZA", "make_dialect"]


class ErpGateway(SqlProducts, SqlContractors, SqlOrders, SqlDocuments, SqlMoney, SqlPriceLists, SqlImages, SqlBase):
    """Reads and writes the HM.* tables of one Symfonia company."""

    @classmethod
    def from_settings(cls, settings: Settings) -> "ErpGateway":
        return cls(*cls.connection_of(settings), settings.erp)
