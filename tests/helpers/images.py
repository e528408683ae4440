"""Images for the tests: small, valid PNGs (shops check what they download)."""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Iterator


def make_png(color: tuple[int, int, int] = (200, 30, 30), size: int = 2) -> bytes:
    """A small, valid RGB PNG (shops check what they download)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(color) * size for _ in range(size))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


PNG = make_png()


@contextlib.contextmanager
def png_host(data: bytes | None = None) -> Iterator[str]:
    """An image host on loopback that the shop fetches a product's `src` from: yields the image's URL."""
    body = PNG if data is None else data

    class Image(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    host = HTTPServer(("127.0.0.1", 0), Image)
    threading.Thread(target=host.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{host.server_port}/a.png"
    finally:
        host.shutdown()
        host.server_close()
