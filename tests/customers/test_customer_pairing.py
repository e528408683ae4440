"""Customers paired with ERP contractors by NIP over the real pieces; the status the shop shows;
pairing by hand over gRPC (grpcurl)."""

from __future__ import annotations

import json

import pytest

from shopsync.v1 import customers_pb2, customers_pb2_grpc
from tests.conftest import ERP_STACKS, make_stack
from tests.helpers.servers import grpcurl
from tests.helpers.stack import TOKEN, wait_until


@pytest.fixture(params=ERP_STACKS)
def stack(request, tmp_path):
    """The local shop (webhooks + polling) and a real WooCommerce (polling: its webhooks come late)."""
    s = make_stack(request, tmp_path, products=30).start_server()
    s.register_webhooks()
    yield s
    s.close()


def test_customers_paired_by_nip_and_status_shown_in_the_shop(stack):
    from shopsync.demo import data as demo_data

    contractors = demo_data.contractors()
    api = stack.shop_api()
    single = contractors[4]  # unique NIP
    ids = {}
    for email, nip in (("jeden@example.pl", single.nip_typed.replace("PL", "").strip()),
                       ("dwa@example.pl", contractors[0].nip10),  # two ERP contractors share this NIP
                       ("zly@example.pl", "123-456-78-90"),
                       ("brak@example.pl", "")):
        body = {"email": email, "first_name": "Jan", "last_name": "Nowak",
                "meta_data": [{"key": "_billing_nip", "value": nip}] if nip else []}
        ids[email] = api.post("/customers", json=body).json()["id"]

    def status(email: str) -> dict:
        body = api.get(f"/customers/{ids[email]}").json()
        return {m["key"]: m["value"] for m in body["meta_data"]}.get("_shopsync_pairing") or {}

    wait_until(lambda: all(status(e) for e in ids), message="statuses written to the shop")
    kid = stack.erp.find_contractors_by_nip(single.nip10)[0].id
    assert status("jeden@example.pl")["status"] == "paired" and status("jeden@example.pl")["erp_contractor_id"] == kid
    assert status("dwa@example.pl")["status"] == "needs_person" and "several" in status("dwa@example.pl")["detail"]
    assert status("zly@example.pl")["status"] == "invalid_nip"
    assert status("brak@example.pl")["status"] == "no_nip"
    with stack.channel() as ch:
        stub = customers_pb2_grpc.CustomerServiceStub(ch)
        waiting = stub.ListCustomers(customers_pb2.ListCustomersRequest(needs_person=True), metadata=stack.metadata)
        assert {c.email for c in waiting.customers} == {"dwa@example.pl", "zly@example.pl", "brak@example.pl"}
    # a person pairs one by hand, with grpcurl as the README shows
    choice = stack.erp.find_contractors_by_nip(contractors[0].nip10)[1].id
    done = grpcurl("-plaintext", "-H", f"authorization: Bearer {TOKEN}", "-d",
                   json.dumps({"shop_customer_id": ids["dwa@example.pl"], "erp_contractor_id": choice}),
                   stack.address, "shopsync.v1.CustomerService/PairCustomer")
    assert done.returncode == 0, done.stderr
    wait_until(lambda: status("dwa@example.pl").get("erp_contractor_id") == choice, message="manual pairing shown")
    assert status("dwa@example.pl")["manual"] is True
    missing = grpcurl("-plaintext", "-H", f"authorization: Bearer {TOKEN}", "-d",
                      json.dumps({"shop_customer_id": ids["brak@example.pl"], "erp_contractor_id": 99999}),
                      stack.address, "shopsync.v1.CustomerService/PairCustomer")
    assert missing.returncode != 0 and "NotFound" in missing.stderr and "99999" in missing.stderr
    api.close()
