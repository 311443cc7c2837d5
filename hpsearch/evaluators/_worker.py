"""A reusable trial worker: a fresh Python process that loads a problem folder once and runs trials.

The parent (the ``process`` evaluator in the driver, or the ``dask`` evaluator's
task on a Dask worker) starts it with :class:`WorkerProcess`, which forks it from
a fork server (:mod:`hpsearch.evaluators._zygote`: a fresh interpreter that
imported only numpy and these modules, with the workers' thread environment) or
runs ``python -m hpsearch.evaluators._worker FD``: either way a process that has
not imported the problem or TensorFlow (safe with TensorFlow, works inside
daemonic Dask worker processes), whose thread environment (``OMP_NUM_THREADS``,
``TF_NUM_INTRAOP_THREADS``, ...) was set before numpy was imported. Parent and
worker talk over one multiprocessing :class:`~multiprocessing.connection.Connection`:

    parent -> worker   ("init", source)            once, first: a folder, or a problem made in Python
                                                   (bytes, see :mod:`hpsearch.problem.inline`)
    worker -> parent   ("ready", pid, max_trials) | ("load_error", message)
    parent -> worker   (spec, log_path, worker_name)   one trial at a time
    worker -> parent   ("report", trial_id, report)    each trial.report(...), then waits for:
    parent -> worker   "go" | "stop"                    the driver's decision (a blocking round trip)
    worker -> parent   ("result", TrialResult)
    parent -> worker   None                        stop

Each trial's stdout and stderr (file descriptors 1 and 2, so output of C
libraries too) go to its ``log_path``, capped at :data:`LOG_CAP` bytes (the
head and the tail are kept); it starts with a line naming the trial's GPUs when
the worker has any (``CUDA_VISIBLE_DEVICES``). The worker ignores SIGINT (the
parent decides what Ctrl-C means).

Each worker leads its own POSIX session (a new process group), so processes
that ``run()`` starts belong to it: the parent stops a worker by signalling the
whole group (timeout, replacement, end of the run), and a worker that receives
SIGTERM, or whose parent dies (Linux), SIGKILLs its whole group, itself
included, so no child of a trial outlives it.

``max_trials`` is ``MAX_TRIALS_PER_WORKER`` from the problem's ``model_run.py``
(None if absent): a problem whose ``run`` leaks memory that no Python code can
free (TensorFlow keeps a traced graph per model) asks for a fresh worker after
that many trials; ``HPS_WORKER_MAX_TRIALS`` in the environment overrides it.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, Pipe
from pathlib import Path

from ._zygote import Forked, ForkServer

__all__ = ["WorkerProcess", "thread_env", "death_reason", "THREAD_VARS", "LOG_CAP", "cap_log"]

#: The most bytes kept of one trial's log (``HPS_LOG_CAP`` overrides): the first half and the
#: last half of the output, with a line saying how much was cut in between.
LOG_CAP = 10 * 1024 * 1024

#: Environment variables that cap the threads of numeric libraries in a worker.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
               "TF_NUM_INTEROP_THREADS")


def thread_env(threads: int | None, base: dict | None = None) -> dict:
    """The environment of a worker limited to ``threads`` threads per numeric library.

    Variables the user has set already are kept (an explicit choice wins), except
    when ``threads`` is given explicitly through ``HPS_THREADS_PER_WORKER``.
    """
    env = dict(os.environ if base is None else base)
    if threads is not None:
        forced = "HPS_THREADS_PER_WORKER" in env
        for var in THREAD_VARS:
            if forced or var not in env:
                env[var] = str(threads)
    root = str(Path(__file__).resolve().parent.parent.parent)  # the hpsearch this parent runs
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root not in paths and root not in _site_dirs():  # a source checkout: make it importable
        env["PYTHONPATH"] = os.pathsep.join([root, *paths])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    return env


def _site_dirs() -> set[str]:
    import site

    dirs = set(getattr(site, "getsitepackages", list)())
    with contextlib.suppress(Exception):
        dirs.add(site.getusersitepackages())
    return {str(Path(d).resolve()) for d in dirs}


def death_reason(code: int | None) -> str:
    """``worker died (exit code -9: SIGKILL, e.g. out of memory)`` and the like."""
    if code is None:
        return "worker died (exit code unknown)"
    text = f"worker died (exit code {code}"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        text += f": {name}"
        if -code == signal.SIGKILL:
            text += ", e.g. killed for using too much memory"
        elif -code == signal.SIGSEGV:
            text += ", a crash in native code"
    return text + ")"


@dataclass
class Received:
    """What a worker sent since the last :meth:`WorkerProcess.receive`.

    Attributes:
        ready: it finished loading the problem (its ``ready`` message was taken).
        results: the :class:`~hpsearch.trial.TrialResult` objects it sent, in order.
        load_error: why it could not load the problem (it exits after saying so).
        dead: its pipe closed or its process is gone (or it failed to load).
    """

    ready: bool = False
    results: list = field(default_factory=list)
    load_error: str | None = None
    dead: bool = False


class WorkerProcess:
    """The parent's handle on one worker process (the one client of the worker protocol).

    Args:
        folder: the problem folder the worker loads, or the bytes of a problem made in Python
            (:func:`hpsearch.problem.inline.ship`).
        env: the worker's environment (see :func:`thread_env`).
        log_path: where the worker's own output goes (between trials); None discards it.
        forks: a fork server to fork the worker from (see :mod:`hpsearch.evaluators._zygote`); None, or
            an environment it cannot serve, starts a fresh interpreter.
    """

    def __init__(self, folder: Path | str | bytes, env: dict, log_path: Path | None = None,
                 forks: ForkServer | None = None):
        self.conn, child = Pipe(duplex=True)
        out = subprocess.DEVNULL
        if log_path is not None:
            Path(log_path).parent.mkdir(parents=True, exist_ok=True)
            out = open(log_path, "ab")
        try:
            self.popen: subprocess.Popen | Forked | None = None
            if forks is not None and forks.serves(env):
                if out is subprocess.DEVNULL:
                    with open(os.devnull, "wb") as null:
                        self.popen = forks.fork(env, (child.fileno(), null.fileno()))
                else:
                    self.popen = forks.fork(env, (child.fileno(), out.fileno()))
            if self.popen is None:
                self.popen = subprocess.Popen(
                    [sys.executable, "-m", "hpsearch.evaluators._worker", str(child.fileno())],
                    pass_fds=(child.fileno(),), env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                    close_fds=True, start_new_session=True)
        finally:
            child.close()
            if out is not subprocess.DEVNULL:
                out.close()
        self.pid = self.popen.pid
        self.sentinel: int | None = None
        if hasattr(os, "pidfd_open"):
            try:
                self.sentinel = os.pidfd_open(self.pid)
            except OSError:
                self.sentinel = None
        self.ready = False
        self.served = 0  # trials finished
        self.max_trials: int | None = None  # the problem's MAX_TRIALS_PER_WORKER, once ready
        self.conn.send(("init", folder if isinstance(folder, bytes) else str(folder)))

    def on_ready(self, message: tuple) -> None:
        """Take the worker's ``("ready", pid, max_trials)`` message."""
        self.ready = True
        self.max_trials = message[2] if len(message) > 2 else None

    @property
    def worn_out(self) -> bool:
        """True once the worker has run its problem's MAX_TRIALS_PER_WORKER trials."""
        return bool(self.max_trials) and self.served >= self.max_trials

    def finished_one(self) -> bool:
        """Count a finished trial; return :attr:`worn_out`."""
        self.served += 1
        return self.worn_out

    def waitables(self) -> list:
        """What :func:`multiprocessing.connection.wait` should watch for this worker."""
        return [self.conn] if self.sentinel is None else [self.conn, self.sentinel]

    def send(self, message) -> bool:
        """Send a message; False if the worker is gone."""
        try:
            self.conn.send(message)
            return True
        except (OSError, EOFError):
            return False

    def receive(self, on_report: Callable[[int, dict], bool] | None = None) -> Received:
        """Take every message the worker sent so far, and notice its death.

        A ``trial.report`` is answered at once: ``on_report(trial_id, report)``
        says whether the trial should stop (no callback: go on).
        """
        got = Received()
        while True:
            try:
                if not self.conn.poll():
                    break
                msg = self.conn.recv()
            except (EOFError, OSError):
                got.dead = True
                break
            if msg[0] == "ready":
                self.on_ready(msg)
                got.ready = True
            elif msg[0] == "report":
                stop = on_report(msg[1], msg[2]) if on_report is not None else False
                if not self.send("stop" if stop else "go"):
                    got.dead = True
                    break
            elif msg[0] == "result":
                got.results.append(msg[1])
            elif msg[0] == "load_error":
                got.load_error, got.dead = msg[1], True
                break
        if not got.dead and not self.alive():
            got.dead = True
        return got

    def alive(self) -> bool:
        return self.popen.poll() is None

    def exit_code(self, wait: float = 2.0) -> int | None:
        """The exit code, waiting a little for a dying process (then killing it)."""
        try:
            return self.popen.wait(wait)
        except subprocess.TimeoutExpired:
            self.kill(0)
            return self.popen.returncode

    def _signal_group(self, sig: int) -> None:
        """Signal the worker's process group: the worker and whatever its trials started."""
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:  # a forked worker not yet leading its group: it started nothing yet
            if self.popen.poll() is None:  # not reaped, so the pid is still this worker's
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(self.pid, sig)
        except PermissionError:
            pass

    def terminate(self) -> None:
        """Ask the worker and its trial's processes to stop now (SIGTERM to the group); see :meth:`kill`."""
        if self.popen.poll() is None:
            self._signal_group(signal.SIGTERM)

    def kill(self, grace: float = 1.0) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds, to the whole group; reap; return the exit code."""
        if self.popen.poll() is None:
            self.terminate()
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.popen.wait()
        self._signal_group(signal.SIGKILL)  # children a trial left behind
        self.release()
        return self.popen.returncode

    def stop(self, wait: float = 2.0) -> None:
        """Ask an idle worker to exit; kill it if it does not within ``wait`` seconds."""
        self.send(None)
        try:
            self.popen.wait(wait)
        except subprocess.TimeoutExpired:
            self.kill(0.5)
        self._signal_group(signal.SIGKILL)
        self.release()

    def release(self) -> None:
        """Close the parent's descriptors (the process must be reaped already or soon)."""
        with contextlib.suppress(OSError):
            self.conn.close()
        if self.sentinel is not None:
            with contextlib.suppress(OSError):
                os.close(self.sentinel)
            self.sentinel = None


