"""The site's settings checked against the company's own dictionaries, every problem at once.
"""

from __future__ import annotations

import logging
from typing import Any

from ..errors import ErpNotFound
from .shapes import _form_setting, _listing

log = logging.getLogger(__name__)


class WebApiSettingsCheck:
    """The settings check through the WebAPI."""

    # -- the WebAPI side ----------------------------------------------------------------------------------
    def check_settings(self, settings: Any) -> list[str]:
        """Every setting an order needs, checked against the WebAPI's own dictionaries; all problems at once,
        each naming the setting and what the ERP has instead (empty: all good).

        Departments, the ZMO series (Orders/ZMODocumentTypes -> Orders/DocumentSeries), PaymentForms,
        Warehouses, Currencies, and the shipping and fee items (Products?code=). The sale price type has no
        dictionary: its range is checked with the settings."""
        e, o = settings.erp, settings.orders
        problems: list[str] = []

        def dictionary(path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
            answer = self.webapi.call("GET", path, params=params)
            return [x for x in (answer or []) if isinstance(x, dict)]

        departments = dictionary("/Departments")
        if not any(self.department in (d.get("Name"), d.get("Code")) for d in departments):
            problems.append(f"erp.webapi_department = {self.department!r} is not a department of the company "
                            f"(it has: {_listing(d.get('Name') for d in departments)})")
        series: list[str] = []
        for t in dictionary("/Orders/ZMODocumentTypes"):
            series += [str(x.get("Code")) for x in dictionary("/Orders/DocumentSeries",
                                                                  {"documentTypeId": t.get("Id")})]
        if self.order_series not in series:
            problems.append(f"erp.order_series = {self.order_series!r} is not a series of customer orders (ZMO) "
                            f"(the company has: {_listing(series)})")
        forms = {f.get("Id"): f for f in dictionary("/PaymentForms")}
        form_names = _listing(f"{i} {f.get('Name')}" for i, f in forms.items())
        mapped = sorted(o.payment_forms.items()) + ([("default", o.default_payment_form)]
                                                     if o.default_payment_form else [])
        for method, form in mapped:
            if form not in forms:
                problems.append(f"{_form_setting(method)} = {form}: no such payment form (the company has: "
                                f"{form_names})")
            elif forms[form].get("Active") is False:
                problems.append(f"{_form_setting(method)} = {form}: payment form {forms[form].get('Name')!r} "
                                "is inactive in the company")
        warehouses = {w.get("Id") for w in dictionary("/Warehouses")}
        for name, ids in (("erp.warehouses", list(e.warehouses)), ("erp.order_warehouse", [e.order_warehouse])):
            unknown = [w for w in ids if w not in warehouses]
            if unknown:
                problems.append(f"{name}: no warehouse {_listing(unknown)} in the company (it has: "
                                f"{_listing(sorted(warehouses))})")
        currencies = {str(c.get("Shortcut")).upper() for c in dictionary("/Currencies") if c.get("Active", True)}
        unknown_currencies = sorted(c for c in o.fixed_rates if c.upper() not in currencies)
        if unknown_currencies:
            problems.append(f"orders.fixed_rates: {_listing(unknown_currencies)} not a currency of the company "
                            f"(it has: {_listing(sorted(currencies))})")
        for name, code in (("orders.shipping_code", o.shipping_code), ("orders.fee_code", o.fee_code)):
            if not code:
                continue
            try:
                self.webapi.call("GET", "/Products", params={"code": code})
            except ErpNotFound:
                problems.append(f"{name} = {code!r}: no item with this code in the company (make it a service "
                                "item in Symfonia, or set the code of the one that exists)")
        if o.invoice != "never" and o.document in ("receipt", "by_buyer"):
            receipts = [str(t.get("Code")) for t in dictionary("/Sales/PARDocumentTypes")]
            if o.receipt_type not in receipts:
                problems.append(f"orders.receipt_type = {o.receipt_type!r} is not a receipt type of the company "
                                f"(Sales/PARDocumentTypes has: {_listing(receipts)})")
        if o.payment_registries:
            registers = {str(r.get("Code")): r for r in dictionary("/PaymentRegistries")}
            for method, code in sorted(o.payment_registries.items()):
                if code not in registers:
                    problems.append(f"orders.payment_registries.{method} = {code!r}: no such payment register "
                                    f"(the company has: {_listing(sorted(registers))})")
            kinds = {0: "cash", 1: "bank", 2: "other"}
            used = {kinds.get(int(registers[c].get("Type") or 0), "other") for c in o.payment_registries.values()
                    if c in registers}
            for kind in sorted(used):
                path = "/Payments/KPDocumentTypes" if kind == "cash" else "/Payments/BPDocumentTypes"
                types = [str(t.get("Code")) for t in dictionary(path)]
                if o.payment_types.get(kind) not in types:
                    problems.append(f"orders.payment_types.{kind} = {o.payment_types.get(kind)!r} is not a payment "
                                    f"document type of the company ({path.rsplit('/', 1)[1]} has: "
                                    f"{_listing(types)})")
        return problems
