"""The simulated evaluator: trials run in the driver, time is virtual.

``--evaluator simulated --workers N`` runs each trial's ``run()`` in the driver
process (as the serial evaluator does) but charges it *virtual* time: the
duration the evaluation takes: the problem's runtime model
(``HpProblem(cost=f)``, ``f(config, trial) -> seconds``), or a metric of
``run``'s result (``runtime_s``, or the one named by ``HpProblem(cost="name")``);
without either, the seconds ``run`` really took. The evaluator keeps ``N``
virtual workers and a virtual clock, so results come back in the order ``N``
real workers with those durations would deliver them:

* a trial submitted while a virtual worker is free starts on it at the
  current virtual time (the free worker with the lowest number); one
  submitted while every worker is busy waits for the first to free up;
* :meth:`~SimulatedEvaluator.wait` runs every trial started since the last
  call, then returns the one that ends first in virtual time (ties: the lower
  ``trial_id`` first) and moves the clock to its end.

Each result carries ``virtual_start`` and ``virtual_end`` (stored with the
trial) and names its virtual worker (``sim-0``, ``sim-1``, ...). A
``--trial-timeout`` applies to the virtual duration (a longer trial is stored
``timeout``, charged the timeout) and, as a safety net, to the real one.
No machine bound applies: virtual workers cost nothing but the driver's
bookkeeping, so ``hps compare --evaluator simulated --workers 256`` measures
an algorithm at 256 workers in the time the trials' ``run()`` calls take.

A resumed run rebuilds the clock from the stored history
(:meth:`~SimulatedEvaluator.restore`): the trials it runs again start when and
where they started before, so an interrupted and resumed run stores the same
virtual times as an uninterrupted one.

Reports (``trial.report``) reach the engine while ``run()`` runs, that is when
the trial *starts* in virtual time: a pruner sees them earlier than it would on
real workers. Schedulers that promote between rungs (hyperband, asha, bohb)
see every result at its virtual end.

    >>> from hpsearch.problem.loader import load_problem
    >>> from hpsearch.trial import TrialSpec
    >>> ev = SimulatedEvaluator(None, workers=2, loaded=load_problem("mfbranin"))
    >>> ev.start()
    >>> for tid, epochs in enumerate([9, 3, 1]):
    ...     ev.submit(TrialSpec(tid, tid, {"x1": 0.0, "x2": 5.0}, budget=epochs, seed=tid))
    >>> [(r.trial_id, r.worker) for r in ev.wait() + ev.wait() + ev.wait()]
    [(1, 'sim-1'), (2, 'sim-1'), (0, 'sim-0')]
"""
from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from ..problem.loader import LoadedProblem
from ..problem.space import COST_METRIC
from ..trial import Status, Trial, TrialResult, TrialSpec, finite_number
from .base import Evaluator
from .serial import SerialEvaluator

__all__ = ["SimulatedEvaluator"]


