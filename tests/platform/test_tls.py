"""TLS on the gRPC server: plain-text clients fail, grpcurl with the CA file succeeds, hooks use the CA."""

from __future__ import annotations

import subprocess
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from shopsync.server.app import create_server
from shopsync.server.settings import Settings

from tests.helpers.servers import bin_path, env_with, grpcurl


def make_certs(d: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for localhost / 127.0.0.1 (openssl CLI)."""
    ca_key, ca, key, csr, cert = d / "ca.key", d / "ca.pem", d / "server.key", d / "server.csr", d / "server.pem"
    ext = d / "ext.cnf"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
        "-subj", "/CN=shopsync test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=localhost")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial", "-out", str(cert),
        "-days", "2", "-extfile", str(ext))
    return ca, cert, key


@pytest.fixture
def tls_server(tmp_path):
    ca, cert, key = make_certs(tmp_path)
    s = Settings(base_dir=str(tmp_path)).replace(
        grpc={"address": "127.0.0.1:0", "tls_cert": str(cert), "tls_key": str(key)},
        auth={"token": "tls-test-token"}, queue={"database": f"sqlite:///{tmp_path / 'q.db'}"},
        webhooks={"address": "127.0.0.1:0"}, sync={"workers": False}, console={"address": "127.0.0.1:0"})
    server, port = create_server(s)
    yield server, port, ca
    server.stop(grace=1)


@pytest.mark.slow
def test_plaintext_fails_and_grpcurl_with_the_ca_succeeds(tls_server):
    server, port, ca = tls_server
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        with pytest.raises(grpc.RpcError) as err:
            health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=3)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    plain = grpcurl("-plaintext", f"127.0.0.1:{port}", "grpc.health.v1.Health/Check")
    assert plain.returncode != 0
    ok = grpcurl("-cacert", str(ca), "-H", "authorization: Bearer tls-test-token", f"127.0.0.1:{port}",
                 "shopsync.v1.QueueService/GetQueueStats")
    assert ok.returncode == 0, ok.stderr
    no_token = grpcurl("-cacert", str(ca), f"127.0.0.1:{port}", "shopsync.v1.QueueService/GetQueueStats")
    assert no_token.returncode != 0 and "Unauthenticated" in no_token.stderr


def test_hook_over_tls_with_token(tls_server, tmp_path):
    server, port, ca = tls_server
    done = subprocess.run([bin_path("erp-hook"), "item-saved", "5"], capture_output=True, text=True,
                          env=env_with(SHOPSYNC_GRPC_ADDRESS=f"127.0.0.1:{port}", SHOPSYNC_HOOKS_TLS_CA=str(ca),
                                       SHOPSYNC_TOKEN="tls-test-token", SHOPSYNC_SPOOL=str(tmp_path / "s.jsonl")),
                          timeout=30)
    assert done.returncode == 0, done.stderr
    assert server.runtime.store.depth("erp_events") == 1
    assert not (tmp_path / "s.jsonl").exists()


def test_the_console_speaks_tls_with_the_same_certificate(tls_server):
    import httpx

    server, port, ca = tls_server
    console = server.runtime.console_http
    assert console.scheme == "https"
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{console.port}/metrics", timeout=3)
    ok = httpx.get(f"https://127.0.0.1:{console.port}/metrics", verify=str(ca), timeout=10)
    assert ok.status_code == 200 and "shopsync_queue_depth" in ok.text
