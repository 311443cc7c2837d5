"""Serve the dashboard: werkzeug's threaded WSGI server, quiet, on one host and port."""
from __future__ import annotations

import errno
import ipaddress
import os
import socket
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import UsageError
from .query import Catalog

__all__ = ["DashboardError", "make_server", "LOOPBACK", "HostCheck"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: Listening on every interface: the machine is reached by any of its addresses or by its name.
WILDCARD = ("0.0.0.0", "::", "")


class DashboardError(UsageError):
    """The dashboard cannot start as asked (a usage error: one line, exit 2)."""


class HostCheck:
    """WSGI middleware answering only requests whose ``Host:`` names this server (400 otherwise).

    A web page can point a domain name of its own at 127.0.0.1 (DNS rebinding) and
    then read the dashboard from the user's browser; its requests carry that name in
    ``Host:``. Accepted, with any port: the loopback names, the ``--host`` given and,
    when that is a wildcard (``0.0.0.0``, ``::``), any IP address and the machine's names.

    Example:
        >>> HostCheck(None, "127.0.0.1").allowed("localhost:8080"), HostCheck(None, "::1").allowed("[::1]")
        (True, True)
        >>> HostCheck(None, "127.0.0.1").allowed("evil.example:8080")
        False
    """

    def __init__(self, app: Callable | None, host: str):
        self.app = app
        self.names = {_name(h) for h in (*LOOPBACK, host)}
        self.any_ip = host in WILDCARD
        if self.any_ip:
            self.names |= {_name(socket.gethostname()), _name(socket.getfqdn())}

    def allowed(self, header: str) -> bool:
        """Whether a ``Host:`` value (``name``, ``name:port``, ``[v6]:port``) names this server."""
        if header.startswith("["):  # [::1]:8080
            name = header[1:].partition("]")[0]
        elif header.count(":") == 1:  # localhost:8080
            name = header.partition(":")[0]
        else:
            name = header
        name = _name(name)
        if name in self.names:
            return True
        if not self.any_ip:
            return False
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        header = environ.get("HTTP_HOST")
        if header is None or self.allowed(header):  # no Host: not a browser (HTTP/1.0)
            return self.app(environ, start_response)
        body = f"400 Bad Request: Host {header[:100]!r} is not this dashboard's address\n".encode()
        start_response("400 Bad Request", [
            ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store")])
        return [body]


def _name(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


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
    app.wsgi_app = HostCheck(app.wsgi_app, host)
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