class SimulatedEvaluator(Evaluator):
    """``workers`` virtual workers on a virtual clock; every ``run()`` executes in this process.

    Attributes:
        now: the virtual clock (seconds): the end of the last result returned.
    """

    name = "simulated"

    def __init__(self, folder, workers=1, trial_timeout=None, run_dir=None,
                 loaded: LoadedProblem | None = None, **options):
        super().__init__(folder, workers, trial_timeout, run_dir, **options)
        self._runner = SerialEvaluator(folder, 1, trial_timeout, run_dir, loaded=loaded)
        self.now = 0.0
        self._free: list[int] = list(range(workers))  # a heap: the lowest free worker first
        self._started: deque[tuple[TrialSpec, int, float]] = deque()  # started, run() not yet called
        self._running: list[tuple[float, int, int, TrialResult]] = []  # heap (end, trial_id, worker, result)
        self._queued: deque[TrialSpec] = deque()  # submitted while every worker was busy
        self._restored: dict[int, tuple[int, float]] = {}  # a resumed run's trials: id -> (worker, start)

    def start(self) -> None:
        self._runner.start()

    @property
    def cost(self) -> str | Callable:
        """What says how long a trial took: the problem's ``cost`` (a metric name or a runtime model),
        else the metric ``runtime_s``."""
        loaded = self._runner.loaded
        return (getattr(loaded.problem, "cost", None) if loaded is not None else None) or COST_METRIC

    # -- the history of a resumed run ---------------------------------------------------
    def restore(self, trials: Sequence[Any]) -> None:
        """Rebuild the clock and the workers from a run's stored trials.

        Walks the asks and tells in event order as :meth:`submit` and :meth:`wait`
        took them: each ask takes the lowest free worker at the clock (or queues),
        each tell moves the clock to the trial's ``virtual_end`` and frees its
        worker. The trials still unfinished keep the worker and start they had,
        for when the engine submits them again.
        """
        events = []
        for t in trials:
            events.append((t.ask_seq, 0, t.trial_id, t))
            if t.tell_seq is not None:
                events.append((t.tell_seq, 1, t.trial_id, t))
        events.sort(key=lambda e: e[:3])
        free = list(range(self.workers))
        queued: deque[int] = deque()
        where: dict[int, tuple[int, float]] = {}
        now = 0.0
        for _, kind, tid, t in events:
            if kind == 0:
                if free:
                    where[tid] = (heapq.heappop(free), now)
                else:
                    queued.append(tid)
                continue
            if t.virtual_end is not None:
                now = max(now, float(t.virtual_end))
            if tid in where:
                heapq.heappush(free, where.pop(tid)[0])
            elif tid in queued:  # told without having started (stopped while queued)
                queued.remove(tid)
            while queued and free:
                where[queued.popleft()] = (heapq.heappop(free), now)
        self.now, self._free, self._restored = now, free, where

    # -- the evaluator interface --------------------------------------------------------------
    def submit(self, spec: TrialSpec) -> None:
        if spec.trial_id in self._restored:
            worker, start = self._restored.pop(spec.trial_id)
            self._started.append((spec, worker, start))
        elif self._free:
            self._started.append((spec, heapq.heappop(self._free), self.now))
        else:
            self._queued.append(spec)

    def in_flight(self) -> list[int]:
        return ([s.trial_id for s, _, _ in self._started] + [e[1] for e in self._running]
                + [s.trial_id for s in self._queued])

    def cancel(self) -> list[int]:
        ids = self.in_flight()
        self._started.clear()
        self._running.clear()
        self._queued.clear()
        self._restored.clear()
        self._free = list(range(self.workers))
        return ids

    def wait(self, timeout: float | None = None, deadline: float | None = None) -> list[TrialResult]:
        """Run the trials started since the last call, then return the first to end in virtual time."""
        self._runner.on_report = self.on_report
        while self._started:
            spec, worker, start = self._started[0]
            result = self._runner.execute(spec, deadline, worker=f"sim-{worker}")
            self._started.popleft()
            self._charge(result, spec, start)
            heapq.heappush(self._running, (result.virtual_end, spec.trial_id, worker, result))
        if not self._running:
            return []
        end, _, worker, result = heapq.heappop(self._running)
        self.now = max(self.now, end)
        heapq.heappush(self._free, worker)
        while self._queued and self._free:
            self._started.append((self._queued.popleft(), heapq.heappop(self._free), self.now))
        return [result]

    def _charge(self, result: TrialResult, spec: TrialSpec, start: float) -> None:
        """Set the result's virtual start and end from the duration its problem or ``run`` declared."""
        duration, declared, what = result.duration_s, None, None
        cost = self.cost
        if result.status in (Status.DONE, Status.STOPPED):
            if callable(cost):
                reached = result.step if result.status == Status.STOPPED and result.step is not None \
                    else spec.budget
                what = "the problem's cost(config, trial)"
                try:
                    declared = cost(dict(spec.config), Trial(replace(spec, budget=reached)))
                except Exception as exc:  # noqa: BLE001 - a broken runtime model fails the trial, not the run
                    declared = f"{type(exc).__name__}: {exc}"
            elif cost in result.metrics:
                declared = result.metrics[cost]
                what = f"the metric {cost!r}"
        if what is not None:
            seconds = finite_number(declared)
            if seconds is None or seconds < 0:
                result.status, result.objective = Status.FAILED, None
                result.error = (f"the simulated evaluator reads the duration from {what}: a finite number "
                                f"of seconds >= 0, got {declared!r}")
            else:
                duration = seconds
        if spec.timeout and duration > spec.timeout and result.status != Status.TIMEOUT:
            result.status, result.objective, duration = Status.TIMEOUT, None, float(spec.timeout)
            result.error = f"trial exceeded the trial timeout of {spec.timeout:g} s (virtual time)"
        result.virtual_start, result.virtual_end = start, start + duration
