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

- it leads its own session (a new process group) before the driver learns its pid,
  so signalling the group reaches every process its trials start;
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

    driver -> server   env   (+ descriptors: the worker's pipe end, its log)
    server -> driver   ("forked", pid) | ("exit", pid, code)   (exits as they happen)

Only where ``os.fork`` and descriptor passing exist (Linux): elsewhere, or when
``HPS_WORKER_START=popen``, :func:`fork_server` returns None and workers start as
fresh interpreters.
"""
from __future__ import annotations

import contextlib
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

    def __init__(self, server: ForkServer, pid: int):
        self.server = server
        self.pid = pid
        self.returncode: int | None = None
        self.args = ["fork-server", str(pid)]

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(self.args, timeout)
            self.server.wait_news(0.05 if left is None else min(left, 0.05))
        return self.returncode


class ForkServer:
    """The driver's side of one fork server (thread-safe: starter threads fork through it).

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
        self._lock = threading.Lock()
        self._exits: dict[int, int] = {}
        self._mine: set[int] = set()  # pids forked and not reported gone yet
        self.broken = False  # the server is gone: no more forks, exits found by pidfd

    def serves(self, env: dict) -> bool:
        """True when a worker with ``env`` can be forked (it differs from the server's only in GPUs)."""
        if self.broken:
            return False
        keys = (set(env) | set(self.env)) - set(DEVICE_VARS)
        return all(env.get(k) == self.env.get(k) for k in keys)

    def fork(self, env: dict, fds: tuple[int, int]) -> Forked | None:
        """Fork a worker with ``env``, its pipe end and log descriptors ``fds``; None if the server failed."""
        with self._lock:
            if self.broken:
                return None
            try:
                socket.send_fds(self.sock, [pickle.dumps(env)], list(fds))
                while True:
                    msg = self._recv(None)
                    if msg is None:
                        return None
                    if msg[0] == "forked":
                        self._mine.add(msg[1])
                        return Forked(self, msg[1])
            except OSError:
                self.broken = True
                return None

    def _recv(self, timeout: float | None) -> tuple | None:
        """One message (exits are filed away and returned too); None on timeout or a gone server."""
        if timeout is not None and not select.select([self.sock], [], [], timeout)[0]:
            return None
        try:
            data = self.sock.recv(_PACKET)
        except OSError:
            data = b""
        if not data:
            self.broken = True
            return None
        msg = pickle.loads(data)
        if msg[0] == "exit":
            self._exits[msg[1]] = msg[2]
            self._mine.discard(msg[1])
        return msg

    def wait_news(self, timeout: float) -> None:
        """Take what the server reported within ``timeout`` seconds."""
        with self._lock:
            if not self.broken:
                self._recv(timeout)
                while not self.broken and self._recv(0) is not None:
                    pass
                return
        time.sleep(timeout)

    def exit_code(self, pid: int) -> int | None:
        """The exit code of a forked worker that has ended (reaped by the server), else None."""
        with self._lock:
            while not self.broken and self._recv(0) is not None:
                pass
            if pid in self._exits:
                return self._exits[pid]
            if self.broken and not _exists(pid):
                # the server died, so the worker did too: it SIGKILLs its own process group
                return -signal.SIGKILL
            return None

    def close(self, wait: float = 2.0) -> None:
        """Stop the server (its workers must be stopped already; any left die with it)."""
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
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    while True:
        ready = select.select([sock, wake_r], [], [])[0]
        if wake_r in ready:
            with contextlib.suppress(OSError):
                os.read(wake_r, 4096)
            _reap(sock)
        if sock in ready:
            try:
                data, fds, _, _ = socket.recv_fds(sock, _PACKET, 2)
            except OSError:
                return
            if not data:
                return  # the driver closed its end (or died)
            env = pickle.loads(data)
            done_r, done_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(done_r)
                _child(env, fds, done_w, (sock.fileno(), wake_r, wake_w))
            os.close(done_w)
            os.read(done_r, 1)  # the child leads its session now (or died): its group can be signalled
            os.close(done_r)
            for fd in fds:
                os.close(fd)
            sock.send(pickle.dumps(("forked", pid)))
            _reap(sock)


def _reap(sock: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        with contextlib.suppress(OSError):
            sock.send(pickle.dumps(("exit", pid, os.waitstatus_to_exitcode(status))))


def _child(env: dict, fds: list[int], done_w: int, close: tuple[int, ...]) -> None:
    """In the forked worker: become what ``python -m hpsearch.evaluators._worker FD`` is; never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in close:
            os.close(fd)
        os.setsid()
        os.close(done_w)
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