# -- inside the worker -------------------------------------------------------------------------
def _kill_group(signum=None, frame=None) -> None:
    """SIGKILL this worker's process group (itself and every process its trials started)."""
    if os.getpgrp() == os.getpid():  # a session leader: the group is ours alone
        os.killpg(os.getpid(), signal.SIGKILL)
    os._exit(1)


def _die_with_parent() -> None:
    """Get SIGTERM when the parent dies (Linux), and die with the whole group on SIGTERM.

    A crashed or SIGKILLed driver thus leaves neither a worker nor a trial's child behind. A
    thread watches the parent too, in case the signal was missed.
    """
    signal.signal(signal.SIGTERM, _kill_group)
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent or parent == 1:  # the parent is already gone
        _kill_group()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        _kill_group()

    import threading

    threading.Thread(target=watch, name="hps-parent-watch", daemon=True).start()


@contextlib.contextmanager
def _output_to(path: str | None) -> Iterator[None]:
    """Point fds 1 and 2 (and sys.stdout/stderr) at ``path`` for the duration."""
    if path is None:
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    saved = (os.dup(1), os.dup(2))
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
        with contextlib.suppress(OSError):
            if os.path.getsize(path) == 0:
                os.unlink(path)
            else:
                cap_log(path)


def log_cap() -> int:
    """:data:`LOG_CAP`, or ``HPS_LOG_CAP`` bytes when set (a whole number >= 1024)."""
    text = os.environ.get("HPS_LOG_CAP", "").strip()
    if text.isdigit() and int(text) >= 1024:
        return int(text)
    return LOG_CAP


