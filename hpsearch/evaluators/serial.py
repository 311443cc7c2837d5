"""The serial evaluator: runs each trial in the driver process (for debugging).

A trial timeout or the run's deadline interrupts the trial with ``SIGALRM``
(main thread, POSIX); elsewhere trials simply run to the end. Each
``trial.report`` calls the engine directly and returns its decision; a run
function that ignores a stop decision is stopped at its first report after the
grace period (``TrialStopped``), or by the trial timeout if it stops reporting.

A process that ``run`` forks is not the driver: it holds no lock, has the
signal handlers the driver replaced, exits when it leaves ``run``, and one
still alive when the trial ends (returns, fails, times out or is interrupted)
is killed then (SIGKILL), as the process evaluator's workers take the
processes of their trials with them.
"""
from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
import time
from collections import deque

from ..problem.loader import LoadedProblem, load_problem
from ..trial import StopRun, TrialResult, TrialSpec, TrialTimeout, execute_trial
from .base import Evaluator

__all__ = ["SerialEvaluator"]

#: while a trial runs in this process: (this pid, the pipe's read end, its write end); each
#: process the trial forks writes its pid to the pipe, so the evaluator can kill it afterwards
_TRIAL_FORKS: tuple[int, int, int] | None = None


def _child_says_its_pid() -> None:
    """In a forked child: tell the trial's pipe its pid (if forked by the trial itself), close the pipe."""
    global _TRIAL_FORKS
    watch, _TRIAL_FORKS = _TRIAL_FORKS, None
    if watch is None:
        return
    parent, read_fd, write_fd = watch
    with contextlib.suppress(OSError):
        if os.getppid() == parent:
            os.write(write_fd, f"{os.getpid()}\n".encode())
    for fd in (read_fd, write_fd):
        with contextlib.suppress(OSError):
            os.close(fd)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_child_says_its_pid)


@contextlib.contextmanager
def _forks_die_with_the_trial():
    """Kill (SIGKILL) and reap the children forked in the block that are still running at its end."""
    global _TRIAL_FORKS
    if not hasattr(os, "register_at_fork") or _TRIAL_FORKS is not None:
        yield
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)  # a child never waits for the driver to read
    _TRIAL_FORKS = (os.getpid(), read_fd, write_fd)
    try:
        yield
    finally:
        _TRIAL_FORKS = None
        os.close(write_fd)
        for pid in _pids(read_fd):
            _kill_child(pid)
        os.close(read_fd)


def _pids(read_fd: int, wait: float = 2.0) -> list[int]:
    """The pids written to the pipe, read until every child has closed its end (a child does at once,
    in its fork hook; ``wait`` seconds at most, for a child forked from C code, which runs no hook)."""
    data, end = b"", time.monotonic() + wait
    while True:
        try:
            chunk = os.read(read_fd, 65536)
        except BlockingIOError:
            left = end - time.monotonic()
            if left <= 0:
                break
            select.select([read_fd], [], [], left)
            continue
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return [int(p) for p in data.split() if p.isdigit()]


def _kill_child(pid: int) -> None:
    """SIGKILL and reap ``pid`` if it is still an unreaped child of this process (so not a reused pid)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # run() reaped it already
        return
    if done:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


class SerialEvaluator(Evaluator):
    """One trial at a time, in this process; ``wait`` runs the next queued trial."""

    name = "serial"

    def __init__(self, folder, workers=1, trial_timeout=None, run_dir=None,
                 loaded: LoadedProblem | None = None, **options):
        super().__init__(folder, 1, trial_timeout, run_dir, **options)
        self._loaded = loaded
        self._queue: deque[TrialSpec] = deque()
        self._alarm_reason: type[BaseException] | None = None

    @property
    def loaded(self) -> LoadedProblem | None:
        """The problem whose ``run`` this evaluator calls (None until :meth:`start` imports it)."""
        return self._loaded

    def start(self) -> None:
        if self._loaded is None or self._loaded.run is None:
            self._loaded = load_problem(self.folder)

    def submit(self, spec: TrialSpec) -> None:
        self._queue.append(spec)

    def in_flight(self) -> list[int]:
        return [s.trial_id for s in self._queue]

    def cancel(self) -> list[int]:
        ids = self.in_flight()
        self._queue.clear()
        return ids

    def _on_alarm(self, signum, frame):
        reason, self._alarm_reason = self._alarm_reason, None
        if reason is not None:
            raise reason()

    def wait(self, timeout=None, deadline=None) -> list[TrialResult]:
        if not self._queue:
            return []
        result = self.execute(self._queue[0], deadline, worker="serial")
        self._queue.popleft()
        return [result]

    def execute(self, spec: TrialSpec, deadline: float | None = None, worker: str = "serial") -> TrialResult:
        """Run one spec in this process now, under its trial timeout and the run's ``deadline``
        (a ``time.monotonic()`` value; :class:`~hpsearch.trial.StopRun` is raised inside the trial then)."""
        lp = self._loaded
        limit, reason = None, None
        if spec.timeout:
            limit, reason = spec.timeout, TrialTimeout
        if deadline is not None:
            left = max(deadline - time.monotonic(), 1e-3)
            if limit is None or left < limit:
                limit, reason = left, StopRun
        use_alarm = limit is not None and threading.current_thread() is threading.main_thread()
        if use_alarm:
            previous = signal.signal(signal.SIGALRM, self._on_alarm)
            self._alarm_reason = reason
            signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            with lp.activate(), _forks_die_with_the_trial():
                return execute_trial(lp.run, lp.accepts_trial, spec, worker=worker,
                                     reporter=lambda rep: self._report(spec.trial_id, rep))
        finally:
            if use_alarm:
                self._alarm_reason = None
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
