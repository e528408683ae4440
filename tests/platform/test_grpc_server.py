"""The gRPC server over a real channel, and the real grpcurl binary against it."""

from __future__ import annotations

import json
import signal
import subprocess
import uuid
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from shopsync.server.app import create_server
from shopsync.server.settings import Settings, SettingsError

from shopsync.v1 import (customers_pb2, customers_pb2_grpc, erp_events_pb2, erp_events_pb2_grpc, queue_pb2, queue_pb2_grpc,
                         sync_pb2, sync_pb2_grpc)
from tests.helpers.servers import bin_path, env_with, free_port, grpcurl, wait_port

ROOT = Path(__file__).resolve().parents[2]


ADMIN = "t0k3n-admin-for-tests"
AUTH = ["-H", f"authorization: Bearer {ADMIN}"]  # grpcurl's
META = [("authorization", f"Bearer {ADMIN}")]  # a stub's


def make_settings(tmp_path, **sections) -> Settings:
    base = Settings(base_dir=str(tmp_path)).replace(
        grpc={"address": "127.0.0.1:0"}, auth={"token": ADMIN},
        queue={"database": f"sqlite:///{tmp_path / 'queue.db'}"},
        webhooks={"address": "127.0.0.1:0"},
        sync={"workers": False})
    return base.replace(**sections) if sections else base


@pytest.fixture
def running(tmp_path):
    server, port = create_server(make_settings(tmp_path))
    yield server, port
    server.stop(grace=1)


def test_grpcurl_lists_services_checks_health_and_reads_stats(running):
    server, port = running
    addr = f"127.0.0.1:{port}"
    listed = grpcurl("-plaintext", addr, "list")
    assert listed.returncode == 0, listed.stderr
    for name in ("shopsync.v1.QueueService", "shopsync.v1.ErpEventService", "grpc.health.v1.Health"):
        assert name in listed.stdout.split()
    health = grpcurl("-plaintext", addr, "grpc.health.v1.Health/Check")
    assert json.loads(health.stdout)["status"] == "SERVING"
    stats = grpcurl("-plaintext", *AUTH, addr, "shopsync.v1.QueueService/GetQueueStats")
    assert stats.returncode == 0, stats.stderr
    queues = {q["queue"] for q in json.loads(stats.stdout)["queues"]}
    assert queues == {"QUEUE_NAME_ERP_EVENTS", "QUEUE_NAME_OUTBOX", "QUEUE_NAME_INBOX"}


def test_record_event_is_durable_and_idempotent(running):
    server, port = running
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        stub = erp_events_pb2_grpc.ErpEventServiceStub(ch)
        req = erp_events_pb2.RecordErpEventRequest(
            request_id=uuid.uuid4().hex, kind=erp_events_pb2.ERP_EVENT_KIND_STOCK_CHANGED, erp_id=12)
        first = stub.RecordErpEvent(req, timeout=5, metadata=META)
        again = stub.RecordErpEvent(req, timeout=5, metadata=META)
        assert again.duplicate and again.message_id == first.message_id
        stats = queue_pb2_grpc.QueueServiceStub(ch).GetQueueStats(queue_pb2.GetQueueStatsRequest(), metadata=META)
        events = [q for q in stats.queues if q.queue == queue_pb2.QUEUE_NAME_ERP_EVENTS][0]
        assert events.pending == 1
    # committed: another connection to the database sees it
    assert server.runtime.store.depth("erp_events") == 1


@pytest.mark.parametrize("request_kwargs, field", [
    ({"kind": 0, "erp_id": 1, "request_id": "a"}, "kind"),
    ({"kind": 99, "erp_id": 1, "request_id": "a"}, "kind"),
    ({"kind": 1, "erp_id": 0, "request_id": "a"}, "erp_id"),
    ({"kind": 1, "erp_id": -5, "request_id": "a"}, "erp_id"),
    ({"kind": 1, "erp_id": 1, "request_id": ""}, "request_id"),
])
def test_bad_event_is_invalid_argument_naming_the_field(running, request_kwargs, field):
    server, port = running
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        stub = erp_events_pb2_grpc.ErpEventServiceStub(ch)
        with pytest.raises(grpc.RpcError) as err:
            stub.RecordErpEvent(erp_events_pb2.RecordErpEventRequest(**request_kwargs), timeout=5, metadata=META)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith(field)
    assert server.runtime.store.depth() == 0


