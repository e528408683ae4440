"""A document hook can name a document that is not issued yet (Symfonia's OnBeforeInsert runs just before it
is issued; OnAddNewDokument for a draft in the buffer) or never will be. Nothing is sent for a draft; the
server looks again at growing intervals, acts once it is issued, and forgets one that never is.
Real server process, hook processes, the demo company (its buffer) and the local shop over HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers.stack import Stack, wait_until


@pytest.fixture
def stack(tmp_path):
    s = Stack(tmp_path, products=10, sync={"draft_document_wait_seconds": 4}).start_server()
    yield s
    s.close()


def erp_stock(stack: Stack, pid: int) -> Decimal:
    return sum(stack.erp.commercial_stock([pid]).values(), Decimal(0))


def test_a_draft_sends_nothing_and_is_acted_on_once_issued(stack):
    code = stack.erp.get_product(2).code
    stack.act(stack.sim.save_item(2))
    before = wait_until(lambda: stack.shop_product(code), message="in the shop").stock
    event, mg = stack.sim.draft_pz(2, 7)
    stack.act((event, mg))  # OnBeforeInsert: the hook comes while the PZ is still in the buffer
    wait_until(lambda: f"document {mg} is draft" in stack.log.read_text(), message="seen as a draft")
    assert stack.shop_product(code).stock == before, "nothing sent for a draft"
    stack.sim.issue_document(mg)  # issued; no second hook
    wait_until(lambda: stack.shop_product(code).stock == before + 7, timeout=30, message="acted on once issued")
    assert erp_stock(stack, 2) == before + 7


def test_a_draft_never_issued_is_forgotten_after_the_rechecks(stack):
    code = stack.erp.get_product(2).code
    stack.act(stack.sim.save_item(2))
    before = wait_until(lambda: stack.shop_product(code), message="in the shop").stock
    event, mg = stack.sim.draft_pz(2, 3)
    stack.act((event, mg))
    wait_until(lambda: f"document {mg} named by a hook is still draft" in stack.log.read_text(), timeout=30,
               message="forgotten after the rechecks")
    log = stack.log.read_text()
    assert log.count(f"document {mg} is draft") >= 2, "looked at again before forgetting it"
    wait_until(stack.queues_empty, message="nothing left waiting")
    assert stack.shop_product(code).stock == before
    stats = stack.queue_stats()
    assert all(s.dead_letters == 0 for s in stats.values())
