"""The serial evaluator: runs each trial in the driver process (for debugging).

A trial timeout or the run's deadline interrupts the trial with ``SIGALRM``
(main thread, POSIX); elsewhere trials simply run to the end. Each
``trial.report`` calls the engine directly and returns its decision; a run
function that ignores a stop decision is stopped at its first report after the
grace period (``TrialStopped``), or by the trial timeout if it stops reporting.
"""
from __future__ import annotations

import signal
import threading
import time
from collections import deque

from ..problem.loader import LoadedProblem, load_problem
from ..trial import StopRun, TrialResult, TrialSpec, TrialTimeout, execute_trial
from .base import Evaluator

__all__ = ["SerialEvaluator"]


class SerialEvaluator(Evaluator):
    """One trial at a time, in this process; ``wait`` runs the next queued trial."""

    name = "serial"

    def __init__(self, folder, workers=1, trial_timeout=None, run_dir=None,
                 loaded: LoadedProblem | None = None, **options):
        super().__init__(folder, 1, trial_timeout, run_dir, **options)
        self._loaded = loaded
        self._queue: deque[TrialSpec] = deque()
        self._alarm_reason: type[BaseException] | None = None

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
        spec = self._queue[0]
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
            with lp.activate():
                result = execute_trial(lp.run, lp.accepts_trial, spec, worker="serial",
                                       reporter=lambda rep: self._report(spec.trial_id, rep))
        finally:
            if use_alarm:
                self._alarm_reason = None
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        self._queue.popleft()
        return [result]