def test_dead_letter_rpcs(running):
    server, port = running
    store = server.runtime.store
    store.enqueue("inbox", "order", {"number": "1001"}, entity_key="order:1001")
    m = store.claim("inbox")[0]
    store.fail(m, "line 1: SKU 'X' is not in the ERP", retryable=False)
    addr = f"127.0.0.1:{port}"
    listed = json.loads(grpcurl("-plaintext", *AUTH, addr, "shopsync.v1.QueueService/ListDeadLetters").stdout)
    assert listed["dead_letters"][0]["reason"] == "line 1: SKU 'X' is not in the ERP"
    dead_id = listed["dead_letters"][0]["id"]
    retried = grpcurl("-plaintext", *AUTH, "-d", json.dumps({"id": dead_id}), addr,
                      "shopsync.v1.QueueService/RetryDeadLetter")
    assert retried.returncode == 0 and store.depth("inbox") == 1
    missing = grpcurl("-plaintext", *AUTH, "-d", '{"id": 999999}', addr,
                      "shopsync.v1.QueueService/DiscardDeadLetter")
    assert missing.returncode != 0 and "NotFound" in missing.stderr


def test_token_required_except_health(tmp_path):
    server, port = create_server(make_settings(tmp_path, auth={"token": "s3cret-token"}))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            health = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            stub = queue_pb2_grpc.QueueServiceStub(ch)
            for metadata in (None, [("authorization", "Bearer wrong")]):
                with pytest.raises(grpc.RpcError) as err:
                    stub.GetQueueStats(queue_pb2.GetQueueStatsRequest(), timeout=5, metadata=metadata)
                assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
            ok = stub.GetQueueStats(queue_pb2.GetQueueStatsRequest(), timeout=5,
                                    metadata=[("authorization", "Bearer s3cret-token")])
            assert len(ok.queues) == 3
    finally:
        server.stop(grace=1)


def test_without_a_token_set_the_server_makes_one_only_its_account_reads_and_loopback_needs_it(tmp_path):
    """An attacker logged in to the same machine reaches 127.0.0.1 too: no call but health and reflection goes
    through without the token, which the server made into an owner-only file."""
    server, port = create_server(make_settings(tmp_path, auth={"token": ""}))
    try:
        made = tmp_path / "var" / "shopsync" / "admin-token"
        assert made.stat().st_mode & 0o777 == 0o600 and made.parent.stat().st_mode & 0o077 == 0
        token = made.read_text().strip()
        assert len(token) >= 40
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            stub = queue_pb2_grpc.QueueServiceStub(ch)
            with pytest.raises(grpc.RpcError) as err:
                stub.GetQueueStats(queue_pb2.GetQueueStatsRequest(), timeout=5)
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert stub.GetQueueStats(queue_pb2.GetQueueStatsRequest(), timeout=5,
                                      metadata=[("authorization", f"Bearer {token}")]).queues
        listed = grpcurl("-plaintext", f"127.0.0.1:{port}", "list")  # reflection needs no token
        assert "shopsync.v1.QueueService" in listed.stdout, listed.stderr
    finally:
        server.stop(grace=1)
    again, port = create_server(make_settings(tmp_path, auth={"token": ""}))  # the same token next time
    again.stop(grace=1)
    assert (tmp_path / "var" / "shopsync" / "admin-token").read_text().strip() == token


def test_a_token_file_another_user_could_read_or_planted_is_refused(tmp_path):
    planted = tmp_path / "var" / "shopsync" / "admin-token"
    planted.parent.mkdir(parents=True)
    planted.write_text("known-to-an-attacker\n")
    planted.chmod(0o644)
    with pytest.raises(SettingsError, match="may be read or changed by other users"):
        create_server(make_settings(tmp_path, auth={"token": ""}))


