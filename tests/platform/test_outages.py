"""Outages: the shop down while the ERP keeps changing; the server down while hooks keep firing."""

from __future__ import annotations

import random
import subprocess
import time

import pytest

from tests.conftest import ERP_STACKS, make_stack
from tests.helpers.servers import bin_path, env_with
from tests.helpers.stack import Stack, wait_until


@pytest.fixture
def stack(tmp_path):
    s = Stack(tmp_path, products=120).start_server()
    yield s
    s.close()


@pytest.fixture(params=ERP_STACKS)
def any_stack(request, tmp_path):
    """The local shop and the real WooCommerce (stopped and started again on the same port)."""
    s = make_stack(request, tmp_path, products=120).start_server()
    yield s
    s.close()


@pytest.mark.slow
def test_shop_down_1000_events_then_back_shop_equals_erp(any_stack):
    stack = any_stack
    marked = [pid for pid in range(1, 121) if stack.erp.get_products([pid])[pid].marked][:40]
    for pid in marked[:20]:
        stack.act(stack.sim.save_item(pid))
    wait_until(stack.queues_empty, message="initial sync")
    stack.shop.stop()
    rng = random.Random(7)
    from shopsync.v1 import erp_events_pb2, erp_events_pb2_grpc

    kinds = {"stock-changed": erp_events_pb2.ERP_EVENT_KIND_STOCK_CHANGED,
             "reservation-made": erp_events_pb2.ERP_EVENT_KIND_RESERVATION_MADE,
             "item-saved": erp_events_pb2.ERP_EVENT_KIND_ITEM_SAVED,
             "note-edited": erp_events_pb2.ERP_EVENT_KIND_NOTE_EDITED}
    ch = stack.channel()
    events = erp_events_pb2_grpc.ErpEventServiceStub(ch)
    for n in range(1000):
        pid = rng.choice(marked)
        r = rng.random()
        if r < 0.5:
            event = stack.sim.approve_pz(pid, rng.randint(1, 5), warehouse=rng.choice([1, 2]))
        elif r < 0.8:
            e, p, _ = stack.sim.add_reservation(pid, 1, warehouse=1)
            event = (e, p)
        elif r < 0.9:
            event = stack.sim.save_item(pid, name=f"Produkt {pid} wersja {n}")
        else:
            event = stack.sim.edit_note(pid, f"Opis {n}")
        # the hook's own call (hook processes themselves are timed in the next test)
        events.RecordErpEvent(erp_events_pb2.RecordErpEventRequest(
            request_id=f"ev-{n}", kind=kinds[event[0]], erp_id=event[1]), timeout=10, metadata=stack.metadata)
    ch.close()
    stats = stack.queue_stats()
    assert stats["QUEUE_NAME_OUTBOX"].pending + stats["QUEUE_NAME_OUTBOX"].in_flight > 0
    stack.shop.start()
    wait_until(stack.queues_empty, timeout=120, message="queue drained after the shop came back")
    products = stack.erp.get_products(marked)
    stock = stack.erp.commercial_stock(marked)
    for pid in marked:
        shop = stack.shop_product(products[pid].code)
        assert shop is not None, f"product {pid} missing in the shop"
        assert shop.name == products[pid].name and shop.description == products[pid].note
        assert shop.stock == max(stock[pid], 0), f"stock of {pid}"
    assert all(q.dead_letters == 0 for q in stack.queue_stats().values())


def test_server_down_hooks_spool_fast_and_arrive_later(stack):
    code = stack.erp.get_product(1).code
    stack.stop_server()
    timings = []
    for qty in (3, 4, 5):
        event = stack.sim.approve_pz(1, qty)
        start = time.monotonic()
        done = stack.hook(*event)
        timings.append(time.monotonic() - start)
        assert done.returncode == 0, done.stderr
    assert max(timings) < 1.0, timings
    assert (stack.tmp / "spool.jsonl").read_text().count("\n") == 3
    stack.start_server()
    done = run_hook("flush", "--config", str(stack.config))
    assert done.returncode == 0, done.stderr
    assert (stack.tmp / "spool.jsonl").read_text() == ""
    wait_until(lambda: stack.shop_product(code) and stack.shop_product(code).stock ==
               stack.erp.commercial_stock([1])[1], message="spooled events reached the shop")


def run_hook(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([bin_path("erp-hook"), *args], capture_output=True, text=True, env=env_with(), timeout=30)


def test_hook_bad_arguments_exit_2_with_one_line():
    for args in (["nonsense", "1"], ["stock-changed", "abc"], ["stock-changed", "-4"], ["stock-changed"],
                 ["stock-changed", "1", "--config"]):
        done = run_hook(*args)
        assert done.returncode == 2
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_marker_given_and_taken_back_while_the_shop_is_down_never_publishes(stack):
    """The first publish waits in the outbox; losing the marker meanwhile must reach it."""
    unmarked = [pid for pid in range(1, 121) if not stack.erp.get_products([pid])[pid].marked][:3]
    stack.shop.stop()
    for pid in unmarked:
        stack.act(stack.sim.set_marker(pid, True))
    wait_until(lambda: stack.queue_stats()["QUEUE_NAME_OUTBOX"].pending == len(unmarked), message="queued")
    for pid in unmarked:
        stack.act(stack.sim.set_marker(pid, False))
    wait_until(lambda: stack.queue_stats()["QUEUE_NAME_ERP_EVENTS"].pending == 0, message="events read")
    stack.shop.start()
    wait_until(stack.queues_empty, timeout=60, message="drained")
    for pid in unmarked:
        shop = stack.shop_product(stack.erp.get_product(pid).code)
        assert shop is None or not shop.published, f"product {pid} published against the ERP"


@pytest.mark.slow
@pytest.mark.parametrize("wrong", ["url", "keys"])
def test_a_wrong_shop_setting_pauses_delivery_and_drops_nothing(tmp_path, wrong):
    """A wrong shop.url (404 with no API there) or wrong keys (401): messages wait, none is a dead letter;
    with the setting fixed and the server restarted, everything arrives."""
    stack = Stack(tmp_path, products=30, queue={"pause_recheck_seconds": 0.2})
    good = dict(stack.sections["shop"])
    if wrong == "url":
        stack.sections["shop"]["url"] = stack.shop.url + "/sklep"
    else:
        stack.sections["shop"]["consumer_secret"] = "cs_wrong"
    stack.write_config()
    stack.start_server()
    try:
        marked = [pid for pid in range(1, 31) if stack.erp.get_product(pid).marked][:5]
        for pid in marked:
            stack.act(stack.sim.save_item(pid))
        wait_until(lambda: stack.queue_stats()["QUEUE_NAME_OUTBOX"].pending == len(marked), message="kept")
        wait_until(lambda: stack.log.read_text().count("still paused") >= 3, message="looked again, still kept")
        stats = stack.queue_stats()
        assert stats["QUEUE_NAME_OUTBOX"].dead_letters == 0 and stats["QUEUE_NAME_OUTBOX"].pending == len(marked)
        log = stack.log.read_text()
        assert "delivery paused" in log and ("shop.url" in log if wrong == "url" else "consumer_key" in log)
        stack.stop_server()
        stack.sections["shop"] = good
        stack.write_config()
        stack.start_server()
        wait_until(stack.queues_empty, timeout=30, message="delivered after the fix")
        assert all(stack.shop_product(stack.erp.get_product(pid).code) for pid in marked)
    finally:
        stack.close()
