"""The WebAPI's change feeds: what the ERP logged as changed since a moment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging

import pydantic

from ..errors import ErpRetryable
from ..records import FeedChange
from .shapes import CHANGE_FEEDS, MODIFY_DELETE, _changes_adapter, _first_error, _local, _naive_local

log = logging.getLogger(__name__)


class WebApiFeeds:
    """Change feeds through the WebAPI."""

    def feed_changes(self, feed: str, since: dt.datetime) -> list[FeedChange]:
        """`GET /api/{feed}/IncrementalSync?dateFrom=` (feed: Products, Contractors, PriceLists, Orders): what
        the ERP logged as changed at or after `since` (its local time)."""
        if feed not in CHANGE_FEEDS:
            raise ValueError(f"no change feed {feed!r}")
        answer = self.webapi.call("GET", f"/{feed}/IncrementalSync", params={"dateFrom": _local(since)})
        try:
            elements = _changes_adapter().validate_python(answer or [])
        except pydantic.ValidationError as exc:
            raise ErpRetryable(f"Symfonia WebAPI {feed}/IncrementalSync answered what its model does not "
                               f"describe ({exc.error_count()} problems, first: {_first_error(exc)})") from None
        return [FeedChange(id=int(e.Id), modified_at=_naive_local(e.ModifiedAt).isoformat(timespec="milliseconds"),
                           deleted=e.ModifyType.value == MODIFY_DELETE,
                           digest=hashlib.sha1(json.dumps(e.Object, sort_keys=True, default=str).encode())
                           .hexdigest()) for e in elements]
