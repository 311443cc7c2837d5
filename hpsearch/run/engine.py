"""The search loop: ask -> submit -> collect -> store -> tell, with limits and signals.

The engine is the only code that talks to the store. It records every ask
(as ``running`` rows) and every tell, in one event order, so that
:meth:`Engine.run` on a reopened store first *replays* that history into a
fresh scheduler (same seed, same asks, same tells) and then re-runs whatever was
in flight: a resumed run continues exactly where the stopped one was.

:meth:`Engine.run` is a loop over steps that are methods of their own:
:meth:`~Engine.replay`, :meth:`~Engine.ask` (record as running),
:meth:`~Engine.report`, :meth:`~Engine.finish` (store, then tell),
:meth:`~Engine.end_reason` and :meth:`~Engine.end`. An ask/tell
:class:`~hpsearch.run.study.Study` takes the same steps with its user as the
evaluator, so both write the same history in the same event order.

Example:
    >>> from hpsearch.loader import load_problem
    >>> from hpsearch.search import make_scheduler
    >>> from hpsearch.evaluators import make_evaluator
    >>> import tempfile
    >>> lp = load_problem("branin")
    >>> store = RunStore.create(tempfile.mkdtemp() + "/run", {}, lp.problem.names)
    >>> engine = Engine(lp.problem, make_scheduler("random", lp.problem, 1, {}),
    ...                 make_evaluator("serial", lp.folder, loaded=lp), store, Limits(max_evals=5), seed=1)
    >>> engine.run().n_done
    5
"""
from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import UsageError
from ..evaluators.base import Evaluator
from ..problem.objective import MissingObjective, values_of
from ..problem.space import HpProblem
from ..search import DONE, WAIT, Scheduler, Suggestion, Told
from ..seeding import mix_seed
from ..store import RunHistory, RunStore, StoredTrial, StoreFull, Tally
from ..trial import (
    STOP_GRACE,
    Status,
    StopRun,
    TrialResult,
    TrialSpec,
    finite_number,
    stopped_result,
)
from .stopping import StopCondition, StopConditionError, check_known, first_met
from .warm_from import give_stored

__all__ = ["Engine", "Limits", "RunSummary", "ResumeError", "Observer", "trial_seed"]


#: signals that stop a run resumably: Ctrl-C, ``kill``, and a closed terminal or ssh session.
INTERRUPTS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                   if hasattr(signal, name))

#: the signal handlers a running engine replaced with its own: a process forked during the run (e.g.
#: by a serial trial's run()) gets them back, so a signal to it never acts as one to the driver
_REPLACED: dict[int, Any] = {}


def _child_restores_signals() -> None:
    for sig, handler in _REPLACED.items():
        with contextlib.suppress(ValueError, OSError, TypeError):
            signal.signal(sig, handler)
    _REPLACED.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_child_restores_signals)


class ResumeError(UsageError):
    """The stored history cannot be replayed (the problem or scheduler changed)."""


@dataclass
class Limits:
    """When to stop asking: ``max_evals`` evaluations, ``timeout`` seconds of wall time.

    ``max_resource_spent`` stops new asks once the resource committed to asked
    evaluations (``budget - previous_budget`` summed, as in
    :attr:`RunSummary.resource_spent`) reaches it; while it is set the engine
    asks one evaluation at a time, so the last evaluation asked is the one
    that reaches or crosses the limit.
    """

    max_evals: int | None = None
    timeout: float | None = None
    trial_timeout: float | None = None
    max_resource_spent: float | None = None


