"""Build the gRPC server: servicers, health, reflection, auth; the caller blocks.

    server, port = create_server(settings)
    server.wait_for_termination()
"""

from __future__ import annotations

import logging
import threading
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from . import reflection as api_reflection
from .auth import DecodeGuard, TokenFileError, TokenInterceptor, admin_token, hook_token
from .runtime import Runtime
from .servicers.customers import CustomerServicer
from .servicers.orders import OrderServicer
from .servicers.erp_events import ErpEventServicer
from .servicers.queue import QueueServicer
from .servicers.sync import SyncServicer
from .settings import Settings, SettingsError
from shopsync.v1 import (customers_pb2, customers_pb2_grpc, erp_events_pb2, erp_events_pb2_grpc, orders_pb2,
                         orders_pb2_grpc, queue_pb2, queue_pb2_grpc, sync_pb2, sync_pb2_grpc)

log = logging.getLogger(__name__)

SERVICE_NAMES = [
    queue_pb2.DESCRIPTOR.services_by_name["QueueService"].full_name,
    erp_events_pb2.DESCRIPTOR.services_by_name["ErpEventService"].full_name,
    sync_pb2.DESCRIPTOR.services_by_name["SyncService"].full_name,
    customers_pb2.DESCRIPTOR.services_by_name["CustomerService"].full_name,
    orders_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name,
]


class ShopsyncServer:
    """The running gRPC server plus the runtime behind it (queue, workers, webhooks)."""

    def __init__(self, grpc_server: grpc.Server, runtime: Runtime, health_servicer: Any) -> None:
        self.grpc = grpc_server
        self.runtime = runtime
        self._health = health_servicer
        self._stopped = threading.Event()

    def stop(self, grace: float | None = 5.0) -> None:
        """Stop taking calls, let in-flight calls and deliveries finish, close the queue."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._health.enter_graceful_shutdown()
        done = self.grpc.stop(grace)
        self.runtime.stop(grace or 0)
        done.wait(grace)
        self.runtime.close()
        log.info("server stopped")

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        return self.grpc.wait_for_termination(timeout)


def create_server(settings: Settings, runtime: Runtime | None = None) -> tuple[ShopsyncServer, int]:
    """Build and start the server on settings.grpc.address; returns it and its bound port."""
    address = settings.grpc.address
    # A token on every call, loopback included: the office machine's other users are not trusted.
    try:
        token, hook = admin_token(settings, create=True), hook_token(settings, create=True)
    except (TokenFileError, OSError) as exc:
        raise SettingsError(f"auth: {exc}") from None
    if not settings.auth.token:
        log.info("the admin token is in %s (owner-only); `shopsync` reads it from there",
                 settings.path(settings.auth.token_file))
    if not settings.auth.hook_token:
        log.info("the hook token for the Symfonia workstations (auth.hook_token in their erp-hook settings) is in %s",
                 settings.path(settings.auth.hook_token_file))
    runtime = runtime or Runtime(settings)
    runtime.open()
    interceptors: list[grpc.ServerInterceptor] = [TokenInterceptor(token, hook), DecodeGuard()]
    options = [
        ("grpc.max_receive_message_length", settings.grpc.max_message_bytes),
        ("grpc.max_send_message_length", settings.grpc.max_message_bytes),
        ("grpc.so_reuseport", 0),
    ]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=settings.grpc.workers,
                                                    thread_name_prefix="grpc"),
                         interceptors=interceptors, options=options)
    queue_pb2_grpc.add_QueueServiceServicer_to_server(QueueServicer(runtime.store), server)
    erp_events_pb2_grpc.add_ErpEventServiceServicer_to_server(ErpEventServicer(runtime.store, runtime), server)
    sync_pb2_grpc.add_SyncServiceServicer_to_server(SyncServicer(runtime), server)
    customers_pb2_grpc.add_CustomerServiceServicer_to_server(CustomerServicer(runtime), server)
    orders_pb2_grpc.add_OrderServiceServicer_to_server(OrderServicer(runtime), server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    api_reflection.enable([*SERVICE_NAMES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                           reflection.SERVICE_NAME], server)
    try:  # the HTTP doors and the workers first: once the gRPC port takes connections, everything answers
        runtime.start()
    except OSError as exc:
        runtime.stop(grace=1)
        runtime.close()
        raise SettingsError(f"webhooks.address {settings.webhooks.address}: cannot listen there ({exc.strerror or exc})"
                            ) from None
    try:
        if settings.grpc.tls_cert:
            cert = settings.path(settings.grpc.tls_cert).read_bytes()
            key = settings.path(settings.grpc.tls_key).read_bytes()
            port = server.add_secure_port(address, grpc.ssl_server_credentials([(key, cert)]))
        else:
            port = server.add_insecure_port(address)
    except RuntimeError:  # grpcio raises "Failed to bind to address ..." rather than returning 0
        port = 0
    if not port:
        runtime.stop(grace=1)
        runtime.close()
        raise SettingsError(f"grpc.address {address}: cannot listen there (the port is in use by another "
                            "program, or the address is not one of this machine's)")
    server.start()
    # SERVING once the queue database is open (runtime.open succeeded).
    for name in ["", *SERVICE_NAMES]:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("gRPC listening on %s (port %d), token required", address, port)
    return ShopsyncServer(server, runtime, health_servicer), port