def test_the_hook_token_records_events_and_nothing_else(tmp_path):
    server, port = create_server(make_settings(tmp_path, auth={"token": "admin-token-1", "hook_token": "hook-1"}))
    hook = [("authorization", "Bearer hook-1")]
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            events = erp_events_pb2_grpc.ErpEventServiceStub(ch)
            events.RecordErpEvent(erp_events_pb2.RecordErpEventRequest(
                kind=erp_events_pb2.ERP_EVENT_KIND_STOCK_CHANGED, erp_id=1, request_id="h-1"), timeout=5,
                metadata=hook)
            attempts = [
                lambda: customers_pb2_grpc.CustomerServiceStub(ch).PairCustomer(customers_pb2.PairCustomerRequest(
                    shop_customer_id=1, erp_contractor_id=2), timeout=5, metadata=hook),
                lambda: queue_pb2_grpc.QueueServiceStub(ch).ListDeadLetters(queue_pb2.ListDeadLettersRequest(),
                                                                            timeout=5, metadata=hook),
                lambda: queue_pb2_grpc.QueueServiceStub(ch).RetryDeadLetter(queue_pb2.RetryDeadLetterRequest(id=1),
                                                                            timeout=5, metadata=hook),
                lambda: queue_pb2_grpc.QueueServiceStub(ch).GetQueueStats(queue_pb2.GetQueueStatsRequest(),
                                                                          timeout=5, metadata=hook),
                lambda: list(sync_pb2_grpc.SyncServiceStub(ch).RunCatchUp(sync_pb2.RunCatchUpRequest(), timeout=5,
                                                                          metadata=hook)),
            ]
            for attempt in attempts:
                with pytest.raises(grpc.RpcError) as err:
                    attempt()
                assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED, err.value.details()
                assert "admin token" in err.value.details()
    finally:
        server.stop(grace=1)


