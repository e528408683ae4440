"""The README's command lines work as written against a server set up like `make run`."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.helpers.servers import grpcurl
from tests.helpers.stack import Stack, wait_until

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_grpcurl_lines() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    block = text.split("## Diagnostics with grpcurl", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [shlex.split(line)[1:] for line in block.strip().splitlines() if line.startswith("grpcurl ")]


def admin_token(stack) -> str:
    """The token the server made (auth.token is empty here, as with `make run`)."""
    path = stack.config.parent / "var" / "shopsync" / "admin-token"
    assert path.stat().st_mode & 0o077 == 0, "readable by the server's account only"
    return path.read_text().strip()


@pytest.fixture
def stack(tmp_path):
    # as `make run`: the customer pairing pass runs a second after start (then every 600 s)
    s = Stack(tmp_path, products=20, shop_seed=True, auth={"token": ""},
              sync={"customer_pass_interval_seconds": 600}).start_server()
    yield s
    s.close()


def test_every_readme_grpcurl_line_works(stack):
    lines = readme_grpcurl_lines()
    assert len(lines) >= 7
    # a dead letter to retry, and a customer for the pairing line (customer 1 and contractor 1 exist)
    token = admin_token(stack)
    auth = ["-H", f"authorization: Bearer {token}"]
    done = grpcurl("-plaintext", *auth, "-d", '{"kind": "ERP_EVENT_KIND_PRICE_LIST_SAVED", "erp_id": 999, '
                   '"request_id": "x"}', stack.address, "shopsync.v1.ErpEventService/RecordErpEvent")
    assert done.returncode == 0, done.stderr
    # an order webhook for a SKU the ERP lacks -> a dead letter
    stack.post_webhook("order.created", {"id": 77, "number": "77", "status": "processing", "currency": "PLN",
                                         "billing": {"email": "a@b.pl"}, "line_items": [
                                             {"product_id": 1, "sku": "NIEMA", "quantity": 1, "subtotal": "1"}]})
    dead = wait_until(lambda: stack.queue_stats()["QUEUE_NAME_INBOX"].dead_letters, message="dead letter")
    assert dead == 1
    for args in lines:
        args = [a.replace("127.0.0.1:50051", stack.address).replace("$TOKEN", token) for a in args]
        if args[-1].endswith("RetryDeadLetter"):
            listed = grpcurl("-plaintext", *auth, stack.address, "shopsync.v1.QueueService/ListDeadLetters")
            dead_id = re.search(r'"id": "(\d+)"', listed.stdout).group(1)
            args[args.index("-d") + 1] = '{"id": %s}' % dead_id
        done = grpcurl(*args)
        assert done.returncode == 0, f"{' '.join(args)}: {done.stderr}"


def readme_try_lines() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = text.split("### Try it", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line for line in block.strip().splitlines() if line.startswith("shopsync ")]


def test_every_readme_try_it_line_works(stack):
    """Run as written, with the settings `make run` would use (here: the stack's, through SHOPSYNC_CONFIG)."""
    import subprocess

    from tests.helpers.servers import bin_path, env_with

    lines = readme_try_lines()
    assert len(lines) >= 5
    stack.act(stack.sim.save_item(1))
    wait_until(stack.queues_empty, message="idle")
    auth = ["-H", f"authorization: Bearer {admin_token(stack)}"]
    wait_until(lambda: "Zielony" in grpcurl("-plaintext", *auth, "-d", '{"needs_person": true}', stack.address,
                                            "shopsync.v1.CustomerService/ListCustomers").stdout,
               message="the pairing pass ran", timeout=30)
    outputs = {}
    for line in lines:
        args = shlex.split(line)
        done = subprocess.run([bin_path("shopsync"), *args[1:]], capture_output=True, text=True, timeout=120,
                              env=env_with(SHOPSYNC_CONFIG=str(stack.config)), cwd=stack.tmp)
        assert done.returncode == 0, f"{line}: {done.stderr}"
        outputs[line] = done.stdout
    waiting = outputs["shopsync customers list --needs-person"]
    assert "Zielony" in waiting or "K0001" in waiting, waiting
    assert "K0001" in waiting and "(id 1)" in waiting, "the candidates and their ids are shown"
