"""Serve the dashboard: werkzeug's threaded WSGI server, quiet, on one host and port."""
from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from ..errors import UsageError
from .query import Catalog

__all__ = ["DashboardError", "make_server", "LOOPBACK"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class DashboardError(UsageError):
    """The dashboard cannot start as asked (a usage error: one line, exit 2)."""


def make_server(paths: list[str | os.PathLike], host: str = "127.0.0.1", port: int = 8080):
    """A ready server (call ``serve_forever()``); ``port`` 0 picks a free one (``server_port``).

    Raises:
        DashboardError: a PATH that does not exist, no runs found, the port in use.
    """
    from werkzeug.serving import WSGIRequestHandler
    from werkzeug.serving import make_server as _make

    from .app import create_app

    for p in paths:
        if not Path(p).is_dir():
            raise DashboardError(f"{p}: no such directory (expected a run directory, an hps compare "
                                 "directory, or a folder holding them such as runs/)")
    if not Catalog(paths).scan():
        shown = " ".join(str(p) for p in paths)
        raise DashboardError(f"{shown}: no runs found (no results.db or compare.json up to "
                             "3 levels down); start one with hps run")

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs) -> None:  # the pages poll every second
            pass

    app = create_app(paths)
    # Bind here, not in werkzeug: it prints its own lines and exits 1 on a port in use.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise DashboardError(f"--port {port}: already in use (choose another with --port)") from None
        raise DashboardError(f"--host {host} --port {port}: cannot listen there ({exc.strerror})") from None
    try:
        server = _make(host, port, app, threaded=True, request_handler=Quiet, fd=sock.fileno())
    finally:
        sock.close()  # the server holds its own duplicate
    server.server_port = server.socket.getsockname()[1]
    return server
