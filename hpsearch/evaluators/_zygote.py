"""A fork server: one process that imports the worker's modules once and forks each worker on request.

Starting a worker as a fresh interpreter (``python -m hpsearch.evaluators._worker``)
costs a few hundred milliseconds of CPU (Python, numpy, hpsearch), which with tens
of workers on a few busy cores keeps the workers idle for seconds. The ``process``
evaluator therefore starts one *fork server* per run (:class:`ForkServer`): a fresh
interpreter with the run's worker environment that imports numpy and the worker's
hpsearch modules, never the problem folder and never a deep-learning framework
(forking after TensorFlow or a CUDA context is unsafe, so it refuses to serve if
anything imported one). Each worker is then a ``fork()`` of it, which takes a few
milliseconds, and behaves as a worker started with ``subprocess.Popen``:

- it leads its own session (a new process group), so signalling the group reaches
  every process its trials start (until its first instruction has made it a leader,
  the driver signals the worker alone);
- its environment is the one the driver asks for (the fork server's, in which numpy
  was imported with the thread variables, plus the worker's own GPU variables such
  as ``CUDA_VISIBLE_DEVICES``); an environment that differs in anything else is
  started with ``Popen`` instead, since it may change what was imported already;
- stdin is ``/dev/null``, stdout and stderr the worker's log;
- it dies with its parent, the fork server, which exits when the driver's end of
  their socket closes (the driver ended or died; no parent-death signal, which
  Linux ties to the thread that started the server), so a killed driver leaves no
  worker behind;
- numpy's global random state is reseeded (a fork copies it, a fresh interpreter
  would not have).

The fork server reaps its children and reports each exit status, so the driver's
handle (:class:`Forked`) answers ``poll``/``wait``/``returncode`` like a ``Popen``.
Driver and fork server talk over a ``SOCK_SEQPACKET`` socket pair (one pickled message
per packet; the worker's pipe and log descriptors travel with the request):

    driver -> server   (token, env)   (+ descriptors: the worker's pipe end, its log)
    server -> driver   ("ready", -1, pid)   once, when it has imported what it preloads
    server -> driver   ("forked", token, pid) | ("exit", token, code)   (exits as they happen)

Only where ``os.fork`` and descriptor passing exist (Linux): elsewhere, or when
``HPS_WORKER_START=popen``, :func:`fork_server` returns None and workers start as
fresh interpreters.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

__all__ = ["ForkServer", "Forked", "fork_server", "PRELOAD", "DEVICE_VARS", "UNSAFE"]

#: What the fork server imports before it forks anyone (what every worker imports).
PRELOAD = ("numpy", "hpsearch.evaluators._worker", "hpsearch.problem.inline", "hpsearch.problem.loader",
           "hpsearch.trial")
#: The only variables in which a forked worker's environment may differ from the fork server's.
DEVICE_VARS = ("CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES")
#: Modules after whose import forking is unsafe: a fork server that finds one loaded refuses to serve.
UNSAFE = ("tensorflow", "torch", "jax")
_PACKET = 1 << 20


def fork_server(env: dict, log_path: Path | None = None) -> ForkServer | None:
    """A started fork server whose workers get ``env``, or None where workers must start as interpreters."""
    if os.environ.get("HPS_WORKER_START", "").strip().lower() == "popen":
        return None
    if not (sys.platform.startswith("linux") and hasattr(os, "fork") and hasattr(socket, "send_fds")):
        return None
    try:
        return ForkServer(env, log_path)
    except OSError:
        return None


class Forked:
    """The driver's handle on a forked worker, answering like a :class:`subprocess.Popen`."""

    def __init__(self, server: ForkServer, token: int, pid: int):
        self.server = server
        self.token = token  # the server names each fork, so a reused pid is never mistaken for it
        self.pid = pid
        self.returncode: int | None = None
        self.args = ["fork-server", str(pid)]

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.exit_code(self.token, self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(self.args, timeout)
            self.server.wait_exit(self.token, 0.05 if left is None else min(left, 0.05))
        return self.returncode


class ForkServer:
    """The driver's side of one fork server (thread-safe: starter threads fork through it at once).

    A reader thread takes the server's messages as they come, so several forks are asked for
    before the first answer arrives.

    Args:
        env: the environment the server starts with (the workers' thread variables included).
        log_path: where the server's own output goes (e.g. an import error); None discards it.
    """

    def __init__(self, env: dict, log_path: Path | None = None):
        self.env = dict(env)
        self.log_path = log_path
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        out = subprocess.DEVNULL
        if log_path is not None:
            Path(log_path).parent.mkdir(parents=True, exist_ok=True)
            out = open(log_path, "ab")
        try:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "hpsearch.evaluators._zygote", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                close_fds=True, start_new_session=True)
        finally:
            theirs.close()
            if out is not subprocess.DEVNULL:
                out.close()
        self._cond = threading.Condition()
        self._send = threading.Lock()
        self._tokens = itertools.count()
        self._forked: dict[int, int] = {}  # token -> pid, until its fork() takes it
        self._exits: dict[int, int] = {}  # token -> exit code
        self.broken = False  # the server is gone: no more forks
        self.ready = False  # it has imported what it preloads
        self._reader = threading.Thread(target=self._read, name="hps-fork-server", daemon=True)
        self._reader.start()

    def serves(self, env: dict) -> bool:
        """True when a worker with ``env`` can be forked (it differs from the server's only in GPUs)."""
        if self.broken:
            return False
        keys = (set(env) | set(self.env)) - set(DEVICE_VARS)
        return all(env.get(k) == self.env.get(k) for k in keys)

    def fork(self, env: dict, fds: tuple[int, int]) -> Forked | None:
        """Fork a worker with ``env``, its pipe end and log descriptors ``fds``; None if the server failed."""
        if self.broken:
            return None
        token = next(self._tokens)
        try:
            with self._send:
                socket.send_fds(self.sock, [pickle.dumps((token, env))], list(fds))
        except OSError:
            return None
        with self._cond:
            self._cond.wait_for(lambda: token in self._forked or self.broken)
            pid = self._forked.pop(token, None)
        return None if pid is None else Forked(self, token, pid)

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(_PACKET)
            except OSError:
                data = b""
            with self._cond:
                if not data:
                    self.broken = True
                    self._cond.notify_all()
                    return
                kind, token, value = pickle.loads(data)
                if kind == "ready":
                    self.ready = True
                else:
                    (self._forked if kind == "forked" else self._exits)[token] = value
                self._cond.notify_all()

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the server has imported its modules; False if it failed or took longer."""
        with self._cond:
            self._cond.wait_for(lambda: self.ready or self.broken, timeout)
            return self.ready and not self.broken

    def exit_code(self, token: int, pid: int) -> int | None:
        """The exit code of a forked worker that has ended (reaped by the server), else None."""
        with self._cond:
            if token in self._exits:
                return self._exits[token]
            if self.broken and not _exists(pid):
                # the server died, so the worker did too: it SIGKILLs its own process group
                return -signal.SIGKILL
            return None

    def wait_exit(self, token: int, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the server to report the end of fork ``token``."""
        with self._cond:
            if not self.broken:
                self._cond.wait_for(lambda: token in self._exits or self.broken, timeout)
                return
        time.sleep(timeout)

    def close(self, wait: float = 2.0) -> None:
        """Stop the server (its workers must be stopped already; any left die with it)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # the server reads EOF and exits; so does our reader
        self._reader.join(wait)
        with contextlib.suppress(OSError):
            self.sock.close()
        self.broken = True
        try:
            self.popen.wait(wait)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        with contextlib.suppress(OSError):
            if self.log_path is not None and os.path.getsize(self.log_path) == 0:
                os.unlink(self.log_path)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- inside the fork server --------------------------------------------------------------------

def _serve(sock: socket.socket) -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    unsafe = [m for m in UNSAFE if m in sys.modules]
    if unsafe:
        print(f"hps fork server: {', '.join(unsafe)} imported before any fork; not serving "
              "(workers start as fresh interpreters)", file=sys.stderr, flush=True)
        return
    import gc

    gc.freeze()  # what is loaded stays shared: a worker's collections never write to these pages
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sock.send(pickle.dumps(("ready", -1, os.getpid())))
    children: dict[int, int] = {}  # pid -> the driver's token for it
    while True:
        ready = select.select([sock, wake_r], [], [])[0]
        if wake_r in ready:
            with contextlib.suppress(OSError):
                os.read(wake_r, 4096)
            _reap(sock, children)
        if sock in ready:
            try:
                data, fds, _, _ = socket.recv_fds(sock, _PACKET, 2)
            except OSError:
                return
            if not data:
                return  # the driver closed its end (or died)
            token, env = pickle.loads(data)
            pid = os.fork()
            if pid == 0:
                _child(env, fds, (sock.fileno(), wake_r, wake_w))
            children[pid] = token
            for fd in fds:
                os.close(fd)
            sock.send(pickle.dumps(("forked", token, pid)))
            _reap(sock, children)


def _reap(sock: socket.socket, children: dict[int, int]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        with contextlib.suppress(OSError):
            sock.send(pickle.dumps(("exit", children.pop(pid, -1), os.waitstatus_to_exitcode(status))))


def _child(env: dict, fds: list[int], close: tuple[int, ...]) -> None:
    """In the forked worker: become what ``python -m hpsearch.evaluators._worker FD`` is; never returns.

    Until its ``setsid`` the worker has no process group of its own; the driver then signals the
    worker alone (it has started nothing yet).
    """
    code = 1
    try:
        os.setsid()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in close:
            os.close(fd)
        conn_fd, out_fd = fds
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.close(out_fd)
        os.environ.clear()
        os.environ.update(env)
        import numpy

        numpy.random.seed()  # a fresh interpreter would not share the fork server's random state
        from . import _worker

        sys.argv = [_worker.__file__, str(conn_fd)]
        _worker.main([str(conn_fd)])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - the worker's own crash: print it to its log
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def main(argv: list[str]) -> None:
    """Entry point: ``python -m hpsearch.evaluators._zygote FD`` (FD: its end of the socket pair)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock = socket.socket(fileno=int(argv[0]))
    os.set_inheritable(sock.fileno(), False)
    _serve(sock)


if __name__ == "__main__":
    main(sys.argv[1:])
