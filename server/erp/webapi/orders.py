"""Customer orders (ZMO) through the WebAPI: found by the shop's number, written once, read, followed and
cancelled as far as the API allows.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Sequence

from ..errors import ErpConfigError, ErpNotFound, ErpPermanent, ErpRetryable
from ..records import (
    ONE_TIME_CONTRACTOR,
    ORDER_CANCELLED,
    ORDER_NEW,
    ORDER_PARTIAL,
    ORDER_REALISED,
    OrderDraft,
    OrderProgress,
    OrderRecord,
    check_order_draft,
)
from ..rounding import money
from .shapes import (
    CANCELLED,
    CENT,
    DOCUMENT_CLOSED,
    DOCUMENT_PARTIAL,
    DOCUMENT_REALIZED,
    PRICE_KIND_GROSS,
    PRICE_KIND_NET,
    RESERVATION_BY_QUANTITY,
    _listing,
    _num,
    _one_time_data,
    _reserved_by_order,
)

log = logging.getLogger(__name__)


class WebApiOrders:
    """Orders through the WebAPI."""

    def find_order_by_shop_number(self, shop_number: str, since: dt.date | None = None) -> int | None:
        """The ERP order of a shop order by the shop's number in `Id2External`, among the orders issued from
        the shop order's day (`since`, when the caller knows it; else the last 62 days) until today (`GET
        /api/Orders/Filter`; the WebAPI has no filter by it). A live one before a cancelled one."""
        today = dt.date.today()
        start = since - dt.timedelta(days=1) if since else today - dt.timedelta(days=self.lookup_days)
        found = self.webapi.call("GET", "/Orders/Filter", params={
            "dateFrom": f"{start}T00:00:00",
            "dateTo": f"{today + dt.timedelta(days=1)}T00:00:00"}) or []
        ours = [o for o in found if isinstance(o, dict) and o.get("Id2External") == shop_number]
        ours.sort(key=lambda o: (o.get("Canceled") in CANCELLED, int(o.get("Id") or 0)))
        return int(ours[0]["Id"]) if ours else None

    def find_order(self, order: OrderDraft) -> int | None:
        """The ERP order written for this shop order, found by the shop's number in `Id2External` among the
        buyer's orders issued from the shop order's date until today (`GET /api/Orders/Filter?buyerId=`);
        cancelled ones too (an order once imported is never imported again). GUESS: the filter's dates are
        the orders' IssueDate, both ends inclusive. A one-time buyer has no id: all recent orders are asked."""
        if order.contractor_id == ONE_TIME_CONTRACTOR:
            return self.find_order_by_shop_number(order.shop_number, order.date)
        since = order.date or dt.date.today()
        found = self.webapi.call("GET", "/Orders/Filter", params={
            "buyerId": order.contractor_id, "dateFrom": f"{since - dt.timedelta(days=1)}T00:00:00",
            "dateTo": f"{max(since, dt.date.today()) + dt.timedelta(days=1)}T00:00:00"}) or []
        ours = [o for o in found if isinstance(o, dict) and o.get("Id2External") == order.shop_number]
        ours.sort(key=lambda o: (o.get("Canceled") in CANCELLED, int(o.get("Id") or 0)))  # a live one first
        return int(ours[0]["Id"]) if ours else None

    def warehouse_code(self) -> str:
        """OrderIssue.Warehouse: the code of erp.order_warehouse, from the company's Warehouses (read once).
        GUESS: the field (a string) takes the warehouse's Code (Handel's symbol), as a person picks it."""
        if self._warehouse_code is None:
            codes = {int(w["Id"]): str(w.get("Code") or "") for w in self.webapi.call("GET", "/Warehouses") or []
                     if isinstance(w, dict) and w.get("Id") is not None}
            if self.order_warehouse not in codes:
                raise ErpConfigError(f"erp.order_warehouse = {self.order_warehouse}: no such warehouse in the "
                                     f"company (it has: {_listing(sorted(codes))})")
            self._warehouse_code = codes[self.order_warehouse]
        return self._warehouse_code

    def order_body(self, order: OrderDraft, codes: dict[int, tuple[str, str, int]],
                   address_label: str | None, *, payment_form: int | None = None) -> dict[str, Any]:
        date = (order.date.isoformat() if order.date else None)
        buyer: dict[str, Any] = {"Id": order.contractor_id}
        recipient: dict[str, Any] = {"Id": order.contractor_id}
        if order.contractor_id == ONE_TIME_CONTRACTOR and order.one_time is not None:
            # The reference's rule: neither Id nor Code -> a one-time contractor, made of Data.
            buyer = {"Id": None, "Code": "", "Data": _one_time_data(order.one_time.name, order.one_time.nip,
                                                                      order.one_time)}
            where = order.delivery or order.one_time
            recipient = {"Id": None, "Code": "", "Data": _one_time_data(
                order.delivery.name if order.delivery else order.one_time.name, "", where)}
        elif address_label:
            # GUESS: a delivery address is named by its code (HM.AD.nazwaAdr) of the recipient.
            recipient["DeliveryAddressCode"] = address_label
        body: dict[str, Any] = {
            "TypeCode": "ZMO", "Series": self.order_series, "NumberInSeries": None, "Department": self.department,
            # Where the lines are reserved: left out, the ERP's default warehouse, which may not be one the
            # shop's stock is read from (erp.warehouses) - the shop would oversell.
            "Warehouse": self.warehouse_code(),
            "IssueDate": date, "SaleDate": date,
            "Buyer": buyer, "Recipient": recipient,
            "Currency": order.currency, "CurrencyRate": _num(order.rate),
            "PriceKind": PRICE_KIND_GROSS if order.prices_gross else PRICE_KIND_NET,
            "SalePriceType": self.sale_price_type,
            "ReservationType": RESERVATION_BY_QUANTITY,
            # The shop's number in the field meant for it (found again by it); the description keeps the text.
            "Id2External": order.shop_number, "IdExternal": order.shop_order_id,
            "Description": order.note, "Note": order.customer_note,
            # Value is "the value of the position" ([wartosc]): quantity x unit price, to the grosz, in the
            # document's PriceKind and currency (the reference; [PHP] sends the line's total_gross).
            "Positions": [{"Code": codes[ln.product_id][0], "Quantity": _num(ln.quantity),
                           "Value": _num((ln.quantity * ln.price).quantize(CENT, rounding=ROUND_HALF_UP)),
                           "UnitOfMeasurement": codes[ln.product_id][1]} for ln in order.lines],
        }
        form = payment_form or order.payment_form
        if form:
            body["PaymentFormId"] = int(form)
        return body

    def create_order(self, order: OrderDraft, *, looked_up: bool = False) -> tuple[int, bool]:
        """One ZMO through `POST /api/OrdersIssue/New?issue=true`; (order id, created?)."""
        check_order_draft(order)
        existing = None if looked_up else self.find_order(order)
        if existing is not None:
            return existing, False
        key, what = f"webapi.order.{order.shop_number}", f"order {order.shop_number}"
        self._refuse_if_held(key, what)
        if not self.department.strip():
            raise ErpConfigError("erp.webapi_department is not set: Symfonia requires the department (dział) of "
                                 "every order issued through the WebAPI")
        problems = self.settings_ok()
        if problems:
            raise ErpConfigError("the settings do not fit the ERP company: " + "; ".join(problems))
        one_time = order.contractor_id == ONE_TIME_CONTRACTOR
        if one_time and (order.one_time is None or self.settings is None or
                         not self.settings.orders.guests_as_one_time):
            raise ErpPermanent(f"order {order.shop_number}: no contractor, and one-time contractors are not allowed "
                               "(orders.guests_as_one_time)")
        card: dict[str, Any] = {}
        try:
            # An Id the ERP does not know silently becomes a one-time contractor: never send one.
            if not one_time:
                card = self.webapi.call("GET", "/Contractors", params={"id": int(order.contractor_id)}) or {}
        except ErpNotFound:
            raise ErpPermanent.of("erp.order_contractor_gone", order=order.shop_number,
                                  id=order.contractor_id) from None
        # PaymentFormId is required: the shop's method mapped, else the contractor card's own (as Symfonia
        # fills it in for a person).
        payment_form = order.payment_form or (card.get("PaymentForm") or {}).get("Id") or None
        if not payment_form:
            raise ErpConfigError(f"order {order.shop_number}: no payment form - the payment method is not in "
                                 "orders.payment_forms and the contractor has none; set orders.default_payment_form "
                                 "(an id from Symfonia's payment forms)")
        # The lines' codes and units as the order's pricing read them; a product only for lines that lack them.
        codes = {ln.product_id: (ln.code, ln.unit or "szt.", 0) for ln in order.lines if ln.code}
        unread = [ln.product_id for ln in order.lines if ln.product_id not in codes]
        codes.update({pid: (p.code, p.unit or "szt.", p.vat) for pid, p in self.get_products(unread).items()})
        for lp, ln in enumerate(order.lines, start=1):
            if ln.product_id not in codes:
                raise ErpPermanent.of("erp.order_product_gone", order=order.shop_number, line=lp, id=ln.product_id)
        if not one_time:  # a one-time recipient carries its address in the order itself
            self.delivery_address_for(order)
        label = order.delivery.label[:40] if order.delivery is not None and not one_time else None
        body = self.order_body(order, codes, label, payment_form=int(payment_form))
        answer, found = self._send_once(key, what, lambda: self.webapi.call(
            "POST", "/OrdersIssue/New", params={"issue": "true"}, body=body), lambda: self.find_order(order))
        if found is not None:
            return found, True
        if not isinstance(answer, dict) or not answer.get("Id"):
            raise ErpRetryable(f"order {order.shop_number}: the WebAPI answered without an order id")
        zo = int(answer["Id"])
        gross = answer.get("GrossValue")
        if order.expected_gross is not None and gross is not None and \
                Decimal(str(gross)).quantize(Decimal("0.01")) != order.expected_gross:
            raise ErpPermanent(f"order {order.shop_number}: ERP order {answer.get('DocumentNumber')} was created, "
                               f"but the ERP valued it at {gross} {order.currency} gross, the customer paid "
                               f"{order.expected_gross}: correct the order in Symfonia, then discard this dead "
                               "letter (retrying finds the order and writes nothing)")
        log.info("order %s written through the WebAPI as %s", order.shop_number, answer.get("DocumentNumber"))
        return zo, True

    def get_order(self, order_id: int) -> OrderRecord:
        """An ERP order as the sync shows it: `GET /api/Orders?id=` (header and positions) and its reservations
        (`GET /api/Reservations/Filter?productId=` of its products, those made for this order)."""
        o = self.webapi.call("GET", "/Orders", params={"id": int(order_id)})
        positions = [p for p in o.get("Positions") or [] if isinstance(p, dict) and p.get("ProductId")]
        reservations = []
        for pid in sorted({int(p["ProductId"]) for p in positions}):
            reservations += [(int(r["ProductId"]), money(float(r.get("Quantity") or 0)), int(r.get("WarehouseId") or 0))
                             for r in self.webapi.call("GET", "/Reservations/Filter", params={"productId": pid}) or []
                             if _reserved_by_order(r, int(order_id))]
        return OrderRecord(
            id=int(o["Id"]), code=str(o.get("DocumentNumber") or ""), shop_number=str(o.get("Id2External") or ""),
            contractor_id=int(o.get("BuyerId") or 0), delivery_address_id=o.get("RecipientAddressId"),
            currency=str(o.get("Currency") or "PLN"), rate=money(float(o.get("CurrencyRate") or 1)),
            net=money(float(o.get("NetValuePLN") or 0)),
            lines=[(int(p["ProductId"]), money(float(p.get("Quantity") or 0)),
                    money(float(p.get("NetValue") or 0) / float(p.get("Quantity") or 1))) for p in positions],
            reservations=sorted(reservations), vat=money(float(o.get("VatValuePLN") or 0)),
            buffered=bool(o.get("Buffer")), description=str(o.get("Description") or ""))

    def order_progress(self, order_ids: Sequence[int]) -> dict[int, OrderProgress]:
        """Where each order stands, from the WebAPI: cancelled (`Orders?id=`, Canceled), realised in part or in
        full (`Orders/Status`, DocumentStatus 8 Partial / 16 Realized), its invoices (`Orders/FV`) and warehouse
        issues (`Orders/WZ`). An order the ERP no longer has is left out."""
        out: dict[int, OrderProgress] = {}
        for zo in sorted({int(i) for i in order_ids}):
            try:
                order = self.webapi.call("GET", "/Orders", params={"id": zo})
            except ErpNotFound:
                continue
            number = str(order.get("DocumentNumber") or "")
            invoices = tuple(str(f.get("DocumentNumber") or "") for f in
                             self.webapi.call("GET", "/Orders/FV", params={"orderId": zo}) or [])
            issues = tuple(str(w.get("DocumentNumber") or "") for w in
                           self.webapi.call("GET", "/Orders/WZ", params={"orderId": zo}) or [])
            if order.get("Canceled") in CANCELLED or order.get("Active") is False:
                state = ORDER_CANCELLED
            else:
                status = int((self.webapi.call("GET", "/Orders/Status", params={"orderId": zo}) or {})
                             .get("DocumentStatus") or 0)
                state = {DOCUMENT_PARTIAL: ORDER_PARTIAL, DOCUMENT_REALIZED: ORDER_REALISED,
                         DOCUMENT_CLOSED: ORDER_REALISED}.get(status, ORDER_NEW)
            out[zo] = OrderProgress(zo, number, state, invoices, issues)
        return out

    def order_products(self, order_id: int) -> list[int]:
        """The products on an order's lines (`GET /api/Orders?id=`, Positions); none when it is gone."""
        try:
            order = self.webapi.call("GET", "/Orders", params={"id": int(order_id)})
        except ErpNotFound:
            return []
        return sorted({int(p["ProductId"]) for p in order.get("Positions") or []
                       if isinstance(p, dict) and p.get("ProductId")})

    def cancel_order(self, order_id: int) -> bool:
        """Cancel an ERP order as far as the WebAPI allows: a buffered order is deleted
        (`DELETE /api/OrdersIssue/Delete?id=`, its reservations with it); the WebAPI has no call that cancels an
        issued one, so that is a person's work, said precisely (ErpPermanent: a dead letter). False when the
        order is cancelled already."""
        order = self.webapi.call("GET", "/Orders", params={"id": int(order_id)})
        number = order.get("DocumentNumber") or f"id {order_id}"
        if order.get("Canceled") in CANCELLED or order.get("Active") is False:
            return False
        if order.get("Buffer"):
            self.webapi.call("DELETE", "/OrdersIssue/Delete", params={"id": int(order_id)})
            log.info("ERP order %s was in the buffer: deleted through the WebAPI", number)
            return True
        raise ErpPermanent(f"ERP order {number} is issued, and Symfonia's WebAPI cannot cancel an issued order: in "
                           f"Symfonia open Customer orders (Zamówienia od odbiorców), find {number} and cancel it "
                           "(Anuluj), which releases its reservations (the shop's stock follows); then retry this "
                           "dead letter, which finds the order cancelled and does nothing more")