def read_capped(path: str | os.PathLike, cap: int | None = None) -> bytes:
    """The file's bytes, or its first and last ``cap // 2`` bytes with a note of what was cut."""
    cap = cap or log_cap()
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(0)
        if size <= cap:
            return f.read()
        half = cap // 2
        head = f.read(half)
        f.seek(size - half)
        tail = f.read(half)
    note = f"\n[... hpsearch cut {size - 2 * half} bytes of output here (log cap {cap} bytes) ...]\n"
    return head + note.encode() + tail


def cap_log(path: str | os.PathLike, cap: int | None = None) -> None:
    """Shrink a log longer than the cap to its head and tail (in place)."""
    cap = cap or log_cap()
    if os.path.getsize(path) <= cap:
        return
    data = read_capped(path, cap)
    tmp = f"{path}.cap"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _reporter(conn: Connection, trial_id: int):
    """``trial.report`` over the pipe: send the report, wait for the parent's "go" or "stop"."""

    def report(rep: dict) -> bool:
        try:
            conn.send(("report", trial_id, rep))
            return conn.recv() != "go"
        except (EOFError, OSError):
            return True  # the parent is gone: nothing will store what comes next

    return report


def _serve(conn: Connection) -> None:
    from ..problem.inline import load_source
    from ..trial import Status, TrialResult, execute_trial, visible_devices

    kind, source = conn.recv()
    assert kind == "init"
    try:
        lp = load_source(source)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the trial
        from ..problem.loader import ProblemLoadError

        conn.send(("load_error", str(exc) if isinstance(exc, ProblemLoadError)
                   else f"{type(exc).__name__}: {exc}"))
        return
    max_trials = os.environ.get("HPS_WORKER_MAX_TRIALS") \
        or getattr(lp.run, "__globals__", {}).get("MAX_TRIALS_PER_WORKER")
    conn.send(("ready", os.getpid(), int(max_trials) if max_trials else None))
    devices = visible_devices()
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        spec, log_path, name = msg
        t0 = time.time()
        with _output_to(log_path):
            if devices and log_path:
                print(f"hps: trial {spec.trial_id} on GPU {','.join(devices)} (CUDA_VISIBLE_DEVICES)",
                      flush=True)
            try:
                with lp.activate():
                    result = execute_trial(lp.run, lp.accepts_trial, spec, worker=name,
                                           reporter=_reporter(conn, spec.trial_id))
            except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt from run()
                now = time.time()
                result = TrialResult(trial_id=spec.trial_id, status=Status.FAILED,
                                     error=f"run() raised {type(exc).__name__}: {exc}", started_at=t0,
                                     finished_at=now, duration_s=now - t0, worker=name, devices=devices)
        try:
            conn.send(("result", result))
        except (OSError, EOFError):
            return


def main(argv: list[str]) -> None:
    """Entry point of the worker process: ``python -m hpsearch.evaluators._worker FD``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    fd = int(argv[0])
    os.set_inheritable(fd, False)
    _serve(Connection(fd))


if __name__ == "__main__":
    main(sys.argv[1:])
