"""Typed ERP errors: retry later, or stop and show a person.

    ErpError
     +-- ErpRetryable      lock timeout, deadlock, lost connection, ERP unreachable
     +-- ErpPermanent      constraint violation, bad data, missing record
          +-- ErpNotFound  the record the request names does not exist
"""

from __future__ import annotations


class ErpError(Exception):
    """Anything that went wrong talking to the ERP database."""


class ErpRetryable(ErpError):
    """Try again later: the ERP is busy or unreachable."""


class ErpPermanent(ErpError):
    """Retrying will not help: the data or the request must change."""


class ErpNotFound(ErpPermanent):
    """The named ERP record does not exist."""
