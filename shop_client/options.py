"""What a shop adapter is configured with, apart from its address and keys.

The server's [shop] settings carry the same names; `ShopOptions.of` takes them from any
object that has them, so the adapters never see the server's settings type.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ShopOptions:
    timeout_seconds: float = 15.0
    verify_tls: bool = True
    # Longest pause a 429 answer may ask for before the call counts as the shop being down.
    max_retry_after: float = 30.0
    # WooCommerce: the meta keys the sync reads and writes, and a WordPress user's application password
    # for image uploads (WordPress's media API; WooCommerce keys do not open it).
    nip_meta_key: str = "_billing_nip"
    pairing_meta_key: str = "_shopsync_pairing"
    pairing_request_meta_key: str = "_shopsync_pairing_request"
    price_list_meta_key: str = "_shopsync_prices"
    customer_price_lists_meta_key: str = "_shopsync_price_lists"
    wp_user: str = ""
    wp_app_password: str = ""
    # django-oscar: the partner whose stock records we keep, the class of new products.
    oscar_partner: str = "sklep"
    oscar_product_class: str = "towar"

    @classmethod
    def of(cls, settings: Any, **changes: Any) -> "ShopOptions":
        """The options named alike in `settings` (e.g. the server's [shop] section), with `changes`."""
        found = {f.name: getattr(settings, f.name) for f in dataclasses.fields(cls) if hasattr(settings, f.name)}
        return cls(**{**found, **changes})
