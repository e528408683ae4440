"""The server's one HTTP application (Flask), served at two doors by cheroot:

- the intake (`webhooks.address`, what the shop may reach): signed webhooks, image URLs, /healthz;
- the operators' console and /metrics (`console.address`, the office: loopback unless set).

One routing table and one place for limits (the largest body). A route answers only at its own door,
so nothing of the console is ever served at the shop's door. cheroot serves TLS with the gRPC
certificate (grpc.tls_cert / grpc.tls_key) when set; it is pure Python and runs as a Windows service.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterable

from flask import Flask, abort, request

from .doors import CONSOLE, DOOR_KEY, INTAKE

log = logging.getLogger(__name__)
__all__ = ["CONSOLE", "INTAKE", "HttpService", "create_app"]


def create_app(rt: Any) -> Flask:
    """The application for this server's runtime (`rt`: queue, ERP, shop, settings, activity)."""
    from . import console, intake

    app = Flask(__name__, static_folder=None)  # files are the console blueprint's, served at its door only
    app.config["MAX_CONTENT_LENGTH"] = max(rt.settings.webhooks.max_body_bytes, 16 * 1024)
    app.config["shopsync.runtime"] = rt
    app.register_blueprint(intake.blueprint)
    app.register_blueprint(console.blueprint)
    console.setup(app, rt)

    @app.before_request
    def one_door() -> None:
        door = request.environ.get(DOOR_KEY)
        wanted = getattr(app.view_functions.get(request.endpoint or ""), "door", None)
        if (request.endpoint or "").startswith("console."):
            wanted = CONSOLE  # the console's pages and files, never at the shop's door
        if wanted is not None and door is not None and wanted != door:
            abort(404)

    return app


class _Door:
    """WSGI: tell the application which door a request came in by."""

    def __init__(self, app: Any, door: str) -> None:
        self.app, self.door = app, door

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ[DOOR_KEY] = self.door
        return self.app(environ, start_response)


class HttpService:
    """A cheroot server for one door, in a background thread that can be stopped."""

    def __init__(self, app: Any, address: str, door: str, *, tls: tuple[str, str] | None = None,
                 threads: int = 8) -> None:
        from cheroot import wsgi

        host, _, port = address.rpartition(":")
        self.server = wsgi.Server((host.strip("[]") or "127.0.0.1", int(port)), _Door(app, door),
                                  numthreads=threads, server_name="shopsync")
        if tls:
            from cheroot.ssl.builtin import BuiltinSSLAdapter

            self.server.ssl_adapter = BuiltinSSLAdapter(tls[0], tls[1])
        self.server.prepare()  # binds now: the port is known, a busy address fails here
        self.port = int(self.server.bind_addr[1])
        self.scheme = "https" if tls else "http"
        self.thread = threading.Thread(target=self.server.serve, name=f"http-{door}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(5)