@dataclass
class RunSummary:
    """What a finished (or stopped) run did."""

    n_done: int = 0
    n_failed: int = 0
    n_timeout: int = 0
    n_stopped: int = 0  # pruned, or ended by the stop condition
    n_interrupted: int = 0
    n_replayed: int = 0
    best: StoredTrial | None = None
    wall_s: float = 0.0
    startup_s: float = 0.0  # of wall_s: starting the workers (a Dask cluster takes seconds)
    #: worker-seconds spent starting workers during the run (the process evaluator starts each as a
    #: trial first needs it, and replaces lost ones): from a worker's start until it could take a trial
    starting_s: float = 0.0
    busy_s: float = 0.0
    workers: int = 1
    stopped_by: str | None = None  # None, "signal", "timeout", "condition" (--stop-when met)
    stop_reason: str | None = None  # with "condition": "val_accuracy 0.9812 >= 0.98 at trial 17"
    ended: str | None = None  # what ended the run, one line, e.g. "max-evals reached (60)"
    signal: int | None = None
    first_error: str | None = None
    resource_spent: float = 0.0
    #: a multi-objective run's Pareto front (it has no single best); None for one objective
    front: list | None = None
    virtual_s: float | None = None  # the simulated evaluator's clock at the last result (None elsewhere)

    @property
    def n_finished(self) -> int:
        return self.n_done + self.n_failed + self.n_timeout + self.n_stopped

    def take(self, figures: Tally | RunHistory) -> None:
        """Set the counts of finished evaluations, the best, the first error and the resource spent
        from a run's history (the one place they are computed)."""
        c = figures.counts
        self.n_done, self.n_failed = c[Status.DONE.value], c[Status.FAILED.value]
        self.n_timeout, self.n_stopped = c[Status.TIMEOUT.value], c[Status.STOPPED.value]
        self.best = figures.incumbent
        self.front = figures.pareto_front
        self.first_error = figures.first_error
        self.resource_spent = figures.resource_spent

    @property
    def overhead_per_eval_s(self) -> float | None:
        """Wall time not spent inside ``run`` per evaluation run in this session (startup included)."""
        n = self.n_finished - self.n_replayed
        if n <= 0:
            return None
        return max(self.wall_s - self.busy_s / self.workers, 0.0) / n

    @property
    def utilisation(self) -> float | None:
        """Busy time / (workers x wall time while the workers were up)."""
        up = self.wall_s - self.startup_s
        if up <= 0:
            return None
        return self.busy_s / (self.workers * up)


class Observer(Protocol):
    """Receives progress events (the CLI's progress bar implements it)."""

    def on_start(self, engine: Engine) -> None: ...

    def on_result(self, trial: StoredTrial, best: StoredTrial | None, summary: RunSummary) -> None: ...

    def on_end(self, summary: RunSummary) -> None: ...


def trial_seed(run_seed: int, config_id: int) -> int:
    """A seed in [0, 2**31) for one configuration (:func:`hpsearch.seeding.mix_seed`)."""
    return mix_seed(run_seed, config_id)


def _cost(s: Suggestion) -> float:
    """Resource an evaluation trains: ``budget - previous_budget`` (0 without a resource)."""
    return 0.0 if s.budget is None else float(s.budget) - float(s.previous_budget or 0)