def test_serve_command_runs_and_stops_on_sigterm(tmp_path):
    port = free_port()
    env = env_with(SHOPSYNC_GRPC_ADDRESS=f"127.0.0.1:{port}",
                   SHOPSYNC_QUEUE_DATABASE=f"sqlite:///{tmp_path / 'q.db'}",
                   SHOPSYNC_SYNC_WORKERS="false", SHOPSYNC_WEBHOOKS_ADDRESS="127.0.0.1:0")
    proc = subprocess.Popen([bin_path("shopsync"), "serve"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_port("127.0.0.1", port)
        health = grpcurl("-plaintext", f"127.0.0.1:{port}", "grpc.health.v1.Health/Check")
        assert "SERVING" in health.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "server stopped" in out


def test_admin_commands_talk_to_the_server_and_fail_in_one_line(running, tmp_path):
    server, port = running
    env = env_with(SHOPSYNC_GRPC_ADDRESS=f"127.0.0.1:{port}", SHOPSYNC_TOKEN=ADMIN)
    done = subprocess.run([bin_path("shopsync"), "queue", "stats"], env=env, capture_output=True, text=True,
                          timeout=30, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["queue", "waiting", "in", "flight", "dead", "letters", "oldest", "waiting"]
    assert any(line.startswith("outbox (-> shop)") and line.split()[-4:] == ["0", "0", "0", "-"] for line in lines), \
        "every queue, zeros included"
    as_json = subprocess.run([bin_path("shopsync"), "queue", "stats", "--json"], env=env, capture_output=True,
                             text=True, timeout=30, cwd=tmp_path)
    assert "QUEUE_NAME_OUTBOX" in as_json.stdout
    queues = json.loads(as_json.stdout)["queues"]
    assert all(isinstance(q["pending"], int) and q["pending"] == 0 for q in queues), "zeros kept, as numbers"
    none = subprocess.run([bin_path("shopsync"), "queue", "dead-letters"], env=env, capture_output=True, text=True,
                          timeout=30, cwd=tmp_path)
    assert none.returncode == 0 and none.stdout.strip() == "no dead letters", none.stdout
    server.runtime.store.enqueue("inbox", "order", {"number": "1001"}, entity_key="order:1001")
    m = server.runtime.store.claim("inbox")[0]
    server.runtime.store.fail(m, "SKU 'X' is not in the ERP", retryable=False)
    one = subprocess.run([bin_path("shopsync"), "queue", "dead-letters"], env=env, capture_output=True, text=True,
                         timeout=30, cwd=tmp_path)
    assert f"{m.id}  inbox" in one.stdout and "order:1001" in one.stdout and "SKU 'X'" in one.stdout, one.stdout
    listed = json.loads(subprocess.run([bin_path("shopsync"), "queue", "dead-letters", "--json"], env=env,
                                       capture_output=True, text=True, timeout=30, cwd=tmp_path).stdout)
    assert listed["dead_letters"][0]["id"] == m.id
    missing = subprocess.run([bin_path("shopsync"), "queue", "retry", "4242"], env=env, capture_output=True,
                             text=True, timeout=30, cwd=tmp_path)
    assert missing.returncode == 1 and missing.stderr.strip().count("\n") == 0 and "NOT_FOUND" in missing.stderr
    down = subprocess.run([bin_path("shopsync"), "customers", "list"], capture_output=True, text=True, timeout=30,
                          env=env_with(SHOPSYNC_GRPC_ADDRESS="127.0.0.1:9", SHOPSYNC_TOKEN=ADMIN), cwd=tmp_path)
    assert down.returncode == 1 and "no server at 127.0.0.1:9" in down.stderr and "Traceback" not in down.stderr
    tokenless = subprocess.run([bin_path("shopsync"), "queue", "stats"], env=env_with(
        SHOPSYNC_GRPC_ADDRESS=f"127.0.0.1:{port}"), capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert tokenless.returncode == 1 and "no token" in tokenless.stderr and "admin-token" in tokenless.stderr
    assert down.returncode == 1 and "no server at 127.0.0.1:9" in down.stderr and "Traceback" not in down.stderr
    bad = subprocess.run([bin_path("shopsync"), "serve"], capture_output=True, text=True, timeout=30,
                         env=env_with(SHOPSYNC_QUEUE_LEASE_SECONDS="soon"), cwd=tmp_path)
    assert bad.returncode == 2 and "queue.lease_seconds" in bad.stderr and "Traceback" not in bad.stderr


def test_reflection_serves_the_apis_comments_and_finds_methods(running):
    _, port = running
    addr = f"127.0.0.1:{port}"
    service = grpcurl("-plaintext", addr, "describe", "shopsync.v1.QueueService")
    assert service.returncode == 0 and "// QueueService is the admin side" in service.stdout, service.stdout
    method = grpcurl("-plaintext", addr, "describe", "shopsync.v1.QueueService.GetQueueStats")
    assert method.returncode == 0 and "is a method" in method.stdout, method.stderr
    field = grpcurl("-plaintext", addr, "describe", "shopsync.v1.RetryDeadLetterRequest")
    assert "a repeat with the same id gets the first answer" in field.stdout
    assert grpcurl("-plaintext", addr, "describe", "grpc.health.v1.Health").returncode == 0


def test_every_rpc_message_and_field_has_a_comment():
    from google.protobuf import descriptor_pb2

    data = (ROOT / "shopsync" / "v1" / "descriptors.binpb").read_bytes()
    missing = []
    for f in descriptor_pb2.FileDescriptorSet.FromString(data).file:
        if not f.package.startswith("shopsync"):
            continue
        commented = {tuple(loc.path) for loc in f.source_code_info.location if loc.leading_comments.strip()}
        for si, s in enumerate(f.service):
            if (6, si) not in commented:
                missing.append(s.name)
            missing += [f"{s.name}.{m.name}" for mi, m in enumerate(s.method) if (6, si, 2, mi) not in commented]
        for mi, m in enumerate(f.message_type):
            if (4, mi) not in commented:
                missing.append(m.name)
            missing += [f"{m.name}.{fd.name}" for fi, fd in enumerate(m.field) if (4, mi, 2, fi) not in commented]
        for ei, e in enumerate(f.enum_type):
            missing += [f"{e.name}.{v.name}" for vi, v in enumerate(e.value) if (5, ei, 2, vi) not in commented]
    assert not missing, f"uncommented in protos/: {missing}"


def test_a_repeated_request_id_gets_the_first_answer(running):
    from shopsync.v1 import queue_pb2, queue_pb2_grpc

    server, port = running
    store = server.runtime.store
    store.enqueue("inbox", "order", {"n": 1}, entity_key="order:1")
    [m] = store.claim("inbox", limit=1)
    store.fail(m, "bad", retryable=False)
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        stub = queue_pb2_grpc.QueueServiceStub(ch)
        first = stub.RetryDeadLetter(queue_pb2.RetryDeadLetterRequest(id=m.id, request_id="r-1"), timeout=10, metadata=META)
        again = stub.RetryDeadLetter(queue_pb2.RetryDeadLetterRequest(id=m.id, request_id="r-1"), timeout=10, metadata=META)
        assert again.new_id == first.new_id  # not NOT_FOUND: the first answer
        with pytest.raises(grpc.RpcError) as err:
            stub.RetryDeadLetter(queue_pb2.RetryDeadLetterRequest(id=m.id, request_id="r-2"), timeout=10, metadata=META)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
