"""Signals for IT: /metrics in the Prometheus text format (parsed with prometheus_client's own parser) moves as
messages flow; alerts reach a real SMTP server (aiosmtpd) and a local HTTP receiver, grouped and resolved.
Real server processes, the demo company and the local shop over HTTP."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.servers import free_port
from tests.helpers.stack import Stack, wait_until


def scrape(stack: Stack) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"http://127.0.0.1:{stack.console_port}/metrics", timeout=10).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_move_as_messages_flow_through_an_outage(tmp_path):
    stack = Stack(tmp_path, products=20, alerts={"check_seconds": 0.5}).start_server()
    try:
        wait_until(lambda: value(scrape(stack), "shopsync_reachable", side="shop") == 1, message="first scrape")
        stack.shop.stop()
        marked = [pid for pid in range(1, 21) if stack.erp.get_product(pid).marked][:5]
        for pid in marked:
            stack.act(stack.sim.save_item(pid))
        wait_until(lambda: value(scrape(stack), "shopsync_queue_depth", queue="outbox", state="pending") >= 1,
                   timeout=30, message="the outbox grows while the shop is down")
        during = scrape(stack)
        assert value(during, "shopsync_reachable", side="shop") == 0
        assert value(during, "shopsync_hook_events_total", event="item-saved") == len(marked)
        assert value(during, "shopsync_call_errors_total", side="shop", call="upsert_products",
                     error="ShopUnavailable") >= 1
        stack.shop.start()
        wait_until(lambda: value(scrape(stack), "shopsync_queue_depth", queue="outbox", state="pending") == 0
                   and value(scrape(stack), "shopsync_queue_depth", queue="outbox", state="in_flight") == 0,
                   timeout=60, message="the outbox drains once the shop is back")
        after = scrape(stack)
        assert value(after, "shopsync_messages_settled_total", queue="outbox", entity="product", outcome="done") \
            >= len(marked)
        assert value(after, "shopsync_call_duration_seconds_count", side="shop", call="upsert_products") >= 1
        assert value(after, "shopsync_queue_oldest_age_seconds", queue="outbox") == 0
        assert ("shopsync_order_poll_lag_seconds", ()) in after
    finally:
        stack.close()


def test_metrics_from_another_machine_need_the_bearer_token(tmp_path):
    """The Flask application in this process, asked as if from 10.0.0.5."""
    from shopsync.server.runtime import Runtime
    from shopsync.server.settings import load_settings
    from shopsync.server.web import create_app

    stack = Stack(tmp_path, products=5, console={"metrics_token": "metryki-token-123"})
    try:
        rt = Runtime(load_settings(stack.config).replace(sync={"workers": False}))
        rt.open()
        client = create_app(rt).test_client()
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.5"}).status_code == 401
        wrong = {"Authorization": "Bearer nie-ten"}
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.5"}, headers=wrong).status_code == 401
        right = {"Authorization": "Bearer metryki-token-123"}
        ok = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.5"}, headers=right)
        assert ok.status_code == 200 and b"shopsync_queue_depth" in ok.data
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
        rt.close()
    finally:
        stack.close()


class Receiver:
    """A chat webhook that keeps what it is sent, and a real SMTP server that keeps the mail."""

    def __init__(self, tmp_path: Path) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Message

        self.posts: list[dict] = []
        self.mails: list[str] = []
        posts = self.posts

        class Hook(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        mails = self.mails

        class Keep(Message):
            def handle_message(self, message) -> None:  # type: ignore[override]
                mails.append(message["Subject"] + "\n" + message.get_payload())

        self.smtp_port = free_port()
        self.smtp = Controller(Keep(), hostname="127.0.0.1", port=self.smtp_port)
        self.smtp.start()

    def settings(self) -> dict:
        return {"webhook_url": f"http://127.0.0.1:{self.http.server_port}/chat", "smtp_host": "127.0.0.1",
                "smtp_port": self.smtp_port, "smtp_starttls": False, "mail_from": "shopsync@biuro.example.pl",
                "mail_to": "it@biuro.example.pl", "check_seconds": 0.3}

    def about(self, condition: str, state: str) -> list[dict]:
        return [p for p in self.posts if p["condition"] == condition and p["state"] == state]

    def close(self) -> None:
        self.http.shutdown()
        self.smtp.stop()


@pytest.fixture
def receiver(tmp_path):
    r = Receiver(tmp_path)
    yield r
    r.close()


def test_a_shop_outage_longer_than_the_set_time_sends_one_alert_and_one_resolved(tmp_path, receiver):
    stack = Stack(tmp_path, products=10, alerts={**receiver.settings(), "unreachable_minutes": 0.03}).start_server()
    try:
        wait_until(lambda: value(scrape(stack), "shopsync_reachable", side="shop") == 1, message="the shop answers")
        stack.shop.stop()
        wait_until(lambda: receiver.about("unreachable:shop", "firing"), timeout=30, message="the alert")
        wait_until(lambda: any("ALERT" in m and "the shop has not answered" in m for m in receiver.mails),
                   timeout=30, message="the alert mail")
        stack.shop.start()
        wait_until(lambda: receiver.about("unreachable:shop", "resolved"), timeout=30, message="resolved")
        wait_until(lambda: any("RESOLVED" in m for m in receiver.mails), timeout=30, message="the resolved mail")
        assert len(receiver.about("unreachable:shop", "firing")) == 1, "said once, not at every look"
        assert len(receiver.about("unreachable:shop", "resolved")) == 1
        firing = receiver.about("unreachable:shop", "firing")[0]
        assert firing["link"].startswith(f"http://127.0.0.1:{stack.console_port}")
        assert len([m for m in receiver.mails if "ALERT" in m]) == 1
    finally:
        stack.close()


def test_a_hundred_dead_letters_send_one_grouped_message(tmp_path, receiver):
    stack = Stack(tmp_path, products=5, alerts={**receiver.settings(), "min_interval_minutes": 30}).start_server()
    stack.register_webhooks()
    try:
        with stack.shop_api() as api:
            api.post("/products", json={"sku": "NIE-MA-W-ERP", "name": "x", "regular_price": "1.00"})
            for i in range(100):
                api.post("/orders", json={"status": "processing", "line_items": [{"sku": "NIE-MA-W-ERP",
                                                                                  "quantity": 1}],
                                          "billing": {"email": f"k{i}@example.pl"}}).raise_for_status()
        wait_until(lambda: stack.queue_stats()["QUEUE_NAME_INBOX"].dead_letters == 100, timeout=120,
                   message="100 dead letters")
        wait_until(lambda: receiver.about("dead-letters", "firing"), timeout=30, message="the message")
        looks = stack.log.read_text().count("alerts looked")
        wait_until(lambda: stack.log.read_text().count("alerts looked") >= looks + 5, timeout=30,
                   message="five more looks")  # nothing more is sent meanwhile: the rest is grouped
        assert len(receiver.about("dead-letters", "firing")) == 1
        assert "new dead letter(s) wait for a person" in receiver.about("dead-letters", "firing")[0]["message"]
        assert receiver.about("dead-letters", "firing")[0]["link"].endswith("/dead-letters")
    finally:
        stack.close()
