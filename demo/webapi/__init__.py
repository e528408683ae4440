"""A local Symfonia WebAPI over the demo company, split by the API's areas as the library is:

    app.py          WSGI, sessions, faults, the one route table (the library's own, webapi_operations.py)
    company.py      the demo company's dictionaries, the API's error, conversions, the invoice printout
    orders.py  contractors.py  products.py  documents.py  price_lists.py  feeds.py

`shopsync erp webapi-sim` (demo/webapi_sim.py) serves it.
"""

from __future__ import annotations

from .app import SimApp
from .company import ApiError, SimFaults, render_invoice
from .contractors import SimContractors
from .documents import SimDocuments
from .feeds import SimFeeds
from .orders import SimOrders
from .money import SimMoney
from .price_lists import SimPriceLists
from .products import SimProducts

__all__ = ["ApiError", "SimFaults", "WebApiSim", "render_invoice"]


class WebApiSim(SimOrders, SimContractors, SimProducts, SimDocuments, SimMoney, SimPriceLists, SimFeeds, SimApp):
    """The WSGI application of the simulated WebAPI, every area in one."""
