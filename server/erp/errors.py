"""Typed ERP errors, decided once where the failure is raised (the ODBC dialect, the WebAPI client).

    ErpError
     +-- ErpRetryable      lock timeout, deadlock, lost connection, ERP unreachable
     +-- ErpConfigError    the ERP refuses us as configured: wrong WebAPI key, login or missing right
     +-- ErpPermanent      constraint violation, bad data, missing record
          +-- ErpNotFound  the record the request names does not exist

server/sync/outcome.py turns each into what happens to a message.
"""

from __future__ import annotations

from ..reasons import Coded


class ErpError(Coded, Exception):
    """Anything that went wrong talking to the ERP."""


class ErpRetryable(ErpError):
    """Try again later: the ERP is busy or unreachable."""


class ErpConfigError(ErpError):
    """The ERP refuses every request as we are set up (key, login, rights): a setting to fix.

    Not a verdict on any one message: delivery pauses and keeps them all until it works.
    """


class ErpPermanent(ErpError):
    """Retrying will not help: the data or the request must change."""


class ErpNotFound(ErpPermanent):
    """The named ERP record does not exist."""
