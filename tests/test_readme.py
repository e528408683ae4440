"""The README's grpcurl lines work as written against a server set up like `make run`."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.helpers.servers import grpcurl
from tests.helpers.stack import Stack, wait_until

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_grpcurl_lines() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    block = text.split("## Diagnostics with grpcurl", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [shlex.split(line)[1:] for line in block.strip().splitlines() if line.startswith("grpcurl ")]


@pytest.fixture
def stack(tmp_path):
    s = Stack(tmp_path, products=20, shop_seed=True, auth={"token": ""}).start_server()
    yield s
    s.close()


def test_every_readme_grpcurl_line_works(stack):
    lines = readme_grpcurl_lines()
    assert len(lines) >= 7
    # a dead letter to retry, and a customer for the pairing line (customer 1 and contractor 2 exist)
    done = grpcurl("-plaintext", "-d", '{"kind": "ERP_EVENT_KIND_PRICE_LIST_SAVED", "erp_id": 999, '
                   '"request_id": "x"}', stack.address, "shopsync.v1.ErpEventService/RecordErpEvent")
    assert done.returncode == 0, done.stderr
    # an order webhook for a SKU the ERP lacks -> a dead letter
    stack.post_webhook("order.created", {"id": 77, "number": "77", "status": "processing", "currency": "PLN",
                                         "billing": {"email": "a@b.pl"}, "line_items": [
                                             {"product_id": 1, "sku": "NIEMA", "quantity": 1, "subtotal": "1"}]})
    dead = wait_until(lambda: stack.queue_stats()["QUEUE_NAME_INBOX"].dead_letters, message="dead letter")
    assert dead == 1
    for args in lines:
        args = [a.replace("127.0.0.1:50051", stack.address) for a in args]
        if args[-1].endswith("RetryDeadLetter"):
            listed = grpcurl("-plaintext", stack.address, "shopsync.v1.QueueService/ListDeadLetters")
            dead_id = re.search(r'"id": "(\d+)"', listed.stdout).group(1)
            args[args.index("-d") + 1] = '{"id": %s}' % dead_id
        done = grpcurl(*args)
        assert done.returncode == 0, f"{' '.join(args)}: {done.stderr}"