class Engine:
    """Drives one run.

    Args:
        problem: the space, with ``--fix`` pins applied.
        scheduler: proposes configurations and budgets (ask/tell).
        evaluator: runs them.
        store: records everything; may already hold a history (resume).
        limits: when to stop.
        seed: the run's seed (for per-trial seeds).
        observer: progress callbacks, or None.
        pruner: decides at each report whether a running trial stops (see
            :mod:`hpsearch.search.pruners`), or None.
        stop_when: conditions that end the run once a finished evaluation meets one.
        stop_grace: seconds a trial told to stop gets before it is stopped by force.
    """

    def __init__(self, problem: HpProblem, scheduler: Scheduler, evaluator: Evaluator,
                 store: RunStore, limits: Limits, seed: int, observer: Observer | None = None,
                 pruner: Any = None, stop_when: Sequence[StopCondition] = (),
                 stop_grace: float = STOP_GRACE):
        self.problem = problem
        self.scheduler = scheduler
        self.evaluator = evaluator
        self.store = store
        self.limits = limits
        self.seed = seed
        self.observer = observer
        self.summary = RunSummary(workers=evaluator.capacity)
        self._flights: dict[int, Suggestion] = {}  # asked, not yet told
        self._n_asked = 0
        self._scheduler_done = False  # the scheduler said DONE: never asked again
        #: the last :meth:`ask` gave nothing because the scheduler waits for results in flight
        self.waiting = False
        self._committed = 0.0  # resource of every asked evaluation (budget - previous_budget)
        self._next_tid, self._seq = store.next_ids()
        self._tally = Tally(problem.direction, scheduler.multi_fidelity, objectives=problem.objectives,
                            full_budget=store.max_resource)  # what the summary counts
        self._stop_signal: int | None = None
        self._interruptible = False
        self._checkpoint_root = str(store.run_dir / "checkpoints")
        self.pruner = pruner
        self.stop_when = list(stop_when)
        self.stop_grace = stop_grace
        self._checked_metrics = False  # stop conditions' metric names checked against a result
        self._last_report: dict[int, dict] = {}  # trials in flight -> their latest report
        self._n_reports: dict[int, int] = {}  # trials in flight -> reports stored
        evaluator.on_report = self.report

    # -- history -------------------------------------------------------------------
    def replay(self) -> list[StoredTrial]:
        """Feed the stored warm start (earlier runs' evaluations), then the stored asks and tells, to
        the scheduler; return the trials to re-run."""
        give_stored(self.store, self.scheduler, self.problem)
        trials = self.store.trials()
        queued = self.store.enqueued()
        if not trials and not queued:
            return []
        events: list[tuple[int, int, Any]] = [(seq, 3, config) for seq, config in queued]
        batches: dict[int, list[StoredTrial]] = {}
        for t in trials:
            batches.setdefault(t.ask_seq, []).append(t)
            if t.tell_seq is not None:
                events.append((t.tell_seq, 2, t))
        events.extend((seq, 0, batch) for seq, batch in batches.items())
        pending = [t for t in trials if t.tell_seq is None]
        rerun = {t.trial_id for t in pending}
        self.store.delete_reports(rerun)  # they run again from the start, reporting anew
        if self.pruner is not None:
            events.extend((seq, 1, (tid, rep)) for tid, seq, rep in self.store.all_reports()
                          if seq is not None and tid not in rerun)
        events.sort(key=lambda e: (e[0], e[1]))
        for _, kind, item in events:
            if kind == 0:
                self._replay_ask(item)
            elif kind == 1:
                self._decide(*item)
            elif kind == 3:
                self.scheduler.enqueue(item)
            else:
                self._tell(item)
                self._count(item, replayed=True)
                self._check_stop(item, replayed=True)
        return pending

    def _replay_ask(self, batch: list[StoredTrial]) -> None:
        got = self.scheduler.ask(batch[0].ask_n)
        if not isinstance(got, list) or len(got) < len(batch):
            raise ResumeError(f"cannot resume: the search scheduler no longer proposes trial "
                              f"{batch[0].trial_id} (got {got!r}); was the problem or hpsearch changed?")
        for t, s in zip(batch, got):
            if self.problem.check(s.config) != self.problem.check(t.params) or s.config_id != t.config_id:
                raise ResumeError(
                    f"cannot resume: trial {t.trial_id} was {t.params} but the scheduler now proposes "
                    f"{s.config}; was the problem or hpsearch changed since the run started?")
            self._flights[t.trial_id] = s
        self._n_asked += len(batch)
        self._committed += sum(_cost(s) for s in got[:len(batch)])

    # -- the loop ------------------------------------------------------------------
    def run(self) -> RunSummary:
        """Replay any stored history, then search until a limit, DONE, or a signal."""
        t_start = time.monotonic()
        deadline = t_start + self.limits.timeout if self.limits.timeout else None
        old_handlers = self._install_signals()
        try:
            pending = self.replay()
            self.evaluator.restore(self.store.trials() if self._n_asked else [])
            t_up = time.monotonic()
            self.evaluator.start()
            self.summary.startup_s += time.monotonic() - t_up
            self.summary.workers = self.evaluator.capacity  # a cluster's size is known once connected
            if self.observer:
                self.observer.on_start(self)
            if self.summary.stopped_by == "condition":  # met before this session: run nothing
                if pending:
                    self.stop_in_flight([t.trial_id for t in pending])
                self.end(f"stop condition met: {self.summary.stop_reason}")
                return self.summary
            for t in pending:
                self._submit(t.trial_id, self._flights[t.trial_id])
            self.end(self._loop(deadline))
        except (KeyboardInterrupt, StopRun) as exc:
            self.summary.stopped_by = "timeout" if isinstance(exc, StopRun) else "signal"
            self.interrupt()
            if isinstance(exc, StopRun):
                self.end(f"--timeout reached ({self.limits.timeout:g} s)")
            else:
                self.end(f"interrupted ({signal.Signals(self.summary.signal or signal.SIGINT).name})")
        except StoreFull:
            # the evaluations in flight are lost work, not lost results: mark them for the resume
            # if the disk still takes that much (else they stay 'running', which resume re-runs too)
            with contextlib.suppress(StoreFull, sqlite3.Error):
                self.interrupt()
            raise
        except StopConditionError:
            self.interrupt()
            raise
        finally:
            self._restore_signals(old_handlers)
            self.summary.wall_s += time.monotonic() - t_start
            self.summary.starting_s = getattr(self.evaluator, "starting_s", 0.0)
            try:
                self.evaluator.close()
            finally:
                if self.observer:
                    self.observer.on_end(self.summary)
        return self.summary

    def end(self, reason: str) -> None:
        """Say (in the summary) and store why the run ended."""
        self.summary.ended = reason
        self.store.mark_ended(reason)

    def _loop(self, deadline: float | None) -> str:
        """Ask, submit and collect until the run ends; return why it ended (a signal or the
        timeout raises instead)."""
        while True:
            if self._stop_signal is not None:
                raise KeyboardInterrupt
            if deadline is not None and time.monotonic() >= deadline:
                raise StopRun
            capacity = self.evaluator.capacity  # a Dask cluster's grows and shrinks with its workers
            self.summary.workers = max(self.summary.workers, capacity)
            launched = self.ask(capacity + getattr(self.evaluator, "queued", 0) - len(self._flights))
            if launched:
                for tid in launched:
                    self._submit(tid, self._flights[tid])
                continue  # fill every free slot before waiting
            if not self._flights:
                return self.end_reason()
            self._interruptible = True
            try:
                if self._stop_signal is not None:
                    raise KeyboardInterrupt
                results = self.evaluator.wait(timeout=1.0, deadline=deadline)
            finally:
                self._interruptible = False
            for r in results:
                self.finish(r)
            if self.summary.stopped_by == "condition":
                self.stop_in_flight(sorted(self._flights))
                return f"stop condition met: {self.summary.stop_reason}"

    # -- the steps of the loop (an ask/tell study takes them too, its user as the evaluator) --------
    @property
    def in_flight(self) -> list[int]:
        """The trials asked and not yet told, by trial_id."""
        return sorted(self._flights)

    def enqueue(self, values: dict) -> dict:
        """Have the scheduler propose the configuration ``values`` describe next (stored as an event, so
        a resume replays it); return the configuration."""
        config = self.scheduler.enqueue(values)
        seq = self._seq
        self._seq += 1
        self.store.add_enqueued(seq, config)
        return config

    def _left(self) -> int | None:
        """Evaluations ``max_evals`` still allows (None: no such limit)."""
        m = self.limits.max_evals
        return None if m is None else m - self._n_asked

    def exhausted(self) -> bool:
        """True once nothing more will be asked: the scheduler said DONE, or ``max_evals`` or
        ``max_resource_spent`` is reached."""
        left, most = self._left(), self.limits.max_resource_spent
        return self._scheduler_done or (left is not None and left <= 0) \
            or (most is not None and self._committed >= most)

    def ask(self, free: int) -> list[int]:
        """Ask the scheduler for up to ``free`` evaluations within the limits and record them as
        ``running`` (one ask event); return their trial_ids (see :meth:`spec`).

        An empty list means none for now: :attr:`waiting` is True when the scheduler waits for
        results in flight, :meth:`exhausted` when nothing more will be asked.
        """
        self.waiting = False
        if free <= 0 or self.exhausted():
            return []
        left = self._left()
        n = free if left is None else min(free, left)
        if self.limits.max_resource_spent is not None:
            n = 1
        got = self.scheduler.ask(n)
        if got is DONE:
            self._scheduler_done = True
            return []
        if got is WAIT or not got:
            self.waiting = True
            return []
        return self._launch(got, n)

    def end_reason(self) -> str:
        """Why the search ends, once nothing is in flight and :meth:`ask` gave nothing (one line);
        a scheduler's own end is stored as the run's completion."""
        if self.waiting:
            raise RuntimeError(f"{type(self.scheduler).__name__} says WAIT with nothing in flight")
        if self._scheduler_done:
            self.store.mark_completed()
            return self.scheduler.done_reason()
        left = self._left()
        if left is not None and left <= 0:
            return f"max-evals reached ({self.limits.max_evals})"
        return f"max_resource_spent reached ({self.limits.max_resource_spent:g})"

    def _launch(self, suggestions: list[Suggestion], n: int) -> list[int]:
        tids = list(range(self._next_tid, self._next_tid + len(suggestions)))
        self._next_tid += len(suggestions)
        seq = self._seq
        self._seq += 1
        self.store.add_trials(tids, suggestions, seq, n)
        self._n_asked += len(suggestions)
        self._committed += sum(_cost(s) for s in suggestions)
        for tid, s in zip(tids, suggestions):
            self._flights[tid] = s
        return tids

    def spec(self, tid: int) -> TrialSpec:
        """What a worker needs to run the trial ``tid`` (asked, not yet told)."""
        s = self._flights[tid]
        return TrialSpec(
            trial_id=tid, config_id=s.config_id, config=s.config, budget=s.budget,
            previous_budget=s.previous_budget, bracket=s.bracket, rung=s.rung,
            seed=trial_seed(self.seed, s.config_id), checkpoint_root=self._checkpoint_root,
            objective=self.problem.objective, objectives=self.objective_names,
            timeout=self.limits.trial_timeout,
            stop_grace=self.stop_grace)

    @property
    def objective_names(self) -> tuple[str, ...]:
        """Every objective's name for a multi-objective problem (a trial must return each), else ()."""
        return tuple(self.problem.objectives) if self.problem.multi_objective else ()

    def loss_of(self, objective: float | None, metrics: dict) -> float | tuple[float, ...] | None:
        """What the scheduler and the pruner minimise, from an objective value and the other metrics:
        a float, or for a multi-objective problem the tuple of every objective's loss (None when a
        value is missing)."""
        if self.problem.multi_objective:
            try:
                return self.problem.to_losses(values_of(self.problem.objective, objective, metrics))
            except MissingObjective:
                return None
        return None if objective is None else self.problem.to_loss(objective)

    def _submit(self, tid: int, s: Suggestion) -> None:
        self.evaluator.submit(self.spec(tid))

    # -- reports (the one handler every evaluator calls) ------------------------------------
    def report(self, trial_id: int, report: dict) -> bool:
        """Store a running trial's report at once; return True if the trial should stop."""
        if trial_id not in self._flights or not isinstance(report, dict):
            return True  # a late report of a trial already finished or cancelled
        seq = self._seq
        self._seq += 1
        self.store.add_report(trial_id, seq, report)
        self._last_report[trial_id] = report
        self._n_reports[trial_id] = self._n_reports.get(trial_id, 0) + 1
        return self._decide(trial_id, report)

    def _decide(self, trial_id: int, report: dict) -> bool:
        """The pruner's decision on one report (a pure function of the reports and tells so far)."""
        if self.pruner is None:
            return False
        value = finite_number(report.get(self.problem.objective))
        step = finite_number(report.get("step"))
        loss = self.loss_of(value, report)
        if loss is None or step is None:
            return False
        return bool(self.pruner.report(trial_id, step, loss))

    def finish(self, result: TrialResult) -> None:
        """Store a finished evaluation (its reports that did not stream first), then tell the
        scheduler and the pruner, count it and check the stop conditions."""
        tid = result.trial_id
        for rep in result.reports[self._n_reports.get(tid, 0):]:  # what did not stream (dask races)
            seq = self._seq
            self._seq += 1
            self.store.add_report(tid, seq, rep)
        self._n_reports.pop(tid, None)
        self._last_report.pop(tid, None)
        seq = self._seq
        self._seq += 1
        stored = self.store.finish_trial(result, seq)  # committed before the scheduler hears of it
        self._tell(stored)
        self._count(stored)
        self._check_stop(stored)
        if self.observer:
            self.observer.on_result(stored, self.summary.best, self.summary)

    def _check_stop(self, t: StoredTrial, replayed: bool = False) -> None:
        """End the run when a finished evaluation meets a ``--stop-when`` condition."""
        if not self.stop_when or t.status != "done" or self.summary.stopped_by == "condition":
            return
        if not self._checked_metrics:
            try:
                check_known(self.stop_when, self.problem.objective, t.metrics, t.trial_id)
            except StopConditionError as exc:
                shown = self.store.shown
                raise StopConditionError(
                    f"{exc}; the finished trials are kept in {shown}: continue with a corrected condition, "
                    f"'hps resume {shown} --stop-when METRIC>=VALUE'") from None
            self._checked_metrics = True
        reason = first_met(self.stop_when, self.problem.objective, t.objective, t.metrics, t.trial_id)
        if reason is not None:
            self.summary.stopped_by = "condition"
            self.summary.stop_reason = reason
            if not replayed:
                self.store.update_settings(stop_met=reason)

    def stop_in_flight(self, trial_ids: list[int]) -> None:
        """Store trials cut off by the stop condition as ``stopped`` with their last reports."""
        self.evaluator.cancel()
        running = {t.trial_id: t for t in self.store.trials()
                   if t.status in (Status.RUNNING, Status.INTERRUPTED)}
        for tid in trial_ids:
            if tid not in running or tid not in self._flights:
                continue
            spec = TrialSpec(trial_id=tid, config_id=running[tid].config_id, config=running[tid].params,
                             objective=self.problem.objective, objectives=self.objective_names)
            started = running[tid].started_at or time.time()
            reason = f"stopped: the run met its condition ({self.summary.stop_reason})"
            result = stopped_result(spec, self._last_report.get(tid), started, "", error=reason)
            self.finish(result)

    def _tell(self, t: StoredTrial) -> None:
        suggestion = self._flights.pop(t.trial_id)
        loss = None
        if t.status in (Status.DONE, Status.STOPPED) and t.objective is not None:
            loss = self.loss_of(t.objective, t.metrics)
        if t.status == Status.STOPPED:  # what it did not train goes back to the resource limit
            self._committed -= _cost(suggestion) - t.resource_used
        self.scheduler.tell(Told(trial_id=t.trial_id, suggestion=suggestion, status=t.status,
                               loss=loss, objective=t.objective, budget_reached=t.step_reached))
        if self.pruner is not None:
            self.pruner.tell(t.trial_id, t.status, loss, finite_number(t.step_reached))

    def _count(self, t: StoredTrial, replayed: bool = False) -> None:
        s = self.summary
        if replayed:
            s.n_replayed += 1
        else:
            s.busy_s += t.duration_s or 0.0
        if t.virtual_end is not None:
            s.virtual_s = max(s.virtual_s or 0.0, float(t.virtual_end))
        self._tally.add(t)
        s.take(self._tally)

    def interrupt(self) -> None:
        ids = set(self.evaluator.cancel()) | set(self._flights)
        ids &= {t.trial_id for t in self.store.trials() if t.status == Status.RUNNING}
        self.store.mark_interrupted(sorted(ids))
        self.summary.n_interrupted = len(ids)

    # -- signals -------------------------------------------------------------------
    def _install_signals(self) -> dict:
        if threading.current_thread() is not threading.main_thread():
            return {}
        old = {}
        for sig in INTERRUPTS:
            old[sig] = signal.signal(sig, self._on_signal)
        _REPLACED.update(old)
        return old

    def _restore_signals(self, old: dict) -> None:
        for sig, handler in old.items():
            signal.signal(sig, handler)
            _REPLACED.pop(sig, None)

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._stop_signal = signum
        self.summary.signal = signum
        if self._interruptible:
            self._interruptible = False
            raise KeyboardInterrupt
